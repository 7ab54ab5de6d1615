#!/usr/bin/env python3
"""Cross-check Qila's detections with Sigma-on-SQLite (pySigma's SQLite backend), rule by rule.

Usage: sigma-crosscheck.py EVENTS.jsonl CONVERTED_RULES.json QILA_ALERTS.jsonl [--details N]

CONVERTED_RULES.json is what ../shared/baselines/sigma-sqlite/convert_rules.py writes; the
alerts are `qila detect` output on the same EVENTS file. The events are loaded into an
in-memory SQLite table the way the peer loads them (one case-insensitive TEXT column per key,
EventID as an integer, a REGEXP function), so that a row's id is its line number; every
converted query is run and its rows are compared with Qila's alerts for the same rule id.
Prints the share of rules (that both sides load) whose matched lines are identical, and each
rule that differs with its counts and a few line numbers.
"""
import collections
import json
import re
import sqlite3
import sys


def load_events(path):
    keys = {}
    lines = []
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            event = json.loads(raw)
            lines.append(event)
            for key in event:
                keys.setdefault(key.lower(), key)
    columns = list(keys.values())
    db = sqlite3.connect(":memory:")
    quote = lambda name: '"' + name.replace('"', '""') + '"'
    db.execute(
        "CREATE TABLE logs (row_id INTEGER PRIMARY KEY, "
        + ", ".join(quote(c) + (" INTEGER" if c == "EventID" else " TEXT COLLATE NOCASE") for c in columns)
        + ")"
    )

    def cell(value):
        if isinstance(value, (dict, list)):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return str(value)
        return value

    insert = "INSERT INTO logs (row_id, " + ",".join(quote(c) for c in columns) + ") VALUES (?, " + ",".join("?" * len(columns)) + ")"
    rows = []
    for number, event in enumerate(lines, start=1):
        lowered = {keys[k.lower()]: v for k, v in event.items()}
        rows.append((number,) + tuple(cell(lowered.get(c)) for c in columns))
    db.executemany(insert, rows)
    cache = {}

    def regexp(pattern, value):
        if value is None:
            return 0
        compiled = cache.get(pattern) or cache.setdefault(pattern, re.compile(pattern))
        return 1 if compiled.search(str(value)) else 0

    db.create_function("regexp", 2, regexp, deterministic=True)
    return db, quote


def peer_matches(db, quote, rules):
    missing = re.compile(r"no such column: (.+)$")
    matches = collections.defaultdict(set)
    titles = {}
    for rule in rules:
        titles[rule["id"]] = rule["title"]
        sql = rule["sql"].replace("SELECT * FROM", "SELECT row_id FROM", 1)
        for _ in range(40):
            try:
                matches[rule["id"]].update(row[0] for row in db.execute(sql))
                break
            except sqlite3.OperationalError as error:
                column = missing.search(str(error))
                if not column:
                    print("peer error in", rule["title"], error, file=sys.stderr)
                    break
                db.execute("ALTER TABLE logs ADD COLUMN " + quote(column.group(1)) + " TEXT COLLATE NOCASE")
    return matches, titles


def main():
    events, converted, alerts_path = sys.argv[1:4]
    details = int(sys.argv[sys.argv.index("--details") + 1]) if "--details" in sys.argv else 5
    db, quote = load_events(events)
    peer, titles = peer_matches(db, quote, json.load(open(converted)))
    qila = collections.defaultdict(set)
    qila_titles = {}
    with open(alerts_path) as handle:
        for line in handle:
            alert = json.loads(line)
            qila[alert["rule"]["id"]].add(alert["line"])
            qila_titles[alert["rule"]["id"]] = alert["rule"]["title"]
    both = sorted(peer)  # the peer's rule ids; Qila loads every rule the peer converts (checked below)
    agree = [rule for rule in both if peer[rule] == qila.get(rule, set())]
    differ = [rule for rule in both if peer[rule] != qila.get(rule, set())]
    firing = [rule for rule in both if peer[rule] or qila.get(rule)]
    print(json.dumps({
        "rules_compared": len(both),
        "rules_agreeing": len(agree),
        "agreement_percent": round(100 * len(agree) / max(len(both), 1), 2),
        "rules_firing_on_either_side": len(firing),
        "rules_firing_agreeing": len([r for r in firing if r in agree]),
        "peer_matches": sum(len(v) for v in peer.values()),
        "qila_matches_of_these_rules": sum(len(qila.get(r, ())) for r in both),
        "qila_rules_not_in_peer": len(set(qila) - set(peer)),
    }, indent=1))
    for rule in differ:
        only_peer = sorted(peer[rule] - qila.get(rule, set()))
        only_qila = sorted(qila.get(rule, set()) - peer[rule])
        print(f"- {titles[rule]} ({rule}): peer {len(peer[rule])}, qila {len(qila.get(rule, ()))}; "
              f"only peer {len(only_peer)} e.g. lines {only_peer[:details]}; only qila {len(only_qila)} e.g. lines {only_qila[:details]}")


if __name__ == "__main__":
    main()

"""`qila detect` and `qila rules lint` as an analyst runs them: rules with a correlation, a
gzip-compressed event file with a broken line, alerts as JSON lines, the summary on stderr."""
import gzip
import json
import os
import subprocess
import tempfile

from conftest import BINARY

RULES = """
title: Failed logon
name: failed_logon
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: low
---
title: Successful logon
name: successful_logon
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4624}
  condition: selection
---
title: Brute force then success
id: 8b1a7d7e-2f6b-4c86-9d55-0c4e5b6f7a01
correlation:
  type: temporal_ordered
  rules: [many_failures, successful_logon]
  group-by: [TargetUserName]
  timespan: 10m
level: critical
---
title: Many failed logons
name: many_failures
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 5m
  condition: {gte: 5}
"""

BROKEN = """
title: Broken correlation
correlation:
  type: event_count
  rules: [no_such_rule]
  timespan: 5m
  condition: {gte: 5}
"""


def event(second, event_id, user):
    minutes, seconds = divmod(second, 60)
    return {"@timestamp": f"2024-03-01T10:{minutes:02d}:{seconds:02d}.000Z", "Channel": "Security",
            "EventID": event_id, "TargetUserName": user, "Computer": "dc01"}


def run(*arguments):
    return subprocess.run([BINARY, *arguments], capture_output=True, text=True, timeout=120)


def test_detect_with_a_chained_correlation():
    with tempfile.TemporaryDirectory() as folder:
        rules = os.path.join(folder, "rules")
        os.mkdir(rules)
        with open(os.path.join(rules, "mr_brute_force.yml"), "w") as handle:
            handle.write(RULES)
        events = [event(second, 4625, "admin") for second in range(0, 50, 10)]  # five failures
        events += [event(55, 4624, "admin"), event(56, 4625, "guest"), event(57, 4624, "guest")]
        path = os.path.join(folder, "events.jsonl.gz")
        with gzip.open(path, "wt") as handle:
            for number, item in enumerate(events):
                handle.write(json.dumps(item) + "\n")
                if number == 2:
                    handle.write('{"EventID": 4625, "broken\n')
        output = os.path.join(folder, "alerts.jsonl")
        result = run("detect", "--quiet", "--rules", rules, "--mapping", "windows-flat", "--output", output, path)
        assert result.returncode == 0, result.stderr
        alerts = [json.loads(line) for line in open(output)]
        correlations = [alert for alert in alerts if "correlation" in alert]
        assert [alert["correlation"]["title"] for alert in correlations] == ["Many failed logons", "Brute force then success"]
        final = correlations[1]
        assert final["correlation"]["level"] == "critical"
        assert final["group"] == {"TargetUserName": "admin"}
        assert final["window"]["end"] == "2024-03-01T10:00:55.000Z"
        # Both detection rules feed correlations only (generate is false): no alert of their own.
        assert [alert for alert in alerts if "rule" in alert] == []
        evidence = correlations[0]["events"]
        assert [item["line"] for item in evidence] == [1, 2, 3, 5, 6]
        # The broken line is reported with its number and the stream went on.
        assert ":4: " in result.stderr
        assert "1 refused" in result.stderr
        assert "correlations: 2 loaded; 2 alerts from 2" in result.stderr


def test_lint_explains_an_unresolved_reference():
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "mr_ok.yml"), "w") as handle:
            handle.write(RULES)
        with open(os.path.join(folder, "mr_broken.yml"), "w") as handle:
            handle.write(BROKEN)
        result = run("rules", "lint", folder)
        assert result.returncode == 1
        assert "mr_broken.yml" in result.stdout
        assert "'no_such_rule', which is no loaded rule or correlation" in result.stdout
        assert "5 rules: 4 loaded (80.00%), 1 refused; of them 3 correlation rules, 2 loaded" in result.stdout

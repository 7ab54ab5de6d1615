"""Several nodes, one installation: three `qila serve` nodes on one PostgreSQL with one key file.
Their HTTPS certificates come from one CA; a client certificate issued through one authenticates on
the others; a password and TOTP set through node 1 sign in on node 2 and the session works on node 3;
the sign-in throttle counts failures made on all three; intake spread over the nodes, one of them
killed with kill -9 and restarted, commits every acknowledged event once, groups alerts once, and a
Sigma correlation counts the events that reached all three;
automatic promotion and its webhook happen once, and so does a deadline reminder; a rolling restart under steady API reads fails no
read; the audit log verifies from every node and offline with the published keys.

A warrant query made on one node is answered by the node that collected the traffic data, over
mutual TLS, audited on both; with that node stopped the query is refused rather than answered in part."""
import collections
import http.server
import json
import os
import re
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from playwright.sync_api import sync_playwright, expect

from accessibility import flush, watch
from conftest import BINARY, PASSWORD, Server, free_port, insecure_context, wait_for
from test_browser import CHROMIUM, SHOTS
from test_client_certificates import client_context, me
from test_warrants import Person, SUBSCRIBER_ADDRESS, first_administrator, provider_and_investigator, free_udp_port, send_netflow_v5, set_password
from conftest import local_stamp
import tarfile

POSTGRES = os.environ.get("QILA_TEST_POSTGRES_URL")

WHOAMI = """title: Whoami run
id: 3f0e5f2c-0000-4000-8000-00000000e2e9
level: high
logsource: {product: windows, category: process_creation}
detection:
  selection: {Image|endswith: '\\\\whoami.exe'}
  condition: selection
"""

BURST = """title: Whoami four times on one host
id: 3f0e5f2c-0000-4000-8000-00000000e2ea
level: critical
correlation:
  type: event_count
  rules: [3f0e5f2c-0000-4000-8000-00000000e2e9]
  generate: true
  group-by: [Computer]
  timespan: 1h
  condition: {gte: 4}
"""


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class Cluster:
    """Three nodes, each with its own data directory (journal, server certificate), sharing one
    database and one key file."""

    def __init__(self):
        name = "qila_nodes_" + uuid.uuid4().hex[:12]
        psql(POSTGRES, f"CREATE DATABASE {name}")
        parts = urllib.parse.urlsplit(POSTGRES)
        self.database = urllib.parse.urlunsplit(parts._replace(path="/" + name))
        self.root = tempfile.mkdtemp(prefix="qila-e2e-nodes-")
        self.key = os.path.join(self.root, "installation.key")
        subprocess.run([BINARY, "keys", "generate", "--out", self.key], check=True, capture_output=True)
        self.environment = {"QILA_INTAKE_AUTO_PROMOTE": "high", "QILA_INTAKE_WORKERS": "1"}
        self.nodes = []
        for index in range(3):
            data = os.path.join(self.root, f"node{index + 1}")
            os.makedirs(data)
            self.nodes.append(Server(data, free_port(), [
                "--database", self.database, "--key-file", self.key, "--node-name", f"node-{index + 1}",
                "--flows-listen", "off", "--syslog-udp", "off", "--syslog-tcp", "off"]))

    def start(self, node):
        saved = {key: os.environ.get(key) for key in self.environment}
        os.environ.update(self.environment)
        try:
            node.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return node

    def qila(self, *args, node=0):
        return subprocess.run([BINARY, *args, "--data", self.nodes[node].data, "--database", self.database, "--key-file", self.key],
                              check=True, capture_output=True, text=True).stdout

    def sql(self, statement):
        return psql(self.database, statement)

    def stop(self):
        for node in self.nodes:
            node.stop()


@pytest.fixture
def cluster():
    if not POSTGRES:
        if os.environ.get("CI"):
            pytest.fail("QILA_TEST_POSTGRES_URL is not set: the several-nodes test needs PostgreSQL")
        pytest.skip("QILA_TEST_POSTGRES_URL is not set (PostgreSQL is needed for several nodes)")
    cluster = Cluster()
    cluster.start(cluster.nodes[0])
    yield cluster
    cluster.stop()


def get(base, path, token):
    request = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, context=insecure_context(), timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def post_events(base, token, lines):
    body = ("\n".join(lines) + "\n").encode()
    request = urllib.request.Request(base + "/api/v1/intake", data=body, method="POST", headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/x-ndjson"})
    with urllib.request.urlopen(request, context=insecure_context(), timeout=60) as response:
        return response.status


def send_json(url, token, body):
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(), headers={
        "Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=insecure_context(), timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def whoami(host, n):
    return json.dumps({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": host,
                       "User": "CORP\\alice", "Image": "C:\\Windows\\System32\\whoami.exe", "ProcessId": n})


class Receiver(http.server.BaseHTTPRequestHandler):
    deliveries = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.deliveries.append((self.headers.get("Qila-Event"), self.headers.get("Qila-Delivery"), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_three_nodes_are_one_installation(cluster):
    one = cluster.nodes[0]
    one.setup_link()  # read before the other nodes start, while node 1 prints it
    for node in cluster.nodes[1:]:
        cluster.start(node)
    two, three = cluster.nodes[1], cluster.nodes[2]

    # One CA: every node's certificate verifies against node 1's ca.pem; the files are the same.
    ca = os.path.join(one.data, "pki", "ca.pem")
    for node in cluster.nodes:
        assert open(os.path.join(node.data, "pki", "ca.pem")).read() == open(ca).read()
        context = ssl.create_default_context(cafile=ca)
        context.check_hostname = False
        with urllib.request.urlopen(node.base + "/healthz", context=context, timeout=10) as response:
            assert response.status == 200

    # The webhook receiver, for the cases automatic promotion opens.
    Receiver.deliveries = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()

    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # A password and TOTP set through node 1 ...
        admin = first_administrator(browser, one)
        page = admin.page
        page.goto(one.base + "/admin/webhooks")
        page.fill("#webhook-url", f"http://127.0.0.1:{receiver.server_address[1]}/hook")
        admin.submit("#add-webhook button")
        if page.locator("#webhook-url").count() and not page.locator("#webhook-secret").count():
            page.fill("#webhook-url", f"http://127.0.0.1:{receiver.server_address[1]}/hook")
            page.click("#add-webhook button")
        expect(page.locator("#webhooks")).to_contain_text("127.0.0.1")
        # ... sign in on node 2, and the session cookie works on node 3 (cookies are per host, not port).
        admin.context.clear_cookies()
        admin.server = two
        admin.sign_in()
        page.goto(three.base + "/profile")
        expect(page.get_by_role("heading", name="Profile")).to_be_visible()
        # Each node calls the other two over mutual TLS with its node certificate.
        for _ in range(30):
            page.goto(three.base + "/admin/nodes")
            if page.locator("#nodes", has_text="Other nodes reached over mutual TLS: 2 of 2").count() and \
                    page.locator("#nodes tbody tr", has_text="2 of 2").count() == 3:
                break
            time.sleep(1)
        expect(page.locator("#nodes tbody tr", has_text="reached over mutual TLS: 2 of 2")).to_have_count(3)
        expect(page.locator("#nodes tbody tr")).to_have_count(3)
        for index in range(3):
            expect(page.locator("#nodes")).to_contain_text(f"node-{index + 1}")
        page.screenshot(path=os.path.join(SHOTS, "nodes.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(SHOTS, "nodes-phone.png"), full_page=True)
        flush()
        browser.close()

    # The world, made through node 1's command line.
    cluster.qila("admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom")
    cluster.qila("admin", "create-organisation", "--name", "Operator B", "--kind", "licensee", "--sector", "telecom")
    for org, account in (("Operator A", "a-sensor"), ("Operator B", "b-sensor")):
        cluster.qila("admin", "create-user", "--organisation", org, "--username", account, "--name", account,
                     "--role", "organisation-reporter", "--service")
    rules = os.path.join(cluster.root, "rules")
    os.makedirs(rules)
    open(os.path.join(rules, "whoami.yml"), "w").write(WHOAMI)
    open(os.path.join(rules, "whoami-burst.yml"), "w").write(BURST)
    cluster.qila("rules", "import", rules)
    cluster.qila("sensors", "add", "--organisation", "Operator A", "--name", "a-http", "--transport", "http",
                 "--mapping", "windows-flat-sysmon", "--account", "a-sensor")
    cluster.qila("sensors", "add", "--organisation", "Operator B", "--name", "b-http", "--transport", "http",
                 "--mapping", "windows-flat-sysmon", "--account", "b-sensor")
    tokens = {sensor: cluster.qila("sensors", "token", "--account", account).strip().splitlines()[-1]
              for sensor, account in (("a-http", "a-sensor"), ("b-http", "b-sensor"))}

    # A client certificate issued through node 1 authenticates on nodes 2 and 3.
    out = tempfile.mkdtemp(prefix="qila-nodes-cert-")
    cluster.qila("certs", "issue", "--username", "a-sensor", "--days", "2", "--out", out)
    for node in cluster.nodes:
        status, body = me(node.base, client_context(out, "a-sensor"))
        assert status == 200 and body["user"]["username"] == "a-sensor" and body["method"] == "client-certificate"

    # The route nodes call refuses people, with or without a certificate of their own.
    for context in (insecure_context(), client_context(out, "a-sensor")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(two.base + "/internal/v1/node", context=context, timeout=10)
        assert refused.value.code == 401

    # The throttle counts failures across nodes: six wrong passwords spread over the three (five
    # are free), then the right one is held back.
    for attempt in range(6):
        node = cluster.nodes[attempt % 3]
        request = urllib.request.Request(node.base + "/sign-in", method="POST",
                                         data=urllib.parse.urlencode({"username": "ayesha", "password": "wrong " * 4}).encode())
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, context=insecure_context(), timeout=30)
    request = urllib.request.Request(three.base + "/sign-in", method="POST",
                                     data=urllib.parse.urlencode({"username": "ayesha", "password": PASSWORD}).encode())
    with pytest.raises(urllib.error.HTTPError) as held:
        urllib.request.urlopen(request, context=insecure_context(), timeout=30)
    assert held.value.code == 429 and "Too many failed attempts" in held.value.read().decode()

    # Intake spread over the three nodes; node 2 killed with kill -9 mid-stream and restarted.
    acknowledged = collections.Counter()
    uncertain = collections.Counter()
    stop = threading.Event()
    dead = set()
    lock = threading.Lock()

    def sender(sensor):
        n = 0
        while not stop.is_set():
            for index, node in enumerate(cluster.nodes):
                if stop.is_set():
                    return
                with lock:
                    if index in dead:
                        continue
                lines = [whoami(f"host-{sensor}", n * 10 + k) for k in range(10)]
                try:
                    post_events(node.base, tokens[sensor], lines)
                    acknowledged[sensor] += len(lines)
                except (urllib.error.URLError, ConnectionError, OSError):
                    # Sent to the node being killed: it may or may not have kept them.
                    uncertain[sensor] += len(lines)
                n += 1

    threads = [threading.Thread(target=sender, args=(sensor,)) for sensor in tokens]
    for thread in threads:
        thread.start()
    wait_for(lambda: sum(acknowledged.values()) >= 600, 120, "600 acknowledged events")
    with lock:
        dead.add(1)
    two.kill9()
    wait_for(lambda: sum(acknowledged.values()) >= 1200, 120, "1200 acknowledged events")
    two.process = None
    cluster.start(two)
    with lock:
        dead.discard(1)
    wait_for(lambda: sum(acknowledged.values()) >= 1800, 120, "1800 acknowledged events")
    stop.set()
    for thread in threads:
        thread.join()

    def committed(sensor):
        return int(cluster.sql(f"SELECT COALESCE(SUM(h.events), 0) FROM sensor_health h JOIN sensors s ON s.id = h.sensor WHERE s.name = '{sensor}'"))

    for sensor in tokens:
        wait_for(lambda: committed(sensor) >= acknowledged[sensor], 180, f"{sensor}'s acknowledged events committed")
        time.sleep(2)
        count = committed(sensor)
        assert acknowledged[sensor] <= count <= acknowledged[sensor] + uncertain[sensor], (sensor, count, acknowledged, uncertain)
        # Grouped once: one alert for the sensor's host, holding every event.
        alerts = cluster.sql(f"SELECT count(*), COALESCE(SUM(count), 0) FROM alerts WHERE host = 'host-{sensor}' AND kind = 'rule'")
        assert alerts == f"1|{count}", (sensor, alerts, count)
        # The correlation saw the host's events from all three nodes: it fired once per four of
        # them (evaluated per node, it would have fired fewer times), into one alert.
        organisation = "Operator A" if sensor == "a-http" else "Operator B"
        correlation = f"SELECT COALESCE(SUM(a.count), 0) FROM alerts a JOIN organisations o ON o.id = a.organisation WHERE a.kind = 'correlation' AND o.name = '{organisation}'"
        wait_for(lambda: int(cluster.sql(correlation)) >= count // 4, 60, f"{sensor}'s correlation")
        time.sleep(2)
        assert int(cluster.sql(correlation)) == count // 4, (sensor, cluster.sql(correlation), count)

    # Promoted once each (the two rule alerts and the two correlation alerts are high or above),
    # and each case's webhook delivered once.
    wait_for(lambda: cluster.sql("SELECT count(*) FROM alerts WHERE kind IN ('rule', 'correlation') AND status = 'promoted' AND case_id IS NOT NULL") == "4",
             60, "the four alerts promoted")
    assert cluster.sql("SELECT count(*) FROM cases") == "4"
    assert cluster.sql("SELECT count(DISTINCT case_id) FROM alerts WHERE case_id IS NOT NULL") == "4"
    wait_for(lambda: len([d for d in Receiver.deliveries if d[0] == "case.opened"]) >= 4, 60, "four case.opened webhooks")
    time.sleep(5)
    opened = [d for d in Receiver.deliveries if d[0] == "case.opened"]
    assert len(opened) == 4, opened
    assert len({d[2]["caseID"] for d in opened}) == 4, "a case was announced twice"
    assert len({d[1] for d in Receiver.deliveries}) == len(Receiver.deliveries), "a delivery was sent twice"
    # A deadline reminder, once: a case reported through node 2, aware 60 hours ago, whose early
    # warning is submitted late, leaves the notification (due 72 h after awareness) due soon.
    cluster.qila("admin", "create-user", "--organisation", "Operator A", "--username", "a-reporter", "--name", "A reporter",
                 "--role", "organisation-reporter")
    reporter = cluster.qila("admin", "token", "--username", "a-reporter", "--scope", "read", "--scope", "write").strip().splitlines()[-1]
    aware = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * 3600))
    status, opened_case = send_json(two.base + "/api/v1/cases", reporter, {"title": "Core router outage", "awareness": aware, "tlp": "TLP:GREEN"})
    assert status == 201, opened_case
    status, _ = send_json(two.base + f"/api/v1/cases/{opened_case['id']}/stages/telecom/early-warning", reporter, {
        "summary": "Core router failed over", "servicesAffected": "mobile data", "usersAffected": "1200",
        "geographicArea": "Lahore", "suspectedMalicious": "false"})
    assert status == 200
    reminders = lambda: [d for d in Receiver.deliveries if d[0] == "stage.reminder" and d[2]["caseID"] == opened_case["id"]]
    wait_for(lambda: reminders(), 150, "the notification's reminder")
    time.sleep(5)
    assert len(reminders()) == 1, reminders()
    receiver.shutdown()

    # A rolling restart under steady reads: each node is taken out of rotation, stopped, started
    # again and put back; no read fails.
    reader_token = cluster.qila("admin", "token", "--username", "ayesha", "--scope", "read").strip().splitlines()[-1]
    rotation = list(range(3))
    failures, reads = [], [0]
    done = threading.Event()

    def reader():
        i = 0
        while not done.is_set():
            with lock:
                index = rotation[i % len(rotation)]
            i += 1
            try:
                status, _ = get(cluster.nodes[index].base, "/api/v1/organisations", reader_token)
                assert status == 200
                reads[0] += 1
            except Exception as error:  # noqa: BLE001 - every failure is reported
                failures.append((index, repr(error)))

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    for index, node in enumerate(cluster.nodes):
        with lock:
            rotation.remove(index)
        time.sleep(0.5)  # requests already sent to it finish
        node.stop()
        cluster.start(node)
        with lock:
            rotation.append(index)
        time.sleep(1)
    done.set()
    for thread in readers:
        thread.join()
    assert not failures, failures[:5]
    assert reads[0] > 50

    # One audit log: intact from every node, and offline with the published keys alone.
    keys = cluster.qila("audit", "keys")
    ed25519 = re.search(r"ed25519: (\S+)", keys).group(1)
    mldsa65 = re.search(r"ml-dsa-65: (\S+)", keys).group(1)
    heads = int(cluster.sql("SELECT count(*) FROM audit_tree_heads"))
    assert heads >= 2
    for index in range(3):
        result = subprocess.run([BINARY, "audit", "verify", "--data", cluster.nodes[index].data, "--database", cluster.database,
                                 "--key-file", cluster.key], capture_output=True, text=True)
        assert result.returncode == 0 and "the audit log is intact" in result.stdout, result.stdout + result.stderr
    offline = subprocess.run([BINARY, "audit", "verify", "--data", tempfile.mkdtemp(), "--database", cluster.database,
                              "--ed25519-key", ed25519, "--mldsa65-key", mldsa65], capture_output=True, text=True)
    assert offline.returncode == 0 and "the audit log is intact" in offline.stdout, offline.stdout + offline.stderr


def node_health(cluster, name):
    text = cluster.sql(f"SELECT health FROM nodes WHERE name = '{name}'")
    return json.loads(text) if text else {}


def test_a_warrant_query_is_answered_by_the_node_keeping_the_traffic_data(cluster):
    one = cluster.nodes[0]
    one.setup_link()
    flow_port = free_udp_port()
    data = os.path.join(cluster.root, "collector")
    os.makedirs(data)
    # An ISP's collector node: it receives the provider's NetFlow and keeps it; node 1 keeps none.
    collector = Server(data, free_port(), [
        "--database", cluster.database, "--key-file", cluster.key, "--node-name", "isp-collector",
        "--flows-listen", f"127.0.0.1:{flow_port}", "--syslog-udp", "off", "--syslog-tcp", "off"])
    cluster.nodes[1] = collector

    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        admin = first_administrator(browser, one)
        page = admin.page
        legal_link, investigator_link = provider_and_investigator(admin)
        page.goto(one.base + "/flows")
        page.select_option("#organisation", label="Operator A")
        page.select_option("#kind", "exporter")
        page.fill("#name", "Core router")
        page.fill("#address", "127.0.0.1")
        page.click("button:has-text('Register')")
        expect(page.locator("td", has_text="Core router")).to_be_visible()

        # The collector node starts with the exporter registered; once its heartbeat says it
        # listens, the router's flows go to it.
        cluster.start(collector)
        wait_for(lambda: (node_health(cluster, "isp-collector").get("collector") or {}).get("flowPorts"), 30, "the collector node to listen")
        send_netflow_v5(flow_port, [
            (SUBSCRIBER_ADDRESS, 51000, "198.51.100.10", 443, 5000),
            (SUBSCRIBER_ADDRESS, 51001, "198.51.100.11", 443, 7000),
            ("10.20.30.41", 52000, "198.51.100.10", 443, 9000),
        ])
        operator = cluster.sql("SELECT id FROM organisations WHERE name = 'Operator A'")
        wait_for(lambda: any(part["organisation"] == operator and part["flows"] == 3
                             for part in node_health(cluster, "isp-collector").get("trafficData") or []), 30,
                 "the collector node's heartbeat to list the three flows")

        # Node 1's traffic-data page shows where each organisation's data is kept and the other collector.
        page.goto(one.base + "/flows")
        row = page.locator("tr", has_text="Operator A").filter(has=page.locator("input[name=days]"))
        expect(row).to_contain_text("isp-collector")
        expect(row.locator("td").nth(3)).to_have_text("3")
        expect(page.locator("#node-collectors tr", has_text="isp-collector")).to_contain_text(str(flow_port))
        # The router's records were received by the collector node; node 1's page counts them.
        expect(page.locator("tr", has_text="Core router").locator("td").nth(5)).to_have_text("3")
        page.screenshot(path=os.path.join(SHOTS, "flows-nodes.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.path.join(SHOTS, "flows-nodes-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

        # The warrant is recorded and approved through node 1.
        set_password(browser, one, investigator_link)
        investigator = Person(browser, one, "imran")
        investigator.sign_in()
        investigator.enrol()
        ip = investigator.page
        ip.goto(one.base + "/warrants")
        now = time.time()
        ip.select_option("#provider", label="Operator A")
        ip.fill("#court", "Court of the Magistrate Section 30, Islamabad")
        ip.fill("#number", "CR-2026-0300")
        ip.fill("#issuedAt", local_stamp(now - 86_400))
        ip.fill("#expiresAt", local_stamp(now + 86_400 * 30))
        ip.fill("#agency", "FIA Cybercrime Wing")
        ip.fill("#addresses", SUBSCRIBER_ADDRESS)
        ip.fill("#windowStart", local_stamp(now - 3600))
        ip.fill("#windowEnd", local_stamp(now + 3600))
        investigator.submit("button:has-text('Record')")
        expect(ip.get_by_role("heading", name=re.compile("Warrant CR-2026-0300"))).to_be_visible()
        warrant_url = ip.url
        set_password(browser, one, legal_link)
        legal = Person(browser, one, "lubna")
        legal.sign_in()
        legal.enrol()
        legal.page.goto(warrant_url)
        if not legal.submit("button[value=approve]"):
            legal.page.goto(warrant_url)
            legal.submit("button[value=approve]")
        expect(legal.page.locator("h1 small")).to_have_text("Approved")

        # Queried on node 1, answered by the collector node over mutual TLS.
        ip.goto(warrant_url)
        if not investigator.submit("button:has-text('Run query')"):
            ip.goto(warrant_url)
            investigator.submit("button:has-text('Run query')")
        expect(ip.get_by_role("status")).to_contain_text("2 records found on 2 nodes (node-1: 0, isp-collector: 2)")
        assert ip.locator("table.results td", has_text="10.20.30.41").count() == 0
        ip.screenshot(path=os.path.join(SHOTS, "warrant-query-nodes.png"), full_page=True)
        with ip.expect_download() as download:
            ip.click("text=Download package")
        with tarfile.open(download.value.path()) as archive:
            manifest = json.loads(archive.extractfile("manifest.json").read())
            assert manifest["records"] == 2 and manifest["nodes"] == "node-1: 0; isp-collector: 2", manifest

        # The same from node 1's command line, which calls the collector node with node 1's certificate.
        output = os.path.join(cluster.root, "package.tar")
        done = subprocess.run(
            [BINARY, "flows", "query", "--data", one.data, "--database", cluster.database, "--key-file", cluster.key,
             "--warrant", warrant_url.rsplit("/", 1)[1], "--user", "imran", "--output", output],
            input=f"{PASSWORD}\n{investigator.code()}\n", capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.startswith("2 records"), done.stdout + done.stderr

        # Audited on both: the query by node 1, each answer by the collector node.
        node_one = cluster.sql("SELECT id FROM nodes WHERE name = 'node-1'")
        answers = cluster.sql("SELECT actor || ' ' || outcome FROM audit_entries WHERE action = 'warrant.query.answer' ORDER BY idx").split("\n")
        assert answers == [f"node:{node_one} success"] * 2, answers
        assert cluster.sql("SELECT count(*) FROM audit_entries WHERE action = 'warrant.query' AND outcome = 'success'") == "2"

        # The collector node stopped: the query is refused, not answered with node 1's part alone.
        collector.stop()
        ip.goto(warrant_url)
        investigator.submit("button:has-text('Run query')")
        expect(ip.locator(".error, [role=alert]").first).to_contain_text("isp-collector holds traffic data of this provider and is not running (it was stopped")
        ip.screenshot(path=os.path.join(SHOTS, "warrant-query-node-down.png"), full_page=True)
        assert cluster.sql("SELECT count(*) FROM warrant_queries") == "2"
        flush()
        browser.close()

import Foundation
import QilaCore
import QilaIngest
import QilaStore
import QilaTestSupport
import Testing

@Suite("Intake pipeline: listeners, journal, detection, alerts")
struct IntakePipelineTests {
    static func process(_ image: String, host: String = "ws-01", user: String = "CORP\\\\alice", pid: Int = 1) -> String {
        #"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"\#(host)","User":"\#(user)","Image":"\#(image)","ProcessId":\#(pid)}"#
    }

    @Test("Syslog over TCP and UDP becomes grouped alerts of the sensor's organisation, with evidence and health", arguments: TestBackend.available)
    func syslogToAlerts(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend)
        let world = intake.world
        let sensor = try await intake.sensor("dc-logs", of: world.operatorA)
        let tcp = try LoopbackSocket(tcp: intake.ports["syslog-tcp"]!)
        var stream: [UInt8] = []
        for index in 0..<300 {
            // Every tenth event runs whoami on one of two hosts; the others are ordinary.
            let image = index % 10 == 0 ? #"C:\\Windows\\System32\\whoami.exe"# : #"C:\\Windows\\System32\\svchost.exe"#
            stream += LoopbackSocket.framed(Self.process(image, host: index % 20 == 0 ? "ws-01" : "ws-02", pid: index))
        }
        // Newline framing on the same stream, a malformed message and a line that is not JSON.
        stream += Array("<134>1 2026-11-23T10:00:01Z ws-03 nxlog - - - \(Self.process(#"C:\\Tools\\whoami.exe"#, host: "ws-03"))\n".utf8)
        stream += Array("this is not syslog\n".utf8)
        stream += Array("<134>1 2026-11-23T10:00:01Z ws-03 nxlog - - - {not json\n".utf8)
        try tcp.send(stream)
        tcp.close()
        let udp = try LoopbackSocket(udp: intake.ports["syslog-udp"]!)
        for index in 0..<20 {
            try udp.send(Array("<134>1 2026-11-23T10:00:02Z ws-04 nxlog - - - \(Self.process(#"C:\\Windows\\whoami.exe"#, host: "ws-04", pid: index))".utf8))
        }
        udp.close()
        // UDP may drop on a busy machine; wait for what arrived.
        try await intake.settle(events: 301 + 1)
        let alerts = try await intake.store.alerts(AlertFilter(organisations: [world.operatorA.id]))
        let whoami = alerts.filter { $0.title == "Whoami run" }
        // Grouped per host: ws-01 (15), ws-02 (15), ws-03 (1), ws-04 (up to 20).
        let byHost = Dictionary(uniqueKeysWithValues: whoami.map { ($0.host ?? "-", $0) })
        #expect(byHost["ws-01"]?.count == 15)
        #expect(byHost["ws-02"]?.count == 15)
        #expect(byHost["ws-03"]?.count == 1)
        #expect(whoami.allSatisfy { $0.severity == .high && $0.sensor == sensor.id && $0.status == .new && $0.kind == .rule })
        #expect(byHost["ws-01"]!.fields.contains { $0.name == "Image" && $0.value.hasSuffix("whoami.exe") })
        let evidence = try await intake.store.evidence(of: byHost["ws-01"]!.id)
        #expect(evidence.count == 10)
        #expect(evidence[0].event.contains("whoami.exe") && evidence[0].event.contains("ws-01"))
        // Nothing for another organisation.
        #expect(try await intake.store.alerts(AlertFilter(organisations: [world.operatorB.id])).isEmpty)
        // Health: events counted, the malformed message and the bad JSON counted by reason.
        let health = try await intake.store.sensorHealth()[sensor.id]!
        #expect(health.events >= 301)
        #expect(health.refused["malformed-syslog"] == 1)
        #expect(health.refused["invalid-json"] == 1)
        #expect(health.lastSeen != nil)
        // Volumes by event type for baselines.
        let volumes = try await intake.store.sensorVolumes(sensors: [sensor.id], since: intake.runtime.pipeline.clock.now.addingTimeInterval(-3600))
        #expect(volumes.contains { $0.type == "Microsoft-Windows-Sysmon/Operational/1" && $0.events >= 301 })
        // The checkpoint is where the journal ends: nothing left to replay.
        let checkpoint = try await intake.store.intakeCheckpoint(journal: intake.runtime.journal.identifier)
        #expect(checkpoint == intake.runtime.journal.endPosition)
        try await intake.stop()
    }

    @Test("A sender at an unregistered address is counted and not read", arguments: [TestBackend.sqlite])
    func unknownSender(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend)
        try await intake.sensor("elsewhere", of: intake.world.operatorA, addresses: ["192.0.2.0/24"])
        let tcp = try LoopbackSocket(tcp: intake.ports["syslog-tcp"]!)
        try? tcp.send(LoopbackSocket.framed(Self.process(#"C:\\whoami.exe"#)))
        tcp.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while intake.runtime.directory.unknownSources["syslog-tcp:127.0.0.1"] == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(intake.runtime.directory.unknownSources["syslog-tcp:127.0.0.1"] == 1)
        #expect(intake.runtime.journal.endPosition == 0)
        try await intake.stop()
    }

    @Test("HTTP bodies: CloudTrail files and JSON lines, bad lines refused by number, the rest kept", arguments: [TestBackend.sqlite])
    func httpBodies(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend)
        let trail = try await intake.sensor(
            "aws", of: intake.world.operatorB, transport: .http, format: .cloudtrail, mapping: "aws-cloudtrail", addresses: [],
            account: intake.world.users["b-admin"]!.id)
        let login = #"{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":{"arn":"arn:aws:iam::1:user/bob"},"sourceIPAddress":"198.51.100.7","additionalEventData":{"MFAUsed":"No"}}"#
        let file = #"{"Records":[\#(login),\#(login)]}"#
        guard case .accepted(let records, let refusals) = await intake.runtime.accept(Array(file.utf8), sensor: trail) else {
            Issue.record("the CloudTrail file was refused")
            return
        }
        #expect(records == 2 && refusals.isEmpty)
        let lines = "\(login)\n\n{\"broken\": \n\(login)\r\n"
        guard case .accepted(let lineRecords, let lineRefusals) = await intake.runtime.accept(Array(lines.utf8), sensor: trail) else {
            Issue.record("the JSON lines were refused")
            return
        }
        #expect(lineRecords == 2)
        #expect(lineRefusals.map(\.line) == [3])
        #expect(lineRefusals.first?.reason.contains("byte") == true)
        // A truncated file is refused whole, saying where.
        guard case .refused(let status, let reason, _) = await intake.runtime.accept(Array(#"{"Records":[\#(login),{"a":"#.utf8), sensor: trail) else {
            Issue.record("a truncated file was accepted")
            return
        }
        #expect(status == 400 && reason.contains("record 2"))
        try await intake.settle(events: 4)
        let alerts = try await intake.store.alerts(AlertFilter(organisations: [intake.world.operatorB.id]))
        #expect(alerts.count == 1)
        #expect(alerts.first?.count == 4)
        #expect(alerts.first?.account == "arn:aws:iam::1:user/bob")
        try await intake.stop()
    }

    @Test("The same rule firing in two organisations raises one national campaign alert for the authority", arguments: [TestBackend.sqlite])
    func campaign(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend)
        let world = intake.world
        let a = try await intake.sensor("a-http", of: world.operatorA, transport: .http, addresses: [], account: world.users["a-sensor"]!.id)
        let b = try await intake.sensor("b-http", of: world.operatorB, transport: .http, addresses: [], account: world.users["b-admin"]!.id)
        let bank = try await intake.sensor("bank-http", of: world.bank, transport: .http, addresses: [], account: world.users["bank-admin"]!.id)
        _ = await intake.runtime.accept(Array(Self.process(#"C:\\whoami.exe"#, host: "a-1").utf8), sensor: a)
        try await intake.settle(events: 1)
        #expect(try await intake.store.alerts(AlertFilter(kinds: [.campaign])).isEmpty)
        _ = await intake.runtime.accept(Array(Self.process(#"C:\\whoami.exe"#, host: "b-1").utf8), sensor: b)
        try await intake.settle(events: 2)
        _ = await intake.runtime.accept(Array(Self.process(#"C:\\whoami.exe"#, host: "bank-1").utf8), sensor: bank)
        try await intake.settle(events: 3)
        let campaigns = try await intake.store.alerts(AlertFilter(kinds: [.campaign]))
        #expect(campaigns.count == 1)
        let campaign = try #require(campaigns.first)
        #expect(campaign.organisation == world.authority.id)
        #expect(campaign.count == 3)
        #expect(campaign.explanation?.contains("Operator A") == true && campaign.explanation?.contains("First Bank") == true)
        let members = try await intake.store.alerts(AlertFilter(campaign: campaign.id))
        #expect(Set(members.map(\.organisation)) == [world.operatorA.id, world.operatorB.id, world.bank.id])
        try await intake.stop()
    }

    @Test("A program never seen on a known host is an anomaly that states its baseline", arguments: [TestBackend.sqlite])
    func firstSeen(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend) { $0.pipeline.firstSeenLearning = 0 }
        let sensor = try await intake.sensor("a-http", of: intake.world.operatorA, transport: .http, addresses: [], account: intake.world.users["a-sensor"]!.id)
        let usual = (0..<5).map { Self.process(#"C:\\Windows\\System32\\svchost.exe"#, host: "srv-9", pid: $0) }.joined(separator: "\n")
        _ = await intake.runtime.accept(Array(usual.utf8), sensor: sensor)
        try await intake.settle(events: 5)
        #expect(try await intake.store.alerts(AlertFilter(kinds: [.anomaly])).isEmpty)
        _ = await intake.runtime.accept(Array(Self.process(#"C:\\Users\\Public\\evil.exe"#, host: "srv-9").utf8), sensor: sensor)
        _ = await intake.runtime.accept(Array(Self.process(#"C:\\Users\\Public\\evil.exe"#, host: "srv-9").utf8), sensor: sensor)
        try await intake.settle(events: 7)
        let anomalies = try await intake.store.alerts(AlertFilter(kinds: [.anomaly]))
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.host == "srv-9")
        #expect(anomalies.first?.title.contains(#"c:\users\public\evil.exe"#) == true)
        #expect(anomalies.first?.explanation?.contains("1 other value") == true)
        try await intake.stop()
    }

    @Test("What was journalled but not committed is processed after a restart, once", arguments: [TestBackend.sqlite])
    func replay(backend: TestBackend) async throws {
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("qila-replay-\(UUID().uuidString)").path
        // Entries written straight to the journal, as if the process died before processing them.
        let first = try await IntakeHarness.start(backend, world: nil, journal: journal)
        let sensor = try await first.sensor("a-http", of: first.world.operatorA, transport: .http, addresses: [], account: first.world.users["a-sensor"]!.id)
        _ = await first.runtime.accept(Array(Self.process(#"C:\\whoami.exe"#, host: "h1").utf8), sensor: sensor)
        try await first.settle(events: 1)
        try await first.stop()
        let raw = try IntakeJournal(directory: journal)
        raw.start { _ in }
        var entry = JournalEntry(sensor: sensor.id, receivedAt: Int64(first.runtime.pipeline.clock.now.timeIntervalSince1970 * 1000), kind: .json)
        for pid in 0..<3 { entry.append(Array(Self.process(#"C:\\whoami.exe"#, host: "h1", pid: pid).utf8)) }
        _ = try await raw.append(entry)
        raw.stop()
        let second = try await IntakeHarness.start(backend, world: first.world, journal: journal)
        try await second.settle(events: 3)
        let alerts = try await second.store.alerts(AlertFilter(organisations: [first.world.operatorA.id]))
        #expect(alerts.count == 1)
        #expect(alerts.first?.count == 4)
        try await second.stop()
        // A third start has nothing to replay.
        let third = try await IntakeHarness.start(backend, world: first.world, journal: journal)
        try await Task.sleep(for: .milliseconds(300))
        #expect(third.runtime.pipeline.processedEvents == 0)
        try await third.stop()
    }
}

/// Text log formats end to end: lines arrive by syslog and HTTP, become events of their sensor's
/// format, and rules written for the mapping's log sources fire on them.
struct LineFormatIntakeTests {
    static let smbDenied = """
        title: Outbound SMB denied
        id: 6d3c1f0e-0000-4000-8000-000000000024
        logsource: {category: firewall}
        detection:
          selection: {dst_port: 445, action: deny}
          condition: selection
        level: medium
        """
    static let base64Decode = """
        title: Base64 decoding by a shell
        id: 6d3c1f0e-0000-4000-8000-000000000025
        logsource: {product: linux, service: auditd}
        detection:
          selection: {type: EXECVE, a0: base64, a1: '-d'}
          condition: selection
        level: high
        """

    @Test("CEF over syslog TCP and auditd lines over HTTP raise their rules' alerts; a line of another format is refused by number", arguments: [TestBackend.sqlite])
    func textFormats(backend: TestBackend) async throws {
        let intake = try await IntakeHarness.start(backend, rules: [Self.smbDenied, Self.base64Decode])
        let firewall = try await intake.sensor("fw01", of: intake.world.operatorA, format: .cef, mapping: "firewall")
        let audit = try await intake.sensor(
            "web01-audit", of: intake.world.operatorB, transport: .http, format: .auditd, mapping: "linux-auditd", addresses: [],
            account: intake.world.users["b-admin"]!.id)
        let tcp = try LoopbackSocket(tcp: intake.ports["syslog-tcp"]!)
        let denied = "<134>Dec  5 07:56:17 fw01 CEF:0|Palo Alto Networks|PAN-OS|11.1|TRAFFIC|end|3|src=192.0.2.10 dst=198.51.100.20 spt=51234 dpt=445 act=deny"
        let allowed = "<134>Dec  5 07:56:18 fw01 CEF:0|Palo Alto Networks|PAN-OS|11.1|TRAFFIC|end|3|src=192.0.2.10 dst=198.51.100.20 spt=51235 dpt=443 act=allow"
        try tcp.send(LoopbackSocket.framed(denied) + LoopbackSocket.framed(allowed) + LoopbackSocket.framed("<134>Dec  5 07:56:19 fw01 not a CEF line"))
        tcp.close()
        let lines = """
            type=EXECVE msg=audit(1733385378.001:24301): argc=3 a0="base64" a1="-d" a2=2F746D702F7061796C6F6164
            type=SYSCALL msg=audit(1733385378.001:24301): arch=c000003e syscall=59 success=yes exe="/usr/bin/base64" key="exec"
            msg=audit(1733385379.000:24302): not a record
            """
        guard case .accepted(let records, let refusals) = await intake.runtime.accept(Array(lines.utf8), sensor: audit) else {
            Issue.record("the audit lines were refused")
            return
        }
        #expect(records == 2)
        #expect(refusals.map(\.line) == [3])
        #expect(refusals.first?.reason.contains("an audit record begins with type=") == true)
        try await intake.settle(events: 4)
        let fired = try await intake.store.alerts(AlertFilter(organisations: [intake.world.operatorA.id]))
        #expect(fired.map(\.title) == ["Outbound SMB denied"])
        #expect(fired.first?.sensor == firewall.id)
        #expect(fired.first?.fields.contains { $0.name == "dst_port" && $0.value == "445" } == true)
        let decoded = try await intake.store.alerts(AlertFilter(organisations: [intake.world.operatorB.id]))
        #expect(decoded.map(\.title) == ["Base64 decoding by a shell"])
        let health = try await intake.store.sensorHealth()
        #expect(health[firewall.id]?.refused["not-cef"] == 1)
        #expect(health[firewall.id]?.lastError?.contains("no 'CEF:' header") == true)
        #expect(health[audit.id]?.events == 2)
        try await intake.stop()
    }
}

import Foundation
import QilaCore
import QilaIngest
import QilaStore
import QilaTestSupport
import Testing

/// Two intake runtimes on one database, as two nodes behind one name: a group of alerts whose
/// events reach both nodes at once is still one alert, with every occurrence counted.
@Suite("Intake on several nodes")
struct SeveralNodesIntakeTests {
    @Test("events of one rule and host sent to two nodes at once make one alert with every occurrence", arguments: TestBackend.available)
    func oneGroupAcrossNodes(backend: TestBackend) async throws {
        // Commits a second apart: each node builds its first commit before it sees the other's.
        let slow: (inout IntakeRuntime.Settings) -> Void = { $0.pipeline.commitInterval = 1.0 }
        let first = try await IntakeHarness.start(backend, settings: slow)
        let second = try await IntakeHarness.start(backend, settings: slow, world: first.world)
        try await first.sensor("dc-logs", of: first.world.operatorA)
        try await second.runtime.reloadSensors()
        let nodes = [try LoopbackSocket(tcp: first.ports["syslog-tcp"]!), try LoopbackSocket(tcp: second.ports["syslog-tcp"]!)]
        // Rounds of whoami on host ws-01, alternately to each node, so that both open the group.
        for round in 0..<5 {
            for (index, node) in nodes.enumerated() {
                var stream: [UInt8] = []
                for pid in 0..<20 {
                    stream += LoopbackSocket.framed(
                        IntakePipelineTests.process(#"C:\\Windows\\System32\\whoami.exe"#, host: "ws-01", pid: round * 100 + index * 20 + pid))
                }
                try node.send(stream)
            }
        }
        for node in nodes { node.close() }
        try await first.settle(events: 1)
        try await second.settle(events: 1)
        let deadline = ContinuousClock.now + .seconds(60)
        var whoami: [SecurityAlert] = []
        while ContinuousClock.now < deadline {
            whoami = try await first.store.alerts(AlertFilter(organisations: [first.world.operatorA.id])).filter { $0.title == "Whoami run" }
            if whoami.map(\.count).reduce(0, +) >= 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(whoami.count == 1, "one alert for the group, not one per node: \(whoami.map { "\($0.id) \($0.count)" })")
        #expect(whoami.first?.count == 200)
        #expect(first.runtime.pipeline.processedEvents > 0 && second.runtime.pipeline.processedEvents > 0)
        try await first.stop()
        try await second.stop()
    }

    static let burst = """
        title: Whoami four times on one host
        id: 0b0a1a9e-0000-4000-8000-000000000009
        level: critical
        correlation:
          type: event_count
          rules: [0b0a1a9e-0000-4000-8000-000000000001]
          group-by: [Computer]
          timespan: 10m
          condition: {gte: 4}
        """

    @Test("a correlation whose events reach two nodes sees them all and fires once", arguments: TestBackend.available)
    func correlationAcrossNodes(backend: TestBackend) async throws {
        let first = try await IntakeHarness.start(backend, rules: [IntakeHarness.whoami, Self.burst])
        let second = try await IntakeHarness.start(backend, world: first.world)
        try await first.sensor("dc-logs", of: first.world.operatorA)
        try await second.runtime.reloadSensors()
        // Two whoami events on host ws-07 to each node: neither node alone sees four.
        for (node, pids) in [(first, [1, 2]), (second, [3, 4])] {
            let socket = try LoopbackSocket(tcp: node.ports["syslog-tcp"]!)
            try socket.send(pids.flatMap { LoopbackSocket.framed(IntakePipelineTests.process(#"C:\\Windows\\whoami.exe"#, host: "ws-07", pid: $0)) })
            socket.close()
        }
        try await first.settle(events: 2)
        try await second.settle(events: 2)
        let deadline = ContinuousClock.now + .seconds(60)
        var fired: [SecurityAlert] = []
        while ContinuousClock.now < deadline {
            fired = try await first.store.alerts(AlertFilter(organisations: [first.world.operatorA.id])).filter { $0.kind == .correlation }
            if !fired.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(fired.count == 1)
        #expect(fired.first?.title == "Whoami four times on one host")
        #expect(fired.first?.severity == .critical)
        // Nothing is evaluated twice: a second look a moment later finds the same one alert.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await first.store.alerts(AlertFilter(organisations: [first.world.operatorA.id])).filter { $0.kind == .correlation }.count == 1)
        try await first.stop()
        try await second.stop()
    }

    @Test("a node taking correlation over keeps the windows its predecessor had open", arguments: [TestBackend.sqlite])
    func takeover(backend: TestBackend) async throws {
        let first = try await IntakeHarness.start(backend, rules: [IntakeHarness.whoami, Self.burst])
        try await first.sensor("dc-logs", of: first.world.operatorA)
        func send(_ node: IntakeHarness, _ pids: [Int]) throws {
            let socket = try LoopbackSocket(tcp: node.ports["syslog-tcp"]!)
            try socket.send(pids.flatMap { LoopbackSocket.framed(IntakePipelineTests.process(#"C:\\Windows\\whoami.exe"#, host: "ws-08", pid: $0)) })
            socket.close()
        }
        try send(first, [1, 2])
        try await first.settle(events: 2)
        // The first node read both inputs, then stops (its lease is released).
        let deadline = ContinuousClock.now + .seconds(60)
        while try await first.store.correlationJournals().first?.cursor ?? -1 < 0 {
            guard ContinuousClock.now < deadline else { Issue.record("the inputs were never read"); return }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await first.stop()
        let second = try await IntakeHarness.start(backend, world: first.world)
        try send(second, [3, 4])
        try await second.settle(events: 2)
        var fired: [SecurityAlert] = []
        while ContinuousClock.now < deadline {
            fired = try await second.store.alerts(AlertFilter(organisations: [first.world.operatorA.id])).filter { $0.kind == .correlation }
            if !fired.isEmpty { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(fired.count == 1, "the two events the first node read count with the two the second received")
        try await second.stop()
    }

    @Test("a program first seen through one node is not new again to another node that had not heard of it", arguments: TestBackend.available)
    func firstSeenAcrossNodes(backend: TestBackend) async throws {
        // A grouping window of a millisecond: only the first-seen claim can keep the second node
        // from raising its own alert.
        let configure: (inout IntakeRuntime.Settings) -> Void = { $0.pipeline.firstSeenLearning = 0; $0.pipeline.alertWindow = 0.001 }
        let first = try await IntakeHarness.start(backend, settings: configure)
        let second = try await IntakeHarness.start(backend, settings: configure, world: first.world)
        let account = first.world.users["a-sensor"]!.id
        let sensor = try await first.sensor("a-http", of: first.world.operatorA, transport: .http, addresses: [], account: account)
        try await second.runtime.reloadSensors()
        func send(_ node: IntakeHarness, _ image: String, pid: Int) async {
            _ = await node.runtime.accept(Array(IntakePipelineTests.process(image, host: "srv-9", pid: pid).utf8), sensor: sensor)
        }
        // Both nodes learn the host's usual program (each loads what is known of the host).
        await send(first, #"C:\\Windows\\System32\\svchost.exe"#, pid: 1)
        try await first.settle(events: 1)
        await send(second, #"C:\\Windows\\System32\\svchost.exe"#, pid: 2)
        try await second.settle(events: 1)
        // A new program through the first node, then the same program through the second.
        await send(first, #"C:\\Users\\Public\\evil.exe"#, pid: 3)
        try await first.settle(events: 2)
        try await Task.sleep(for: .milliseconds(20))
        await send(second, #"C:\\Users\\Public\\evil.exe"#, pid: 4)
        try await second.settle(events: 2)
        let anomalies = try await first.store.alerts(AlertFilter(kinds: [.anomaly]))
        #expect(anomalies.count == 1, "one alert for the program's first sighting: \(anomalies.map { "\($0.title) \($0.count)" })")
        #expect(anomalies.first?.count == 2)
        try await first.stop()
        try await second.stop()
    }
}

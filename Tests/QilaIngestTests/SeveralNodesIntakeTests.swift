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
}

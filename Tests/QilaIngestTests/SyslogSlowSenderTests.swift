import Foundation
import QilaCore
import QilaIngest
import QilaStore
import QilaTestSupport
import Testing

@Suite("Syslog streams: idle connections are closed and one address cannot take every slot (F9)")
struct SyslogSlowSenderTests {
    @Test("Partial messages that never end hold their slots only until the idle timeout; another address is read meanwhile")
    func slowSenders() async throws {
        let intake = try await IntakeHarness.start(.sqlite) { settings in
            settings.idleTimeout = 1
            settings.connectionsPerSource = 2
        }
        let world = intake.world
        try await intake.sensor("dc-logs", of: world.operatorA, addresses: ["127.0.0.1"])
        try await intake.sensor("edge-logs", of: world.operatorB, addresses: ["127.0.0.2"])
        let port = intake.ports["syslog-tcp"]!
        let limiter = intake.runtime.streamConnections
        let message = "<134>1 2026-11-23T10:00:01Z ws-01 nxlog - - - \(IntakePipelineTests.process(#"C:\\Windows\\System32\\whoami.exe"#))\n"

        var slow: [LoopbackConnection] = []
        for _ in 0..<2 {
            let connection = try LoopbackConnection(port: port, from: "127.0.0.1")
            connection.write("<134>1 2026-11-23T10:00:01Z ws-01 nxlog - - - {\"EventID\":")
            slow.append(connection)
        }
        let filled = ContinuousClock.now + .seconds(30)
        while limiter.held(by: "127.0.0.1") < 2 && ContinuousClock.now < filled { try await Task.sleep(for: .milliseconds(20)) }
        #expect(limiter.held(by: "127.0.0.1") == 2)
        // A third from the same address is closed before anything is read from it.
        let third = try LoopbackConnection(port: port, from: "127.0.0.1")
        third.write(message)
        #expect(await third.read().closedByPeer)
        // The other organisation's sensor, at another address, is read as usual.
        let other = try LoopbackConnection(port: port, from: "127.0.0.2")
        other.write(message)
        try await intake.settle(events: 1)
        // The stalled senders are closed at the idle timeout; the slots come back.
        for connection in slow { #expect(await connection.read().closedByPeer) }
        let freed = ContinuousClock.now + .seconds(60)
        while limiter.held(by: "127.0.0.1") > 0 && ContinuousClock.now < freed { try await Task.sleep(for: .milliseconds(20)) }
        #expect(limiter.held(by: "127.0.0.1") == 0)
        let again = try LoopbackConnection(port: port, from: "127.0.0.1")
        again.write(message)
        try await intake.settle(events: 2)
        // (The authority also gets a national campaign alert: the same rule in two organisations.)
        let alerts = try await intake.store.alerts(AlertFilter()).filter { $0.organisation != world.authority.id }
        #expect(Set(alerts.map(\.organisation)) == [world.operatorA.id, world.operatorB.id], "one event from each address, none from the refused third")
        #expect(alerts.map(\.count).reduce(0, +) == 2)
        try await intake.stop()
    }
}

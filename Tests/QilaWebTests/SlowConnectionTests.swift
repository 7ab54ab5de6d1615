import Foundation
import QilaAccess
import QilaCore
import QilaTestSupport
import Testing
@testable import QilaWeb

@Suite("Slow connections are cut off and one address cannot take every slot (F9)")
struct SlowConnectionTests {
    @Test("A slowloris from one address holds its slots only until the request-head deadline; other addresses are served meanwhile")
    func slowloris() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let live = try await LiveServer.start(world.installation) { configuration in
            // Long enough that a loaded machine (the whole suite in parallel, under faketime) still
            // reads the well-formed heads below in time; short enough to wait out in the test.
            configuration.requestHeadTimeout = 5
            configuration.connectionsPerSource = 3
        }
        let server = live.server, bound = live.port
        let health = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

        // Three connections trickle a request head that never ends.
        var slow: [LoopbackConnection] = []
        for _ in 0..<3 {
            let connection = try LoopbackConnection(port: bound, from: "127.0.0.1")
            connection.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            slow.append(connection)
        }
        let bound30 = ContinuousClock.now + .seconds(30)
        while server.connections.held(by: "127.0.0.1") < 3 && ContinuousClock.now < bound30 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.connections.held(by: "127.0.0.1") == 3)
        // A fourth from the same address is closed unanswered; another address is served.
        let fourth = try LoopbackConnection(port: bound, from: "127.0.0.1")
        fourth.write(health)
        let refused = await fourth.read()
        #expect(refused.text == "" && refused.closedByPeer, "over the per-address limit: closed unanswered")
        let other = try LoopbackConnection(port: bound, from: "127.0.0.2")
        other.write(health)
        #expect(await other.readUntilClosed().hasPrefix("HTTP/1.1 200"))
        // The slow ones are closed by the server at their deadline, without an answer.
        for connection in slow {
            let cut = await connection.read()
            #expect(cut.text == "" && cut.closedByPeer)
        }
        let bound60 = ContinuousClock.now + .seconds(60)
        while server.connections.held(by: "127.0.0.1") > 0 && ContinuousClock.now < bound60 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.connections.held(by: "127.0.0.1") == 0)
        let again = try LoopbackConnection(port: bound, from: "127.0.0.1")
        again.write(health)
        #expect(await again.readUntilClosed().hasPrefix("HTTP/1.1 200"), "its slots are free again")
        await live.stop()
    }
}

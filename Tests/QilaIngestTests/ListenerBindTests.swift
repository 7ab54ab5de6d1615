import Foundation
import Logging
import NIOCore
import NIOPosix
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaIngest

@Suite("A syslog listener that cannot bind is named with its address and port")
struct ListenerBindTests {
    /// A TCP port on loopback held open by the test.
    static func occupiedPort() async throws -> (any Channel, Int) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        return (channel, try #require(channel.localAddress?.port))
    }

    static func runtime(tcp: [String], skip: Bool) async throws -> IntakeRuntime {
        let world = try await TenantWorld.make(on: .sqlite)
        var settings = IntakeRuntime.Settings(journalDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("qila-bind-\(UUID().uuidString)").path)
        settings.syslogTCP = tcp
        settings.syslogUDP = ["127.0.0.1:0"]
        settings.skipUnavailableListeners = skip
        return try IntakeRuntime(store: world.installation.store, settings: settings, logger: Logger(label: "test.bind"))
    }

    @Test("a listener named in the configuration stops the start with the address, port and reason")
    func named() async throws {
        let (holder, port) = try await Self.occupiedPort()
        defer { _ = holder.close(mode: .all) }
        let runtime = try await Self.runtime(tcp: ["127.0.0.1:\(port)"], skip: false)
        do {
            let channels = try await runtime.bindListeners(group: MultiThreadedEventLoopGroup.singleton)
            for (_, channel) in channels { try await channel.close() }
            Issue.record("bound a port that is in use")
        } catch let error as QilaError {
            #expect(error.message == "cannot listen for syslog over TCP on 127.0.0.1:\(port): address already in use")
        }
    }

    @Test("a default listener whose port is in use is skipped with that said; the others start")
    func skipped() async throws {
        let (holder, port) = try await Self.occupiedPort()
        defer { _ = holder.close(mode: .all) }
        let runtime = try await Self.runtime(tcp: ["127.0.0.1:\(port)"], skip: true)
        let channels = try await runtime.bindListeners(group: MultiThreadedEventLoopGroup.singleton)
        #expect(channels.map(\.kind) == ["syslog-udp"])
        #expect(runtime.skippedListeners == ["cannot listen for syslog over TCP on 127.0.0.1:\(port): address already in use; skipped, the other listeners start"])
        for (_, channel) in channels { try await channel.close() }
    }
}

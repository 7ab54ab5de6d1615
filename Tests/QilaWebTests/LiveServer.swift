import Foundation
import Logging
import QilaAccess
import ServiceLifecycle
import Synchronization
@testable import QilaWeb

/// A Qila server on a loopback port of its own, plain HTTP, for tests that talk to real sockets.
struct LiveServer {
    let server: QilaServer
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    static func start(_ installation: Installation, configure: (inout WebConfiguration) -> Void = { _ in }) async throws -> LiveServer {
        var configuration = WebConfiguration()
        configuration.tls = false
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        let server = try QilaServer(installation: installation, configuration: configuration)
        let bound = Mutex(0)
        let logger = Logger(label: "test.live")
        let services = try await server.services(logger: logger, onServerRunning: { port in bound.withLock { $0 = port } })
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        let running = Task { try await group.run() }
        while bound.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        return LiveServer(server: server, port: bound.withLock { $0 }, group: group, running: running)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }
}

import Foundation
import Logging
import QilaAccess
import QilaCore
import QilaDetect
import QilaIngest
import QilaStore
import QilaTestSupport
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// A running intake on loopback over a tenant world: real listeners on free ports, a real
/// journal in a temporary directory, the database of the backend.
final class IntakeHarness: @unchecked Sendable {
    let world: TenantWorld
    let runtime: IntakeRuntime
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let ports: [String: Int]

    static let whoami = """
        title: Whoami run
        id: 0b0a1a9e-0000-4000-8000-000000000001
        level: high
        logsource: {product: windows, category: process_creation}
        detection:
          selection: {Image|endswith: '\\whoami.exe'}
          condition: selection
        """

    static let consoleLogin = """
        title: Console login without MFA
        id: 0b0a1a9e-0000-4000-8000-000000000002
        level: medium
        logsource: {product: aws, service: cloudtrail}
        detection:
          selection: {eventName: ConsoleLogin, additionalEventData.MFAUsed: 'No'}
          condition: selection
        """

    static func start(
        _ backend: TestBackend, settings configure: (inout IntakeRuntime.Settings) -> Void = { _ in }, world given: TenantWorld? = nil,
        journal: String? = nil, rules: [String] = [whoami, consoleLogin], clock: WallClock = .system, indicators: (any IndicatorSource)? = nil
    ) async throws -> IntakeHarness {
        let world = if let given { given } else { try await TenantWorld.make(on: backend) }
        let directory = journal ?? FileManager.default.temporaryDirectory.appendingPathComponent("qila-intake-\(UUID().uuidString)").path
        var settings = IntakeRuntime.Settings(journalDirectory: directory)
        settings.syslogTCP = ["127.0.0.1:0"]
        settings.syslogUDP = ["127.0.0.1:0"]
        settings.pipeline.workers = 2
        settings.pipeline.commitInterval = 0.05
        settings.pipeline.authority = world.authority.id
        configure(&settings)
        let store = world.installation.store
        if given == nil {
            let sets = DetectionSets()
            try await store.saveRules(rules.enumerated().map { RuleImport.rule(yaml: $0.element, file: "rule\($0.offset).yml", by: nil, sets: sets, mappings: []) })
        }
        let logger = Logger(label: "test.intake")
        let runtime = try IntakeRuntime(store: store, settings: settings, logger: logger, clock: clock, indicators: indicators)
        let ports = Ports()
        let service = IntakeService(runtime: runtime, logger: logger) { listening in
            ports.set(Dictionary(listening.map { ($0.kind, $0.port) }, uniquingKeysWith: { a, _ in a }))
        }
        // Each harness is a node: correlations are evaluated by whichever holds the lease.
        let correlations = CorrelationService(
            runtime: runtime, lease: Lease("detect.correlations", holder: runtime.journal.identifier, store: store), interval: .milliseconds(50),
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service), .init(service: correlations)], logger: logger))
        let task = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(30)
        while ports.get().isEmpty {
            guard ContinuousClock.now < deadline else { throw QilaError(.integrity, "intake did not start listening") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return IntakeHarness(world: world, runtime: runtime, group: group, task: task, ports: ports.get())
    }

    private init(world: TenantWorld, runtime: IntakeRuntime, group: ServiceGroup, task: Task<Void, any Error>, ports: [String: Int]) {
        self.world = world
        self.runtime = runtime
        self.group = group
        self.task = task
        self.ports = ports
    }

    var store: SQLStore { world.installation.store }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Registers a sensor and makes intake see it at once.
    @discardableResult
    func sensor(
        _ name: String, of organisation: Organisation, transport: Sensor.Transport = .syslog, format: Sensor.Format = .json,
        mapping: String = "windows-flat", addresses: [String] = ["127.0.0.1"], account: UserID? = nil, rate: Int = 0
    ) async throws -> Sensor {
        let sensor = Sensor(
            organisation: organisation.id, name: name, transport: transport, format: format, mapping: mapping, account: account,
            addresses: addresses, rateLimit: rate, createdBy: world.users["admin"]!.id)
        try await store.createSensor(sensor)
        try await runtime.reloadSensors()
        return sensor
    }

    /// Waits until `events` events have been processed and everything is committed.
    func settle(events: Int64, timeout: TimeInterval = 60) async throws {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while runtime.pipeline.processedEvents < events || !runtime.pipeline.isIdle || runtime.journal.pendingBytes > 0 {
            guard ContinuousClock.now < deadline else {
                throw QilaError(.integrity, "only \(runtime.pipeline.processedEvents) of \(events) events processed")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // One more commit interval, so that the last results are written.
        try await Task.sleep(for: .milliseconds(200))
    }

    final class Ports: @unchecked Sendable {
        private let lock = NSLock()
        private var value: [String: Int] = [:]
        func set(_ ports: [String: Int]) { lock.withLock { value = ports } }
        func get() -> [String: Int] { lock.withLock { value } }
    }
}

/// A plain blocking socket to loopback, as a sensor would open one.
struct LoopbackSocket {
    let fd: Int32

    init(tcp port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try Self.connect(fd, port)
    }

    init(udp port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try Self.connect(fd, port)
    }

    static func connect(_ fd: Int32, _ port: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else { throw QilaError(.integrity, "connect to port \(port): \(String(cString: strerror(errno)))") }
    }

    func send(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw QilaError(.integrity, "send: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    func close() { _ = Glibc.close(fd) }

    /// An RFC 5424 message with a JSON body, octet-counted (RFC 6587).
    static func framed(_ json: String, host: String = "host1") -> [UInt8] {
        let message = Array("<134>1 2026-11-23T10:00:00Z \(host) nxlog - - - \(json)".utf8)
        return Array("\(message.count) ".utf8) + message
    }
}

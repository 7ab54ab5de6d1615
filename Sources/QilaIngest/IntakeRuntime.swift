import Foundation
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import QilaCore
import Synchronization
public import QilaDetect
public import QilaStore
public import ServiceLifecycle

/// What the listeners need: the journal to append to, the sensors to look up, the limits.
final class IntakeIngress: Sendable {
    let journal: IntakeJournal
    let directory: SensorDirectory
    let store: SQLStore
    let maximumMessage: Int
    /// Stamps arrivals (the hour an event is counted in) and judges certificate validity.
    let clock: WallClock

    init(journal: IntakeJournal, directory: SensorDirectory, store: SQLStore, maximumMessage: Int, clock: WallClock) {
        self.clock = clock
        self.journal = journal
        self.directory = directory
        self.store = store
        self.maximumMessage = maximumMessage
    }

    /// The syslog-over-TLS sensor of the account holding a valid certificate with this SHA-256.
    func sensor(certificateFingerprint: String) async -> Sensor? {
        let now = clock.now
        guard let certificate = try? await store.certificate(fingerprint: certificateFingerprint), certificate.revokedAt == nil,
            certificate.notAfter > now, certificate.notBefore <= now
        else { return nil }
        return directory.sensor(account: certificate.user, transport: .syslogTLS)
    }
}

/// Telemetry intake as `qila serve` runs it: the journal, the sensors, the rules, the pipeline,
/// and the syslog listeners. HTTP intake reaches it through `accept(_:from:)`.
public final class IntakeRuntime: Sendable {
    public struct Settings: Sendable {
        public var journalDirectory: String
        public var syslogUDP: [String] = []
        public var syslogTCP: [String] = []
        public var syslogTLS: [String] = []
        /// When set, a listener that cannot bind (its port in use) is skipped with a warning and
        /// the others still start: for `qila serve`'s loopback defaults. When not set (listeners
        /// named in the configuration), it stops the server with the address named.
        public var skipUnavailableListeners = false
        /// PEM files for syslog over TLS: the server's chain and key, and the CA client certificates must chain to.
        public var tlsCertificate: String?
        public var tlsKey: String?
        public var tlsClientCA: String?
        /// Largest syslog message accepted (bytes).
        public var maximumMessage = 64 * 1024
        /// Indicator files matched against every event.
        public var indicatorFiles: [String] = []
        public var pipeline = IntakeSettings()
        public var segmentSize: Int64 = 64 << 20
        /// Seconds a syslog TCP or TLS connection may send nothing (a TLS handshake included)
        /// before it is closed; senders reconnect.
        public var idleTimeout: Double = 600
        /// Open syslog TCP/TLS connections per source address (0: no limit).
        public var connectionsPerSource = 256

        public init(journalDirectory: String) { self.journalDirectory = journalDirectory }
    }

    public let settings: Settings
    public let store: SQLStore
    public let journal: IntakeJournal
    public let directory: SensorDirectory
    public let sets: DetectionSets
    public let pipeline: IntakePipeline
    let ingress: IntakeIngress
    /// Syslog TCP and TLS connections held per source address.
    public let streamConnections: ConnectionLimiter
    private let prepared = Atomic<Bool>(false)
    /// Shared indicators, loaded again whenever their version changes.
    public let indicatorSource: (any IndicatorSource)?
    private let fileIndicators = Mutex<[Indicator]>([])
    private let loadedIndicators = Mutex<String?>(nil)

    /// Whether sensors and rules are loaded (HTTP intake answers 503 before).
    public var isReady: Bool { prepared.load(ordering: .acquiring) }

    /// `clock` stamps arrivals and tells the pipeline when hours end; tests give a fixed or manual one.
    public init(
        store: SQLStore, settings: Settings, logger: Logger, clock: WallClock = .system, indicators indicatorSource: (any IndicatorSource)? = nil
    ) throws {
        self.indicatorSource = indicatorSource
        self.settings = settings
        self.store = store
        do {
            journal = try IntakeJournal(directory: settings.journalDirectory, segmentSize: settings.segmentSize)
        } catch {
            throw QilaError(.configuration, error.description)
        }
        directory = SensorDirectory(settings: settings.pipeline, clock: clock)
        sets = DetectionSets()
        pipeline = IntakePipeline(
            store: store, sets: sets, sensors: directory, settings: settings.pipeline, journalID: journal.identifier, logger: logger,
            clock: clock)
        ingress = IntakeIngress(journal: journal, directory: directory, store: store, maximumMessage: settings.maximumMessage, clock: clock)
        streamConnections = ConnectionLimiter(perSource: settings.connectionsPerSource)
    }

    /// Loads sensors, rules and indicators and compiles the rule sets the sensors need.
    public func prepare() async throws {
        try await directory.load(from: store)
        sets.replace(rules: try await store.detectionRules())
        if !settings.indicatorFiles.isEmpty {
            let files = IndicatorSet(paths: settings.indicatorFiles)
            fileIndicators.withLock { $0 = files.indicators }
            sets.replace(indicators: files)
        }
        try await reloadIndicators()
        sets.prepare(mappings: directory.mappings)
        prepared.store(true, ordering: .releasing)
    }

    /// Loads the shared indicators again if their version changed (or when `force`); returns
    /// how many are active then, or nil when nothing changed.
    @discardableResult
    public func reloadIndicators(force: Bool = false) async throws -> Int? {
        guard let indicatorSource else { return nil }
        let now = pipeline.clock.now
        let version = try await indicatorSource.version(now: now)
        guard force || loadedIndicators.withLock({ $0 }) != version else { return nil }
        let shared = try await indicatorSource.activeIndicators(now: now)
        let files = fileIndicators.withLock { $0 }
        sets.replace(indicators: IndicatorSet(indicators: files + shared))
        loadedIndicators.withLock { $0 = version }
        return shared.count
    }

    /// Reads the sensors again (after a change on the sensors page).
    public func reloadSensors() async throws {
        try await directory.load(from: store)
    }

    /// Recompiles the rules from the database (after an upload, enable or disable).
    public func reloadRules() async throws {
        sets.replace(rules: try await store.detectionRules())
        sets.prepare(mappings: directory.mappings)
    }

    public enum Acceptance: Sendable {
        case accepted(records: Int, refusals: [IntakeBody.Refusal])
        case refused(status: Int, reason: String, retryAfter: Int?)
    }

    /// HTTP intake: checks the sensor's allowance, journals the body's records and returns once
    /// they are durable.
    public func accept(_ body: [UInt8], sensor: Sensor) async -> Acceptance {
        guard isReady else { return .refused(status: 503, reason: "intake is starting; send the batch again shortly", retryAfter: 2) }
        if journal.pendingBytes + pipeline.backlogBytes > settings.pipeline.queueBytes * 2 {
            directory.refused(sensor.id, "busy", detail: "intake is behind; the batch was refused and should be sent again")
            return .refused(status: 503, reason: "intake is busy; send the batch again later", retryAfter: 5)
        }
        let parsed: IntakeBody
        do {
            parsed = try IntakeBody(body, sensor: sensor, receivedAt: ingress.clock.now.milliseconds)
        } catch {
            directory.refused(sensor.id, "invalid-json", detail: error.description)
            return .refused(status: 400, reason: error.description, retryAfter: nil)
        }
        if !parsed.refusals.isEmpty {
            directory.refused(sensor.id, "invalid-json", count: Int64(parsed.refusals.count), detail: parsed.refusals[0].description)
        }
        guard !parsed.entry.isEmpty else { return .accepted(records: 0, refusals: parsed.refusals) }
        switch directory.admit(sensor, events: parsed.entry.count) {
        case .refuse(let reason):
            return reason == "over-quota"
                ? .refused(status: 429, reason: "the organisation's daily event quota is used up", retryAfter: 3600)
                : .refused(status: 429, reason: "over the sensor's or organisation's rate limit", retryAfter: 1)
        case .accept:
            break
        }
        do {
            _ = try await journal.append(parsed.entry)
        } catch {
            directory.refused(sensor.id, "journal-failure", count: Int64(parsed.entry.count), detail: error.description)
            return .refused(status: 503, reason: "the batch could not be stored; send it again", retryAfter: 5)
        }
        return .accepted(records: parsed.entry.count, refusals: parsed.refusals)
    }

    /// The listeners, bound (port 0 picks a free port; the bound addresses are returned).
    func bindListeners(group: any EventLoopGroup) async throws -> [(kind: String, channel: any Channel)] {
        var channels: [(String, any Channel)] = []
        let ingress = self.ingress
        let limiter = streamConnections
        let idle = TimeAmount.milliseconds(Int64(settings.idleTimeout * 1000))
        // Any bytes are progress: a connection that sends nothing for `idleTimeout` is closed.
        @Sendable func deadline() -> ConnectionDeadline<ByteBuffer> { ConnectionDeadline(limiter: limiter, deadline: idle) { _ in .rearm } }
        for address in settings.syslogUDP {
            let (host, port) = try Self.split(address, "intake.syslogUDP")
            guard let channel = try await listening("syslog over UDP", host, port, {
                try await DatagramBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 8 << 20)
                .channelOption(ChannelOptions.maxMessagesPerRead, value: 64)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SyslogDatagramHandler(ingress: ingress)) }
                }
                .bind(host: host, port: port).get()
            }) else { continue }
            channels.append(("syslog-udp", channel))
        }
        for address in settings.syslogTCP {
            let (host, port) = try Self.split(address, "intake.syslogTCP")
            guard let channel = try await listening("syslog over TCP", host, port, {
                try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .childChannelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65_536, maximum: 1 << 20))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(deadline())
                        try channel.pipeline.syncOperations.addHandler(SyslogStreamHandler(ingress: ingress, tls: false))
                    }
                }
                .bind(host: host, port: port).get()
            }) else { continue }
            channels.append(("syslog-tcp", channel))
        }
        if !settings.syslogTLS.isEmpty {
            guard let certificate = settings.tlsCertificate, let key = settings.tlsKey, let clientCA = settings.tlsClientCA else {
                throw QilaError(.configuration, "syslog over TLS needs the server certificate, its key and the client CA")
            }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(clientCA)
            configuration.minimumTLSVersion = .tlsv12
            let context = try NIOSSLContext(configuration: configuration)
            for address in settings.syslogTLS {
                let (host, port) = try Self.split(address, "intake.syslogTLS")
                guard let channel = try await listening("syslog over TLS", host, port, {
                    try await ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(deadline())
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                            try channel.pipeline.syncOperations.addHandler(SyslogStreamHandler(ingress: ingress, tls: true))
                        }
                    }
                    .bind(host: host, port: port).get()
                }) else { continue }
                channels.append(("syslog-tls", channel))
            }
        }
        return channels
    }

    /// Listeners skipped because their address could not be bound, each with the reason.
    public var skippedListeners: [String] { skipped.withLock { $0 } }
    private let skipped = Mutex<[String]>([])

    /// Binds one listener, naming its address and port when that fails: skipped with a warning
    /// (nil) when listeners are optional, else the error that stops the server.
    func listening(_ what: String, _ host: String, _ port: Int, _ bind: () async throws -> any Channel) async throws -> (any Channel)? {
        do {
            return try await bind()
        } catch {
            let place = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let reason = "cannot listen for \(what) on \(place): \(Self.reason(error))"
            guard settings.skipUnavailableListeners else { throw QilaError(.configuration, reason) }
            skipped.withLock { $0.append(reason + "; skipped, the other listeners start") }
            return nil
        }
    }

    /// The operating system's words for a bind failure, without the library's wrapping.
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return "\(error)"
    }

    static func split(_ address: String, _ key: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw QilaError(.configuration, "\(key): '\(address)' is not HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

/// Runs intake inside `qila serve`: replays what the journal holds beyond the last commit, then
/// starts the journal writer, the workers, the committer and the listeners; at shutdown stops the
/// listeners first and commits what was processed.
public struct IntakeService: Service {
    let runtime: IntakeRuntime
    let logger: Logger
    /// Called with each listener's kind and bound port once they listen.
    let onListening: @Sendable ([(kind: String, port: Int)]) -> Void

    public init(runtime: IntakeRuntime, logger: Logger, onListening: @escaping @Sendable ([(kind: String, port: Int)]) -> Void = { _ in }) {
        self.runtime = runtime
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        try await runtime.prepare()
        let journal = runtime.journal
        let pipeline = runtime.pipeline
        let checkpoint = try await runtime.store.intakeCheckpoint(journal: journal.identifier) ?? 0
        pipeline.start(committedPosition: checkpoint)
        let committer = Task { await pipeline.runCommitter() }
        // Replay what was journalled but not committed before the last stop.
        let replayed = try await Self.onThread {
            var count = 0
            try journal.read(from: checkpoint) { stored in
                pipeline.submit(stored)
                count += stored.entry.count
            }
            return count
        }
        if replayed > 0 { logger.notice("intake journal replayed", metadata: ["records": "\(replayed)", "from": "\(checkpoint)"]) }
        journal.start { pipeline.submit($0) }
        let channels = try await runtime.bindListeners(group: MultiThreadedEventLoopGroup.singleton)
        for warning in runtime.skippedListeners { logger.warning("\(warning)") }
        onListening(channels.map { ($0.kind, $0.channel.localAddress?.port ?? 0) })
        for (kind, channel) in channels {
            logger.info("intake listening", metadata: ["kind": "\(kind)", "address": "\(channel.localAddress?.description ?? "?")"])
        }
        var rulesVersion = (try? await runtime.store.rulesVersion()) ?? 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
            journal.trim(before: pipeline.committedPosition)
            do {
                try await runtime.reloadSensors()
                let version = try await runtime.store.rulesVersion()
                if version != rulesVersion {
                    rulesVersion = version
                    try await runtime.reloadRules()
                }
            } catch {
                logger.error("intake could not reload sensors or rules", metadata: ["error": "\(error)"])
            }
            do {
                // A million indicators take a while to score again; a stop does not wait for it.
                if let active = try await cancelWhenGracefulShutdown({ try await runtime.reloadIndicators() }) {
                    logger.info("shared indicators loaded", metadata: ["active": "\(active)"])
                }
            } catch is CancellationError {
                break
            } catch {
                logger.error("intake could not load the shared indicators", metadata: ["error": "\(error)"])
            }
        }
        for (_, channel) in channels { try? await channel.close() }
        await Self.onThread { journal.stop() }
        committer.cancel()
        _ = await committer.value
        do {
            try await pipeline.drain()
        } catch {
            logger.error("intake could not commit at shutdown; the journal will be replayed", metadata: ["error": "\(error)"])
        }
        await Self.onThread { pipeline.stop() }
    }

    /// Runs blocking work on its own thread, not on the concurrency pool.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread {
                body()
                continuation.resume()
            }.start()
        }
    }
}

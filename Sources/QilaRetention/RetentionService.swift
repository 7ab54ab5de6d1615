public import Foundation
public import Logging
public import Metrics
public import QilaAccess
public import QilaCore
public import QilaFlows
public import QilaStore
public import ServiceLifecycle

/// Traffic-data retention inside `qila serve`: the flow store and subscriber registry under
/// `<data>/flows`, the NetFlow/IPFIX collector and the RADIUS accounting listener fed from the
/// flow sources registered in the database, the warrant desk, and the collector's recent health.
public final class RetentionRuntime: @unchecked Sendable {
    public struct Settings: Sendable {
        /// `host:port` for NetFlow/IPFIX; empty turns the collector off.
        public var flowListen: [String] = []
        /// `host:port` for RADIUS accounting; empty turns the listener off.
        public var radiusListen: [String] = []
        /// Retention for organisations the authority set none for.
        public var defaultRetentionDays = 365
        public var durabilityInterval = 1.0
        /// Skip a listener whose port is in use (with a warning) instead of stopping: for the
        /// loopback defaults of `qila serve`.
        public var skipUnavailableListeners = false

        public init() {}
    }

    /// One sample of the collector's counters.
    public struct Sample: Sendable {
        public var time: Date
        public var stored: Int
        public var lost: Int
        public var refused: Int
        public var unknown: Int
    }

    /// Datagrams dropped between two looks at the collector: their flows were not retained.
    public struct Loss: Sendable, Equatable {
        /// The last look that saw no new drop, and the first that saw them.
        public var from: Date
        public var to: Date
        /// Dropped by the kernel (a socket's receive queue was full), per port.
        public var kernelDrops: [UInt16: Int]
        /// Received but not decoded (the hand-off to the decoder was full).
        public var handoffOverflow: Int
        public var datagrams: Int { kernelDrops.values.reduce(0, +) + handoffOverflow }
    }

    public let installation: Installation
    public let settings: Settings
    public let store: FlowStore
    public let registry: SubscriberRegistry
    public let collector: FlowCollector
    public let radius: RadiusListener
    public let desk: WarrantDesk
    /// Exporters, RADIUS clients, retention periods and NAT logs.
    public let sources: FlowSourceDesk
    /// The installation's other nodes that hold traffic data, and the link to them.
    public let nodes: TrafficDataNodes
    /// The ports the listeners received on (each listener owns its list).
    public var boundFlowPorts: [UInt16] { collector.boundPorts }
    public var boundRadiusPorts: [UInt16] { radius.boundPorts }
    private let lock = NSLock()
    private var samples: [Sample] = []
    private var pendingChain: [FlowChainEntry] = []
    /// The collector's drop counters at the last look, and when it was (guarded by `lock`).
    private var watched: (time: Date, kernelDrops: [UInt16: Int], overflow: Int)?
    private var losses: [Loss] = []

    private let metrics: any MetricsFactory

    /// `metrics` receives the collector's counters (the process's metrics system by default).
    public init(installation: Installation, settings: Settings, metrics: any MetricsFactory = MetricsSystem.factory) throws {
        self.installation = installation
        self.settings = settings
        self.metrics = metrics
        let root = installation.dataDirectory + "/flows"
        store = try FlowStore(FlowStore.Configuration(root: root, signingKey: installation.secrets.auditEd25519))
        var reading = FlowStore.Configuration(root: root, signingKey: installation.secrets.auditEd25519)
        reading.readOnly = true
        let reader = try FlowStore(reading)
        registry = SubscriberRegistry(root: root, key: installation.secrets.sealingKey)
        collector = FlowCollector(store: store, exporters: [], durabilityInterval: settings.durabilityInterval)
        radius = RadiusListener(registry: registry, clients: [])
        nodes = TrafficDataNodes(store: installation.store, node: installation.node)
        desk = WarrantDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, flows: reader, subscribers: registry, nodes: nodes,
            legacyExportsDirectory: installation.dataDirectory + "/warrant-exports")
        sources = FlowSourceDesk(store: installation.store, audit: installation.audit, secrets: installation.secrets, subscribers: registry, nodes: nodes)
        store.onChainEntry = { [weak self] entry in
            guard let self else { return }
            lock.lock()
            pendingChain.append(entry)
            lock.unlock()
        }
    }

    public var isCollecting: Bool { !boundFlowPorts.isEmpty }
    public var isReceivingAccounting: Bool { !boundRadiusPorts.isEmpty }

    public var recentSamples: [Sample] {
        lock.lock()
        defer { lock.unlock() }
        return samples
    }

    /// Listeners skipped because their address could not be bound, each with the reason.
    public private(set) var skippedListeners: [String] = []

    /// Starts the listeners named in the settings. One that cannot bind is named with its address
    /// and port: skipped with a warning when `skipUnavailableListeners` is set, else an error.
    public func start() throws {
        for (addresses, isFlow) in [(settings.flowListen, true), (settings.radiusListen, false)] {
            for text in addresses {
                guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                    throw QilaError(.configuration, "'\(text)' is not HOST:PORT", at: isFlow ? "flows.listen" : "flows.radius")
                }
                let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                do {
                    if isFlow { try collector.listen(host: host, port: port) } else { try radius.listen(host: host, port: port) }
                } catch {
                    let reason = "cannot listen for \(isFlow ? "NetFlow/IPFIX" : "RADIUS accounting") on \(text) (UDP): \(Self.reason(error))"
                    guard settings.skipUnavailableListeners else { throw QilaError(.configuration, reason) }
                    lock.lock()
                    skippedListeners.append(reason + "; skipped, the other listeners start")
                    lock.unlock()
                }
            }
        }
    }

    /// The operating system's words for a bind failure.
    static func reason(_ error: any Error) -> String {
        if case FlowSegment.Failure.io(_, _, let code) = error as? FlowSegment.Failure ?? .io("", path: "", errno: 0), code != 0 {
            return String(cString: strerror(code)).lowercased()
        }
        return "\(error)"
    }

    public func stop() {
        if isCollecting { collector.stop() }
        if isReceivingAccounting { radius.stop() }
    }

    /// Reads the registered flow sources again and hands them to the listeners.
    public func reloadSources() async throws {
        var exporters: [FlowCollector.Exporter] = []
        var clients: [RadiusListener.Client] = []
        for source in try await installation.store.flowSources() {
            guard let address = FlowAddress(parsing: source.address) else { continue }
            switch source.kind {
            case .exporter:
                exporters.append(.init(address: address, domain: source.domain, organisation: source.organisation.description))
            case .radius:
                guard let sealed = source.sealedSecret, let secret = try? installation.secrets.open(sealed) else { continue }
                clients.append(.init(address: address, secret: secret, organisation: source.organisation.description))
            }
        }
        collector.replaceExporters(exporters)
        radius.replaceClients(clients)
    }

    /// Losses seen in the last hour, newest last.
    public var recentLosses: [Loss] {
        lock.lock()
        defer { lock.unlock() }
        return losses
    }

    /// Whether datagrams are being dropped now: the counters grew since the last look, or the
    /// last look found a loss less than `window` seconds ago.
    public func isLosing(now: Date = Date(), window: TimeInterval = 60) -> Bool {
        isLosing(collector.currentHealth, now: now, window: window)
    }

    private func isLosing(_ health: FlowCollector.Health, now: Date, window: TimeInterval = 60) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let last = losses.last, now.timeIntervalSince(last.to) < window { return true }
        guard let watched else { return health.droppedDatagrams > 0 }
        return health.droppedDatagrams > watched.kernelDrops.values.reduce(0, +) + watched.overflow
    }

    /// Looks at the collector's drop counters: when they grew since the last look, records the
    /// interval and the counts in the audit log (`flows.collector.loss`), so that a provider can
    /// show exactly what was not retained and why. Also publishes the counters as metrics.
    /// `qila serve` looks every two seconds.
    @discardableResult
    public func watchLoss(now: Date = Date()) async throws -> Loss? {
        let health = collector.currentHealth
        Gauge(label: "qila_flows_stored_total", factory: metrics).record(Double(health.storedFlows))
        Gauge(label: "qila_flows_refused_total", factory: metrics).record(Double(health.refusedFlows))
        Gauge(label: "qila_flows_datagrams_received_total", factory: metrics).record(Double(health.receivedDatagrams))
        for (port, drops) in health.kernelDrops {
            Gauge(label: "qila_flows_datagrams_dropped_total", dimensions: [("cause", "kernel"), ("port", String(port))], factory: metrics).record(Double(drops))
        }
        Gauge(label: "qila_flows_datagrams_dropped_total", dimensions: [("cause", "handoff"), ("port", "all")], factory: metrics).record(Double(health.handoffOverflow))
        let loss: Loss? = {
            lock.lock()
            defer { lock.unlock() }
            let previous = watched ?? (time: now, kernelDrops: [:], overflow: 0)
            watched = (now, health.kernelDrops, health.handoffOverflow)
            var kernel: [UInt16: Int] = [:]
            for (port, drops) in health.kernelDrops where drops > previous.kernelDrops[port, default: 0] {
                kernel[port] = drops - previous.kernelDrops[port, default: 0]
            }
            let overflow = max(0, health.handoffOverflow - previous.overflow)
            guard !kernel.isEmpty || overflow > 0 else { return nil }
            let loss = Loss(from: previous.time, to: now, kernelDrops: kernel, handoffOverflow: overflow)
            losses.append(loss)
            losses.removeAll { now.timeIntervalSince($0.to) > 3600 }
            return loss
        }()
        Gauge(label: "qila_flows_loss_alarm", factory: metrics).record(isLosing(health, now: now) ? 1 : 0)
        guard let loss else { return nil }
        try await installation.audit.append(
            AuditEntry(
                time: now, actor: "system", action: "flows.collector.loss", outcome: .failure, resource: "flows-collector",
                details: [
                    "from": RFC3339.format(loss.from), "to": RFC3339.format(loss.to), "datagrams": String(loss.datagrams),
                    "kernelDrops": loss.kernelDrops.sorted { $0.key < $1.key }.map { "udp/\($0.key): \($0.value)" }.joined(separator: ", "),
                    "handoffOverflow": String(loss.handoffOverflow),
                    "reason": loss.kernelDrops.isEmpty
                        ? "the collector's hand-off to its decoder was full"
                        : "the kernel's receive queue for the collector's socket was full",
                ]))
        return loss
    }

    /// What this node holds, per organisation, and its listeners, for its heartbeat: the other
    /// nodes route warrant queries by it and the traffic-data page shows every node's stores.
    public func holdings() -> (trafficData: [NodeTrafficData], collector: NodeCollector?) {
        let summaries = (try? store.summary()) ?? []
        var organisations = Set(summaries.map(\.organisation))
        organisations.formUnion(registry.organisations())
        let byOrganisation = Dictionary(uniqueKeysWithValues: summaries.map { ($0.organisation, $0) })
        let data = organisations.sorted().map { organisation in
            let summary = byOrganisation[organisation]
            return NodeTrafficData(
                organisation: organisation, segments: (summary?.sealedSegments ?? 0) + (summary?.openSegments ?? 0), flows: summary?.flows ?? 0,
                bytes: summary?.bytes ?? 0, firstStart: summary?.firstStart, lastEnd: summary?.lastEnd,
                assignments: registry.counts(organisation: organisation).bindings)
        }
        guard isCollecting || isReceivingAccounting else { return (data, nil) }
        let health = collector.currentHealth
        let exporters = health.exporters.map { domain, counters in
            NodeCollector.Sender(
                address: domain.exporter.description, domain: domain.domain, radius: false, received: counters.records, lost: counters.lost,
                faults: counters.faults.values.reduce(0, +))
        }
        let clients = radius.currentCounters.clients.map { address, counters in
            NodeCollector.Sender(
                address: address.description, domain: nil, radius: true, received: counters.recorded, lost: counters.unstored,
                faults: counters.malformed + counters.badAuthenticator)
        }
        return (
            data,
            NodeCollector(
                flowPorts: boundFlowPorts, radiusPorts: boundRadiusPorts, storedFlows: health.storedFlows, droppedDatagrams: health.droppedDatagrams,
                diskFull: health.diskFull, senders: (exporters + clients).sorted { ($0.address, $0.domain ?? 0) < ($1.address, $1.domain ?? 0) })
        )
    }

    /// Takes a sample of the collector's counters (kept for an hour).
    public func sample(now: Date = Date()) {
        let health = collector.currentHealth
        let sample = Sample(
            time: now, stored: health.storedFlows, lost: health.exporters.values.reduce(0) { $0 + $1.lost },
            refused: health.refusedFlows, unknown: health.unknownExporters.values.reduce(0, +))
        lock.lock()
        samples.append(sample)
        samples.removeAll { now.timeIntervalSince($0.time) > 3600 }
        lock.unlock()
    }

    /// Seals segments of partitions that have ended and records new chain entries in the audit log.
    public func sealAndRecord(now: Date = Date()) async throws {
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        try store.seal(before: millis - store.configuration.partition)
        try await recordChain()
    }

    /// Deletes what is past each organisation's retention period, recording every deletion.
    public func expire(now: Date = Date()) async throws -> Int {
        let retention = try await installation.store.flowRetention()
        let defaultDays = settings.defaultRetentionDays
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        let deleted = try store.expire(now: millis) { organisation in
            OrganisationID(organisation).flatMap { retention[$0] } ?? defaultDays
        }
        for organisation in store.organisations() {
            let days = OrganisationID(organisation).flatMap { retention[$0] } ?? defaultDays
            for name in registry.expire(now: millis, retentionDays: days, organisation: organisation) {
                try await installation.audit.append(
                    AuditEntry(
                        time: now, actor: "system", action: "flows.assignments.delete", outcome: .success, resource: "flows:\(organisation)/\(name)",
                        details: ["retentionDays": String(days)]))
            }
        }
        try await recordChain()
        return deleted.count
    }

    private func takeChainEntries() -> [FlowChainEntry] {
        lock.lock()
        defer { lock.unlock() }
        let entries = pendingChain
        pendingChain.removeAll()
        return entries
    }

    func recordChain() async throws {
        for entry in takeChainEntries() {
            try await installation.audit.append(
                AuditEntry(
                    time: Date(timeIntervalSince1970: Double(entry.time) / 1000), actor: "system",
                    action: entry.event == .sealed ? "flows.segment.seal" : "flows.segment.delete", outcome: .success,
                    resource: "flows:\(entry.organisation)/\(entry.segment)",
                    details: [
                        "sha256": entry.sha256, "rows": String(entry.rows), "chainSequence": String(entry.sequence), "chainHead": entry.head,
                    ].merging(entry.reason.map { ["reason": $0] } ?? [:]) { $1 }))
        }
    }
}

/// Runs the retention runtime for as long as `qila serve` runs.
public struct RetentionService: Service {
    let runtime: RetentionRuntime
    let logger: Logger

    public init(runtime: RetentionRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    public func run() async throws {
        try await runtime.reloadSources()
        try runtime.start()
        for warning in runtime.skippedListeners { logger.warning("\(warning)") }
        if runtime.isCollecting {
            logger.info("collecting NetFlow/IPFIX", metadata: ["ports": "\(runtime.boundFlowPorts)"])
            for warning in runtime.collector.currentHealth.queueWarnings { logger.warning("\(warning)") }
        }
        if runtime.isReceivingAccounting { logger.info("receiving RADIUS accounting", metadata: ["ports": "\(runtime.boundRadiusPorts)"]) }
        // Every two seconds the drop counters are read (a loss is on the page, in /metrics and
        // in the audit log within seconds); every ten the sources are reloaded and a sample
        // taken; every minute ended partitions are sealed; every hour expiry runs.
        var tick = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
            tick += 1
            do {
                try await runtime.watchLoss()
                guard tick % 5 == 0 else { continue }
                runtime.sample()
                try await runtime.reloadSources()
                if tick % 30 == 0 { try await runtime.sealAndRecord() }
                if tick % 1800 == 5 {
                    let deleted = try await runtime.expire()
                    if deleted > 0 { logger.info("deleted traffic data past retention", metadata: ["segments": "\(deleted)"]) }
                }
            } catch {
                logger.error("traffic-data retention", metadata: ["error": "\(error)"])
            }
        }
        runtime.stop()
        try? await runtime.recordChain()
    }
}

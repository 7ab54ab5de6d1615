import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Receives NetFlow v5/v9 and IPFIX over UDP from registered exporters and stores their flows:
/// a receiving thread per socket decodes datagrams into per-organisation batches, and a writing
/// thread stores each batch as a durable block at every durability interval. Datagrams from
/// unregistered exporters are counted and dropped; while the disk is full, flows are counted as
/// refused and intake resumes when space returns.
public final class FlowCollector: @unchecked Sendable {
    public struct Exporter: Sendable, Hashable {
        public var address: FlowAddress
        /// The observation domain (v9 source id); nil accepts every domain of the address.
        public var domain: UInt32?
        public var organisation: String

        public init(address: FlowAddress, domain: UInt32? = nil, organisation: String) {
            self.address = address
            self.domain = domain
            self.organisation = organisation
        }
    }

    public struct Health: Sendable {
        public var exporters: [FlowDecoder.Domain: FlowDecoder.Counters] = [:]
        public var unknownExporters: [FlowAddress: Int] = [:]
        public var storedFlows = 0
        public var storedBlocks = 0
        /// Flows decoded but not stored: disk full or a write error.
        public var refusedFlows = 0
        public var diskFull = false
        public var lastError: String?
    }

    public let store: FlowStore
    public let durabilityInterval: Double
    private let lock = NSLock()
    private var registry: [FlowAddress: [Exporter]]
    private var health = Health()
    private var sockets: [Int32] = []
    private var running = true
    private var pending: [(String, FlowBatch, Int64)] = []
    /// Emptied batches the writer hands back for reuse (guarded by `pendingSignal`).
    private var spare: [FlowBatch] = []
    private let pendingSignal = NSCondition()
    private var threads = 0
    private let finished = NSCondition()

    public init(store: FlowStore, exporters: [Exporter], durabilityInterval: Double = 1.0) {
        self.store = store
        self.durabilityInterval = durabilityInterval
        registry = Dictionary(grouping: exporters, by: \.address)
    }

    public func replaceExporters(_ exporters: [Exporter]) {
        lock.lock()
        registry = Dictionary(grouping: exporters, by: \.address)
        lock.unlock()
    }

    public var currentHealth: Health {
        lock.lock()
        defer { lock.unlock() }
        var copy = health
        copy.diskFull = store.diskFull
        return copy
    }

    /// Binds a UDP socket on `host:port` (IPv4 or IPv6 literal) and starts receiving on it.
    /// Returns the bound port (useful with port 0).
    @discardableResult
    public func listen(host: String, port: UInt16) throws -> UInt16 {
        let (fd, bound) = try UDPSocket.bind(host: host, port: port, receiveBuffer: 128 << 20)
        lock.lock()
        sockets.append(fd)
        if threads == 0 { startWriter() }
        threads += 1
        lock.unlock()
        let thread = Thread { [self] in receive(fd) }
        thread.name = "qila-flows-receive"
        thread.start()
        return bound
    }

    /// Stops receiving, stores what was received and waits for the threads to end.
    public func stop() {
        lock.lock()
        running = false
        lock.unlock()
        finished.lock()
        while threads > 0 { finished.wait() }
        finished.unlock()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    // MARK: Receiving

    private func receive(_ fd: Int32) {
        let count = 64
        let size = 65_536
        let buffers = UnsafeMutableRawPointer.allocate(byteCount: count * size, alignment: 16)
        let names = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: count)
        var lengths = [Int](repeating: 0, count: count)
        defer {
            buffers.deallocate()
            names.deallocate()
        }
        var decoder = FlowDecoder()
        var records: [FlowRecord] = []
        records.reserveCapacity(64)
        var batches: [String: FlowBatch] = [:]
        var unknown: [FlowAddress: Int] = [:]
        var refused = 0
        var lastFlush = FlowCollector.now()
        let interval = Int64(durabilityInterval * 1000)
        var registry = self.registry
        while true {
            // Up to `count` datagrams a round: the first waits (up to the socket's timeout), the
            // rest only take what is already queued.
            var received = 0
            while received < count {
                var nameLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = names.advanced(by: received).withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buffers + received * size, size, received == 0 ? 0 : Int32(MSG_DONTWAIT), $0, &nameLength)
                }
                if n < 0 { break }
                lengths[received] = n
                received += 1
            }
            let now = FlowCollector.now()
            if received > 0 {
                let full = store.diskFull
                for i in 0..<received {
                    let exporter = UDPSocket.address(names + i)
                    let bytes = UnsafeRawBufferPointer(start: buffers + i * size, count: lengths[i])
                    guard let candidates = registry[exporter] else {
                        unknown[exporter, default: 0] += 1
                        continue
                    }
                    let domain = FlowCollector.domain(of: bytes)
                    guard let registration = candidates.first(where: { $0.domain == nil || $0.domain == domain }) else {
                        unknown[exporter, default: 0] += 1
                        continue
                    }
                    records.removeAll(keepingCapacity: true)
                    decoder.decode(bytes, from: exporter, received: now, into: &records)
                    if records.isEmpty { continue }
                    if full {
                        refused += records.count
                        continue
                    }
                    let key = FlowDecoder.Domain(exporter: exporter, domain: domain ?? 0)
                    if batches[registration.organisation] == nil { batches[registration.organisation] = takeSpare() }
                    batches[registration.organisation]!.appendAll(records, from: key)
                    if batches[registration.organisation]!.count >= FlowBlock.maximumRows - 65_536 {
                        hand(registration.organisation, &batches, now)
                    }
                }
            }
            let stopping = !isRunning
            if now - lastFlush >= interval || stopping {
                for organisation in Array(batches.keys) { hand(organisation, &batches, now) }
                lastFlush = now
                lock.lock()
                for (domain, counters) in decoder.counters { health.exporters[domain] = counters }
                for (address, n) in unknown where health.unknownExporters[address] != nil || health.unknownExporters.count < 1024 {
                    health.unknownExporters[address, default: 0] += n
                }
                health.refusedFlows += refused
                registry = self.registry
                lock.unlock()
                unknown.removeAll()
                refused = 0
            }
            if stopping { break }
        }
        close(fd)
        pendingSignal.lock()
        threads -= 1
        pendingSignal.signal()
        pendingSignal.unlock()
    }

    private func takeSpare() -> FlowBatch {
        pendingSignal.lock()
        defer { pendingSignal.unlock() }
        return spare.popLast() ?? FlowBatch()
    }

    private func hand(_ organisation: String, _ batches: inout [String: FlowBatch], _ now: Int64) {
        guard let batch = batches.removeValue(forKey: organisation), !batch.isEmpty else { return }
        pendingSignal.lock()
        pending.append((organisation, batch, now))
        pendingSignal.signal()
        pendingSignal.unlock()
    }

    /// The observation domain (v9 source id, IPFIX domain) from a datagram's header.
    static func domain(of bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 2 else { return nil }
        let version = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let at = version == 9 ? 16 : version == 10 ? 12 : -1
        guard at >= 0, bytes.count >= at + 4 else { return version == 5 ? 0 : nil }
        return UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    // MARK: Writing

    private func startWriter() {
        threads += 1
        let thread = Thread { [self] in write() }
        thread.name = "qila-flows-write"
        thread.start()
    }

    private func write() {
        // Encoding yields to receiving: a datagram not read in time is lost, a block written a
        // little later is not. On two cores the difference decides whether bursts are kept.
        // (On Linux, who = 0 names the calling thread alone.)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        while true {
            pendingSignal.lock()
            while pending.isEmpty && (threads > 1 || isRunning) { _ = pendingSignal.wait(until: Date(timeIntervalSinceNow: 0.2)) }
            var work = pending
            pending.removeAll()
            let done = work.isEmpty && threads <= 1 && !isRunning
            pendingSignal.unlock()
            for index in work.indices {
                // Taken out of `work`, the batch's storage is unique and can be reused in place.
                let (organisation, _, received) = work[index]
                var batch = work[index].1
                work[index].1 = FlowBatch()
                defer {
                    batch.removeAll(keepingCapacity: true)
                    pendingSignal.lock()
                    if spare.count < 4 { spare.append(batch) }
                    pendingSignal.unlock()
                }
                do {
                    try store.append(batch, organisation: organisation, received: received)
                    lock.lock()
                    health.storedFlows += batch.count
                    health.storedBlocks += 1
                    lock.unlock()
                } catch {
                    lock.lock()
                    health.refusedFlows += batch.count
                    health.lastError = "\(error)"
                    lock.unlock()
                }
            }
            if done { break }
        }
        pendingSignal.lock()
        threads -= 1
        pendingSignal.unlock()
        finished.lock()
        finished.signal()
        finished.unlock()
    }
}

extension FlowBatch {
    mutating func appendAll(_ records: [FlowRecord], from domain: FlowDecoder.Domain) {
        let number = exporterNumber(domain)
        for record in records { append(record, exporter: number) }
    }
}

import CQilaSystem
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Receives NetFlow v5/v9 and IPFIX over UDP from registered exporters and stores their flows, in
/// three stages that each own their state (`docs/decisions/0014-flow-collector-stages.md`):
///
/// - a **receiving** thread per socket only takes datagrams from the kernel (many per system call)
///   and copies them into slabs of the bounded hand-off; when no slab is free the datagrams are
///   counted as overflow, never waited for, so the kernel's queue is read as fast as it fills;
/// - the **decoding** thread turns slabs into per-organisation batches and, at every durability
///   interval, hands the batches to the writer;
/// - the **writing** thread stores each batch as a durable block.
///
/// Datagrams from unregistered exporters are counted and dropped; while the disk is full, flows
/// are counted as refused and intake resumes when space returns. The kernel's own drops on each
/// socket (its receive queue was full) are read from the socket (SO_MEMINFO) and reported, so
/// that whatever was not retained is counted somewhere. Stopping shuts the sockets down for
/// reading, which wakes the receivers; each stage ends when the one before it has ended and its
/// queue is empty, so everything received is stored.
public final class FlowCollector: Sendable {
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
        /// Datagrams taken from the collector's sockets.
        public var receivedDatagrams = 0
        /// Datagrams the kernel dropped because a socket's receive queue was full, per bound port
        /// (as the kernel counts them since the socket was opened).
        public var kernelDrops: [UInt16: Int] = [:]
        /// Datagrams received but not decoded because the hand-off to the decoder was full.
        public var handoffOverflow = 0
        /// The receive queue the kernel granted each bound port, and the queue asked for, in
        /// bytes: less than asked when net.core.rmem_max caps it and the process may not force it.
        public var receiveQueues: [UInt16: (granted: Int, asked: Int)] = [:]
        /// What to tell the operator about `port` when its queue is smaller than asked; nil when
        /// the kernel granted it.
        public func queueWarning(for port: UInt16) -> String? {
            guard let queue = receiveQueues[port], queue.granted < queue.asked else { return nil }
            return "UDP \(port): the kernel granted a receive queue of \(queue.granted >> 20) MiB of the \(queue.asked >> 20) MiB asked, "
                + "so a pause of the collector loses flows sooner; raise net.core.rmem_max or give the process CAP_NET_ADMIN"
        }

        /// `queueWarning(for:)` of every port that has one.
        public var queueWarnings: [String] { receiveQueues.keys.sorted().compactMap(queueWarning(for:)) }

        /// Datagrams that reached the machine but were not decoded: the kernel's drops and the
        /// hand-off's overflow. Their flows were not retained.
        public var droppedDatagrams: Int { kernelDrops.values.reduce(0, +) + handoffOverflow }
    }

    public let store: FlowStore
    public let durabilityInterval: Double
    private let registry: Mutex<[FlowAddress: [Exporter]]>
    private let handoff: Handoff
    private let toWriter = BatchQueue()
    private let sockets = Mutex<[Receiver]>([])
    /// What the decoding and writing stages last published.
    private let decoded = Mutex(DecodedCounters())
    private let written = Mutex(WrittenCounters())
    private let stages = Mutex(Stages.idle)
    private let finished = NSCondition()

    /// `handoffBytes` bounds the datagrams waiting between receiving and decoding: 256 MiB holds
    /// five seconds of 900,000 flows/s, more than the kernel's 128 MiB queue in front of it (a
    /// smaller hand-off overflowed in a benchmark run while the kernel's queue still had room).
    /// Slabs take memory only once written.
    public init(store: FlowStore, exporters: [Exporter], durabilityInterval: Double = 1.0, handoffBytes: Int = 256 << 20) {
        self.store = store
        self.durabilityInterval = durabilityInterval
        registry = Mutex(Dictionary(grouping: exporters, by: \.address))
        handoff = Handoff(slabs: max(4, handoffBytes / Slab.capacity))
        FlowBlock.reuseEncoderMemory()
    }

    public func replaceExporters(_ exporters: [Exporter]) {
        let grouped = Dictionary(grouping: exporters, by: \.address)
        registry.withLock { $0 = grouped }
    }

    public var currentHealth: Health {
        var health = Health()
        decoded.withLock { counters in
            health.exporters = counters.exporters
            health.unknownExporters = counters.unknownExporters
            health.refusedFlows = counters.refusedFlows
        }
        written.withLock { counters in
            health.storedFlows = counters.storedFlows
            health.storedBlocks = counters.storedBlocks
            health.refusedFlows += counters.refusedFlows
            health.lastError = counters.lastError
        }
        for receiver in sockets.withLock({ $0 }) {
            health.receivedDatagrams += receiver.datagrams.load(ordering: .relaxed)
            health.handoffOverflow += receiver.overflow.load(ordering: .relaxed)
            health.kernelDrops[receiver.port, default: 0] += receiver.kernelDrops
            health.receiveQueues[receiver.port] = (receiver.queue, receiver.askedQueue)
        }
        health.diskFull = store.diskFull
        return health
    }

    /// The UDP ports the collector receives on.
    public var boundPorts: [UInt16] { sockets.withLock { $0.map(\.port) } }

    /// Binds a UDP socket on `host:port` (IPv4 or IPv6 literal) and starts receiving on it.
    /// Returns the bound port (useful with port 0). `receiveBuffer` is the kernel's queue for the
    /// socket in bytes.
    @discardableResult
    public func listen(host: String, port: UInt16, receiveBuffer: Int32 = 128 << 20) throws -> UInt16 {
        // The timeout only bounds how long a partly filled slab waits when traffic stops.
        let (fd, bound) = try UDPSocket.bind(host: host, port: port, receiveBuffer: receiveBuffer, timeout: 20_000)
        let receiver = Receiver(fd: fd, port: bound, queue: UDPSocket.receiveQueue(fd), askedQueue: Int(receiveBuffer))
        let started = stages.withLock { stage -> Bool in
            guard stage != .stopping else { return false }
            // Counted before the decoder starts: a decoder that found no receiver would end.
            handoff.receiverStarted()
            if stage == .idle {
                stage = .running
                startDecoder()
                startWriter()
            }
            return true
        }
        guard started else {
            close(fd)
            throw FlowSegment.Failure.io("the collector is stopping; cannot listen on", path: "\(host):\(port)", errno: ECANCELED)
        }
        sockets.withLock { $0.append(receiver) }
        let thread = Thread { [self] in
            qila_name_thread("qila-receive")  // as top -H and /proc show it
            receive(receiver)
        }
        thread.start()
        return bound
    }

    /// Stops receiving, stores everything received and waits for the three stages to end.
    public func stop() {
        let wasRunning = stages.withLock { stage -> Bool in
            defer { if stage != .idle { stage = .stopping } }
            return stage == .running
        }
        if wasRunning {
            // Wakes each receiver in recvmmsg; it takes what is queued, then ends.
            for receiver in sockets.withLock({ $0 }) { receiver.shutDown() }
        }
        finished.lock()
        while stages.withLock({ $0 }) == .stopping { finished.wait() }
        finished.unlock()
    }

    // MARK: Receiving

    /// One socket and what its receiving thread counts (read by `currentHealth`).
    final class Receiver: Sendable {
        let fd: Int32
        let port: UInt16
        let datagrams = Atomic<Int>(0)
        let overflow = Atomic<Int>(0)
        /// Whether the descriptor is still open, and the kernel's drop count read when it closed.
        private let state = Mutex<(open: Bool, finalDrops: Int)>((true, 0))
        /// Test seam: while held, the receiving thread waits before its next receive, so that a
        /// test can fill the kernel's queue. Never held in service.
        let held = Atomic<Bool>(false)
        /// Set while the receiving thread waits at the hold.
        let parked = Atomic<Bool>(false)
        let release = NSCondition()

        /// The receive queue the kernel granted, and the one asked for (bytes).
        let queue: Int
        let askedQueue: Int

        /// How long the receiving thread lets the kernel's queue fill once it has drained it
        /// (nanoseconds): 4 ms with a queue of 32 MiB or more (at 1.5 million flows a second,
        /// 240 datagrams, under 1 % of it), else 1 ms, so that a queue the kernel capped (4 MiB on
        /// Debian without `CAP_NET_ADMIN`) keeps its margin. Waking a quarter as often saved a
        /// fifth of the thread's system time at 900,000 flows a second (decision 0014, item 10).
        var pause: Int { queue >= 32 << 20 ? 4_000_000 : 1_000_000 }

        init(fd: Int32, port: UInt16, queue: Int, askedQueue: Int) {
            self.fd = fd
            self.port = port
            self.queue = queue
            self.askedQueue = askedQueue
        }

        /// The kernel's count of datagrams dropped on this socket (its queue was full).
        var kernelDrops: Int {
            state.withLock { state in state.open ? max(0, Int(qila_socket_drops(fd))) : state.finalDrops }
        }

        func shutDown() {
            state.withLock { state in
                if state.open { _ = shutdown(fd, Int32(SHUT_RD)) }
            }
        }

        func close() {
            state.withLock { state in
                guard state.open else { return }
                state.finalDrops = max(0, Int(qila_socket_drops(fd)))
                state.open = false
                _ = Glibc.close(fd)
            }
        }
    }

    /// Test seam: holds (or releases) the decoding thread before it next takes slabs.
    func holdDecoder(_ hold: Bool) { handoff.hold(hold) }

    /// Test seam: whether every receiving thread waits at the hold (one blocked in the kernel
    /// comes to it after its next datagram).
    var receiversParked: Bool { sockets.withLock { $0.allSatisfy { $0.parked.load(ordering: .sequentiallyConsistent) } } }

    /// Test seam: holds (or releases) every receiving thread before its next receive.
    func holdReceivers(_ hold: Bool) {
        for receiver in sockets.withLock({ $0 }) {
            receiver.release.lock()
            receiver.held.store(hold, ordering: .sequentiallyConsistent)
            receiver.release.broadcast()
            receiver.release.unlock()
        }
    }

    private func receive(_ receiver: Receiver) {
        let count = 64
        let size = 65_536
        let staging = UnsafeMutablePointer<UInt8>.allocate(capacity: count * size)
        let senders = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: count)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer {
            staging.deallocate()
            senders.deallocate()
            lengths.deallocate()
        }
        var slab: Slab? = handoff.takeFree()
        var closed: Int32 = 0
        var datagrams = 0
        var overflow = 0
        /// When the current slab got its first datagram (ms since 1970).
        var slabStarted: Int64 = 0
        while closed == 0 {
            if receiver.held.load(ordering: .relaxed) {
                receiver.release.lock()
                receiver.parked.store(true, ordering: .sequentiallyConsistent)
                while receiver.held.load(ordering: .sequentiallyConsistent) { receiver.release.wait() }
                receiver.parked.store(false, ordering: .sequentiallyConsistent)
                receiver.release.unlock()
            }
            let n = qila_udp_receive(receiver.fd, staging, size, UInt32(count), lengths, senders, &closed)
            if n < 0 {
                let error = errno
                guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                    // The socket is gone: nothing more can be received on it. Said in the health.
                    let reason = String(cString: strerror(error))
                    written.withLock { $0.lastError = "receiving on UDP \(receiver.port) stopped: \(reason)" }
                    break
                }
                // Nothing arrived for the socket's timeout: hand over what is held.
                if let current = slab, current.count > 0 {
                    handoff.put(current)
                    slab = handoff.takeFree()
                }
                if slab == nil { slab = handoff.takeFree() }
                continue
            }
            let now = FlowCollector.now()
            for i in 0..<Int(n) {
                let length = lengths[i]
                if let current = slab, !current.fits(length) {
                    handoff.put(current)
                    slab = handoff.takeFree()
                }
                if slab == nil { slab = handoff.takeFree() }
                guard let slab else {
                    overflow += 1
                    continue
                }
                if slab.count == 0 { slabStarted = now }
                slab.append(staging + i * size, length: length, sender: UDPSocket.address(senders + i), received: now)
            }
            datagrams += Int(n)
            receiver.datagrams.store(datagrams, ordering: .relaxed)
            receiver.overflow.store(overflow, ordering: .relaxed)
            // Slabs go over full, or once the kernel's queue is empty and the slab has held its
            // first datagram for 5 ms: the decoder wakes some hundred times a second, not once
            // per datagram, and a quiet exporter's flows are not held back.
            if n < count, let current = slab, current.count > 0, now - slabStarted >= 5 {
                handoff.put(current)
                slab = handoff.takeFree()
            }
            if slab == nil { slab = handoff.takeFree() }
            if n < count && closed == 0 {
                // The kernel's queue is drained: let it fill for a few milliseconds (a few dozen
                // to a few hundred datagrams at full rate, a sliver of the socket's buffer) instead
                // of waking for every datagram; thread switches cost more than the copies
                // (docs/benchmarks.md).
                var pause = timespec(tv_sec: 0, tv_nsec: receiver.pause)
                nanosleep(&pause, nil)
            }
        }
        if let slab {
            if slab.count > 0 { handoff.put(slab) } else { handoff.giveBack([slab]) }
        }
        receiver.close()
        handoff.receiverEnded()
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    // MARK: Decoding

    private func startDecoder() {
        let thread = Thread { [self] in
            qila_name_thread("qila-decode")  // as top -H and /proc show it
            decode()
        }
        thread.start()
    }

    private func decode() {
        var decoder = FlowDecoder()
        var records: [FlowRecord] = []
        records.reserveCapacity(64)
        // One batch per organisation, found by number: a datagram's exporter is looked up once
        // and the batch is decoded into in place.
        var batches: [(organisation: String, batch: FlowBatch)] = []
        var batchNumbers: [String: Int] = [:]
        /// The last exporter and domain seen, and the number of its organisation's batch.
        var last: (exporter: FlowAddress, domain: UInt32?, batch: Int)?
        var unknown: [FlowAddress: Int] = [:]
        var refused = 0
        let interval = Int64(durabilityInterval * 1000)
        var nextFlush = FlowCollector.now() + interval
        var registry = self.registry.withLock { $0 }
        var done: [Slab] = []
        while true {
            let (slabs, ended) = handoff.takeFull(until: nextFlush)
            let full = store.diskFull
            for slab in slabs {
                for entry in 0..<slab.count {
                    let (bytes, exporter, received) = slab[entry]
                    let domain = FlowCollector.domain(of: bytes)
                    let number: Int
                    if let last, last.exporter == exporter, last.domain == domain {
                        number = last.batch
                    } else {
                        guard let candidates = registry[exporter],
                            let registration = candidates.first(where: { $0.domain == nil || $0.domain == domain })
                        else {
                            unknown[exporter, default: 0] += 1
                            continue
                        }
                        if let known = batchNumbers[registration.organisation] {
                            number = known
                        } else {
                            number = batches.count
                            batches.append((registration.organisation, toWriter.takeSpare()))
                            batchNumbers[registration.organisation] = number
                        }
                        last = (exporter, domain, number)
                    }
                    if full {
                        // Decoded only to count what the full disk refuses.
                        records.removeAll(keepingCapacity: true)
                        decoder.decode(bytes, from: exporter, received: received, into: &records)
                        refused += records.count
                        continue
                    }
                    decoder.decode(bytes, from: exporter, received: received, into: &batches[number].batch)
                    // A batch goes to the writer before it would grow past a block's rows (its
                    // storage holds that many: it never grows, see `FlowBatch.Rows`) or number
                    // more exporters than its rows can hold.
                    if batches[number].batch.isFull {
                        toWriter.put(batches[number].organisation, &batches[number].batch, received: received)
                        batches[number].batch = toWriter.takeSpare()
                    }
                }
                slab.clear()
                done.append(slab)
            }
            if !done.isEmpty {
                handoff.giveBack(done)
                done.removeAll(keepingCapacity: true)
            }
            let now = FlowCollector.now()
            if now >= nextFlush || ended {
                for number in batches.indices {
                    if batches[number].batch.isEmpty {
                        toWriter.giveBack(&batches[number].batch)  // taken for datagrams that held no flow
                    } else {
                        toWriter.put(batches[number].organisation, &batches[number].batch, received: now)
                    }
                }
                batches.removeAll(keepingCapacity: true)
                batchNumbers.removeAll(keepingCapacity: true)
                last = nil
                nextFlush = now + interval
                let counters = decoder.counters
                decoded.withLock { published in
                    published.exporters = counters
                    for (address, n) in unknown where published.unknownExporters[address] != nil || published.unknownExporters.count < 1024 {
                        published.unknownExporters[address, default: 0] += n
                    }
                    published.refusedFlows += refused
                }
                unknown.removeAll()
                refused = 0
                registry = self.registry.withLock { $0 }
            }
            if ended { break }
        }
        toWriter.end()
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
        let thread = Thread { [self] in
            qila_name_thread("qila-write")  // as top -H and /proc show it
            write()
        }
        thread.start()
    }

    private func write() {
        // At normal priority, like the other stages (docs/decisions/0014, item 14): the receiver
        // sleeps between batches of datagrams and wins the processor when it wakes, while a writer
        // at nice 10 got a tenth of a core whenever it shared one with a busy process, fell
        // behind, and the hand-off overflowed behind it.
        var batch = FlowBatch()
        while let (organisation, received) = toWriter.take(into: &batch) {
            do {
                try store.append(batch, organisation: organisation, received: received)
                written.withLock {
                    $0.storedFlows += batch.count
                    $0.storedBlocks += 1
                }
            } catch {
                written.withLock {
                    $0.refusedFlows += batch.count
                    $0.lastError = "\(error)"
                }
            }
            toWriter.giveBack(&batch)
        }
        finished.lock()
        stages.withLock { $0 = .idle }
        finished.broadcast()
        finished.unlock()
    }
}

extension FlowCollector {
    enum Stages: Sendable { case idle, running, stopping }

    struct DecodedCounters: Sendable {
        var exporters: [FlowDecoder.Domain: FlowDecoder.Counters] = [:]
        var unknownExporters: [FlowAddress: Int] = [:]
        var refusedFlows = 0
    }

    struct WrittenCounters: Sendable {
        var storedFlows = 0
        var storedBlocks = 0
        var refusedFlows = 0
        var lastError: String?
    }

    /// Datagrams copied end to end into one allocation, with where each starts, its sender and
    /// when it arrived. A slab belongs to one stage at a time: the hand-off passes it on.
    final class Slab: @unchecked Sendable {
        static let capacity = 1 << 20
        static let entries = 1024
        private let bytes = UnsafeMutableRawPointer.allocate(byteCount: Slab.capacity, alignment: 16)
        private var used = 0
        private var starts: [Int] = []
        private var lengths: [Int] = []
        private var senders: [FlowAddress] = []
        private var times: [Int64] = []

        init() {
            starts.reserveCapacity(Slab.entries)
            lengths.reserveCapacity(Slab.entries)
            senders.reserveCapacity(Slab.entries)
            times.reserveCapacity(Slab.entries)
        }

        deinit { bytes.deallocate() }

        var count: Int { starts.count }

        /// Whether a datagram of `length` bytes still fits (one larger than a slab never does:
        /// it is cut to the slab's size, and the decoder reports it as truncated).
        func fits(_ length: Int) -> Bool {
            starts.count < Slab.entries && (used + length <= Slab.capacity || used == 0)
        }

        func append(_ datagram: UnsafeRawPointer, length: Int, sender: FlowAddress, received: Int64) {
            let kept = min(length, Slab.capacity - used)
            (bytes + used).copyMemory(from: datagram, byteCount: kept)
            starts.append(used)
            lengths.append(kept)
            senders.append(sender)
            times.append(received)
            used += kept
        }

        subscript(index: Int) -> (UnsafeRawBufferPointer, FlowAddress, Int64) {
            (UnsafeRawBufferPointer(start: bytes + starts[index], count: lengths[index]), senders[index], times[index])
        }

        func clear() {
            used = 0
            starts.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            senders.removeAll(keepingCapacity: true)
            times.removeAll(keepingCapacity: true)
        }
    }

    /// The bounded hand-off between the receivers and the decoder: a fixed set of slabs, each
    /// either free (a receiver may take it) or full (waiting for the decoder).
    final class Handoff: @unchecked Sendable {
        private let condition = NSCondition()
        private var free: [Slab]
        private var full: [Slab] = []
        private var receivers = 0
        /// Test seam (`holdDecoder`).
        private var held = false

        init(slabs: Int) {
            free = (0..<slabs).map { _ in Slab() }
        }

        func hold(_ hold: Bool) {
            condition.lock()
            held = hold
            condition.broadcast()
            condition.unlock()
        }

        func receiverStarted() {
            condition.lock()
            receivers += 1
            condition.unlock()
        }

        func receiverEnded() {
            condition.lock()
            receivers -= 1
            condition.broadcast()
            condition.unlock()
        }

        /// A free slab, or nil when every slab is waiting for the decoder (never waits).
        func takeFree() -> Slab? {
            condition.lock()
            defer { condition.unlock() }
            return free.popLast()
        }

        func put(_ slab: Slab) {
            condition.lock()
            full.append(slab)
            if !held { condition.signal() }
            condition.unlock()
        }

        func giveBack(_ slabs: [Slab]) {
            condition.lock()
            free.append(contentsOf: slabs)
            condition.unlock()
        }

        /// The full slabs in arrival order, waiting for some until `deadline` (ms since 1970);
        /// `ended` once every receiver has ended and nothing is left.
        func takeFull(until deadline: Int64) -> (slabs: [Slab], ended: Bool) {
            condition.lock()
            defer { condition.unlock() }
            while held { condition.wait() }
            while full.isEmpty && receivers > 0 {
                let wait = Double(deadline - FlowCollector.now()) / 1000
                if wait <= 0 { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: wait))
            }
            let taken = full
            full.removeAll(keepingCapacity: true)
            return (taken, taken.isEmpty && receivers == 0)
        }
    }

    /// Batches on their way from the decoder to the writer, and emptied batches coming back for
    /// reuse (so that the next second's flows are appended without growing arrays). Batches move
    /// in and out by swapping, so that each has one owner at a time and its storage is reused,
    /// not copied (a second reference would make emptying it allocate afresh).
    final class BatchQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var pending: [(organisation: String, batch: FlowBatch, received: Int64)] = []
        private var spare: [FlowBatch] = []
        private var ended = false

        /// Batches waiting for the writer beyond which `put` waits: a writer that falls behind
        /// holds the decoder back, and the hand-off in front of it fills and counts its overflow,
        /// instead of batches piling up in memory (each a second of flows, some 100 MB at
        /// 900,000 flows/s, mapped and zeroed afresh: at 1.5 million flows/s that alone took the
        /// decoding thread 19 s of system time in a 35 s run).
        static let pendingLimit = 2

        /// Queues `batch` for writing, waiting while `pendingLimit` batches already wait; the
        /// caller's batch is left empty.
        func put(_ organisation: String, _ batch: inout FlowBatch, received: Int64) {
            var moved = FlowBatch()
            swap(&moved, &batch)
            condition.lock()
            while pending.count >= BatchQueue.pendingLimit { condition.wait() }
            pending.append((organisation, moved, received))
            condition.broadcast()
            condition.unlock()
        }

        /// Waits for the next batch and swaps it into `batch`; nil once the decoder has ended
        /// and all are taken.
        func take(into batch: inout FlowBatch) -> (organisation: String, received: Int64)? {
            condition.lock()
            defer { condition.unlock() }
            while pending.isEmpty && !ended { condition.wait() }
            guard !pending.isEmpty else { return nil }
            swap(&batch, &pending[0].batch)
            let next = pending.removeFirst()
            condition.broadcast()  // a decoder waiting in `put`
            return (next.organisation, next.received)
        }

        func end() {
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }

        func takeSpare() -> FlowBatch {
            condition.lock()
            defer { condition.unlock() }
            return spare.popLast() ?? FlowBatch()
        }

        /// Keeps `batch`'s storage for reuse; the caller's batch is left empty.
        func giveBack(_ batch: inout FlowBatch) {
            batch.removeAll(keepingCapacity: true)
            var emptied = FlowBatch()
            swap(&emptied, &batch)
            condition.lock()
            if spare.count < 4 { spare.append(emptied) }
            condition.unlock()
        }
    }
}

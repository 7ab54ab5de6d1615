import CQilaSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Flows held until they are written as one block: the collector's decoding stage appends
/// decoded records here and the writing stage encodes the batch at each durability interval.
///
/// Rows, not columns: appending a flow is one append (fourteen column appends cost a quarter of
/// decoding), and the encoder reads each flow from two cache lines instead of from fourteen
/// arrays (docs/decisions/0014).
public struct FlowBatch: Sendable {
    /// One flow as the block encoder needs it (104 bytes).
    struct Row: Sendable {
        var source: FlowAddress
        var destination: FlowAddress
        /// `FlowAddress.zero` when the exporter reported no translation.
        var translatedSource: FlowAddress
        /// Milliseconds since 1970.
        var start: Int64
        var end: Int64
        var packets: UInt64
        var octets: UInt64
        var ingress: UInt32
        var egress: UInt32
        /// Protocol, TCP flags and type of service packed as `protocol << 16 | flags << 8 | tos`:
        /// they vary together, so one dictionary serves them.
        var protocolFlagsService: UInt32
        /// Index into `exporters`.
        var exporter: UInt32
        var sourcePort: UInt16
        var destinationPort: UInt16
        var translatedPort: UInt16
    }

    private var rows = Rows()
    /// Rows in use (the storage holds `rows.capacity`). Kept here, not in the shared storage, so
    /// that appending touches no class property (which Swift checks for exclusive access at run
    /// time) and copies sharing storage each keep their own count.
    public private(set) var count = 0
    public private(set) var exporters: [FlowDecoder.Domain] = []
    private var exporterIndex: [FlowDecoder.Domain: UInt32] = [:]
    public private(set) var hasTranslation = false
    /// The exporter of the records the decoder is appending (see `FlowSink`).
    private var currentExporter: UInt32 = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with the rows in the order they were appended.
    func withRows<Result>(_ body: (UnsafeBufferPointer<Row>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: rows.base, count: count))
    }

    /// Empties the batch and keeps its storage, so that the next second's flows are appended
    /// without growing (and faulting in fresh pages) on the decoding thread.
    public mutating func removeAll(keepingCapacity: Bool) {
        if !keepingCapacity { rows = Rows() } else if !isKnownUniquelyReferenced(&rows) { rows = Rows(capacity: rows.capacity) }
        count = 0
        exporters.removeAll(keepingCapacity: keepingCapacity)
        exporterIndex.removeAll(keepingCapacity: keepingCapacity)
        hasTranslation = false
        currentExporter = 0
    }

    /// The index of `domain` in `exporters`, adding it when new.
    public mutating func exporterNumber(_ domain: FlowDecoder.Domain) -> UInt32 {
        if let known = exporterIndex[domain] { return known }
        let number = UInt32(exporters.count)
        exporters.append(domain)
        exporterIndex[domain] = number
        return number
    }

    @inline(__always)
    public mutating func append(_ record: FlowRecord, exporter number: UInt32) {
        let translated = record.translatedSource ?? .zero
        if translated != .zero || record.translatedSourcePort != nil { hasTranslation = true }
        if count == rows.capacity || !isKnownUniquelyReferenced(&rows) {
            rows = rows.copy(count, capacity: count == rows.capacity ? max(rows.capacity * 2, FlowBlock.maximumRows) : rows.capacity)
        }
        (rows.base! + count).initialize(
            to: Row(
                source: record.source, destination: record.destination, translatedSource: translated, start: record.start,
                end: record.end, packets: record.packets, octets: record.octets, ingress: record.ingressInterface,
                egress: record.egressInterface,
                protocolFlagsService: UInt32(record.protocolNumber) << 16 | UInt32(record.tcpFlags) << 8 | UInt32(record.typeOfService),
                exporter: number, sourcePort: record.sourcePort, destinationPort: record.destinationPort,
                translatedPort: record.translatedSourcePort ?? 0))
        count += 1
    }

    public mutating func append(_ record: FlowRecord, from domain: FlowDecoder.Domain) {
        append(record, exporter: exporterNumber(domain))
    }

    public mutating func removeAll() {
        self = FlowBatch()
    }
}

extension FlowBatch {
    /// The rows' storage, shared between copies of a batch until one of them changes (copy on
    /// write, as an array's). Not an array: an array grows by copying its rows into fresh memory,
    /// and fresh memory is what costs here: every page's first touch is a fault and a page the
    /// kernel zeroes. The storage is mapped at its full size, a block's most rows (436 MB of
    /// address space), and only the pages rows are written to are ever touched: a batch costs
    /// the memory of the most rows it has held, once, and never grows or copies.
    ///
    /// Small pages on purpose: the rows are written and read in order, so huge pages would save
    /// few TLB misses, and on the virtual machines the benchmark runs on a huge page's first
    /// touch costs 5 to 13 times a small page's, per byte (docs/decisions/0014, item 15).
    final class Rows: @unchecked Sendable {
        let base: UnsafeMutablePointer<Row>?
        let capacity: Int
        private let bytes: Int

        init(capacity: Int = 0) {
            guard capacity > 0 else {
                (base, self.capacity, bytes) = (nil, 0, 0)
                return
            }
            bytes = capacity * MemoryLayout<Row>.stride
            guard
                let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                mapped != MAP_FAILED
            else { fatalError("cannot map \(bytes) bytes for a batch of flows (errno \(errno))") }
            base = mapped.bindMemory(to: Row.self, capacity: capacity)
            self.capacity = capacity
        }

        deinit { if let base { munmap(base, bytes) } }

        /// A copy of the first `count` rows in storage for `capacity` rows.
        func copy(_ count: Int, capacity: Int) -> Rows {
            let copy = Rows(capacity: Swift.max(capacity, count))
            if count > 0 { copy.base!.initialize(from: base!, count: count) }
            return copy
        }
    }
}

extension FlowBatch: FlowSink {
    mutating func begin(_ domain: FlowDecoder.Domain) { currentExporter = exporterNumber(domain) }
    mutating func accept(_ record: FlowRecord) { append(record, exporter: currentExporter) }
    var accepted: Int { count }
}

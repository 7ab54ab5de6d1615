import CQilaSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Flows held until they are written as one block: the collector's decoding stage appends
/// decoded records here and the writing stage encodes the batch at each durability interval.
///
/// Rows, not columns: appending a flow is one append (fourteen column appends cost a quarter of
/// decoding), and the encoder reads each flow from one cache line instead of from fourteen
/// arrays (docs/decisions/0014).
public struct FlowBatch: Sendable {
    /// One flow as the block encoder needs it, in one cache line (64 bytes). An IPv4 address is
    /// its 32 bits; an IPv6 address (marked in `kinds`) is its place in the batch's
    /// `addressesV6`. IPv4 flows are the many, and 40 bytes a flow less (against three 16-byte
    /// addresses) is that much less memory for the decoder to write and the encoder to read twice,
    /// and fewer fresh pages, which cost most on the benchmark's machine (decision 0014, item 18).
    struct Row: Sendable {
        /// Milliseconds since 1970.
        var start: Int64
        var end: Int64
        var packets: UInt64
        var octets: UInt64
        var source: UInt32
        var destination: UInt32
        /// Meaningful when `kinds` has `Row.translated`.
        var translatedSource: UInt32
        var ingress: UInt32
        var egress: UInt32
        /// Protocol, TCP flags and type of service packed as `protocol << 16 | flags << 8 | tos`
        /// (they vary together, so one dictionary serves them) in the low 24 bits; `kinds` above.
        private var protocolFlagsServiceAndKinds: UInt32
        /// Index into `exporters`.
        var exporter: UInt16
        var sourcePort: UInt16
        var destinationPort: UInt16
        var translatedPort: UInt16

        static let sourceV6: UInt8 = 1, destinationV6: UInt8 = 2, translatedV6: UInt8 = 4, translated: UInt8 = 8

        init(
            start: Int64, end: Int64, packets: UInt64, octets: UInt64, source: UInt32, destination: UInt32, translatedSource: UInt32,
            ingress: UInt32, egress: UInt32, protocolFlagsService: UInt32, kinds: UInt8, exporter: UInt16, sourcePort: UInt16,
            destinationPort: UInt16, translatedPort: UInt16
        ) {
            (self.start, self.end, self.packets, self.octets) = (start, end, packets, octets)
            (self.source, self.destination, self.translatedSource) = (source, destination, translatedSource)
            (self.ingress, self.egress) = (ingress, egress)
            protocolFlagsServiceAndKinds = protocolFlagsService & 0xFF_FFFF | UInt32(kinds) << 24
            (self.exporter, self.sourcePort, self.destinationPort, self.translatedPort) = (exporter, sourcePort, destinationPort, translatedPort)
        }

        var protocolFlagsService: UInt32 { protocolFlagsServiceAndKinds & 0xFF_FFFF }
        /// Which addresses are IPv6 (`sourceV6`, `destinationV6`, `translatedV6`) and whether the
        /// exporter reported a translated source (`translated`).
        var kinds: UInt8 { UInt8(truncatingIfNeeded: protocolFlagsServiceAndKinds >> 24) }
    }

    /// Exporters a batch can number (a row holds its exporter's number in 16 bits); the collector
    /// hands a batch to the writer before it would number more (`isFull`).
    public static let maximumExporters = 1 << 16

    private var rows = Rows()
    /// Rows in use (the storage holds `rows.capacity`). Kept here, not in the shared storage, so
    /// that appending touches no class property (which Swift checks for exclusive access at run
    /// time) and copies sharing storage each keep their own count.
    public private(set) var count = 0
    public private(set) var exporters: [FlowDecoder.Domain] = []
    /// The IPv6 addresses of the rows, where their rows point.
    private(set) var addressesV6: [FlowAddress] = []
    private var exporterIndex: [FlowDecoder.Domain: UInt32] = [:]
    public private(set) var hasTranslation = false
    /// The exporter of the records the decoder is appending (see `FlowSink`).
    private var currentExporter: UInt32 = 0
    /// Rows the storage holds while it is known to be this batch's own: set by `begin` for the
    /// decoder's records (see `FlowSink`), 0 otherwise.
    private var ownedRows = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Whether the batch should go to the writer before the next datagram is decoded into it:
    /// another datagram could bring more rows than a block holds (a datagram holds at most some
    /// 65,000 flows) or a new exporter past those a row can number.
    public var isFull: Bool { count >= FlowBlock.maximumRows - 65_536 || exporters.count >= FlowBatch.maximumExporters - 1 }

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
        addressesV6.removeAll(keepingCapacity: keepingCapacity)
        exporterIndex.removeAll(keepingCapacity: keepingCapacity)
        hasTranslation = false
        currentExporter = 0
        ownedRows = 0
    }

    /// The index of `domain` in `exporters`, adding it when new.
    public mutating func exporterNumber(_ domain: FlowDecoder.Domain) -> UInt32 {
        if let known = exporterIndex[domain] { return known }
        precondition(exporters.count < FlowBatch.maximumExporters, "a batch numbers at most \(FlowBatch.maximumExporters) exporters")
        let number = UInt32(exporters.count)
        exporters.append(domain)
        exporterIndex[domain] = number
        return number
    }

    @inline(__always)
    public mutating func append(_ record: FlowRecord, exporter number: UInt32) {
        makeRoom()
        write(record, exporter: number)
    }

    /// Makes the rows' storage this batch's own, with room for a row.
    @inline(__always)
    private mutating func makeRoom() {
        if count == rows.capacity || !isKnownUniquelyReferenced(&rows) {
            rows = rows.copy(count, capacity: count == rows.capacity ? max(rows.capacity * 2, FlowBlock.maximumRows) : rows.capacity)
        }
    }

    /// Writes a row into storage `makeRoom` has made this batch's own and large enough.
    @inline(__always)
    private mutating func write(_ record: FlowRecord, exporter number: UInt32) {
        let translated = record.translatedSource ?? .zero
        if translated != .zero || record.translatedSourcePort != nil { hasTranslation = true }
        var kinds: UInt8 = 0
        let source = compact(record.source, kinds: &kinds, v6: Row.sourceV6)
        let destination = compact(record.destination, kinds: &kinds, v6: Row.destinationV6)
        var translatedSource: UInt32 = 0
        if translated != .zero {
            kinds |= Row.translated
            translatedSource = compact(translated, kinds: &kinds, v6: Row.translatedV6)
        }
        (rows.base! + count).initialize(
            to: Row(
                start: record.start, end: record.end, packets: record.packets, octets: record.octets, source: source,
                destination: destination, translatedSource: translatedSource, ingress: record.ingressInterface,
                egress: record.egressInterface,
                protocolFlagsService: UInt32(record.protocolNumber) << 16 | UInt32(record.tcpFlags) << 8 | UInt32(record.typeOfService),
                kinds: kinds, exporter: UInt16(truncatingIfNeeded: number), sourcePort: record.sourcePort,
                destinationPort: record.destinationPort, translatedPort: record.translatedSourcePort ?? 0))
        count += 1
    }

    /// An address as a row holds it: an IPv4 address's 32 bits, else (marked `v6` in `kinds`)
    /// its place in `addressesV6`.
    @inline(__always)
    private mutating func compact(_ address: FlowAddress, kinds: inout UInt8, v6: UInt8) -> UInt32 {
        if address.isIPv4 { return UInt32(truncatingIfNeeded: address.low) }
        kinds |= v6
        addressesV6.append(address)
        return UInt32(addressesV6.count - 1)
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
    /// kernel zeroes. The storage is mapped at its full size, a block's most rows (268 MB of
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
    /// The decoder calls this before each data set's records: the storage is made this batch's
    /// own here, once, and `accept` then only checks that a row fits (a runtime call for every
    /// record was 1 % of the collector's time). The batch is the decoder's `inout` argument from
    /// here to the set's last record, so no copy can come to share the storage in between.
    mutating func begin(_ domain: FlowDecoder.Domain) {
        currentExporter = exporterNumber(domain)
        makeRoom()
        ownedRows = rows.capacity
    }

    @inline(__always)
    mutating func accept(_ record: FlowRecord) {
        if count < ownedRows {
            write(record, exporter: currentExporter)
        } else {
            append(record, exporter: currentExporter)
            ownedRows = rows.capacity
        }
    }

    var accepted: Int { count }
}

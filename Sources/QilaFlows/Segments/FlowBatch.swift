import CQilaSystem

/// Flows held until they are written as one block: the collector's decoding stage appends
/// decoded records here and the writing stage encodes the batch at each durability interval.
///
/// Rows, not columns: appending a flow is one append (fourteen column appends cost a quarter of
/// decoding), and the encoder, which visits the rows in the block's sorted order, reads each
/// flow from two cache lines instead of from fourteen arrays (docs/decisions/0014).
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

    private(set) var rows: [Row] = []
    public private(set) var exporters: [FlowDecoder.Domain] = []
    private var exporterIndex: [FlowDecoder.Domain: UInt32] = [:]
    public private(set) var hasTranslation = false
    /// The exporter of the records the decoder is appending (see `FlowSink`).
    private var currentExporter: UInt32 = 0

    public init() {}

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }
    /// Rows the batch holds without growing.
    var capacity: Int { rows.capacity }

    public mutating func reserve(_ capacity: Int) {
        guard capacity > rows.capacity else { return }
        rows.reserveCapacity(capacity)
        // The encoder reads the rows in its own order: with huge pages that costs a cache miss
        // a row, not a cache miss and a page walk.
        let bytes = rows.capacity * MemoryLayout<Row>.stride
        rows.withUnsafeBufferPointer { rows in
            if let base = rows.baseAddress { qila_advise_huge_pages(UnsafeMutableRawPointer(mutating: base), bytes) }
        }
    }

    /// Empties the batch and keeps its storage, so that the next second's flows are appended
    /// without growing arrays (and faulting in fresh pages) on the decoding thread.
    public mutating func removeAll(keepingCapacity: Bool) {
        rows.removeAll(keepingCapacity: keepingCapacity)
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
        if rows.count == rows.capacity { reserve(max(rows.capacity * 2, 1 << 16)) }
        rows.append(
            Row(
                source: record.source, destination: record.destination, translatedSource: translated, start: record.start,
                end: record.end, packets: record.packets, octets: record.octets, ingress: record.ingressInterface,
                egress: record.egressInterface,
                protocolFlagsService: UInt32(record.protocolNumber) << 16 | UInt32(record.tcpFlags) << 8 | UInt32(record.typeOfService),
                exporter: number, sourcePort: record.sourcePort, destinationPort: record.destinationPort,
                translatedPort: record.translatedSourcePort ?? 0))
    }

    public mutating func append(_ record: FlowRecord, from domain: FlowDecoder.Domain) {
        append(record, exporter: exporterNumber(domain))
    }

    public mutating func removeAll() {
        self = FlowBatch()
    }
}

extension FlowBatch: FlowSink {
    mutating func begin(_ domain: FlowDecoder.Domain) { currentExporter = exporterNumber(domain) }
    mutating func accept(_ record: FlowRecord) { append(record, exporter: currentExporter) }
    var accepted: Int { count }
}

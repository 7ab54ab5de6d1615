/// Flows held column by column until they are written as one block: the collector appends
/// decoded records here and the segment writer encodes the batch at each durability interval.
public struct FlowBatch: Sendable {
    public private(set) var start: [Int64] = []
    public private(set) var end: [Int64] = []
    public private(set) var source: [FlowAddress] = []
    public private(set) var destination: [FlowAddress] = []
    public private(set) var sourcePort: [UInt16] = []
    public private(set) var destinationPort: [UInt16] = []
    /// Protocol, TCP flags and type of service packed as `protocol << 16 | flags << 8 | tos`:
    /// they vary together, so one dictionary serves them.
    public private(set) var protocolFlagsService: [UInt32] = []
    public private(set) var ingress: [UInt32] = []
    public private(set) var egress: [UInt32] = []
    public private(set) var packets: [UInt64] = []
    public private(set) var octets: [UInt64] = []
    /// `FlowAddress.zero` when the exporter reported no translation.
    public private(set) var translatedSource: [FlowAddress] = []
    public private(set) var translatedPort: [UInt16] = []
    /// Index into `exporters`.
    public private(set) var exporter: [UInt32] = []
    public private(set) var exporters: [FlowDecoder.Domain] = []
    private var exporterIndex: [FlowDecoder.Domain: UInt32] = [:]
    public private(set) var hasTranslation = false
    /// The exporter of the records the decoder is appending (see `FlowSink`).
    private var currentExporter: UInt32 = 0

    public init() {}

    public var count: Int { start.count }
    public var isEmpty: Bool { start.isEmpty }

    public mutating func reserve(_ capacity: Int) {
        start.reserveCapacity(capacity)
        end.reserveCapacity(capacity)
        source.reserveCapacity(capacity)
        destination.reserveCapacity(capacity)
        sourcePort.reserveCapacity(capacity)
        destinationPort.reserveCapacity(capacity)
        protocolFlagsService.reserveCapacity(capacity)
        ingress.reserveCapacity(capacity)
        egress.reserveCapacity(capacity)
        packets.reserveCapacity(capacity)
        octets.reserveCapacity(capacity)
        translatedSource.reserveCapacity(capacity)
        translatedPort.reserveCapacity(capacity)
        exporter.reserveCapacity(capacity)
    }

    /// Empties the batch and keeps its storage, so that the next second's flows are appended
    /// without growing arrays (and faulting in fresh pages) on the receiving thread.
    public mutating func removeAll(keepingCapacity: Bool) {
        start.removeAll(keepingCapacity: keepingCapacity)
        end.removeAll(keepingCapacity: keepingCapacity)
        source.removeAll(keepingCapacity: keepingCapacity)
        destination.removeAll(keepingCapacity: keepingCapacity)
        sourcePort.removeAll(keepingCapacity: keepingCapacity)
        destinationPort.removeAll(keepingCapacity: keepingCapacity)
        protocolFlagsService.removeAll(keepingCapacity: keepingCapacity)
        ingress.removeAll(keepingCapacity: keepingCapacity)
        egress.removeAll(keepingCapacity: keepingCapacity)
        packets.removeAll(keepingCapacity: keepingCapacity)
        octets.removeAll(keepingCapacity: keepingCapacity)
        translatedSource.removeAll(keepingCapacity: keepingCapacity)
        translatedPort.removeAll(keepingCapacity: keepingCapacity)
        exporter.removeAll(keepingCapacity: keepingCapacity)
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
        start.append(record.start)
        end.append(record.end)
        source.append(record.source)
        destination.append(record.destination)
        sourcePort.append(record.sourcePort)
        destinationPort.append(record.destinationPort)
        protocolFlagsService.append(UInt32(record.protocolNumber) << 16 | UInt32(record.tcpFlags) << 8 | UInt32(record.typeOfService))
        ingress.append(record.ingressInterface)
        egress.append(record.egressInterface)
        packets.append(record.packets)
        octets.append(record.octets)
        let translated = record.translatedSource ?? .zero
        translatedSource.append(translated)
        translatedPort.append(record.translatedSourcePort ?? 0)
        if translated != .zero || record.translatedSourcePort != nil { hasTranslation = true }
        exporter.append(number)
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

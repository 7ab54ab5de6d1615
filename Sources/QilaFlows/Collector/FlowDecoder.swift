/// Decodes NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams into flow records.
///
/// A pure state machine: it holds the templates each exporter announced (per exporter address,
/// observation domain or source id, and template id) and each exporter's counters, and does no
/// I/O, so it is tested and fuzzed without sockets. Every read is bounds-checked: a truncated or
/// malformed datagram is counted against its exporter with the reason, and never crashes the
/// collector; the valid sets before the fault in it are kept.
public struct FlowDecoder: Sendable {
    /// Where datagrams come from: the exporter's address and its observation domain (IPFIX) or
    /// source id (v9); 0 for v5.
    public struct Domain: Sendable, Hashable {
        public var exporter: FlowAddress
        public var domain: UInt32

        public init(exporter: FlowAddress, domain: UInt32) {
            self.exporter = exporter
            self.domain = domain
        }
    }

    /// What went wrong with a datagram or a set in it.
    public enum Fault: String, Sendable, Hashable, CaseIterable {
        case truncated = "shorter than its header says"
        case unknownVersion = "not NetFlow v5, v9 or IPFIX"
        case badLength = "a length field is impossible"
        case badTemplate = "a template is malformed"
        case unknownTemplate = "data for a template not (yet) announced"
        case tooManyTemplates = "more templates than the limit per exporter"
    }

    /// Counters per exporter and domain.
    public struct Counters: Sendable, Hashable {
        public var datagrams = 0
        public var records = 0
        public var templates = 0
        public var withdrawals = 0
        /// Records (v5, IPFIX) or export packets (v9) missing by the sequence numbers.
        public var lost = 0
        /// Datagrams that arrived with a sequence number already passed (reordered or repeated).
        public var outOfOrder = 0
        public var faults: [Fault: Int] = [:]
        /// Data sets skipped because their template is unknown (not yet announced, or withdrawn).
        public var unknownTemplateSets: Int { faults[.unknownTemplate] ?? 0 }
    }

    struct TemplateKey: Hashable {
        var domain: Domain
        var id: UInt16
    }

    /// A template compiled to what each field becomes.
    struct Template: Sendable {
        var fields: [Field]
        /// For a fixed-length template, where each kept field sits: the fast path reads these
        /// and nothing else.
        var plan: Plan?
        /// Bytes per record, or nil when a field has variable length.
        var fixedLength: Int?
        /// The smallest record, for telling padding from a record.
        var minimumLength: Int
        var isOptions: Bool
    }

    struct Field: Sendable {
        var element: Element
        /// Length in the record, or 65535 for variable length (IPFIX).
        var length: Int
    }

    /// The information elements a flow record keeps (RFC 7012 numbers; v9 uses the same for these).
    enum Element: Sendable {
        case octets, packets, protocolNumber, typeOfService, tcpFlags
        case sourcePort, destinationPort, sourceIPv4, destinationIPv4, sourceIPv6, destinationIPv6
        case ingress, egress
        case startUptime, endUptime
        case startSeconds, endSeconds, startMilliseconds, endMilliseconds
        case startMicroseconds, endMicroseconds, startNanoseconds, endNanoseconds
        case systemInitMilliseconds
        case translatedSourceIPv4, translatedSourceIPv6, translatedSourcePort
        case other

        init(id: UInt16, enterprise: UInt32?) {
            guard enterprise == nil else {
                self = .other
                return
            }
            switch id {
            case 1: self = .octets
            case 2: self = .packets
            case 4: self = .protocolNumber
            case 5: self = .typeOfService
            case 6: self = .tcpFlags
            case 7: self = .sourcePort
            case 8: self = .sourceIPv4
            case 10: self = .ingress
            case 11: self = .destinationPort
            case 12: self = .destinationIPv4
            case 14: self = .egress
            case 21: self = .endUptime
            case 22: self = .startUptime
            case 27: self = .sourceIPv6
            case 28: self = .destinationIPv6
            case 150: self = .startSeconds
            case 151: self = .endSeconds
            case 152: self = .startMilliseconds
            case 153: self = .endMilliseconds
            case 154: self = .startMicroseconds
            case 155: self = .endMicroseconds
            case 156: self = .startNanoseconds
            case 157: self = .endNanoseconds
            case 160: self = .systemInitMilliseconds
            case 225: self = .translatedSourceIPv4
            case 281: self = .translatedSourceIPv6
            case 227: self = .translatedSourcePort
            default: self = .other
            }
        }
    }

    /// At most this many templates per exporter and domain, so that a hostile exporter cannot
    /// grow the collector's memory.
    public var templateLimit = 4096

    public private(set) var counters: [Domain: Counters] = [:]
    private var templates: [TemplateKey: Template] = [:]
    private var templateCounts: [Domain: Int] = [:]
    /// The sequence number expected next per domain.
    private var expected: [Domain: UInt32] = [:]

    public init() {}

    /// Decodes one datagram from `exporter`, appending its flows to `records`. `received` (ms
    /// since 1970) stands in for times the datagram cannot give. Returns the fault that ended
    /// decoding early, if any (also counted).
    @discardableResult
    public mutating func decode(_ datagram: UnsafeRawBufferPointer, from exporter: FlowAddress, received: Int64, into records: inout [FlowRecord]) -> Fault? {
        decode(datagram, exporter, received, &records)
    }

    /// Decodes one datagram from `exporter` straight into `batch` (as the collector does, without
    /// a record array in between). Returns the fault that ended decoding early, if any.
    @discardableResult
    public mutating func decode(_ datagram: UnsafeRawBufferPointer, from exporter: FlowAddress, received: Int64, into batch: inout FlowBatch) -> Fault? {
        decode(datagram, exporter, received, &batch)
    }

    private mutating func decode<Sink: FlowSink>(_ datagram: UnsafeRawBufferPointer, _ exporter: FlowAddress, _ received: Int64, _ sink: inout Sink) -> Fault? {
        var reader = Reader(datagram)
        guard let version = reader.u16(at: 0) else {
            return fault(.truncated, Domain(exporter: exporter, domain: 0))
        }
        switch version {
        case 5: return decodeV5(&reader, exporter, &sink)
        case 9: return decodeV9(&reader, exporter, received, &sink)
        case 10: return decodeIPFIX(&reader, exporter, &sink)
        default: return fault(.unknownVersion, Domain(exporter: exporter, domain: 0))
        }
    }

    /// Convenience for tests and small callers.
    public mutating func decode(_ datagram: [UInt8], from exporter: FlowAddress, received: Int64 = 0) -> (records: [FlowRecord], fault: Fault?) {
        var records: [FlowRecord] = []
        let fault = datagram.withUnsafeBytes { decode($0, from: exporter, received: received, into: &records) }
        return (records, fault)
    }

    private mutating func fault(_ fault: Fault, _ domain: Domain) -> Fault {
        counters[domain, default: Counters()].faults[fault, default: 0] += 1
        return fault
    }

    // MARK: NetFlow v5

    private mutating func decodeV5<Sink: FlowSink>(_ reader: inout Reader, _ exporter: FlowAddress, _ records: inout Sink) -> Fault? {
        let domain = Domain(exporter: exporter, domain: 0)
        counters[domain, default: Counters()].datagrams += 1
        guard let count = reader.u16(at: 2), let uptime = reader.u32(at: 4), let seconds = reader.u32(at: 8),
            let nanoseconds = reader.u32(at: 12), let sequence = reader.u32(at: 16)
        else { return fault(.truncated, domain) }
        guard count <= 30 else { return fault(.badLength, domain) }
        guard reader.count >= 24 + Int(count) * 48 else { return fault(.truncated, domain) }
        track(sequence, advance: UInt32(count), domain)
        // Router uptime ms at export time ↔ wall clock ms at export time.
        let exportTime = Int64(seconds) * 1000 + Int64(nanoseconds / 1_000_000)
        records.begin(domain)
        for index in 0..<Int(count) {
            let at = 24 + index * 48
            var record = FlowRecord()
            record.source = FlowAddress(ipv4: reader.u32(at: at)!)
            record.destination = FlowAddress(ipv4: reader.u32(at: at + 4)!)
            record.ingressInterface = UInt32(reader.u16(at: at + 12)!)
            record.egressInterface = UInt32(reader.u16(at: at + 14)!)
            record.packets = UInt64(reader.u32(at: at + 16)!)
            record.octets = UInt64(reader.u32(at: at + 20)!)
            record.start = exportTime - Int64(uptime &- reader.u32(at: at + 24)!)
            record.end = exportTime - Int64(uptime &- reader.u32(at: at + 28)!)
            record.sourcePort = reader.u16(at: at + 32)!
            record.destinationPort = reader.u16(at: at + 34)!
            record.tcpFlags = reader.u8(at: at + 37)!
            record.protocolNumber = reader.u8(at: at + 38)!
            record.typeOfService = reader.u8(at: at + 39)!
            records.accept(record)
        }
        counters[domain]!.records += Int(count)
        return nil
    }

    /// Counts records or packets missing between the sequence number expected and the one
    /// received; serial-number arithmetic, so the wrap at 2^32 is not a loss.
    private mutating func track(_ sequence: UInt32, advance: UInt32, _ domain: Domain) {
        if let next = expected[domain] {
            let gap = Int32(bitPattern: sequence &- next)
            if gap > 0 {
                counters[domain]!.lost += Int(gap)
            } else if gap < 0 {
                counters[domain]!.outOfOrder += 1
                return  // keep expecting the later number
            }
        }
        expected[domain] = sequence &+ advance
    }

    // MARK: NetFlow v9

    private mutating func decodeV9<Sink: FlowSink>(_ reader: inout Reader, _ exporter: FlowAddress, _ received: Int64, _ records: inout Sink) -> Fault? {
        guard let uptime = reader.u32(at: 4), let seconds = reader.u32(at: 8), let sequence = reader.u32(at: 12),
            let source = reader.u32(at: 16)
        else { return fault(.truncated, Domain(exporter: exporter, domain: 0)) }
        let domain = Domain(exporter: exporter, domain: source)
        counters[domain, default: Counters()].datagrams += 1
        // v9 numbers export packets, not records.
        track(sequence, advance: 1, domain)
        let clock = TimeBase(exportMilliseconds: Int64(seconds) * 1000, uptimeMilliseconds: Int64(uptime), received: received)
        var offset = 20
        while offset + 4 <= reader.count {
            let id = reader.u16(at: offset)!
            let length = Int(reader.u16(at: offset + 2)!)
            guard length >= 4, offset + length <= reader.count else { return fault(.badLength, domain) }
            let body = offset + 4..<offset + length
            switch id {
            case 0: if let problem = templates(&reader, body, domain, ipfix: false, options: false) { return problem }
            case 1: if let problem = templates(&reader, body, domain, ipfix: false, options: true) { return problem }
            case 2...255: break  // reserved: skipped
            default: data(&reader, body, TemplateKey(domain: domain, id: id), clock, &records)
            }
            offset += length
        }
        return nil
    }

    // MARK: IPFIX

    private mutating func decodeIPFIX<Sink: FlowSink>(_ reader: inout Reader, _ exporter: FlowAddress, _ records: inout Sink) -> Fault? {
        guard let length = reader.u16(at: 2), let seconds = reader.u32(at: 4), let sequence = reader.u32(at: 8),
            let observationDomain = reader.u32(at: 12)
        else { return fault(.truncated, Domain(exporter: exporter, domain: 0)) }
        let domain = Domain(exporter: exporter, domain: observationDomain)
        counters[domain, default: Counters()].datagrams += 1
        guard Int(length) >= 16 else { return fault(.badLength, domain) }
        guard Int(length) <= reader.count else { return fault(.truncated, domain) }
        reader.count = Int(length)  // bytes after the message are not part of it
        let recordsBefore = records.accepted
        let clock = TimeBase(exportMilliseconds: Int64(seconds) * 1000, uptimeMilliseconds: nil, received: Int64(seconds) * 1000)
        var offset = 16
        var problem: Fault?
        while offset + 4 <= reader.count {
            let id = reader.u16(at: offset)!
            let setLength = Int(reader.u16(at: offset + 2)!)
            guard setLength >= 4, offset + setLength <= reader.count else {
                problem = fault(.badLength, domain)
                break
            }
            let body = offset + 4..<offset + setLength
            switch id {
            case 2:
                if let fault = templates(&reader, body, domain, ipfix: true, options: false) { problem = fault }
            case 3:
                if let fault = templates(&reader, body, domain, ipfix: true, options: true) { problem = fault }
            case 0...255: break  // reserved (0, 1: NetFlow v9 ids; 4-255: not used): skipped
            default: data(&reader, body, TemplateKey(domain: domain, id: id), clock, &records)
            }
            if problem != nil { break }
            offset += setLength
        }
        // IPFIX numbers data records (RFC 7011 3.1), counted before this message's.
        track(sequence, advance: UInt32(truncatingIfNeeded: records.accepted - recordsBefore), domain)
        return problem
    }

    // MARK: templates

    /// Reads the template records of a set. v9: (id, count, [type, length]); v9 options: (id,
    /// scope length, option length, fields); IPFIX: (id, count, [id|enterprise bit, length,
    /// enterprise?]), options with a scope count after the field count; field count 0 withdraws.
    private mutating func templates(_ reader: inout Reader, _ body: Range<Int>, _ domain: Domain, ipfix: Bool, options: Bool) -> Fault? {
        var offset = body.lowerBound
        // A set may end with padding shorter than a template header.
        while offset + 4 <= body.upperBound {
            let id = reader.u16(at: offset)!
            var fieldCount: Int
            var next = offset + 4
            if !ipfix && options {
                guard offset + 6 <= body.upperBound else { return fault(.badTemplate, domain) }
                let scopeLength = Int(reader.u16(at: offset + 2)!)
                let optionLength = Int(reader.u16(at: offset + 4)!)
                guard scopeLength % 4 == 0, optionLength % 4 == 0 else { return fault(.badTemplate, domain) }
                fieldCount = (scopeLength + optionLength) / 4
                next = offset + 6
            } else {
                fieldCount = Int(reader.u16(at: offset + 2)!)
                if ipfix && options {
                    if fieldCount > 0 {
                        guard offset + 6 <= body.upperBound, let scopeCount = reader.u16(at: offset + 4),
                            scopeCount > 0, Int(scopeCount) <= fieldCount
                        else { return fault(.badTemplate, domain) }
                    }
                    next = offset + (fieldCount == 0 ? 4 : 6)
                }
            }
            // Zero bytes at the end of a set are padding, not a template.
            if id < 256 && fieldCount == 0 && !(ipfix && (id == 2 || id == 3)) { break }
            if ipfix && fieldCount == 0 {
                // Withdrawal: of one template, or of all (id = the set id) in this domain.
                if id == 2 || id == 3 {
                    let withdrawn = templates.keys.filter { $0.domain == domain && (templates[$0]!.isOptions == (id == 3)) }
                    for key in withdrawn { templates[key] = nil }
                    templateCounts[domain, default: 0] -= withdrawn.count
                } else if templates.removeValue(forKey: TemplateKey(domain: domain, id: id)) != nil {
                    templateCounts[domain, default: 0] -= 1
                }
                counters[domain, default: Counters()].withdrawals += 1
                offset = next
                continue
            }
            guard id >= 256, fieldCount > 0 else { return fault(.badTemplate, domain) }
            var fields: [Field] = []
            fields.reserveCapacity(fieldCount)
            var at = next
            for _ in 0..<fieldCount {
                guard at + 4 <= body.upperBound else { return fault(.badTemplate, domain) }
                var element = reader.u16(at: at)!
                let length = Int(reader.u16(at: at + 2)!)
                at += 4
                var enterprise: UInt32?
                if ipfix && element & 0x8000 != 0 {
                    guard at + 4 <= body.upperBound else { return fault(.badTemplate, domain) }
                    enterprise = reader.u32(at: at)!
                    element &= 0x7FFF
                    at += 4
                }
                guard length > 0, length != 65535 || ipfix else { return fault(.badTemplate, domain) }
                fields.append(Field(element: Element(id: element, enterprise: enterprise), length: length))
            }
            let variable = fields.contains { $0.length == 65535 }
            let fixed = fields.reduce(0) { $0 + ($1.length == 65535 ? 0 : $1.length) }
            let key = TemplateKey(domain: domain, id: id)
            if templates[key] == nil {
                guard templateCounts[domain, default: 0] < templateLimit else { return fault(.tooManyTemplates, domain) }
                templateCounts[domain, default: 0] += 1
            }
            // A template announced again replaces the old one (a refresh, or a changed layout).
            var template = Template(fields: fields, fixedLength: variable ? nil : fixed, minimumLength: max(1, fixed + (variable ? 1 : 0)), isOptions: options)
            if !variable { template.plan = Plan(fields) }
            templates[key] = template
            counters[domain, default: Counters()].templates += 1
            offset = at
        }
        return nil
    }

    // MARK: data

    /// How to turn the times a record carries into wall-clock milliseconds.
    struct TimeBase {
        var exportMilliseconds: Int64
        var uptimeMilliseconds: Int64?
        var received: Int64
    }

    private mutating func data<Sink: FlowSink>(_ reader: inout Reader, _ body: Range<Int>, _ key: TemplateKey, _ clock: TimeBase, _ records: inout Sink) {
        guard let template = templates[key] else {
            counters[key.domain, default: Counters()].faults[.unknownTemplate, default: 0] += 1
            return
        }
        var offset = body.lowerBound
        var decoded = 0
        records.begin(key.domain)
        if let fixed = template.fixedLength, let plan = template.plan, !template.isOptions, offset >= Plan.lookBehind {
            // Fixed-length records (what exporters send): every field's place is known, so each
            // record is read without per-field length checks or a switch per number.
            let base = reader.base.baseAddress!
            while body.upperBound - offset >= fixed {
                var record = FlowRecord()
                var systemInit: Int64?
                var startUptime: Int64?
                var endUptime: Int64?
                plan.read(base + offset, into: &record)
                for field in plan.times {
                    apply(field.element, reader, offset + field.offset, field.length, &record, &systemInit, &startUptime, &endUptime)
                }
                offset += fixed
                Self.place(&record, clock, systemInit, startUptime, endUptime)
                records.accept(record)
                decoded += 1
            }
            counters[key.domain, default: Counters()].records += decoded
            return
        }
        while body.upperBound - offset >= template.minimumLength {
            var record = FlowRecord()
            var systemInit: Int64?
            var startUptime: Int64?
            var endUptime: Int64?
            var complete = true
            for field in template.fields {
                var length = field.length
                if length == 65535 {
                    // RFC 7011 7: one length byte, or 255 and two more.
                    guard let first = reader.u8(at: offset) else { complete = false; break }
                    offset += 1
                    length = Int(first)
                    if first == 255 {
                        guard let long = reader.u16(at: offset) else { complete = false; break }
                        offset += 2
                        length = Int(long)
                    }
                }
                guard offset + length <= body.upperBound else { complete = false; break }
                if !template.isOptions {
                    apply(field.element, reader, offset, length, &record, &systemInit, &startUptime, &endUptime)
                }
                offset += length
            }
            guard complete else { break }  // the rest of the set is padding or truncated
            if template.isOptions { continue }
            Self.place(&record, clock, systemInit, startUptime, endUptime)
            records.accept(record)
            decoded += 1
        }
        counters[key.domain, default: Counters()].records += decoded
    }

    /// A fixed-length template compiled for reading without a switch per field: each number's
    /// place, read as the eight bytes that end where it ends, byte-swapped and masked to its
    /// length (an absent number has mask 0 and reads as 0). Times keep the general path: their
    /// meaning depends on which of them the template has.
    struct Plan: Sendable {
        /// Bytes before a record that an eight-byte read may touch: a data set always follows a
        /// message header and a set header, so at least this many bytes precede it.
        static let lookBehind = 8

        struct Number: Sendable {
            /// Where the number's last byte ends, from the record's start.
            var end = lookBehind
            var mask: UInt64 = 0

            init() {}

            init(offset: Int, length: Int) {
                let kept = min(length, 8)  // longer fields: their first eight bytes, as `Reader.unsigned`
                end = offset + kept
                mask = kept == 8 ? .max : (1 << UInt64(kept * 8)) - 1
            }

            @inline(__always)
            func read(_ record: UnsafeRawPointer) -> UInt64 {
                UInt64(bigEndian: record.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self)) & mask
            }
        }

        /// An address: 4 or 16 bytes, or absent (0).
        struct Address: Sendable {
            var offset = 0
            var length = 0

            @inline(__always)
            func read(_ record: UnsafeRawPointer) -> FlowAddress {
                if length == 4 {
                    return FlowAddress(ipv4: UInt32(bigEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                }
                return FlowAddress(
                    high: UInt64(bigEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                    low: UInt64(bigEndian: record.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
            }
        }

        var octets = Number(), packets = Number(), protocolNumber = Number(), typeOfService = Number(), tcpFlags = Number()
        var sourcePort = Number(), destinationPort = Number(), ingress = Number(), egress = Number(), translatedPort = Number()
        var hasTranslatedPort = false
        var source = Address(), destination = Address(), translated = Address()
        var times: [(element: Element, offset: Int, length: Int)] = []

        /// Fields in template order; a field repeated counts as its last occurrence, as the
        /// general path applies them in order.
        init(_ fields: [Field]) {
            var at = 0
            for field in fields {
                let number = Number(offset: at, length: field.length)
                let address = field.length == 4 || field.length == 16 ? Address(offset: at, length: field.length) : nil
                switch field.element {
                case .octets: octets = number
                case .packets: packets = number
                case .protocolNumber: protocolNumber = number
                case .typeOfService: typeOfService = number
                case .tcpFlags: tcpFlags = number
                case .sourcePort: sourcePort = number
                case .destinationPort: destinationPort = number
                case .ingress: ingress = number
                case .egress: egress = number
                case .translatedSourcePort:
                    translatedPort = number
                    hasTranslatedPort = true
                case .sourceIPv4, .sourceIPv6: if let address { source = address }
                case .destinationIPv4, .destinationIPv6: if let address { destination = address }
                // The general path sets the translated address to nil for a length it cannot read.
                case .translatedSourceIPv4, .translatedSourceIPv6: translated = address ?? Address()
                case .startUptime, .endUptime, .startSeconds, .endSeconds, .startMilliseconds, .endMilliseconds,
                    .startMicroseconds, .endMicroseconds, .startNanoseconds, .endNanoseconds, .systemInitMilliseconds:
                    times.append((field.element, at, field.length))
                case .other: break
                }
                at += field.length
            }
        }

        /// Every number and address of the record at `record` (times are the caller's).
        @inline(__always)
        func read(_ record: UnsafeRawPointer, into flow: inout FlowRecord) {
            flow.octets = octets.read(record)
            flow.packets = packets.read(record)
            flow.protocolNumber = UInt8(truncatingIfNeeded: protocolNumber.read(record))
            flow.typeOfService = UInt8(truncatingIfNeeded: typeOfService.read(record))
            flow.tcpFlags = UInt8(truncatingIfNeeded: tcpFlags.read(record))  // IPFIX may send 2 bytes: the low one holds the flags
            flow.sourcePort = UInt16(truncatingIfNeeded: sourcePort.read(record))
            flow.destinationPort = UInt16(truncatingIfNeeded: destinationPort.read(record))
            flow.ingressInterface = UInt32(truncatingIfNeeded: ingress.read(record))
            flow.egressInterface = UInt32(truncatingIfNeeded: egress.read(record))
            if source.length != 0 { flow.source = source.read(record) }
            if destination.length != 0 { flow.destination = destination.read(record) }
            if translated.length != 0 { flow.translatedSource = translated.read(record) }
            if hasTranslatedPort { flow.translatedSourcePort = UInt16(truncatingIfNeeded: translatedPort.read(record)) }
        }
    }

    /// Sets a record's start and end from the times it carried.
    @inline(__always)
    private static func place(_ record: inout FlowRecord, _ clock: TimeBase, _ systemInit: Int64?, _ startUptime: Int64?, _ endUptime: Int64?) {
        // Times relative to the exporter's uptime (v9 FIRST/LAST_SWITCHED, IPFIX 21/22).
        // Wrapping arithmetic: times from the wire are whatever the exporter sent, and a
        // nonsense value must give a nonsense time, not a crash.
        if startUptime != nil || endUptime != nil {
            let base = clock.uptimeMilliseconds.map { clock.exportMilliseconds &- $0 } ?? systemInit ?? clock.received
            if let startUptime { record.start = base &+ startUptime }
            if let endUptime { record.end = base &+ endUptime }
        }
        // A record without times is placed at the export (or arrival) time.
        if record.start == 0 && record.end == 0 {
            (record.start, record.end) = (clock.received, clock.received)
        } else if record.start == 0 {
            record.start = record.end
        } else if record.end == 0 {
            record.end = record.start
        }
    }

    @inline(__always)
    private func apply(
        _ element: Element, _ reader: Reader, _ offset: Int, _ length: Int, _ record: inout FlowRecord, _ systemInit: inout Int64?,
        _ startUptime: inout Int64?, _ endUptime: inout Int64?
    ) {
        // Unsigned numbers may be sent in fewer bytes than their type (RFC 7011 6.2). Read once
        // (the caller checked that `length` bytes are there).
        let number = reader.unsigned(at: offset, length: min(length, 8))
        @inline(__always) func unsigned() -> UInt64 { number }
        @inline(__always) func address() -> FlowAddress? {
            switch length {
            case 4: FlowAddress(ipv4: UInt32(truncatingIfNeeded: number))
            case 16: FlowAddress(high: number, low: reader.unsigned(at: offset + 8, length: 8))
            default: nil
            }
        }
        switch element {
        case .octets: record.octets = unsigned()
        case .packets: record.packets = unsigned()
        case .protocolNumber: record.protocolNumber = UInt8(truncatingIfNeeded: unsigned())
        case .typeOfService: record.typeOfService = UInt8(truncatingIfNeeded: unsigned())
        case .tcpFlags: record.tcpFlags = UInt8(truncatingIfNeeded: unsigned())  // IPFIX may send 2 bytes: the low one holds the flags
        case .sourcePort: record.sourcePort = UInt16(truncatingIfNeeded: unsigned())
        case .destinationPort: record.destinationPort = UInt16(truncatingIfNeeded: unsigned())
        case .sourceIPv4, .sourceIPv6: if let value = address() { record.source = value }
        case .destinationIPv4, .destinationIPv6: if let value = address() { record.destination = value }
        case .ingress: record.ingressInterface = UInt32(truncatingIfNeeded: unsigned())
        case .egress: record.egressInterface = UInt32(truncatingIfNeeded: unsigned())
        case .startUptime: startUptime = Int64(truncatingIfNeeded: unsigned())
        case .endUptime: endUptime = Int64(truncatingIfNeeded: unsigned())
        case .startSeconds: record.start = Int64(truncatingIfNeeded: unsigned()) &* 1000
        case .endSeconds: record.end = Int64(truncatingIfNeeded: unsigned()) &* 1000
        case .startMilliseconds: record.start = Int64(truncatingIfNeeded: unsigned())
        case .endMilliseconds: record.end = Int64(truncatingIfNeeded: unsigned())
        case .startMicroseconds, .endMicroseconds, .startNanoseconds, .endNanoseconds:
            // NTP format (RFC 7011 6.1.9/10): seconds since 1900, then a binary fraction.
            guard length == 8 else { return }
            let seconds = Int64(reader.unsigned(at: offset, length: 4)) - 2_208_988_800
            let fraction = Int64(reader.unsigned(at: offset + 4, length: 4))
            let milliseconds = seconds &* 1000 &+ (fraction &* 1000) >> 32
            if element == .startMicroseconds || element == .startNanoseconds { record.start = milliseconds } else { record.end = milliseconds }
        case .systemInitMilliseconds: systemInit = Int64(truncatingIfNeeded: unsigned())
        case .translatedSourceIPv4, .translatedSourceIPv6: record.translatedSource = address()
        case .translatedSourcePort: record.translatedSourcePort = UInt16(truncatingIfNeeded: unsigned())
        case .other: break
        }
    }
}

/// Big-endian reads that return nil past the end instead of trapping.
struct Reader {
    let base: UnsafeRawBufferPointer
    var count: Int

    init(_ base: UnsafeRawBufferPointer) {
        self.base = base
        count = base.count
    }

    func u8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < count else { return nil }
        return base[offset]
    }

    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        return UInt16(base[offset]) << 8 | UInt16(base[offset + 1])
    }

    func u32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= count else { return nil }
        return UInt32(truncatingIfNeeded: unsigned(at: offset, length: 4))
    }

    /// `length` (at most 8) bytes as a big-endian unsigned number; the caller checked bounds.
    @inline(__always)
    func unsigned(at offset: Int, length: Int) -> UInt64 {
        switch length {
        case 1: return UInt64(base[offset])
        case 2: return UInt64(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        case 4: return UInt64(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case 8: return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        default:
            var value: UInt64 = 0
            for index in offset..<offset + length { value = value << 8 | UInt64(base[index]) }
            return value
        }
    }
}

/// Where decoded records go: an array (tests, small callers) or a collector's batch. `begin`
/// names the exporter and domain of the records that follow.
protocol FlowSink {
    mutating func begin(_ domain: FlowDecoder.Domain)
    mutating func accept(_ record: FlowRecord)
    /// Records accepted so far (IPFIX sequence numbers count them).
    var accepted: Int { get }
}

extension Array: FlowSink where Element == FlowRecord {
    mutating func begin(_ domain: FlowDecoder.Domain) {}
    mutating func accept(_ record: FlowRecord) { append(record) }
    var accepted: Int { count }
}

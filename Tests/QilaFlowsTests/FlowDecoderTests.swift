import QilaTestSupport
import Testing

@testable import QilaFlows

/// Builds datagrams as RFC 3954 (v9), RFC 7011 (IPFIX) and Cisco's v5 layout describe them, so
/// that the decoder is checked against the wire formats, not against itself.
enum Wire {
    static func be(_ value: UInt64, _ bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> UInt64($0 * 8)) }
    }

    static func address(_ address: FlowAddress) -> [UInt8] {
        address.ipv4.map { be(UInt64($0), 4) } ?? (be(address.high, 8) + be(address.low, 8))
    }

    /// The generator's 13 fields (as `flowgen.py` sends them), IPv4 or IPv6 addresses.
    static func fields(v6: Bool, ipfix: Bool) -> [(UInt16, UInt16)] {
        [
            (v6 ? 27 : 8, v6 ? 16 : 4), (v6 ? 28 : 12, v6 ? 16 : 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4), (2, 8), (1, 8),
        ] + (ipfix ? [(152, 8), (153, 8)] : [(22, 4), (21, 4)])
    }

    static func record(_ flow: FlowRecord, ipfix: Bool, base: Int64) -> [UInt8] {
        var out = address(flow.source) + address(flow.destination)
        out += be(UInt64(flow.sourcePort), 2) + be(UInt64(flow.destinationPort), 2)
        out += [flow.protocolNumber, flow.tcpFlags, flow.typeOfService]
        out += be(UInt64(flow.ingressInterface), 4) + be(UInt64(flow.egressInterface), 4)
        out += be(flow.packets, 8) + be(flow.octets, 8)
        if ipfix {
            out += be(UInt64(flow.start), 8) + be(UInt64(flow.end), 8)
        } else {
            out += be(UInt64(flow.start - base), 4) + be(UInt64(flow.end - base), 4)
        }
        return out
    }

    static func set(_ id: UInt16, _ body: [UInt8]) -> [UInt8] { be(UInt64(id), 2) + be(UInt64(body.count + 4), 2) + body }

    static func template(_ id: UInt16, _ fields: [(UInt16, UInt16)], enterprise: [UInt16: UInt32] = [:]) -> [UInt8] {
        var out = be(UInt64(id), 2) + be(UInt64(fields.count), 2)
        for (element, length) in fields {
            if let number = enterprise[element] {
                out += be(UInt64(element | 0x8000), 2) + be(UInt64(length), 2) + be(UInt64(number), 4)
            } else {
                out += be(UInt64(element), 2) + be(UInt64(length), 2)
            }
        }
        return out
    }

    static func ipfix(domain: UInt32, sequence: UInt32, seconds: UInt32, _ sets: [[UInt8]]) -> [UInt8] {
        let body = sets.joined()
        return be(10, 2) + be(UInt64(16 + body.count), 2) + be(UInt64(seconds), 4) + be(UInt64(sequence), 4) + be(UInt64(domain), 4) + body
    }

    static func v9(source: UInt32, sequence: UInt32, uptime: UInt32, seconds: UInt32, count: Int, _ sets: [[UInt8]]) -> [UInt8] {
        be(9, 2) + be(UInt64(count), 2) + be(UInt64(uptime), 4) + be(UInt64(seconds), 4) + be(UInt64(sequence), 4) + be(UInt64(source), 4)
            + sets.joined()
    }

    static func v5(sequence: UInt32, uptime: UInt32, seconds: UInt32, _ flows: [FlowRecord]) -> [UInt8] {
        let exportMs = Int64(seconds) * 1000
        var out = be(5, 2) + be(UInt64(flows.count), 2) + be(UInt64(uptime), 4) + be(UInt64(seconds), 4) + be(0, 4) + be(UInt64(sequence), 4)
        out += [0, 0, 0, 0]
        for flow in flows {
            out += address(flow.source) + address(flow.destination) + be(0, 4)
            out += be(UInt64(flow.ingressInterface), 2) + be(UInt64(flow.egressInterface), 2)
            out += be(flow.packets, 4) + be(flow.octets, 4)
            out += be(UInt64(Int64(uptime) - (exportMs - flow.start)), 4) + be(UInt64(Int64(uptime) - (exportMs - flow.end)), 4)
            out += be(UInt64(flow.sourcePort), 2) + be(UInt64(flow.destinationPort), 2)
            out += [0, flow.tcpFlags, flow.protocolNumber, flow.typeOfService] + be(0, 4) + [0, 0] + be(0, 2)
        }
        return out
    }
}


@Suite("Flows: NetFlow v5, v9 and IPFIX decoding")
struct FlowDecoderTests {
    static let exporter = FlowAddress(ipv4: 0x7F00_0001)
    static let exportSeconds: UInt32 = 1_700_000_000

    static func randomFlow(_ random: inout SplitMix, v6: Bool = false, v5: Bool = false) -> FlowRecord {
        var flow = FlowRecord()
        if v6 {
            flow.source = FlowAddress(high: 0x2001_0db8_0000_0000 | UInt64.random(in: 0...0xFFFF, using: &random), low: random.next())
            flow.destination = FlowAddress(high: 0x2a00_1450_0000_0000, low: random.next())
        } else {
            flow.source = FlowAddress(ipv4: 0x0A00_0000 | UInt32.random(in: 0...0xFFFF, using: &random))
            flow.destination = FlowAddress(ipv4: UInt32.random(in: 0x0100_0000...0xDFFF_FFFF, using: &random))
        }
        flow.sourcePort = UInt16.random(in: 1...65535, using: &random)
        flow.destinationPort = UInt16.random(in: 1...65535, using: &random)
        flow.protocolNumber = [6, 17, 1][Int.random(in: 0...2, using: &random)]
        flow.tcpFlags = UInt8.random(in: 0...63, using: &random)
        flow.typeOfService = UInt8.random(in: 0...255, using: &random)
        flow.ingressInterface = UInt32.random(in: 0...(v5 ? 65535 : 1 << 20), using: &random)
        flow.egressInterface = UInt32.random(in: 0...(v5 ? 65535 : 1 << 20), using: &random)
        flow.packets = UInt64.random(in: 1...(v5 ? 1 << 31 : 1 << 40), using: &random)
        flow.octets = UInt64.random(in: 40...(v5 ? 1 << 31 : 1 << 50), using: &random)
        let end = Int64(exportSeconds) * 1000 - Int64.random(in: 0...60_000, using: &random)
        flow.end = end
        flow.start = end - Int64.random(in: 0...300_000, using: &random)
        return flow
    }

    @Test("IPFIX: records of IPv4 and IPv6 templates come back exactly, sequence numbers count records")
    func ipfixRoundTrip() {
        var random = SplitMix(state: 1)
        var decoder = FlowDecoder()
        var sequence: UInt32 = 0
        let templates = Wire.set(2, Wire.template(256, Wire.fields(v6: false, ipfix: true)) + Wire.template(257, Wire.fields(v6: true, ipfix: true)))
        for round in 0..<200 {
            let v4 = (0..<Int.random(in: 0...25, using: &random)).map { _ in Self.randomFlow(&random) }
            let v6 = (0..<Int.random(in: 0...5, using: &random)).map { _ in Self.randomFlow(&random, v6: true) }
            var sets = round % 50 == 0 ? [templates] : []
            if !v4.isEmpty { sets.append(Wire.set(256, v4.flatMap { Wire.record($0, ipfix: true, base: 0) })) }
            if !v6.isEmpty { sets.append(Wire.set(257, v6.flatMap { Wire.record($0, ipfix: true, base: 0) } + [0, 0, 0])) }  // with padding
            let (records, fault) = decoder.decode(Wire.ipfix(domain: 7, sequence: sequence, seconds: Self.exportSeconds, sets), from: Self.exporter)
            #expect(fault == nil)
            #expect(records == v4 + v6)
            sequence &+= UInt32(v4.count + v6.count)
        }
        let counters = decoder.counters[FlowDecoder.Domain(exporter: Self.exporter, domain: 7)]!
        #expect(counters.lost == 0)
        #expect(counters.datagrams == 200)
        #expect(counters.templates == 8)
    }

    @Test("NetFlow v9: times relative to the exporter's uptime become wall-clock times")
    func v9RoundTrip() {
        var random = SplitMix(state: 2)
        var decoder = FlowDecoder()
        let uptime: UInt32 = 86_400_000
        let base = Int64(Self.exportSeconds) * 1000 - Int64(uptime)
        for sequence in 0..<50 {
            let flows = (0..<Int.random(in: 1...20, using: &random)).map { _ in Self.randomFlow(&random) }
            let sets = [
                Wire.set(0, Wire.template(300, Wire.fields(v6: false, ipfix: false)) + [0, 0, 0, 0]),
                Wire.set(300, flows.flatMap { Wire.record($0, ipfix: false, base: base) }),
            ]
            let datagram = Wire.v9(source: 3, sequence: UInt32(sequence), uptime: uptime, seconds: Self.exportSeconds, count: flows.count + 1, sets)
            let (records, fault) = decoder.decode(datagram, from: Self.exporter)
            #expect(fault == nil)
            #expect(records == flows)
        }
        #expect(decoder.counters[FlowDecoder.Domain(exporter: Self.exporter, domain: 3)]?.lost == 0)
    }

    @Test("Decoding into a batch leaves a copy of it as it was (the batch makes its rows its own once a set)")
    func batchCopyOnWrite() throws {
        let flows = sampleFlows(60, seed: 12, ipv6: false, translation: false).map(\.0)
        let exporter = FlowAddress(ipv4: 0x7F00_0001)
        var decoder = FlowDecoder()
        var batch = FlowBatch()
        let first = Wire.v5(sequence: 0, uptime: 3_600_000, seconds: 1_790_000_000, Array(flows[0..<30]))
        let second = Wire.v5(sequence: 30, uptime: 3_601_000, seconds: 1_790_000_001, Array(flows[30..<60]))
        first.withUnsafeBytes { _ = decoder.decode($0, from: exporter, received: 1_790_000_000_000, into: &batch) }
        let copy = batch
        second.withUnsafeBytes { _ = decoder.decode($0, from: exporter, received: 1_790_000_001_000, into: &batch) }
        #expect(copy.count == 30 && batch.count == 60)
        func sources(_ batch: FlowBatch) throws -> [String] {
            try FlowBlock.encode(batch).bytes.withUnsafeBytes { try FlowBlockReader($0).allRecords().map { "\($0.record.source) \($0.record.destination)" }.sorted() }
        }
        #expect(try sources(copy) == flows[0..<30].map { "\($0.source) \($0.destination)" }.sorted())
        #expect(try sources(batch) == flows.map { "\($0.source) \($0.destination)" }.sorted())
    }

    @Test("NetFlow v5: fixed records, times from the header's uptime and clock")
    func v5RoundTrip() {
        var random = SplitMix(state: 3)
        var decoder = FlowDecoder()
        var sequence: UInt32 = 0
        for _ in 0..<50 {
            let flows = (0..<Int.random(in: 1...30, using: &random)).map { _ in
                var flow = Self.randomFlow(&random, v5: true)
                flow.typeOfService = 0
                return flow
            }.map { flow -> FlowRecord in
                var copy = flow
                copy.typeOfService = UInt8(flow.ingressInterface & 0xFF)
                return copy
            }
            let (records, fault) = decoder.decode(Wire.v5(sequence: sequence, uptime: 3_600_000, seconds: Self.exportSeconds, flows), from: Self.exporter)
            #expect(fault == nil)
            #expect(records == flows)
            sequence &+= UInt32(flows.count)
        }
        // 30 records per datagram at most.
        var too = Wire.v5(sequence: 0, uptime: 1, seconds: 1, [])
        too[3] = 31
        #expect(decoder.decode(too, from: Self.exporter).fault == .badLength)
    }

    @Test("lost records and packets are counted from sequence numbers, across the 2^32 wrap")
    func sequences() {
        var decoder = FlowDecoder()
        let template = Wire.set(2, Wire.template(256, Wire.fields(v6: false, ipfix: true)))
        var random = SplitMix(state: 4)
        func send(_ sequence: UInt32, _ count: Int) {
            let flows = (0..<count).map { _ in Self.randomFlow(&random) }
            _ = decoder.decode(
                Wire.ipfix(domain: 1, sequence: sequence, seconds: Self.exportSeconds, [template, Wire.set(256, flows.flatMap { Wire.record($0, ipfix: true, base: 0) })]),
                from: Self.exporter)
        }
        send(UInt32.max - 9, 10)  // next expected: 0 (wrapped)
        send(0, 5)
        send(12, 3)  // 7 lost (5...11)
        send(4, 2)  // already passed: out of order, not a loss
        send(15, 1)
        let counters = decoder.counters[FlowDecoder.Domain(exporter: Self.exporter, domain: 1)]!
        #expect(counters.lost == 7)
        #expect(counters.outOfOrder == 1)
        #expect(counters.records == 21)

        // v9 numbers packets.
        let v9Template = Wire.set(0, Wire.template(300, Wire.fields(v6: false, ipfix: false)))
        for sequence: UInt32 in [10, 11, 15] {
            _ = decoder.decode(Wire.v9(source: 9, sequence: sequence, uptime: 1000, seconds: Self.exportSeconds, count: 1, [v9Template]), from: Self.exporter)
        }
        #expect(decoder.counters[FlowDecoder.Domain(exporter: Self.exporter, domain: 9)]?.lost == 3)
    }

    @Test("data before its template is counted and skipped; a withdrawn template stops decoding")
    func templateLifecycle() {
        var decoder = FlowDecoder()
        var random = SplitMix(state: 5)
        let flow = Self.randomFlow(&random)
        let data = Wire.set(256, Wire.record(flow, ipfix: true, base: 0))
        let domain = FlowDecoder.Domain(exporter: Self.exporter, domain: 2)
        var result = decoder.decode(Wire.ipfix(domain: 2, sequence: 0, seconds: Self.exportSeconds, [data]), from: Self.exporter)
        #expect(result.records.isEmpty)
        #expect(decoder.counters[domain]?.unknownTemplateSets == 1)
        let template = Wire.set(2, Wire.template(256, Wire.fields(v6: false, ipfix: true)))
        result = decoder.decode(Wire.ipfix(domain: 2, sequence: 0, seconds: Self.exportSeconds, [template, data]), from: Self.exporter)
        #expect(result.records == [flow])
        // Another exporter's template 256 is another template.
        #expect(decoder.decode(Wire.ipfix(domain: 2, sequence: 0, seconds: Self.exportSeconds, [data]), from: FlowAddress(ipv4: 0x7F00_0002)).records.isEmpty)
        // Withdrawal of template 256 (field count 0), then of all templates (id 2).
        let withdraw = Wire.set(2, Wire.be(256, 2) + Wire.be(0, 2))
        result = decoder.decode(Wire.ipfix(domain: 2, sequence: 1, seconds: Self.exportSeconds, [withdraw, data]), from: Self.exporter)
        #expect(result.records.isEmpty)
        #expect(decoder.counters[domain]?.withdrawals == 1)
        _ = decoder.decode(Wire.ipfix(domain: 2, sequence: 1, seconds: Self.exportSeconds, [template, Wire.set(2, Wire.be(2, 2) + Wire.be(0, 2)), data]), from: Self.exporter)
        #expect(decoder.counters[domain]?.unknownTemplateSets == 3)
    }

    @Test("enterprise and variable-length fields are skipped by their lengths (short and long forms)")
    func variableAndEnterprise() {
        var decoder = FlowDecoder()
        var random = SplitMix(state: 6)
        let flows = (0..<3).map { _ in Self.randomFlow(&random) }
        // Template: an enterprise field of 4 bytes, a variable-length string, then the usual fields.
        let fields: [(UInt16, UInt16)] = [(100, 4), (82, 65535)] + Wire.fields(v6: false, ipfix: true)
        let template = Wire.set(2, Wire.template(400, fields, enterprise: [100: 9]))
        var body: [UInt8] = []
        for (index, flow) in flows.enumerated() {
            let name = [UInt8](repeating: UInt8(ascii: "x"), count: [3, 300, 0][index])
            let length: [UInt8] = name.count < 255 ? [UInt8(name.count)] : [255] + Wire.be(UInt64(name.count), 2)
            body += [1, 2, 3, 4] + length + name + Wire.record(flow, ipfix: true, base: 0)
        }
        let (records, fault) = decoder.decode(Wire.ipfix(domain: 0, sequence: 0, seconds: Self.exportSeconds, [template, Wire.set(400, body)]), from: Self.exporter)
        #expect(fault == nil)
        #expect(records == flows)
    }

    @Test("truncated, oversized and nonsense datagrams are counted, never crash (fuzzing 200,000 mutations)")
    func fuzz() {
        var random = SplitMix(state: 7)
        var seeds: [[UInt8]] = []
        let flows = (0..<10).map { _ in Self.randomFlow(&random) }
        let v6 = (0..<3).map { _ in Self.randomFlow(&random, v6: true) }
        seeds.append(
            Wire.ipfix(
                domain: 1, sequence: 0, seconds: Self.exportSeconds,
                [
                    Wire.set(2, Wire.template(256, Wire.fields(v6: false, ipfix: true)) + Wire.template(257, [(82, 65535)] + Wire.fields(v6: true, ipfix: true))),
                    Wire.set(3, Wire.be(258, 2) + Wire.be(2, 2) + Wire.be(1, 2) + Wire.be(149, 2) + Wire.be(4, 2) + Wire.be(41, 2) + Wire.be(8, 2)),
                    Wire.set(256, flows.flatMap { Wire.record($0, ipfix: true, base: 0) }),
                    Wire.set(257, v6.flatMap { [2, 65, 66] + Wire.record($0, ipfix: true, base: 0) }),
                ]))
        seeds.append(
            Wire.v9(
                source: 1, sequence: 0, uptime: 86_400_000, seconds: Self.exportSeconds, count: 11,
                [
                    Wire.set(0, Wire.template(300, Wire.fields(v6: false, ipfix: false))),
                    Wire.set(1, Wire.be(301, 2) + Wire.be(4, 2) + Wire.be(4, 2) + Wire.be(1, 2) + Wire.be(4, 2) + Wire.be(34, 2) + Wire.be(4, 2)),
                    Wire.set(300, flows.flatMap { Wire.record($0, ipfix: false, base: Int64(Self.exportSeconds) * 1000 - 86_400_000) }),
                ]))
        seeds.append(Wire.v5(sequence: 0, uptime: 86_400_000, seconds: Self.exportSeconds, Array(flows.prefix(5))))
        var decoder = FlowDecoder()
        var decodedRecords = 0
        var faults = 0
        for iteration in 0..<200_000 {
            var bytes = seeds[iteration % seeds.count]
            switch Int.random(in: 0...3, using: &random) {
            case 0:  // flip bytes
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            case 1:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 2:  // lengths and counts set to extremes
                for offset in [2, 3, 18, 19, 22, 23, 30, 31] where offset < bytes.count {
                    if Bool.random(using: &random) { bytes[offset] = [0, 0xFF, 1][Int.random(in: 0...2, using: &random)] }
                }
            default:  // garbage appended
                bytes += (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let exporter = FlowAddress(ipv4: UInt32(iteration % 7))
            let (records, fault) = decoder.decode(bytes, from: exporter)
            decodedRecords += records.count
            if fault != nil { faults += 1 }
            // No datagram gives more records than it has bytes for.
            #expect(records.count <= bytes.count / 4 + 1)
        }
        #expect(decodedRecords > 0)
        #expect(faults > 0)
        let counted = decoder.counters.values.reduce(0) { $0 + $1.faults.values.reduce(0, +) }
        #expect(counted >= faults)
    }

    @Test("addresses print as RFC 5952 writes them")
    func addressText() {
        #expect(FlowAddress(ipv4: 0x0A01_0203).description == "10.1.2.3")
        #expect(FlowAddress(high: 0x2001_0db8_0000_0000, low: 1).description == "2001:db8::1")
        #expect(FlowAddress(high: 0, low: 1).description == "::1")
        #expect(FlowAddress(high: 0x2001_0db8_0000_0001, low: 0x0000_0000_0000_0001).description == "2001:db8:0:1::1")
        #expect(FlowAddress(high: 0x2001_0db8_0001_0001, low: 0x0001_0001_0001_0001).description == "2001:db8:1:1:1:1:1:1")
    }
}

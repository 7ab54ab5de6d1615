import CQilaFrames
import QilaTestSupport
import Testing

@testable import QilaFlows

extension SeededRandom {
    mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }
}

/// Flows shaped like an ISP's: subscribers in 10.0.0.0/16 talking to a skewed pool of remote
/// hosts, some IPv6, some behind carrier-grade NAT.
func sampleFlows(_ count: Int, seed: UInt64, ipv6: Bool = true, translation: Bool = true) -> [(FlowRecord, FlowDecoder.Domain)] {
    var random = SplitMix(state: seed)
    let exporters = [
        FlowDecoder.Domain(exporter: FlowAddress(ipv4: 0x7F00_0001), domain: 1),
        FlowDecoder.Domain(exporter: FlowAddress(ipv4: 0x7F00_0002), domain: 7),
    ]
    var flows: [(FlowRecord, FlowDecoder.Domain)] = []
    for _ in 0..<count {
        var record = FlowRecord()
        let subscriber: FlowAddress
        let remote: FlowAddress
        if ipv6 && random.below(10) == 0 {
            subscriber = FlowAddress(high: 0x2001_0db8_0000_0000 | random.below(64), low: random.below(1000))
            remote = FlowAddress(high: 0x2a00_1450_0000_0000, low: random.below(random.below(500) + 1))
        } else {
            subscriber = FlowAddress(ipv4: 0x0A00_0000 | UInt32(random.below(4000)))
            remote = FlowAddress(ipv4: 0x0800_0000 &+ UInt32(random.below(random.below(20000) + 1)) &* 7919)
        }
        let reverse = random.below(2) == 0
        record.source = reverse ? remote : subscriber
        record.destination = reverse ? subscriber : remote
        let service = [443, 53, 80, 123, 8080][Int(random.below(5))]
        let ephemeral = UInt16(32768 + random.below(28000))
        record.sourcePort = reverse ? UInt16(service) : ephemeral
        record.destinationPort = reverse ? ephemeral : UInt16(service)
        record.protocolNumber = service == 53 || service == 123 ? 17 : 6
        record.tcpFlags = record.protocolNumber == 6 ? [0x1b, 0x02, 0x18][Int(random.below(3))] : 0
        record.typeOfService = random.below(5) == 0 ? 0xb8 : 0
        record.ingressInterface = reverse ? 1 : UInt32(2 + random.below(40))
        record.egressInterface = reverse ? UInt32(2 + random.below(40)) : 1
        record.packets = 1 + random.below(1 << random.below(20))
        record.octets = record.packets * (40 + random.below(1460))
        record.end = 1_790_000_000_000 + Int64(random.below(60_000))
        record.start = record.end - Int64(random.below(1 << random.below(22)))
        if translation && !reverse && subscriber.isIPv4 && random.below(3) == 0 {
            record.translatedSource = FlowAddress(ipv4: 0xC633_6400 | UInt32(random.below(16)))
            record.translatedSourcePort = UInt16(1024 + random.below(60000))
        }
        flows.append((record, exporters[Int(random.below(2))]))
    }
    return flows
}

@Suite("Flow blocks")
struct FlowBlockTests {
    @Test("Integer columns round-trip every shape of data, frame by frame", arguments: [0, 1, 255, 256, 257, 5000])
    func integerColumns(count: Int) throws {
        var random = SplitMix(state: UInt64(count) + 1)
        let shapes: [[UInt64]] = [
            (0..<count).map { _ in random.below(1 << 14) },
            (0..<count).map { _ in UInt64(1) << random.below(40) + random.below(1000) },
            (0..<count).map { _ in random.next() },
            (0..<count).map { _ in UInt64.max - random.below(3) },
            [UInt64](repeating: 42, count: count),
        ]
        for values in shapes {
            var bytes: [UInt8] = []
            IntegerColumn.encode(values, into: &bytes)
            let decoded = try bytes.withUnsafeBytes { try IntegerColumnReader($0).decodeAll() }
            #expect(decoded == values)
            let sorted = values.sorted()
            bytes = []
            IntegerColumn.encode(sorted, layout: .sorted, into: &bytes)
            let decodedSorted = try bytes.withUnsafeBytes { try IntegerColumnReader($0).decodeAll(layout: .sorted) }
            #expect(decodedSorted == sorted)
        }
    }

    @Test("Frames coded in vector registers are the portable coder's bytes, and decode to their values, long codes included")
    func frameCoders() throws {
        var random = SplitMix(state: 57)
        var checked = 0
        for round in 0..<3_000 {
            let count = 1 + Int(random.below(256))
            // Heavy tails (Golomb frames), a few huge values among small ones (codes over 56
            // bits), whole 64-bit words (packing over 56 bits), and the top of the range.
            var values: [UInt64] =
                switch round % 5 {
                case 0: (0..<count).map { _ in random.below(1 << random.below(24)) }
                case 1: (0..<count).map { _ in random.below(4) == 0 ? UInt64(1) << (50 + random.below(14)) : random.below(8) }
                case 2: (0..<count).map { _ in random.next() }
                case 3: (0..<count).map { _ in UInt64.max - random.below(1 << random.below(10)) }
                default: (0..<count).map { _ in random.below(1 << 12) }
                }
            if round % 2 == 1 { values.sort() }
            let sorted = Int32(round % 2)
            var fast = [UInt8](repeating: 0xAA, count: qila_frame_bound(count))
            var portable = [UInt8](repeating: 0x55, count: qila_frame_bound(count))
            let fastLength = qila_code_frame(values, count, sorted, &fast)
            let portableLength = qila_code_frame_portable(values, count, sorted, &portable)
            #expect(fastLength == portableLength && fast[..<fastLength] == portable[..<portableLength], "round \(round), \(count) values")
            // The frame alone, as a column of one frame, reads back.
            var column: [UInt8] = []
            VarInt.append(UInt64(count), to: &column)
            column += [0, 0, 0, 0] + portable[..<portableLength]
            var decoded = [UInt64](repeating: 0, count: 256)
            let layout: IntegerColumn.Layout = sorted == 1 ? .sorted : .plain
            try column.withUnsafeBytes { raw in _ = try IntegerColumnReader(raw).decode(frame: 0, layout: layout, into: &decoded) }
            let same = Array(decoded[..<count]) == values
            #expect(same, "round \(round): \(count) values do not read back")
            checked += 1
        }
        #expect(checked == 3_000)
        #expect(["avx512", "avx2", "portable"].contains(String(cString: qila_frame_coder())))
    }

    @Test("A value table numbers values by first appearance and ranks them by count, through growth")
    func valueTable() {
        var random = SplitMix(state: 59)
        var table = ValueTable(capacity: 4)
        var numbers: [UInt64: Int] = [:]
        var counts: [UInt64: Int] = [:]
        for round in 0..<50_000 {
            // A few common values and a long tail, with 0 and the top of the range among them.
            let value: UInt64 = round % 3 == 0 ? [0, .max, 6, 17][Int(random.below(4))] : random.below(5_000) << 20
            let expected = numbers[value] ?? numbers.count
            numbers[value] = expected
            counts[value, default: 0] += 1
            let number = table.add(value)
            if number != expected {
                Issue.record("value \(value): number \(number), expected \(expected)")
                return
            }
        }
        #expect(table.count == numbers.count)
        let (values, ranks) = table.ranked()
        let byFrequency = counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }
        #expect(values == byFrequency)
        #expect(ranks.count == numbers.count && numbers.allSatisfy { value, number in values[Int(ranks[number])] == value })
    }

    @Test("The open segment's IPv4 set holds exactly the distinct addresses inserted, through growth")
    func ipv4Set() {
        var random = SplitMix(state: 41)
        var set = IPv4Set()
        var reference = Set<UInt32>()
        for round in 0..<200_000 {
            // Edge values, a dense range that repeats, and the whole space.
            let address: UInt32 =
                switch round % 4 {
                case 0: [0, 1, .max, .max - 1][Int(random.below(4))]
                case 1: 0x0A00_0000 + UInt32(random.below(50_000))
                default: UInt32(truncatingIfNeeded: random.next())
                }
            set.insert(address)
            reference.insert(address)
        }
        #expect(set.count == reference.count)
        let listed = Array(set)
        #expect(listed.count == reference.count && Set(listed) == reference)
    }

    @Test("The encoder's address table numbers addresses by first appearance, through growth and from one block to the next")
    func addressNumbers() {
        var random = SplitMix(state: 43)
        var numbers = FlowBlock.AddressNumbers()
        defer { numbers.deallocate() }
        // A large block (the table grows several times), a small one (it shrinks), a large one.
        for (block, count) in [200_000, 3_000, 120_000].enumerated() {
            numbers.reset()
            var reference: [UInt32: UInt32] = [:]
            for round in 0..<count {
                let address: UInt32 =
                    switch round % 4 {
                    case 0: [0, 1, .max, .max - 1][Int(random.below(4))]
                    case 1: 0x0A00_0000 + UInt32(random.below(40_000))
                    default: UInt32(truncatingIfNeeded: random.next())
                    }
                let expected = reference[address] ?? UInt32(reference.count)
                reference[address] = expected
                let number = numbers.number(address)
                if number != expected {
                    Issue.record("block \(block), round \(round): \(address) numbered \(number), expected \(expected)")
                    return
                }
            }
            #expect(numbers.count == reference.count)
            #expect((0..<numbers.count).allSatisfy { reference[numbers.addresses[$0]] == UInt32($0) })
        }
    }

    @Test("The radix sort orders by the chosen bits only and keeps equal keys in their order")
    func radixSort() {
        var random = SplitMix(state: 7)
        for (count, bits) in [(0, 0..<8), (1, 32..<64), (2_000, 32..<64), (5_000, 32..<49), (3_000, 0..<64), (4_000, 8..<12)] {
            // Keys from a small range (shared digits, ties) mixed with keys from the whole space.
            let values: [UInt64] = (0..<count).map { i in
                i % 3 == 0 ? random.next() : (random.below(64) << 40 | 0x0A00_0000 << 32 | UInt64(i))
            }
            let width = bits.count
            func key(_ value: UInt64) -> UInt64 {
                let shifted = value >> UInt64(bits.lowerBound)
                return width >= 64 ? shifted : shifted & ((1 << UInt64(width)) - 1)
            }
            // The reference: a stable sort (positions break ties).
            let expected = values.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
            var sorted = values
            RadixSort.sort(&sorted, bits: bits)
            #expect(sorted == expected, "\(count) keys on bits \(bits)")
        }
        // Every key alike on the sorted bits: no pass moves anything.
        var same: [UInt64] = (0..<1_000).map { 0xABC << 32 | UInt64(999 - $0) }
        let before = same
        RadixSort.sort(&same, bits: 32..<64)
        #expect(same == before)
    }

    @Test("A damaged integer column is reported, never read past its end")
    func damagedColumn() {
        let values = (0..<1000).map { UInt64($0 * $0) }
        var bytes: [UInt8] = []
        IntegerColumn.encode(values, into: &bytes)
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            let prefix = Array(bytes[..<cut])
            let outcome = prefix.withUnsafeBytes { raw -> Bool in
                guard let reader = try? IntegerColumnReader(raw) else { return false }
                return (try? reader.decodeAll()) == values
            }
            #expect(!outcome, "a column cut at \(cut) of \(bytes.count) bytes decoded as whole")
        }
    }

    @Test("A block gives back every flow, and exactly the flows of each address", arguments: [1, 300, 20_000])
    func roundTrip(count: Int) throws {
        let flows = sampleFlows(count, seed: UInt64(count))
        var batch = FlowBatch()
        for (record, exporter) in flows { batch.append(record, from: exporter) }
        let encoded = FlowBlock.encode(batch)
        let (bytes, statistics) = (encoded.bytes, encoded.statistics)
        #expect(statistics.rows == count)
        try bytes.withUnsafeBytes { raw in
            let reader = try FlowBlockReader(raw)
            let all = try reader.allRecords()
            #expect(all.count == count)
            let expected = flows.map { "\($0.0) \($0.1)" }.sorted()
            #expect(all.map { "\($0.record) \($0.exporter)" }.sorted() == expected)
            // Every address of a few flows, and one that never occurs.
            var probes = flows.prefix(40).flatMap { [$0.0.source, $0.0.destination] + ($0.0.translatedSource.map { [$0] } ?? []) }
            probes.append(FlowAddress(ipv4: 0xC0A8_0101))
            for address in probes {
                let found = try reader.records(at: try reader.rows(of: address)).map { "\($0.record) \($0.exporter)" }.sorted()
                let wanted = flows.filter { $0.0.source == address || $0.0.destination == address || $0.0.translatedSource == address }
                    .map { "\($0.0) \($0.1)" }.sorted()
                #expect(found == wanted, "address \(address)")
            }
        }
    }

    @Test("A batch's row is one cache line, and a batch of as many exporters as rows can number gives each flow its own back")
    func compactRowsAndManyExporters() throws {
        #expect(MemoryLayout<FlowBatch.Row>.stride == 64)
        let flows = sampleFlows(FlowBatch.maximumExporters - 1, seed: 5)
        var batch = FlowBatch()
        var expected: [String] = []
        for (index, (record, _)) in flows.enumerated() {
            #expect(!batch.isFull || index == flows.count)
            let exporter = FlowDecoder.Domain(exporter: FlowAddress(ipv4: 0xAC10_0000 | UInt32(index)), domain: UInt32(index % 7))
            batch.append(record, from: exporter)
            expected.append("\(record.source) \(record.destination) \(record.start) \(exporter)")
        }
        // The collector hands such a batch to the writer before decoding another datagram into it.
        #expect(batch.isFull && batch.exporters.count == FlowBatch.maximumExporters - 1)
        let encoded = FlowBlock.encode(batch)
        try encoded.bytes.withUnsafeBytes { raw in
            let all = try FlowBlockReader(raw).allRecords()
            #expect(all.map { "\($0.record.source) \($0.record.destination) \($0.record.start) \($0.exporter)" }.sorted() == expected.sorted())
        }
    }

    @Test("A damaged block is refused or read as wrong numbers, never a crash: truncation, flipped bytes")
    func damagedBlocks() throws {
        let flows = sampleFlows(1_000, seed: 77)
        var batch = FlowBatch()
        for (record, exporter) in flows { batch.append(record, from: exporter) }
        let original = FlowBlock.encode(batch).bytes
        let probes = flows.prefix(8).flatMap { [$0.0.source, $0.0.destination] }
        var random = SplitMix(state: 99)
        var refused = 0
        for round in 0..<300 {
            var bytes = original
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(Int(random.below(UInt64(bytes.count)))))
            } else {
                for _ in 0...random.below(8) { bytes[Int(random.below(UInt64(bytes.count)))] ^= UInt8(truncatingIfNeeded: random.next() | 1) }
            }
            bytes.withUnsafeBytes { raw in
                do {
                    let reader = try FlowBlockReader(raw)
                    for address in probes { _ = try reader.records(at: try reader.rows(of: address)) }
                    if round % 10 == 0 { _ = try reader.allRecords() }
                } catch {
                    refused += 1
                }
            }
        }
        #expect(refused > 100, "most damage must be noticed: \(refused) of 300 refused")
    }

    @Test("The encoder's reused workspace leaves nothing of one block in the next: a block after a larger one is encoded as alone")
    func workspaceReuse() async throws {
        #expect(MemoryLayout<FlowBlock.Line>.stride == 64, "a line is one cache line")
        func batch(_ count: Int, seed: UInt64) -> FlowBatch {
            var batch = FlowBatch()
            for (record, exporter) in sampleFlows(count, seed: seed) { batch.append(record, from: exporter) }
            return batch
        }
        let small = batch(3_000, seed: 31)
        let large = batch(90_000, seed: 32)
        let alone = FlowBlock.encode(small).bytes
        let first = FlowBlock.encode(large).bytes
        // Two encodings at once take two workspaces; the pool then holds both.
        let concurrent = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for which in [large, small] { group.addTask { FlowBlock.encode(which).bytes } }
            return Set(try await group.reduce(into: [[UInt8]]()) { $0.append($1) })
        }
        #expect(concurrent == [first, alone])
        #expect(FlowBlock.encode(small).bytes == alone)
        #expect(FlowBlock.encode(large).bytes == first)
    }

    @Test("Flows without IPv6 or translation keep their block small")
    func compact() throws {
        let flows = sampleFlows(100_000, seed: 9, ipv6: false, translation: false)
        var batch = FlowBatch()
        for (record, exporter) in flows { batch.append(record, from: exporter) }
        let bytes = FlowBlock.encode(batch).bytes
        let perFlow = Double(bytes.count) / Double(flows.count)
        // The 13 fields take 54 bytes on the wire; the generator's data compress to under 20.
        #expect(perFlow < 20, "\(perFlow) bytes per flow")
    }
}

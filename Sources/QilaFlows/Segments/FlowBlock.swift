import CQilaSystem

/// One block of a segment: the flows of one durability interval, sorted by source address and
/// stored column by column (`docs/decisions/0007-flow-segments.md`).
///
/// Addresses are numbered through a dictionary sorted by address. The rows are ordered by source
/// number, so the source column is a list of runs and is its own index; the destination and
/// translated-source columns have an index each: for every address, the frames (of 256 rows)
/// it occurs in. Low-cardinality columns (ports, interfaces, protocol with flags and type of
/// service, exporter) store each row's rank in a table of their values by frequency; times are
/// the end relative to the block's earliest end and the duration; counters are stored as they are.
/// Every integer column is an `IntegerColumn`.
public enum FlowBlock {
    static let version: UInt8 = 1
    /// Blocks hold at most this many rows; the writer starts a new block beyond it.
    public static let maximumRows = 1 << 22

    enum Column: UInt8, CaseIterable {
        case addressesV4 = 1, addressesV6, sourceRunIDs, sourceRunStarts, destination, destinationKeys, destinationListStarts,
            destinationFrames, end, duration, sourcePortTable, sourcePort, destinationPortTable, destinationPort,
            protocolTable, protocolFlagsService, ingressTable, ingress, egressTable, egress, packets, octets, exporters,
            exporter, translated, translatedKeys, translatedListStarts, translatedFrames, translatedPortTable, translatedPort
    }

    public struct Statistics: Sendable, Hashable, Codable {
        public var rows: Int
        public var firstStart: Int64
        public var lastStart: Int64
        public var firstEnd: Int64
        public var lastEnd: Int64
        public var packets: UInt64
        public var octets: UInt64
        public var addresses: Int

        public static let empty = Statistics(
            rows: 0, firstStart: .max, lastStart: .min, firstEnd: .max, lastEnd: .min, packets: 0, octets: 0, addresses: 0)

        public mutating func merge(_ other: Statistics) {
            rows += other.rows
            firstStart = min(firstStart, other.firstStart)
            lastStart = max(lastStart, other.lastStart)
            firstEnd = min(firstEnd, other.firstEnd)
            lastEnd = max(lastEnd, other.lastEnd)
            packets &+= other.packets
            octets &+= other.octets
            addresses += other.addresses
        }

        /// Whether a flow of this block can overlap `window` (ms since 1970, half open).
        public func overlaps(_ window: Range<Int64>) -> Bool {
            rows > 0 && firstStart < window.upperBound && lastEnd >= window.lowerBound
        }
    }

    public struct Encoded: Sendable {
        public var bytes: [UInt8]
        public var statistics: Statistics
        /// The block's distinct addresses, for the segment's address filter.
        var addressesV4: [UInt64]
        var addressesV6: [FlowAddress]
    }

    /// Each block's encoding works in some 100 MB of temporary arrays (a second's flows, several
    /// columns of them). With glibc's defaults those arrays are mapped afresh and handed back to
    /// the kernel at every block, and zeroing the new pages took a sixth of the collector's time
    /// (`docs/benchmarks.md`). Called by the collector (and the benchmark): allocations up to
    /// 32 MiB come from the heap instead, and up to 512 MiB of freed heap is kept for the next
    /// block. Process-wide; calling it again changes nothing.
    public static func reuseEncoderMemory() { _ = keepMemory }

    private static let keepMemory: Void = { qila_keep_heap_memory(32 << 20, 512 << 20) }()

    /// Encodes `batch` (at most `maximumRows` flows).
    public static func encode(_ batch: FlowBatch) -> Encoded {
        var encoder = Encoder(batch)
        return encoder.run()
    }

    private struct Encoder {
        let batch: FlowBatch
        let rows: Int
        var columns: [(Column, [UInt8])] = []

        init(_ batch: FlowBatch) {
            precondition(batch.count <= FlowBlock.maximumRows, "a block holds at most \(FlowBlock.maximumRows) rows")
            self.batch = batch
            rows = batch.count
        }

        mutating func add(_ column: Column, _ values: [UInt64], layout: IntegerColumn.Layout = .plain) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 2 + 16)
            IntegerColumn.encode(values, layout: layout, into: &bytes)
            columns.append((column, bytes))
        }

        mutating func run() -> Encoded {
            let n = rows
            // 1. Address dictionary: every address slot (source 2i, destination 2i+1,
            // translated 2n+i) is numbered by the address's rank among the block's addresses.
            let slots = batch.hasTranslation ? 3 * n : 2 * n
            var ids = [UInt32](repeating: 0, count: slots)
            var v4Keys: [UInt64] = []
            v4Keys.reserveCapacity(slots)
            var v6: [(FlowAddress, Int)] = []
            func collect(_ address: FlowAddress, _ slot: Int) {
                if address.high == 0 && address.low >> 32 == 0xFFFF {
                    v4Keys.append(UInt64(UInt32(truncatingIfNeeded: address.low)) << 32 | UInt64(slot))
                } else {
                    v6.append((address, slot))
                }
            }
            batch.source.withUnsafeBufferPointer { sources in
                batch.destination.withUnsafeBufferPointer { destinations in
                    for i in 0..<n {
                        collect(sources[i], 2 * i)
                        collect(destinations[i], 2 * i + 1)
                    }
                }
            }
            if batch.hasTranslation {
                for i in 0..<n where batch.translatedSource[i] != .zero { collect(batch.translatedSource[i], 2 * n + i) }
            }
            RadixSort.sort(&v4Keys, bits: 32..<64)
            var dictionaryV4: [UInt64] = []
            var nextID: UInt32 = 0
            v4Keys.withUnsafeBufferPointer { keys in
                ids.withUnsafeMutableBufferPointer { ids in
                    var previous = UInt64.max
                    for key in keys {
                        let address = key >> 32
                        if address != previous {
                            dictionaryV4.append(address)
                            previous = address
                            nextID += 1
                        }
                        ids[Int(key & 0xFFFF_FFFF)] = nextID - 1
                    }
                }
            }
            v6.sort { $0.0 < $1.0 }
            var dictionaryV6: [UInt64] = []
            var addressesV6: [FlowAddress] = []
            var previousV6: FlowAddress?
            for (address, slot) in v6 {
                if address != previousV6 {
                    addressesV6.append(address)
                    dictionaryV6.append(address.high)
                    dictionaryV6.append(address.low)
                    previousV6 = address
                    nextID += 1
                }
                ids[slot] = nextID - 1
            }
            let idBits = 64 - UInt64(max(nextID, 1)).leadingZeroBitCount
            add(.addressesV4, dictionaryV4, layout: .sorted)
            add(.addressesV6, dictionaryV6)

            // 2. Rows ordered by source number (stable: arrival order within a source).
            var order = [UInt64](repeating: 0, count: n)
            for i in 0..<n { order[i] = UInt64(ids[2 * i]) << 32 | UInt64(i) }
            RadixSort.sort(&order, bits: 32..<(32 + idBits))
            var runIDs: [UInt64] = []
            var runStarts: [UInt64] = []
            var destinationIDs = [UInt64](repeating: 0, count: n)
            for k in 0..<n {
                let source = order[k] >> 32
                if runIDs.last != source {
                    runIDs.append(source)
                    runStarts.append(UInt64(k))
                }
                let row = Int(order[k] & 0xFFFF_FFFF)
                destinationIDs[k] = UInt64(ids[2 * row + 1])
                order[k] = UInt64(row)
            }
            add(.sourceRunIDs, runIDs, layout: .sorted)
            add(.sourceRunStarts, runStarts, layout: .sorted)
            add(.destination, destinationIDs)
            index(destinationIDs, bits: idBits, keys: .destinationKeys, starts: .destinationListStarts, frames: .destinationFrames)

            // 3. Times, ports, interfaces, counters in row order.
            var statistics = Statistics.empty
            statistics.rows = n
            statistics.addresses = Int(nextID)
            var values = [UInt64](repeating: 0, count: n)
            batch.start.withUnsafeBufferPointer { start in
                batch.end.withUnsafeBufferPointer { end in
                    for i in 0..<n {
                        statistics.firstStart = min(statistics.firstStart, start[i])
                        statistics.lastStart = max(statistics.lastStart, start[i])
                        statistics.firstEnd = min(statistics.firstEnd, end[i])
                        statistics.lastEnd = max(statistics.lastEnd, end[i])
                    }
                    let firstEnd = statistics.firstEnd
                    gather(into: &values, order) { row in UInt64(bitPattern: end[row] &- firstEnd) }
                    add(.end, values)
                    gather(into: &values, order) { row in zigzag(end[row] &- start[row]) }
                    add(.duration, values)
                }
            }
            batch.packets.withUnsafeBufferPointer { packets in
                for i in 0..<n { statistics.packets &+= packets[i] }
            }
            batch.octets.withUnsafeBufferPointer { octets in
                for i in 0..<n { statistics.octets &+= octets[i] }
            }
            ranked(batch.sourcePort, order, table: .sourcePortTable, ranks: .sourcePort)
            ranked(batch.destinationPort, order, table: .destinationPortTable, ranks: .destinationPort)
            ranked(batch.protocolFlagsService, order, table: .protocolTable, ranks: .protocolFlagsService)
            ranked(batch.ingress, order, table: .ingressTable, ranks: .ingress)
            ranked(batch.egress, order, table: .egressTable, ranks: .egress)
            batch.packets.withUnsafeBufferPointer { packets in gather(into: &values, order) { packets[$0] } }
            add(.packets, values)
            batch.octets.withUnsafeBufferPointer { octets in gather(into: &values, order) { octets[$0] } }
            add(.octets, values)
            var exporters: [UInt64] = []
            for domain in batch.exporters {
                exporters.append(domain.exporter.high)
                exporters.append(domain.exporter.low)
                exporters.append(UInt64(domain.domain))
            }
            add(.exporters, exporters)
            batch.exporter.withUnsafeBufferPointer { exporter in gather(into: &values, order) { UInt64(exporter[$0]) } }
            add(.exporter, values)

            // 4. Carrier-grade NAT: the translated source (0 = none, else number + 1) and port.
            if batch.hasTranslation {
                for k in 0..<n {
                    let row = Int(order[k])
                    values[k] = batch.translatedSource[row] == .zero ? 0 : UInt64(ids[2 * n + row]) + 1
                }
                add(.translated, values)
                index(values, bits: idBits + 1, keys: .translatedKeys, starts: .translatedListStarts, frames: .translatedFrames, skipZero: true)
                ranked(batch.translatedPort, order, table: .translatedPortTable, ranks: .translatedPort)
            }
            return Encoded(bytes: assemble(statistics), statistics: statistics, addressesV4: dictionaryV4, addressesV6: addressesV6)
        }

        /// `values[k] = value(order[k])` for every row k of the sorted order.
        @inline(__always)
        func gather(into values: inout [UInt64], _ order: [UInt64], _ value: (Int) -> UInt64) {
            order.withUnsafeBufferPointer { order in
                values.withUnsafeMutableBufferPointer { values in
                    for k in 0..<order.count { values[k] = value(Int(order[k])) }
                }
            }
        }

        /// For every distinct value of `column` (in row order), the frames it occurs in.
        mutating func index(
            _ column: [UInt64], bits: Int, keys keyColumn: Column, starts startColumn: Column, frames frameColumn: Column,
            skipZero: Bool = false
        ) {
            var pairs: [UInt64] = []
            pairs.reserveCapacity(column.count)
            var lastPair = UInt64.max
            for (k, value) in column.enumerated() where !(skipZero && value == 0) {
                let pair = value << 32 | UInt64(k / IntegerColumn.frameLength)
                if pair != lastPair { pairs.append(pair); lastPair = pair }
            }
            RadixSort.sort(&pairs, bits: 32..<(32 + bits))
            var keys: [UInt64] = []
            var starts: [UInt64] = []
            var frames: [UInt64] = []
            var previous = UInt64.max
            for pair in pairs {
                let key = pair >> 32
                let frame = pair & 0xFFFF_FFFF
                if key != keys.last {
                    keys.append(key)
                    starts.append(UInt64(frames.count))
                    frames.append(frame)
                } else if frame != previous {
                    frames.append(frame - previous - 1)
                } else {
                    continue
                }
                previous = frame
            }
            add(keyColumn, keys, layout: .sorted)
            add(startColumn, starts, layout: .sorted)
            add(frameColumn, frames)
        }

        /// Stores a low-cardinality column as ranks in a table of its values by frequency (ties
        /// by value). Values are counted in row order (a sequential pass); only the ranks are
        /// gathered in the sorted order.
        mutating func ranked<T: FixedWidthInteger>(
            _ column: [T], _ order: [UInt64], table tableColumn: Column, ranks rankColumn: Column
        ) {
            let n = column.count
            var values: [UInt64] = []
            var ranks = [UInt64](repeating: 0, count: n)
            if T.bitWidth <= 16 {
                // Ports: a table indexed by the value itself.
                var counts = [UInt32](repeating: 0, count: 1 << 16)
                column.withUnsafeBufferPointer { column in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for value in column { counts[Int(truncatingIfNeeded: UInt16(truncatingIfNeeded: value))] += 1 }
                    }
                }
                var distinct: [Int] = []
                for value in 0..<(1 << 16) where counts[value] > 0 { distinct.append(value) }
                distinct.sort { (counts[$0], $1) > (counts[$1], $0) }
                var rank = [UInt32](repeating: 0, count: 1 << 16)
                for (position, value) in distinct.enumerated() { rank[value] = UInt32(position) }
                values = distinct.map { UInt64($0) }
                column.withUnsafeBufferPointer { column in
                    order.withUnsafeBufferPointer { order in
                        rank.withUnsafeBufferPointer { rank in
                            ranks.withUnsafeMutableBufferPointer { ranks in
                                for k in 0..<n { ranks[k] = UInt64(rank[Int(truncatingIfNeeded: UInt16(truncatingIfNeeded: column[Int(order[k])]))]) }
                            }
                        }
                    }
                }
            } else {
                var table = ValueTable(capacity: 256)
                var numbers = [UInt32](repeating: 0, count: n)
                column.withUnsafeBufferPointer { column in
                    numbers.withUnsafeMutableBufferPointer { numbers in
                        for i in 0..<n { numbers[i] = UInt32(table.add(UInt64(column[i]))) }
                    }
                }
                let byFrequency = table.values.indices.sorted { (table.counts[$0], table.values[$1]) > (table.counts[$1], table.values[$0]) }
                var rank = [UInt32](repeating: 0, count: byFrequency.count)
                for (position, number) in byFrequency.enumerated() { rank[number] = UInt32(position) }
                values = byFrequency.map { table.values[$0] }
                numbers.withUnsafeBufferPointer { numbers in
                    order.withUnsafeBufferPointer { order in
                        rank.withUnsafeBufferPointer { rank in
                            ranks.withUnsafeMutableBufferPointer { ranks in
                                for k in 0..<n { ranks[k] = UInt64(rank[Int(numbers[Int(order[k])])]) }
                            }
                        }
                    }
                }
            }
            var tableBytes: [UInt8] = []
            IntegerColumn.encode(values, into: &tableBytes)
            columns.append((tableColumn, tableBytes))
            add(rankColumn, ranks)
        }

        func assemble(_ statistics: Statistics) -> [UInt8] {
            var out: [UInt8] = [FlowBlock.version]
            VarInt.append(UInt64(rows), to: &out)
            for time in [statistics.firstStart, statistics.lastStart, statistics.firstEnd, statistics.lastEnd] {
                VarInt.append(zigzag(time), to: &out)
            }
            VarInt.append(statistics.packets, to: &out)
            VarInt.append(statistics.octets, to: &out)
            VarInt.append(UInt64(statistics.addresses), to: &out)
            VarInt.append(UInt64(columns.count), to: &out)
            for (column, bytes) in columns {
                out.append(column.rawValue)
                VarInt.append(UInt64(bytes.count), to: &out)
            }
            out.reserveCapacity(out.count + columns.reduce(0) { $0 + $1.1.count })
            for (_, bytes) in columns { out.append(contentsOf: bytes) }
            return out
        }
    }
}

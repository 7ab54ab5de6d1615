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
            for i in 0..<n {
                collect(batch.source[i], 2 * i)
                collect(batch.destination[i], 2 * i + 1)
            }
            if batch.hasTranslation {
                for i in 0..<n where batch.translatedSource[i] != .zero { collect(batch.translatedSource[i], 2 * n + i) }
            }
            RadixSort.sort(&v4Keys, bits: 32..<64)
            var dictionaryV4: [UInt64] = []
            var nextID: UInt32 = 0
            var previous = UInt64.max
            for key in v4Keys {
                let address = key >> 32
                if address != previous {
                    dictionaryV4.append(address)
                    previous = address
                    nextID += 1
                }
                ids[Int(key & 0xFFFF_FFFF)] = nextID - 1
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
            for i in 0..<n {
                statistics.firstStart = min(statistics.firstStart, batch.start[i])
                statistics.lastStart = max(statistics.lastStart, batch.start[i])
                statistics.firstEnd = min(statistics.firstEnd, batch.end[i])
                statistics.lastEnd = max(statistics.lastEnd, batch.end[i])
                statistics.packets &+= batch.packets[i]
                statistics.octets &+= batch.octets[i]
            }
            var values = [UInt64](repeating: 0, count: n)
            for k in 0..<n { values[k] = UInt64(bitPattern: batch.end[Int(order[k])] &- statistics.firstEnd) }
            add(.end, values)
            for k in 0..<n {
                let row = Int(order[k])
                values[k] = zigzag(batch.end[row] &- batch.start[row])
            }
            add(.duration, values)
            ranked(batch.sourcePort, order, table: .sourcePortTable, ranks: .sourcePort)
            ranked(batch.destinationPort, order, table: .destinationPortTable, ranks: .destinationPort)
            ranked(batch.protocolFlagsService, order, table: .protocolTable, ranks: .protocolFlagsService)
            ranked(batch.ingress, order, table: .ingressTable, ranks: .ingress)
            ranked(batch.egress, order, table: .egressTable, ranks: .egress)
            for k in 0..<n { values[k] = batch.packets[Int(order[k])] }
            add(.packets, values)
            for k in 0..<n { values[k] = batch.octets[Int(order[k])] }
            add(.octets, values)
            var exporters: [UInt64] = []
            for domain in batch.exporters {
                exporters.append(domain.exporter.high)
                exporters.append(domain.exporter.low)
                exporters.append(UInt64(domain.domain))
            }
            add(.exporters, exporters)
            for k in 0..<n { values[k] = UInt64(batch.exporter[Int(order[k])]) }
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

        /// Stores a low-cardinality column as ranks in a table of its values by frequency.
        mutating func ranked<T: FixedWidthInteger>(
            _ column: [T], _ order: [UInt64], table tableColumn: Column, ranks rankColumn: Column
        ) {
            let n = column.count
            var table = ValueTable(capacity: 256)
            var numbers = [UInt32](repeating: 0, count: n)
            for k in 0..<n { numbers[k] = UInt32(table.add(UInt64(column[Int(order[k])]))) }
            let byFrequency = table.values.indices.sorted { (table.counts[$0], table.values[$1]) > (table.counts[$1], table.values[$0]) }
            var rank = [UInt64](repeating: 0, count: byFrequency.count)
            for (position, number) in byFrequency.enumerated() { rank[number] = UInt64(position) }
            var ranks = [UInt64](repeating: 0, count: n)
            for k in 0..<n { ranks[k] = rank[Int(numbers[k])] }
            var tableBytes: [UInt8] = []
            IntegerColumn.encode(byFrequency.map { table.values[$0] }, into: &tableBytes)
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

import CQilaSystem
import Synchronization

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

    /// A row as the block stores it (address numbers, ranks, times relative to the block), one
    /// cache line, written in the block's order by the encoder's scatter.
    struct Line {
        var end: UInt64 = 0
        var duration: UInt64 = 0
        var packets: UInt64 = 0
        var octets: UInt64 = 0
        var destination: UInt32 = 0
        /// 0 = no translation, else the address number + 1.
        var translated: UInt32 = 0
        var protocolFlagsService: UInt32 = 0
        var ingress: UInt32 = 0
        var egress: UInt32 = 0
        var exporter: UInt32 = 0
        var sourcePort: UInt16 = 0
        var destinationPort: UInt16 = 0
        var translatedPort: UInt16 = 0
        var unused: UInt16 = 0
    }

    /// The block's lines, kept from one encoding to the next: at 900,000 flows a block they take
    /// 58 MB, which glibc would map and the kernel zero afresh at every block (past its 32 MiB
    /// largest heap allocation). One workspace per encoding under way, reused by the next.
    final class Workspace: @unchecked Sendable {
        private var base: UnsafeMutableRawPointer?
        private var capacity = 0

        deinit {
            base?.deallocate()
            addressNumbers.deallocate()
        }

        /// Room for `rows` lines, 64-byte aligned; what it held before is gone. Grown with a
        /// quarter to spare: blocks of a steady rate differ by a few rows, and growing by exactly
        /// what a block needed mapped (and faulted in) a fresh workspace every few blocks.
        func lines(_ rows: Int) -> UnsafeMutablePointer<Line> {
            if rows > capacity || base == nil {
                base?.deallocate()
                capacity = max(rows + rows / 4, 1 << 16)
                // Small pages (not advised for huge ones): the first touch of a fresh huge page
                // costs the writer far more than the scatter's TLB misses save (decision 0014,
                // item 22).
                base = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Line>.stride, alignment: 64)
            }
            return base!.bindMemory(to: Line.self, capacity: capacity)
        }

        /// The table numbering the block's IPv4 addresses, kept for the next block.
        var addressNumbers = AddressNumbers()

        private static let spare = Mutex<[Workspace]>([])

        static func take() -> Workspace { spare.withLock { $0.popLast() } ?? Workspace() }

        static func giveBack(_ workspace: Workspace) { spare.withLock { $0.append(workspace) } }
    }

    /// A block's IPv4 addresses numbered in the order they first appear, through an
    /// open-addressing table of the distinct addresses (`address << 32 | number + 1`, 0 where
    /// empty), so that only the distinct addresses are sorted for their ranks, not one key per
    /// address slot. The encoder asks for an address's table slot a few rows before it needs it
    /// (`prefetch`), so that the lookups' cache misses overlap. The hash is multiplicative with a
    /// random odd multiplier for each table, so that a sender cannot know which addresses collide.
    /// Storage is raw and owned by the `Workspace` that holds the table.
    struct AddressNumbers {
        private var table: UnsafeMutablePointer<UInt64>
        private var capacity: Int
        private var shift: UInt64
        private let multiplier = UInt64.random(in: 0...UInt64.max) | 1
        /// The addresses by number.
        private(set) var addresses: UnsafeMutablePointer<UInt32>
        private var addressCapacity: Int
        private(set) var count = 0

        init() {
            capacity = 1 << 16
            shift = 64 - 16
            table = .allocate(capacity: capacity)
            table.initialize(repeating: 0, count: capacity)
            addressCapacity = capacity / 2
            addresses = .allocate(capacity: addressCapacity)
        }

        func deallocate() {
            table.deallocate()
            addresses.deallocate()
        }

        /// Empties the table for the next block. A table four times larger than its last block
        /// needed is halved, so that one burst of addresses does not keep its memory for good.
        mutating func reset() {
            if capacity > 1 << 16 && count * 8 < capacity {
                table.deallocate()
                capacity /= 2
                shift += 1
                table = .allocate(capacity: capacity)
            }
            table.update(repeating: 0, count: capacity)
            count = 0
        }

        @inline(__always)
        private func slot(_ address: UInt32) -> Int { Int(truncatingIfNeeded: (UInt64(address) &* multiplier) &>> shift) }

        @inline(__always)
        func prefetch(_ address: UInt32) { qila_prefetch(table + slot(address)) }

        /// The number of `address`: how many distinct addresses came before its first appearance.
        @inline(__always)
        mutating func number(_ address: UInt32) -> UInt32 {
            let mask = capacity - 1
            var at = slot(address)
            while true {
                let entry = table[at]
                if entry == 0 { break }
                if UInt32(truncatingIfNeeded: entry &>> 32) == address { return UInt32(truncatingIfNeeded: entry) &- 1 }
                at = (at + 1) & mask
            }
            let number = count
            table[at] = UInt64(address) << 32 | UInt64(number + 1)
            if number == addressCapacity { growAddresses() }
            addresses[number] = address
            count = number + 1
            if count * 2 > capacity { grow() }
            return UInt32(truncatingIfNeeded: number)
        }

        private mutating func growAddresses() {
            let larger = UnsafeMutablePointer<UInt32>.allocate(capacity: addressCapacity * 2)
            larger.moveInitialize(from: addresses, count: count)
            addresses.deallocate()
            addresses = larger
            addressCapacity *= 2
        }

        /// Doubles the table and enters the addresses again (at most half of it is ever in use).
        private mutating func grow() {
            table.deallocate()
            capacity *= 2
            shift -= 1
            table = .allocate(capacity: capacity)
            table.initialize(repeating: 0, count: capacity)
            let mask = capacity - 1
            for number in 0..<count {
                var at = slot(addresses[number])
                while table[at] != 0 { at = (at + 1) & mask }
                table[at] = UInt64(addresses[number]) << 32 | UInt64(number + 1)
            }
        }
    }

    private struct Encoder {
        let batch: FlowBatch
        var columns: [(Column, [UInt8])] = []

        init(_ batch: FlowBatch) {
            precondition(batch.count <= FlowBlock.maximumRows, "a block holds at most \(FlowBlock.maximumRows) rows")
            self.batch = batch
        }

        mutating func add(_ column: Column, _ values: [UInt64], layout: IntegerColumn.Layout = .plain) {
            values.withUnsafeBufferPointer { add(column, $0, layout: layout) }
        }

        mutating func add(_ column: Column, _ values: UnsafeBufferPointer<UInt64>, layout: IntegerColumn.Layout = .plain) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 2 + 16)
            IntegerColumn.encode(values, layout: layout, into: &bytes)
            columns.append((column, bytes))
        }

        mutating func run() -> Encoded {
            batch.withRows { rows in run(rows) }
        }

        /// Three passes: one over the rows as they arrived (addresses numbered by first
        /// appearance, statistics, value counts), the ranks (only the distinct addresses are
        /// sorted) with the rows scattered into the block's order, and one over the rows in that
        /// order that codes every row column frame by frame while the frame is in the cache.
        private mutating func run(_ rows: UnsafeBufferPointer<FlowBatch.Row>) -> Encoded {
            let n = rows.count
            let translation = batch.hasTranslation
            // 1. Arrival order. Address slots: source i, destination n+i, translated 2n+i.
            let slots = translation ? 3 * n : 2 * n
            var v6: [(FlowAddress, Int)] = []
            var statistics = Statistics.empty
            statistics.rows = n
            // Counts of the three port columns (source, destination, translated), by value.
            let portCounts = UnsafeMutablePointer<UInt32>.allocate(capacity: 3 << 16)
            defer { portCounts.deallocate() }
            portCounts.initialize(repeating: 0, count: 3 << 16)
            var protocols = ValueTable(capacity: 256)
            var ingresses = ValueTable(capacity: 256)
            var egresses = ValueTable(capacity: 256)
            let workspace = Workspace.take()
            defer { Workspace.giveBack(workspace) }
            // Address numbers, by slot: for an IPv4 address first its number in the order of
            // first appearance (`AddressNumbers`), for an IPv6 one its rank; then every slot its
            // address's rank. The slots of rows without a translated source hold 0 and are not used.
            let ids = UnsafeMutablePointer<UInt32>.allocate(capacity: max(slots, 1))
            defer { ids.deallocate() }
            // Each row's numbers in the protocol, ingress and egress tables, kept from the first
            // pass for the scatter: reading them back costs less than looking the values up again.
            let valueNumbers = UnsafeMutablePointer<UInt32>.allocate(capacity: max(3 * n, 1))
            defer { valueNumbers.deallocate() }
            var numbers = workspace.addressNumbers
            numbers.reset()
            do {
                var firstStart = Int64.max, lastStart = Int64.min, firstEnd = Int64.max, lastEnd = Int64.min
                var packets: UInt64 = 0, octets: UInt64 = 0
                // The table's slot for a row's addresses is asked for this many rows ahead, so
                // that its cache miss is under way when the row comes.
                let ahead = 12
                for i in 0..<n {
                    if i + ahead < n {
                        let later = rows[i + ahead]
                        numbers.prefetch(later.source)
                        numbers.prefetch(later.destination)
                    }
                    let row = rows[i]
                    let kinds = row.kinds
                    if kinds & FlowBatch.Row.sourceV6 == 0 {
                        ids[i] = numbers.number(row.source)
                    } else {
                        v6.append((batch.addressesV6[Int(row.source)], i))
                    }
                    if kinds & FlowBatch.Row.destinationV6 == 0 {
                        ids[n + i] = numbers.number(row.destination)
                    } else {
                        v6.append((batch.addressesV6[Int(row.destination)], n + i))
                    }
                    if translation {
                        if kinds & FlowBatch.Row.translated == 0 {
                            ids[2 * n + i] = 0
                        } else if kinds & FlowBatch.Row.translatedV6 == 0 {
                            ids[2 * n + i] = numbers.number(row.translatedSource)
                        } else {
                            v6.append((batch.addressesV6[Int(row.translatedSource)], 2 * n + i))
                        }
                    }
                    firstStart = min(firstStart, row.start)
                    lastStart = max(lastStart, row.start)
                    firstEnd = min(firstEnd, row.end)
                    lastEnd = max(lastEnd, row.end)
                    packets &+= row.packets
                    octets &+= row.octets
                    portCounts[Int(row.sourcePort)] &+= 1
                    portCounts[1 << 16 | Int(row.destinationPort)] &+= 1
                    portCounts[2 << 16 | Int(row.translatedPort)] &+= 1
                    valueNumbers[3 * i] = UInt32(truncatingIfNeeded: protocols.add(UInt64(row.protocolFlagsService)))
                    valueNumbers[3 * i + 1] = UInt32(truncatingIfNeeded: ingresses.add(UInt64(row.ingress)))
                    valueNumbers[3 * i + 2] = UInt32(truncatingIfNeeded: egresses.add(UInt64(row.egress)))
                }
                statistics.firstStart = firstStart
                statistics.lastStart = lastStart
                statistics.firstEnd = firstEnd
                statistics.lastEnd = lastEnd
                statistics.packets = packets
                statistics.octets = octets
            }

            // 2. Address numbers: every address's rank among the block's addresses, IPv4 ones
            // first. Only the distinct IPv4 addresses are sorted, not every slot.
            var sortedV4 = (0..<numbers.count).map { UInt64(numbers.addresses[$0]) << 32 | UInt64($0) }
            workspace.addressNumbers = numbers
            RadixSort.sort(&sortedV4, bits: 32..<64)
            let dictionaryV4 = sortedV4.map { $0 >> 32 }
            var nextID = UInt32(sortedV4.count)
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
            statistics.addresses = Int(nextID)
            // Every slot's rank: IPv4 numbers by the sort, IPv6 ones are ranks already. One pass
            // here costs less than looking the ranks up where the slots are read.
            do {
                let rank = UnsafeMutablePointer<UInt32>.allocate(capacity: max(Int(nextID), 1))
                defer { rank.deallocate() }
                rank[0] = 0
                for (position, key) in sortedV4.enumerated() { rank[Int(key & 0xFFFF_FFFF)] = UInt32(position) }
                for id in sortedV4.count..<Int(nextID) { rank[id] = UInt32(id) }
                for slot in 0..<slots { ids[slot] = rank[Int(ids[slot])] }
            }
            sortedV4 = []
            add(.addressesV4, dictionaryV4, layout: .sorted)
            add(.addressesV6, dictionaryV6)

            // Low-cardinality columns: each value's rank in a table of the values by frequency.
            let portRanks = UnsafeMutablePointer<UInt32>.allocate(capacity: 3 << 16)
            defer { portRanks.deallocate() }
            let sourcePortTable = Self.rankPorts(portCounts, portRanks)
            let destinationPortTable = Self.rankPorts(portCounts + (1 << 16), portRanks + (1 << 16))
            let translatedPortTable = translation ? Self.rankPorts(portCounts + (2 << 16), portRanks + (2 << 16)) : []
            let (protocolTable, protocolRanks) = protocols.ranked()
            let (ingressTable, ingressRanks) = ingresses.ranked()
            let (egressTable, egressRanks) = egresses.ranked()

            // Rows ordered by source number, arrival order within a source (a counting sort:
            // numbers are dense). Each source's rows are one run. Every row is written, as the
            // numbers the block stores, to its place in that order: one pass over the rows as
            // they arrived, each scattered as one line past the caches, so that the next pass
            // reads the block's order as a stream instead of a cache miss a row.
            let lines = workspace.lines(n)
            var runIDs: [UInt64] = []
            var runStarts: [UInt64] = []
            do {
                let next = UnsafeMutablePointer<UInt32>.allocate(capacity: Int(nextID) + 1)
                defer { next.deallocate() }
                next.initialize(repeating: 0, count: Int(nextID) + 1)
                for i in 0..<n { next[Int(ids[i])] &+= 1 }
                var position: UInt32 = 0
                for id in 0..<Int(nextID) where next[id] > 0 {
                    runIDs.append(UInt64(id))
                    runStarts.append(UInt64(position))
                    let rowsOfSource = next[id]
                    next[id] = position
                    position += rowsOfSource
                }
                let firstEnd = statistics.firstEnd
                var line = Line()
                for i in 0..<n {
                    // The source's place and the source port's rank are random reads; asked for
                    // a few rows ahead, as in the first pass.
                    if i + 16 < n {
                        qila_prefetch(next + Int(ids[i + 16]))
                        qila_prefetch(portRanks + Int(rows[i + 16].sourcePort))
                    }
                    let row = rows[i]
                    line.end = UInt64(bitPattern: row.end &- firstEnd)
                    line.duration = zigzag(row.end &- row.start)
                    line.packets = row.packets
                    line.octets = row.octets
                    line.destination = ids[n + i]
                    line.translated = translation && row.kinds & FlowBatch.Row.translated != 0 ? ids[2 * n + i] &+ 1 : 0
                    line.protocolFlagsService = protocolRanks[Int(valueNumbers[3 * i])]
                    line.ingress = ingressRanks[Int(valueNumbers[3 * i + 1])]
                    line.egress = egressRanks[Int(valueNumbers[3 * i + 2])]
                    line.exporter = UInt32(row.exporter)
                    line.sourcePort = UInt16(truncatingIfNeeded: portRanks[Int(row.sourcePort)])
                    line.destinationPort = UInt16(truncatingIfNeeded: portRanks[1 << 16 | Int(row.destinationPort)])
                    line.translatedPort = translation ? UInt16(truncatingIfNeeded: portRanks[2 << 16 | Int(row.translatedPort)]) : 0
                    let id = Int(ids[i])
                    let at = Int(next[id])
                    next[id] = UInt32(at + 1)
                    withUnsafePointer(to: &line) { qila_stream_line(lines + at, $0) }
                }
                qila_stream_fence()
            }
            add(.sourceRunIDs, runIDs, layout: .sorted)
            add(.sourceRunStarts, runStarts, layout: .sorted)

            // 3. Block order, frame by frame: every column's frame is taken from the lines and
            // coded at once.
            enum Slot: Int, CaseIterable {
                case destination, end, duration, sourcePort, destinationPort, protocolFlagsService, ingress, egress, packets, octets, exporter
                case translated, translatedPort
            }
            let slotCount = translation ? Slot.allCases.count : Slot.translated.rawValue
            var writers = (0..<slotCount).map { _ in IntegerColumn.Writer(count: n) }
            let frameLength = IntegerColumn.frameLength
            let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: Slot.allCases.count * frameLength)
            defer { scratch.deallocate() }
            func column(_ slot: Slot) -> UnsafeMutablePointer<UInt64> { scratch + slot.rawValue * frameLength }
            let destinations = column(.destination), ends = column(.end), durations = column(.duration)
            let sourcePorts = column(.sourcePort), destinationPorts = column(.destinationPort)
            let protocolColumn = column(.protocolFlagsService), ingressColumn = column(.ingress), egressColumn = column(.egress)
            let packetColumn = column(.packets), octetColumn = column(.octets), exporterColumn = column(.exporter)
            let translatedColumn = column(.translated), translatedPorts = column(.translatedPort)
            // `number << 32 | frame` for each frame a destination (or translated address)
            // occurs in: at most one a row.
            let destinationPairs = UnsafeMutablePointer<UInt64>.allocate(capacity: max(n, 1))
            defer { destinationPairs.deallocate() }
            let translatedPairs = UnsafeMutablePointer<UInt64>.allocate(capacity: translation ? max(n, 1) : 1)
            defer { translatedPairs.deallocate() }
            var destinationPairCount = 0, translatedPairCount = 0
            var lower = 0
            var frame: UInt64 = 0
            while lower < n {
                let count = min(frameLength, n - lower)
                for j in 0..<count {
                    let line = lines[lower + j]
                    destinations[j] = UInt64(line.destination)
                    ends[j] = line.end
                    durations[j] = line.duration
                    sourcePorts[j] = UInt64(line.sourcePort)
                    destinationPorts[j] = UInt64(line.destinationPort)
                    protocolColumn[j] = UInt64(line.protocolFlagsService)
                    ingressColumn[j] = UInt64(line.ingress)
                    egressColumn[j] = UInt64(line.egress)
                    packetColumn[j] = line.packets
                    octetColumn[j] = line.octets
                    exporterColumn[j] = UInt64(line.exporter)
                    if translation {
                        translatedColumn[j] = UInt64(line.translated)
                        translatedPorts[j] = UInt64(line.translatedPort)
                    }
                }
                // The frames each destination (and translated address) occurs in. Each pair is
                // stored, and kept (counted) only when it differs from the one before: no branch
                // to mispredict.
                var lastPair = UInt64.max
                for j in 0..<count {
                    let pair = destinations[j] << 32 | frame
                    destinationPairs[destinationPairCount] = pair
                    destinationPairCount &+= pair != lastPair ? 1 : 0
                    lastPair = pair
                }
                if translation {
                    lastPair = UInt64.max
                    for j in 0..<count where translatedColumn[j] != 0 {
                        let pair = translatedColumn[j] << 32 | frame
                        translatedPairs[translatedPairCount] = pair
                        translatedPairCount &+= pair != lastPair ? 1 : 0
                        lastPair = pair
                    }
                }
                for slot in 0..<slotCount {
                    writers[slot].append(UnsafeBufferPointer(start: scratch + slot * frameLength, count: count))
                }
                lower += count
                frame += 1
            }
            var coded = writers.map { $0.finish() }
            func take(_ slot: Slot) -> [UInt8] { defer { coded[slot.rawValue] = [] }; return coded[slot.rawValue] }

            columns.append((.destination, take(.destination)))
            index(UnsafeBufferPointer(start: destinationPairs, count: destinationPairCount), values: Int(nextID), keys: .destinationKeys, starts: .destinationListStarts, frames: .destinationFrames)
            columns.append((.end, take(.end)))
            columns.append((.duration, take(.duration)))
            add(.sourcePortTable, sourcePortTable)
            columns.append((.sourcePort, take(.sourcePort)))
            add(.destinationPortTable, destinationPortTable)
            columns.append((.destinationPort, take(.destinationPort)))
            add(.protocolTable, protocolTable)
            columns.append((.protocolFlagsService, take(.protocolFlagsService)))
            add(.ingressTable, ingressTable)
            columns.append((.ingress, take(.ingress)))
            add(.egressTable, egressTable)
            columns.append((.egress, take(.egress)))
            columns.append((.packets, take(.packets)))
            columns.append((.octets, take(.octets)))
            var exporters: [UInt64] = []
            for domain in batch.exporters {
                exporters.append(domain.exporter.high)
                exporters.append(domain.exporter.low)
                exporters.append(UInt64(domain.domain))
            }
            add(.exporters, exporters)
            columns.append((.exporter, take(.exporter)))

            // 4. Carrier-grade NAT: the translated source (0 = none, else number + 1) and port.
            if translation {
                columns.append((.translated, take(.translated)))
                index(UnsafeBufferPointer(start: translatedPairs, count: translatedPairCount), values: Int(nextID) + 1, keys: .translatedKeys, starts: .translatedListStarts, frames: .translatedFrames)
                add(.translatedPortTable, translatedPortTable)
                columns.append((.translatedPort, take(.translatedPort)))
            }
            return Encoded(bytes: assemble(statistics), statistics: statistics, addressesV4: dictionaryV4, addressesV6: addressesV6)
        }

        /// The table of the port values that occur, most frequent first (ties by value), and
        /// each value's rank in `ranks`.
        ///
        /// Sorted as plain integers, `(UInt32.max - count) << 16 | value`, which order the same:
        /// with tens of thousands of distinct ports (ephemeral ones) a sort comparing through the
        /// counts cost several nanoseconds a flow.
        static func rankPorts(_ counts: UnsafeMutablePointer<UInt32>, _ ranks: UnsafeMutablePointer<UInt32>) -> [UInt64] {
            var keys: [UInt64] = []
            for value in 0..<(1 << 16) where counts[value] > 0 {
                keys.append(UInt64(UInt32.max - counts[value]) << 16 | UInt64(value))
            }
            keys.sort()
            var table = [UInt64](repeating: 0, count: keys.count)
            for (position, key) in keys.enumerated() {
                let value = key & 0xFFFF
                ranks[Int(value)] = UInt32(position)
                table[position] = value
            }
            return table
        }

        /// From `value << 32 | frame` pairs (frames ascending; each value below `values`): for
        /// every distinct value, the frames it occurs in. The values are dense numbers, so the
        /// pairs are put in value order by counting (one pass to count, one to place each frame,
        /// frames staying ascending within a value), which costs a third of sorting them.
        mutating func index(_ pairs: UnsafeBufferPointer<UInt64>, values: Int, keys keyColumn: Column, starts startColumn: Column, frames frameColumn: Column) {
            let next = UnsafeMutablePointer<UInt32>.allocate(capacity: values + 1)
            defer { next.deallocate() }
            next.initialize(repeating: 0, count: values + 1)
            for pair in pairs { next[Int(pair >> 32) + 1] &+= 1 }
            for value in 0..<values { next[value + 1] &+= next[value] }
            // `next[value]` is now where the value's frames begin; placing them moves it to
            // where they end, which is where the next value's begin.
            let placed = UnsafeMutablePointer<UInt32>.allocate(capacity: max(pairs.count, 1))
            defer { placed.deallocate() }
            for pair in pairs {
                let value = Int(pair >> 32)
                placed[Int(next[value])] = UInt32(truncatingIfNeeded: pair)
                next[value] &+= 1
            }
            // At most one key, start and frame a pair.
            let lists = UnsafeMutablePointer<UInt64>.allocate(capacity: max(3 * pairs.count, 1))
            defer { lists.deallocate() }
            let keys = lists, starts = lists + pairs.count, frames = lists + 2 * pairs.count
            var listed = 0, framed = 0
            var begin = 0
            for value in 0..<values {
                let end = Int(next[value])
                guard end > begin else { continue }
                keys[listed] = UInt64(value)
                starts[listed] = UInt64(framed)
                listed += 1
                var previous = placed[begin]
                frames[framed] = UInt64(previous)
                framed += 1
                for k in (begin + 1)..<end where placed[k] != previous {
                    frames[framed] = UInt64(placed[k] - previous - 1)
                    framed += 1
                    previous = placed[k]
                }
                begin = end
            }
            add(keyColumn, UnsafeBufferPointer(start: keys, count: listed), layout: .sorted)
            add(startColumn, UnsafeBufferPointer(start: starts, count: listed), layout: .sorted)
            add(frameColumn, UnsafeBufferPointer(start: frames, count: framed))
        }

        func assemble(_ statistics: Statistics) -> [UInt8] {
            var out: [UInt8] = [FlowBlock.version]
            VarInt.append(UInt64(statistics.rows), to: &out)
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

/// Reads one block in place: finds the rows of an address through the block's dictionary and
/// indexes, and decodes only the frames that hold them.
public struct FlowBlockReader {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case damaged(String)
        public var description: String {
            switch self { case .damaged(let what): "damaged block: \(what)" }
        }
    }

    public let statistics: FlowBlock.Statistics
    let bytes: UnsafeRawBufferPointer
    var columns: [FlowBlock.Column: IntegerColumnReader] = [:]
    private let v4Count: Int
    let v6: [FlowAddress]
    private let exporters: [FlowDecoder.Domain]

    /// `bytes` (the block's payload) must stay valid while the reader is used.
    public init(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        self.bytes = bytes
        var offset = 0
        func number() throws(Failure) -> UInt64 {
            guard let value = VarInt.read(bytes, &offset) else { throw .damaged("header at byte \(offset)") }
            return value
        }
        guard bytes.count > 0, bytes[0] == FlowBlock.version else { throw .damaged("unknown block version") }
        offset = 1
        let rows = Int(try number())
        let firstStart = unzigzag(try number())
        let lastStart = unzigzag(try number())
        let firstEnd = unzigzag(try number())
        let lastEnd = unzigzag(try number())
        let packets = try number()
        let octets = try number()
        let addresses = Int(try number())
        statistics = FlowBlock.Statistics(
            rows: rows, firstStart: firstStart, lastStart: lastStart, firstEnd: firstEnd, lastEnd: lastEnd, packets: packets,
            octets: octets, addresses: addresses)
        let count = Int(try number())
        guard count < 256 else { throw .damaged("column count") }
        var directory: [(UInt8, Int)] = []
        for _ in 0..<count {
            guard offset < bytes.count else { throw .damaged("column directory") }
            let id = bytes[offset]
            offset += 1
            directory.append((id, Int(try number())))
        }
        for (id, length) in directory {
            guard length >= 0, offset + length <= bytes.count else { throw .damaged("column \(id) runs past the block") }
            if let column = FlowBlock.Column(rawValue: id) {
                do {
                    columns[column] = try IntegerColumnReader(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
                } catch {
                    throw .damaged("column \(column)")
                }
            }
            offset += length
        }
        for required in [FlowBlock.Column.addressesV4, .addressesV6, .sourceRunIDs, .sourceRunStarts, .destination, .end, .duration, .packets, .octets, .exporters, .exporter] {
            guard let column = columns[required] else { throw .damaged("column \(required) missing") }
            guard required == .addressesV4 || required == .addressesV6 || required == .sourceRunIDs || required == .sourceRunStarts
                || required == .exporters || column.count == rows
            else { throw .damaged("column \(required) has \(column.count) values for \(rows) rows") }
        }
        v4Count = columns[.addressesV4]!.count
        do {
            let words = try columns[.addressesV6]!.decodeAll()
            v6 = stride(from: 0, to: words.count - 1, by: 2).map { FlowAddress(high: words[$0], low: words[$0 + 1]) }
            let exporterWords = try columns[.exporters]!.decodeAll()
            exporters = stride(from: 0, to: exporterWords.count - 2, by: 3).map {
                FlowDecoder.Domain(exporter: FlowAddress(high: exporterWords[$0], low: exporterWords[$0 + 1]), domain: UInt32(truncatingIfNeeded: exporterWords[$0 + 2]))
            }
        } catch {
            throw .damaged("tables")
        }
        guard v4Count + v6.count == addresses else { throw .damaged("dictionary has \(v4Count + v6.count) addresses, header \(addresses)") }
    }

    public var rowCount: Int { statistics.rows }

    // MARK: Addresses

    /// The number of `address` in this block's dictionary, if it occurs.
    func number(of address: FlowAddress) throws(Failure) -> UInt64? {
        if let v4 = address.ipv4 {
            guard let column = columns[.addressesV4], column.count > 0 else { return nil }
            guard let position = try search(column, for: UInt64(v4)) else { return nil }
            return UInt64(position)
        }
        var low = 0
        var high = v6.count
        while low < high {
            let middle = (low + high) / 2
            if v6[middle] < address { low = middle + 1 } else { high = middle }
        }
        return low < v6.count && v6[low] == address ? UInt64(v4Count + low) : nil
    }

    func address(number: UInt64, cache: inout FrameCache) throws(Failure) -> FlowAddress {
        let n = Int(number)
        if n < v4Count {
            return FlowAddress(ipv4: UInt32(truncatingIfNeeded: try cache.value(columns[.addressesV4]!, n, .sorted)))
        }
        guard n - v4Count < v6.count else { throw .damaged("address number \(n) out of range") }
        return v6[n - v4Count]
    }

    /// Position of `value` in a sorted column, by its frame bases and then within one frame.
    private func search(_ column: IntegerColumnReader, for value: UInt64) throws(Failure) -> Int? {
        var low = 0
        var high = column.frames
        do {
            while low < high {
                let middle = (low + high) / 2
                if try column.base(ofFrame: middle) <= value { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return nil }
            let frame = low - 1
            return try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: IntegerColumn.frameLength) { (scratch) throws(IntegerColumnReader.Failure) -> Int? in
                let n = try column.decode(frame: frame, layout: .sorted, into: scratch.baseAddress!)
                var a = 0
                var b = n
                while a < b {
                    let m = (a + b) / 2
                    if scratch[m] < value { a = m + 1 } else { b = m }
                }
                return a < n && scratch[a] == value ? frame * IntegerColumn.frameLength + a : nil
            }
        } catch {
            throw .damaged("sorted column")
        }
    }

    // MARK: Rows of an address

    /// The rows (in block order, ascending) where `address` is the source, destination or
    /// translated source.
    public func rows(of address: FlowAddress) throws(Failure) -> [Int] {
        guard let number = try number(of: address) else { return [] }
        var rows: [Int] = []
        var cache = FrameCache()
        // Source: a run of the sorted rows.
        if let run = try search(columns[.sourceRunIDs]!, for: number) {
            let starts = columns[.sourceRunStarts]!
            let first = Int(try cache.value(starts, run, .sorted))
            let last = run + 1 < starts.count ? Int(try cache.value(starts, run + 1, .sorted)) : rowCount
            rows.append(contentsOf: first..<last)
        }
        rows += try indexed(number, keys: .destinationKeys, starts: .destinationListStarts, frames: .destinationFrames, column: .destination)
        if columns[.translated] != nil {
            rows += try indexed(number + 1, keys: .translatedKeys, starts: .translatedListStarts, frames: .translatedFrames, column: .translated)
        }
        rows.sort()
        var unique: [Int] = []
        unique.reserveCapacity(rows.count)
        for row in rows where unique.last != row { unique.append(row) }
        return unique
    }

    private func indexed(_ value: UInt64, keys: FlowBlock.Column, starts: FlowBlock.Column, frames: FlowBlock.Column, column: FlowBlock.Column) throws(Failure) -> [Int] {
        guard let keyColumn = columns[keys], let startColumn = columns[starts], let frameColumn = columns[frames], let valueColumn = columns[column]
        else { return [] }
        guard let position = try search(keyColumn, for: value) else { return [] }
        var cache = FrameCache()
        let first = Int(try cache.value(startColumn, position, .sorted))
        let last = position + 1 < startColumn.count ? Int(try cache.value(startColumn, position + 1, .sorted)) : frameColumn.count
        guard first <= last, last <= frameColumn.count else { throw .damaged("index list \(position)") }
        var rows: [Int] = []
        var frame = -1
        var frameCache = FrameCache()
        for entry in first..<last {
            let stored = Int(try frameCache.value(frameColumn, entry, .plain))
            frame = entry == first ? stored : frame + stored + 1
            guard frame * IntegerColumn.frameLength < rowCount else { throw .damaged("index frame \(frame)") }
            try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: IntegerColumn.frameLength) { (scratch) throws(Failure) in
                let n: Int
                do { n = try valueColumn.decode(frame: frame, into: scratch.baseAddress!) } catch { throw .damaged("column \(column)") }
                for i in 0..<n where scratch[i] == value { rows.append(frame * IntegerColumn.frameLength + i) }
            }
        }
        return rows
    }

    // MARK: Records

    /// The flows at `rows` (ascending), with the exporter that sent each.
    public func records(at rows: [Int]) throws(Failure) -> [(record: FlowRecord, exporter: FlowDecoder.Domain)] {
        var caches = [FlowBlock.Column: FrameCache]()
        var results: [(record: FlowRecord, exporter: FlowDecoder.Domain)] = []
        results.reserveCapacity(rows.count)
        var runCache = FrameCache()
        var startCache = FrameCache()
        var addressCache = FrameCache()
        let runs = columns[.sourceRunStarts]!
        let runIDs = columns[.sourceRunIDs]!
        var run = 0
        func value(_ column: FlowBlock.Column, _ row: Int) throws(Failure) -> UInt64 {
            guard let reader = columns[column] else { return 0 }
            var cache = caches[column] ?? FrameCache()
            defer { caches[column] = cache }
            return try cache.value(reader, row, .plain)
        }
        // Tables are read lazily: a query touches a few of their frames, not all of them.
        func ranked(_ table: FlowBlock.Column, _ column: FlowBlock.Column, _ row: Int) throws(Failure) -> UInt64 {
            guard let values = columns[table] else { return 0 }
            let rank = Int(try value(column, row))
            guard rank < values.count else { throw .damaged("rank \(rank) of \(column)") }
            return try value(table, rank)
        }
        for row in rows {
            guard row >= 0, row < rowCount else { throw .damaged("row \(row) of \(rowCount)") }
            // The run that holds the row: runs start in ascending order. Frames are found by
            // their bases (read from headers alone); only the one frame is decoded.
            var low = 0
            var high = runs.frames
            do {
                while low < high {
                    let middle = (low + high) / 2
                    if try runs.base(ofFrame: middle) <= UInt64(row) { low = middle + 1 } else { high = middle }
                }
            } catch {
                throw .damaged("run starts")
            }
            low = max(0, low - 1) * IntegerColumn.frameLength
            high = min(runs.count, low + IntegerColumn.frameLength)
            while low < high {
                let middle = (low + high) / 2
                if try startCache.value(runs, middle, .sorted) <= UInt64(row) { low = middle + 1 } else { high = middle }
            }
            run = max(0, low - 1)
            var record = FlowRecord()
            record.source = try address(number: try runCache.value(runIDs, run, .sorted), cache: &addressCache)
            record.destination = try address(number: try value(.destination, row), cache: &addressCache)
            record.end = statistics.firstEnd &+ Int64(bitPattern: try value(.end, row))
            record.start = record.end &- unzigzag(try value(.duration, row))
            record.sourcePort = UInt16(truncatingIfNeeded: try ranked(.sourcePortTable, .sourcePort, row))
            record.destinationPort = UInt16(truncatingIfNeeded: try ranked(.destinationPortTable, .destinationPort, row))
            let packed = try ranked(.protocolTable, .protocolFlagsService, row)
            record.protocolNumber = UInt8(truncatingIfNeeded: packed >> 16)
            record.tcpFlags = UInt8(truncatingIfNeeded: packed >> 8)
            record.typeOfService = UInt8(truncatingIfNeeded: packed)
            record.ingressInterface = UInt32(truncatingIfNeeded: try ranked(.ingressTable, .ingress, row))
            record.egressInterface = UInt32(truncatingIfNeeded: try ranked(.egressTable, .egress, row))
            record.packets = try value(.packets, row)
            record.octets = try value(.octets, row)
            if columns[.translated] != nil {
                let translated = try value(.translated, row)
                let port = UInt16(truncatingIfNeeded: try ranked(.translatedPortTable, .translatedPort, row))
                if translated > 0 {
                    record.translatedSource = try address(number: translated - 1, cache: &addressCache)
                    record.translatedSourcePort = port
                } else if port != 0 {
                    record.translatedSourcePort = port
                }
            }
            let exporter = Int(try value(.exporter, row))
            guard exporter < exporters.count else { throw .damaged("exporter \(exporter)") }
            results.append((record, exporters[exporter]))
        }
        return results
    }

    /// Every flow of the block.
    public func allRecords() throws(Failure) -> [(record: FlowRecord, exporter: FlowDecoder.Domain)] {
        try records(at: Array(0..<rowCount))
    }
}

/// The last decoded frame of a column, so reading rows in order decodes each frame once.
struct FrameCache {
    private var column: UnsafeRawPointer?
    private var frame = -1
    /// How many of the frame's values are decoded: frames are decoded only as far as needed.
    private var decoded = 0
    private var values = [UInt64](repeating: 0, count: IntegerColumn.frameLength)

    mutating func value(_ reader: IntegerColumnReader, _ index: Int, _ layout: IntegerColumn.Layout) throws(FlowBlockReader.Failure) -> UInt64 {
        guard index >= 0, index < reader.count else { throw .damaged("index \(index) of \(reader.count)") }
        let wanted = index / IntegerColumn.frameLength
        let position = index % IntegerColumn.frameLength
        if wanted != frame || column != reader.bytes.baseAddress {
            // Scattered rows (an address as destination) touch a frame for one value: read it
            // where it lies when the frame is bit-packed, and decode whole frames otherwise.
            if layout == .plain {
                do {
                    if let value = try reader.packedValue(at: index) { return value }
                } catch {
                    throw .damaged("frame \(wanted)")
                }
            }
            try fill(reader, wanted, layout, upTo: position + 1)
        } else if position >= decoded {
            try fill(reader, wanted, layout, upTo: IntegerColumn.frameLength)
        }
        return values[position]
    }

    private mutating func fill(_ reader: IntegerColumnReader, _ wanted: Int, _ layout: IntegerColumn.Layout, upTo limit: Int) throws(FlowBlockReader.Failure) {
        do {
            decoded = try values.withUnsafeMutableBufferPointer { (buffer) throws(IntegerColumnReader.Failure) in
                try reader.decode(frame: wanted, layout: layout, into: buffer.baseAddress!, limit: limit)
            }
        } catch {
            throw .damaged("frame \(wanted)")
        }
        frame = wanted
        column = reader.bytes.baseAddress
    }
}

extension FlowBlockReader {
    /// Every address in the block's dictionary.
    func addresses() throws(Failure) -> [FlowAddress] {
        guard let column = columns[.addressesV4] else { return v6 }
        do {
            return try column.decodeAll(layout: .sorted).map { FlowAddress(ipv4: UInt32(truncatingIfNeeded: $0)) } + v6
        } catch {
            throw .damaged("address dictionary")
        }
    }
}

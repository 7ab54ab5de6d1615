public import QilaCore
import Foundation

/// What one intake read or request brought from one sensor: its messages or lines back to back,
/// with the time it arrived. The unit the journal stores and the pipeline processes.
public struct JournalEntry: Sendable {
    public enum Kind: UInt8, Sendable {
        /// Syslog messages (one per framed message or datagram), headers included.
        case syslog = 1
        /// JSON objects, one per record.
        case json = 2
        /// Lines of a text log format (the sensor's), each with or without a syslog header.
        case line = 3
    }

    public var sensor: Sensor.ID
    /// Milliseconds since 1970 when intake received it.
    public var receivedAt: Int64
    public var kind: Kind
    /// The records back to back.
    public private(set) var payload: [UInt8]
    /// The end of each record in `payload`.
    public private(set) var ends: [UInt32]

    public init(sensor: Sensor.ID, receivedAt: Int64, kind: Kind, capacity: Int = 0) {
        self.sensor = sensor
        self.receivedAt = receivedAt
        self.kind = kind
        payload = []
        payload.reserveCapacity(capacity)
        ends = []
    }

    init(sensor: Sensor.ID, receivedAt: Int64, kind: Kind, payload: [UInt8], ends: [UInt32]) {
        self.sensor = sensor
        self.receivedAt = receivedAt
        self.kind = kind
        self.payload = payload
        self.ends = ends
    }

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    public mutating func append<C: Collection<UInt8>>(_ record: C) {
        payload.append(contentsOf: record)
        ends.append(UInt32(payload.count))
    }

    /// Where record `index` is in `payload`.
    public func range(of index: Int) -> Range<Int> {
        (index == 0 ? 0 : Int(ends[index - 1]))..<Int(ends[index])
    }

    public func record(_ index: Int) -> ArraySlice<UInt8> { payload[range(of: index)] }

    /// The first `count` records, and the rest, as two entries of the same sensor and time.
    public func split(at count: Int) -> (JournalEntry, JournalEntry) {
        let cut = count == 0 ? 0 : Int(ends[count - 1])
        let head = JournalEntry(sensor: sensor, receivedAt: receivedAt, kind: kind, payload: Array(payload[..<cut]), ends: Array(ends[..<count]))
        let tail = JournalEntry(
            sensor: sensor, receivedAt: receivedAt, kind: kind, payload: Array(payload[cut...]), ends: ends[count...].map { $0 - UInt32(cut) })
        return (head, tail)
    }

    // MARK: encoding

    /// Bytes before the body: the body's length and its CRC-32C.
    static let prefixSize = 8
    /// Sensor (16), time (8), kind (1), reserved (3), count (4).
    static let headerSize = 32

    /// Appends the entry as stored: length, checksum, header, record lengths, payload.
    func encode(into out: inout [UInt8]) {
        let start = out.count
        let bodySize = Self.headerSize + 4 * ends.count + payload.count
        out.reserveCapacity(start + Self.prefixSize + bodySize)
        out.appendLittleEndian(UInt32(bodySize))
        out.appendLittleEndian(UInt32(0))
        let uuid = sensor.uuid.uuid
        withUnsafeBytes(of: uuid) { out.append(contentsOf: $0) }
        out.appendLittleEndian(UInt64(bitPattern: receivedAt))
        out.append(kind.rawValue)
        out.append(contentsOf: [0, 0, 0])
        out.appendLittleEndian(UInt32(ends.count))
        var previous: UInt32 = 0
        for end in ends {
            out.appendLittleEndian(end - previous)
            previous = end
        }
        out.append(contentsOf: payload)
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + Self.prefixSize)...])) }
        out.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    enum DecodeOutcome {
        case entry(JournalEntry, size: Int)
        /// Not enough bytes for the entry the length announces: a torn write, or the end.
        case incomplete
        /// Damaged; `size` is what the length prefix claims, when it fits in the bytes.
        case corrupt(String, size: Int?)
    }

    /// Reads the entry at the start of `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> DecodeOutcome {
        guard bytes.count >= prefixSize else { return .incomplete }
        let bodySize = Int(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
        let crc = bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        if bodySize == 0 { return .incomplete }
        guard bodySize >= headerSize else { return .corrupt("an entry of \(bodySize) bytes is shorter than its header", size: nil) }
        guard bytes.count >= prefixSize + bodySize else { return .incomplete }
        let size = prefixSize + bodySize
        let body = UnsafeRawBufferPointer(rebasing: bytes[prefixSize..<(prefixSize + bodySize)])
        guard CRC32C.checksum(body) == crc else { return .corrupt("checksum mismatch", size: size) }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: body[0..<16])) }
        let receivedAt = Int64(bitPattern: body.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian)
        guard let kind = Kind(rawValue: body[24]) else { return .corrupt("unknown entry kind \(body[24])", size: size) }
        let count = Int(body.loadUnaligned(fromByteOffset: 28, as: UInt32.self).littleEndian)
        guard headerSize + 4 * count <= bodySize else { return .corrupt("\(count) records cannot fit in \(bodySize) bytes", size: size) }
        var ends: [UInt32] = []
        ends.reserveCapacity(count)
        var total: UInt32 = 0
        for index in 0..<count {
            let (sum, overflow) = total.addingReportingOverflow(body.loadUnaligned(fromByteOffset: headerSize + 4 * index, as: UInt32.self).littleEndian)
            guard !overflow else { return .corrupt("record lengths overflow", size: size) }
            total = sum
            ends.append(total)
        }
        let payloadStart = headerSize + 4 * count
        guard payloadStart + Int(total) == bodySize else { return .corrupt("record lengths do not add up to the entry's size", size: size) }
        let payload = [UInt8](UnsafeRawBufferPointer(rebasing: body[payloadStart...]))
        let entry = JournalEntry(sensor: Sensor.ID(UUID(uuid: uuid)), receivedAt: receivedAt, kind: kind, payload: payload, ends: ends)
        return .entry(entry, size: prefixSize + bodySize)
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

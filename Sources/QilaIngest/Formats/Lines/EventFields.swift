/// A flat JSON object built field by field from a parsed log line: string values (and a numeric
/// `timestamp`), each key written once. A key seen again keeps its first value, so the line's own
/// fields win over the syslog header's when a sender uses the same name (`severity` in CEF, say).
struct EventFields {
    private(set) var bytes: [UInt8] = []
    /// A hash of each written key's raw bytes and where its escaped text lies in `bytes`, in
    /// writing order: lines hold tens of fields, so a scan of the hashes beats a dictionary (no
    /// allocation per field).
    private var keyHashes: [Int] = []
    private var keyRanges: [Range<Int>] = []
    private(set) var count = 0

    init() { bytes.reserveCapacity(1024) }

    mutating func begin() {
        bytes.removeAll(keepingCapacity: true)
        keyHashes.removeAll(keepingCapacity: true)
        keyRanges.removeAll(keepingCapacity: true)
        count = 0
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func end() { bytes.append(UInt8(ascii: "}")) }

    /// True when the key is already in the object.
    func has(_ key: some Collection<UInt8>) -> Bool {
        has(key, hash: Self.hash(key))
    }

    private func has(_ key: some Collection<UInt8>, hash: Int) -> Bool {
        guard keyHashes.contains(hash) else { return false }
        let escaped = key.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) ? Self.escapedKey(key) : nil
        for (index, candidate) in keyHashes.enumerated() where candidate == hash {
            if let escaped { if bytes[keyRanges[index]].elementsEqual(escaped) { return true } } else if bytes[keyRanges[index]].elementsEqual(key) { return true }
        }
        return false
    }

    /// Adds `key: "value"` unless the key is already there or empty.
    mutating func string(_ key: some Collection<UInt8>, _ value: some Collection<UInt8>) {
        guard startField(key) else { return }
        Self.quote(value, into: &bytes)
    }

    mutating func string(_ key: StaticString, _ value: some Collection<UInt8>) {
        string(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), value)
    }

    mutating func string(_ key: StaticString, _ value: String) {
        string(key, value.utf8)
    }

    mutating func string(_ key: String, _ value: String) {
        string(key.utf8, value.utf8)
    }

    /// Adds `key: number`.
    mutating func number(_ key: StaticString, _ value: Int64) {
        guard startField(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)) else { return }
        bytes.append(contentsOf: String(value).utf8)
    }

    private mutating func startField(_ key: some Collection<UInt8>) -> Bool {
        let hash = Self.hash(key)
        guard !key.isEmpty, !has(key, hash: hash) else { return false }
        if count > 0 { bytes.append(UInt8(ascii: ",")) }
        count += 1
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        Self.escape(key, into: &bytes)
        keyHashes.append(hash)
        keyRanges.append(start..<bytes.count)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        return true
    }

    private static func escapedKey(_ key: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        escape(key, into: &out)
        return out
    }

    private static func hash(_ key: some Collection<UInt8>) -> Int {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: value)
    }

    static func quote(_ value: some Collection<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        escape(value, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// JSON string escaping; bytes that are not UTF-8 pass through, for the matcher to refuse.
    static func escape(_ value: some Collection<UInt8>, into out: inout [UInt8]) {
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

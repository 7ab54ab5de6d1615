/// Small byte-level helpers for the compiled engine, which works on UTF-8 bytes rather than
/// `String`s so that an event is never turned into objects it does not need.
enum Bytes {
    /// ASCII lowercasing of one byte; the caller handles non-ASCII text (see `lowercase(_:into:)`).
    @inline(__always)
    static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    /// True when every byte is below 0x80 (sixteen at a time).
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var combined: UInt64 = 0
        while index + 8 <= bytes.count {
            combined |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        var rest: UInt8 = 0
        while index < bytes.count {
            rest |= bytes[index]
            index += 1
        }
        return combined & 0x8080_8080_8080_8080 == 0 && rest < 0x80
    }

    /// Appends the lowercase form of `text` to `out`: eight bytes at a time for ASCII,
    /// Unicode rules otherwise (the same `lowercased()` the rules' values went through).
    /// With `unicode` false, only ASCII letters are lowered and the length never changes.
    static func lowercase(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], unicode: Bool = true) {
        let start = out.count
        out.append(contentsOf: text)
        lowercaseInPlace(&out, from: start, unicode: unicode)
    }

    /// Lowercases `bytes[start...]` where they were just appended.
    static func lowercaseInPlace(_ bytes: inout [UInt8], from start: Int, unicode: Bool = true) {
        let ascii = bytes.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return true }
            let raw = UnsafeMutableRawPointer(base)
            var index = start
            var high: UInt64 = 0
            let ones: UInt64 = 0x0101_0101_0101_0101
            while index + 8 <= buffer.count {
                var word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                high |= word
                // Per byte, without carries between bytes: the top bit of `atLeastA` is set from
                // 'A' up, of `pastZ` from '[' up; letters in between gain 0x20.
                let low7 = word & (0x7F &* ones)
                let atLeastA = low7 &+ (0x3F &* ones)
                let pastZ = low7 &+ (0x25 &* ones)
                let upper = atLeastA & ~pastZ & ~word & (0x80 &* ones)
                word |= upper >> 2
                raw.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            var rest: UInt8 = 0
            while index < buffer.count {
                rest |= buffer[index]
                buffer[index] = asciiLower(buffer[index])
                index += 1
            }
            return high & (0x80 &* ones) == 0 && rest < 0x80
        }
        if !ascii && unicode {
            // The ASCII letters lowercased above stay as Unicode lowercasing makes them.
            let lowered = Array(String(decoding: bytes[start...], as: UTF8.self).lowercased().utf8)
            bytes.removeSubrange(start...)
            bytes += lowered
        }
    }

    static func lowercased(_ string: String) -> [UInt8] { Array(string.lowercased().utf8) }

    /// FNV-1a, 64 bits.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // Eight bytes per step, then a final mix so that high and low bits both depend on all.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            tail |= UInt64(base[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 33)
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBufferPointer { hash($0) } }

    /// The length of the UTF-8 sequence a lead byte starts (1 for stray continuation bytes, so
    /// that scanning always moves on).
    @inline(__always)
    static func sequenceLength(_ lead: UInt8) -> Int {
        if lead < 0xC0 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }

    /// The scalar at a byte offset and its length (an invalid or cut-off sequence reads as
    /// U+FFFD, one byte).
    @inline(__always)
    static func scalar(in input: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int) {
        let lead = input[index]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = sequenceLength(lead)
        guard index + length <= input.count else { return ("\u{FFFD}", 1) }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length { value = value << 6 | UInt32(input[index + offset] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// The offset of the first byte that breaks UTF-8 well-formedness, or nil when valid.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= count else { return index }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return index }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return index }
            index += length
        }
        return nil
    }
}

/// An open-addressing table from byte strings to integers, looked up without building an
/// array or a `String` for the key. Keys live end to end in one array, and each slot keeps part
/// of its key's hash, so a lookup reads one slot and, when that part agrees, one key: a million
/// keys cost one allocation, not a million.
struct ByteKeyTable: Sendable {
    private var bytes: [UInt8] = []
    /// Key `i` is `bytes[keyStarts[i]..<keyStarts[i + 1]]`.
    private var keyStarts: [Int] = [0]
    private var values: [Int32] = []
    /// No key is longer: longer texts are answered without hashing them.
    private var longest = 0
    /// 0: empty; otherwise the high 32 bits of the key's hash and the entry number plus one.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int = 8) {
        var size = 8
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { values.count }

    func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard key.count <= longest else { return nil }
        let hash = Bytes.hash(key)
        let tag = hash >> 32
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry >> 32 == tag {
                let index = Int(entry & 0xFFFF_FFFF) - 1
                if keyEquals(index, key) { return values[index] }
            }
            slot = (slot + 1) & mask
        }
    }

    func value(for key: [UInt8]) -> Int32? { key.withUnsafeBufferPointer { value(for: $0) } }

    /// Inserts or replaces.
    mutating func set(_ key: [UInt8], _ value: Int32) {
        key.withUnsafeBufferPointer { set($0, value) }
    }

    mutating func set(_ key: UnsafeBufferPointer<UInt8>, _ value: Int32) {
        if (values.count + 1) * 2 > slots.count { grow() }
        let hash = Bytes.hash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 {
                longest = max(longest, key.count)
                bytes.append(contentsOf: key)
                keyStarts.append(bytes.count)
                values.append(value)
                slots[slot] = (hash >> 32) << 32 | UInt64(values.count)
                return
            }
            if entry >> 32 == hash >> 32, keyEquals(Int(entry & 0xFFFF_FFFF) - 1, key) {
                values[Int(entry & 0xFFFF_FFFF) - 1] = value
                return
            }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var grown = [UInt64](repeating: 0, count: size)
        bytes.withUnsafeBufferPointer { all in
            for index in values.indices {
                let key = UnsafeBufferPointer(rebasing: all[keyStarts[index]..<keyStarts[index + 1]])
                let hash = Bytes.hash(key)
                var slot = Int(truncatingIfNeeded: hash) & (size - 1)
                while grown[slot] != 0 { slot = (slot + 1) & (size - 1) }
                grown[slot] = (hash >> 32) << 32 | UInt64(index + 1)
            }
        }
        slots = grown
        mask = size - 1
    }

    @inline(__always)
    private func keyEquals(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = keyStarts[index]
        guard keyStarts[index + 1] - start == key.count else { return false }
        guard key.count > 0 else { return true }
        return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, key.baseAddress!, key.count) == 0 }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

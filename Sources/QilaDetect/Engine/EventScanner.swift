#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an event line was not accepted, with the byte offset where the fault is.
public struct EventError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case malformedJSON = "malformed JSON"
        case notUTF8 = "not UTF-8"
        case tooDeep = "nested too deeply"
        case tooLarge = "too large"
    }

    public var kind: Kind
    public var offset: Int
    public var detail: String

    public var description: String { "\(kind.rawValue) at byte \(offset + 1): \(detail)" }
}

/// The paths of an event format that rules read, as a tree of object keys; a node with a slot
/// is a place whose value the scanner keeps.
struct FieldTree: Sendable {
    struct Node: Sendable {
        var children = ByteKeyTable(capacity: 4)
        var childNodes: [Int32] = []
        var slot: Int32 = -1
        /// The node for a `*` key: any member not named among the children (EVTX `UserData` holds
        /// one element whose name depends on the event).
        var wildcard: Int32 = -1
    }

    private(set) var nodes: [Node] = [Node()]
    private(set) var slotCount = 0

    /// The slot for a path, added if new.
    mutating func slot(for path: [String]) -> Int {
        var node = 0
        for key in path {
            if key == "*" {
                if nodes[node].wildcard < 0 {
                    nodes.append(Node())
                    nodes[node].wildcard = Int32(nodes.count - 1)
                }
                node = Int(nodes[node].wildcard)
                continue
            }
            let bytes = Array(key.utf8)
            if let child = nodes[node].children.value(for: bytes) {
                node = Int(child)
            } else {
                nodes.append(Node())
                nodes[node].children.set(bytes, Int32(nodes.count - 1))
                node = nodes.count - 1
            }
        }
        if nodes[node].slot < 0 {
            nodes[node].slot = Int32(slotCount)
            slotCount += 1
        }
        return Int(nodes[node].slot)
    }
}

/// One JSON value kept from an event: where its bytes are and what they are.
struct ScannedValue: Sendable {
    enum Kind: UInt8, Sendable {
        case string, escapedString, number, `true`, `false`, null, object, array
    }

    var start: Int32
    var end: Int32
    var kind: Kind
    /// The next value of the same slot (array elements), or -1.
    var next: Int32
}

/// The values of the kept slots of one event, and, when asked, every scalar of it (for
/// keyword searches).
struct ScannedEvent: Sendable {
    var first: [Int32] = []
    var last: [Int32] = []
    var values: [ScannedValue] = []
    var leaves: [ScannedValue] = []
    /// For each leaf, the bytes of the member name it is under (as written, maybe escaped);
    /// empty for a scalar at the top of an array that is the whole event's member list.
    var leafKeys: [Range<Int32>] = []

    mutating func reset(slots: Int) {
        if first.count != slots {
            first = Array(repeating: -1, count: slots)
            last = Array(repeating: -1, count: slots)
        } else {
            for index in 0..<slots { first[index] = -1 }
        }
        values.removeAll(keepingCapacity: true)
        leaves.removeAll(keepingCapacity: true)
        leafKeys.removeAll(keepingCapacity: true)
    }

    mutating func add(_ value: ScannedValue, slot: Int) {
        let index = Int32(values.count)
        values.append(value)
        if first[slot] < 0 {
            first[slot] = index
        } else {
            values[Int(last[slot])].next = index
        }
        last[slot] = index
    }
}

/// A single-pass JSON reader that validates the whole line but keeps only the values at the
/// tree's paths: everything else is skipped without being decoded.
struct EventScanner: Sendable {
    let tree: FieldTree
    var maximumDepth = 64
    var collectLeaves = false

    func scan(_ line: UnsafeBufferPointer<UInt8>, into event: inout ScannedEvent) throws(EventError) {
        event.reset(slots: tree.slotCount)
        if !Bytes.isASCII(line), let bad = Bytes.firstInvalidUTF8(line) {
            throw EventError(kind: .notUTF8, offset: bad, detail: "invalid byte 0x\(String(line[bad], radix: 16, uppercase: true))")
        }
        var reader = Reader(bytes: line, tree: tree, maximumDepth: maximumDepth, collectLeaves: collectLeaves)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{") else { throw reader.fail("an event must be a JSON object") }
        try reader.value(node: 0, slot: -1, depth: 0, event: &event)
        reader.skipSpace()
        guard reader.position == line.count else { throw reader.fail("unexpected text after the event") }
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let tree: FieldTree
        let maximumDepth: Int
        let collectLeaves: Bool
        /// The member name the value being read is under (for leaves).
        var currentKey: Range<Int32> = 0..<0
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>, tree: FieldTree, maximumDepth: Int, collectLeaves: Bool) {
            self.bytes = bytes
            self.tree = tree
            self.maximumDepth = maximumDepth
            self.collectLeaves = collectLeaves
        }

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        func fail(_ detail: String) -> EventError {
            EventError(kind: .malformedJSON, offset: min(position, max(bytes.count - 1, 0)), detail: detail)
        }

        @inline(__always)
        mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        /// Reads one value. `node` is the tree node for this place (-1: not wanted), `slot` the
        /// slot to keep scalars in (-1: none).
        mutating func value(node: Int, slot: Int, depth: Int, event: inout ScannedEvent) throws(EventError) {
            skipSpace()
            guard let byte = peek else { throw fail("a value is missing") }
            switch byte {
            case UInt8(ascii: "{"):
                guard depth < maximumDepth else {
                    throw EventError(kind: .tooDeep, offset: position, detail: "more than \(maximumDepth) levels of objects and arrays")
                }
                if slot >= 0 {
                    event.add(ScannedValue(start: Int32(position), end: Int32(position), kind: .object, next: -1), slot: slot)
                }
                try object(node: node, depth: depth + 1, event: &event)
            case UInt8(ascii: "["):
                guard depth < maximumDepth else {
                    throw EventError(kind: .tooDeep, offset: position, detail: "more than \(maximumDepth) levels of objects and arrays")
                }
                if slot >= 0 {
                    event.add(ScannedValue(start: Int32(position), end: Int32(position), kind: .array, next: -1), slot: slot)
                }
                position += 1
                skipSpace()
                if peek == UInt8(ascii: "]") {
                    position += 1
                    return
                }
                while true {
                    // Elements of an array at a kept place are values of that place.
                    try value(node: -1, slot: slot, depth: depth + 1, event: &event)
                    skipSpace()
                    guard let separator = peek else { throw fail("the array is not closed") }
                    position += 1
                    if separator == UInt8(ascii: "]") { return }
                    guard separator == UInt8(ascii: ",") else {
                        position -= 1
                        throw fail("expected ',' or ']' in an array")
                    }
                }
            case UInt8(ascii: "\""):
                let start = position + 1
                let escaped = try string()
                keep(ScannedValue(start: Int32(start), end: Int32(position - 1), kind: escaped ? .escapedString : .string, next: -1), slot, &event)
            case UInt8(ascii: "t"):
                try literal("true")
                keep(ScannedValue(start: Int32(position - 4), end: Int32(position), kind: .true, next: -1), slot, &event)
            case UInt8(ascii: "f"):
                try literal("false")
                keep(ScannedValue(start: Int32(position - 5), end: Int32(position), kind: .false, next: -1), slot, &event)
            case UInt8(ascii: "n"):
                try literal("null")
                if slot >= 0 {
                    event.add(ScannedValue(start: Int32(position - 4), end: Int32(position), kind: .null, next: -1), slot: slot)
                }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = position
                try number()
                keep(ScannedValue(start: Int32(start), end: Int32(position), kind: .number, next: -1), slot, &event)
            default:
                throw fail("unexpected character '\(Character(Unicode.Scalar(byte)))'")
            }
        }

        @inline(__always)
        func keep(_ value: ScannedValue, _ slot: Int, _ event: inout ScannedEvent) {
            if slot >= 0 { event.add(value, slot: slot) }
            if collectLeaves {
                event.leaves.append(value)
                event.leafKeys.append(currentKey)
            }
        }

        mutating func object(node: Int, depth: Int, event: inout ScannedEvent) throws(EventError) {
            position += 1
            skipSpace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return
            }
            // Values after this object in an enclosing array are under the enclosing name again.
            let enclosingKey = currentKey
            defer { currentKey = enclosingKey }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw fail("expected a member name in double quotes") }
                let keyStart = position + 1
                let escaped = try string()
                let keyEnd = position - 1
                var child: Int = -1
                if node >= 0 {
                    let table = tree.nodes[node].children
                    if table.count > 0 {
                        if escaped {
                            let key = JSONText.unescape(UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd]))
                            child = table.value(for: key).map(Int.init) ?? -1
                        } else {
                            child = table.value(for: UnsafeBufferPointer(rebasing: bytes[keyStart..<keyEnd])).map(Int.init) ?? -1
                        }
                    }
                    if child < 0 { child = Int(tree.nodes[node].wildcard) }
                }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
                position += 1
                let slot = child >= 0 ? Int(tree.nodes[child].slot) : -1
                if collectLeaves { currentKey = Int32(keyStart)..<Int32(keyEnd) }
                try value(node: child, slot: slot, depth: depth, event: &event)
                skipSpace()
                guard let separator = peek else { throw fail("the object is not closed") }
                position += 1
                if separator == UInt8(ascii: "}") { return }
                guard separator == UInt8(ascii: ",") else {
                    position -= 1
                    throw fail("expected ',' or '}' in an object")
                }
            }
        }

        /// Moves past a string; true when it holds escapes.
        @inline(__always)
        mutating func string() throws(EventError) -> Bool {
            position += 1
            var escaped = false
            let count = bytes.count
            let base = UnsafeRawPointer(bytes.baseAddress!)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            while position < count {
                // Eight bytes at a time while none of them is special, then straight to the first
                // special one. Per byte, without carries between bytes except upwards from a
                // byte that is itself special: a quote or backslash becomes a zero byte after
                // the exclusive or, and `x - 1` sets the top bit of a zero byte; a control
                // character sets it in `x - 0x20`. The lowest flag is therefore always real.
                while position + 8 <= count {
                    let word = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                    let quotes = word ^ (0x22 &* ones)
                    let backslashes = word ^ (0x5C &* ones)
                    let flags =
                        ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes | (word &- (0x20 &* ones)) & ~word) & high
                    if flags != 0 {
                        position += flags.trailingZeroBitCount >> 3
                        break
                    }
                    position += 8
                }
                guard position < count else { break }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return escaped
                }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    guard position + 1 < count else { break }
                    switch bytes[position + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 2
                    case UInt8(ascii: "u"):
                        guard position + 5 < count,
                            (2...5).allSatisfy({ JSONText.hexValue(bytes[position + $0]) != nil })
                        else { throw fail("\\u needs four hexadecimal digits") }
                        position += 6
                    default:
                        position += 1
                        throw fail("invalid escape '\\\(Character(Unicode.Scalar(bytes[position])))'")
                    }
                    continue
                }
                if byte < 0x20 { throw fail("a control character must be escaped inside a string") }
                position += 1
            }
            throw fail("the string is not closed")
        }

        mutating func literal(_ word: StaticString) throws(EventError) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("unexpected end of the line") }
            for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] {
                throw fail("expected '\(word)'")
            }
            position += count
        }

        mutating func number() throws(EventError) {
            let start = position
            if peek == UInt8(ascii: "-") { position += 1 }
            func digits() -> Int {
                let from = position
                while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
                return position - from
            }
            // Faults are reported at the number's first byte.
            func refuse(_ detail: String) -> EventError {
                EventError(kind: .malformedJSON, offset: start, detail: detail)
            }
            let integer = digits()
            guard integer > 0 else { throw refuse("a number needs digits") }
            if integer > 1, bytes[position - integer] == UInt8(ascii: "0") { throw refuse("a number cannot start with 0") }
            if peek == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw refuse("a decimal point needs digits after it") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { throw refuse("an exponent needs digits") }
            }
        }
    }
}

/// JSON string escapes.
enum JSONText {
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The text of a string body already checked by the scanner (lone surrogates become U+FFFD).
    static func unescape(_ body: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        unescape(body, into: &out)
        return out
    }

    static func unescape(_ body: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let base = body.baseAddress else { return }
        out.reserveCapacity(out.count + body.count)
        var index = 0
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | (hexValue(body[at + $1]) ?? 0) }
        }
        func append(_ scalar: UInt32) {
            let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            out.append(contentsOf: String(value).utf8)
        }
        while index < body.count {
            // Copy the run up to the next backslash in one go.
            guard let found = memchr(base + index, Int32(UInt8(ascii: "\\")), body.count - index) else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: body[index...]))
                return
            }
            let backslash = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
            out.append(contentsOf: UnsafeBufferPointer(rebasing: body[index..<backslash]))
            index = backslash
            guard index + 1 < body.count else {
                out.append(body[index])
                return
            }
            let escape = body[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u") where index + 4 <= body.count:
                let unit = hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(unit), index + 6 <= body.count, body[index] == UInt8(ascii: "\\"),
                    body[index + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        index += 6
                        append(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        continue
                    }
                }
                append(unit)
            default: out.append(escape)
            }
        }
    }
}

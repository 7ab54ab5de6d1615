public import QilaCore

/// What was wrong with one line of a text log format, and at which byte of it.
public struct LineFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public var format: Sensor.Format
    /// From 0, within the line (or the syslog message's body).
    public var offset: Int
    public var reason: String
    public var description: String { "not a \(format.title) line: \(reason) (byte \(offset + 1))" }
}

/// The text log formats intake reads besides JSON: each turns one line into the fields of a flat
/// JSON object, named as the product names them (so a mapping can say where Sigma's fields are).
/// Every parser works on the line's bytes, allocates only for what it writes, and refuses a line
/// that is not of its format with the byte where it stopped making sense.
enum LineFormat {
    static func parse(_ line: UnsafeBufferPointer<UInt8>, as format: Sensor.Format, into fields: inout EventFields) throws(LineFormatError) {
        var cursor = LineCursor(line, format: format)
        switch format {
        case .auditd: try AuditdLine.parse(&cursor, into: &fields)
        case .cef: try CEFLine.parse(&cursor, into: &fields)
        case .leef: try LEEFLine.parse(&cursor, into: &fields)
        case .keyValue: try KeyValueLine.parse(&cursor, into: &fields)
        case .cisco: try CiscoLine.parse(&cursor, into: &fields)
        case .bind: try DNSQueryLine.parseBIND(&cursor, into: &fields)
        case .unbound: try DNSQueryLine.parseUnbound(&cursor, into: &fields)
        case .accessLog: try AccessLogLine.parseCombined(&cursor, into: &fields)
        case .squid: try AccessLogLine.parseSquid(&cursor, into: &fields)
        case .eventXML: try EventXMLLine.parse(&cursor, into: &fields)
        case .text: fields.string("message", line)
        case .json, .cloudtrail: throw cursor.fail("JSON is not read line by line")
        }
    }
}

/// A position in one line, with the small steps every parser needs.
struct LineCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let format: Sensor.Format
    var at = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, format: Sensor.Format) {
        self.bytes = bytes
        self.format = format
    }

    var atEnd: Bool { at >= bytes.count }
    var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    func fail(_ reason: String, at offset: Int? = nil) -> LineFormatError {
        LineFormatError(format: format, offset: min(offset ?? at, max(bytes.count - 1, 0)), reason: reason)
    }

    subscript(_ range: Range<Int>) -> Slice<UnsafeBufferPointer<UInt8>> { bytes[range] }

    mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 { at += 1 }
    }

    /// Up to the next space or tab (or the end).
    mutating func token() -> Range<Int> {
        let start = at
        while let byte = peek, byte != 0x20, byte != 0x09 { at += 1 }
        return start..<at
    }

    /// Up to `byte` (not included), moving past it; nil (and no move) when it does not follow.
    mutating func until(_ byte: UInt8) -> Range<Int>? {
        guard let end = firstIndex(of: byte, from: at) else { return nil }
        defer { at = end + 1 }
        return at..<end
    }

    func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Where `needle` next begins, from `start`.
    func find(_ needle: StaticString, from start: Int) -> Int? {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard let first = pattern.first, pattern.count <= bytes.count else { return nil }
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index] == first, bytes[index..<index + pattern.count].elementsEqual(pattern) { return index }
            index += 1
        }
        return nil
    }

    /// Moves past `literal` when the line continues with it.
    mutating func take(_ literal: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard at + pattern.count <= bytes.count, bytes[at..<at + pattern.count].elementsEqual(pattern) else { return false }
        at += pattern.count
        return true
    }

    /// Without spaces and tabs at either end.
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return lower..<upper
    }

    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// A run of decimal digits as a number (nil when empty, not digits or too long).
    func number(_ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in bytes[range] {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    /// `-` and an empty range stand for "not given" in most access logs.
    func isAbsent(_ range: Range<Int>) -> Bool { range.isEmpty || (range.count == 1 && bytes[range.lowerBound] == UInt8(ascii: "-")) }
}

public import QilaCore
import QilaDetect

/// An HTTP intake body cut into records: JSON lines (blank lines skipped, CR LF accepted), an
/// AWS CloudTrail log file (`{"Records": [...]}`) whose records become one event each, or the
/// lines of the sensor's text format (auditd, CEF, an access log, ...). Records
/// that are not JSON objects are refused one by one, each with its line (or record number) and
/// byte, so that a sender learns what to fix while the rest is kept.
public struct IntakeBody: Sendable {
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        /// Line number (JSON lines) or record number (CloudTrail file), from 1.
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public var entry: JournalEntry
    public var refusals: [Refusal]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(_ body: [UInt8], sensor: Sensor, receivedAt: Int64, maximumEventSize: Int = 1 << 20) throws(Failure) {
        refusals = []
        if sensor.format.isText {
            entry = JournalEntry(sensor: sensor.id, receivedAt: receivedAt, kind: .line, capacity: body.count)
            acceptLines(body, format: sensor.format, receivedAt: receivedAt, maximumSize: maximumEventSize)
            return
        }
        entry = JournalEntry(sensor: sensor.id, receivedAt: receivedAt, kind: .json, capacity: body.count)
        let ranges: [(range: Range<Int>, line: Int)]
        var start = 0
        while start < body.count, [0x20, 0x09, 0x0A, 0x0D].contains(body[start]) { start += 1 }
        let first = start < body.count ? body[start] : nil
        if first == UInt8(ascii: "{"), let array = Self.recordsArray(body, from: start, wholeBody: sensor.format != .cloudtrail) {
            ranges = try Self.elements(body, ofArrayAt: array).enumerated().map { ($0.element, $0.offset + 1) }
        } else if first == UInt8(ascii: "[") {
            // A JSON array of records, as the Okta and Microsoft 365 APIs answer.
            ranges = try Self.elements(body, ofArrayAt: start).enumerated().map { ($0.element, $0.offset + 1) }
        } else {
            ranges = Self.lines(body)
        }
        body.withUnsafeBufferPointer { bytes in
            for (range, line) in ranges {
                let record = UnsafeBufferPointer(rebasing: bytes[range])
                do throws(EventError) {
                    try EventValidator.check(record, maximumSize: maximumEventSize)
                    entry.append(record)
                } catch {
                    refusals.append(Refusal(line: line, reason: error.description))
                }
            }
        }
    }

    /// Lines of a text format: each is read now, so that the sender learns of a line that is not of
    /// its sensor's format (with the byte), and only lines that read are kept.
    private mutating func acceptLines(_ body: [UInt8], format: Sensor.Format, receivedAt: Int64, maximumSize: Int) {
        var reader = TextEventReader(format: format)
        body.withUnsafeBufferPointer { bytes in
            for (range, line) in Self.lines(body) {
                let record = UnsafeBufferPointer(rebasing: bytes[range])
                guard record.count <= maximumSize else {
                    refusals.append(Refusal(line: line, reason: "the line is longer than \(maximumSize) bytes"))
                    continue
                }
                do throws(LineFormatError) {
                    try reader.check(record, now: receivedAt)
                } catch {
                    refusals.append(Refusal(line: line, reason: error.description))
                    continue
                }
                entry.append(record)
            }
        }
    }

    /// Non-blank lines, without their line ends.
    static func lines(_ body: [UInt8]) -> [(range: Range<Int>, line: Int)] {
        var result: [(Range<Int>, Int)] = []
        var start = 0
        var line = 1
        for index in 0...body.count where index == body.count || body[index] == 0x0A {
            var end = index
            if end > start, body[end - 1] == 0x0D { end -= 1 }
            if body[start..<end].contains(where: { $0 != 0x20 && $0 != 0x09 }) { result.append((start..<end, line)) }
            start = index + 1
            line += 1
        }
        return result
    }

    /// Where the value of the top-level `Records` (CloudTrail) or `records` (Azure Monitor's
    /// exports) member begins, if the object has one. With `wholeBody`, only when the object is the
    /// whole body: a JSON line that happens to have such a member stays one event.
    static func recordsArray(_ body: [UInt8], from start: Int, wholeBody: Bool = false) -> Int? {
        var reader = Reader(bytes: body, at: start + 1)
        var found: Int?
        while true {
            reader.skipSpace()
            if reader.peek == UInt8(ascii: "}") { break }
            guard reader.peek == UInt8(ascii: "\"") else { return nil }
            guard let key = reader.stringBody() else { return nil }
            reader.skipSpace()
            guard reader.peek == UInt8(ascii: ":") else { return nil }
            reader.at += 1
            reader.skipSpace()
            if found == nil, body[key].elementsEqual("Records".utf8) || body[key].elementsEqual("records".utf8), reader.peek == UInt8(ascii: "[") {
                found = reader.at
                if !wholeBody { return found }
            }
            guard reader.skipValue() else { return wholeBody ? nil : found }
            reader.skipSpace()
            if reader.peek == UInt8(ascii: "}") { break }
            guard reader.peek == UInt8(ascii: ",") else { return nil }
            reader.at += 1
        }
        reader.at += 1
        reader.skipSpace()
        return reader.peek == nil ? found : nil
    }

    /// The ranges of the elements of the array that begins at `arrayStart`.
    static func elements(_ body: [UInt8], ofArrayAt arrayStart: Int) throws(Failure) -> [Range<Int>] {
        var reader = Reader(bytes: body, at: arrayStart + 1)
        var result: [Range<Int>] = []
        reader.skipSpace()
        if reader.peek == UInt8(ascii: "]") { return [] }
        while true {
            reader.skipSpace()
            let valueStart = reader.at
            guard reader.skipValue() else {
                throw Failure(description: "record \(result.count + 1) of the array is not complete JSON (byte \(valueStart + 1))")
            }
            result.append(valueStart..<reader.at)
            reader.skipSpace()
            if reader.peek == UInt8(ascii: ",") {
                reader.at += 1
                continue
            }
            guard reader.peek == UInt8(ascii: "]") else {
                throw Failure(description: "expected ',' or ']' after record \(result.count) at byte \(reader.at + 1)")
            }
            return result
        }
    }

    /// Just enough JSON to find value boundaries; values themselves are checked per record.
    struct Reader {
        let bytes: [UInt8]
        var at: Int
        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { at += 1 }
        }

        /// At an opening quote: moves past the string, returns its body's range.
        mutating func stringBody() -> Range<Int>? {
            at += 1
            let start = at
            while let byte = peek {
                if byte == UInt8(ascii: "\\") {
                    at += 2
                } else if byte == UInt8(ascii: "\"") {
                    at += 1
                    return start..<(at - 1)
                } else {
                    at += 1
                }
            }
            return nil
        }

        mutating func skipValue() -> Bool {
            guard let first = peek else { return false }
            if first == UInt8(ascii: "\"") { return stringBody() != nil }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                var depth = 0
                while let byte = peek {
                    switch byte {
                    case UInt8(ascii: "\""):
                        guard stringBody() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            at += 1
                            return true
                        }
                    default: break
                    }
                    at += 1
                }
                return false
            }
            // A number or literal: up to the next delimiter.
            let start = at
            while let byte = peek, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(byte) { at += 1 }
            return at > start
        }
    }
}

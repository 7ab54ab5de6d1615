/// CSV for people who open it in a spreadsheet.
public enum CSV {
    /// One field, quoted as RFC 4180 says; a leading `=`, `+`, `-`, `@`, tab or carriage return is
    /// prefixed with `'` so that spreadsheets do not run it as a formula.
    public static func field(_ value: String) -> String {
        var text = value
        // Scalars, not characters: a CR LF pair is one Character and equals neither "\r" nor "\n".
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        if text.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}

extension CSV {
    /// A field or quote out of place, with the line it is on.
    public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads RFC 4180 CSV: fields separated by commas, quoted with `"` (a doubled `""` inside is
    /// one quote), quoted fields may hold commas and line breaks; lines end in CRLF or LF; a
    /// UTF-8 byte-order mark at the start is skipped; blank lines are left out. A quote inside an
    /// unquoted field, text after a closing quote, or a quote never closed is refused with its line.
    public static func rows(_ text: String) throws(ReadError) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var line = 1
        var fieldStartLine = 1
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRow() {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
            field = ""
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                        afterQuote = true
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                row.append(field)
                field = ""
                afterQuote = false
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRow()
                afterQuote = false
                line += 1
            case "\n":
                endRow()
                afterQuote = false
                line += 1
            case "\"":
                guard field.isEmpty, !afterQuote else { throw ReadError(line: line, message: "a quote inside a field that does not start with one") }
                quoted = true
                fieldStartLine = line
            default:
                if afterQuote { throw ReadError(line: line, message: "text after a closing quote; quote the whole field") }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw ReadError(line: fieldStartLine, message: "a quoted field is never closed") }
        if !field.isEmpty || !row.isEmpty || afterQuote { endRow() }
        return rows
    }
}

/// IBM's Log Event Extended Format (QRadar "LEEF event components", versions 1.0 and 2.0):
/// `LEEF:Version|Vendor|Product|Version|EventID|` then attributes `key=value` separated by a tab
/// (1.0) or by the character 2.0 names in a sixth header field (a character, or `x5E` / `0x5E`
/// in hexadecimal). A syslog prefix before `LEEF:` is skipped.
enum LEEFLine {
    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        guard let start = cursor.find("LEEF:", from: 0), start == 0 || cursor.bytes[start - 1] == 0x20 else {
            throw cursor.fail("no 'LEEF:' header", at: 0)
        }
        cursor.at = start + 5
        let names: [StaticString] = ["leefVersion", "vendor", "product", "productVersion", "eventId"]
        var version: Range<Int> = 0..<0
        for (index, name) in names.enumerated() {
            guard let field = cursor.until(UInt8(ascii: "|")) else {
                throw cursor.fail("the header has \(index) of its 5 fields; '|' expected after \(name)", at: cursor.bytes.count)
            }
            if index == 0 { version = field }
            fields.string(name, cursor[field])
        }
        var delimiter: UInt8 = 0x09
        if cursor[version].first == UInt8(ascii: "2") {
            // 2.0 names its delimiter; an empty field keeps the tab.
            guard let field = cursor.until(UInt8(ascii: "|")) else {
                throw cursor.fail("LEEF 2.0 names its attribute delimiter in a sixth header field, closed by '|'", at: cursor.bytes.count)
            }
            var text = cursor.text(field)
            if text.count == 1 {
                delimiter = text.utf8.first!
            } else if !text.isEmpty {
                if text.hasPrefix("0x") || text.hasPrefix("0X") { text.removeFirst(2) } else if text.hasPrefix("x") || text.hasPrefix("X") { text.removeFirst() }
                guard let code = UInt8(text, radix: 16), code != 0 else {
                    throw cursor.fail("the delimiter must be one character or its code in hexadecimal (x5E)", at: field.lowerBound)
                }
                delimiter = code
            }
        }
        while !cursor.atEnd {
            let end = cursor.firstIndex(of: delimiter, from: cursor.at) ?? cursor.bytes.count
            let piece = cursor.at..<end
            cursor.at = min(end + 1, cursor.bytes.count)
            guard let equals = cursor[piece].firstIndex(of: UInt8(ascii: "=")) else {
                if !cursor.trimmed(piece).isEmpty { throw cursor.fail("an attribute without '='", at: piece.lowerBound) }
                continue
            }
            let key = cursor.trimmed(piece.lowerBound..<equals)
            guard !key.isEmpty else { throw cursor.fail("an attribute with no name before '='", at: piece.lowerBound) }
            fields.string(cursor[key], cursor[(equals + 1)..<piece.upperBound])
        }
    }
}

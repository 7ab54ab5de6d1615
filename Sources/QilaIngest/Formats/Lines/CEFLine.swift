/// ArcSight Common Event Format (Micro Focus "Implementing ArcSight CEF", revision 25):
/// `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
/// The header's fields may escape `|` and `\` with `\`; the extension is `key=value` pairs whose
/// values run to the next ` key=` and escape `=`, `\` and line ends. A syslog prefix before `CEF:`
/// (as a relay that writes files leaves it) is skipped. Custom fields with a label (`cs1=...
/// cs1Label=Rule`) are also written under their label.
enum CEFLine {
    static let headerNames: [StaticString] = ["cefVersion", "deviceVendor", "deviceProduct", "deviceVersion", "deviceEventClassId", "name", "severity"]

    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        guard let start = cursor.find("CEF:", from: 0), start == 0 || cursor.bytes[start - 1] == 0x20 else {
            throw cursor.fail("no 'CEF:' header", at: 0)
        }
        cursor.at = start + 4
        var scratch: [UInt8] = []
        for (index, name) in headerNames.enumerated() {
            let fieldStart = cursor.at
            var escaped = false
            while let byte = cursor.peek, byte != UInt8(ascii: "|") {
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    cursor.at += 1
                }
                cursor.at += 1
            }
            guard cursor.peek == UInt8(ascii: "|") else {
                throw cursor.fail("the header has \(index) of its 7 fields; '|' expected after \(name)", at: cursor.bytes.count)
            }
            let range = fieldStart..<cursor.at
            cursor.at += 1
            if escaped {
                KeyValueLine.unescape(cursor[range], into: &scratch)
                fields.string(name, scratch)
            } else {
                fields.string(name, cursor[range])
            }
        }
        try extensionPairs(&cursor, into: &fields)
    }

    /// The extension's pairs. A key is letters, digits, `_`, `.`, `[` or `]` after a space (or at
    /// the extension's start) and before `=`; a value runs until the next key.
    static func extensionPairs(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        var pairs: [(key: Range<Int>, value: Range<Int>)] = []
        var current: (key: Range<Int>, valueStart: Int)?
        let extensionStart = cursor.at
        var index = cursor.at
        let bytes = cursor.bytes
        while index < bytes.count {
            if index == extensionStart || bytes[index - 1] == 0x20 {
                var end = index
                while end < bytes.count, isKeyByte(bytes[end]) { end += 1 }
                if end > index, end < bytes.count, bytes[end] == UInt8(ascii: "=") {
                    if let open = current {
                        pairs.append((open.key, cursor.trimmed(open.valueStart..<index)))
                    } else if !cursor.trimmed(extensionStart..<index).isEmpty {
                        throw cursor.fail("the extension begins with text that is not key=value", at: extensionStart)
                    }
                    current = (index..<end, end + 1)
                    index = end + 1
                    continue
                }
            }
            index += 1
        }
        if let open = current {
            pairs.append((open.key, cursor.trimmed(open.valueStart..<bytes.count)))
        } else if !cursor.trimmed(extensionStart..<bytes.count).isEmpty {
            throw cursor.fail("the extension holds no key=value pair", at: extensionStart)
        }
        var scratch: [UInt8] = []
        var values: [String: [UInt8]] = [:]
        for (key, value) in pairs {
            let raw = cursor[value]
            let text: [UInt8]
            if raw.contains(UInt8(ascii: "\\")) {
                KeyValueLine.unescape(raw, into: &scratch)
                text = scratch
            } else {
                text = Array(raw)
            }
            fields.string(cursor[key], text)
            values[cursor.text(key)] = text
        }
        // Labelled custom fields: cs1Label=Rule cs1=Block SMB gives Rule: "Block SMB" too.
        for (key, label) in values where key.hasSuffix("Label") {
            let field = String(key.dropLast(5))
            if let value = values[field], !label.isEmpty { fields.string(label, value) }
        }
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"): true
        default: false
        }
    }
}

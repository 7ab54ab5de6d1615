/// `key=value` pairs separated by spaces, values bare or in double or single quotes with `\`
/// escapes: FortiGate, SonicWall, Sophos, Juniper SRX's structured form and many others write
/// their logs this way. Text before the first pair (a device's own prefix) is kept as `message`.
enum KeyValueLine {
    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        var pairs = 0
        var leading: Range<Int>?
        var scratch: [UInt8] = []
        while true {
            skipSeparators(&cursor)
            guard !cursor.atEnd else { break }
            let start = cursor.at
            while let byte = cursor.peek, isKeyByte(byte) { cursor.at += 1 }
            guard cursor.at > start, cursor.peek == UInt8(ascii: "=") else {
                cursor.at = start
                _ = cursor.token()
                if pairs == 0 { leading = 0..<cursor.at }
                continue
            }
            let key = start..<cursor.at
            cursor.at += 1
            if let quote = cursor.peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                let value = try quoted(&cursor, quote: quote, key: key)
                if value.escaped {
                    unescape(cursor[value.range], into: &scratch)
                    fields.string(cursor[key], scratch)
                } else {
                    fields.string(cursor[key], cursor[value.range])
                }
            } else {
                fields.string(cursor[key], cursor[cursor.token()])
            }
            pairs += 1
        }
        guard pairs > 0 else { throw cursor.fail("no key=value pair in the line", at: 0) }
        if let leading {
            let text = cursor.trimmed(leading)
            if !text.isEmpty { fields.string("message", cursor[text]) }
        }
    }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "@"): true
        default: false
        }
    }

    static func skipSeparators(_ cursor: inout LineCursor) {
        while let byte = cursor.peek, byte == 0x20 || byte == 0x09 || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") { cursor.at += 1 }
    }

    /// At an opening quote: the value's range inside the quotes, and whether it holds escapes.
    static func quoted(_ cursor: inout LineCursor, quote: UInt8, key: Range<Int>) throws(LineFormatError) -> (range: Range<Int>, escaped: Bool) {
        let open = cursor.at
        cursor.at += 1
        var escaped = false
        while let byte = cursor.peek {
            if byte == UInt8(ascii: "\\") {
                escaped = true
                cursor.at += 2
                continue
            }
            if byte == quote {
                cursor.at += 1
                return ((open + 1)..<(cursor.at - 1), escaped)
            }
            cursor.at += 1
        }
        throw cursor.fail("the quoted value of '\(cursor.text(key))' is not closed", at: open)
    }

    /// `\x` becomes `x`; `\n`, `\r` and `\t` become the line end and tab they name.
    static func unescape(_ value: Slice<UnsafeBufferPointer<UInt8>>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var escape = false
        for byte in value {
            if escape {
                switch byte {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                default: out.append(byte)
                }
                escape = false
            } else if byte == UInt8(ascii: "\\") {
                escape = true
            } else {
                out.append(byte)
            }
        }
        if escape { out.append(UInt8(ascii: "\\")) }
    }
}

/// Linux audit records as auditd writes them (Red Hat's "Understanding Audit Log Files";
/// auditd.conf(5) for `log_format = ENRICHED`), or as audisp's syslog plugin forwards them:
/// `[node=host ]type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 ... key="passwd"`,
/// and, enriched, a group separator (0x1D) before the interpreted fields (`SYSCALL=openat AUID="alice"`).
///
/// Values in double quotes are as written; the fields the kernel hex-encodes when they hold spaces
/// or control characters (`EXECVE`'s arguments, `proctitle`, `name`, `comm`, `exe`, `cwd`, `cmd`)
/// are decoded when they come bare and in hexadecimal. The quoted `msg='...'` of user-space records
/// (`USER_AUTH`, `USER_CMD`, ...) is read as pairs too. `msg=audit(time:serial)` gives
/// `timestamp` (milliseconds) and `serial`, which joins the records of one event.
enum AuditdLine {
    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        guard let type = cursor.find("type=", from: 0), type == 0 || cursor.bytes[type - 1] == 0x20 else {
            throw cursor.fail("an audit record begins with type=", at: 0)
        }
        let typeStart = cursor.at
        cursor.at = type + 5
        let typeValue = cursor.token()
        guard !typeValue.isEmpty else { throw cursor.fail("the record's type is empty", at: type + 5) }
        fields.string("type", cursor[typeValue])
        let isExecve = cursor[typeValue].elementsEqual("EXECVE".utf8)
        if type > typeStart {
            // node=host before the type, when name_format is set.
            var prefix = LineCursor(UnsafeBufferPointer(rebasing: cursor.bytes[typeStart..<type]), format: .auditd)
            try pairs(&prefix, isExecve: false, nested: false, into: &fields)
        }
        cursor.skipSpaces()
        if cursor.take("msg=audit(") {
            guard let close = cursor.until(UInt8(ascii: ")")), let colon = cursor[close].firstIndex(of: UInt8(ascii: ":")),
                let milliseconds = EventTimeText.seconds(cursor.text(close.lowerBound..<colon))
            else { throw cursor.fail("msg=audit( holds the time and serial: audit(1364481363.243:24287)") }
            fields.number("timestamp", milliseconds)
            fields.string("serial", cursor[(colon + 1)..<close.upperBound])
            _ = cursor.take(":")
        }
        try pairs(&cursor, isExecve: isExecve, nested: false, into: &fields)
    }

    static func pairs(_ cursor: inout LineCursor, isExecve: Bool, nested: Bool, into fields: inout EventFields) throws(LineFormatError) {
        var scratch: [UInt8] = []
        while true {
            while let byte = cursor.peek, byte == 0x20 || byte == 0x09 || byte == 0x1D { cursor.at += 1 }
            guard !cursor.atEnd else { return }
            let start = cursor.at
            while let byte = cursor.peek, KeyValueLine.isKeyByte(byte) { cursor.at += 1 }
            guard cursor.at > start, cursor.peek == UInt8(ascii: "=") else {
                // Free text (the rare record with a message and no pairs): skipped word by word.
                cursor.at = start
                while let byte = cursor.peek, byte != 0x20, byte != 0x1D { cursor.at += 1 }
                continue
            }
            let key = start..<cursor.at
            cursor.at += 1
            if let quote = cursor.peek, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                cursor.at += 1
                guard let end = cursor.firstIndex(of: quote, from: cursor.at) else {
                    throw cursor.fail("the quoted value of '\(cursor.text(key))' is not closed", at: cursor.at - 1)
                }
                let value = cursor.at..<end
                cursor.at = end + 1
                if quote == UInt8(ascii: "'"), cursor[key].elementsEqual("msg".utf8), !nested {
                    var inner = LineCursor(UnsafeBufferPointer(rebasing: cursor.bytes[value]), format: .auditd)
                    try pairs(&inner, isExecve: false, nested: true, into: &fields)
                    continue
                }
                fields.string(cursor[key], cursor[value])
                continue
            }
            let value = cursor.token()
            if isEncoded(cursor[key], isExecve: isExecve), hexDecoded(cursor[value], into: &scratch) {
                fields.string(cursor[key], scratch)
            } else {
                fields.string(cursor[key], cursor[value])
            }
        }
    }

    /// The fields auditd hex-encodes when their text is not plain (audit_log_untrustedstring).
    static func isEncoded(_ key: Slice<UnsafeBufferPointer<UInt8>>, isExecve: Bool) -> Bool {
        if isExecve, key.first == UInt8(ascii: "a"), key.count > 1, key.dropFirst().allSatisfy({ (0x30...0x39).contains($0) }) { return true }
        for name in ["proctitle", "name", "comm", "exe", "cwd", "cmd", "acct", "data"] where key.elementsEqual(name.utf8) { return true }
        return false
    }

    /// Even-length hexadecimal decoded into `out`; false (and `out` untouched) otherwise.
    static func hexDecoded(_ value: Slice<UnsafeBufferPointer<UInt8>>, into out: inout [UInt8]) -> Bool {
        guard !value.isEmpty, value.count % 2 == 0 else { return false }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(value.count / 2)
        var index = value.startIndex
        while index < value.endIndex {
            guard let high = nibble(value[index]), let low = nibble(value[index + 1]) else { return false }
            // proctitle separates arguments with NUL; a space reads as they were typed.
            let byte = high << 4 | low
            decoded.append(byte == 0 ? 0x20 : byte)
            index += 2
        }
        // What the kernel encoded need not be UTF-8; the event must be (invalid sequences become U+FFFD).
        out = String(validating: decoded, as: UTF8.self) != nil ? decoded : Array(String(decoding: decoded, as: UTF8.self).utf8)
        return true
    }
}

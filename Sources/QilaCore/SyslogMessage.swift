/// One syslog message, read from RFC 5424 or RFC 3164 (BSD) form. Parsing works on bytes and
/// allocates only for the fields it returns, because intake reads hundreds of thousands a second.
public struct SyslogMessage: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable { case rfc5424, rfc3164 }

    public struct StructuredElement: Sendable, Hashable {
        public var id: String
        public var parameters: [(name: String, value: String)]

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.id == rhs.id && lhs.parameters.map(\.name) == rhs.parameters.map(\.name) && lhs.parameters.map(\.value) == rhs.parameters.map(\.value)
        }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(id)
            for parameter in parameters { hasher.combine(parameter.name); hasher.combine(parameter.value) }
        }
    }

    public var format: Format
    public var facility: Int
    public var severity: Int
    /// Milliseconds since 1970, UTC; nil when the sender gave none (`-`).
    public var timestamp: Int64?
    public var hostname: String?
    public var appName: String?
    public var procID: String?
    public var msgID: String?
    public var structuredData: [StructuredElement]
    public var message: String
    /// Where MSG is in the bytes parsed (byte-order mark and trailing line end left out), so a
    /// JSON body can be read in place.
    public var messageRange: Range<Int> = 0..<0
}

/// What was wrong with a message, and at which byte.
public struct SyslogError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) (byte \(offset))" }
}

public enum SyslogParser {
    /// Parses one message (without its framing). `now` fixes the year of RFC 3164 timestamps,
    /// which carry none: the latest year that does not put the message more than a day ahead.
    public static func parse(_ bytes: [UInt8], now: Int64) throws(SyslogError) -> SyslogMessage {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SyslogError) -> SyslogMessage in
            try parse(buffer, now: now)
        }
    }

    /// Parses in place; with `text: false`, `message` stays empty and only `messageRange` says
    /// where MSG is (the intake pipeline's path, which reads JSON bodies without a copy).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, now: Int64, text: Bool = true) throws(SyslogError) -> SyslogMessage {
        var reader = Reader(bytes: buffer, keepText: text)
        var message = try reader.message(now: now)
        message.messageRange = reader.messageRange
        return message
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var keepText = true
        var at = 0
        var messageRange: Range<Int> = 0..<0

        var atEnd: Bool { at >= bytes.count }
        func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

        func fail(_ reason: String) -> SyslogError { SyslogError(offset: at, reason: reason) }

        mutating func expect(_ byte: UInt8, _ what: String) throws(SyslogError) {
            guard peek() == byte else { throw fail("expected \(what)") }
            at += 1
        }

        /// Up to the next space (or the end); at least one byte.
        mutating func token(_ what: String, maximum: Int) throws(SyslogError) -> String? {
            let start = at
            while let byte = peek(), byte != 0x20 { at += 1 }
            guard at > start else { throw fail("\(what) is empty") }
            guard at - start <= maximum else { throw SyslogError(offset: start, reason: "\(what) is longer than \(maximum) bytes") }
            if at - start == 1 && bytes[start] == 0x2D { return nil }
            guard bytes[start..<at].allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw SyslogError(offset: start, reason: "\(what) must be printable US-ASCII")
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        }

        mutating func number(maximumDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while let byte = peek(), (0x30...0x39).contains(byte), digits < maximumDigits {
                value = value * 10 + Int(byte - 0x30)
                digits += 1
                at += 1
            }
            return digits == 0 ? nil : value
        }

        mutating func rest() -> String {
            var start = at
            // RFC 5424: a UTF-8 message may begin with a byte-order mark.
            if bytes.count - start >= 3 && bytes[start] == 0xEF && bytes[start + 1] == 0xBB && bytes[start + 2] == 0xBF { start += 3 }
            var end = bytes.count
            while end > start, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x00 { end -= 1 }
            at = bytes.count
            messageRange = start..<end
            return keepText ? String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) : ""
        }

        mutating func message(now: Int64) throws(SyslogError) -> SyslogMessage {
            try expect(0x3C, "'<' and a priority")
            guard let priority = number(maximumDigits: 3), priority <= 191 else { throw fail("the priority must be 0 to 191") }
            try expect(0x3E, "'>' after the priority")
            if let version = peek(), (0x31...0x39).contains(version), at + 1 < bytes.count, bytes[at + 1] == 0x20 {
                return try rfc5424(priority: priority)
            }
            return try rfc3164(priority: priority, now: now)
        }

        mutating func rfc5424(priority: Int) throws(SyslogError) -> SyslogMessage {
            guard number(maximumDigits: 2) == 1 else { throw fail("only syslog version 1 is known") }
            try expect(0x20, "a space after the version")
            let timestamp: Int64?
            if peek() == 0x2D {
                at += 1
                timestamp = nil
            } else {
                timestamp = try self.timestamp()
            }
            try expect(0x20, "a space after the timestamp")
            let hostname = try token("HOSTNAME", maximum: 255)
            try expect(0x20, "a space after HOSTNAME")
            let appName = try token("APP-NAME", maximum: 48)
            try expect(0x20, "a space after APP-NAME")
            let procID = try token("PROCID", maximum: 128)
            try expect(0x20, "a space after PROCID")
            let msgID = try token("MSGID", maximum: 32)
            try expect(0x20, "a space after MSGID")
            var elements: [SyslogMessage.StructuredElement] = []
            if peek() == 0x2D {
                at += 1
            } else {
                guard peek() == 0x5B else { throw fail("STRUCTURED-DATA is '-' or [elements]") }
                while peek() == 0x5B { elements.append(try element()) }
            }
            var text = ""
            if !atEnd {
                try expect(0x20, "a space before MSG")
                text = rest()
            }
            return SyslogMessage(
                format: .rfc5424, facility: priority >> 3, severity: priority & 7, timestamp: timestamp, hostname: hostname, appName: appName,
                procID: procID, msgID: msgID, structuredData: elements, message: text)
        }

        /// `[id name="value" ...]`, with `\"`, `\\` and `\]` escaped in values.
        mutating func element() throws(SyslogError) -> SyslogMessage.StructuredElement {
            try expect(0x5B, "'['")
            let id = try name("SD-ID")
            var parameters: [(name: String, value: String)] = []
            while peek() == 0x20 {
                at += 1
                let key = try name("PARAM-NAME")
                try expect(0x3D, "'=' after \(key)")
                try expect(0x22, "'\"' to open the value of \(key)")
                var value: [UInt8] = []
                while true {
                    guard let byte = peek() else { throw fail("the value of \(key) is not closed") }
                    at += 1
                    if byte == 0x22 { break }
                    if byte == 0x5C, let next = peek(), next == 0x22 || next == 0x5C || next == 0x5D {
                        value.append(next)
                        at += 1
                        continue
                    }
                    value.append(byte)
                }
                parameters.append((key, String(decoding: value, as: UTF8.self)))
            }
            try expect(0x5D, "']' to close \(id)")
            return SyslogMessage.StructuredElement(id: id, parameters: parameters)
        }

        mutating func name(_ what: String) throws(SyslogError) -> String {
            let start = at
            while let byte = peek(), (0x21...0x7E).contains(byte), byte != 0x3D, byte != 0x5D, byte != 0x22, byte != 0x20 { at += 1 }
            guard at > start, at - start <= 32 else { throw SyslogError(offset: start, reason: "\(what) must be 1 to 32 printable characters") }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        }

        /// RFC 3339 as RFC 5424 restricts it: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
        mutating func timestamp() throws(SyslogError) -> Int64 {
            func two(_ reader: inout Reader, _ what: String) throws(SyslogError) -> Int {
                let start = reader.at
                guard let value = reader.number(maximumDigits: 2), reader.at - start == 2 else { throw reader.fail("\(what) has two digits") }
                return value
            }
            let start = at
            guard let year = number(maximumDigits: 4), at - start == 4 else { throw fail("the timestamp's year has four digits") }
            try expect(0x2D, "'-' in the date")
            let month = try two(&self, "the month")
            try expect(0x2D, "'-' in the date")
            let day = try two(&self, "the day")
            guard peek() == 0x54 || peek() == 0x74 else { throw fail("'T' between date and time") }
            at += 1
            let hour = try two(&self, "the hour")
            try expect(0x3A, "':' in the time")
            let minute = try two(&self, "the minute")
            try expect(0x3A, "':' in the time")
            let second = try two(&self, "the second")
            guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
                throw SyslogError(offset: start, reason: "the timestamp is not a real date and time")
            }
            var millis = 0
            if peek() == 0x2E {
                at += 1
                let fractionStart = at
                var digits = 0
                while let byte = peek(), (0x30...0x39).contains(byte) {
                    if digits < 3 { millis = millis * 10 + Int(byte - 0x30) }
                    digits += 1
                    at += 1
                }
                guard digits >= 1, digits <= 6 else { throw SyslogError(offset: fractionStart, reason: "the fraction of a second has 1 to 6 digits") }
                if digits < 3 { for _ in digits..<3 { millis *= 10 } }
            }
            var offsetMinutes = 0
            switch peek() {
            case 0x5A, 0x7A: at += 1
            case 0x2B, 0x2D:
                let sign = peek() == 0x2D ? -1 : 1
                at += 1
                let hours = try two(&self, "the offset's hours")
                try expect(0x3A, "':' in the offset")
                let minutes = try two(&self, "the offset's minutes")
                guard hours < 24, minutes < 60 else { throw fail("the offset is not a real offset") }
                offsetMinutes = sign * (hours * 60 + minutes)
            default: throw fail("the timestamp ends with Z or an offset such as +05:00")
            }
            let days = CivilDay(year: year, month: month, day: day).ordinal
            let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
            return seconds * 1000 + Int64(millis)
        }

        static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

        /// `Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`; a message without that header keeps its text.
        mutating func rfc3164(priority: Int, now: Int64) throws(SyslogError) -> SyslogMessage {
            var message = SyslogMessage(
                format: .rfc3164, facility: priority >> 3, severity: priority & 7, timestamp: nil, hostname: nil, appName: nil, procID: nil, msgID: nil,
                structuredData: [], message: "")
            let headerStart = at
            if at + 15 <= bytes.count, let month = Self.months.firstIndex(where: { $0.elementsEqual(bytes[at..<(at + 3)]) }), bytes[at + 3] == 0x20 {
                at += 4
                if peek() == 0x20 { at += 1 }
                let day = number(maximumDigits: 2)
                let ok = day != nil && peek() == 0x20
                if ok { at += 1 }
                let hour = ok ? number(maximumDigits: 2) : nil
                let colon1 = peek() == 0x3A
                if colon1 { at += 1 }
                let minute = colon1 ? number(maximumDigits: 2) : nil
                let colon2 = peek() == 0x3A
                if colon2 { at += 1 }
                let second = colon2 ? number(maximumDigits: 2) : nil
                if let day, let hour, let minute, let second, (1...31).contains(day), hour < 24, minute < 60, second < 61, peek() == 0x20 {
                    at += 1
                    message.timestamp = Self.bsdTime(month: month + 1, day: day, hour: hour, minute: minute, second: min(second, 59), now: now)
                    // HOSTNAME, then TAG up to ':' '[' or space.
                    let hostStart = at
                    while let byte = peek(), byte != 0x20 { at += 1 }
                    if at > hostStart, peek() == 0x20 {
                        message.hostname = String(decoding: UnsafeBufferPointer(rebasing: bytes[hostStart..<at]), as: UTF8.self)
                        at += 1
                        let tagStart = at
                        while let byte = peek(), byte != 0x3A, byte != 0x5B, byte != 0x20, at - tagStart < 48 { at += 1 }
                        if at > tagStart, let stop = peek(), stop == 0x3A || stop == 0x5B {
                            message.appName = String(decoding: UnsafeBufferPointer(rebasing: bytes[tagStart..<at]), as: UTF8.self)
                            if stop == 0x5B {
                                at += 1
                                let pidStart = at
                                while let byte = peek(), byte != 0x5D, at - pidStart < 128 { at += 1 }
                                if peek() == 0x5D {
                                    message.procID = String(decoding: UnsafeBufferPointer(rebasing: bytes[pidStart..<at]), as: UTF8.self)
                                    at += 1
                                }
                            }
                            if peek() == 0x3A { at += 1 }
                            if peek() == 0x20 { at += 1 }
                        } else {
                            at = tagStart
                        }
                    } else {
                        at = hostStart
                    }
                } else {
                    at = headerStart
                }
            }
            message.message = rest()
            return message
        }

        /// The time of a BSD timestamp, in the latest year that is not more than a day ahead of `now`.
        static func bsdTime(month: Int, day: Int, hour: Int, minute: Int, second: Int, now: Int64) -> Int64 {
            let nowDays = Int(now / 86_400_000)
            // The year of `now`: step from the days count.
            var year = 1970 + nowDays / 366
            while CivilDay(year: year + 1, month: 1, day: 1).ordinal <= nowDays { year += 1 }
            for candidate in [year + 1, year, year - 1] {
                let millis = (Int64(CivilDay(year: candidate, month: month, day: day).ordinal) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000
                if millis <= now + 86_400_000 { return millis }
            }
            return (Int64(CivilDay(year: year - 1, month: month, day: day).ordinal) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000
        }
    }
}

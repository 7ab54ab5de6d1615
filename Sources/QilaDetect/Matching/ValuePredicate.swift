import Foundation
import QilaCore

/// One value of a rule with its modifiers applied, ready to test event values against.
enum ValuePredicate: Sendable {
    /// Any of the strings (with wildcards) equals the event value.
    case strings([WildcardMatcher])
    case regex(LinearRegex)
    case compare(Comparison, Double)
    /// A part of a date in the event value (`hour`) compared with the rule's number.
    case timePart(TimePart, Comparison, Double)
    case cidr(Network)
    /// The field is missing or null.
    case null

    enum Comparison: Sendable {
        case eq, lt, lte, gt, gte

        /// The text read as a number compares so with the bound; text that is no number never does.
        func holds(_ text: String, _ bound: Double) -> Bool {
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else { return false }
            return holds(number, bound)
        }

        func holds(_ number: Double, _ bound: Double) -> Bool {
            switch self {
            case .eq: return number == bound
            case .lt: return number < bound
            case .lte: return number <= bound
            case .gt: return number > bound
            case .gte: return number >= bound
            }
        }
    }

    func matches(_ text: String) -> Bool {
        switch self {
        case .strings(let matchers): return matchers.contains { $0.matches(text) }
        case .regex(let expression): return expression.matches(text)
        case .compare(let comparison, let bound):
            return comparison.holds(text, bound)
        case .timePart(let part, let comparison, let bound):
            return part.value(in: text).map { comparison.holds(Double($0), bound) } ?? false
        case .cidr(let network): return network.contains(text)
        case .null: return false
        }
    }

    /// Compiles a value with the field's modifiers, applied in the order written.
    static func compile(_ value: SigmaValue, modifiers: [SigmaModifier]) throws -> ValuePredicate {
        let set = Set(modifiers)
        let cased = set.contains(.cased)
        if modifiers.contains(.expand) {
            throw SigmaError("expand needs placeholder values, given when the rules are read")
        }
        if case .null = value { return .null }
        let text: SigmaString
        switch value {
        case .string(let string): text = string
        case .number(let number): text = SigmaString(literal: number)
        case .bool(let bool): text = SigmaString(literal: String(bool))
        case .null: return .null
        }
        if let part = modifiers.lazy.compactMap(TimePart.init).first {
            guard let bound = Double(text.plain ?? ""), bound == bound.rounded() else {
                throw SigmaError("\(modifiers.map(\.rawValue).joined(separator: "|")) needs a whole number, not '\(text)'")
            }
            let comparison = modifiers.lazy.compactMap(Self.comparison).first ?? .eq
            guard comparison != .eq || part.range.contains(Int(bound)) else {
                throw SigmaError("\(part.modifier.rawValue) is between \(part.range.lowerBound) and \(part.range.upperBound), so it is never \(text)")
            }
            return .timePart(part, comparison, bound)
        }
        if let comparison = modifiers.lazy.compactMap(Self.comparison).first {
            guard let bound = Double(text.plain ?? "") else {
                throw SigmaError("\(modifiers.map(\.rawValue).joined(separator: "|")) needs a number, not '\(text)'")
            }
            return .compare(comparison, bound)
        }
        if set.contains(.cidr) {
            guard let plain = text.plain, let network = Network(cidr: plain) else {
                throw SigmaError("'\(text)' is not a CIDR network such as 10.0.0.0/8 or 2001:db8::/32")
            }
            return .cidr(network)
        }
        if set.contains(.re) {
            guard let pattern = value.rawText else { throw SigmaError("re needs a regular expression") }
            var options: LinearRegex.Options = []
            if set.contains(.i) { options.insert(.caseInsensitive) }
            if set.contains(.m) { options.insert(.multiline) }
            if set.contains(.s) { options.insert(.dotAll) }
            return .regex(try LinearRegex(pattern, options: options))
        }
        // Transformations, left to right.
        var variants = [text]
        var bytes: [[UInt8]]? = nil
        for modifier in modifiers {
            switch modifier {
            case .windash:
                variants = variants.map(Self.windash)
            case .wide, .utf16le, .utf16be, .utf16:
                bytes = try variants.map { variant in
                    guard let plain = variant.plain else { throw SigmaError("\(modifier.rawValue) cannot encode a value with wildcards") }
                    return Self.utf16(plain, modifier)
                }
            case .base64, .base64offset:
                let sources = try bytes ?? variants.map { variant in
                    guard let plain = variant.plain else { throw SigmaError("\(modifier.rawValue) cannot encode a value with wildcards") }
                    return Array(plain.utf8)
                }
                variants = sources.flatMap { source in
                    modifier == .base64 ? [SigmaString(literal: Data(source).base64EncodedString())] : Self.base64Offsets(source)
                }
                bytes = nil
            default:
                break
            }
        }
        if bytes != nil {
            throw SigmaError("utf16, utf16le, utf16be and wide must be followed by base64 or base64offset")
        }
        if set.contains(.contains) {
            variants = variants.map { $0.prepending(.anyRun).appending(.anyRun) }
        } else if set.contains(.startswith) {
            variants = variants.map { $0.appending(.anyRun) }
        } else if set.contains(.endswith) {
            variants = variants.map { $0.prepending(.anyRun) }
        }
        return .strings(variants.map { WildcardMatcher($0, caseSensitive: cased) })
    }

    static func comparison(_ modifier: SigmaModifier) -> Comparison? {
        switch modifier {
        case .lt: .lt
        case .lte: .lte
        case .gt: .gt
        case .gte: .gte
        default: nil
        }
    }

    /// A `-` or `/` that starts a word may be written with any Windows command-line dash.
    static func windash(_ string: SigmaString) -> SigmaString {
        var parts: [SigmaString.Part] = []
        var previousIsWord = false
        let flat: [(Character?, SigmaString.Part)] = string.parts.flatMap { part -> [(Character?, SigmaString.Part)] in
            if case .literal(let text) = part { return text.map { ($0, .literal(String($0))) } }
            return [(nil, part)]
        }
        for (index, (character, part)) in flat.enumerated() {
            if let character, character == "-" || character == "/", !previousIsWord,
                index + 1 < flat.count, let next = flat[index + 1].0, next.isLetter || next.isNumber || next == "_"
            {
                parts.append(.anyOf("-/\u{2013}\u{2014}\u{2015}"))
            } else {
                parts.append(part)
            }
            previousIsWord = character.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false
        }
        return SigmaString(parts: parts)
    }

    static func utf16(_ text: String, _ modifier: SigmaModifier) -> [UInt8] {
        var out: [UInt8] = modifier == .utf16 ? [0xFF, 0xFE] : []
        for unit in text.utf16 {
            if modifier == .utf16be {
                out += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            } else {
                out += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            }
        }
        return out
    }

    /// The three base64 forms of a value at byte offsets 0, 1 and 2 of an encoded stream,
    /// with the characters that depend on neighbouring bytes cut off.
    static func base64Offsets(_ value: [UInt8]) -> [SigmaString] {
        let starts = [0, 2, 3]
        let ends: [Int?] = [nil, -3, -2]
        return (0..<3).map { offset in
            let encoded = Array(Data(Array(repeating: UInt8(ascii: " "), count: offset) + value).base64EncodedString())
            let start = starts[offset]
            let end = ends[(value.count + offset) % 3].map { encoded.count + $0 } ?? encoded.count
            return SigmaString(literal: start < end ? String(encoded[start..<end]) : "")
        }
    }
}

extension SigmaValue {
    /// The text as written, before wildcard parsing (for regular expressions).
    var rawText: String? {
        switch self {
        case .string(let string):
            if let source = string.source { return source }
            return string.parts.map { part -> String in
                switch part {
                case .literal(let text): text
                case .anyRun: "*"
                case .anyOne: "?"
                case .anyOf(let characters): characters
                }
            }.joined()
        case .number(let text): return text
        default: return nil
        }
    }
}

/// The parts of a date the time modifiers read. The date is taken as written in the event, without
/// time-zone conversion (as the specification says): `2024-03-05T22:10:00+05:00` has hour 22. A
/// value of only digits is a Unix time in seconds (10 digits or fewer) or milliseconds, in UTC.
enum TimePart: Sendable {
    case minute, hour, day, week, month, year

    init?(_ modifier: SigmaModifier) {
        switch modifier {
        case .minute: self = .minute
        case .hour: self = .hour
        case .day: self = .day
        case .week: self = .week
        case .month: self = .month
        case .year: self = .year
        default: return nil
        }
    }

    var modifier: SigmaModifier {
        switch self {
        case .minute: .minute
        case .hour: .hour
        case .day: .day
        case .week: .week
        case .month: .month
        case .year: .year
        }
    }

    /// The values this part can take; `week` is the ISO 8601 week (1 to 53).
    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .day: 1...31
        case .week: 1...53
        case .month: 1...12
        case .year: 0...9999
        }
    }

    func value(in text: String) -> Int? {
        guard let date = CivilTime(text) else { return nil }
        switch self {
        case .minute: return date.minute
        case .hour: return date.hour
        case .day: return date.day
        case .month: return date.month
        case .year: return date.year
        case .week: return date.isoWeek
        }
    }
}

/// A calendar date and time of day read from an ISO 8601 text (`2024-03-05`, `2024-03-05T22:10`,
/// `2024-03-05 22:10:07.123Z`) or from a Unix time.
struct CivilTime: Equatable {
    var year: Int, month: Int, day: Int
    var hour: Int?, minute: Int?

    init(year: Int, month: Int, day: Int, hour: Int? = nil, minute: Int? = nil) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    init?(_ text: String) {
        let bytes = Array(text.utf8.drop { $0 == UInt8(ascii: " ") })
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        if !bytes.isEmpty, bytes.count <= 13, let epoch = number(0..<bytes.count) {
            let seconds = bytes.count > 10 ? epoch / 1000 : epoch
            let days = seconds / 86_400
            self = Self.civil(days: days)
            hour = seconds % 86_400 / 3600
            minute = seconds % 3600 / 60
            return
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...Self.daysIn(month, of: year)).contains(day)
        else { return nil }
        self.init(year: year, month: month, day: day)
        if bytes.count >= 16, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes[13] == UInt8(ascii: ":"),
            let hour = number(11..<13), let minute = number(14..<16), hour < 24, minute < 60
        {
            self.hour = hour
            self.minute = minute
        }
    }

    static func daysIn(_ month: Int, of year: Int) -> Int { CivilDay.daysIn(month, of: year) }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(year: Int, month: Int, day: Int) -> Int { CivilDay(year: year, month: month, day: day).ordinal }

    static func civil(days: Int) -> CivilTime {
        let (year, month, day) = CivilDay(ordinal: days).components
        return CivilTime(year: year, month: month, day: day)
    }

    /// The ISO 8601 week number: weeks start on Monday, and week 1 holds the year's first Thursday.
    var isoWeek: Int {
        let count = Self.days(year: year, month: month, day: day)
        let weekday = ((count + 3) % 7 + 7) % 7 + 1  // 1970-01-01 was a Thursday (4)
        let thursday = count - weekday + 4
        let thursdayYear = Self.civil(days: thursday).year
        return (thursday - Self.days(year: thursdayYear, month: 1, day: 1)) / 7 + 1
    }
}

/// An IPv4 or IPv6 address as 128 bits (IPv4 in the first 32), read without building a String.
struct IPAddress: Sendable, Equatable {
    var high: UInt64
    var low: UInt64
    var isIPv6: Bool

    init?(_ text: String) {
        var copy = text
        guard let address = copy.withUTF8({ IPAddress(utf8: $0) }) else { return nil }
        self = address
    }

    /// The first `prefix` bits, the others zero.
    func masked(_ prefix: Int) -> (high: UInt64, low: UInt64) {
        let highMask: UInt64 = prefix >= 64 ? .max : (prefix <= 0 ? 0 : ~(UInt64.max >> UInt64(prefix)))
        let lowMask: UInt64 = prefix <= 64 ? 0 : (prefix >= 128 ? .max : ~(UInt64.max >> UInt64(prefix - 64)))
        return (high & highMask, low & lowMask)
    }

    /// Reads `10.1.2.3` or `2001:db8::1` (spaces around are ignored).
    init?(utf8 raw: UnsafeBufferPointer<UInt8>) {
        var text = raw[...]
        while let first = text.first, first == 0x20 { text = text.dropFirst() }
        while let last = text.last, last == 0x20 { text = text.dropLast() }
        guard !text.isEmpty, text.count <= 45 else { return nil }
        let parsed = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> (UInt64, UInt64, Bool)? in
            for (offset, byte) in text.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
            var v6 = in6_addr()
            if text.contains(UInt8(ascii: ":")) {
                guard inet_pton(AF_INET6, buffer.baseAddress!, &v6) == 1 else { return nil }
                return withUnsafeBytes(of: &v6) { bytes in
                    (UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)), true)
                }
            }
            var v4 = in_addr()
            guard inet_pton(AF_INET, buffer.baseAddress!, &v4) == 1 else { return nil }
            return (UInt64(UInt32(bigEndian: v4.s_addr)) << 32, 0, false)
        }
        guard let parsed else { return nil }
        (high, low, isIPv6) = parsed
    }
}

/// An IPv4 or IPv6 network, for the cidr modifier.
struct Network: Sendable, Equatable {
    let address: IPAddress
    let prefix: Int

    init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    init?(cidr: String) {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.isIPv6 ? 128 : 32
        let prefix = parts.count > 1 ? Int(parts[1]) : bits
        guard let prefix, (0...bits).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    func contains(_ text: String) -> Bool {
        IPAddress(text).map(contains) ?? false
    }

    func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.isIPv6 == address.isIPv6 else { return false }
        return candidate.masked(prefix) == address.masked(prefix)
    }
}

import Foundation

/// One value of a rule with its modifiers applied, ready to test event values against.
enum ValuePredicate: Sendable {
    /// Any of the strings (with wildcards) equals the event value.
    case strings([WildcardMatcher])
    case regex(LinearRegex)
    case compare(Comparison, Double)
    case cidr(Network)
    /// The field is missing or null.
    case null

    enum Comparison: Sendable {
        case lt, lte, gt, gte

        /// The text read as a number compares so with the bound; text that is no number never does.
        func holds(_ text: String, _ bound: Double) -> Bool {
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else { return false }
            switch self {
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
        case .cidr(let network): return network.contains(text)
        case .null: return false
        }
    }

    /// Compiles a value with the field's modifiers, applied in the order written.
    static func compile(_ value: SigmaValue, modifiers: [SigmaModifier]) throws -> ValuePredicate {
        let set = Set(modifiers)
        let cased = set.contains(.cased)
        if let unsupported = modifiers.first(where: { [.expand, .minute, .hour, .day, .week, .month, .year].contains($0) }) {
            throw SigmaError("the \(unsupported.rawValue) modifier is not supported by this version of Qila yet")
        }
        if case .null = value { return .null }
        let text: SigmaString
        switch value {
        case .string(let string): text = string
        case .number(let number): text = SigmaString(literal: number)
        case .bool(let bool): text = SigmaString(literal: String(bool))
        case .null: return .null
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

/// An IPv4 or IPv6 network, for the cidr modifier.
struct Network: Sendable {
    let address: [UInt8]
    let prefix: Int

    init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let prefix = parts.count > 1 ? Int(parts[1]) : address.count * 8
        guard let prefix, parts.count <= 2, (0...address.count * 8).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    func contains(_ text: String) -> Bool {
        guard let candidate = Self.parse(text.trimmingCharacters(in: .whitespaces)), candidate.count == address.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address, candidate) {
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xFF : UInt8(0xFF << (8 - remaining) & 0xFF)
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }

    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

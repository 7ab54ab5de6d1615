public import Foundation

/// A version compared the way product versions are usually written: runs of digits compare as
/// numbers, runs of letters as text, `.`, `-`, `_` and `+` separate; a release sorts after its
/// pre-releases (`2.0 > 2.0-rc1`), and trailing zero parts do not count (`2.0 == 2.0.0`).
public struct ProductVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    enum Part: Hashable {
        case number(UInt64)
        case text(String)
    }

    public let description: String
    let parts: [Part]

    public init?(_ text: String) {
        let trimmed = text.utf8.first == 0x20 || text.utf8.last == 0x20 ? text.trimmingCharacters(in: .whitespaces) : text
        guard !trimmed.isEmpty else { return nil }
        description = trimmed
        // Read byte by byte: digits into numbers, everything else but separators into text parts.
        var parts: [Part] = []
        var number: UInt64 = 0
        var digits = 0
        var letters: [UInt8] = []
        func flush() {
            if digits > 0 {
                parts.append(.number(number))
                (number, digits) = (0, 0)
            } else if !letters.isEmpty {
                parts.append(.text(String(decoding: letters, as: UTF8.self)))
                letters.removeAll(keepingCapacity: true)
            }
        }
        for byte in trimmed.utf8 {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: ":"), UInt8(ascii: "~"):
                flush()
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if !letters.isEmpty { flush() }
                // Past 18 digits the number is held at its largest: such parts compare equal.
                number = digits < 18 ? number * 10 + UInt64(byte - UInt8(ascii: "0")) : .max
                digits += 1
            case 0x09, 0x0A, 0x0D, 0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: "*"):
                return nil
            default:
                if digits > 0 { flush() }
                letters.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
            }
        }
        flush()
        while case .number(0) = parts.last, parts.count > 1 { parts.removeLast() }
        self.parts = parts
    }

    public static func == (lhs: ProductVersion, rhs: ProductVersion) -> Bool { lhs.parts == rhs.parts }
    public func hash(into hasher: inout Hasher) { hasher.combine(parts) }

    public static func < (lhs: ProductVersion, rhs: ProductVersion) -> Bool {
        for index in 0..<max(lhs.parts.count, rhs.parts.count) {
            let left = index < lhs.parts.count ? lhs.parts[index] : nil
            let right = index < rhs.parts.count ? rhs.parts[index] : nil
            switch (left, right) {
            case let (.number(a)?, .number(b)?) where a != b: return a < b
            case let (.text(a)?, .text(b)?) where a != b: return a < b
            // A number part sorts after a text part at the same place (2.0.1 > 2.0.beta).
            case (.number?, .text?): return false
            case (.text?, .number?): return true
            // A text part after the end is a pre-release (2.0-rc1 < 2.0); a number is a later release.
            case (nil, .text?): return false
            case (.text?, nil): return true
            case (nil, .number?): return true
            case (.number?, nil): return false
            default: continue
            }
        }
        return false
    }
}

/// A range of versions in the `vers` notation (github.com/package-url/vers-spec): `vers:SCHEME/`
/// then constraints joined by `|`, each `=`, `!=`, `<`, `<=`, `>` or `>=` and a version (`=` may be
/// left out), or `*` for every version. Constraints sorted by version read as the specification
/// says: a `<`/`<=` closes the interval a `>`/`>=` opened; a bare version matches only itself.
public struct VersionRange: Sendable, Hashable, CustomStringConvertible {
    public enum Comparator: String, Sendable, Hashable, CaseIterable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    public struct Constraint: Sendable, Hashable {
        public var comparator: Comparator
        public var version: ProductVersion
    }

    public let scheme: String
    /// Empty for `*`.
    public let constraints: [Constraint]

    /// Reads `vers:generic/>=2.4.0|<2.4.60`, or the same constraints alone, separated by `|` or by
    /// commas as people type them in a form (`>=2.4.0, <2.4.60`, `< 2.4.60`, `2.4.1`, `*`), in the scheme given.
    public init(_ text: String, scheme defaultScheme: String = "generic") throws(VersionRangeProblem) {
        var body = text.trimmingCharacters(in: .whitespaces)
        var scheme = defaultScheme
        if body.lowercased().hasPrefix("vers:") {
            let rest = body.dropFirst(5)
            guard let slash = rest.firstIndex(of: "/"), rest.startIndex < slash else {
                throw VersionRangeProblem(message: "'\(text)' must be written vers:SCHEME/CONSTRAINTS")
            }
            scheme = rest[..<slash].lowercased()
            body = String(rest[rest.index(after: slash)...])
        }
        guard !body.isEmpty else { throw VersionRangeProblem(message: "gives no version") }
        self.scheme = scheme
        if body.trimmingCharacters(in: .whitespaces) == "*" {
            constraints = []
            return
        }
        var read: [Constraint] = []
        for piece in body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "|" || $0 == "," }) {
            var item = piece.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw VersionRangeProblem(message: "'\(text)' has an empty constraint") }
            var comparator = Comparator.equal
            for candidate in [Comparator.notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater, .equal] where item.hasPrefix(candidate.rawValue) {
                comparator = candidate
                item = item.dropFirst(candidate.rawValue.count).trimmingCharacters(in: .whitespaces)
                break
            }
            guard let version = ProductVersion(item) else { throw VersionRangeProblem(message: "'\(piece)' is not a version constraint such as <2.4.60 or >=1.0") }
            read.append(Constraint(comparator: comparator, version: version))
        }
        let sorted = read.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw VersionRangeProblem(message: "'\(text)' names \(b.version) twice")
        }
        constraints = sorted
    }

    /// Whether the version lies in the range (the vers specification's checking algorithm).
    public func contains(_ version: ProductVersion) -> Bool {
        if constraints.isEmpty { return true }
        for constraint in constraints where constraint.comparator == .notEqual && constraint.version == version { return false }
        let ordered = constraints.filter { $0.comparator != .notEqual }
        if ordered.isEmpty { return true }
        for constraint in ordered {
            switch constraint.comparator {
            case .equal, .lessOrEqual, .greaterOrEqual: if constraint.version == version { return true }
            default: break
            }
        }
        let ranged = ordered.filter { $0.comparator != .equal }
        if ranged.isEmpty { return false }
        // Walk the sorted constraints: the version lies between two consecutive ones or beyond the ends.
        if version < ranged[0].version { return ranged[0].comparator == .less || ranged[0].comparator == .lessOrEqual }
        if let last = ranged.last, last.version < version { return last.comparator == .greater || last.comparator == .greaterOrEqual }
        for (low, high) in zip(ranged, ranged.dropFirst()) where low.version < version && version < high.version {
            let opens = low.comparator == .greater || low.comparator == .greaterOrEqual
            let closes = high.comparator == .less || high.comparator == .lessOrEqual
            return opens && closes
        }
        return false
    }

    /// The range in vers notation.
    public var description: String {
        "vers:\(scheme)/" + (constraints.isEmpty ? "*" : constraints.map { ($0.comparator == .equal ? "" : $0.comparator.rawValue) + $0.version.description }.joined(separator: "|"))
    }

    /// The constraints as people write them: `>= 2.4.0, < 2.4.60`, or `every version`.
    public var readable: String {
        constraints.isEmpty
            ? "every version"
            : constraints.map { ($0.comparator == .equal ? "" : $0.comparator.rawValue + " ") + $0.version.description }.joined(separator: ", ")
    }

    /// A single version (`2.4.1`) rather than a range.
    public var singleVersion: ProductVersion? {
        constraints.count == 1 && constraints[0].comparator == .equal ? constraints[0].version : nil
    }
}

public struct VersionRangeProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

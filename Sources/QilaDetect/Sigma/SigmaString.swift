/// A Sigma string value with its wildcards, after the specification's escaping rules:
/// `*` matches any run of characters, `?` exactly one; `\*`, `\?` and `\\` stand for the
/// character itself; a backslash before any other character is a literal backslash.
public struct SigmaString: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case anyRun
        case anyOne
        /// Exactly one of these characters (the `windash` modifier's dashes).
        case anyOf(String)
    }

    public private(set) var parts: [Part]
    /// The text as written in the rule, kept for modifiers that read it verbatim (`re`).
    public private(set) var source: String?

    public init(parts: [Part]) {
        self.parts = Self.merged(parts)
    }

    public static func == (lhs: SigmaString, rhs: SigmaString) -> Bool { lhs.parts == rhs.parts }
    public func hash(into hasher: inout Hasher) { hasher.combine(parts) }

    /// Parses the text as written in a rule.
    public init(parsing text: String) {
        var parts: [Part] = []
        var literal = ""
        var characters = text.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            switch character {
            case "\\":
                if let next = pending, next == "*" || next == "?" || next == "\\" {
                    literal.append(next)
                    pending = characters.next()
                } else {
                    literal.append("\\")
                }
            case "*":
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.anyRun)
            case "?":
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.anyOne)
            default:
                literal.append(character)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = Self.merged(parts)
        self.source = text
    }

    /// A plain string with no wildcards, as produced by modifiers such as base64.
    public init(literal: String) {
        parts = literal.isEmpty ? [] : [.literal(literal)]
    }

    public var hasWildcards: Bool { parts.contains { $0 != .literal("") && !$0.isLiteral } }

    /// The text when there are no wildcards.
    public var plain: String? {
        guard !hasWildcards else { return nil }
        return parts.compactMap { if case .literal(let text) = $0 { text } else { nil } }.joined()
    }

    public var description: String {
        parts.map { part in
            switch part {
            case .literal(let text):
                // Escaped as the specification writes them (plain string work: this names every
                // atom while a rule set compiles).
                String(
                    text.unicodeScalars.reduce(into: String.UnicodeScalarView()) { out, scalar in
                        if scalar == "\\" || scalar == "*" || scalar == "?" { out.append("\\") }
                        out.append(scalar)
                    })
            case .anyRun: "*"
            case .anyOne: "?"
            case .anyOf(let characters): "[\(characters)]"
            }
        }.joined()
    }

    public func prepending(_ part: Part) -> SigmaString { SigmaString(parts: [part] + parts) }
    public func appending(_ part: Part) -> SigmaString { SigmaString(parts: parts + [part]) }

    /// Adjacent literals joined; runs of `*` collapsed to one.
    static func merged(_ parts: [Part]) -> [Part] {
        var result: [Part] = []
        for part in parts {
            switch (result.last, part) {
            case (.literal(let a), .literal(let b)): result[result.count - 1] = .literal(a + b)
            case (.anyRun, .anyRun): continue
            case (_, .literal(let text)) where text.isEmpty: continue
            default: result.append(part)
            }
        }
        return result
    }
}

extension SigmaString.Part {
    var isLiteral: Bool {
        if case .literal = self { return true }
        return false
    }
}

/// A detection condition: search identifiers combined with `and`, `or`, `not`, parentheses,
/// and the quantifiers `1 of` / `all of` over a name pattern or `them`.
public indirect enum SigmaCondition: Sendable, Hashable, CustomStringConvertible {
    case search(String)
    case oneOf(pattern: String)
    case allOf(pattern: String)
    case not(SigmaCondition)
    case and([SigmaCondition])
    case or([SigmaCondition])

    public var description: String {
        switch self {
        case .search(let name): name
        case .oneOf(let pattern): "1 of \(pattern)"
        case .allOf(let pattern): "all of \(pattern)"
        case .not(let inner): "not \(inner.parenthesised)"
        case .and(let parts): parts.map(\.parenthesised).joined(separator: " and ")
        case .or(let parts): parts.map(\.parenthesised).joined(separator: " or ")
        }
    }

    var parenthesised: String {
        switch self {
        case .and, .or: "(\(description))"
        default: description
        }
    }

    /// The search identifiers a quantifier pattern names: `them` is all, `sel*` those starting with `sel`.
    public static func expand(_ pattern: String, in names: [String]) -> [String] {
        if pattern == "them" { return names.filter { !$0.hasPrefix("_") } }
        let string = SigmaString(parsing: pattern)
        return names.filter { WildcardMatcher(string, caseSensitive: true).matches($0) }
    }
}

/// Parses condition text. Precedence, from tightest: `not`, `and`, `or`.
public struct SigmaConditionParser {
    enum Token: Equatable {
        case open, close, and, or, not, oneOf, allOf
        case word(String)
    }

    public init() {}

    public func parse(_ text: String) throws -> SigmaCondition {
        var tokens = try tokenize(text)[...]
        let condition = try parseOr(&tokens, text)
        if let extra = tokens.first {
            throw SigmaError("unexpected \(describe(extra)) in condition '\(text)'")
        }
        return condition
    }

    func tokenize(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            switch word.lowercased() {
            case "and": tokens.append(.and)
            case "or": tokens.append(.or)
            case "not": tokens.append(.not)
            default: tokens.append(.word(word))
            }
            word = ""
        }
        for character in text {
            switch character {
            case "(": flush(); tokens.append(.open)
            case ")": flush(); tokens.append(.close)
            case " ", "\t", "\n", "\r": flush()
            default:
                guard character.isLetter || character.isNumber || "_*-.?".contains(character) else {
                    throw SigmaError("the character '\(character)' cannot appear in condition '\(text)'")
                }
                word.append(character)
            }
        }
        flush()
        // "1 of" and "all of" are quantifiers over the next word.
        var merged: [Token] = []
        var index = 0
        while index < tokens.count {
            if case .word(let first) = tokens[index], index + 1 < tokens.count, tokens[index + 1] == .word("of") {
                switch first.lowercased() {
                case "1": merged.append(.oneOf); index += 2; continue
                case "all": merged.append(.allOf); index += 2; continue
                default:
                    throw SigmaError("'\(first) of' is not a Sigma quantifier (use '1 of' or 'all of') in condition '\(text)'")
                }
            }
            merged.append(tokens[index])
            index += 1
        }
        return merged
    }

    func parseOr(_ tokens: inout ArraySlice<Token>, _ text: String) throws -> SigmaCondition {
        var parts = [try parseAnd(&tokens, text)]
        while tokens.first == .or {
            tokens.removeFirst()
            parts.append(try parseAnd(&tokens, text))
        }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    func parseAnd(_ tokens: inout ArraySlice<Token>, _ text: String) throws -> SigmaCondition {
        var parts = [try parseNot(&tokens, text)]
        while tokens.first == .and {
            tokens.removeFirst()
            parts.append(try parseNot(&tokens, text))
        }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    func parseNot(_ tokens: inout ArraySlice<Token>, _ text: String) throws -> SigmaCondition {
        if tokens.first == .not {
            tokens.removeFirst()
            return .not(try parseNot(&tokens, text))
        }
        return try parseAtom(&tokens, text)
    }

    func parseAtom(_ tokens: inout ArraySlice<Token>, _ text: String) throws -> SigmaCondition {
        guard let token = tokens.popFirst() else {
            throw SigmaError("condition '\(text)' ends where a search identifier was expected")
        }
        switch token {
        case .open:
            let inner = try parseOr(&tokens, text)
            guard tokens.popFirst() == .close else { throw SigmaError("a '(' is not closed in condition '\(text)'") }
            return inner
        case .oneOf, .allOf:
            guard case .word(let pattern) = tokens.popFirst() else {
                throw SigmaError("a quantifier needs a name pattern or 'them' in condition '\(text)'")
            }
            return token == .oneOf ? .oneOf(pattern: pattern) : .allOf(pattern: pattern)
        case .word(let name):
            return .search(name)
        default:
            throw SigmaError("unexpected \(describe(token)) in condition '\(text)'")
        }
    }

    func describe(_ token: Token) -> String {
        switch token {
        case .open: "'('"
        case .close: "')'"
        case .and: "'and'"
        case .or: "'or'"
        case .not: "'not'"
        case .oneOf: "'1 of'"
        case .allOf: "'all of'"
        case .word(let word): "'\(word)'"
        }
    }
}

/// A Sigma rule as loaded: metadata, where its events come from, and what to look for.
public struct SigmaRule: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, CaseIterable, Comparable {
        case informational, low, medium, high, critical
        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var id: String?
    public var name: String?
    public var title: String
    public var status: String?
    public var level: Level?
    public var tags: [String]
    public var logSource: LogSource
    public var detection: Detection
    /// Where the rule was read from, for messages.
    public var file: String?
    public var line: Int?
}

/// The kind of events a rule applies to.
public struct LogSource: Sendable, Hashable, CustomStringConvertible {
    public var category: String?
    public var product: String?
    public var service: String?

    public init(category: String? = nil, product: String? = nil, service: String? = nil) {
        self.category = category
        self.product = product
        self.service = service
    }

    public var description: String {
        [product, category, service].map { $0 ?? "*" }.joined(separator: "/")
    }
}

/// The detection section: named searches and the condition that combines them.
public struct Detection: Sendable, Hashable {
    public var searches: [String: Search]
    /// Several conditions are alternatives: the rule matches when any does.
    public var conditions: [SigmaCondition]
    public var timeframe: String?
}

/// One search identifier: either alternatives of field maps, or keywords to find anywhere.
public enum Search: Sendable, Hashable {
    /// Matches when any of the maps matches; a map matches when all its items do.
    case maps([[FieldItem]])
    /// Matches when any keyword occurs in the event (or all, with `|all`).
    case keywords([SigmaValue], all: Bool)
}

/// `field|modifier|...: value or values` inside a map.
public struct FieldItem: Sendable, Hashable {
    public var field: String
    public var modifiers: [SigmaModifier]
    /// Alternatives (or, with `|all`, requirements).
    public var values: [SigmaValue]
    public var line: Int?
}

public enum SigmaValue: Sendable, Hashable, CustomStringConvertible {
    case string(SigmaString)
    /// A number as written; compared numerically by lt/gt, as text otherwise.
    case number(String)
    case bool(Bool)
    case null

    public var description: String {
        switch self {
        case .string(let string): string.description
        case .number(let text): text
        case .bool(let value): String(value)
        case .null: "null"
        }
    }
}

/// A Sigma correlation rule (specification 2.1): it fires when the events matched by other rules
/// (or the firings of other correlations) meet a condition within a sliding time window, per
/// group of field values.
public struct SigmaCorrelation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// How many events.
        case eventCount = "event_count"
        /// How many distinct values of `field`.
        case valueCount = "value_count"
        /// Which of the referenced rules occurred, in any order.
        case temporal
        /// All referenced rules occurred in the order listed.
        case temporalOrdered = "temporal_ordered"
        /// Sum, mean, percentile or median of the numeric values of `field`.
        case valueSum = "value_sum"
        case valueAverage = "value_avg"
        case valuePercentile = "value_percentile"
        case valueMedian = "value_median"

        /// The kinds that aggregate the values of a field.
        public var needsField: Bool {
            switch self {
            case .valueCount, .valueSum, .valueAverage, .valuePercentile, .valueMedian: true
            case .eventCount, .temporal, .temporalOrdered: false
            }
        }
    }

    /// `gt: 10` and friends; several in one condition must all hold (a range).
    public struct Comparison: Sendable, Hashable, CustomStringConvertible {
        public enum Operator: String, Sendable, Hashable, CaseIterable {
            case gt, gte, lt, lte, eq
        }
        public var op: Operator
        public var value: Double

        public init(_ op: Operator, _ value: Double) {
            self.op = op
            self.value = value
        }

        public func holds(_ measured: Double) -> Bool {
            switch op {
            case .gt: measured > value
            case .gte: measured >= value
            case .lt: measured < value
            case .lte: measured <= value
            case .eq: measured == value
            }
        }

        /// True when the comparison can only become true as a count grows, so it can be
        /// decided the moment it holds; an upper bound is decided when the window closes.
        var isLowerBound: Bool { op == .gt || op == .gte }

        public var description: String {
            "\(op.rawValue) \(value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value))"
        }
    }

    public var id: String?
    public var name: String?
    public var title: String
    public var status: String?
    public var level: SigmaRule.Level?
    public var tags: [String]
    public var kind: Kind
    /// The referenced rules and correlations, by id or name, as written.
    public var rules: [String]
    /// Alias name to (referenced rule name or id to the field in that rule's events).
    public var aliases: [String: [String: String]]
    public var groupBy: [String]
    /// The window, in milliseconds.
    public var timespan: Int64
    /// The timespan as written (`90m`).
    public var timespanText: String
    /// All must hold. For `temporal` without a condition, every referenced rule must occur.
    public var comparisons: [Comparison]
    /// `temporal` only: a condition over the referenced rules' names (`a and (b or c)`).
    public var expression: SigmaCondition?
    /// The field whose values are counted or aggregated.
    public var field: String?
    /// `value_percentile`: which percentile (0–100).
    public var percentile: Double?
    /// Whether the referenced rules also alert on their own.
    public var generate: Bool
    public var file: String?
    public var line: Int?
}

/// One YAML document of a rule file: a detection rule or a correlation rule.
public enum SigmaDocument: Sendable, Hashable {
    case rule(SigmaRule)
    case correlation(SigmaCorrelation)

    public var id: String? {
        switch self {
        case .rule(let rule): rule.id
        case .correlation(let correlation): correlation.id
        }
    }

    public var name: String? {
        switch self {
        case .rule(let rule): rule.name
        case .correlation(let correlation): correlation.name
        }
    }

    public var title: String {
        switch self {
        case .rule(let rule): rule.title
        case .correlation(let correlation): correlation.title
        }
    }
}

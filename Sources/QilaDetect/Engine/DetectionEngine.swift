import Synchronization

/// Something found in the stream: a rule that fired on an event, an indicator found in one, or
/// a correlation that fired over several; with the fields that made it and the event.
public struct Alert: Sendable {
    public enum Origin: Sendable {
        case rule(SigmaRule)
        case indicator(Indicator)
        /// The correlation rule and what it measured, over which window and events.
        case correlation(SigmaCorrelation, CorrelationAlert)
    }

    public var origin: Origin
    /// For a rule or an indicator, the fields that matched; for a correlation, its group.
    public var fields: [(name: String, value: String)]
    /// The event as received (a JSON object in UTF-8); for a correlation, the event that
    /// completed it (empty when a window was decided by time alone).
    public var event: [UInt8]

    public var title: String {
        switch origin {
        case .rule(let rule): rule.title
        case .indicator(let indicator): indicator.name ?? indicator.text
        case .correlation(let correlation, _): correlation.title
        }
    }

    public var level: SigmaRule.Level? {
        switch origin {
        case .rule(let rule): rule.level
        case .indicator: nil
        case .correlation(let correlation, _): correlation.level
        }
    }

    public var rule: SigmaRule? {
        if case .rule(let rule) = origin { return rule }
        return nil
    }
}

/// The detection engine as the intake pipeline uses it: a current compiled rule set (with its
/// correlations) and indicator set that can each be replaced at any moment (hot reload), and
/// sessions (one per worker and stream) that feed it events.
///
/// Replacing a set never drops an event: an event is matched entirely against the sets that
/// were current when its session picked it up, and the next event against the new ones. The
/// open correlation windows of a session start afresh when its rule set is replaced.
public final class DetectionEngine: Sendable {
    private struct Current {
        var rules: CompiledRuleSet
        var indicators: IndicatorSet
        var version: Int
    }

    private let current: Mutex<Current>

    public init(_ ruleSet: CompiledRuleSet, indicators: IndicatorSet = IndicatorSet(indicators: [])) {
        current = Mutex(Current(rules: ruleSet, indicators: indicators, version: 1))
    }

    public var ruleSet: CompiledRuleSet { current.withLock { $0.rules } }
    public var indicatorSet: IndicatorSet { current.withLock { $0.indicators } }
    /// Increases with every replacement.
    public var version: Int { current.withLock { $0.version } }

    /// Makes `ruleSet` current; sessions switch to it at their next event.
    public func replace(with ruleSet: CompiledRuleSet) {
        current.withLock {
            $0.rules = ruleSet
            $0.version += 1
        }
    }

    /// Makes `indicators` current; sessions switch to them at their next event.
    public func replace(indicators: IndicatorSet) {
        current.withLock {
            $0.indicators = indicators
            $0.version += 1
        }
    }

    /// Loads and compiles the rules under `paths` (outside any lock, so events keep flowing),
    /// then makes them current. Returns the refusals; the old set stays if nothing loaded.
    @discardableResult
    public func reload(paths: [String], mapping: FieldMapping? = nil, placeholders: SigmaPlaceholders = .none) -> [SigmaError] {
        let set = CompiledRuleSet(paths: paths, mapping: mapping ?? ruleSet.mapping, placeholders: placeholders)
        if !set.rules.isEmpty { replace(with: set) }
        return set.refusals
    }

    /// Loads the indicator files (STIX bundles or lists) and makes them current. Returns the
    /// refusals; the old set stays if nothing loaded.
    @discardableResult
    public func reloadIndicators(paths: [String]) -> [SigmaError] {
        let set = IndicatorSet(paths: paths)
        if set.count > 0 { replace(indicators: set) }
        return set.refusals
    }

    public func makeSession() -> Session { Session(engine: self) }

    /// One worker's matcher for one stream: not shared between threads.
    public struct Session {
        let engine: DetectionEngine
        private var matcher: RuleMatcher
        private var indicatorMatcher: IndicatorMatcher
        private var correlator: Correlator
        private var version: Int
        private var matched: [Int] = []

        init(engine: DetectionEngine) {
            self.engine = engine
            let current = engine.current.withLock { $0 }
            matcher = RuleMatcher(current.rules)
            indicatorMatcher = IndicatorMatcher(current.indicators)
            correlator = Correlator(current.rules.correlations)
            version = current.version
        }

        /// The rule set this session matched its last event against.
        public var ruleSet: CompiledRuleSet { matcher.ruleSet }

        /// Matches one event (a JSON object in UTF-8) and calls `found` for each rule that fires
        /// (rules only: no indicators, no correlations; the fast path for counting).
        public mutating func process(_ event: UnsafeBufferPointer<UInt8>, _ found: (RuleMatch) -> Void) throws(EventError) {
            refresh()
            try matcher.match(event, found)
        }

        private mutating func refresh() {
            let current = engine.current.withLock { $0 }
            guard current.version != version else { return }
            if current.rules !== matcher.ruleSet {
                matcher = RuleMatcher(current.rules)
                correlator = Correlator(current.rules.correlations)
            }
            if current.indicators !== indicatorMatcher.set {
                indicatorMatcher = IndicatorMatcher(current.indicators)
            }
            version = current.version
        }

        /// Matches one event against the rules, the indicators and the correlations, and returns
        /// what was found, each with a copy of the event. Rules that only feed correlations
        /// (`generate: false`) give no alert of their own. `reference` identifies the event in
        /// correlation alerts (a line number, a journal offset); `time` overrides its time field.
        public mutating func process(_ event: [UInt8], reference: Int64 = 0, time: Int64? = nil) throws(EventError) -> [Alert] {
            refresh()
            var alerts: [Alert] = []
            let rules = matcher.ruleSet.rules
            let correlations = matcher.ruleSet.correlations
            matched.removeAll(keepingCapacity: true)
            try event.withUnsafeBufferPointer { (bytes) throws(EventError) in
                if !rules.isEmpty {
                    try matcher.match(bytes) { match in
                        matched.append(match.rule)
                        if !correlations.silentRules.contains(match.rule) {
                            alerts.append(Alert(origin: .rule(rules[match.rule]), fields: match.fields, event: event))
                        }
                    }
                }
                let indicators = indicatorMatcher.set
                if indicators.count > 0 {
                    try indicatorMatcher.match(bytes) { match in
                        alerts.append(Alert(origin: .indicator(indicators.indicators[match.indicator]), fields: match.fields, event: event))
                    }
                }
                if !matched.isEmpty, !correlations.isEmpty {
                    for fired in correlator.observe(rules: matched, event: bytes, reference: reference, time: time) {
                        alerts.append(correlationAlert(fired, event: event))
                    }
                }
            }
            return alerts
        }

        /// Moves the session's time forward (a live stream's clock) and returns the
        /// correlations whose windows closed before it.
        public mutating func advance(to time: Int64) -> [Alert] {
            correlator.advance(to: time).map { correlationAlert($0, event: []) }
        }

        /// Decides every open correlation window, as a stream ends.
        public mutating func finish() -> [Alert] {
            correlator.finish().map { correlationAlert($0, event: []) }
        }

        private func correlationAlert(_ fired: CorrelationAlert, event: [UInt8]) -> Alert {
            let correlation = matcher.ruleSet.correlations.correlations[fired.correlation]
            return Alert(origin: .correlation(correlation, fired), fields: fired.group.map { (name: $0.field, value: $0.value) }, event: event)
        }
    }
}

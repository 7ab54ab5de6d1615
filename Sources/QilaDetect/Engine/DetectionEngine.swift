import Synchronization

/// A rule that fired on an event: the rule, the fields that made it fire, and the event.
public struct Alert: Sendable {
    public var rule: SigmaRule
    public var fields: [(name: String, value: String)]
    /// The event as received (a JSON object in UTF-8).
    public var event: [UInt8]
}

/// The detection engine as the intake pipeline uses it: a current compiled rule set that can be
/// replaced at any moment (hot reload), and sessions (one per worker) that feed it events.
///
/// Replacing the rule set never drops an event: an event is matched entirely against the set
/// that was current when its session picked it up, and the next event against the new one.
public final class DetectionEngine: Sendable {
    private let current: Mutex<(set: CompiledRuleSet, version: Int)>

    public init(_ ruleSet: CompiledRuleSet) {
        current = Mutex((ruleSet, 1))
    }

    public var ruleSet: CompiledRuleSet { current.withLock { $0.set } }
    /// Increases with every replacement.
    public var version: Int { current.withLock { $0.version } }

    /// Makes `ruleSet` current; sessions switch to it at their next event.
    public func replace(with ruleSet: CompiledRuleSet) {
        current.withLock { $0 = (ruleSet, $0.version + 1) }
    }

    /// Loads and compiles the rules under `paths` (outside any lock, so events keep flowing),
    /// then makes them current. Returns the refusals; the old set stays if nothing loaded.
    @discardableResult
    public func reload(paths: [String], mapping: FieldMapping? = nil) -> [SigmaError] {
        let set = CompiledRuleSet(paths: paths, mapping: mapping ?? ruleSet.mapping)
        if !set.rules.isEmpty { replace(with: set) }
        return set.refusals
    }

    public func makeSession() -> Session { Session(engine: self) }

    /// One worker's matcher: not shared between threads.
    public struct Session {
        let engine: DetectionEngine
        private var matcher: RuleMatcher
        private var version: Int

        init(engine: DetectionEngine) {
            self.engine = engine
            let (set, version) = engine.current.withLock { $0 }
            matcher = RuleMatcher(set)
            self.version = version
        }

        /// The rule set this session matched its last event against.
        public var ruleSet: CompiledRuleSet { matcher.ruleSet }

        /// Matches one event (a JSON object in UTF-8) and calls `found` for each rule that fires.
        public mutating func process(_ event: UnsafeBufferPointer<UInt8>, _ found: (RuleMatch) -> Void) throws(EventError) {
            refresh()
            try matcher.match(event, found)
        }

        private mutating func refresh() {
            let (set, latest) = engine.current.withLock { $0 }
            if latest != version {
                matcher = RuleMatcher(set)
                version = latest
            }
        }

        /// Matches one event and returns its alerts, each with a copy of the event.
        public mutating func process(_ event: [UInt8]) throws(EventError) -> [Alert] {
            refresh()
            var alerts: [Alert] = []
            let rules = matcher.ruleSet.rules
            try event.withUnsafeBufferPointer { (bytes) throws(EventError) in
                try matcher.match(bytes) { match in
                    alerts.append(Alert(rule: rules[match.rule], fields: match.fields, event: event))
                }
            }
            return alerts
        }
    }
}

import Foundation
public import QilaCore
public import QilaDetect
import Synchronization

/// The rules and indicators intake runs: the enabled rules, parsed once and compiled for each
/// mapping a sensor uses, and the indicator set. Replacing them (rules uploaded, enabled or
/// disabled) makes a new version; each worker picks it up at its next entry, and an entry is
/// matched entirely against one version.
public final class DetectionSets: Sendable {
    struct Current: Sendable {
        var version: Int
        var rules: [SigmaRule]
        var correlations: [SigmaCorrelation]
        var refusals: [SigmaError]
        var compiled: [String: CompiledRuleSet]
        var indicators: IndicatorSet
    }

    private let current: Mutex<Current>

    public init(rules: [DetectionRule] = [], indicators: IndicatorSet = IndicatorSet(indicators: [])) {
        let parsed = Self.parse(rules)
        current = Mutex(
            Current(
                version: 1, rules: parsed.rules, correlations: parsed.correlations, refusals: parsed.refusals, compiled: [:],
                indicators: indicators))
    }

    public var version: Int { current.withLock { $0.version } }
    public var indicators: IndicatorSet { current.withLock { $0.indicators } }

    /// Parses the enabled rules; each Sigma rule's `file` is its stored rule's id, so alerts name it.
    static func parse(_ rules: [DetectionRule]) -> (rules: [SigmaRule], correlations: [SigmaCorrelation], refusals: [SigmaError]) {
        let parser = SigmaRuleParser()
        var sigma: [SigmaRule] = []
        var correlations: [SigmaCorrelation] = []
        var refusals: [SigmaError] = []
        for rule in rules where rule.enabled {
            for result in parser.parseDocuments(yaml: rule.yaml, file: rule.id) {
                switch result {
                case .success(.rule(let parsed)): sigma.append(parsed)
                case .success(.correlation(let correlation)): correlations.append(correlation)
                case .failure(let error): refusals.append(error)
                }
            }
        }
        return (sigma, correlations, refusals)
    }

    /// Makes `rules` (those enabled) current; sets for the mappings in use are compiled again
    /// before the switch, so workers never wait for a compilation.
    public func replace(rules: [DetectionRule]) {
        let parsed = Self.parse(rules)
        let mappings = current.withLock { Array($0.compiled.keys) }
        var compiled: [String: CompiledRuleSet] = [:]
        for mapping in mappings {
            if let set = try? Self.compile(parsed.rules, parsed.correlations, mapping: mapping) { compiled[mapping] = set }
        }
        current.withLock {
            $0.rules = parsed.rules
            $0.correlations = parsed.correlations
            $0.refusals = parsed.refusals
            $0.compiled = compiled
            $0.version += 1
        }
    }

    public func replace(indicators: IndicatorSet) {
        current.withLock {
            $0.indicators = indicators
            $0.version += 1
        }
    }

    static func compile(_ rules: [SigmaRule], _ correlations: [SigmaCorrelation], mapping: String) throws -> CompiledRuleSet {
        let fieldMapping = try FieldMapping.named(mapping)
        // Rules that cannot be evaluated for this mapping are refused here, as the loader would.
        let (usable, refusals) = RuleSetLoader.evaluable(rules, mapping: fieldMapping)
        return CompiledRuleSet(
            rules: usable, mapping: fieldMapping, loadingRefusals: refusals, correlations: correlations,
            extraFields: EntityProfile.forMapping(mapping).fields)
    }

    /// The set for `mapping`, compiled on first use; nil when the mapping is unknown.
    func ruleSet(for mapping: String) -> (set: CompiledRuleSet, version: Int)? {
        let (existing, rules, correlations, version) = current.withLock { ($0.compiled[mapping], $0.rules, $0.correlations, $0.version) }
        if let existing { return (existing, version) }
        guard let set = try? Self.compile(rules, correlations, mapping: mapping) else { return nil }
        return current.withLock { state in
            guard state.version == version else { return state.compiled[mapping].map { ($0, state.version) } ?? (set, version) }
            state.compiled[mapping] = set
            return (set, version)
        }
    }

    /// The log source of each enabled rule, by the stored rule's id.
    public var logSources: [String: LogSource] {
        current.withLock { state in
            Dictionary(state.rules.compactMap { rule in rule.file.map { ($0, rule.logSource) } }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Compiles the sets of these mappings now (at start, so the first events do not wait).
    public func prepare(mappings: Set<String>) {
        for mapping in mappings { _ = ruleSet(for: mapping) }
    }

    /// What is wrong with a rule's text: parse errors; whether a mapping in use reads its log
    /// source (and if not, which shipped mapping would); and whether the mappings that read it can
    /// compile it. Empty when some mapping in use feeds it.
    public func lint(_ yaml: String, file: String, mappings: Set<String>) -> RuleLint {
        var lint = RuleLint()
        var parsed: [SigmaRule] = []
        var correlations = 0
        for result in SigmaRuleParser().parseDocuments(yaml: yaml, file: file) {
            switch result {
            case .success(.rule(let rule)): parsed.append(rule)
            case .success(.correlation): correlations += 1
            case .failure(let error): lint.unreadable.append(error.description)
            }
        }
        if parsed.isEmpty && correlations == 0 && lint.unreadable.isEmpty { lint.unreadable.append("\(file): no rule in the document") }
        let coverage = RuleCoverage(mappings: mappings.sorted().compactMap { try? FieldMapping.named($0) })
        for rule in parsed {
            switch coverage.verdict(for: rule) {
            case .fed: break
            case .unevaluable(let reasons): lint.unevaluable += reasons
            case .unfed(let logSource, let shipped): lint.unfed.append(RuleCoverage.unfedFinding(logSource, shipped: shipped))
            }
        }
        return lint
    }
}

/// Lint findings of a rule file: what keeps it from being read at all, and what keeps a read rule
/// from running on a mapping in use (stored, shown, and skipped for that mapping).
public struct RuleLint: Sendable, Equatable {
    public var unreadable: [String] = []
    public var unevaluable: [String] = []
    /// No mapping in use reads the rule's log source. Not stored with the rule: the rules page
    /// works it out afresh, as sensors come and go (`RuleDesk.feeds`).
    public var unfed: [String] = []
    /// What is stored with the rule.
    public var all: [String] { unreadable + unevaluable }
}

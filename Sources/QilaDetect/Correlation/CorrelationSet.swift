/// Correlation rules resolved against a compiled rule set: each reference bound to a loaded
/// detection rule or to another correlation, chains ordered so that a correlation comes after
/// those it reads, aliases and field names turned into event paths. Immutable and shared; the
/// state lives in each `Correlator`.
public struct CorrelationSet: Sendable {
    public enum Reference: Sendable, Hashable {
        case rule(Int)
        case correlation(Int)
    }

    /// The loaded correlations, each after every correlation it references.
    public let correlations: [SigmaCorrelation]
    /// Correlations that could not be resolved, with the reason.
    public let refusals: [SigmaError]
    /// Per correlation, its resolved references in the order written.
    public let inputs: [[Reference]]
    /// Detection rules that alert only through the correlations referencing them (`generate`
    /// is false in all of them), by index into the rule set.
    public let silentRules: Set<Int>
    /// Per rule index: the correlations reading it and at which position.
    let readersOfRule: [Int: [(correlation: Int, position: Int)]]
    /// Per correlation: the correlations reading its firings and at which position.
    let readersOfCorrelation: [[(correlation: Int, position: Int)]]
    /// Per correlation, per position, per group-by field: the field name in that input's events.
    let groupFields: [[[String]]]
    /// Paths of event fields by Sigma field name, for the fields correlations read.
    let paths: [String: [[String]]]
    let timestampPaths: [[String]]

    public static let empty = CorrelationSet(correlations: [], rules: [], mapping: .flat)

    public var isEmpty: Bool { correlations.isEmpty }

    public init(correlations candidates: [SigmaCorrelation], rules: [SigmaRule], mapping: FieldMapping) {
        var refusals: [SigmaError] = []
        func refuse(_ correlation: SigmaCorrelation, _ message: String) {
            refusals.append(SigmaError("correlation '\(correlation.title)': \(message)", file: correlation.file, line: correlation.line))
        }
        // Names and ids of rules and correlations; a key used twice cannot be a reference.
        var ruleKeys: [String: [Int]] = [:]
        for (index, rule) in rules.enumerated() {
            for key in Set([rule.id, rule.name].compactMap(\.self)) { ruleKeys[key, default: []].append(index) }
        }
        var correlationKeys: [String: [Int]] = [:]
        for (index, correlation) in candidates.enumerated() {
            for key in Set([correlation.id, correlation.name].compactMap(\.self)) { correlationKeys[key, default: []].append(index) }
        }
        // Resolve each correlation's references, then order them: a correlation is placed once
        // every correlation it reads is placed; what cannot be placed is in a cycle or reads a
        // refused correlation.
        var pending: [Int: [Reference]] = [:]
        var resolved: [Int: [Reference]] = [:]
        for (index, correlation) in candidates.enumerated() {
            var references: [Reference] = []
            var problem: String?
            for key in correlation.rules {
                let asRule = ruleKeys[key] ?? []
                let asCorrelation = correlationKeys[key] ?? []
                if asRule.count + asCorrelation.count > 1 {
                    problem = "'\(key)' names more than one loaded rule; references must be unique ids or names"
                } else if let rule = asRule.first {
                    references.append(.rule(rule))
                } else if let other = asCorrelation.first {
                    if other == index { problem = "it references itself" }
                    references.append(.correlation(other))
                } else {
                    problem = "it references '\(key)', which is no loaded rule or correlation (by id or name)"
                }
                if problem != nil { break }
            }
            if let problem { refuse(correlation, problem) } else { pending[index] = references; resolved[index] = references }
        }
        var order: [Int] = []
        var placed: Set<Int> = []
        var progress = true
        while progress {
            progress = false
            for index in pending.keys.sorted() {
                let references = pending[index]!
                let ready = references.allSatisfy { reference in
                    if case .correlation(let other) = reference { return placed.contains(other) }
                    return true
                }
                guard ready else { continue }
                placed.insert(index)
                order.append(index)
                pending[index] = nil
                progress = true
            }
        }
        for index in pending.keys.sorted() {
            refuse(candidates[index], "its references form a cycle or name a correlation that was refused")
        }

        var correlations: [SigmaCorrelation] = []
        var inputs: [[Reference]] = []
        var groupFields: [[[String]]] = []
        var fieldNames: Set<String> = []
        var silent: [Int: Bool] = [:]
        var finalIndex: [Int: Int] = [:]
        for index in order {
            let correlation = candidates[index]
            // References to correlations become indices into the loaded list; one that was
            // refused (for its aliases) refuses this one too.
            let mapped = resolved[index]!.map { reference -> Reference? in
                guard case .correlation(let other) = reference else { return reference }
                return finalIndex[other].map(Reference.correlation)
            }
            let references = mapped.compactMap(\.self)
            guard references.count == mapped.count else {
                refuse(correlation, "it references a correlation that was refused")
                continue
            }
            // Aliases name the referenced rules by the key written in `rules`.
            var perPosition: [[String]] = []
            var problem: String?
            for key in correlation.rules {
                var fields: [String] = []
                for group in correlation.groupBy {
                    if let alias = correlation.aliases[group] {
                        guard let field = alias[key] else {
                            problem = "alias '\(group)' gives no field for rule '\(key)'"
                            break
                        }
                        fields.append(field)
                    } else {
                        fields.append(group)
                    }
                }
                perPosition.append(fields)
            }
            if let problem {
                refuse(correlation, problem)
                continue
            }
            for case .rule(let rule) in references {
                silent[rule] = (silent[rule] ?? true) && !correlation.generate
            }
            fieldNames.formUnion(perPosition.joined())
            if let field = correlation.field { fieldNames.insert(field) }
            finalIndex[index] = correlations.count
            correlations.append(correlation)
            inputs.append(references)
            groupFields.append(perPosition)
        }
        var readersOfRule: [Int: [(correlation: Int, position: Int)]] = [:]
        var readersOfCorrelation = [[(correlation: Int, position: Int)]](repeating: [], count: correlations.count)
        for (index, references) in inputs.enumerated() {
            for (position, reference) in references.enumerated() {
                switch reference {
                case .rule(let rule): readersOfRule[rule, default: []].append((index, position))
                case .correlation(let other): readersOfCorrelation[other].append((index, position))
                }
            }
        }
        self.correlations = correlations
        self.refusals = refusals
        self.inputs = inputs
        self.groupFields = groupFields
        self.readersOfRule = readersOfRule
        self.readersOfCorrelation = readersOfCorrelation
        silentRules = Set(silent.filter(\.value).keys)
        paths = Dictionary(uniqueKeysWithValues: fieldNames.map { ($0, mapping.paths(for: $0)) })
        timestampPaths = mapping.timestampPaths
    }

    /// True when some correlation reads this rule's matches.
    public func reads(rule: Int) -> Bool { readersOfRule[rule] != nil }
}

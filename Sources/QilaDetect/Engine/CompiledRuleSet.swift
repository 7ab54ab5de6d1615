/// All rules compiled together for one event format.
///
/// Every distinct value test of every rule (an *atom*: one field, one value, its modifiers) is
/// compiled once and grouped with the other tests of its field: equality through one hash
/// table, substrings, prefixes, suffixes and the literal parts of wildcards and regular
/// expressions through one Aho–Corasick automaton, so each field of an event is read once
/// whatever the number of rules. Log sources are decided first, from the few fields the
/// mapping names, and only the rules of the event's log source are considered; a rule is
/// evaluated only when one of its tests held (or when its condition could hold with none).
/// Only the fields rules use are taken from the JSON at all.
///
/// The compiled set is immutable and shared; each worker matches with its own `RuleMatcher`.
public final class CompiledRuleSet: Sendable {
    public let rules: [SigmaRule]
    /// Rules that were not loaded or did not compile, with the reason.
    public let refusals: [SigmaError]
    public let mapping: FieldMapping
    /// The correlation rules over these rules (run by a `Correlator` per stream).
    public let correlations: CorrelationSet

    let programs: [RuleProgram]
    /// Every rule's condition as one flat program (`ConditionCode`), read without reference
    /// counting while matching; `codeStart[rule]` is where the rule's starts.
    let code: [Int32]
    let codeStart: [Int32]
    let fields: [FieldPlan]
    let atomRules: [[Int32]]
    let atomFields: [Int32]
    /// Each atom's part: `field * 2` for anchored tests (whole value, prefix, suffix), `+ 1`
    /// for the others (substrings, wildcards, expressions, comparisons), which read the whole value.
    let atomParts: [Int32]
    /// Per atom, the rules it can make candidates: those whose trigger clause holds it.
    let triggerRules: [[Int32]]
    /// Each atom's value as written in the rule, for alerts.
    let atomDescriptions: [String]
    let tree: FieldTree
    let collectLeaves: Bool
    /// Fields kept from every event for the caller (host, account, event type), whatever the
    /// rules read: their slots, in the order of `extraFieldNames`.
    let extraFieldSlots: [[Int]]
    public let extraFieldNames: [String]
    let logSources: LogSourcePlan

    /// Compiles the rules that can be compiled; the others are listed in `refusals`.
    /// `extraFields` are Sigma field names (looked up through the mapping) whose values a
    /// `RuleMatcher` keeps from every event it scans, read with `extraValue(_:)`.
    public init(
        rules: [SigmaRule], mapping: FieldMapping, loadingRefusals: [SigmaError] = [], correlations: [SigmaCorrelation] = [],
        extraFields: [String] = []
    ) {
        var builder = Builder(mapping: mapping)
        var kept: [SigmaRule] = []
        var programs: [RuleProgram] = []
        var refusals: [SigmaError] = []
        for rule in rules {
            do {
                programs.append(try builder.compile(rule, index: kept.count))
                kept.append(rule)
            } catch {
                // Atoms already added for this rule stay, unreferenced; the index is reused.
                builder.forget(rule: kept.count)
                var refusal = error as? SigmaError ?? SigmaError("\(error)")
                refusal.file = refusal.file ?? rule.file
                refusals.append(refusal)
            }
        }
        self.rules = kept
        self.programs = programs
        var code: [Int32] = []
        var codeStart: [Int32] = []
        for program in programs {
            codeStart.append(Int32(code.count))
            ConditionCode.emit(program.condition, program.searches, into: &code)
        }
        self.code = code
        self.codeStart = codeStart
        let correlationSet = CorrelationSet(correlations: correlations, rules: kept, mapping: mapping)
        self.correlations = correlationSet
        self.refusals = loadingRefusals + refusals + correlationSet.refusals
        self.mapping = mapping
        let plan = builder.logSourcePlan(rules: kept)
        logSources = plan
        var tree = FieldTree()
        var fields: [FieldPlan] = []
        for (index, name) in builder.fieldNames.enumerated() {
            let slots = index == builder.keywordField ? [] : mapping.paths(for: name).map { tree.slot(for: $0) }
            fields.append(
                FieldPlan(
                    name: name, slots: slots, isKeywords: index == builder.keywordField, anchored: builder.anchored[index].build(),
                    floating: builder.floating[index].build()))
        }
        self.fields = fields
        extraFieldSlots = extraFields.map { mapping.paths(for: $0).map { tree.slot(for: $0) } }
        extraFieldNames = extraFields
        self.tree = tree
        atomRules = builder.atomRules
        atomFields = builder.atomFields
        atomParts = builder.atomParts
        var triggerRules = [[Int32]](repeating: [], count: builder.atomRules.count)
        for (rule, program) in programs.enumerated() {
            for atom in program.triggers ?? [] where triggerRules[Int(atom)].last != Int32(rule) {
                triggerRules[Int(atom)].append(Int32(rule))
            }
        }
        self.triggerRules = triggerRules
        atomDescriptions = builder.atomDescriptions
        collectLeaves = builder.keywordField != nil
    }

    /// Loads and compiles the rules under some paths; refusals from reading come first.
    public convenience init(paths: [String], mapping: FieldMapping, placeholders: SigmaPlaceholders = .none, extraFields: [String] = []) {
        let report = RuleSetLoader(mapping: mapping, placeholders: placeholders).load(paths)
        self.init(
            rules: report.rules, mapping: mapping, loadingRefusals: report.refusals, correlations: report.correlations, extraFields: extraFields)
    }

    /// Number of distinct value tests after deduplication, for reports.
    public var atomCount: Int { atomRules.count }
}

// MARK: - Compiled forms

struct FieldPlan: Sendable {
    let name: String
    /// Slots of the field's paths in the order to try; the first present one is the value.
    let slots: [Int]
    /// The pseudo-field of keyword searches: every scalar of the event.
    let isKeywords: Bool
    /// The tests that look at the whole value, its start or its end (cheap on long values).
    let anchored: FieldMatcher
    /// The tests that must read the whole value.
    let floating: FieldMatcher
}

/// One check of a field value for one atom.
struct AtomCheck: Sendable {
    enum Kind: Sendable {
        /// The automaton's hit is the match (`contains`).
        case hit
        /// The hit must start at the beginning of the value.
        case prefix(Int)
        /// The hit must end at the end of the value.
        case suffix
        /// The whole pattern must match (on the original text when cased).
        case wildcard(BytePattern, cased: Bool)
        case regex(LinearRegex)
        case compare(ValuePredicate.Comparison, Double)
        case timePart(TimePart, ValuePredicate.Comparison, Double)
        case cidr(Network)
    }

    let atom: Int32
    let kind: Kind
}

/// Atoms of one field (one part of them), arranged to be tested in one pass over each value:
/// whole values through a hash table, prefixes by reading only the value's first bytes,
/// suffixes only its last, substrings and the literals of wildcards and expressions through one
/// multi-pattern search over the whole value.
final class FieldMatcher: Sendable {
    let exact: ByteKeyTable
    let exactChecks: [[AtomCheck]]
    let prefixes: Patterns
    let suffixes: Patterns
    let substrings: Patterns
    /// Checks with no literal to look for first.
    let others: [AtomCheck]

    /// Literals found by one multi-pattern search, with the checks each hit runs. Prefixes and
    /// suffixes can only match within `length` bytes of their end of the value.
    struct Patterns: Sendable {
        let automaton: MultiPattern
        let checks: [[AtomCheck]]
        let length: Int
        var isEmpty: Bool { checks.isEmpty }
    }

    init(exact: ByteKeyTable, exactChecks: [[AtomCheck]], prefixes: Patterns, suffixes: Patterns, substrings: Patterns, others: [AtomCheck]) {
        self.exact = exact
        self.exactChecks = exactChecks
        self.prefixes = prefixes
        self.suffixes = suffixes
        self.substrings = substrings
        self.others = others
    }
}

struct FieldMatcherBuilder: Sendable {
    var exact = PatternList()
    var prefixes = PatternList()
    var suffixes = PatternList()
    var substrings = PatternList()
    var others: [AtomCheck] = []

    /// Distinct literals in the order first added, each with the checks that share it.
    struct PatternList: Sendable {
        var index: [[UInt8]: Int] = [:]
        var patterns: [[UInt8]] = []
        var checks: [[AtomCheck]] = []

        mutating func add(_ literal: [UInt8], _ check: AtomCheck) {
            if let known = index[literal] {
                checks[known].append(check)
            } else {
                index[literal] = patterns.count
                patterns.append(literal)
                checks.append([check])
            }
        }

        func build() -> FieldMatcher.Patterns {
            FieldMatcher.Patterns(automaton: MultiPattern(patterns: patterns), checks: checks, length: patterns.map(\.count).max() ?? 0)
        }
    }

    /// True when every test of the predicate looks at the whole value, its start or its end.
    static func isAnchored(_ predicate: ValuePredicate) -> Bool {
        guard case .strings(let matchers) = predicate else { return false }
        return matchers.allSatisfy { matcher in
            switch BytePattern(SigmaString(parts: matcher.pattern), lowercase: true).shape {
            case .exact: true
            case .prefix, .suffix: !matcher.caseSensitive
            case .contains, .general: false
            }
        }
    }

    mutating func addLiteral(_ literal: [UInt8], _ check: AtomCheck) {
        if literal.isEmpty { others.append(check) } else { substrings.add(literal, check) }
    }

    /// Adds one wildcard string of an atom.
    mutating func add(_ matcher: WildcardMatcher, atom: Int32) {
        let string = SigmaString(parts: matcher.pattern)
        let cased = matcher.caseSensitive
        let lower = BytePattern(string, lowercase: true)
        if cased {
            let check = AtomCheck(atom: atom, kind: .wildcard(BytePattern(string, lowercase: false), cased: true))
            if case .exact(let bytes) = lower.shape { exact.add(bytes, check) } else { addLiteral(lower.requiredLiteral, check) }
            return
        }
        switch lower.shape {
        case .exact(let bytes): exact.add(bytes, AtomCheck(atom: atom, kind: .hit))
        case .contains(let bytes): addLiteral(bytes, AtomCheck(atom: atom, kind: .hit))
        case .prefix(let bytes): prefixes.add(bytes, AtomCheck(atom: atom, kind: .prefix(bytes.count)))
        case .suffix(let bytes): suffixes.add(bytes, AtomCheck(atom: atom, kind: .suffix))
        case .general: addLiteral(lower.requiredLiteral, AtomCheck(atom: atom, kind: .wildcard(lower, cased: false)))
        }
    }

    mutating func add(_ predicate: ValuePredicate, atom: Int32) {
        switch predicate {
        case .strings(let matchers): for matcher in matchers { add(matcher, atom: atom) }
        case .regex(let expression):
            let check = AtomCheck(atom: atom, kind: .regex(expression))
            if expression.requiredLiterals.isEmpty { others.append(check) }
            for literal in expression.requiredLiterals { addLiteral(literal, check) }
        case .compare(let comparison, let bound): others.append(AtomCheck(atom: atom, kind: .compare(comparison, bound)))
        case .timePart(let part, let comparison, let bound): others.append(AtomCheck(atom: atom, kind: .timePart(part, comparison, bound)))
        case .cidr(let network): others.append(AtomCheck(atom: atom, kind: .cidr(network)))
        case .null: break
        }
    }

    func build() -> FieldMatcher {
        var table = ByteKeyTable(capacity: exact.patterns.count)
        for (key, index) in exact.index { table.set(key, Int32(index)) }
        return FieldMatcher(
            exact: table, exactChecks: exact.checks, prefixes: prefixes.build(), suffixes: suffixes.build(), substrings: substrings.build(),
            others: others)
    }
}

/// A rule's condition over its searches, with quantifiers expanded.
indirect enum ConditionProgram: Sendable {
    case search(Int)
    case and([ConditionProgram])
    case or([ConditionProgram])
    case not(ConditionProgram)
    case constant(Bool)
}

/// A condition flattened into 32-bit words, so that evaluating it touches one array and no
/// reference-counted values. Each node is `[operation, size in words, operands...]`:
///
///     constant  [0, 3, 0|1]
///     and, or   [1|2, size, child nodes...]
///     not       [3, size, child node]
///     values    [4, size, field, flags (1 all, 2 matches null, 4 negated, 8 anchored part, 16 floating part), atoms...]
///     exists    [5, 4, field, 0|1]
///     fieldref  [6, 5, field, other field, negated]
///     keywords  [7, size, all, atoms...]
///
/// A search becomes the `or` of its maps, each the `and` of its items.
enum ConditionCode {
    static let constant: Int32 = 0, and: Int32 = 1, or: Int32 = 2, not: Int32 = 3
    static let values: Int32 = 4, exists: Int32 = 5, reference: Int32 = 6, keywords: Int32 = 7
    static let all: Int32 = 1, matchesNull: Int32 = 2, negated: Int32 = 4
    /// In a values node's flags: its atoms lie in the field's anchored part, its floating part.
    static let anchoredPart: Int32 = 8, floatingPart: Int32 = 16

    static func emit(_ condition: ConditionProgram, _ searches: [SearchProgram], into code: inout [Int32]) {
        switch condition {
        case .constant(let value): code += [constant, 3, value ? 1 : 0]
        case .search(let index): emit(searches[index], into: &code)
        case .not(let inner): node(not, &code) { emit(inner, searches, into: &$0) }
        case .and(let parts): group(and, parts.count, &code) { emit(parts[$0], searches, into: &$1) }
        case .or(let parts): group(or, parts.count, &code) { emit(parts[$0], searches, into: &$1) }
        }
    }

    static func emit(_ search: SearchProgram, into code: inout [Int32]) {
        switch search {
        case .keywords(let atoms, let all):
            code += [keywords, Int32(3 + atoms.count), all ? 1 : 0] + atoms
        case .maps(let maps):
            group(or, maps.count, &code) { map, code in
                group(and, maps[map].count, &code) { emit(maps[map][$0], into: &$1) }
            }
        }
    }

    static func emit(_ item: ItemProgram, into code: inout [Int32]) {
        switch item.kind {
        case .exists(let expected): code += [exists, 4, item.field, expected ? 1 : 0]
        case .reference(let other): code += [reference, 5, item.field, other, item.negated ? 1 : 0]
        case .values:
            let flags = (item.all ? all : 0) | (item.matchesNull ? matchesNull : 0) | (item.negated ? negated : 0) | item.parts
            code += [values, Int32(4 + item.atoms.count), item.field, flags] + item.atoms
        }
    }

    /// An `and` or `or` of several parts; one part stands alone.
    private static func group(_ operation: Int32, _ count: Int, _ code: inout [Int32], _ part: (Int, inout [Int32]) -> Void) {
        if count == 1 { return part(0, &code) }
        node(operation, &code) { code in
            for index in 0..<count { part(index, &code) }
        }
    }

    private static func node(_ operation: Int32, _ code: inout [Int32], _ children: (inout [Int32]) -> Void) {
        let start = code.count
        code += [operation, 0]
        children(&code)
        code[start + 1] = Int32(code.count - start)
    }
}

struct ItemProgram: Sendable {
    enum Kind: Sendable {
        case values
        case exists(Bool)
        case reference(Int32)
    }

    var field: Int32
    var atoms: [Int32]
    var matchesNull: Bool
    var all: Bool
    var negated: Bool
    var kind: Kind
    /// Which parts of the field hold the atoms (`ConditionCode.anchoredPart`, `.floatingPart`).
    var parts: Int32 = 0
}

enum SearchProgram: Sendable {
    case maps([[ItemProgram]])
    case keywords([Int32], all: Bool)
}

struct RuleProgram: Sendable {
    var condition: ConditionProgram
    var searches: [SearchProgram]
    var searchNames: [String]
    /// A clause of the condition: atoms of which one holds whenever the condition does (the
    /// cheapest such clause to test). Only these atoms make the rule a candidate; nil when the
    /// condition can hold with no atom holding (the rule is then always evaluated).
    var triggers: [Int32]?
}

/// Which rules apply to an event, from the mapping's log-source conditions.
struct LogSourcePlan: Sendable {
    struct Condition: Sendable {
        var requirements: [(field: Int32, values: Set<String>)]
    }

    /// Nil when the mapping says nothing about log sources: every rule applies to every event.
    var conditions: [Condition]?
    /// The fields whose values decide the log source, in a fixed order.
    var keyFields: [Int32]
    /// For each key field, whether every condition only asks that it be present (`["*"]`): then
    /// its presence, not its value, goes into the bucket's key (an event id or an address under
    /// `where: {uid: ["*"]}` would otherwise make every event a bucket of its own).
    var presenceOnly: [Bool] = []
    /// For each rule, the conditions that cover it.
    var ruleConditions: [[Int]]
}

extension CompiledRuleSet {
    struct Builder {
        let mapping: FieldMapping
        var fieldNames: [String] = []
        var fieldIndex: [String: Int] = [:]
        var anchored: [FieldMatcherBuilder] = []
        var floating: [FieldMatcherBuilder] = []
        var keywordField: Int?
        var atomIndex: [String: Int32] = [:]
        var atomRules: [[Int32]] = []
        var atomFields: [Int32] = []
        var atomParts: [Int32] = []
        var atomDescriptions: [String] = []

        init(mapping: FieldMapping) { self.mapping = mapping }

        mutating func field(_ name: String) -> Int32 {
            if let index = fieldIndex[name] { return Int32(index) }
            fieldIndex[name] = fieldNames.count
            fieldNames.append(name)
            anchored.append(FieldMatcherBuilder())
            floating.append(FieldMatcherBuilder())
            return Int32(fieldNames.count - 1)
        }

        /// Removes a rule that failed half-way from the atoms it had reached.
        mutating func forget(rule: Int) {
            for atom in atomRules.indices where atomRules[atom].last == Int32(rule) {
                atomRules[atom].removeLast()
            }
        }

        mutating func keywords() -> Int32 {
            if let keywordField { return Int32(keywordField) }
            let index = field("\u{0}keywords")
            keywordField = Int(index)
            return index
        }

        /// The atom for a value with its modifiers on a field, compiled on first use.
        mutating func atom(field: Int32, value: SigmaValue, modifiers: [SigmaModifier], rule: Int) throws -> Int32? {
            let relevant = modifiers.filter { $0 != .all && $0 != .neq }
            let key = "\(field)|\(relevant.map(\.rawValue).joined(separator: "|"))|\(value.kindTag)\(value)"
            if let known = atomIndex[key] {
                if atomRules[Int(known)].last != Int32(rule) { atomRules[Int(known)].append(Int32(rule)) }
                return known
            }
            let predicate = try ValuePredicate.compile(value, modifiers: modifiers)
            if case .null = predicate { return nil }
            let atom = Int32(atomRules.count)
            atomIndex[key] = atom
            atomRules.append([Int32(rule)])
            atomFields.append(field)
            atomDescriptions.append(value.description)
            if FieldMatcherBuilder.isAnchored(predicate) {
                atomParts.append(field * 2)
                anchored[Int(field)].add(predicate, atom: atom)
            } else {
                atomParts.append(field * 2 + 1)
                floating[Int(field)].add(predicate, atom: atom)
            }
            return atom
        }

        mutating func compile(_ rule: SigmaRule, index: Int) throws -> RuleProgram {
            let names = rule.detection.searches.keys.sorted()
            var searches: [SearchProgram] = []
            for name in names {
                switch rule.detection.searches[name]! {
                case .keywords(let values, let all):
                    let field = keywords()
                    var atoms: [Int32] = []
                    for value in values {
                        if let atom = try atom(field: field, value: value, modifiers: [.contains], rule: index) { atoms.append(atom) }
                    }
                    searches.append(.keywords(atoms, all: all))
                case .maps(let alternatives):
                    var maps: [[ItemProgram]] = []
                    for items in alternatives {
                        maps.append(try items.map { item in try compile(item, rule: index) })
                    }
                    searches.append(.maps(maps))
                }
            }
            let position = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            func program(_ condition: SigmaCondition) -> ConditionProgram {
                switch condition {
                case .search(let name): position[name].map(ConditionProgram.search) ?? .constant(false)
                case .oneOf(let pattern): .or(SigmaCondition.expand(pattern, in: names).compactMap { position[$0] }.map(ConditionProgram.search))
                case .allOf(let pattern): .and(SigmaCondition.expand(pattern, in: names).compactMap { position[$0] }.map(ConditionProgram.search))
                case .not(let inner): .not(program(inner))
                case .and(let parts): .and(parts.map(program))
                case .or(let parts): .or(parts.map(program))
                }
            }
            let condition = ConditionProgram.or(rule.detection.conditions.map(program))
            let cost = { (atom: Int32) in self.atomParts[Int(atom)] & 1 == 0 ? 1 : 4 }
            return RuleProgram(
                condition: condition, searches: searches, searchNames: names,
                triggers: Self.clause(condition, searches, cost: cost)?.atoms)
        }

        mutating func compile(_ item: FieldItem, rule: Int) throws -> ItemProgram {
            do {
                let modifiers = Set(item.modifiers)
                let field = field(item.field)
                var program = ItemProgram(
                    field: field, atoms: [], matchesNull: false, all: modifiers.contains(.all), negated: modifiers.contains(.neq),
                    kind: .values)
                if modifiers.contains(.exists) {
                    guard item.values.count == 1, case .bool(let expected) = item.values[0] else {
                        throw SigmaError("exists takes true or false")
                    }
                    program.kind = .exists(expected)
                    return program
                }
                if modifiers.contains(.fieldref) {
                    guard item.values.count == 1, case .string(let other) = item.values[0], let name = other.plain else {
                        throw SigmaError("fieldref takes the name of one other field")
                    }
                    program.kind = .reference(self.field(name))
                    return program
                }
                for value in item.values {
                    if let atom = try atom(field: field, value: value, modifiers: item.modifiers, rule: rule) {
                        program.atoms.append(atom)
                        program.parts |= atomParts[Int(atom)] & 1 == 0 ? ConditionCode.anchoredPart : ConditionCode.floatingPart
                    } else {
                        program.matchesNull = true
                    }
                }
                return program
            } catch var error as SigmaError {
                error.message = "field '\(item.field)': \(error.message)"
                error.line = error.line ?? item.line
                throw error
            }
        }

        /// The cheapest clause of the condition: atoms at least one of which holds whenever the
        /// condition does, whatever the fields' presence; nil when the condition can hold with
        /// every atom false. An empty clause means the condition never holds.
        static func clause(_ condition: ConditionProgram, _ searches: [SearchProgram], cost: (Int32) -> Int) -> (atoms: [Int32], cost: Int)? {
            func make(_ atoms: [Int32]) -> (atoms: [Int32], cost: Int) { (atoms, atoms.reduce(0) { $0 + cost($1) }) }
            // `all` needs every atom: any one of them is a clause.
            func values(_ atoms: [Int32], all: Bool) -> (atoms: [Int32], cost: Int) {
                all ? make([atoms.min { cost($0) < cost($1) }!]) : make(atoms)
            }
            func cheapest(_ clauses: [(atoms: [Int32], cost: Int)?]) -> (atoms: [Int32], cost: Int)? {
                clauses.compactMap(\.self).min { $0.cost < $1.cost }
            }
            func union(_ clauses: [(atoms: [Int32], cost: Int)?]) -> (atoms: [Int32], cost: Int)? {
                guard clauses.allSatisfy({ $0 != nil }) else { return nil }
                var seen: Set<Int32> = []
                return make(clauses.flatMap { $0!.atoms }.filter { seen.insert($0).inserted })
            }
            switch condition {
            case .constant(let value): return value ? nil : ([], 0)
            case .not: return nil
            case .and(let parts): return cheapest(parts.map { clause($0, searches, cost: cost) })
            case .or(let parts): return union(parts.map { clause($0, searches, cost: cost) })
            case .search(let index):
                switch searches[index] {
                case .keywords(let atoms, let all):
                    if atoms.isEmpty { return all ? nil : ([], 0) }
                    return values(atoms, all: all)
                case .maps(let maps):
                    return union(
                        maps.map { items in
                            cheapest(
                                items.map { item in
                                    guard case .values = item.kind, !item.negated, !item.matchesNull, !item.atoms.isEmpty else { return nil }
                                    return values(item.atoms, all: item.all)
                                })
                        })
                }
            }
        }

        mutating func logSourcePlan(rules: [SigmaRule]) -> LogSourcePlan {
            guard let entries = mapping.logSources else {
                return LogSourcePlan(conditions: nil, keyFields: [], ruleConditions: [])
            }
            var keyFields: [Int32] = []
            var conditions: [LogSourcePlan.Condition] = []
            for entry in entries {
                var requirements: [(field: Int32, values: Set<String>)] = []
                for requirement in entry.requirements {
                    let field = field(requirement.field)
                    if !keyFields.contains(field) { keyFields.append(field) }
                    requirements.append((field, requirement.values))
                }
                conditions.append(LogSourcePlan.Condition(requirements: requirements))
            }
            let ruleConditions = rules.map { rule in entries.indices.filter { entries[$0].match == rule.logSource } }
            let presenceOnly = keyFields.map { field in
                conditions.allSatisfy { condition in condition.requirements.allSatisfy { $0.field != field || $0.values == ["*"] } }
            }
            return LogSourcePlan(conditions: conditions, keyFields: keyFields, presenceOnly: presenceOnly, ruleConditions: ruleConditions)
        }
    }
}

extension SigmaValue {
    /// Distinguishes `1` from `'1'` and `null` from `'null'` in atom keys.
    var kindTag: String {
        switch self {
        case .string: "s:"
        case .number: "n:"
        case .bool: "b:"
        case .null: "0:"
        }
    }
}

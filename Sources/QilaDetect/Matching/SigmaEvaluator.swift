import Foundation

/// Evaluates one Sigma rule against JSON events, directly from its parsed form.
///
/// This is the reference interpreter: simple enough to check by reading, and the yardstick the
/// compiled rule set must agree with.
public struct SigmaEvaluator: Sendable {
    public let rule: SigmaRule
    let mapping: FieldMapping
    let searches: [String: CompiledSearch]
    let coverage: [FieldMapping.LogSourceCondition]?

    struct CompiledItem: Sendable {
        var paths: [[String]]
        var predicates: [ValuePredicate]
        var all: Bool
        var negated: Bool
        var exists: Bool?
        var fieldReference: [[String]]?
    }

    enum CompiledSearch: Sendable {
        case maps([[CompiledItem]])
        case keywords([ValuePredicate], all: Bool)
    }

    /// Compiles the rule's values; refuses what this version cannot evaluate, with the reason.
    public init(rule: SigmaRule, mapping: FieldMapping = .flat) throws {
        self.rule = rule
        self.mapping = mapping
        var searches: [String: CompiledSearch] = [:]
        for (name, search) in rule.detection.searches {
            switch search {
            case .maps(let alternatives):
                searches[name] = .maps(try alternatives.map { items in try items.map { try Self.compile($0, mapping) } })
            case .keywords(let values, let all):
                searches[name] = .keywords(
                    try values.map { try ValuePredicate.compile($0, modifiers: [.contains]) }, all: all)
            }
        }
        self.searches = searches
        coverage = mapping.coverage(of: rule.logSource)
    }

    /// True when the event is of the kind the rule's logsource names, by the mapping.
    public func applies(to event: [String: Any]) -> Bool {
        guard let coverage else { return true }
        return coverage.contains { condition in
            condition.requirements.allSatisfy { requirement in
                guard let value = Self.lookup(requirement.paths, in: event) else { return false }
                return Self.texts(value).contains { FieldMapping.LogSourceCondition.accepts(requirement.values, $0.lowercased()) }
            }
        }
    }

    /// The event is of the rule's kind and the detection holds.
    public func detects(_ event: [String: Any]) -> Bool {
        applies(to: event) && matches(event)
    }

    static func compile(_ item: FieldItem, _ mapping: FieldMapping) throws -> CompiledItem {
        do {
            let modifiers = Set(item.modifiers)
            var compiled = CompiledItem(
                paths: mapping.paths(for: item.field), predicates: [], all: modifiers.contains(.all),
                negated: modifiers.contains(.neq), exists: nil, fieldReference: nil)
            if modifiers.contains(.exists) {
                guard item.values.count == 1, case .bool(let expected) = item.values[0] else {
                    throw SigmaError("exists takes true or false")
                }
                compiled.exists = expected
                return compiled
            }
            if modifiers.contains(.fieldref) {
                guard item.values.count == 1, case .string(let other) = item.values[0], let name = other.plain else {
                    throw SigmaError("fieldref takes the name of one other field")
                }
                compiled.fieldReference = mapping.paths(for: name)
                return compiled
            }
            compiled.predicates = try item.values.map { try ValuePredicate.compile($0, modifiers: item.modifiers) }
            return compiled
        } catch var error as SigmaError {
            error.message = "field '\(item.field)': \(error.message)"
            error.line = error.line ?? item.line
            throw error
        }
    }

    /// True when any of the rule's conditions holds for the event.
    public func matches(_ event: [String: Any]) -> Bool {
        var cache: [String: Bool] = [:]
        let names = Array(rule.detection.searches.keys)
        func search(_ name: String) -> Bool {
            if let known = cache[name] { return known }
            let result = searches[name].map { evaluate($0, event) } ?? false
            cache[name] = result
            return result
        }
        func holds(_ condition: SigmaCondition) -> Bool {
            switch condition {
            case .search(let name): return search(name)
            case .oneOf(let pattern): return SigmaCondition.expand(pattern, in: names).contains(where: search)
            case .allOf(let pattern): return SigmaCondition.expand(pattern, in: names).allSatisfy(search)
            case .not(let inner): return !holds(inner)
            case .and(let parts): return parts.allSatisfy(holds)
            case .or(let parts): return parts.contains(where: holds)
            }
        }
        return rule.detection.conditions.contains(where: holds)
    }

    func evaluate(_ search: CompiledSearch, _ event: [String: Any]) -> Bool {
        switch search {
        case .maps(let alternatives):
            return alternatives.contains { items in items.allSatisfy { evaluate($0, event) } }
        case .keywords(let predicates, let all):
            var texts: [String] = []
            Self.collectTexts(event, into: &texts)
            let hit = { (predicate: ValuePredicate) in texts.contains(where: predicate.matches) }
            return all ? predicates.allSatisfy(hit) : predicates.contains(where: hit)
        }
    }

    func evaluate(_ item: CompiledItem, _ event: [String: Any]) -> Bool {
        let found = Self.lookup(item.paths, in: event)
        if let expected = item.exists {
            let present = found.map { !($0 is NSNull) } ?? false
            return present == expected
        }
        if let reference = item.fieldReference {
            guard let value = found, let other = Self.lookup(reference, in: event) else { return false }
            let equal = Self.texts(value).contains { a in Self.texts(other).contains { $0.lowercased() == a.lowercased() } }
            return item.negated ? !equal : equal
        }
        let values = found.map(Self.texts) ?? []
        let isNull = found == nil || found is NSNull
        func hit(_ predicate: ValuePredicate) -> Bool {
            if case .null = predicate { return isNull }
            return values.contains(where: predicate.matches)
        }
        let result = item.all ? item.predicates.allSatisfy(hit) : item.predicates.contains(where: hit)
        return item.negated ? !result : result
    }

    /// The value at the first path that exists in the event and does not hold an object (an
    /// object is not compared: `EventID` may be `{"#attributes": ..., "#text": 4688}`, and the
    /// next path, `EventID.#text`, is then used).
    static func lookup(_ paths: [[String]], in event: [String: Any]) -> Any? {
        for path in paths {
            if let found = lookup(path[...], in: event) { return found }
        }
        return nil
    }

    /// One path; a `*` key stands for any member (the first, in key order, under which the rest is found).
    static func lookup(_ path: ArraySlice<String>, in value: Any) -> Any? {
        guard let key = path.first else { return value is [String: Any] ? nil : value }
        guard let object = value as? [String: Any] else { return nil }
        if key == "*" {
            for member in object.keys.sorted() { if let found = lookup(path.dropFirst(), in: object[member]!) { return found } }
            return nil
        }
        return object[key].flatMap { lookup(path.dropFirst(), in: $0) }
    }

    /// An event value as the texts it can be compared as (arrays give each element).
    static func texts(_ value: Any) -> [String] {
        switch value {
        case let string as String: return [string]
        case let number as NSNumber:
            // JSON true and false arrive as NSNumbers of type char ("c").
            if String(cString: number.objCType) == "c" { return [number.boolValue ? "true" : "false"] }
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return [String(Int64(double))] }
            return [number.stringValue]
        case let array as [Any]: return array.flatMap(texts)
        default: return []
        }
    }

    static func collectTexts(_ value: Any, into texts: inout [String]) {
        switch value {
        case let object as [String: Any]: for member in object.values { collectTexts(member, into: &texts) }
        case let array as [Any]: for element in array { collectTexts(element, into: &texts) }
        default: texts += Self.texts(value)
        }
    }
}

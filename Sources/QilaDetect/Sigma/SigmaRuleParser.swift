import Foundation
import Yams

/// Reads Sigma rules from YAML, refusing each broken rule with its reason and place while the
/// others load. A file may hold several YAML documents.
public struct SigmaRuleParser: Sendable {
    /// Values for the placeholders of `expand`; a rule that uses one without values is refused.
    public var placeholders: SigmaPlaceholders

    public init(placeholders: SigmaPlaceholders = .none) {
        self.placeholders = placeholders
    }

    /// One entry per YAML document that is a detection rule: the rule, or why it was refused.
    /// A correlation document is refused here; `parseDocuments` reads both kinds.
    public func parse(yaml: String, file: String? = nil) -> [Result<SigmaRule, SigmaError>] {
        parseDocuments(yaml: yaml, file: file).map { result in
            result.flatMap { document in
                switch document {
                case .rule(let rule): .success(rule)
                case .correlation(let correlation):
                    .failure(SigmaError("'\(correlation.title)' is a correlation rule, not a detection rule", file: file, line: correlation.line))
                }
            }
        }
    }

    /// One entry per YAML document: the detection or correlation rule, or why it was refused.
    public func parseDocuments(yaml: String, file: String? = nil) -> [Result<SigmaDocument, SigmaError>] {
        var documents: [Node] = []
        do {
            // Read document by document so that a syntax error is reported, not swallowed.
            let parser = try Parser(yaml: yaml)
            while let document = try parser.nextRoot() { documents.append(document) }
        } catch let error as YamlError {
            return [.failure(Self.yamlError(error, file: file))]
        } catch {
            return [.failure(SigmaError("not valid YAML: \(error)", file: file))]
        }
        return documents.map { document in
            do {
                if let root = document.mapping, root["correlation"] != nil {
                    return .success(.correlation(try correlation(document, file: file)))
                }
                return .success(.rule(try rule(document, file: file)))
            } catch var error as SigmaError {
                if error.file == nil { error.file = file }
                return .failure(error)
            } catch {
                return .failure(SigmaError("\(error)", file: file, line: document.mark?.line))
            }
        }
    }

    static func yamlError(_ error: YamlError, file: String?) -> SigmaError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return SigmaError("not valid YAML: \(problem)", file: file, line: mark.line, column: mark.column)
        default:
            return SigmaError("not valid YAML: \(error)", file: file)
        }
    }

    func fail(_ message: String, at node: Node?) -> SigmaError {
        SigmaError(message, line: node?.mark?.line, column: node?.mark?.column)
    }

    func rule(_ document: Node, file: String?) throws -> SigmaRule {
        guard let root = document.mapping else { throw fail("a rule must be a YAML mapping", at: document) }
        func text(_ key: String) -> String? { root[key]?.string }
        guard let title = text("title"), !title.isEmpty else { throw fail("the rule has no title", at: document) }
        guard let detectionNode = root["detection"] else { throw fail("the rule has no detection section", at: document) }
        let detectionKey = root.first { $0.key.string == "detection" }?.key
        let level = try level(root["level"])
        let logSourceNode = root["logsource"]?.mapping
        let logSource = LogSource(
            category: logSourceNode?["category"]?.string, product: logSourceNode?["product"]?.string,
            service: logSourceNode?["service"]?.string)
        return SigmaRule(
            id: text("id"), name: text("name"), title: title, status: text("status"), level: level,
            tags: root["tags"]?.sequence?.compactMap(\.string) ?? [], logSource: logSource,
            detection: try detection(detectionNode, key: detectionKey), file: file, line: document.mark?.line)
    }

    /// The `level` of a rule or correlation, if given.
    func level(_ node: Node?) throws -> SigmaRule.Level? {
        guard let node else { return nil }
        guard let parsed = node.string.flatMap(SigmaRule.Level.init(rawValue:)) else {
            throw fail("level must be informational, low, medium, high or critical", at: node)
        }
        return parsed
    }

    func detection(_ node: Node, key: Node?) throws -> Detection {
        guard let mapping = node.mapping else { throw fail("detection must be a mapping of searches and a condition", at: node) }
        var searches: [String: Search] = [:]
        var conditionNodes: [Node] = []
        var timeframe: String?
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail("a search identifier must be text", at: keyNode) }
            switch key {
            case "condition":
                if let list = value.sequence { conditionNodes = Array(list) } else { conditionNodes = [value] }
            case "timeframe":
                timeframe = value.string
            default:
                searches[key] = try search(value, name: key)
            }
        }
        guard !conditionNodes.isEmpty else { throw fail("detection has no condition", at: key ?? node) }
        var conditions: [SigmaCondition] = []
        for conditionNode in conditionNodes {
            guard let text = conditionNode.string else { throw fail("a condition must be text", at: conditionNode) }
            do {
                let condition = try SigmaConditionParser().parse(text)
                try check(condition, names: Array(searches.keys), at: conditionNode)
                conditions.append(condition)
            } catch var error as SigmaError where error.line == nil {
                error.line = conditionNode.mark?.line
                error.column = conditionNode.mark?.column
                throw error
            }
        }
        return Detection(searches: searches, conditions: conditions, timeframe: timeframe)
    }

    /// Every identifier named must exist, and every pattern must name at least one.
    func check(_ condition: SigmaCondition, names: [String], at node: Node) throws {
        switch condition {
        case .search(let name):
            guard names.contains(name) else {
                throw fail("the condition names '\(name)', which is not a search in this rule (searches: \(names.sorted().joined(separator: ", ")))", at: node)
            }
        case .oneOf(let pattern), .allOf(let pattern):
            guard !SigmaCondition.expand(pattern, in: names).isEmpty else {
                throw fail("the condition's pattern '\(pattern)' matches no search in this rule", at: node)
            }
        case .not(let inner):
            try check(inner, names: names, at: node)
        case .and(let parts), .or(let parts):
            for part in parts { try check(part, names: names, at: node) }
        }
    }

    func search(_ node: Node, name: String) throws -> Search {
        if let mapping = node.mapping {
            return .maps([try fieldItems(mapping)])
        }
        if let list = node.sequence {
            let items = Array(list)
            if items.allSatisfy({ $0.mapping != nil }) {
                return .maps(try items.map { try fieldItems($0.mapping!) })
            }
            if items.allSatisfy({ $0.scalar != nil }) {
                return .keywords(try items.map(value), all: false)
            }
            throw fail("search '\(name)' mixes field maps and plain values in one list", at: node)
        }
        if node.scalar != nil {
            return .keywords([try value(node)], all: false)
        }
        throw fail("search '\(name)' must be a map, a list of maps, or a list of keywords", at: node)
    }

    func fieldItems(_ mapping: Node.Mapping) throws -> [FieldItem] {
        var items: [FieldItem] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw fail("a field name must be text", at: keyNode) }
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            var modifiers: [SigmaModifier] = []
            for name in parts.dropFirst() {
                guard let modifier = SigmaModifier(rawValue: name) else {
                    throw fail("unknown modifier '\(name)' on field '\(parts[0])'", at: keyNode)
                }
                modifiers.append(modifier)
            }
            if let conflict = SigmaModifier.conflict(in: modifiers) {
                throw fail("field '\(key)': \(conflict)", at: keyNode)
            }
            var values: [SigmaValue]
            if let list = valueNode.sequence {
                values = try list.map(value)
            } else if valueNode.mapping != nil {
                throw fail("the value of field '\(parts[0])' must be a value or a list of values, not a map", at: valueNode)
            } else {
                values = [try value(valueNode)]
            }
            if modifiers.contains(.expand) {
                values = try expand(values, field: parts[0], at: valueNode)
                modifiers.removeAll { $0 == .expand }
            }
            items.append(FieldItem(field: parts[0], modifiers: modifiers, values: values, line: keyNode.mark?.line))
        }
        return items
    }

    /// Replaces each value's `%name%` placeholders by their configured values.
    func expand(_ values: [SigmaValue], field: String, at node: Node) throws -> [SigmaValue] {
        try values.flatMap { value -> [SigmaValue] in
            guard case .string = value, let text = value.rawText else { return [value] }
            do throws(SigmaPlaceholders.MissingPlaceholder) {
                return try placeholders.expand(text).map { .string(SigmaString(parsing: $0)) }
            } catch {
                throw fail(
                    "field '\(field)' expands the placeholder %\(error.name)%, which has no values here; "
                        + "give its values in a placeholders file (--placeholders FILE)", at: node)
            }
        }
    }

    func value(_ node: Node) throws -> SigmaValue {
        guard let scalar = node.scalar else { throw fail("a value must be a number, text, true, false or null", at: node) }
        if scalar.style == .plain {
            if node.null != nil && (scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~") { return .null }
            if let bool = node.bool, ["true", "false"].contains(scalar.string.lowercased()) { return .bool(bool) }
            if node.int != nil || node.float != nil, Double(scalar.string) != nil { return .number(scalar.string) }
        }
        return .string(SigmaString(parsing: scalar.string))
    }
}

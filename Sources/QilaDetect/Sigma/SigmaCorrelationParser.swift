import Yams

/// Reading correlation documents: every field checked, every refusal naming the key and place.
extension SigmaRuleParser {
    func correlation(_ document: Node, file: String?) throws -> SigmaCorrelation {
        guard let root = document.mapping else { throw fail("a rule must be a YAML mapping", at: document) }
        guard let title = root["title"]?.string, !title.isEmpty else { throw fail("the correlation rule has no title", at: document) }
        if let detection = root["detection"] {
            throw fail("a document is either a detection rule or a correlation rule; this one has both 'detection' and 'correlation'", at: detection)
        }
        guard let sectionNode = root["correlation"], let section = sectionNode.mapping else {
            throw fail("correlation must be a mapping with type, rules, group-by, timespan and condition", at: root["correlation"])
        }
        let known: Set<String> = ["type", "rules", "aliases", "group-by", "timespan", "condition", "generate"]
        for key in section.keys {
            guard let name = key.string, known.contains(name) else {
                let hint = key.string == "timeframe" ? " (correlations name their window 'timespan')" : ""
                throw fail("unknown key '\(key.string ?? "?")' in the correlation section\(hint); known: \(known.sorted().joined(separator: ", "))", at: key)
            }
        }
        guard let typeNode = section["type"] else { throw fail("the correlation has no type", at: sectionNode) }
        guard let kind = typeNode.string.flatMap(SigmaCorrelation.Kind.init(rawValue:)) else {
            throw fail(
                "correlation type '\(typeNode.string ?? "?")' is not one of \(SigmaCorrelation.Kind.allCases.map(\.rawValue).joined(separator: ", "))",
                at: typeNode)
        }
        let rules = try names(section["rules"], what: "rules", at: sectionNode)
        guard !rules.isEmpty else { throw fail("the correlation names no rules", at: section["rules"] ?? sectionNode) }
        if let repeated = Dictionary(grouping: rules, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw fail("the correlation names rule '\(repeated)' twice", at: section["rules"])
        }
        let groupBy = try names(section["group-by"], what: "group-by", at: sectionNode)
        guard let timespanNode = section["timespan"] else { throw fail("the correlation has no timespan", at: sectionNode) }
        guard let timespanText = timespanNode.string, let timespan = Self.timespan(timespanText) else {
            throw fail("timespan '\(timespanNode.string ?? "?")' must be a whole number and a unit: s, m, h or d (as in 90m)", at: timespanNode)
        }

        var aliases: [String: [String: String]] = [:]
        if let aliasNode = section["aliases"] {
            guard let mapping = aliasNode.mapping else { throw fail("aliases maps each alias to {rule name: field}", at: aliasNode) }
            for (aliasKey, perRule) in mapping {
                guard let alias = aliasKey.string, let entries = perRule.mapping else {
                    throw fail("alias '\(aliasKey.string ?? "?")' must map rule names to fields", at: aliasKey)
                }
                var fields: [String: String] = [:]
                for (ruleKey, fieldNode) in entries {
                    guard let rule = ruleKey.string, let field = fieldNode.string else {
                        throw fail("alias '\(alias)' maps a rule name to a field name", at: ruleKey)
                    }
                    guard rules.contains(rule) else {
                        throw fail("alias '\(alias)' names rule '\(rule)', which the correlation does not reference (rules: \(rules.joined(separator: ", ")))", at: ruleKey)
                    }
                    fields[rule] = field
                }
                aliases[alias] = fields
            }
        }

        var comparisons: [SigmaCorrelation.Comparison] = []
        var expression: SigmaCondition?
        var field: String?
        var percentile: Double?
        let conditionNode = section["condition"]
        if let text = conditionNode?.string, conditionNode?.mapping == nil {
            guard kind == .temporal || kind == .temporalOrdered else {
                throw fail("a \(kind.rawValue) condition is a mapping such as {gte: 10}, not '\(text)'", at: conditionNode)
            }
            do {
                let parsed = try SigmaConditionParser().parse(text)
                try check(parsed, names: rules, at: conditionNode!)
                expression = parsed
            } catch var error as SigmaError where error.line == nil {
                error.line = conditionNode?.mark?.line
                throw error
            }
        } else if let conditionNode {
            guard let mapping = conditionNode.mapping else { throw fail("condition must be a mapping such as {gte: 10}", at: conditionNode) }
            for (key, value) in mapping {
                guard let name = key.string else { throw fail("a condition key must be text", at: key) }
                if let op = SigmaCorrelation.Comparison.Operator(rawValue: name) {
                    guard let number = value.float ?? value.int.map(Double.init), number.isFinite else {
                        throw fail("condition '\(name)' needs a number, not '\(value.string ?? "?")'", at: value)
                    }
                    comparisons.append(.init(op, number))
                } else if name == "field" {
                    guard let text = value.string ?? value.sequence?.compactMap(\.string).first, value.sequence?.count ?? 1 == 1 else {
                        throw fail("condition field names one field", at: value)
                    }
                    field = text
                } else if name == "percentile" {
                    guard let number = value.float ?? value.int.map(Double.init), (0...100).contains(number) else {
                        throw fail("percentile must be a number from 0 to 100", at: value)
                    }
                    percentile = number
                } else {
                    throw fail("unknown key '\(name)' in the condition; known: gt, gte, lt, lte, eq, field, percentile", at: key)
                }
            }
        }

        // What each type needs, and what it must not have.
        switch kind {
        case .eventCount, .valueCount, .valueSum, .valueAverage, .valuePercentile, .valueMedian:
            guard conditionNode != nil, !comparisons.isEmpty else {
                throw fail("a \(kind.rawValue) correlation needs a condition with gt, gte, lt, lte or eq", at: conditionNode ?? sectionNode)
            }
        case .temporal:
            break
        case .temporalOrdered:
            let everyRule: SigmaCondition = rules.count == 1 ? .search(rules[0]) : .and(rules.map(SigmaCondition.search))
            if let expression, expression != everyRule, expression != .allOf(pattern: "them") {
                throw fail("a temporal_ordered condition can only require every rule in order ('\(rules.joined(separator: " and "))')", at: conditionNode)
            }
            if !comparisons.isEmpty, comparisons != [.init(.gte, Double(rules.count))], comparisons != [.init(.eq, Double(rules.count))] {
                throw fail("a temporal_ordered correlation requires all \(rules.count) rules in order; a count condition other than gte: \(rules.count) has no meaning", at: conditionNode)
            }
            comparisons = []
            expression = nil
        }
        if kind.needsField {
            guard field != nil else { throw fail("a \(kind.rawValue) correlation needs the field to aggregate in its condition (field: name)", at: conditionNode ?? sectionNode) }
        } else if field != nil {
            throw fail("a \(kind.rawValue) correlation takes no field", at: conditionNode)
        }
        if kind == .valuePercentile {
            guard percentile != nil else { throw fail("a value_percentile correlation needs the percentile to compare (percentile: 95)", at: conditionNode ?? sectionNode) }
        } else if percentile != nil {
            throw fail("only value_percentile takes a percentile", at: conditionNode)
        }
        if kind == .temporal, !comparisons.isEmpty, comparisons.contains(where: { !$0.isLowerBound }) {
            throw fail("a temporal condition counts the rules that occurred and can only ask for at least some (gt or gte)", at: conditionNode)
        }
        var generate = false
        if let generateNode = section["generate"] {
            guard let value = generateNode.bool else { throw fail("generate is true or false", at: generateNode) }
            generate = value
        }
        let level = try level(root["level"])
        return SigmaCorrelation(
            id: root["id"]?.string, name: root["name"]?.string, title: title, status: root["status"]?.string, level: level,
            tags: root["tags"]?.sequence?.compactMap(\.string) ?? [], kind: kind, rules: rules, aliases: aliases, groupBy: groupBy,
            timespan: timespan, timespanText: timespanText, comparisons: comparisons, expression: expression, field: field,
            percentile: percentile, generate: generate, file: file, line: document.mark?.line)
    }

    /// A list of names, or one name.
    private func names(_ node: Node?, what: String, at parent: Node) throws -> [String] {
        guard let node else { return [] }
        if let single = node.string { return [single] }
        guard let list = node.sequence else { throw fail("\(what) must be a name or a list of names", at: node) }
        return try list.map { item in
            guard let name = item.string, !name.isEmpty else { throw fail("each entry of \(what) must be a name", at: item) }
            return name
        }
    }

    /// `30s`, `5m`, `1h`, `7d` in milliseconds.
    static func timespan(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}

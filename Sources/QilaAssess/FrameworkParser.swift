import Foundation
import QilaCore
import Yams

/// One thing wrong in a framework file: what, and where (file, line, key path).
public struct FrameworkProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var file: String?
    public var line: Int?
    public var key: String?

    public init(message: String, file: String? = nil, line: Int? = nil, key: String? = nil) {
        self.message = message
        self.file = file
        self.line = line
        self.key = key
    }

    public var description: String { placed(message, file: file, line: line, key: key) }
}

/// A framework file refused, with every problem found in it.
public struct FrameworkRefused: Error, Sendable, CustomStringConvertible {
    public var problems: [FrameworkProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads a framework from YAML and checks all of it, so that one reading lists every problem
/// (`qila frameworks lint`), each with its file, line and key. A framework with any problem is
/// not used.
public enum FrameworkParser {
    public static let rootKeys = ["id", "name", "version", "publisher", "source", "levels", "scoring", "requirements", "mappings"]
    static let requirementKeys = ["id", "title", "text", "description", "guidance", "examples", "weight", "children"]

    /// The framework, or every problem found.
    public static func parse(_ yaml: String, file: String? = nil) throws(FrameworkRefused) -> Framework {
        var reader = Reader(file: file)
        let framework = reader.read(yaml)
        guard reader.problems.isEmpty, let framework else { throw FrameworkRefused(problems: reader.problems) }
        return framework
    }

    /// Every problem in `yaml` (none when the framework is usable).
    public static func lint(_ yaml: String, file: String? = nil) -> [FrameworkProblem] {
        var reader = Reader(file: file)
        _ = reader.read(yaml)
        return reader.problems
    }

    struct Reader {
        let file: String?
        var problems: [FrameworkProblem] = []
        var seen: [String: Int] = [:]

        init(file: String?) { self.file = file }

        mutating func problem(_ message: String, _ node: Node?, _ key: String) {
            problems.append(FrameworkProblem(message: message, file: file, line: node?.mark?.line, key: key))
        }

        mutating func read(_ yaml: String) -> Framework? {
            let document: Node
            do {
                guard let root = try Yams.compose(yaml: yaml) else {
                    problems.append(FrameworkProblem(message: "the file is empty", file: file))
                    return nil
                }
                document = root
            } catch let error as YamlError {
                switch error {
                case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                    problems.append(FrameworkProblem(message: "is not valid YAML: \(problem)", file: file, line: mark.line))
                case .composer(_, let problem, let mark, _):
                    problems.append(FrameworkProblem(message: "is not valid YAML: \(problem)", file: file, line: mark.line))
                default:
                    problems.append(FrameworkProblem(message: "is not valid YAML: \(error)", file: file))
                }
                return nil
            } catch {
                problems.append(FrameworkProblem(message: "is not valid YAML: \(error)", file: file))
                return nil
            }
            guard let root = document.mapping else {
                problem("must be a mapping with \(FrameworkParser.rootKeys.joined(separator: ", "))", document, "(document)")
                return nil
            }
            unknownKeys(root, allowed: FrameworkParser.rootKeys, path: "")
            let id = identifier(root, "id", path: "", frameworkID: true)
            let name = text(root, "name", path: "")
            let version = text(root, "version", path: "")
            let publisher = text(root, "publisher", path: "", required: false)
            let source = text(root, "source", path: "", required: false)
            let levels = texts(root, "levels", path: "") ?? []
            let scoring = readScoring(root["scoring"], in: root)
            var requirements: [Framework.Requirement] = []
            if let list = root["requirements"] {
                if let items = list.sequence, !items.isEmpty {
                    requirements = readRequirements(Array(items), path: "requirements", depth: 0, levels: levels)
                } else {
                    problem("must be a non-empty list of requirements", list, "requirements")
                }
            } else {
                problem("is required: the tree of requirements", document, "requirements")
            }
            let mappings = readMappings(root["mappings"])
            guard let id, let name, let version, let scoring else { return nil }
            return Framework(
                id: id, name: name, version: version, publisher: publisher, source: source, levels: levels, scoring: scoring,
                requirements: requirements, mappings: mappings)
        }

        mutating func unknownKeys(_ mapping: Node.Mapping, allowed: [String], path: String) {
            for key in mapping.keys where !allowed.contains(key.string ?? "") {
                problem("is not a key here; the keys are \(allowed.joined(separator: ", "))", key, path + (key.string ?? "?"))
            }
        }

        mutating func text(_ mapping: Node.Mapping, _ key: String, path: String, required: Bool = true) -> String? {
            guard let node = mapping[key] else {
                if required { problem("is required", Node.mapping(mapping), path + key) }
                return nil
            }
            guard node.scalar != nil, let value = node.string?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                problem("must be non-empty text", node, path + key)
                return nil
            }
            return value
        }

        mutating func texts(_ mapping: Node.Mapping, _ key: String, path: String) -> [String]? {
            guard let node = mapping[key] else { return nil }
            guard let items = node.sequence else {
                problem("must be a list of text", node, path + key)
                return nil
            }
            var values: [String] = []
            for (index, item) in items.enumerated() {
                guard item.scalar != nil, let value = item.string?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                    problem("must be non-empty text", item, "\(path)\(key)[\(index)]")
                    continue
                }
                values.append(value)
            }
            return values
        }

        /// A framework's id (lower case, for file names and URLs) or a requirement's (as its
        /// framework writes it: `GV.OC-01`, `1.A`, `ac-2.1`).
        mutating func identifier(_ mapping: Node.Mapping, _ key: String, path: String, frameworkID: Bool = false) -> String? {
            guard let value = text(mapping, key, path: path) else { return nil }
            let allowed: (Unicode.Scalar) -> Bool =
                frameworkID
                ? { ("a"..."z").contains($0) || ("0"..."9").contains($0) || ".-_".unicodeScalars.contains($0) }
                : { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || ".-_()".unicodeScalars.contains($0) }
            guard value.count <= 64, value.unicodeScalars.allSatisfy(allowed) else {
                problem(
                    frameworkID
                        ? "'\(value)' must be lower-case letters, digits, '.', '-' or '_' (at most 64)"
                        : "'\(value)' must be letters, digits, '.', '-', '_' or brackets (at most 64)", mapping[key], path + key)
                return nil
            }
            return value
        }

        mutating func readScoring(_ node: Node?, in root: Node.Mapping) -> Framework.Scoring? {
            guard let node else {
                problem("is required: kind (tiers, maturity or status) and levels", Node.mapping(root), "scoring")
                return nil
            }
            guard let mapping = node.mapping else {
                problem("must be a mapping with kind and levels", node, "scoring")
                return nil
            }
            unknownKeys(mapping, allowed: ["kind", "levels"], path: "scoring.")
            let kindText = text(mapping, "kind", path: "scoring.")
            let kind = kindText.flatMap(Framework.Scoring.Kind.init(rawValue:))
            if let kindText, kind == nil { problem("'\(kindText)' is not tiers, maturity or status", mapping["kind"], "scoring.kind") }
            guard let items = mapping["levels"]?.sequence, !items.isEmpty else {
                problem("must be a non-empty list of levels", mapping["levels"] ?? node, "scoring.levels")
                return nil
            }
            var levels: [Framework.Scoring.Level] = []
            var numbers: [Int] = []
            for (index, item) in items.enumerated() {
                let path = "scoring.levels[\(index)]."
                guard let level = item.mapping else {
                    problem("must be a mapping with value, name and description", item, "scoring.levels[\(index)]")
                    continue
                }
                unknownKeys(level, allowed: ["value", "name", "description", "credit"], path: path)
                guard let value = text(level, "value", path: path), let name = text(level, "name", path: path) else { continue }
                let description = text(level, "description", path: path, required: false)
                if levels.contains(where: { $0.value == value }) { problem("'\(value)' is a level twice", level["value"], path + "value") }
                var credit = 0.0
                if kind == .status {
                    guard let number = level["credit"]?.float, (0...1).contains(number) else {
                        problem("must be a number from 0 to 1 (the share of full marks this status earns)", level["credit"] ?? item, path + "credit")
                        continue
                    }
                    credit = number
                } else if kind != nil {
                    guard let number = Int(value), number >= 0 else {
                        problem("'\(value)' must be a whole number, 0 or more (a level's rank)", level["value"], path + "value")
                        continue
                    }
                    if level["credit"] != nil { problem("is worked out from the level's rank for tiers and maturity levels", level["credit"], path + "credit") }
                    if let last = numbers.last, number <= last { problem("must be above the level before it (\(last))", level["value"], path + "value") }
                    numbers.append(number)
                }
                levels.append(Framework.Scoring.Level(value: value, name: name, description: description, credit: credit))
            }
            guard let kind else { return nil }
            if kind != .status, let top = numbers.max(), top > 0 {
                for index in levels.indices { levels[index].credit = Double(Int(levels[index].value) ?? 0) / Double(top) }
            }
            if kind == .status, !levels.contains(where: { $0.credit == 1 }) {
                problem("one status must earn full marks (credit: 1)", mapping["levels"], "scoring.levels")
            }
            return Framework.Scoring(kind: kind, levels: levels)
        }

        mutating func readRequirements(_ items: [Node], path: String, depth: Int, levels: [String]) -> [Framework.Requirement] {
            var result: [Framework.Requirement] = []
            for (index, item) in items.enumerated() {
                let place = "\(path)[\(index)]"
                guard let mapping = item.mapping else {
                    problem("must be a mapping with id and text", item, place)
                    continue
                }
                unknownKeys(mapping, allowed: FrameworkParser.requirementKeys, path: place + ".")
                let id = identifier(mapping, "id", path: place + ".")
                if let id {
                    if let first = seen[id] {
                        problem("'\(id)' is already the id of the requirement on line \(first)", mapping["id"], place + ".id")
                    } else {
                        seen[id] = mapping["id"]?.mark?.line ?? 0
                    }
                }
                if mapping["text"] != nil, mapping["description"] != nil {
                    problem("give text or description, not both", mapping["description"], place + ".description")
                }
                let statement = text(mapping, mapping["description"] != nil ? "description" : "text", path: place + ".")
                let title = text(mapping, "title", path: place + ".", required: false)
                let guidance = text(mapping, "guidance", path: place + ".", required: false)
                let examples = texts(mapping, "examples", path: place + ".") ?? []
                var weight = 1.0
                if let node = mapping["weight"] {
                    if let number = node.float, number > 0, number <= 1_000 {
                        weight = number
                    } else {
                        problem("must be a number above 0 and at most 1000", node, place + ".weight")
                    }
                }
                if !levels.isEmpty, depth >= levels.count {
                    problem("is deeper than the levels the framework names (\(levels.joined(separator: ", ")))", item, place)
                }
                var children: [Framework.Requirement] = []
                if let node = mapping["children"] {
                    if let list = node.sequence, !list.isEmpty {
                        children = readRequirements(Array(list), path: place + ".children", depth: depth + 1, levels: levels)
                    } else {
                        problem("must be a non-empty list of requirements (leave it out for one that is answered)", node, place + ".children")
                    }
                }
                guard let id, let statement else { continue }
                result.append(
                    Framework.Requirement(id: id, title: title, text: statement, guidance: guidance, examples: examples, weight: weight, children: children))
            }
            return result
        }

        mutating func readMappings(_ node: Node?) -> [Framework.Mapping] {
            guard let node else { return [] }
            guard let items = node.sequence else {
                problem("must be a list of mappings, each with target and links", node, "mappings")
                return []
            }
            var mappings: [Framework.Mapping] = []
            for (index, item) in items.enumerated() {
                let place = "mappings[\(index)]"
                guard let mapping = item.mapping else {
                    problem("must be a mapping with target and links", item, place)
                    continue
                }
                unknownKeys(mapping, allowed: ["target", "links"], path: place + ".")
                let target = identifier(mapping, "target", path: place + ".", frameworkID: true)
                guard let list = mapping["links"]?.sequence, !list.isEmpty else {
                    problem("must be a non-empty list of links (from, to, relation)", mapping["links"] ?? item, place + ".links")
                    continue
                }
                var links: [Framework.Mapping.Link] = []
                for (number, entry) in list.enumerated() {
                    let at = "\(place).links[\(number)]."
                    guard let link = entry.mapping else {
                        problem("must be a mapping with from, to and relation", entry, "\(place).links[\(number)]")
                        continue
                    }
                    unknownKeys(link, allowed: ["from", "to", "relation"], path: at)
                    let from = text(link, "from", path: at), to = text(link, "to", path: at), relationText = text(link, "relation", path: at)
                    let relation = relationText.flatMap(Framework.Mapping.Relation.init(rawValue:))
                    if let relationText, relation == nil {
                        problem("'\(relationText)' is not equal, subset, superset or intersect", link["relation"], at + "relation")
                    }
                    if let from, seen[from] == nil { problem("'\(from)' is not a requirement of this framework", link["from"], at + "from") }
                    if let from, let to, let relation { links.append(Framework.Mapping.Link(from: from, to: to, relation: relation)) }
                }
                if let target { mappings.append(Framework.Mapping(target: target, links: links)) }
            }
            return mappings
        }
    }
}

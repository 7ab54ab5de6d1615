public import Foundation
import Yams

/// A framework written out: CSV (one row per requirement, for spreadsheets), YAML (the form
/// Qila reads, so an exported framework can be edited and read back) and OSCAL catalog JSON.
public enum FrameworkExport {
    public enum Format: String, Sendable, CaseIterable {
        case csv, yaml, oscal
    }

    public static func render(_ framework: Framework, as format: Format, at time: Date = Date()) throws -> String {
        switch format {
        case .csv: csv(framework)
        case .yaml: try yaml(framework)
        case .oscal: try oscal(framework, at: time)
        }
    }

    /// `id,parent,level,title,text,guidance,weight,examples`; examples joined by ` | `.
    public static func csv(_ framework: Framework) -> String {
        var lines = ["id,parent,level,title,text,guidance,weight,examples"]
        func walk(_ list: [Framework.Requirement], parent: String, depth: Int) {
            for requirement in list {
                let level = depth < framework.levels.count ? framework.levels[depth] : String(depth + 1)
                let weight = requirement.weight == requirement.weight.rounded() ? String(Int(requirement.weight)) : String(requirement.weight)
                lines.append(
                    [requirement.id, parent, level, requirement.title ?? "", requirement.text, requirement.guidance ?? "", weight,
                     requirement.examples.joined(separator: " | ")].map(field).joined(separator: ","))
                walk(requirement.children, parent: requirement.id, depth: depth + 1)
            }
        }
        walk(framework.requirements, parent: "", depth: 0)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is kept from being read as a formula.
    static func field(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { ",\"\r\n".contains($0) }) || value != text else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func yaml(_ framework: Framework) throws -> String {
        func scalar(_ text: String) -> Node { Node(text) }
        func mapping(_ pairs: [(String, Node?)]) -> Node {
            Node.mapping(Node.Mapping(pairs.compactMap { key, value in value.map { (Node(key), $0) } }))
        }
        let scoring = mapping([
            ("kind", scalar(framework.scoring.kind.rawValue)),
            (
                "levels",
                Node.sequence(
                    Node.Sequence(
                        framework.scoring.levels.map { level in
                            mapping([
                                ("value", framework.scoring.kind == .status ? scalar(level.value) : Node(level.value, Tag(.int))),
                                ("name", scalar(level.name)), ("description", level.description.map(scalar)),
                                ("credit", framework.scoring.kind == .status ? Node(String(level.credit), Tag(.float)) : nil),
                            ])
                        }))
            ),
        ])
        let mappings = framework.mappings.map { map in
            mapping([
                ("target", scalar(map.target)),
                (
                    "links",
                    Node.sequence(
                        Node.Sequence(
                            map.links.map { mapping([("from", scalar($0.from)), ("to", scalar($0.to)), ("relation", scalar($0.relation.rawValue))]) }))
                ),
            ])
        }
        let document = mapping([
            ("id", scalar(framework.id)), ("name", scalar(framework.name)), ("version", Node(framework.version, Tag(.str), .doubleQuoted)),
            ("publisher", framework.publisher.map(scalar)), ("source", framework.source.map(scalar)),
            ("levels", framework.levels.isEmpty ? nil : Node.sequence(Node.Sequence(framework.levels.map(scalar)))), ("scoring", scoring),
            ("requirements", Node.sequence(Node.Sequence(framework.requirements.map(requirementNode)))),
            ("mappings", mappings.isEmpty ? nil : Node.sequence(Node.Sequence(mappings))),
        ])
        return try Yams.serialize(node: document, width: -1, allowUnicode: true)
    }

    private static func requirementNode(_ requirement: Framework.Requirement) -> Node {
        let grouped = !requirement.isAnswered
        var pairs: [(Node, Node)] = [(Node("id"), Node(requirement.id))]
        if let title = requirement.title { pairs.append((Node("title"), Node(title))) }
        pairs.append((Node(grouped ? "description" : "text"), Node(requirement.text)))
        if let guidance = requirement.guidance { pairs.append((Node("guidance"), Node(guidance))) }
        if !requirement.examples.isEmpty { pairs.append((Node("examples"), Node.sequence(Node.Sequence(requirement.examples.map { Node($0) })))) }
        if requirement.weight != 1 { pairs.append((Node("weight"), Node(String(requirement.weight), Tag(.float)))) }
        if grouped { pairs.append((Node("children"), Node.sequence(Node.Sequence(requirement.children.map(requirementNode))))) }
        return Node.mapping(Node.Mapping(pairs))
    }

    public static func oscal(_ framework: Framework, at time: Date) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(OSCALCatalog.export(framework, at: time)), as: UTF8.self) + "\n"
    }
}

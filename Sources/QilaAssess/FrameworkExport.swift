public import Foundation
import QilaCore
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
                     requirement.examples.joined(separator: " | ")].map(CSV.field).joined(separator: ","))
                walk(requirement.children, parent: requirement.id, depth: depth + 1)
            }
        }
        walk(framework.requirements, parent: "", depth: 0)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    public static func yaml(_ framework: Framework) throws -> String {
        let scheme = framework.scoring
        let scoring = node([
            ("kind", Node(scheme.kind.rawValue)),
            (
                "levels",
                list(
                    scheme.levels.map { level in
                        node([
                            ("value", scheme.kind == .status ? Node(level.value) : Node(level.value, Tag(.int))), ("name", Node(level.name)),
                            ("description", level.description.map { Node($0) }),
                            ("credit", scheme.kind == .status ? Node(String(level.credit), Tag(.float)) : nil),
                        ])
                    })
            ),
        ])
        let mappings = framework.mappings.map { map in
            node([
                ("target", Node(map.target)),
                ("links", list(map.links.map { node([("from", Node($0.from)), ("to", Node($0.to)), ("relation", Node($0.relation.rawValue))]) })),
            ])
        }
        let document = node([
            ("id", Node(framework.id)), ("name", Node(framework.name)), ("version", Node(framework.version, Tag(.str), .doubleQuoted)),
            ("publisher", framework.publisher.map { Node($0) }), ("source", framework.source.map { Node($0) }),
            ("levels", framework.levels.isEmpty ? nil : list(framework.levels.map { Node($0) })), ("scoring", scoring),
            ("requirements", list(framework.requirements.map(requirementNode))), ("mappings", mappings.isEmpty ? nil : list(mappings)),
        ])
        return try Yams.serialize(node: document, width: -1, allowUnicode: true)
    }

    /// A requirement as the parser reads it: `description` for a group, `text` for one answered.
    private static func requirementNode(_ requirement: Framework.Requirement) -> Node {
        let grouped = !requirement.isAnswered
        return node([
            ("id", Node(requirement.id)), ("title", requirement.title.map { Node($0) }), (grouped ? "description" : "text", Node(requirement.text)),
            ("guidance", requirement.guidance.map { Node($0) }), ("examples", requirement.examples.isEmpty ? nil : list(requirement.examples.map { Node($0) })),
            ("weight", requirement.weight == 1 ? nil : Node(String(requirement.weight), Tag(.float))),
            ("children", grouped ? list(requirement.children.map(requirementNode)) : nil),
        ])
    }

    /// A mapping of the keys given a value, in order.
    private static func node(_ pairs: [(String, Node?)]) -> Node {
        Node.mapping(Node.Mapping(pairs.compactMap { key, value in value.map { (Node(key), $0) } }))
    }

    private static func list(_ items: [Node]) -> Node { Node.sequence(Node.Sequence(items)) }

    public static func oscal(_ framework: Framework, at time: Date) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(OSCALCatalog.export(framework, at: time)), as: UTF8.self) + "\n"
    }
}

public import Foundation
import QilaCore

/// The part of an OSCAL 1.1 catalog (NIST's Open Security Controls Assessment Language) that a
/// framework needs: metadata, nested groups and controls, and their parts (statement, guidance,
/// examples). Written from the OSCAL catalog model's published reference.
public struct OSCALCatalogDocument: Codable, Sendable, Equatable {
    public var catalog: Catalog

    public struct Catalog: Codable, Sendable, Equatable {
        public var uuid: String
        public var metadata: Metadata
        public var groups: [Group]?
        public var controls: [Control]?
    }

    public struct Metadata: Codable, Sendable, Equatable {
        public var title: String
        public var lastModified: String
        public var version: String
        public var oscalVersion: String
        public var props: [Property]?
        public var remarks: String?

        enum CodingKeys: String, CodingKey {
            case title, version, props, remarks
            case lastModified = "last-modified"
            case oscalVersion = "oscal-version"
        }
    }

    public struct Property: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public var ns: String?
    }

    public struct Group: Codable, Sendable, Equatable {
        public var id: String?
        public var `class`: String?
        public var title: String
        public var props: [Property]?
        public var parts: [Part]?
        public var groups: [Group]?
        public var controls: [Control]?
    }

    public struct Control: Codable, Sendable, Equatable {
        public var id: String
        public var `class`: String?
        public var title: String
        public var props: [Property]?
        public var parts: [Part]?
        public var controls: [Control]?
    }

    public struct Part: Codable, Sendable, Equatable {
        public var id: String?
        public var name: String
        public var ns: String?
        public var title: String?
        public var prose: String?
        public var parts: [Part]?
        public var props: [Property]?
    }
}

/// Frameworks to and from OSCAL catalogs.
public enum OSCALCatalog {
    public static let oscalVersion = "1.1.2"
    /// The namespace of the properties and parts OSCAL has no name for (weights, examples).
    public static let namespace = "urn:qila:oscal"

    /// The framework as an OSCAL catalog: top-level requirements are groups, the others controls
    /// nested as in the framework; each keeps its own id as its `label`.
    public static func export(_ framework: Framework, at time: Date) -> OSCALCatalogDocument {
        func properties(_ requirement: Framework.Requirement, depth: Int) -> [OSCALCatalogDocument.Property] {
            var props = [OSCALCatalogDocument.Property(name: "label", value: requirement.id)]
            if requirement.weight != 1 { props.append(.init(name: "weight", value: String(requirement.weight), ns: namespace)) }
            return props
        }
        func parts(_ requirement: Framework.Requirement, token: String) -> [OSCALCatalogDocument.Part] {
            let isGroup = !requirement.isAnswered
            var parts = [OSCALCatalogDocument.Part(id: "\(token)_\(isGroup ? "ovw" : "smt")", name: isGroup ? "overview" : "statement", prose: requirement.text)]
            if let guidance = requirement.guidance { parts.append(.init(id: "\(token)_gdn", name: "guidance", prose: guidance)) }
            for (index, example) in requirement.examples.enumerated() {
                parts.append(.init(id: "\(token)_ex\(index + 1)", name: "example", ns: namespace, prose: example))
            }
            return parts
        }
        func level(_ depth: Int) -> String? { depth < framework.levels.count ? framework.levels[depth] : nil }
        func control(_ requirement: Framework.Requirement, depth: Int) -> OSCALCatalogDocument.Control {
            let token = Self.token(requirement.id)
            return OSCALCatalogDocument.Control(
                id: token, class: level(depth), title: requirement.title ?? requirement.id, props: properties(requirement, depth: depth),
                parts: parts(requirement, token: token),
                controls: requirement.children.isEmpty ? nil : requirement.children.map { control($0, depth: depth + 1) })
        }
        let groups = framework.requirements.map { top -> OSCALCatalogDocument.Group in
            let token = Self.token(top.id)
            return OSCALCatalogDocument.Group(
                id: token, class: level(0), title: top.title ?? top.id, props: properties(top, depth: 0), parts: parts(top, token: token),
                controls: top.children.isEmpty ? nil : top.children.map { control($0, depth: 1) })
        }
        var props = [OSCALCatalogDocument.Property(name: "framework-id", value: framework.id, ns: namespace)]
        if let publisher = framework.publisher { props.append(.init(name: "publisher", value: publisher, ns: namespace)) }
        let stamp = ISO8601DateFormatter().string(from: time)
        return OSCALCatalogDocument(
            catalog: .init(
                // Name-based, so that one framework version always gets one uuid.
                uuid: UUID.nameBased("\(framework.id)@\(framework.version)", in: .urlNamespace).uuidString.lowercased(),
                metadata: .init(
                    title: framework.name, lastModified: stamp, version: framework.version, oscalVersion: oscalVersion, props: props,
                    remarks: framework.source.map { "Source: \($0)" }),
                groups: groups))
    }

    /// A framework read from an OSCAL catalog (NIST SP 800-53, the CSF's own catalog…): groups and
    /// controls become requirements, withdrawn controls are left out, a statement's lettered items
    /// are joined into its text; answered as implemented, partly or not.
    public static func framework(from document: OSCALCatalogDocument, id: String) throws(FrameworkRefused) -> Framework {
        let catalog = document.catalog
        let requirements = (catalog.groups ?? []).compactMap(Self.group(_:)) + (catalog.controls ?? []).compactMap(Self.control(_:))
        guard !requirements.isEmpty else {
            throw FrameworkRefused(problems: [FrameworkProblem(message: "holds no group or control that is not withdrawn", key: "catalog")])
        }
        return Framework(
            id: id, name: catalog.metadata.title, version: catalog.metadata.version,
            publisher: catalog.metadata.props?.first { $0.name == "publisher" }?.value, source: "OSCAL catalog \(catalog.uuid)",
            scoring: .implementation, requirements: requirements)
    }

    private static func control(_ control: OSCALCatalogDocument.Control) -> Framework.Requirement? {
        guard !(control.props?.contains { $0.name == "status" && $0.value == "withdrawn" } ?? false) else { return nil }
        let parts = control.parts
        let statement = parts?.first { $0.name == "statement" || $0.name == "overview" }.map(joinedProse)
        let text = statement.flatMap { $0.isEmpty ? nil : $0 } ?? control.title
        let id = control.props?.first { $0.name == "label" && $0.ns == nil }?.value ?? control.id
        return Framework.Requirement(
            id: id, title: control.title == id ? nil : control.title, text: text, guidance: parts?.first { $0.name == "guidance" }.map(joinedProse),
            examples: (parts ?? []).filter { $0.name == "example" }.map(joinedProse),
            children: (control.controls ?? []).compactMap(Self.control(_:)))
    }

    private static func group(_ group: OSCALCatalogDocument.Group) -> Framework.Requirement? {
        let children = (group.groups ?? []).compactMap(Self.group(_:)) + (group.controls ?? []).compactMap(Self.control(_:))
        guard !children.isEmpty else { return nil }
        let id = group.props?.first { $0.name == "label" && $0.ns == nil }?.value ?? group.id ?? group.title
        let overview = group.parts?.first { $0.name == "overview" }.map(joinedProse)
        return Framework.Requirement(id: id, title: group.title == id ? nil : group.title, text: overview ?? group.title, children: children)
    }

    private static func joinedProse(_ part: OSCALCatalogDocument.Part) -> String {
        let own = part.prose.map { text in part.props?.first { $0.name == "label" }.map { "\($0.value) \(text)" } ?? text }
        return ([own].compactMap { $0 } + (part.parts ?? []).map(joinedProse)).joined(separator: " ")
    }

    /// An OSCAL token (a letter or `_` first) made from a requirement's id: `1.A` becomes `r-1.A`.
    static func token(_ id: String) -> String {
        let cleaned = String(id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0) ? Character($0) : "_" })
        guard let first = cleaned.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_" else { return "r-" + cleaned }
        return cleaned
    }
}

extension Framework.Scoring {
    /// Implemented, partly implemented, not implemented: the scheme for frameworks that name none.
    public static let implementation = Framework.Scoring(
        kind: .status,
        levels: [
            .init(value: "implemented", name: "Implemented", description: "In place and working across the scope assessed.", credit: 1),
            .init(value: "partly", name: "Partly implemented", description: "In place for part of the scope, or not yet working as intended.", credit: 0.5),
            .init(value: "not", name: "Not implemented", description: "Not in place.", credit: 0),
        ])
}

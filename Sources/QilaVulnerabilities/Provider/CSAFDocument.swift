public import Foundation
public import QilaCore

/// Builds the CSAF 2.1 document (profile "Security Advisory", `csaf_security_advisory`) of a published
/// advisory revision, as the OASIS CSAF 2.1 specification describes it: the product tree as vendor,
/// product name and version-range branches (vers), one vulnerability per CVE with its CVSS metrics,
/// product status (known affected, fixed) and remediations, and the tracking history of every revision.
public enum CSAFDocument {
    /// Who publishes: the authority, as CSAF's publisher of category `coordinator`.
    public struct Publisher: Sendable {
        public var name: String
        /// The publisher's namespace: the installation's public address.
        public var namespace: String
        public var contact: String?

        public init(name: String, namespace: String, contact: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.contact = contact
        }
    }

    public struct Revision: Sendable, Equatable {
        public var number: Int
        public var date: Date
        public var summary: String

        public init(number: Int, date: Date, summary: String) {
            self.number = number
            self.date = date
            self.summary = summary
        }
    }

    /// The file name CSAF 2.1 section 5.1 derives from the tracking id: lower case, every run of
    /// characters other than `+`, `-`, a-z and 0-9 replaced by `_`, then `.json`.
    public static func fileName(trackingID: String) -> String {
        var name = ""
        var replacing = false
        for scalar in trackingID.lowercased().unicodeScalars {
            if scalar == "+" || scalar == "-" || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                name.unicodeScalars.append(scalar)
                replacing = false
            } else if !replacing {
                name += "_"
                replacing = true
            }
        }
        return name + ".json"
    }

    /// The folder of a marking under `/.well-known/csaf/`, as CSAF 2.1 requirement 11 names them:
    /// the label in lower case (`clear`, `green`, `amber`, `amber+strict`, `red`).
    public static func folder(_ tlp: TLP) -> String { String(tlp.rawValue.dropFirst(4)).lowercased() }

    /// The document's path under `/.well-known/csaf/`: the TLP folder, the year of the first release, the file.
    public static func path(trackingID: String, tlp: TLP, initialRelease: Date) -> String {
        "\(folder(tlp))/\(CivilDay(initialRelease).components.year)/\(fileName(trackingID: trackingID))"
    }

    /// Whole seconds, UTC: `2026-12-05T10:00:00Z`.
    static func timestamp(_ date: Date) -> String { RFC3339.format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))) }

    /// The document's bytes: JSON with sorted keys, so every node writes the same bytes for a revision.
    public static func build(
        content: AdvisoryContent, trackingID: String, revisions: [Revision], publisher: Publisher, generatorVersion: String
    ) throws -> Data {
        guard let first = revisions.first, let latest = revisions.last else { throw QilaError(.invalidInput, "an advisory is published with at least one revision") }
        let base = publisher.namespace.hasSuffix("/") ? String(publisher.namespace.dropLast()) : publisher.namespace
        let selfURL = "\(base)/.well-known/csaf/\(path(trackingID: trackingID, tlp: content.tlp, initialRelease: first.date))"

        var notes: [[String: Any]] = [["category": "summary", "title": "Summary", "text": content.summary]]
        if !content.details.isEmpty { notes.append(["category": "details", "title": "Details", "text": content.details]) }
        notes.append([
            "category": "legal_disclaimer", "title": "Terms of use",
            "text": "This advisory is provided by \(publisher.name) as it is, to help its readers protect their systems; it is shared under \(content.tlp.rawValue).",
        ])

        var references: [[String: Any]] = [["category": "self", "summary": "This advisory as a CSAF document", "url": selfURL]]
        for reference in content.references { references.append(["category": "external", "summary": reference.summary, "url": reference.url]) }

        var publisherObject: [String: Any] = ["category": "coordinator", "name": publisher.name, "namespace": base]
        if let contact = publisher.contact { publisherObject["contact_details"] = contact }

        // Product tree: vendor → product name → affected range (and the fixed version, if any).
        var affectedIDs: [String] = []
        var fixedIDs: [String] = []
        var vendors: [(String, [(String, [[String: Any]])])] = []
        for (index, product) in content.products.enumerated() {
            let id = String(format: "CSAFPID-%04d", index + 1)
            affectedIDs.append(id)
            var helper: [String: Any]?
            if let identifier = product.identifier {
                helper = identifier.hasPrefix("cpe:") ? ["cpe": identifier] : ["purls": [identifier]]
            }
            let range = try VersionRange(product.affected)
            var versionBranches: [[String: Any]] = []
            var affectedProduct: [String: Any] = ["product_id": id, "name": "\(product.vendor) \(product.name) \(range.singleVersion.map(\.description) ?? product.affected)"]
            if let helper { affectedProduct["product_identification_helper"] = helper }
            if let single = range.singleVersion {
                versionBranches.append(["category": "product_version", "name": single.description, "product": affectedProduct])
            } else {
                versionBranches.append(["category": "product_version_range", "name": product.affected, "product": affectedProduct])
            }
            if let fixed = product.fixed {
                let fixedID = id + "-FIXED"
                fixedIDs.append(fixedID)
                versionBranches.append([
                    "category": "product_version", "name": fixed,
                    "product": ["product_id": fixedID, "name": "\(product.vendor) \(product.name) \(fixed)"],
                ])
            }
            if let vendorIndex = vendors.firstIndex(where: { $0.0 == product.vendor }) {
                if let productIndex = vendors[vendorIndex].1.firstIndex(where: { $0.0 == product.name }) {
                    vendors[vendorIndex].1[productIndex].1 += versionBranches
                } else {
                    vendors[vendorIndex].1.append((product.name, versionBranches))
                }
            } else {
                vendors.append((product.vendor, [(product.name, versionBranches)]))
            }
        }
        let branches: [[String: Any]] = vendors.map { vendor in
            [
                "category": "vendor", "name": vendor.0,
                "branches": vendor.1.map { product in ["category": "product_name", "name": product.0, "branches": product.1] as [String: Any] },
            ]
        }

        var vulnerabilities: [[String: Any]] = []
        for (index, vulnerability) in content.vulnerabilities.enumerated() {
            var item: [String: Any] = [
                "title": vulnerability.title,
                "notes": [["category": "description", "title": "Description", "text": vulnerability.title]],
            ]
            if let cve = vulnerability.cve {
                item["cve"] = cve
            } else {
                item["ids"] = [["system_name": publisher.name, "text": "\(trackingID)-\(index + 1)"]]
            }
            var status: [String: Any] = ["known_affected": affectedIDs]
            if !fixedIDs.isEmpty { status["fixed"] = fixedIDs }
            item["product_status"] = status
            var content31: [String: Any] = [:]
            if let vector = vulnerability.cvss31, let score = vulnerability.cvss31Score {
                content31["cvss_v3"] = [
                    "version": "3.1", "vectorString": vector, "baseScore": score, "baseSeverity": CVSSSeverity(score: score).rawValue,
                ]
            }
            if let vector = vulnerability.cvss40, let score = vulnerability.cvss40Score {
                content31["cvss_v4"] = [
                    "version": "4.0", "vectorString": vector, "baseScore": score, "baseSeverity": CVSSSeverity(score: score).rawValue,
                ]
            }
            if !content31.isEmpty { item["metrics"] = [["content": content31, "products": affectedIDs]] }
            item["remediations"] = content.remediations.map { remediation -> [String: Any] in
                var entry: [String: Any] = ["category": remediation.category, "details": remediation.details, "product_ids": affectedIDs]
                if let url = remediation.url { entry["url"] = url }
                return entry
            }
            vulnerabilities.append(item)
        }

        let document: [String: Any] = [
            "$schema": "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json",
            "document": [
                "category": "csaf_security_advisory",
                "csaf_version": "2.1",
                "distribution": ["tlp": ["label": content.tlp.rawValue.replacingOccurrences(of: "TLP:", with: ""), "url": "https://www.first.org/tlp/"]],
                "lang": "en",
                "notes": notes,
                "publisher": publisherObject,
                "references": references,
                "title": content.title,
                "tracking": [
                    "id": trackingID,
                    "status": "final",
                    "version": String(latest.number),
                    "initial_release_date": timestamp(first.date),
                    "current_release_date": timestamp(latest.date),
                    "revision_history": revisions.map { ["number": String($0.number), "date": timestamp($0.date), "summary": $0.summary] },
                    "generator": ["engine": ["name": "Qila", "version": generatorVersion], "date": timestamp(latest.date)],
                ] as [String: Any],
            ] as [String: Any],
            "product_tree": ["branches": branches],
            "vulnerabilities": vulnerabilities,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}

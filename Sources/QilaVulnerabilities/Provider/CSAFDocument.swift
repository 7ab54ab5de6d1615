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

        var notes = [Note(category: "summary", title: "Summary", text: content.summary)]
        if !content.details.isEmpty { notes.append(Note(category: "details", title: "Details", text: content.details)) }
        notes.append(
            Note(
                category: "legal_disclaimer", title: "Terms of use",
                text: "This advisory is provided by \(publisher.name) as it is, to help its readers protect their systems; it is shared under \(content.tlp.rawValue)."))
        let references =
            [Reference(category: "self", summary: "This advisory as a CSAF document", url: selfURL)]
            + content.references.map { Reference(category: "external", summary: $0.summary, url: $0.url) }

        // Product tree: vendor → product name → affected range (and the fixed version, if any).
        var affectedIDs: [String] = []
        var fixedIDs: [String] = []
        var vendors: [Branch] = []
        for (index, product) in content.products.enumerated() {
            let id = String(format: "CSAFPID-%04d", index + 1)
            affectedIDs.append(id)
            let helper = product.identifier.map { $0.hasPrefix("cpe:") ? IdentificationHelper(cpe: $0) : IdentificationHelper(purls: [$0]) }
            let range = try VersionRange(product.affected)
            let affected = FullProductName(
                productID: id, name: "\(product.vendor) \(product.name) \(range.singleVersion.map(\.description) ?? product.affected)", helper: helper)
            var versions = [
                range.singleVersion.map { Branch(category: "product_version", name: $0.description, product: affected) }
                    ?? Branch(category: "product_version_range", name: product.affected, product: affected)
            ]
            if let fixed = product.fixed {
                let fixedID = id + "-FIXED"
                fixedIDs.append(fixedID)
                versions.append(
                    Branch(category: "product_version", name: fixed, product: FullProductName(productID: fixedID, name: "\(product.vendor) \(product.name) \(fixed)")))
            }
            let vendorIndex =
                vendors.firstIndex { $0.name == product.vendor }
                ?? {
                    vendors.append(Branch(category: "vendor", name: product.vendor, branches: []))
                    return vendors.count - 1
                }()
            if let productIndex = vendors[vendorIndex].branches?.firstIndex(where: { $0.name == product.name }) {
                vendors[vendorIndex].branches?[productIndex].branches?.append(contentsOf: versions)
            } else {
                vendors[vendorIndex].branches?.append(Branch(category: "product_name", name: product.name, branches: versions))
            }
        }

        let vulnerabilities = content.vulnerabilities.enumerated().map { index, vulnerability in
            var metrics = MetricContent()
            if let vector = vulnerability.cvss31, let score = vulnerability.cvss31Score {
                metrics.cvssV3 = CVSSScore(version: "3.1", vectorString: vector, baseScore: score, baseSeverity: CVSSSeverity(score: score).rawValue)
            }
            if let vector = vulnerability.cvss40, let score = vulnerability.cvss40Score {
                metrics.cvssV4 = CVSSScore(version: "4.0", vectorString: vector, baseScore: score, baseSeverity: CVSSSeverity(score: score).rawValue)
            }
            return Vulnerability(
                title: vulnerability.title, notes: [Note(category: "description", title: "Description", text: vulnerability.title)], cve: vulnerability.cve,
                ids: vulnerability.cve == nil ? [VulnerabilityID(systemName: publisher.name, text: "\(trackingID)-\(index + 1)")] : nil,
                productStatus: ProductStatus(knownAffected: affectedIDs, fixed: fixedIDs.isEmpty ? nil : fixedIDs),
                metrics: metrics.cvssV3 == nil && metrics.cvssV4 == nil ? nil : [Metric(content: metrics, products: affectedIDs)],
                remediations: content.remediations.map { Remediation(category: $0.category, details: $0.details, productIDs: affectedIDs, url: $0.url) })
        }

        let document = Document(
            document: DocumentMetadata(
                distribution: Distribution(tlp: TLPLabel(label: content.tlp.rawValue.replacingOccurrences(of: "TLP:", with: ""))), notes: notes,
                publisher: PublisherObject(name: publisher.name, namespace: base, contactDetails: publisher.contact), references: references,
                title: content.title,
                tracking: Tracking(
                    id: trackingID, version: String(latest.number), initialReleaseDate: timestamp(first.date), currentReleaseDate: timestamp(latest.date),
                    revisionHistory: revisions.map { RevisionEntry(number: String($0.number), date: timestamp($0.date), summary: $0.summary) },
                    generator: Generator(engine: Engine(version: generatorVersion), date: timestamp(latest.date)))),
            productTree: ProductTree(branches: vendors), vulnerabilities: vulnerabilities)
        return try encoder.encode(document)
    }

    /// Sorted keys, indented, slashes as they are: the bytes every node writes alike.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    // MARK: the document's parts, as CSAF 2.1's JSON schema names them

    struct Document: Encodable {
        var schema = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
        var document: DocumentMetadata
        var productTree: ProductTree
        var vulnerabilities: [Vulnerability]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema", document, productTree = "product_tree", vulnerabilities
        }
    }

    struct DocumentMetadata: Encodable {
        var category = "csaf_security_advisory"
        var csafVersion = "2.1"
        var distribution: Distribution
        var lang = "en"
        var notes: [Note]
        var publisher: PublisherObject
        var references: [Reference]
        var title: String
        var tracking: Tracking
        enum CodingKeys: String, CodingKey {
            case category, csafVersion = "csaf_version", distribution, lang, notes, publisher, references, title, tracking
        }
    }

    struct Distribution: Encodable { var tlp: TLPLabel }
    struct TLPLabel: Encodable {
        var label: String
        var url = "https://www.first.org/tlp/"
    }
    struct Note: Encodable { var category, title, text: String }
    struct Reference: Encodable { var category, summary, url: String }

    struct PublisherObject: Encodable {
        var category = "coordinator"
        var name: String
        var namespace: String
        var contactDetails: String?
        enum CodingKeys: String, CodingKey { case category, name, namespace, contactDetails = "contact_details" }
    }

    struct Tracking: Encodable {
        var id: String
        var status = "final"
        var version: String
        var initialReleaseDate: String
        var currentReleaseDate: String
        var revisionHistory: [RevisionEntry]
        var generator: Generator
        enum CodingKeys: String, CodingKey {
            case id, status, version, initialReleaseDate = "initial_release_date", currentReleaseDate = "current_release_date",
                revisionHistory = "revision_history", generator
        }
    }
    struct RevisionEntry: Encodable { var number, date, summary: String }
    struct Generator: Encodable {
        var engine: Engine
        var date: String
    }
    struct Engine: Encodable {
        var name = "Qila"
        var version: String
    }

    struct ProductTree: Encodable { var branches: [Branch] }

    /// A branch of the product tree: a vendor, a product name or a version (range) with its product.
    struct Branch: Encodable {
        var category: String
        var name: String
        var branches: [Branch]?
        var product: FullProductName?
        init(category: String, name: String, branches: [Branch]) {
            (self.category, self.name, self.branches, self.product) = (category, name, branches, nil)
        }
        init(category: String, name: String, product: FullProductName) {
            (self.category, self.name, self.branches, self.product) = (category, name, nil, product)
        }
    }

    struct FullProductName: Encodable {
        var productID: String
        var name: String
        var helper: IdentificationHelper?
        enum CodingKeys: String, CodingKey { case productID = "product_id", name, helper = "product_identification_helper" }
    }

    struct IdentificationHelper: Encodable {
        var cpe: String?
        var purls: [String]?
        init(cpe: String) { (self.cpe, self.purls) = (cpe, nil) }
        init(purls: [String]) { (self.cpe, self.purls) = (nil, purls) }
    }

    struct Vulnerability: Encodable {
        var title: String
        var notes: [Note]
        var cve: String?
        var ids: [VulnerabilityID]?
        var productStatus: ProductStatus
        var metrics: [Metric]?
        var remediations: [Remediation]
        enum CodingKeys: String, CodingKey { case title, notes, cve, ids, productStatus = "product_status", metrics, remediations }
    }
    struct VulnerabilityID: Encodable {
        var systemName: String
        var text: String
        enum CodingKeys: String, CodingKey { case systemName = "system_name", text }
    }
    struct ProductStatus: Encodable {
        var knownAffected: [String]
        var fixed: [String]?
        enum CodingKeys: String, CodingKey { case knownAffected = "known_affected", fixed }
    }
    struct Metric: Encodable {
        var content: MetricContent
        var products: [String]
    }
    struct MetricContent: Encodable {
        var cvssV3: CVSSScore?
        var cvssV4: CVSSScore?
        enum CodingKeys: String, CodingKey { case cvssV3 = "cvss_v3", cvssV4 = "cvss_v4" }
    }
    struct CVSSScore: Encodable { var version, vectorString: String; var baseScore: Double; var baseSeverity: String }
    struct Remediation: Encodable {
        var category: String
        var details: String
        var productIDs: [String]
        var url: String?
        enum CodingKeys: String, CodingKey { case category, details, productIDs = "product_ids", url }
    }
}

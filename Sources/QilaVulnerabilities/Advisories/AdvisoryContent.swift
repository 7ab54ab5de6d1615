public import Foundation
public import QilaCore

/// An advisory as its author types it: the texts of the form, kept as typed while it is a draft.
/// Products, vulnerabilities, remediations and references are one per line, parts separated by `|`,
/// so that an advisory of any size fits one page and errors can name the line.
public struct AdvisoryInput: Codable, Sendable, Equatable {
    public var title: String
    /// `TLP:CLEAR` … `TLP:RED`, or the short forms `TLP(label:)` reads.
    public var tlp: String
    /// Markdown: what happened and what to do, for the public and for executives.
    public var summary: String
    /// Markdown: the technical details.
    public var details: String
    /// `Vendor | Product | affected versions | fixed in | CPE 2.3 name or package URL`; the last two may be left
    /// out; the affected versions are constraints separated by commas (`>=2.4.0, <2.4.60`).
    public var products: String
    /// `CVE-YYYY-NNNN | title | CWE-NNN | CVSS:3.1/… | CVSS:4.0/…`; the CVE may be left empty, CWE and vectors left out.
    public var vulnerabilities: String
    /// `category | what to do | URL`; category one of vendor fix, workaround, mitigation, fix planned, optional patch,
    /// no fix planned, none available.
    public var remediations: String
    /// `URL | what it is`.
    public var references: String
    /// For TLP:AMBER and AMBER+STRICT: the sectors (ids) whose organisations receive it.
    public var sectors: [String]
    /// For TLP:AMBER, AMBER+STRICT and RED: the organisations (ids) that receive it.
    public var organisations: [String]

    public init(
        title: String = "", tlp: String = TLP.clear.rawValue, summary: String = "", details: String = "", products: String = "", vulnerabilities: String = "",
        remediations: String = "", references: String = "", sectors: [String] = [], organisations: [String] = []
    ) {
        self.title = title
        self.tlp = tlp
        self.summary = summary
        self.details = details
        self.products = products
        self.vulnerabilities = vulnerabilities
        self.remediations = remediations
        self.references = references
        self.sectors = sectors
        self.organisations = organisations
    }
}

/// An advisory read and checked: what a published revision holds and the CSAF document is made from.
public struct AdvisoryContent: Codable, Sendable, Equatable {
    public struct Product: Codable, Sendable, Equatable {
        public var vendor: String
        public var name: String
        /// The affected versions in vers notation.
        public var affected: String
        public var fixed: String?
        /// A CPE 2.3 formatted string or a package URL.
        public var identifier: String?
    }

    public struct Vulnerability: Codable, Sendable, Equatable {
        public var cve: String?
        public var title: String
        public var cwe: String?
        public var cvss31: String?
        public var cvss31Score: Double?
        public var cvss40: String?
        public var cvss40Score: Double?
    }

    public struct Remediation: Codable, Sendable, Equatable {
        /// CSAF's category: `vendor_fix`, `workaround`, `mitigation`, `fix_planned`, `optional_patch`, `no_fix_planned`, `none_available`.
        public var category: String
        public var details: String
        public var url: String?
    }

    public struct Reference: Codable, Sendable, Equatable {
        public var url: String
        public var summary: String
    }

    public var title: String
    public var tlp: TLP
    public var summary: String
    public var details: String
    public var products: [Product]
    public var vulnerabilities: [Vulnerability]
    public var remediations: [Remediation]
    public var references: [Reference]
    public var sectors: [String]
    public var organisations: [String]

    /// The highest score of any vector given, for lists and sorting.
    public var highestScore: Double? { vulnerabilities.flatMap { [$0.cvss31Score, $0.cvss40Score] }.compactMap { $0 }.max() }

    public static let remediationCategories: [(category: String, label: String)] = [
        ("vendor_fix", "vendor fix"), ("workaround", "workaround"), ("mitigation", "mitigation"), ("fix_planned", "fix planned"),
        ("optional_patch", "optional patch"), ("no_fix_planned", "no fix planned"), ("none_available", "none available"),
    ]

    /// A remediation category as a heading: `Vendor fix`, `No fix planned`.
    public static func remediationLabel(_ category: String) -> String {
        remediationCategories.first { $0.category == category }.map { $0.label.prefix(1).uppercased() + $0.label.dropFirst() } ?? category
    }

    /// Reads and checks the input; the error names the field and, for the line fields, the line.
    public init(_ input: AdvisoryInput) throws(QilaError) {
        func text(_ value: String, _ field: String, required: Bool, limit: Int) throws(QilaError) -> String {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if required, trimmed.isEmpty { throw QilaError.invalid("is required", field: field) }
            guard trimmed.count <= limit else { throw QilaError.invalid("is longer than \(limit) characters", field: field) }
            return trimmed
        }
        title = try text(input.title, "title", required: true, limit: 200)
        guard let marking = TLP(label: input.tlp) else { throw QilaError.invalid("must be a TLP 2.0 label: CLEAR, GREEN, AMBER, AMBER+STRICT or RED", field: "tlp") }
        tlp = marking
        summary = try text(input.summary, "summary", required: true, limit: 20_000)
        details = try text(input.details, "details", required: false, limit: 100_000)

        func lines(_ value: String, _ field: String, required: Bool) throws(QilaError) -> [(number: Int, parts: [String])] {
            var result: [(Int, [String])] = []
            // Browsers send a textarea's lines ended by CR LF, which Swift holds as one Character.
            for (index, line) in value.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
                result.append((index + 1, trimmed.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }))
            }
            if required, result.isEmpty { throw QilaError.invalid("needs at least one line", field: field) }
            guard result.count <= 500 else { throw QilaError.invalid("has more than 500 lines", field: field) }
            return result
        }
        func fail(_ field: String, _ line: Int, _ message: String) -> QilaError { QilaError.invalid("line \(line): \(message)", field: field) }

        products = []
        for (line, parts) in try lines(input.products, "products", required: true) {
            guard parts.count >= 3, parts.count <= 5 else {
                throw fail("products", line, "must be written Vendor | Product | affected versions | fixed in | CPE or package URL (the last two may be left out)")
            }
            guard !parts[0].isEmpty else { throw fail("products", line, "names no vendor") }
            guard !parts[1].isEmpty else { throw fail("products", line, "names no product") }
            let range: VersionRange
            do {
                range = try VersionRange(parts[2])
            } catch {
                throw fail("products", line, "affected versions: \(error.message)")
            }
            var fixed: String?
            if parts.count > 3, !parts[3].isEmpty {
                guard let version = ProductVersion(parts[3]) else { throw fail("products", line, "fixed in: '\(parts[3])' is not a version") }
                guard !range.contains(version) else { throw fail("products", line, "fixed in: \(version) lies in the affected versions") }
                fixed = version.description
            }
            var identifier: String?
            if parts.count > 4, !parts[4].isEmpty {
                guard parts[4].hasPrefix("cpe:2.3:") || parts[4].hasPrefix("pkg:") else {
                    throw fail("products", line, "'\(parts[4])' is neither a CPE 2.3 name (cpe:2.3:…) nor a package URL (pkg:…)")
                }
                if parts[4].hasPrefix("cpe:2.3:"), parts[4].split(separator: ":", omittingEmptySubsequences: false).count != 13 {
                    throw fail("products", line, "a CPE 2.3 name has 13 parts separated by colons")
                }
                identifier = parts[4]
            }
            products.append(Product(vendor: parts[0], name: parts[1], affected: range.description, fixed: fixed, identifier: identifier))
        }

        vulnerabilities = []
        var cves = Set<String>()
        for (line, parts) in try lines(input.vulnerabilities, "vulnerabilities", required: true) {
            guard parts.count >= 2 else { throw fail("vulnerabilities", line, "must be written CVE | title | CWE | CVSS vectors (CVE, CWE and vectors may be left out)") }
            var vulnerability = Vulnerability(cve: nil, title: parts[1])
            if !parts[0].isEmpty {
                let cve = parts[0].uppercased()
                guard KEVCatalogue.isCVE(cve) else { throw fail("vulnerabilities", line, "'\(parts[0])' is not a CVE identifier such as CVE-2024-3400") }
                guard cves.insert(cve).inserted else { throw fail("vulnerabilities", line, "\(cve) is listed twice") }
                vulnerability.cve = cve
            }
            guard !parts[1].isEmpty else { throw fail("vulnerabilities", line, "has no title") }
            for part in parts.dropFirst(2) where !part.isEmpty {
                if part.uppercased().hasPrefix("CWE-") {
                    guard part.dropFirst(4).allSatisfy({ $0.isASCII && $0.isNumber }), part.count > 4 else { throw fail("vulnerabilities", line, "'\(part)' is not a CWE such as CWE-79") }
                    vulnerability.cwe = part.uppercased()
                } else if part.hasPrefix("CVSS:") {
                    let scored: CVSSScore
                    do {
                        scored = try CVSSScore(part)
                    } catch {
                        throw fail("vulnerabilities", line, "the vector \(error.message)")
                    }
                    switch scored.version {
                    case .v31:
                        guard vulnerability.cvss31 == nil else { throw fail("vulnerabilities", line, "gives two CVSS 3.1 vectors") }
                        (vulnerability.cvss31, vulnerability.cvss31Score) = (scored.vector, scored.score)
                    case .v40:
                        guard vulnerability.cvss40 == nil else { throw fail("vulnerabilities", line, "gives two CVSS 4.0 vectors") }
                        (vulnerability.cvss40, vulnerability.cvss40Score) = (scored.vector, scored.score)
                    }
                } else {
                    throw fail("vulnerabilities", line, "'\(part)' is neither a CWE (CWE-79) nor a CVSS vector (CVSS:3.1/… or CVSS:4.0/…)")
                }
            }
            vulnerabilities.append(vulnerability)
        }

        remediations = []
        for (line, parts) in try lines(input.remediations, "remediations", required: true) {
            guard parts.count == 2 || parts.count == 3 else { throw fail("remediations", line, "must be written category | what to do | URL (the URL may be left out)") }
            let wanted = parts[0].lowercased().replacingOccurrences(of: "_", with: " ")
            guard let category = Self.remediationCategories.first(where: { $0.label == wanted }) else {
                throw fail("remediations", line, "'\(parts[0])' is not a category: \(Self.remediationCategories.map(\.label).joined(separator: ", "))")
            }
            guard !parts[1].isEmpty else { throw fail("remediations", line, "says nothing to do") }
            var url: String?
            if parts.count == 3, !parts[2].isEmpty {
                guard Self.isWebAddress(parts[2]) else { throw fail("remediations", line, "'\(parts[2])' is not an https:// or http:// address") }
                url = parts[2]
            }
            remediations.append(Remediation(category: category.category, details: parts[1], url: url))
        }
        if remediations.contains(where: { $0.category == "vendor_fix" }), !products.contains(where: { $0.fixed != nil }) {
            throw QilaError.invalid("give a vendor fix only when a product line names the version it is fixed in", field: "remediations")
        }

        references = []
        for (line, parts) in try lines(input.references, "references", required: false) {
            guard parts.count == 2, Self.isWebAddress(parts[0]), !parts[1].isEmpty else { throw fail("references", line, "must be written https://address | what it is") }
            references.append(Reference(url: parts[0], summary: parts[1]))
        }

        sectors = input.sectors.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        organisations = input.organisations.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch tlp {
        case .clear, .green:
            guard sectors.isEmpty, organisations.isEmpty else {
                throw QilaError.invalid("are for TLP:AMBER and RED only: a \(tlp.rawValue) advisory goes to everyone its marking allows", field: "organisations")
            }
        case .amber, .amberStrict:
            guard !sectors.isEmpty || !organisations.isEmpty else { throw QilaError.invalid("choose the sectors or organisations that receive a \(tlp.rawValue) advisory", field: "organisations") }
        case .red:
            guard sectors.isEmpty else { throw QilaError.invalid("a TLP:RED advisory goes to named organisations, not to sectors", field: "sectors") }
            guard !organisations.isEmpty else { throw QilaError.invalid("choose the organisations that receive a TLP:RED advisory", field: "organisations") }
        }
    }

    static func isWebAddress(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host?.isEmpty == false else { return false }
        return !text.contains(where: \.isWhitespace)
    }
}

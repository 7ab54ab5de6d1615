public import Foundation
import QilaCore

/// CISA's Known Exploited Vulnerabilities catalogue in its JSON form: `title`, `catalogVersion`,
/// `dateReleased`, `count` and `vulnerabilities`, each with CISA's field names. Read from the file
/// an operator downloads from CISA, and written in the same form for the national catalogue.
public struct KEVCatalogue: Codable, Sendable, Equatable {
    public var title: String
    public var catalogVersion: String
    public var dateReleased: String
    public var count: Int
    public var vulnerabilities: [Entry]

    public init(title: String, catalogVersion: String, dateReleased: String, vulnerabilities: [Entry]) {
        self.title = title
        self.catalogVersion = catalogVersion
        self.dateReleased = dateReleased
        self.count = vulnerabilities.count
        self.vulnerabilities = vulnerabilities
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var cveID: String
        public var vendorProject: String
        public var product: String
        public var vulnerabilityName: String
        public var dateAdded: String
        public var shortDescription: String
        public var requiredAction: String
        public var dueDate: String
        public var knownRansomwareCampaignUse: String
        public var notes: String
        public var cwes: [String]

        public init(
            cveID: String, vendorProject: String, product: String, vulnerabilityName: String, dateAdded: String, shortDescription: String,
            requiredAction: String, dueDate: String, knownRansomwareCampaignUse: String, notes: String, cwes: [String]
        ) {
            self.cveID = cveID
            self.vendorProject = vendorProject
            self.product = product
            self.vulnerabilityName = vulnerabilityName
            self.dateAdded = dateAdded
            self.shortDescription = shortDescription
            self.requiredAction = requiredAction
            self.dueDate = dueDate
            self.knownRansomwareCampaignUse = knownRansomwareCampaignUse
            self.notes = notes
            self.cwes = cwes
        }

        enum CodingKeys: String, CodingKey {
            case cveID, vendorProject, product, vulnerabilityName, dateAdded, shortDescription, requiredAction, dueDate, knownRansomwareCampaignUse,
                notes, cwes
        }

        // Older catalogues have no `cwes`; `notes` may be empty. Both read as empty when absent.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            cveID = try container.decode(String.self, forKey: .cveID)
            vendorProject = try container.decode(String.self, forKey: .vendorProject)
            product = try container.decode(String.self, forKey: .product)
            vulnerabilityName = try container.decode(String.self, forKey: .vulnerabilityName)
            dateAdded = try container.decode(String.self, forKey: .dateAdded)
            shortDescription = try container.decode(String.self, forKey: .shortDescription)
            requiredAction = try container.decode(String.self, forKey: .requiredAction)
            dueDate = try container.decode(String.self, forKey: .dueDate)
            knownRansomwareCampaignUse = try container.decodeIfPresent(String.self, forKey: .knownRansomwareCampaignUse) ?? "Unknown"
            notes = try container.decodeIfPresent(String.self, forKey: .notes) ?? ""
            cwes = try container.decodeIfPresent([String].self, forKey: .cwes) ?? []
        }
    }

    /// Reads a catalogue, naming the entry and field of the first problem: a missing or mistyped
    /// field, a CVE identifier or date not in CISA's form, a CVE listed twice, a count that does
    /// not match.
    public static func read(_ data: Data, file: String) throws(KEVProblem) -> KEVCatalogue {
        let catalogue: KEVCatalogue
        do {
            catalogue = try JSONDecoder().decode(KEVCatalogue.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw KEVProblem(file: file, place: Self.place(context.codingPath), message: "has no \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw KEVProblem(file: file, place: Self.place(context.codingPath), message: "is not of the type CISA's catalogue uses")
        } catch let DecodingError.valueNotFound(_, context) {
            throw KEVProblem(file: file, place: Self.place(context.codingPath), message: "is null")
        } catch let DecodingError.dataCorrupted(context) {
            throw KEVProblem(file: file, place: Self.place(context.codingPath), message: "is not JSON (\(context.debugDescription))")
        } catch {
            throw KEVProblem(file: file, place: "", message: "cannot be read as CISA's catalogue")
        }
        var seen = Set<String>()
        for (index, entry) in catalogue.vulnerabilities.enumerated() {
            let place = "vulnerabilities[\(index)]"
            guard Self.isCVE(entry.cveID) else { throw KEVProblem(file: file, place: place + ".cveID", message: "'\(entry.cveID)' is not a CVE identifier (CVE-YYYY-NNNN)") }
            guard seen.insert(entry.cveID).inserted else { throw KEVProblem(file: file, place: place + ".cveID", message: "\(entry.cveID) is listed twice") }
            for (field, value) in [("dateAdded", entry.dateAdded), ("dueDate", entry.dueDate)] where !Self.isDay(value) {
                throw KEVProblem(file: file, place: "\(place).\(field)", message: "'\(value)' is not a date (YYYY-MM-DD)")
            }
            for (field, value) in [("vendorProject", entry.vendorProject), ("product", entry.product), ("vulnerabilityName", entry.vulnerabilityName)]
            where value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw KEVProblem(file: file, place: "\(place).\(field)", message: "is empty")
            }
        }
        guard catalogue.count == catalogue.vulnerabilities.count else {
            throw KEVProblem(file: file, place: "count", message: "says \(catalogue.count) but the file lists \(catalogue.vulnerabilities.count)")
        }
        return catalogue
    }

    static func place(_ path: [any CodingKey]) -> String {
        path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// `CVE-` four digits of a year, `-`, four or more digits (CVE's identifier syntax).
    public static func isCVE(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "CVE" && parts[1].count == 4 && parts[1].allSatisfy(\.isASCIIDigit) && parts[2].count >= 4
            && parts[2].allSatisfy(\.isASCIIDigit)
    }

    /// A calendar date written `YYYY-MM-DD`.
    public static func isDay(_ text: String) -> Bool { CivilDay(text) != nil }

    /// The catalogue as CISA writes it: keys in CISA's order, slashes not escaped, two-space indent.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    enum CodingKeys: String, CodingKey { case title, catalogVersion, dateReleased, count, vulnerabilities }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// What is wrong with a catalogue file, and where.
public struct KEVProblem: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// A JSON path such as `vulnerabilities[3].dueDate`, or empty for the whole file.
    public var place: String
    public var message: String
    public var description: String { place.isEmpty ? "\(file) \(message)" : "\(file): \(place) \(message)" }
}

public import Foundation

public typealias OrganisationID = Identifier<Organisation>

/// A tenant: the authority, a sector regulator, or an organisation under oversight.
public struct Organisation: Sendable, Codable, Hashable, Identifiable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case authority
        case sectorRegulator = "sector-regulator"
        case licensee
        case bank
        case governmentBody = "government-body"
        case other
        /// A maker of products in a coordinated disclosure case: not under oversight; its accounts
        /// reach only the cases it is a vendor in.
        case vendor

        public var title: String {
            switch self {
            case .authority: "National cybersecurity authority"
            case .sectorRegulator: "Sector regulator"
            case .licensee: "Licensee or operator"
            case .bank: "Bank"
            case .governmentBody: "Government body"
            case .other: "Other"
            case .vendor: "Vendor (coordinated disclosure)"
            }
        }
    }

    /// Whether the organisation is one the programme oversees (assessed, addressed by directives):
    /// not the authority, a regulator or a product vendor.
    public var isOverseen: Bool { kind != .authority && kind != .sectorRegulator && kind != .vendor }

    /// Whether the organisation keeps records of its own here (sensors, traffic data, training,
    /// intelligence, inventories, webhooks): every one but the authority and product vendors.
    public var keepsOwnRecords: Bool { kind != .authority && kind != .vendor }

    public var id: OrganisationID
    public var name: String
    public var kind: Kind
    /// The sector the organisation belongs to or, for a regulator, the sector it regulates.
    public var sector: SectorID
    /// Licence or registration number issued by the regulator; nil where none applies.
    public var registrationNumber: String?
    /// How much the nation depends on it, as the regulator classes it; nil until classed.
    public var criticality: Criticality?
    public var createdAt: Date

    /// The regulator's class of an organisation by how much the nation depends on its services,
    /// used to choose whom an assessment campaign or a directive addresses.
    public enum Criticality: String, Sendable, Codable, CaseIterable, Comparable {
        /// Its disruption would harm the nation (critical information infrastructure).
        case critical
        /// Its disruption would harm its sector or a region.
        case important
        case standard

        public var title: String {
            switch self {
            case .critical: "Critical"
            case .important: "Important"
            case .standard: "Standard"
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
    }

    public init(
        id: OrganisationID = OrganisationID(),
        name: String,
        kind: Kind,
        sector: SectorID,
        registrationNumber: String? = nil,
        criticality: Criticality? = nil,
        createdAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.sector = sector
        self.registrationNumber = registrationNumber
        self.criticality = criticality
        self.createdAt = createdAt
    }
}

/// What a user does in the programme. A user may hold several roles; what each allows is
/// declared once, in `QilaAccess`'s policy.
public enum Role: String, Sendable, Codable, CaseIterable, Hashable, Comparable {
    case authorityAdmin = "authority-admin"
    case authorityAnalyst = "authority-analyst"
    case sectorRegulator = "sector-regulator"
    case organisationAdmin = "organisation-admin"
    case organisationReporter = "organisation-reporter"
    case auditor
    /// A provider's legal officer: approves or rejects the warrants addressed to it.
    case legalOfficer = "legal-officer"
    case investigator
    case oversightViewer = "oversight-viewer"
    /// A product vendor's contact in coordinated disclosure: sees and answers only the cases its
    /// organisation is a vendor in.
    case vendorContact = "vendor-contact"

    public var title: String {
        switch self {
        case .authorityAdmin: "Authority administrator"
        case .authorityAnalyst: "Authority analyst"
        case .sectorRegulator: "Sector regulator"
        case .organisationAdmin: "Organisation administrator"
        case .organisationReporter: "Organisation reporter"
        case .auditor: "Auditor"
        case .legalOfficer: "Legal officer"
        case .investigator: "Investigator"
        case .oversightViewer: "Oversight viewer"
        case .vendorContact: "Vendor contact"
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public import Foundation

public typealias WarrantID = Identifier<Warrant>
public typealias WarrantQueryID = Identifier<WarrantQuery>

/// A court's order to release retained traffic data (PECA 2016 section 32): recorded by an
/// investigator, addressed to one service provider, and usable only once the provider's legal
/// officer has approved it, within its scope and until it expires.
public struct Warrant: Sendable, Hashable, Codable, Identifiable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Recorded, waiting for the provider's legal officer.
        case pending
        case approved
        case rejected
        /// Withdrawn by the investigator or the provider after approval.
        case revoked

        public var title: String {
            switch self {
            case .pending: "Waiting for approval"
            case .approved: "Approved"
            case .rejected: "Rejected"
            case .revoked: "Revoked"
            }
        }
    }

    public var id: WarrantID
    /// The provider that holds the data and must approve.
    public var provider: OrganisationID
    public var court: String
    /// The court's reference for the order.
    public var number: String
    public var issuedAt: Date
    /// After this moment no query may run under the warrant.
    public var expiresAt: Date
    /// The agency that asked the court (for example the FIA's cybercrime wing).
    public var agency: String
    /// The investigator who recorded it; only they may query under it.
    public var investigator: UserID
    /// Addresses in scope (IPv4 or IPv6, one host each).
    public var addresses: [String]
    /// Subscriber identifiers in scope. Personal data: sealed at rest, never logged.
    public var subscribers: [String]
    /// Whether the order lets the provider name the subscriber behind each address.
    public var disclosesSubscribers: Bool
    /// The period of traffic the order covers.
    public var windowStart: Date
    public var windowEnd: Date
    public var status: Status
    public var recordedAt: Date
    public var decidedBy: UserID?
    public var decidedAt: Date?
    /// The legal officer's reason for a rejection or revocation.
    public var decisionNote: String?

    public init(
        id: WarrantID = WarrantID(), provider: OrganisationID, court: String, number: String, issuedAt: Date, expiresAt: Date,
        agency: String, investigator: UserID, addresses: [String], subscribers: [String], disclosesSubscribers: Bool,
        windowStart: Date, windowEnd: Date, status: Status = .pending, recordedAt: Date = Date(), decidedBy: UserID? = nil,
        decidedAt: Date? = nil, decisionNote: String? = nil
    ) {
        self.id = id
        self.provider = provider
        self.court = court
        self.number = number
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.agency = agency
        self.investigator = investigator
        self.addresses = addresses
        self.subscribers = subscribers
        self.disclosesSubscribers = disclosesSubscribers
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.status = status
        self.recordedAt = recordedAt
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.decisionNote = decisionNote
    }

    /// True when queries may run under it at `now`.
    public func isInForce(at now: Date) -> Bool {
        status == .approved && now < expiresAt && now >= issuedAt
    }

    /// What the oversight committee and the audit log may see: no identifiers in scope.
    public var reference: String { "warrant:\(id)" }
}

/// One query run under a warrant, and the export package it produced.
public struct WarrantQuery: Sendable, Hashable, Codable, Identifiable {
    public var id: WarrantQueryID
    public var warrant: WarrantID
    public var actor: UserID
    public var time: Date
    /// The identifiers asked about: a subset of the warrant's. Sealed at rest like the warrant's.
    public var addresses: [String]
    public var subscribers: [String]
    public var windowStart: Date
    public var windowEnd: Date
    public var resultCount: Int
    public var elapsedMilliseconds: Int
    /// SHA-256 of the signed manifest of the export package, hexadecimal.
    public var manifestSHA256: String

    public init(
        id: WarrantQueryID = WarrantQueryID(), warrant: WarrantID, actor: UserID, time: Date, addresses: [String],
        subscribers: [String], windowStart: Date, windowEnd: Date, resultCount: Int, elapsedMilliseconds: Int, manifestSHA256: String
    ) {
        self.id = id
        self.warrant = warrant
        self.actor = actor
        self.time = time
        self.addresses = addresses
        self.subscribers = subscribers
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.resultCount = resultCount
        self.elapsedMilliseconds = elapsedMilliseconds
        self.manifestSHA256 = manifestSHA256
    }
}

/// A NetFlow/IPFIX exporter or a RADIUS accounting client registered to an organisation.
public struct FlowSource: Sendable, Hashable, Codable, Identifiable {
    public typealias ID = Identifier<FlowSource>
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case exporter
        case radius
        public var title: String { self == .exporter ? "NetFlow/IPFIX exporter" : "RADIUS accounting client" }
    }

    public var id: ID
    public var organisation: OrganisationID
    public var kind: Kind
    public var name: String
    /// The source address datagrams come from.
    public var address: String
    /// NetFlow v9 source id / IPFIX observation domain; nil for all (exporters only).
    public var domain: UInt32?
    /// RADIUS shared secret, sealed; nil for exporters.
    public var sealedSecret: [UInt8]?
    public var createdAt: Date

    public init(
        id: ID = ID(), organisation: OrganisationID, kind: Kind, name: String, address: String, domain: UInt32? = nil,
        sealedSecret: [UInt8]? = nil, createdAt: Date = Date()
    ) {
        self.id = id
        self.organisation = organisation
        self.kind = kind
        self.name = name
        self.address = address
        self.domain = domain
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
    }
}

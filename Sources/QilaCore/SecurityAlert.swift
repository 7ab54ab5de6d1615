public import Foundation

public typealias AlertID = Identifier<SecurityAlert>

/// What detection found in an organisation's telemetry, as analysts triage it: one row per rule
/// and host (or account) within a grouping window, counting every occurrence and keeping the
/// first events as evidence.
public struct SecurityAlert: Sendable, Hashable, Codable, Identifiable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A Sigma rule fired.
        case rule
        /// An indicator of compromise was seen.
        case indicator
        /// A Sigma correlation rule fired over several events.
        case correlation
        /// Volume outside its baseline, or a value never seen before.
        case anomaly
        /// The same rule or indicator fired in several organisations within a window.
        case campaign
    }

    public enum Status: String, Sendable, Codable, CaseIterable {
        case new
        case acknowledged
        case dismissed
        case promoted
    }

    public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
        case informational, low, medium, high, critical

        var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    public var id: AlertID
    public var organisation: OrganisationID
    public var sensor: Sensor.ID?
    public var kind: Kind
    /// The rule's id (or file), the indicator's text, the anomaly's measure, the campaign's rule.
    public var rule: String
    public var title: String
    public var severity: Severity
    /// What the occurrences are grouped by: the host or account, or the rule alone.
    public var groupKey: String
    public var host: String?
    public var account: String?
    public var firstAt: Date
    public var lastAt: Date
    public var count: Int64
    /// The fields that matched in the first occurrence.
    public var fields: [AlertField]
    public var status: Status
    /// The reason given when dismissed, or the note when acknowledged.
    public var reason: String?
    public var triagedBy: UserID?
    public var triagedAt: Date?
    public var caseID: CaseID?
    /// The national campaign alert this alert belongs to.
    public var campaign: AlertID?
    /// For anomalies: the baseline and the distance from it, in words and numbers.
    public var explanation: String?

    public init(
        id: AlertID = AlertID(), organisation: OrganisationID, sensor: Sensor.ID?, kind: Kind, rule: String, title: String,
        severity: Severity, groupKey: String, host: String? = nil, account: String? = nil, firstAt: Date, lastAt: Date, count: Int64 = 1,
        fields: [AlertField] = [], status: Status = .new, reason: String? = nil, triagedBy: UserID? = nil, triagedAt: Date? = nil,
        caseID: CaseID? = nil, campaign: AlertID? = nil, explanation: String? = nil
    ) {
        self.id = id
        self.organisation = organisation
        self.sensor = sensor
        self.kind = kind
        self.rule = rule
        self.title = title
        self.severity = severity
        self.groupKey = groupKey
        self.host = host
        self.account = account
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.count = count
        self.fields = fields
        self.status = status
        self.reason = reason
        self.triagedBy = triagedBy
        self.triagedAt = triagedAt
        self.caseID = caseID
        self.campaign = campaign
        self.explanation = explanation
    }
}

public struct AlertField: Sendable, Hashable, Codable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One occurrence kept as evidence: when it arrived and the event as received.
public struct AlertEvidence: Sendable, Hashable, Codable {
    public var alert: AlertID
    public var sequence: Int
    public var receivedAt: Date
    public var event: String
    public var fields: [AlertField]

    public init(alert: AlertID, sequence: Int, receivedAt: Date, event: String, fields: [AlertField]) {
        self.alert = alert
        self.sequence = sequence
        self.receivedAt = receivedAt
        self.event = event
        self.fields = fields
    }
}

/// A Sigma rule as the authority manages it: uploaded text, whether it runs, what lint said.
public struct DetectionRule: Sendable, Hashable, Codable, Identifiable {
    /// The rule's own `id`, or a hash of its text when it has none.
    public var id: String
    public var title: String
    public var level: String?
    public var file: String
    public var yaml: String
    public var enabled: Bool
    /// Lint findings (empty when the rule loads and compiles for every mapping in use).
    public var problems: [String]
    public var uploadedAt: Date
    public var uploadedBy: UserID?

    public init(
        id: String, title: String, level: String?, file: String, yaml: String, enabled: Bool = true, problems: [String] = [],
        uploadedAt: Date = Date(), uploadedBy: UserID?
    ) {
        self.id = id
        self.title = title
        self.level = level
        self.file = file
        self.yaml = yaml
        self.enabled = enabled
        self.problems = problems
        self.uploadedAt = uploadedAt
        self.uploadedBy = uploadedBy
    }
}

import QilaDetect

/// What intake reads from every event of a format besides what rules read: the event's type
/// (for volume baselines), the host and account (for grouping alerts) and the pairs whose first
/// appearance is worth an alert (a new program on a host, a new network for an account).
struct EntityProfile: Sendable {
    struct FirstSeen: Sendable {
        /// Stored kind, e.g. `program-on-host`.
        var kind: String
        /// Index into `fields` of the subject (host, account) and of the value.
        var subject: Int
        var value: Int
        /// How the value is reduced before comparing (an address to its network).
        var reduce: Reduction
    }

    /// What each first-seen kind means, for alert titles.
    static let firstSeenTitles = [
        "program-on-host": "New program on a host", "destination-of-host": "New destination for a host",
        "network-of-account": "New source network for an account",
    ]

    enum Reduction: Sendable {
        case none
        /// IPv4 to its /24, IPv6 to its /48.
        case network
        /// Lower-cased (Windows paths).
        case lowercased
    }

    /// Sigma field names kept from every event.
    var fields: [String]
    /// Fields joined by `/` to make the event's type.
    var typeFields: [Int]
    var hostFields: [Int]
    var accountFields: [Int]
    var firstSeen: [FirstSeen]

    static func forMapping(_ mapping: String) -> EntityProfile {
        if mapping.hasPrefix("windows") || mapping.hasPrefix("ecs-windows") {
            return EntityProfile(
                fields: ["Channel", "EventID", "Computer", "User", "SubjectUserName", "TargetUserName", "Image", "DestinationIp"],
                typeFields: [0, 1], hostFields: [2], accountFields: [3, 5, 4],
                firstSeen: [
                    FirstSeen(kind: "program-on-host", subject: 2, value: 6, reduce: .lowercased),
                    FirstSeen(kind: "destination-of-host", subject: 2, value: 7, reduce: .none),
                ])
        }
        if mapping.hasPrefix("aws") {
            return EntityProfile(
                fields: ["eventSource", "eventName", "userIdentity.arn", "sourceIPAddress", "recipientAccountId"],
                typeFields: [0], hostFields: [], accountFields: [2],
                firstSeen: [
                    FirstSeen(kind: "network-of-account", subject: 2, value: 3, reduce: .network)
                ])
        }
        if mapping != "linux-syslog", let entity = (try? FieldMapping.named(mapping))?.entity {
            // Declared by the mapping file: type, host and account fields in that order.
            let fields = entity.type + entity.host + entity.account
            let host = entity.type.count..<(entity.type.count + entity.host.count)
            return EntityProfile(
                fields: fields, typeFields: Array(0..<entity.type.count), hostFields: Array(host), accountFields: Array(host.upperBound..<fields.count),
                firstSeen: [])
        }
        return EntityProfile(
            fields: ["app", "host", "user"], typeFields: [0], hostFields: [1], accountFields: [2],
            firstSeen: [FirstSeen(kind: "program-on-host", subject: 1, value: 0, reduce: .none)])
    }

    static func reduce(_ value: String, _ reduction: Reduction) -> String? {
        switch reduction {
        case .none: return value
        case .lowercased: return value.lowercased()
        case .network:
            if value.contains(":") {
                // IPv6: the first three groups (a /48), written as given.
                let groups = value.split(separator: ":", omittingEmptySubsequences: false)
                guard groups.count >= 3, !groups[0].isEmpty else { return nil }
                return groups.prefix(3).joined(separator: ":") + "::/48"
            }
            let octets = value.split(separator: ".")
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
            return octets.prefix(3).joined(separator: ".") + ".0/24"
        }
    }
}

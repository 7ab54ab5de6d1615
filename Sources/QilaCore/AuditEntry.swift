public import Foundation

/// One record of the tamper-evident audit log. Its canonical encoding (`canonicalBytes`) is the
/// Merkle tree leaf, so every field here is covered by the signed tree heads.
public struct AuditEntry: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case success
        case denied
        case failure
    }

    /// Position in the log, from 0, without gaps.
    public var index: Int64
    public var time: Date
    /// Who acted: a user id, `system`, or `anonymous`.
    public var actor: String
    public var actorOrganisation: OrganisationID?
    /// Dotted verb, such as `auth.sign-in`, `policy.deny`, `admin.user.create`.
    public var action: String
    public var outcome: Outcome
    /// What was acted on, such as `user:<id>` or `organisation:<id>`; empty if nothing.
    public var resource: String
    public var sourceAddress: String?
    /// Further facts, never secrets or personal data.
    public var details: [String: String]

    public init(
        index: Int64 = -1, time: Date, actor: String, actorOrganisation: OrganisationID? = nil, action: String,
        outcome: Outcome, resource: String = "", sourceAddress: String? = nil, details: [String: String] = [:]
    ) {
        self.index = index
        self.time = time
        self.actor = actor
        self.actorOrganisation = actorOrganisation
        self.action = action
        self.outcome = outcome
        self.resource = resource
        self.sourceAddress = sourceAddress
        self.details = details
    }

    /// The bytes hashed into the Merkle tree: JSON with sorted keys, times in whole milliseconds
    /// since 1970, so the same entry encodes the same way on every node and database.
    public var canonicalBytes: [UInt8] {
        var object: [String: CanonicalValue] = [
            "index": .int(index),
            "time": .int(Int64((time.timeIntervalSince1970 * 1000).rounded())),
            "actor": .string(actor),
            "action": .string(action),
            "outcome": .string(outcome.rawValue),
            "resource": .string(resource),
        ]
        if let actorOrganisation { object["actorOrganisation"] = .string(actorOrganisation.description) }
        if let sourceAddress { object["source"] = .string(sourceAddress) }
        if !details.isEmpty { object["details"] = .object(details.mapValues { .string($0) }) }
        var out: [UInt8] = []
        CanonicalValue.object(object).write(to: &out)
        return out
    }

    /// Times are kept to the millisecond so that they survive every backend unchanged.
    public static func truncatedTime(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}

/// A minimal canonical JSON writer: sorted keys, no insignificant white space.
enum CanonicalValue {
    case string(String)
    case int(Int64)
    indirect case object([String: CanonicalValue])

    func write(to out: inout [UInt8]) {
        switch self {
        case .int(let value):
            out.append(contentsOf: String(value).utf8)
        case .string(let value):
            out.append(0x22)
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out.append(contentsOf: [0x5C, 0x22])
                case "\\": out.append(contentsOf: [0x5C, 0x5C])
                case "\n": out.append(contentsOf: [0x5C, 0x6E])
                case "\r": out.append(contentsOf: [0x5C, 0x72])
                case "\t": out.append(contentsOf: [0x5C, 0x74])
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out.append(contentsOf: "\\u\(String(repeating: "0", count: 4 - hex.count))\(hex)".utf8)
                    } else {
                        out.append(contentsOf: String(scalar).utf8)
                    }
                }
            }
            out.append(0x22)
        case .object(let members):
            out.append(0x7B)
            for (offset, key) in members.keys.sorted().enumerated() {
                if offset > 0 { out.append(0x2C) }
                CanonicalValue.string(key).write(to: &out)
                out.append(0x3A)
                members[key]!.write(to: &out)
            }
            out.append(0x7D)
        }
    }
}

/// A signed statement of the log's size and root hash at a moment (RFC 9162 section 4.10, in spirit).
public struct SignedTreeHead: Sendable, Hashable, Codable {
    public var treeSize: Int64
    /// SHA-256 root hash of the first `treeSize` entries, lower-case hexadecimal.
    public var rootHash: String
    public var time: Date
    /// Ed25519 signature over `signedBytes`, base64.
    public var ed25519Signature: String
    /// ML-DSA-65 (FIPS 204) signature over `signedBytes`, base64.
    public var mldsa65Signature: String

    public init(treeSize: Int64, rootHash: String, time: Date, ed25519Signature: String, mldsa65Signature: String) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.time = time
        self.ed25519Signature = ed25519Signature
        self.mldsa65Signature = mldsa65Signature
    }

    /// What the signatures cover: a fixed text form, so that any tool can check it.
    public var signedBytes: [UInt8] {
        let millis = Int64((time.timeIntervalSince1970 * 1000).rounded())
        return Array("qila-audit-tree-head/v1\n\(treeSize)\n\(rootHash)\n\(millis)\n".utf8)
    }
}

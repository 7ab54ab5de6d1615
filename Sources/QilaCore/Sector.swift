/// A sector's short name, such as `telecom`; lower case letters, digits and hyphens.
public struct SectorID: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// True when the name is 2 to 40 characters of `a-z`, `0-9` and `-`, starting with a letter.
    public var isWellFormed: Bool {
        let bytes = Array(rawValue.utf8)
        guard (2...40).contains(bytes.count), let first = bytes.first, (0x61...0x7A).contains(first) else {
            return false
        }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}

/// A sector of the economy under oversight. The defaults ship with Qila; the authority may add more.
public struct Sector: Sendable, Codable, Hashable, Identifiable {
    public var id: SectorID
    public var name: String

    public init(id: SectorID, name: String) {
        self.id = id
        self.name = name
    }

    public static let defaults: [Sector] = [
        Sector(id: "telecom", name: "Telecommunications"),
        Sector(id: "banking-finance", name: "Banking and finance"),
        Sector(id: "energy", name: "Energy"),
        Sector(id: "health", name: "Health"),
        Sector(id: "government", name: "Government"),
        Sector(id: "transport", name: "Transport"),
        Sector(id: "water", name: "Water"),
        Sector(id: "it-services", name: "IT services"),
        Sector(id: "other", name: "Other"),
    ]
}

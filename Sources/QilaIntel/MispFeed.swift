public import Foundation
public import QilaAccess
public import QilaCore
import Crypto
import QilaDetect
import QilaStore

/// A collection as a MISP feed (the format MISP's feed fetcher reads: `manifest.json`, `hashes.csv`
/// and one `{uuid}.json` per event), as one reader may see it. Indicators whose pattern names one
/// value become attributes; they are grouped into one event per producer, day added and TLP
/// marking, whose identifiers are derived from those, so a feed read twice names the same events.
public struct MispFeed: Sendable {
    /// `manifest.json`: each event's summary, by uuid.
    public var manifest: JSONValue
    /// `hashes.csv`: the MD5 of each attribute's value and its event's uuid.
    public var hashes: String
    /// Each event as `{"Event": {...}}`, by uuid.
    public var events: [String: JSONValue]
}

extension IntelDesk {
    /// The feed of a collection for the subject, who must be able to read it.
    public func mispFeed(collection collectionID: String, for subject: Subject, now: Date = Date()) async throws -> MispFeed {
        guard let record = try await store.intelCollection(id: collectionID) else { throw QilaError(.notFound, "no such collection") }
        let collection = try await collection(collectionID, root: record.root, for: subject)
        guard collection.canRead else { throw QilaError(.forbidden, "this account may add to the collection but not read it") }
        let organisations = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0) })
        var query = Query()
        query.limit = Self.maximumPage
        query.types = ["indicator"]
        struct Key: Hashable {
            var producer: OrganisationID
            var day: Int64
            var tlp: Int
        }
        var grouped: [Key: [(record: IntelObjectRecord, value: JSONValue)]] = [:]
        while true {
            let page = try await objects(query, in: collectionID, root: record.root, for: subject, now: now)
            for (row, body) in zip(page.records, page.bodies) {
                guard let value = try? JSONValue.decode(body) else { continue }
                grouped[Key(producer: row.producer, day: row.dateAdded / 86_400_000_000, tlp: row.tlp), default: []].append((row, value))
            }
            guard page.more, let next = page.next else { break }
            query.next = next
        }
        var manifest: [String: JSONValue] = [:]
        var hashes: [String] = []
        var events: [String: JSONValue] = [:]
        for (key, rows) in grouped.sorted(by: { ($0.key.day, $0.key.producer.description, $0.key.tlp) < ($1.key.day, $1.key.producer.description, $1.key.tlp) }) {
            let uuid = Self.derivedUUID("misp-event|\(collectionID)|\(key.producer)|\(key.day)|\(key.tlp)")
            let tlp = TLP.allCases.first { $0.rank == key.tlp } ?? .amber
            let tag: JSONValue = .object(["name": .string(Self.mispTag(tlp)), "colour": .string(Self.mispColour(tlp))])
            let producer = organisations[key.producer]
            let organisation: JSONValue = .object([
                "name": .string(producer?.name ?? "?"), "uuid": .string(Self.derivedUUID("misp-org|\(key.producer)")),
            ])
            let date = String(RFC3339.format(Date(timeIntervalSince1970: Double(key.day) * 86_400)).prefix(10))
            var attributes: [JSONValue] = []
            var latest: Int64 = 0
            for (row, value) in rows {
                guard let pattern = value["pattern"]?.string, value["pattern_type"]?.string == "stix",
                    let parsed = try? StixPattern.parse(pattern), let (type, category, text) = Self.mispAttribute(parsed)
                else { continue }
                latest = max(latest, row.dateAdded / 1_000_000)
                let attributeUUID = row.id.hasPrefix("indicator--") ? String(row.id.dropFirst(11)) : Self.derivedUUID(row.id)
                attributes.append(
                    .object([
                        "uuid": .string(attributeUUID), "type": .string(type), "category": .string(category), "value": .string(text),
                        "to_ids": .bool(!row.revoked), "comment": .string(row.name ?? ""), "timestamp": .string(String(row.dateAdded / 1_000_000)),
                        "Tag": .array([tag]),
                    ]))
                hashes.append("\(Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()),\(uuid)")
            }
            guard !attributes.isEmpty else { continue }
            let info = "\(producer?.name ?? "?"): \(attributes.count) indicator\(attributes.count == 1 ? "" : "s") shared on \(date) (\(tlp.slug.uppercased()))"
            let common: [String: JSONValue] = [
                "info": .string(info), "Orgc": organisation, "Tag": .array([tag]), "date": .string(date), "analysis": .string("2"),
                "threat_level_id": .string("2"), "timestamp": .string(String(latest)),
            ]
            manifest[uuid] = .object(common)
            var event = common
            event["uuid"] = .string(uuid)
            event["published"] = .bool(true)
            event["publish_timestamp"] = .string(String(latest))
            event["Attribute"] = .array(attributes)
            events[uuid] = .object(["Event": .object(event)])
        }
        return MispFeed(manifest: .object(manifest), hashes: hashes.joined(separator: "\n") + (hashes.isEmpty ? "" : "\n"), events: events)
    }

    /// A version-4-shaped UUID derived from `text` (the same text, the same UUID).
    static func derivedUUID(_ text: String) -> String {
        var bytes = Array(SHA256.hash(data: Data(text.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.map(String.init).joined(separator: "-")
    }

    static func mispTag(_ tlp: TLP) -> String { "tlp:" + tlp.slug }

    static func mispColour(_ tlp: TLP) -> String {
        switch tlp {
        case .clear: "#ffffff"
        case .green: "#33ff00"
        case .amber, .amberStrict: "#ffc000"
        case .red: "#ff0033"
        }
    }

    /// A one-value pattern as a MISP attribute (type, category, value); nil for anything else.
    static func mispAttribute(_ pattern: StixPattern) -> (String, String, String)? {
        switch pattern {
        case .equals(.domain, let value): ("domain", "Network activity", value)
        case .inNetwork(.domain, let value): ("domain", "Network activity", value)
        case .equals(.url, let value): ("url", "Network activity", value)
        case .equals(.email, let value): ("email-src", "Payload delivery", value)
        case .equals(.md5, let value): ("md5", "Payload delivery", value)
        case .equals(.sha1, let value): ("sha1", "Payload delivery", value)
        case .equals(.sha256, let value): ("sha256", "Payload delivery", value)
        case .inNetwork(let kind, let value) where kind == .ipv4 || kind == .ipv6: ("ip-dst", "Network activity", value)
        case .equals(let kind, let value) where kind == .ipv4 || kind == .ipv6: ("ip-dst", "Network activity", value)
        default: nil
        }
    }
}

import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

/// A MISP feed served from a dictionary of files (`manifest.json`, `{uuid}.json`), recording
/// what was asked. PyMISP's own feed files are read by the end-to-end test; this one checks the
/// cursor and the conversion decisions one by one.
actor ScriptedFeed: TaxiiTransport {
    var files: [String: JSONValue]
    var asked: [String] = []
    var headers: [String] = []

    init(files: [String: JSONValue]) {
        self.files = files
    }

    func set(_ file: String, _ value: JSONValue?) { files[file] = value }

    nonisolated func get(_ url: URL, accept: String, username: String, password: String, trust: String?) async throws -> TaxiiAnswer {
        try await answer(url.lastPathComponent, auth: username.isEmpty ? "" : "\(username):\(password)")
    }

    func answer(_ file: String, auth: String) throws -> TaxiiAnswer {
        asked.append(file)
        headers.append(auth)
        guard let value = files[file] else { return TaxiiAnswer(status: 404, body: Array("Not Found".utf8)) }
        return TaxiiAnswer(status: 200, body: try value.encoded())
    }

    func reset() { asked = [] }
}

@Suite("MISP feeds: events read as STIX, polled from a cursor into a collection")
struct MispFeedSubscriptionTests {
    static let eventA = "5f6e2a1c-0c7b-4b59-a8f1-2d1c7a3e9b10"
    static let eventB = "0b9d6c2e-77a4-4c8e-9f3b-6e1d2a4c8b21"
    static let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    static func attribute(_ uuid: Int, _ type: String, _ value: String, ids: Bool = true, timestamp: String = "1790000000", extra: [String: JSONValue] = [:])
        -> JSONValue
    {
        var object: [String: JSONValue] = [
            "uuid": .string(Stix.uuid(uuid)), "type": .string(type), "value": .string(value), "category": .string("Network activity"),
            "to_ids": .bool(ids), "timestamp": .string(timestamp),
        ]
        object.merge(extra) { $1 }
        return .object(object)
    }

    static func event(_ uuid: String, info: String, timestamp: String, tlp: String = "tlp:green", attributes: [JSONValue]) -> JSONValue {
        .object([
            "Event": .object([
                "uuid": .string(uuid), "info": .string(info), "date": .string("2026-09-20"), "timestamp": .string(timestamp),
                "publish_timestamp": .string(timestamp), "Orgc": .object(["name": .string("CERT Abroad"), "uuid": .string(Stix.uuid(900))]),
                "Tag": .array([.object(["name": .string(tlp)])]), "Attribute": .array(attributes),
            ])
        ])
    }

    static var first: JSONValue {
        event(
            eventA, info: "Phishing wave", timestamp: "1790000100",
            attributes: [
                attribute(1, "ip-dst", "203.0.113.7"),
                attribute(2, "domain", "Evil.Example", extra: ["comment": .string("C2 domain")]),
                attribute(3, "filename|sha256", "drop.exe|\(sha)"),
                attribute(4, "ip-src", "198.51.100.0/24"),
                attribute(5, "text", "context only", ids: false),
                attribute(6, "regkey", "HKLM\\Software\\Evil"),
                attribute(7, "url", "http://evil.example/it's", extra: ["Tag": .array([.object(["name": .string("tlp:red")])])]),
                attribute(8, "ip-dst", "not an address"),
            ])
    }

    @Test("An event's attributes for detection become indicators with the attribute's uuid and marking; the event a report")
    func conversion() throws {
        let converted = try MispEvents.stix(Self.first, file: "\(Self.eventA).json")
        #expect(converted.indicators == 5 && converted.tlp == .green)
        #expect(converted.skipped == ["not for detection": 1, "type regkey": 1, "type ip-dst": 1])
        let byID = Dictionary(uniqueKeysWithValues: converted.objects.map { ($0["id"]!.string!, $0) })
        #expect(byID["indicator--\(Stix.uuid(1))"]?["pattern"]?.string == "[ipv4-addr:value = '203.0.113.7']")
        #expect(byID["indicator--\(Stix.uuid(2))"]?["pattern"]?.string == "[domain-name:value = 'evil.example']")
        #expect(byID["indicator--\(Stix.uuid(2))"]?["name"]?.string == "C2 domain")
        #expect(byID["indicator--\(Stix.uuid(3))"]?["pattern"]?.string == "[file:hashes.'SHA-256' = '\(Self.sha)']")
        #expect(byID["indicator--\(Stix.uuid(4))"]?["pattern"]?.string == "[ipv4-addr:value ISSUBSET '198.51.100.0/24']")
        #expect(byID["indicator--\(Stix.uuid(7))"]?["pattern"]?.string == #"[url:value = 'http://evil.example/it\'s']"#)
        // Every object is valid STIX 2.1 as this server checks it, marked as the tags say.
        let objects = try converted.objects.enumerated().map { try StixObject($0.element, index: $0.offset) }
        #expect(objects.first { $0.id == "indicator--\(Stix.uuid(7))" }?.tlp == .red)
        #expect(objects.first { $0.id == "indicator--\(Stix.uuid(1))" }?.tlp == .green)
        let report = try #require(objects.first { $0.type == "report" })
        #expect(report.id == "report--\(Self.eventA)" && report.name == "Phishing wave" && report.version?.text == "2026-09-21T14:15:00.000000Z")
        #expect(report.body["object_refs"]?.array?.count == 5)

        // A deleted attribute is a revoked version; an event without uuid or title is refused, named.
        let deleted = try MispEvents.stix(
            Self.event(Self.eventA, info: "x", timestamp: "1790000200", attributes: [Self.attribute(1, "ip-dst", "203.0.113.7", timestamp: "1790000200", extra: ["deleted": .bool(true)])]))
        #expect(deleted.objects.first?["revoked"] == .bool(true))
        #expect(Self.refusal(.object(["Event": .object(["info": .string("no uuid")])])) == "e.json: Event.uuid")
        #expect(Self.refusal(.object(["Event": .object(["uuid": .string(Self.eventB)])])) == "e.json: Event.info")
        #expect(Self.refusal(.array([])) == "e.json")
    }

    static func refusal(_ value: JSONValue) -> String? {
        let result: Result<MispEvents.Converted, QilaError> = Result { () throws(QilaError) in try MispEvents.stix(value, file: "e.json") }
        guard case .failure(let error) = result else { return nil }
        return error.location
    }

    @Test("A feed is polled from its cursor: changed events only, each version once, with the peer as source; no credentials for a public feed")
    func polling() async throws {
        let setup = try await IntelDeskTests.setup()
        let manifest: JSONValue = .object([
            Self.eventA: .object(["info": .string("Phishing wave"), "timestamp": .string("1790000100")]),
            Self.eventB: .object(["info": .string("Broken"), "timestamp": .string("1790000050")]),
        ])
        let feed = ScriptedFeed(files: [
            "manifest.json": manifest, "\(Self.eventA).json": Self.first,
            "\(Self.eventB).json": .object(["Event": .object(["uuid": .string(Self.eventB), "timestamp": .string("1790000050")])]),
        ])
        let desk = IntelPeerDesk(intel: setup.desk, secrets: setup.world.installation.secrets, transport: feed)
        let admin = try #require(setup.world.users["admin"])
        let record = try await desk.subscribe(
            .init(
                name: "circl", url: "https://feeds.example/misp/manifest.json", format: "misp-feed", collection: "National sharing", username: "",
                password: "", interval: "3600"), account: admin, by: setup.world.subject("admin"))
        #expect(record.url == "https://feeds.example/misp/" && record.format == "misp-feed" && record.sealedPassword.isEmpty)

        let first = try await desk.poll(record, now: FixedInstant.thursdayAfternoon.date)
        #expect(first.error == nil && first.added == 6 && first.skipped == 3 && first.refused == 1 && first.cursor == "1790000100")
        #expect(first.firstRefusal?.contains("Event.info") == true)
        // The older event first; no Authorization for a public feed.
        #expect(await feed.asked == ["manifest.json", "\(Self.eventB).json", "\(Self.eventA).json"])
        #expect(await feed.headers.allSatisfy(\.isEmpty))
        let bank = try await setup.desk.objects(IntelDesk.Query(), in: record.localCollection, root: "national", for: setup.world.subject("bank-admin"))
        // The RED indicator is not for them; the others are, from the peer.
        #expect(bank.records.count == 5 && bank.records.allSatisfy { $0.source == "peer:circl" })
        #expect(try await setup.desk.search("evil.example", for: setup.world.subject("bank-admin")).map(\.id).contains("indicator--\(Stix.uuid(2))"))

        // Nothing changed: only the manifest is read. Then one event changes: only it is fetched, only new versions stored.
        await feed.reset()
        let idle = try await desk.poll(try await desk.peer(named: "circl"), now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(3600))
        #expect(idle.added == 0)
        #expect(await feed.asked == ["manifest.json"])
        let changed = Self.event(
            Self.eventA, info: "Phishing wave", timestamp: "1790000300",
            attributes: [
                Self.attribute(1, "ip-dst", "203.0.113.7"), Self.attribute(2, "domain", "evil.example", timestamp: "1790000300", extra: ["deleted": .bool(true)]),
            ])
        await feed.set("\(Self.eventA).json", changed)
        await feed.set("manifest.json", .object([Self.eventA: .object(["timestamp": .string("1790000300")]), Self.eventB: .object(["timestamp": .string("1790000050")])]))
        await feed.reset()
        let second = try await desk.poll(try await desk.peer(named: "circl"), now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(7200))
        #expect(await feed.asked == ["manifest.json", "\(Self.eventA).json"])
        // The revoked domain and the report's new version; the unchanged address is not stored twice.
        #expect(second.added == 2 && second.cursor == "1790000300")
        let peer = try await desk.peer(named: "circl")
        #expect(peer.objects == 8 && peer.cursor == "1790000300" && peer.lastError == nil)

        // An event the manifest lists but the feed lacks (or cannot be read) is refused and counted; the poll goes on.
        let eventC = "3c1f0a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
        await feed.set(
            "manifest.json",
            .object([
                Self.eventA: .object(["timestamp": .string("1790000300")]), eventC: .object(["timestamp": .string("1790000400")]),
            ]))
        let missing = try await desk.poll(try await desk.peer(named: "circl"), now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(9000))
        #expect(missing.error == nil && missing.refused == 1 && missing.cursor == "1790000400")
        #expect(missing.firstRefusal?.contains("no such file (404)") == true)

        // A feed that is gone fails the poll, says so, and keeps the cursor.
        await feed.set("manifest.json", nil)
        let gone = try await desk.poll(try await desk.peer(named: "circl"), now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(10_800))
        #expect(gone.error == "the feed has no manifest.json (404)")
        #expect(try await desk.peer(named: "circl").cursor == "1790000400")
    }

    @Test("A feed subscription names what is wrong")
    func refused() async throws {
        let setup = try await IntelDeskTests.setup()
        let desk = IntelPeerDesk(intel: setup.desk, secrets: setup.world.installation.secrets, transport: ScriptedFeed(files: [:]))
        let admin = try #require(setup.world.users["admin"])
        func field(format: String = "misp-feed", url: String = "https://feeds.example/x/", username: String = "", password: String = "") async -> String? {
            do {
                _ = try await desk.subscribe(
                    .init(name: "f", url: url, format: format, collection: "National sharing", username: username, password: password), account: admin, by: nil)
                return nil
            } catch let error as QilaError {
                return error.field
            } catch {
                return "\(error)"
            }
        }
        #expect(await field(format: "stix") == "format")
        #expect(await field(username: "u") == "password")
        #expect(await field(password: "p") == "username")
        #expect(await field(url: "http://feeds.example/x/") == "url")
        #expect(await field(format: "taxii") == "url")  // a feed's address is not a TAXII collection's
        #expect(await field(username: "u", password: "p") == nil)
    }
}

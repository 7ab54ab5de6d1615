import Foundation
import QilaCore
import Testing

@Suite("Domain model")
struct DomainTests {
    @Test("TLP markings order from CLEAR to RED and parse the usual spellings")
    func tlp() {
        #expect(TLP.allCases.sorted() == [.clear, .green, .amber, .amberStrict, .red])
        #expect(TLP.amber < TLP.amberStrict)
        #expect(TLP(label: "amber+strict") == .amberStrict)
        #expect(TLP(label: "TLP:AMBER-STRICT") == .amberStrict)
        #expect(TLP(label: "white") == .clear, "TLP 1.0's WHITE is 2.0's CLEAR")
        #expect(TLP(label: "TLP:RED") == .red)
        #expect(TLP(label: "purple") == nil)
    }

    @Test("sector names are short, lower-case and hyphenated")
    func sectors() {
        #expect(SectorID(rawValue: "banking-finance").isWellFormed)
        #expect(!SectorID(rawValue: "Banking").isWellFormed)
        #expect(!SectorID(rawValue: "x").isWellFormed)
        #expect(!SectorID(rawValue: "9lives").isWellFormed)
        #expect(Set(Sector.defaults.map(\.id)).count == Sector.defaults.count)
        #expect(Sector.defaults.allSatisfy { $0.id.isWellFormed })
    }

    @Test("an audit entry's canonical bytes are stable, sorted and escape what JSON must")
    func canonicalBytes() throws {
        let organisation = OrganisationID(UUID(uuidString: "00000000-0000-0000-0000-000000000001")!)
        let entry = AuditEntry(
            index: 7, time: Date(timeIntervalSince1970: 1_800_000_000.1234), actor: "user \"q\"", actorOrganisation: organisation,
            action: "auth.sign-in", outcome: .denied, resource: "user:1", sourceAddress: "192.0.2.1",
            details: ["z": "line\nbreak", "a": "tab\there"])
        let text = String(decoding: entry.canonicalBytes, as: UTF8.self)
        #expect(
            text
                == #"{"action":"auth.sign-in","actor":"user \"q\"","actorOrganisation":"00000000-0000-0000-0000-000000000001","details":{"a":"tab\there","z":"line\nbreak"},"index":7,"outcome":"denied","resource":"user:1","source":"192.0.2.1","time":1800000000123}"#
        )
        let parsed = try JSONSerialization.jsonObject(with: Data(entry.canonicalBytes)) as? [String: Any]
        #expect(parsed?["actor"] as? String == "user \"q\"")
        var changed = entry
        changed.outcome = .success
        #expect(changed.canonicalBytes != entry.canonicalBytes)
    }

    @Test("identifiers are typed and print in lower case")
    func identifiers() throws {
        let id = try #require(UserID("6F9619FF-8B86-D011-B42D-00CF4FC964FF"))
        #expect(id.description == "6f9619ff-8b86-d011-b42d-00cf4fc964ff")
        #expect(UserID("not-a-uuid") == nil)
        let encoded = try JSONEncoder().encode(id)
        #expect(try JSONDecoder().decode(UserID.self, from: encoded) == id)
    }

    @Test("authority roles, and every role has a title")
    func roles() {
        #expect(Role.allCases.count == 10)
        #expect(Role.allCases.allSatisfy { !$0.title.isEmpty })
        #expect(Role(rawValue: "organisation-reporter") == .organisationReporter)
    }
}

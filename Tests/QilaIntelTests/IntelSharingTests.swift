import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

@Suite("Sharing from cases and files: observables become indicators, uploads become objects")
struct IntelSharingTests {
    static func material(_ setup: IntelDeskTests.Setup, tlp: TLP = .amber) -> IntelDesk.CaseMaterial {
        IntelDesk.CaseMaterial(
            id: "7c0e3f0a-91d2-4b51-9e8e-3a6f5d0c2b14", number: "CASE-2026-0042", title: "Ransomware at the billing system",
            summary: "Billing servers encrypted after a phishing e-mail.", tlp: tlp, organisation: setup.world.operatorA.id,
            created: FixedInstant.thursdayAfternoon.date.addingTimeInterval(-86_400),
            observables: [
                Observable(kind: .ipv4, value: "203.0.113.50"), Observable(kind: .domain, value: "pay-update.example"),
                Observable(kind: .sha256, value: String(repeating: "b", count: 64)), Observable(kind: .email, value: "billing@phish.example"),
                Observable(kind: .host, value: "opa-bill-01"), Observable(kind: .account, value: "svc-billing"),
            ])
    }

    static func field(_ work: () async throws -> Void) async -> String? {
        do {
            try await work()
            return nil
        } catch let error as QilaError {
            return error.field ?? error.code.rawValue
        } catch {
            return "\(error)"
        }
    }

    @Test("The reporter shares its case's observables as indicators under a lighter marking; sharing again gives versions, not copies")
    func shareIndicators() async throws {
        let setup = try await IntelDeskTests.setup()
        let now = FixedInstant.thursdayAfternoon.date
        let (status, left) = try await setup.desk.share(
            Self.material(setup), as: "indicators", marking: "green", into: setup.national, by: setup.world.subject("a-admin"), now: now)
        #expect(status.successes.count == 4 && status.failures.isEmpty && left == 2)
        // Another operator's detection and search see them, from the case.
        let seen = try await setup.desk.objects(IntelDesk.Query(), in: setup.national, root: "national", for: setup.world.subject("b-admin"))
        #expect(seen.records.count == 4 && seen.records.allSatisfy { $0.type == "indicator" && $0.source == "case:CASE-2026-0042" && $0.tlp == TLP.green.rank })
        let patterns = Set(seen.bodies.compactMap { try? JSONValue.decode($0)["pattern"]?.string })
        #expect(
            patterns == [
                "[ipv4-addr:value = '203.0.113.50']", "[domain-name:value = 'pay-update.example']",
                "[file:hashes.'SHA-256' = '\(String(repeating: "b", count: 64))']", "[email-addr:value = 'billing@phish.example']",
            ])
        // Shared again an hour later: the same four objects, each with a second version.
        let again = try await setup.desk.share(
            Self.material(setup), as: "indicators", marking: "green", into: setup.national, by: setup.world.subject("a-admin"), now: now.addingTimeInterval(3600))
        #expect(Set(again.status.successes.map(\.id)) == Set(status.successes.map(\.id)))
        var all = IntelDesk.Query()
        all.versions = [.all]
        #expect(try await setup.desk.objects(all, in: setup.national, root: "national", for: setup.world.subject("b-admin")).records.count == 8)
    }

    @Test("A report carries the case's title and summary; the marking cannot be lighter than the reporter's unless the reporter shares")
    func shareReport() async throws {
        let setup = try await IntelDeskTests.setup()
        let now = FixedInstant.thursdayAfternoon.date
        // The authority shares an AMBER case: GREEN is refused, AMBER accepted.
        #expect(
            await Self.field {
                _ = try await setup.desk.share(Self.material(setup), as: "report", marking: "green", into: setup.national, by: setup.world.subject("admin"), now: now)
            } == "marking")
        let (status, _) = try await setup.desk.share(
            Self.material(setup), as: "report", marking: "amber", into: setup.national, by: setup.world.subject("admin"), now: now)
        #expect(status.successes.count == 5)
        let mine = try await setup.desk.objects(IntelDesk.Query(), in: setup.national, root: "national", for: setup.world.subject("admin"))
        let report = try #require(zip(mine.records, mine.bodies).first { $0.0.type == "report" }.flatMap { try? JSONValue.decode($0.1) })
        #expect(report["name"]?.string == "Ransomware at the billing system")
        #expect(report["description"]?.string == "Billing servers encrypted after a phishing e-mail.")
        #expect(report["object_refs"]?.array?.count == 4)
        // AMBER without recipients: other operators do not see it.
        #expect(try await setup.desk.objects(IntelDesk.Query(), in: setup.national, root: "national", for: setup.world.subject("b-admin")).records.isEmpty)

        // What is refused, by field.
        let subject = setup.world.subject("a-admin")
        func share(_ what: String = "indicators", _ marking: String = "amber", _ collection: String? = nil, _ material: IntelDesk.CaseMaterial? = nil) async -> String? {
            await Self.field {
                _ = try await setup.desk.share(material ?? Self.material(setup), as: what, marking: marking, into: collection ?? setup.national, by: subject, now: now)
            }
        }
        #expect(await share("everything") == "what")
        #expect(await share("indicators", "red") == "marking")
        #expect(await share("indicators", "purple") == "marking")
        #expect(await share("indicators", "amber", "nonexistent") == "collection")
        var hostsOnly = Self.material(setup)
        hostsOnly.observables = [Observable(kind: .host, value: "opa-bill-01")]
        #expect(await share("indicators", "amber", nil, hostsOnly) == "what")
    }

    @Test("A file becomes objects: a STIX bundle as it is, a MISP event as indicators and a report; anything else is refused, named")
    func importFiles() async throws {
        let setup = try await IntelDeskTests.setup()
        let subject = setup.world.subject("a-admin")
        let bundle: JSONValue = .object([
            "type": .string("bundle"), "id": .string("bundle--\(Stix.uuid(50))"),
            "objects": .array([Stix.indicator(Stix.uuid(51)), .object(["type": .string("indicator"), "id": .string("indicator--nope")])]),
        ])
        let stix = try await setup.desk.importFile(try bundle.encoded(), named: "bundle.json", into: setup.national, by: subject)
        #expect(stix.format == "STIX 2.1" && stix.status.successes.count == 1 && stix.status.failures.count == 1)

        let misp = try await setup.desk.importFile(try MispFeedSubscriptionTests.first.encoded(), named: "event.json", into: setup.national, by: subject)
        #expect(misp.format == "MISP event" && misp.status.successes.count == 6 && misp.skipped == 3)
        let found = try await setup.desk.search("evil.example", for: setup.world.subject("b-admin"))
        #expect(found.contains { $0.id == "indicator--\(Stix.uuid(2))" && $0.source == "misp:event.json" })

        func refused(_ bytes: [UInt8], into collection: String? = nil) async -> String? {
            await Self.field { _ = try await setup.desk.importFile(bytes, named: "x.json", into: collection ?? setup.national, by: subject) }
        }
        #expect(await refused([]) == "file")
        #expect(await refused(Array("not json".utf8)) == "file")
        #expect(await refused(Array(#"{"hello":"world"}"#.utf8)) == "file")
        #expect(await refused(Array(#"{"Event":{"info":"no uuid"}}"#.utf8)) == "file")
        #expect(await refused(try bundle.encoded(), into: "nonexistent") == "collection")
        // An organisation's own collection is not another's to add to.
        let own = try #require(try await setup.desk.collection(of: setup.world.operatorA.id))
        #expect(await Self.field { _ = try await setup.desk.importFile(try bundle.encoded(), named: "b.json", into: own.id, by: setup.world.subject("b-admin")) } == "not-found")
    }

    @Test("Default AMBER recipients are chosen among the collection's readers, not in an organisation's own collection")
    func recipients() async throws {
        let setup = try await IntelDeskTests.setup()
        let world = setup.world
        let subject = world.subject("a-admin")
        let sector = try #require(try await setup.desk.collections(for: subject).first { $0.record.kind == .sector }).record
        let candidates = try await setup.desk.recipientCandidates(sector, for: subject).map(\.name)
        #expect(candidates.contains("Operator B") && candidates.contains("Telecom Regulator") && !candidates.contains("First Bank") && !candidates.contains("Operator A"))
        #expect(
            await Self.field { try await setup.desk.setDefaultRecipients([world.bank.id], collection: sector.id, root: sector.root, by: subject) } == "recipients")
        try await setup.desk.setDefaultRecipients([world.operatorB.id, world.operatorA.id], collection: sector.id, root: sector.root, by: subject)
        // The organisation's own id is dropped: it always reads its own objects.
        #expect(try await setup.desk.defaultRecipients(collection: sector.id, for: subject) == [world.operatorB.id])
        let own = try #require(try await setup.desk.collection(of: world.operatorA.id))
        #expect(await Self.field { try await setup.desk.setDefaultRecipients([world.operatorB.id], collection: own.id, root: own.root, by: subject) } == "recipients")
    }
}

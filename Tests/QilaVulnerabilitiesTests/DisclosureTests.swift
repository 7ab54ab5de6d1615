import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaVulnerabilities

@Suite("Coordinated disclosure: cases with vendors limited to their own, embargoes in named zones, the advisory released when the embargo ends")
struct DisclosureTests {
    /// 2026-11-20 10:00 UTC.
    static let t0 = AdvisoryTests.t0

    struct Fixture {
        var world: TenantWorld
        var desk: DisclosureDesk
        var advisories: AdvisoryDesk
        var gate: DecisionGate
        var store: SQLStore { world.installation.store }
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let advisories = try await AdvisoryTests.fixture(backend)
        let installation = advisories.world.installation
        let desk = DisclosureDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets, advisories: advisories.desk,
            setupLink: { "link-for-\($0.username)" })
        return Fixture(world: advisories.world, desk: desk, advisories: advisories.desk, gate: advisories.gate)
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as QilaError {
            return "\(error.field ?? "-"): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    @Test("An embargo is a day and time in a named zone: checked, shown in the zone and in UTC")
    func embargoes() throws {
        let (instant, zone) = try EmbargoInput(date: "2026-12-10", time: "09:00", zone: "Asia/Karachi").resolved(after: Self.t0)
        #expect(RFC3339.format(instant) == "2026-12-10T04:00:00Z" && zone == "Asia/Karachi")
        #expect(EmbargoInput.describe(instant, zone: "Asia/Karachi") == "2026-12-10 09:00 Asia/Karachi (UTC+05:00), 2026-12-10 04:00 UTC")
        // Summer time is the zone's, not a fixed offset: 09:00 in London is 08:00 UTC in June.
        let june = try EmbargoInput(date: "2027-06-01", time: "09:00", zone: "Europe/London").resolved(after: Self.t0).instant
        #expect(RFC3339.format(june) == "2027-06-01T08:00:00Z")
        #expect(EmbargoInput.fields(of: june, zone: "Europe/London") == EmbargoInput(date: "2027-06-01", time: "09:00", zone: "Europe/London"))
        #expect(message { _ = try EmbargoInput(date: "2027-03-28", time: "01:30", zone: "Europe/London").resolved(after: Self.t0) }
            == "embargoTime: 2027-03-28 01:30 does not exist in Europe/London: the clocks skip it")
        #expect(message { _ = try EmbargoInput(date: "2027-10-31", time: "01:30", zone: "Europe/London").resolved(after: Self.t0) }
            == "embargoTime: 2027-10-31 01:30 happens twice in Europe/London: the clocks go back; choose another time")
        #expect(message { _ = try EmbargoInput(date: "2026-12-10", time: "09:00", zone: "PKT").resolved(after: Self.t0) }?.hasPrefix("embargoZone: 'PKT' is not an IANA time zone name") == true)
        #expect(message { _ = try EmbargoInput(date: "10/12/2026", time: "09:00", zone: "UTC").resolved(after: Self.t0) } == "embargoDate: '10/12/2026' is not a day written YYYY-MM-DD")
        #expect(message { _ = try EmbargoInput(date: "2026-12-10", time: "9am", zone: "UTC").resolved(after: Self.t0) } == "embargoTime: '9am' is not a time of day written HH:MM (24-hour)")
        #expect(message { _ = try EmbargoInput(date: "2026-11-19", time: "09:00", zone: "UTC").resolved(after: Self.t0) }
            == "embargoDate: 2026-11-19 09:00 UTC (UTC+00:00) has passed; choose a later time")
        #expect(message { _ = try EmbargoInput(date: "2029-01-01", time: "09:00", zone: "UTC").resolved(after: Self.t0) } == "embargoDate: is more than two years away")
    }

    @Test("Any instant's fields in any zone read back as that instant, or are refused as skipped or doubled; any text is refused, never a crash")
    func embargoRoundTrips() {
        var random = SeededRandom(seed: 23)
        let zones = ["UTC", "Asia/Karachi", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham"]
        var doubled = 0
        for _ in 0..<3_000 {
            let zone = zones[Int(random.next() % UInt64(zones.count))]
            let minutes = Double(random.next() % (700 * 24 * 60))
            let instant = Date(timeIntervalSince1970: (Self.t0.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60 + minutes * 60)
            let fields = EmbargoInput.fields(of: instant, zone: zone)
            do {
                let resolved = try fields.resolved(after: Self.t0)
                #expect(resolved.instant == instant && resolved.zone == zone, "\(fields)")
            } catch {
                doubled += 1
                #expect(error.field == "embargoTime" && error.message.contains("happens twice"), "\(fields): \(error.message)")
            }
            var text = fields
            let alphabet = Array("0123456789:-/ aZ+.")
            let garbage = String((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            switch random.next() % 3 {
            case 0: text.date = garbage
            case 1: text.time = garbage
            default: text.zone = garbage
            }
            if let resolved = try? text.resolved(after: Self.t0) { #expect(resolved.instant > Self.t0) }
        }
        #expect(doubled < 100)
    }

    @Test("From a researcher's report to the published advisory: vendors reach only their case and answer only for themselves", arguments: TestBackend.available)
    func coordination(backend: TestBackend) async throws {
        let f = try await Self.fixture(backend)
        let installation = f.world.installation
        let analyst = f.world.subject("analyst", now: Self.t0)
        let admin = f.world.subject("admin", now: Self.t0)
        // A report as the public page stores it, the contact sealed.
        let sealed = try installation.secrets.seal(Array(try JSONEncoder().encode(VulnerabilityReport.Contact(name: "Sana Researcher", email: "sana@example.pk"))))
        let report = VulnerabilityReport(
            reference: "VR-TEST0001", vendor: "Acme", product: "Edge Gateway", version: "4.1",
            description: "The web console accepts a forged session cookie and grants administrator rights.", credit: "Sana R.", sealedContact: sealed,
            language: "en", createdAt: Self.t0)
        try await f.store.addVulnerabilityReport(report)
        // An operator cannot see reports; the analyst reads the contact, and the reading is audited.
        await #expect(throws: (any Error).self) { _ = try await f.desk.reports(.new, for: f.world.subject("a-admin"), gate: f.gate) }
        #expect(try await f.desk.reports(.new, for: analyst, gate: f.gate).map(\.reference) == ["VR-TEST0001"])
        #expect(try await f.desk.contact(of: report, by: analyst, gate: f.gate, now: Self.t0)?.email == "sana@example.pk")

        let opened = try await f.desk.open(
            .init(title: "Forged session in Edge Gateway", summary: "A forged cookie gives administrator rights.", reportID: report.id,
                  embargo: EmbargoInput(date: "2026-12-10", time: "09:00", zone: "Asia/Karachi")), by: analyst, gate: f.gate, now: Self.t0)
        #expect(opened.trackingID == "CVD-2026-0001" && opened.embargoZone == "Asia/Karachi")
        #expect(try await f.store.vulnerabilityReport(id: report.id)?.status == .opened)
        await #expect(throws: QilaError.self) {
            _ = try await f.desk.open(.init(title: "Again", summary: "x", reportID: report.id), by: analyst, gate: f.gate, now: Self.t0)
        }

        // Two vendors invited: each contact's account reaches only its own vendor's cases.
        let acme = try await f.desk.invite(opened.id, .init(vendor: "Acme", sector: "telecom", contactName: "Ali Acme", contactEmail: "psirt@acme.example"),
                                           by: analyst, gate: f.gate, now: Self.t0)
        #expect(acme.organisation.kind == .vendor && acme.user.roles == [.vendorContact] && acme.link == "link-for-psirt@acme.example")
        let zenith = try await f.desk.invite(opened.id, .init(vendor: "Zenith Networks", sector: "telecom", contactName: "Zara", contactEmail: "security@zenith.example"),
                                             by: analyst, gate: f.gate, now: Self.t0)
        #expect(message { _ = try EmbargoInput().resolved(after: Self.t0) }?.hasPrefix("embargoZone") == true)
        do {  // an operator's name is not a vendor's
            _ = try await f.desk.invite(opened.id, .init(vendor: "Operator A", sector: "telecom", contactName: "Xavier", contactEmail: "x@a.example"), by: analyst, gate: f.gate)
            Issue.record("an operator was invited as a vendor")
        } catch let error as QilaError { #expect(error.field == "vendor") }
        let other = try await f.desk.open(.init(title: "Another", summary: "Unrelated."), by: analyst, gate: f.gate, now: Self.t0)
        _ = try await f.desk.invite(other.id, .init(vendor: "Other Vendor", sector: "telecom", contactName: "Omar", contactEmail: "o@other.example"), by: analyst, gate: f.gate)
        func vendorSubject(_ user: User, _ organisation: Organisation) -> Subject {
            Subject(user: user, organisation: organisation, method: .password, authenticatedAt: Self.t0, mfaAt: Self.t0)
        }
        let ali = vendorSubject(acme.user, acme.organisation)
        let zara = vendorSubject(zenith.user, zenith.organisation)
        #expect(try await f.desk.cases(for: ali).map(\.record.trackingID) == ["CVD-2026-0001"])
        let seen = try await f.desk.detail(opened.trackingID, for: ali, gate: f.gate)
        #expect(seen.vendors.count == 2 && seen.report?.sealedContact == nil && seen.report?.description == report.description)
        await #expect(throws: (any Error).self) { _ = try await f.desk.detail(other.trackingID, for: ali, gate: f.gate) }
        await #expect(throws: (any Error).self) { _ = try await f.advisories.workingCopies(for: ali, gate: f.gate) }
        await #expect(throws: (any Error).self) { _ = try await f.desk.setEmbargo(opened.id, EmbargoInput(date: "2026-12-11", time: "09:00", zone: "UTC"), reason: "x", by: ali, gate: f.gate) }

        // Each vendor answers for itself only; a statement is needed where the advisory quotes it.
        await #expect(throws: (any Error).self) {
            _ = try await f.desk.answer(opened.id, vendor: zenith.organisation.id.description, .init(status: "not-affected", statement: "No."), by: ali, gate: f.gate)
        }
        do {
            _ = try await f.desk.answer(opened.id, vendor: acme.organisation.id.description, .init(status: "fix-ready"), by: ali, gate: f.gate, now: Self.t0)
            Issue.record("an affected vendor without a statement was accepted")
        } catch let error as QilaError { #expect(error.field == "statement") }
        _ = try await f.desk.answer(
            opened.id, vendor: acme.organisation.id.description, .init(status: "fix-ready", statement: "Fixed in Edge Gateway 4.2.", agreesEmbargo: true), by: ali,
            gate: f.gate, now: Self.t0)
        _ = try await f.desk.answer(
            opened.id, vendor: zenith.organisation.id.description, .init(status: "not-affected", statement: "Zenith's gateway does not use the console.", agreesEmbargo: true),
            by: zara, gate: f.gate, now: Self.t0)
        #expect(try await f.store.disclosureVendors(caseID: opened.id).filter(\.embargoAgreed).count == 2)
        // Moving the embargo needs a reason and asks every vendor again.
        do {
            _ = try await f.desk.setEmbargo(opened.id, EmbargoInput(date: "2026-12-17", time: "09:00", zone: "Asia/Karachi"), reason: "", by: analyst, gate: f.gate, now: Self.t0)
            Issue.record("a moved embargo without a reason was accepted")
        } catch let error as QilaError { #expect(error.field == "reason") }
        let moved = try await f.desk.setEmbargo(
            opened.id, EmbargoInput(date: "2026-12-17", time: "09:00", zone: "Asia/Karachi"), reason: "Acme needs a week more for the fix.", by: analyst, gate: f.gate,
            now: Self.t0)
        #expect(RFC3339.format(try #require(moved.embargoAt)) == "2026-12-17T04:00:00Z")
        #expect(try await f.store.disclosureVendors(caseID: opened.id).filter(\.embargoAgreed).isEmpty)

        // The advisory: drafted from the case, finished, reviewed; not published before the embargo.
        let advisory = try await f.desk.draftAdvisory(opened.id, by: analyst, gate: f.gate, now: Self.t0)
        var input = try AdvisoryDesk.decode(try #require(try await f.store.advisory(advisory.id)).draft)
        #expect(input.products == "Acme | Edge Gateway | 4.1")
        #expect(input.details.contains("**Acme** (affected, fix ready): Fixed in Edge Gateway 4.2.") && input.details.contains("Reported by Sana R."))
        input.products = "Acme | Edge Gateway | <4.2 | 4.2"
        input.vulnerabilities = "| Forged session cookie accepted | CWE-565 | CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        input.remediations = "vendor fix | Update to 4.2"
        _ = try await f.advisories.save(advisory.id, input, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(60))
        _ = try await f.advisories.submit(advisory.id, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(120))
        do {
            _ = try await f.advisories.publish(advisory.id, summary: "", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(180))
            Issue.record("an embargoed advisory was published")
        } catch let error as QilaError {
            #expect(error.message == "The advisory publishes CVD-2026-0001, under embargo until 2026-12-17 09:00 Asia/Karachi (UTC+05:00), 2026-12-17 04:00 UTC")
        }
        // Who sent it for review does not approve its release; another person does, for the embargo's end.
        await #expect(throws: QilaError.self) { _ = try await f.desk.approveRelease(opened.id, summary: "", by: analyst, gate: f.gate, now: Self.t0) }
        #expect(try await f.desk.approveRelease(opened.id, summary: "", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(200)) == .scheduled(try #require(moved.embargoAt)))
        // Nothing happens a minute before; at the embargo's end it is published once, as the approver.
        let end = try #require(moved.embargoAt)
        #expect(try await f.desk.releaseDue(now: end.addingTimeInterval(-60)).isEmpty)
        #expect(try await f.advisories.published(for: nil).isEmpty)
        #expect(try await f.desk.releaseDue(now: end.addingTimeInterval(30)) == ["CVD-2026-0001"])
        #expect(try await f.desk.releaseDue(now: end.addingTimeInterval(60)).isEmpty)
        let published = try await f.advisories.published(for: nil)
        #expect(published.count == 1 && published.first?.publishedBy == admin.user.id.description)
        #expect(try await f.store.disclosureCase(opened.id)?.status == .published)
        let actions = try await f.store.auditEntries(from: 0, limit: 2000, actionPrefix: "disclosure.").map(\.action)
        for action in ["disclosure.report.contact", "disclosure.open", "disclosure.vendor.invite", "disclosure.vendor.answer", "disclosure.embargo",
                       "disclosure.advisory", "disclosure.release.approve", "disclosure.publish"] {
            #expect(actions.contains(action), "\(action)")
        }
    }

    @Test("An approval is withdrawn when the advisory changes after it", arguments: TestBackend.available)
    func withdrawnApproval(backend: TestBackend) async throws {
        let f = try await Self.fixture(backend)
        let analyst = f.world.subject("analyst", now: Self.t0)
        let admin = f.world.subject("admin", now: Self.t0)
        let opened = try await f.desk.open(
            .init(title: "Overflow in Acme Agent", summary: "A long header overflows a buffer.", embargo: EmbargoInput(date: "2026-12-01", time: "12:00", zone: "UTC")),
            by: analyst, gate: f.gate, now: Self.t0)
        let advisory = try await f.desk.draftAdvisory(opened.id, by: analyst, gate: f.gate, now: Self.t0)
        _ = try await f.advisories.save(advisory.id, AdvisoryTests.input(), by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(10))
        _ = try await f.advisories.submit(advisory.id, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(20))
        _ = try await f.desk.approveRelease(opened.id, summary: "", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(30))
        // Saved again after the approval: back to a draft, so nothing is published and the approval goes.
        _ = try await f.advisories.save(advisory.id, AdvisoryTests.input(), by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(40))
        let end = try #require(opened.embargoAt)
        #expect(try await f.desk.releaseDue(now: end.addingTimeInterval(1)).isEmpty)
        #expect(try await f.store.disclosureCase(opened.id)?.releaseBy == nil)
        #expect(try await f.advisories.published(for: nil).isEmpty)
        #expect(try await f.store.auditEntries(from: 0, limit: 2000, actionPrefix: "disclosure.release.withdraw").count == 1)
    }
}

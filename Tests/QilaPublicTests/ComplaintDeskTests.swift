import Foundation
import QilaAccess
import QilaCases
import QilaCore
import QilaPublic
import QilaStore
import QilaTestSupport
import Testing

@Suite("Citizens' complaints: filed without an account, a case of the agency, tracked with a secret, contact details sealed")
struct ComplaintDeskTests {
    static let t0 = PortalFixture.t0

    static func refusals(_ body: () async throws -> Void) async -> [PublicRefusal] {
        do {
            try await body()
            return []
        } catch let refused as PublicRefusals {
            return refused.refusals
        } catch let refusal as PublicRefusal {
            return [refusal]
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test("Before an agency is designated the form says so; only the authority's administrator designates one", arguments: TestBackend.available)
    func designation(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.complaints
        let early = await Self.refusals { _ = try await desk.file(fixture.form(), evidence: [], source: "192.0.2.7", now: Self.t0) }
        #expect(early.map(\.kind) == [.unavailable])
        await #expect(throws: QilaError.self) { try await desk.designate(fixture.agency.id, by: fixture.world.subject("analyst"), gate: fixture.gate) }
        await #expect(throws: QilaError.self) { try await desk.designate(fixture.world.authority.id, by: fixture.world.subject("admin"), gate: fixture.gate) }
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        #expect(try await desk.agency()?.id == fixture.agency.id)
        let portalAccounts = try await fixture.world.installation.store.users(in: fixture.agency.id).filter { $0.kind == .service }
        #expect(portalAccounts.count == 1 && portalAccounts.first?.roles == [.organisationReporter], "designating twice makes one account")
    }

    @Test("A complaint in Urdu becomes a case of the agency under the complaint regime; the tracking number and secret show its status", arguments: TestBackend.available)
    func fileAndTrack(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.complaints
        let store = fixture.world.installation.store
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        let screenshot = ComplaintDesk.Evidence(name: "transfer.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 200))
        let receipt = try await desk.file(fixture.form(), evidence: [screenshot], source: "192.0.2.7", now: Self.t0)
        #expect(receipt.tracking.hasPrefix("QP-") && receipt.tracking.count == 12 && receipt.secret.count == 19)

        let record = try #require(try await store.complaint(tracking: receipt.tracking))
        let incident = try #require(try await store.incident(record.caseID))
        #expect(incident.organisation == fixture.agency.id && incident.regimes == ["cybercrime-complaint"] && incident.status == .new)
        #expect(incident.offences == [13, 14] && incident.tlp == .amber && record.language == "ur")
        let stage = try #require(try await store.stages(of: incident.id).first { $0.stage == "complaint" })
        #expect(stage.values["complaintCategory"] == "fraud" && stage.values["moneyLost"] == "48000" && stage.values["occurredOn"] == "2026-11-18")
        #expect(try await store.attachments(of: incident.id).map(\.name) == ["transfer.png"])
        // The contact details are sealed: not in the stored bytes, not in the case, not in the audit log.
        let sealed = try #require(record.sealedContact)
        #expect(!String(decoding: sealed, as: UTF8.self).contains("1234567"))
        #expect(!stage.values.values.contains { $0.contains("Ayesha") || $0.contains("1234567") })
        let audit = try await store.auditEntries(from: 0, limit: 10_000, actionPrefix: nil)
        #expect(audit.contains { $0.action == "public.complaint.file" && $0.actor == "public" && $0.sourceAddress == "192.0.2.7" })
        #expect(!audit.contains { "\($0.details)".contains("Ayesha") || "\($0.details)".contains("1234567") })

        // The citizen checks the status with both; a wrong secret says nothing about which was wrong.
        let received = try await desk.status(tracking: receipt.tracking.lowercased(), secret: receipt.secret, source: "192.0.2.7", now: Self.t0)
        #expect(received.state == .received && received.category == .fraud)
        let wrong = await Self.refusals { _ = try await desk.status(tracking: receipt.tracking, secret: "AAAA-BBBB-CCCC-DDDD", source: "192.0.2.8", now: Self.t0) }
        #expect(wrong.map(\.key) == ["err_tracking"])

        // The agency triages and verifies; the citizen sees the outcome and the agency's note.
        let handler = fixture.handlerSubject()
        _ = try await fixture.cases.submit(
            incident.id, regime: "cybercrime-complaint", stage: "verification",
            values: ["verificationOutcome": "inquiry-opened", "complainantNote": "An officer will call you this week."], by: handler, gate: fixture.gate,
            now: Self.t0.addingTimeInterval(86_400))
        let inquiry = try await desk.status(tracking: receipt.tracking, secret: receipt.secret.replacingOccurrences(of: "-", with: ""), source: nil, now: Self.t0)
        #expect(inquiry.state == .inquiry && inquiry.outcomeKey == "outcome_inquiry_opened" && inquiry.note == "An officer will call you this week.")
    }

    @Test("Only the agency's own staff open the contact details, and each opening is audited", arguments: TestBackend.available)
    func contact(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.complaints
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        let receipt = try await desk.file(fixture.form(), evidence: [], source: "192.0.2.7", now: Self.t0)
        let caseID = try #require(try await fixture.world.installation.store.complaint(tracking: receipt.tracking)?.caseID)
        let contact = try await desk.contact(of: caseID, by: fixture.handlerSubject(), gate: fixture.gate)
        #expect(contact == .init(name: "Ayesha Khan", phone: "0300 1234567", email: "ayesha@example.pk"))
        #expect(try await desk.complaint(of: caseID, for: fixture.handlerSubject())?.mayOpenContact == true)
        for outsider in ["analyst", "admin", "a-admin", "regulator"] {
            await #expect(throws: QilaError.self, "\(outsider)") { _ = try await desk.contact(of: caseID, by: fixture.world.subject(outsider), gate: fixture.gate) }
            #expect(try await desk.complaint(of: caseID, for: fixture.world.subject(outsider))?.mayOpenContact == false)
        }
        let audit = try await fixture.world.installation.store.auditEntries(from: 0, limit: 10_000, actionPrefix: nil)
        #expect(audit.filter { $0.action == "public.complaint.contact.read" }.count == 1)
    }

    @Test("Every bad field is named at once; abuse material is never uploaded; forged, instant and stale stamps are refused", arguments: TestBackend.available)
    func refusals(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.complaints
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        var bad = fixture.form(category: "kidnapping")
        bad.narrative = "too short"
        bad.occurredOn = "2026-02-30"
        bad.moneyLost = "lots"
        bad.phone = "call me"
        bad.email = "not an address"
        let all = await Self.refusals { _ = try await desk.file(bad, evidence: [], source: "192.0.2.7", now: Self.t0) }
        #expect(all.map(\.field) == ["category", "narrative", "occurredOn", "moneyLost", "phone", "email"])
        #expect(all.first?.text(.urdu) == "منتخب کریں کہ آپ کی شکایت کس بارے میں ہے۔")

        var future = fixture.form()
        future.occurredOn = "2027-01-05"
        #expect(await Self.refusals { _ = try await desk.file(future, evidence: [], source: "192.0.2.7", now: Self.t0) }.map(\.key) == ["err_date_range"])

        let image = ComplaintDesk.Evidence(name: "image.png", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
        let abuse = await Self.refusals { _ = try await desk.file(fixture.form(category: "child-abuse-material"), evidence: [image], source: "192.0.2.7", now: Self.t0) }
        #expect(abuse.map(\.key) == ["err_evidence_forbidden"])
        let program = ComplaintDesk.Evidence(name: "invoice.exe", bytes: [0x4D, 0x5A] + Array(repeating: 0, count: 100))
        #expect(await Self.refusals { _ = try await desk.file(fixture.form(), evidence: [program], source: "192.0.2.7", now: Self.t0) }.map(\.key) == ["err_evidence_file"])

        var forged = fixture.form()
        forged.stamp = "1795168740.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        #expect(await Self.refusals { _ = try await desk.file(forged, evidence: [], source: "192.0.2.7", now: Self.t0) }.map(\.key) == ["err_stamp_invalid"])
        var instant = fixture.form()
        instant.stamp = desk.stamp.issue(form: "complaint", now: Self.t0.addingTimeInterval(-1))
        #expect(await Self.refusals { _ = try await desk.file(instant, evidence: [], source: "192.0.2.7", now: Self.t0) }.map(\.kind) == [.throttled])
        var stale = fixture.form()
        stale.stamp = desk.stamp.issue(form: "complaint", now: Self.t0.addingTimeInterval(-5 * 3600))
        #expect(await Self.refusals { _ = try await desk.file(stale, evidence: [], source: "192.0.2.7", now: Self.t0) }.map(\.key) == ["err_stamp_expired"])
        var otherForm = fixture.form()
        otherForm.stamp = desk.stamp.issue(form: "suspicious", now: Self.t0.addingTimeInterval(-60))
        #expect(await Self.refusals { _ = try await desk.file(otherForm, evidence: [], source: "192.0.2.7", now: Self.t0) }.map(\.key) == ["err_stamp_invalid"])
        #expect(try await fixture.world.installation.store.incidents(organisation: fixture.agency.id).isEmpty, "nothing refused became a case")
    }

    @Test("An address that files too often waits, longer each time; another address does not", arguments: TestBackend.available)
    func rateLimit(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend, complaintsPerHour: 2)
        let desk = fixture.portal.complaints
        try await desk.designate(fixture.agency.id, by: fixture.world.subject("admin"), gate: fixture.gate)
        for minute in 0..<2 {
            let now = Self.t0.addingTimeInterval(Double(minute) * 60)
            _ = try await desk.file(fixture.form(now: now), evidence: [], source: "198.51.100.4", now: now)
        }
        let now = Self.t0.addingTimeInterval(180)
        let third = await Self.refusals { _ = try await desk.file(fixture.form(now: now), evidence: [], source: "198.51.100.4", now: now) }
        #expect(third.map(\.key) == ["err_too_many"] && third.first?.values["minutes"] == "10")
        let held = await Self.refusals { _ = try await desk.file(fixture.form(now: now), evidence: [], source: "198.51.100.4", now: now.addingTimeInterval(300)) }
        #expect(held.map(\.key) == ["err_too_many"] && held.first?.values["minutes"] == "5")
        _ = try await desk.file(fixture.form(now: now), evidence: [], source: "203.0.113.9", now: now)
        #expect(try await fixture.world.installation.store.incidents(organisation: fixture.agency.id).count == 3)
    }
}

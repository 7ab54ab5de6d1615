import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaPublic
import QilaStore
import QilaTestSupport
import Testing

@Suite("Suspicious messages and websites: the public reports, analysts confirm, indicators reach the collections")
struct SuspiciousReportTests {
    static let t0 = PortalFixture.t0

    static func form(_ fixture: PortalFixture, kind: String = "message") -> SuspiciousReportDesk.Form {
        var form = SuspiciousReportDesk.Form()
        form.kind = kind
        form.url = "https://secure-login.bank-verify.example/pk/otp"
        form.sender = "alerts@bank-verify.example"
        form.headers = "Received: from mail.bank-verify.example ([203.0.113.45])\nReturn-Path: <bounce@bank-verify.example>\nSubject: Your account is blocked"
        form.description = "Asked me to confirm my card number."
        form.stamp = fixture.portal.suspicious.stamp.issue(form: "suspicious", now: t0.addingTimeInterval(-30))
        return form
    }

    @Test("A report waits in the analysts' queue; confirming shares its links and senders as indicators; it is decided once", arguments: TestBackend.available)
    func confirm(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.suspicious
        let reference = try await desk.report(Self.form(fixture), source: "192.0.2.30", now: Self.t0)
        #expect(reference.hasPrefix("SR-"))
        await #expect(throws: QilaError.self) { _ = try await desk.reports(.new, for: fixture.world.subject("a-admin"), gate: fixture.gate) }
        let queue = try await desk.reports(.new, for: fixture.world.subject("analyst"), gate: fixture.gate)
        let report = try #require(queue.first)
        #expect(queue.count == 1 && report.reference == reference && report.kind == .message)
        let observables = SuspiciousReportDesk.observables(of: report).map(\.value)
        #expect(Set(observables).isSuperset(of: ["https://secure-login.bank-verify.example/pk/otp", "alerts@bank-verify.example", "secure-login.bank-verify.example"]))

        let national = try #require(try await fixture.world.installation.store.intelCollections().first { $0.kind == .national })
        let decided = try await desk.decide(
            report.id, confirm: true, note: "Phishing kit imitating a bank", collection: national.id, marking: "green", by: fixture.world.subject("analyst"),
            gate: fixture.gate, now: Self.t0.addingTimeInterval(600))
        #expect(decided.status == .confirmed && decided.intelObject?.hasPrefix("indicator--") == true)
        let shared = try await fixture.intel.search("secure-login.bank-verify.example", for: fixture.world.subject("a-admin"))
        #expect(!shared.isEmpty, "a member of another sector reads the GREEN indicators")
        await #expect(throws: QilaError.self) {
            _ = try await desk.decide(report.id, confirm: false, note: "again", collection: "", marking: "", by: fixture.world.subject("analyst"), gate: fixture.gate)
        }
        #expect(try await desk.reports(.new, for: fixture.world.subject("analyst"), gate: fixture.gate).isEmpty)
    }

    @Test("Dismissing needs a note; a website needs its address; bad links and senders are named", arguments: TestBackend.available)
    func refusals(backend: TestBackend) async throws {
        let fixture = try await PortalFixture.make(backend)
        let desk = fixture.portal.suspicious
        var website = Self.form(fixture, kind: "website")
        website.url = ""
        let missing = await ComplaintDeskTests.refusals { _ = try await desk.report(website, source: nil, now: Self.t0) }
        #expect(missing.map(\.key) == ["err_url_needed"])
        var bad = Self.form(fixture, kind: "fax")
        bad.url = "javascript:alert(1)"
        bad.sender = "a\nb"
        let named = await ComplaintDeskTests.refusals { _ = try await desk.report(bad, source: nil, now: Self.t0) }
        #expect(named.map(\.field) == ["kind", "url", "sender"])
        var empty = Self.form(fixture)
        (empty.url, empty.sender, empty.headers) = ("", "", "")
        #expect(await ComplaintDeskTests.refusals { _ = try await desk.report(empty, source: nil, now: Self.t0) }.map(\.key) == ["err_message_needs"])

        _ = try await desk.report(Self.form(fixture), source: nil, now: Self.t0)
        let report = try #require(try await desk.reports(.new, for: fixture.world.subject("analyst"), gate: fixture.gate).first)
        do {
            _ = try await desk.decide(report.id, confirm: false, note: " ", collection: "", marking: "", by: fixture.world.subject("analyst"), gate: fixture.gate)
            Issue.record("dismissed without a note")
        } catch let error as QilaError {
            #expect(error.field == "note")
        }
        let dismissed = try await desk.decide(
            report.id, confirm: false, note: "A real bank notice", collection: "", marking: "", by: fixture.world.subject("analyst"), gate: fixture.gate)
        #expect(dismissed.status == .dismissed && dismissed.intelObject == nil)
    }
}

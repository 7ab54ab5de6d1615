import Foundation
import QilaAccess
import QilaCases
import QilaCore
import QilaIntel
import QilaPublic
import QilaStore
import QilaTestSupport

/// The tenant world plus the cybercrime agency (an organisation with a handler), and the portal.
struct PortalFixture {
    var world: TenantWorld
    var agency: Organisation
    var handler: User
    var cases: CaseDesk
    var intel: IntelDesk
    var portal: PublicPortal
    var gate: DecisionGate

    /// 2026-11-20 10:00 UTC.
    static let t0 = Date(timeIntervalSince1970: 1_795_168_800)

    static func make(_ backend: TestBackend, complaintsPerHour: Int = 3) async throws -> PortalFixture {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let agency = try await installation.directory.createOrganisation(.init(name: "Cybercrime Agency", kind: .governmentBody, sector: "government"), by: nil)
        let handler = try await installation.directory.createUser(
            .init(username: "agent", displayName: "Agent", roles: [.organisationReporter], clearance: .red), in: agency.id, by: nil)
        let cases = CaseDesk(
            store: installation.store, audit: installation.audit, regimes: try RegimeBook.load(folder: nil),
            attachments: AttachmentStore(store: installation.store, maximumBytes: 1 << 20, legacyFolder: installation.dataDirectory + "/attachments"),
            policy: installation.policy)
        let intel = IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        try await intel.ensureCollections(now: t0)
        var settings = PublicPortal.Settings()
        settings.complaintsPerHour = complaintsPerHour
        let portal = PublicPortal(installation: installation, cases: cases, intel: intel, settings: settings)
        return PortalFixture(
            world: world, agency: agency, handler: handler, cases: cases, intel: intel, portal: portal,
            gate: DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    func handlerSubject(now: Date = PortalFixture.t0) -> Subject {
        Subject(user: handler, organisation: agency, method: .passwordAndTOTP, authenticatedAt: now, mfaAt: now)
    }

    /// A complaint form filled in as a person would, its stamp issued a minute before `now`.
    func form(category: String = "fraud", now: Date = PortalFixture.t0, language: PublicLanguage = .urdu) -> ComplaintDesk.Form {
        var form = ComplaintDesk.Form()
        form.category = category
        form.narrative = "A caller said he was from my bank and asked for the code sent to my phone; then 48,000 rupees left my account."
        form.occurredOn = "2026-11-18"
        form.moneyLost = "48,000"
        form.name = "Ayesha Khan"
        form.phone = "0300 1234567"
        form.email = "ayesha@example.pk"
        form.stamp = portal.complaints.stamp.issue(form: "complaint", now: now.addingTimeInterval(-60))
        form.language = language
        return form
    }
}

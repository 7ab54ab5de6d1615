import Foundation
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@Suite("Directives: issued to a criticality class, acknowledged, complied with requirement by requirement, late ones given notice")
struct DirectiveTests {
    static let issuedAt = Date(timeIntervalSince1970: 1_795_000_000)
    static let day: TimeInterval = 86_400

    static func input(
        body: String = "Apply every entry of the national KEV list to internet-facing systems.", requirements: String = "Patch KEV entries\n\n  Report exceptions  ",
        tlp: TLP = .green, audience: CampaignDesk.Audience = .criticality(.critical), dueIn days: Double = 14
    ) -> CampaignDesk.DirectiveInput {
        .init(
            reference: "NCA-D-2026-03", title: "Known exploited vulnerabilities", body: body, requirements: requirements, tlp: tlp, sector: nil, audience: audience,
            opensAt: RFC3339.format(issuedAt), dueAt: RFC3339.format(issuedAt.addingTimeInterval(days * day)), reminderDays: "3", graceDays: "2")
    }

    @Test("Issued to the critical organisations; acknowledged before compliance is reported; late ones reminded then given notice", arguments: TestBackend.available)
    func directive(backend: TestBackend) async throws {
        let fixture = try await CampaignTests.fixture(backend)
        let world = fixture.world
        let desk = fixture.desk
        let store = world.installation.store
        var operatorA = world.operatorA
        operatorA.criticality = .critical
        _ = try await world.installation.directory.updateOrganisation(
            operatorA.id, .init(name: operatorA.name, kind: operatorA.kind, sector: operatorA.sector, criticality: .critical), by: nil)
        var bank = world.bank
        bank.criticality = .critical
        _ = try await world.installation.directory.updateOrganisation(bank.id, .init(name: bank.name, kind: bank.kind, sector: bank.sector, criticality: .critical), by: nil)

        let short = await CampaignTests.refusal { _ = try await desk.issue(Self.input(body: "Patch."), by: world.subject("analyst"), gate: fixture.gate, now: Self.issuedAt) }
        #expect(short?.field == "body")
        let red = await CampaignTests.refusal { _ = try await desk.issue(Self.input(tlp: .red), by: world.subject("analyst"), gate: fixture.gate, now: Self.issuedAt) }
        #expect(red?.field == "tlp")
        let operatorTry = await CampaignTests.refusal { _ = try await desk.issue(Self.input(), by: world.subject("a-admin"), gate: fixture.gate, now: Self.issuedAt) }
        #expect(operatorTry?.code == .forbidden)

        let directive = try await desk.issue(Self.input(), by: world.subject("analyst"), gate: fixture.gate, now: Self.issuedAt)
        #expect(directive.directive?.requirements.map(\.id) == ["R1", "R2"] && directive.directive?.requirements.last?.text == "Report exceptions")
        #expect(Set(try await store.participants(directive.id).map(\.organisation)) == [world.operatorA.id, world.bank.id])

        let now = Self.issuedAt.addingTimeInterval(Self.day)
        let answered = try await desk.saveAnswers(
            [.init(requirement: "R1", choice: "complied", comment: "Change 4411"), .init(requirement: "R2", choice: "partly")],
            campaign: directive.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        #expect(answered.framework.scoring.levels.map(\.name) == ["Complied", "Partly complied", "Not complied"])
        let unacknowledged = await CampaignTests.refusal {
            _ = try await desk.submit(campaign: directive.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        }
        #expect(unacknowledged?.field == "acknowledgement" && unacknowledged?.message.contains("NCA-D-2026-03") == true)
        try await desk.acknowledge(campaign: directive.id, organisation: world.operatorA.id, by: world.subject("a-reporter"), gate: fixture.gate, now: now)
        let twice = await CampaignTests.refusal {
            try await desk.acknowledge(campaign: directive.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        }
        #expect(twice?.code == .conflict)
        let submitted = try await desk.submit(campaign: directive.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        #expect(submitted.acknowledgement?.user == world.users["a-reporter"]!.id && submitted.selfDeclared.overall.score == 0.75)

        // The bank neither acknowledges nor reports: reminded, then given notice after the grace days.
        #expect(try await desk.sweep(now: Self.issuedAt.addingTimeInterval(12 * Self.day)) == .init(reminders: 1, notices: 0))
        #expect(try await desk.sweep(now: Self.issuedAt.addingTimeInterval(16 * Self.day + 60)) == .init(reminders: 0, notices: 1))
        let notice = try #require(try await store.notices(campaign: directive.id).first)
        #expect(notice.organisation == world.bank.id)
        let audited = try await store.auditEntries(from: 0, limit: 100, actionPrefix: "directive.")
        #expect(audited.map(\.action) == ["directive.issue", "directive.acknowledge"])
    }
}

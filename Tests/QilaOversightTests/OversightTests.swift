import Foundation
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaFlows
import QilaOversight
import QilaRetention
import QilaStore
import QilaTestSupport
import QilaTraining
import Testing

@Suite("The oversight committee's national picture: five pillars, quarterly trends, aggregates only")
struct OversightTests {
    static let karachi = TimeZone(identifier: "Asia/Karachi")!
    /// 2026-11-16 10:00 UTC, in 2026-Q4.
    static let t0 = Date(timeIntervalSince1970: 1_794_823_200)

    @Test("Quarters: parsed, bounded in the installation's zone, windowed backwards across a year")
    func quarters() {
        #expect(Quarter(parsing: "2026-q4") == Quarter(year: 2026, number: 4))
        #expect(Quarter(parsing: "2026-Q5") == nil && Quarter(parsing: "26-Q1") == nil && Quarter(parsing: "2026Q1") == nil)
        let q1 = Quarter(year: 2027, number: 1)
        #expect(q1.window(4).map(\.description) == ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"])
        #expect(RFC3339.format(q1.start(in: Self.karachi)) == "2026-12-31T19:00:00Z")
        #expect(Quarter.containing(RFC3339.parse("2026-12-31T19:30:00Z")!, zone: Self.karachi) == q1)
        #expect(Quarter.containing(Self.t0, zone: Self.karachi) == Quarter(year: 2026, number: 4))
    }

    struct Fixture {
        var world: TenantWorld
        var cases: CaseDesk
        var desk: OversightDesk
        var gate: DecisionGate
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let root = installation.dataDirectory + "/flows"
        let cases = CaseDesk(
            store: installation.store, audit: installation.audit, regimes: try RegimeBook.load(folder: nil),
            attachments: AttachmentStore(store: installation.store, maximumBytes: 1 << 20, legacyFolder: installation.dataDirectory + "/attachments"),
            policy: installation.policy)
        let warrants = WarrantDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets,
            flows: try FlowStore(FlowStore.Configuration(root: root, signingKey: installation.secrets.auditEd25519)),
            subscribers: SubscriberRegistry(root: root, key: installation.secrets.sealingKey), nodes: TrafficDataNodes(store: installation.store, node: installation.node))
        let campaigns = CampaignDesk(store: installation.store, audit: installation.audit, policy: installation.policy, attachments: AttachmentStore(store: installation.store))
        let training = TrainingDesk(store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets)
        let desk = OversightDesk(
            store: installation.store, policy: installation.policy, cases: cases, campaigns: campaigns, training: training, warrants: warrants, zone: karachi)
        return Fixture(world: world, cases: cases, desk: desk, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    /// Opens and submits an early warning for `name`'s organisation `hours` after awareness.
    static func report(_ fixture: Fixture, _ name: String, awareness: Date, hours: Double) async throws -> IncidentCase {
        let reporter = fixture.world.subject(name, now: awareness)
        let opened = try await fixture.cases.open(
            .init(organisation: "", title: "Outage at \(name)", awareness: RFC3339.format(awareness), regime: "national"), by: reporter, gate: fixture.gate,
            now: awareness)
        return try await fixture.cases.submit(
            opened.id, regime: "national", stage: "early-warning",
            values: ["summary": "Core network outage", "suspectedMalicious": "no", "crossBorder": "no", "contact": "NOC"], by: reporter, gate: fixture.gate,
            now: awareness.addingTimeInterval(hours * 3600))
    }

    @Test("Incidents by sector and class, reporting on time, time to triage; small counts withheld; who sees warrants", arguments: TestBackend.available)
    func picture(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let store = fixture.world.installation.store
        try await store.setSetting(CampaignDesk.minimumGroupSetting, "2")
        let awareness = Self.t0.addingTimeInterval(-20 * 86_400)
        let first = try await Self.report(fixture, "a-admin", awareness: awareness, hours: 6)
        _ = try await Self.report(fixture, "b-admin", awareness: awareness, hours: 30)
        _ = try await Self.report(fixture, "bank-admin", awareness: awareness, hours: 2)
        _ = try await fixture.cases.triage(
            first.id, .init(status: "triaged"), by: fixture.world.subject("analyst"), gate: fixture.gate, now: awareness.addingTimeInterval(10 * 3600))

        let quarter = Quarter(year: 2026, number: 4)
        await #expect(throws: QilaError.self, "an operator does not see the national picture") {
            _ = try await fixture.desk.picture(quarter, for: fixture.world.subject("a-admin"), gate: fixture.gate, now: Self.t0)
        }
        let picture = try await fixture.desk.picture(quarter, for: fixture.world.subject("overseer"), gate: fixture.gate, now: Self.t0)
        #expect(picture.quarters.map(\.description) == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"])
        #expect(picture.technical.total == [0, 0, 0, 3])
        let sectors = Dictionary(uniqueKeysWithValues: picture.technical.bySector.map { ($0.label, $0.values.last!) })
        #expect(sectors.count == 2 && sectors.values.contains(2) && sectors.values.contains(nil), "telecom's 2 shown, banking's 1 withheld: \(sectors)")
        #expect(picture.technical.medianHoursToTriage == 4, "triaged 4 hours after the early warning")
        // Early warnings are due 24 hours after awareness: two on time, one late; other stages not yet due.
        #expect(picture.legal.onTime.last == 2 && picture.legal.late.last == 1)
        #expect(picture.legal.warrants != nil && picture.capacity != nil)
        let analystView = try await fixture.desk.picture(quarter, for: fixture.world.subject("analyst"), gate: fixture.gate, now: Self.t0)
        #expect(analystView.legal.warrants == nil, "warrant figures are for the committee and the authority's administrators")
    }
}

import Foundation
import QilaAccess
import QilaCore
import QilaDetect
import QilaIngest
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

@Suite("Shared indicators in detection: published, scoped by TLP, reported back as sightings")
struct SharedIndicatorTests {
    static let now = FixedInstant.thursdayAfternoon.date

    static func indicator(_ n: Int, pattern: String, marking: TLP, modified: String = "2026-12-01T10:00:00.000Z") -> JSONValue {
        .object([
            "type": .string("indicator"), "spec_version": .string("2.1"), "id": .string("indicator--\(String(format: "00000000-0000-4000-8000-%012d", n))"),
            "created": .string(modified), "modified": .string(modified), "name": .string("Shared \(n)"), "pattern": .string(pattern),
            "pattern_type": .string("stix"), "valid_from": .string("2026-12-01T00:00:00Z"),
            "object_marking_refs": .array([.string(StixObject.marking(marking))]),
        ])
    }

    static func connection(_ address: String, host: String) -> [UInt8] {
        Array(#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":3,"Computer":"\#(host)","DestinationIp":"\#(address)"}"#.utf8)
    }

    @Test("An AMBER indicator alerts only its recipients; elsewhere its matches are sightings; a false positive takes it out of detection")
    func scopedByMarking() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let store = world.installation.store
        let desk = IntelDesk(store: store, audit: world.installation.audit, policy: world.installation.policy)
        try await desk.ensureCollections()
        let national = try #require(try await desk.collections(for: world.subject("a-admin")).first { $0.record.kind == .national }).record.id
        // Operator A shares an address at AMBER with the bank and the authority, and another at GREEN with everyone.
        _ = try await desk.add(
            .object(["objects": .array([Self.indicator(1, pattern: "[ipv4-addr:value = '198.51.100.7']", marking: .amber)])]), to: national,
            root: "national", by: world.subject("a-admin"), recipients: .init(organisations: [world.bank.id, world.authority.id]), now: Self.now)
        _ = try await desk.add(
            .object(["objects": .array([Self.indicator(2, pattern: "[ipv4-addr:value = '203.0.113.9']", marking: .green)])]), to: national,
            root: "national", by: world.subject("a-admin"), now: Self.now)

        let intake = try await IntakeHarness.start(.sqlite, world: world, clock: .fixed(Self.now), indicators: IntelIndicatorFeed(store: store))
        #expect(intake.runtime.sets.indicators.count == 2)
        let b = try await intake.sensor("b-http", of: world.operatorB, transport: .http, addresses: [], account: world.users["b-admin"]!.id)
        let bank = try await intake.sensor("bank-http", of: world.bank, transport: .http, addresses: [], account: world.users["bank-admin"]!.id)
        _ = await intake.runtime.accept(Self.connection("198.51.100.7", host: "b-1"), sensor: b)
        _ = await intake.runtime.accept(Self.connection("198.51.100.7", host: "bank-1"), sensor: bank)
        _ = await intake.runtime.accept(Self.connection("203.0.113.9", host: "b-2"), sensor: b)
        try await intake.settle(events: 3)

        // The bank, a recipient, gets an alert; Operator B, not one, gets an alert only for the GREEN one.
        let bankAlerts = try await store.alerts(AlertFilter(organisations: [world.bank.id]))
        #expect(bankAlerts.map(\.title) == ["Shared 1"] && bankAlerts.first?.kind == .indicator)
        let bAlerts = try await store.alerts(AlertFilter(organisations: [world.operatorB.id]))
        #expect(bAlerts.map(\.title) == ["Shared 2"])
        // Every match is a sighting, reported to the producer without naming who saw it.
        let amber = "indicator--00000000-0000-4000-8000-000000000001"
        let forProducer = try await desk.sightings(of: amber, for: world.subject("a-admin"))
        #expect(forProducer.seen == 2 && forProducer.organisations == 2)
        #expect(forProducer.entries.allSatisfy { $0.organisation == "another organisation" && $0.source == "detection" })
        let forAuthority = try await desk.sightings(of: amber, for: world.subject("analyst"))
        #expect(Set(forAuthority.entries.map(\.organisation)) == ["Operator B", "First Bank"])
        // Operator B cannot even see the AMBER indicator, so it has no sightings to read.
        await #expect(throws: QilaError.self) { _ = try await desk.sightings(of: amber, for: world.subject("b-admin")) }

        // Seen just now, it keeps its full score; the bank and the authority report it a false
        // positive: the score falls below the threshold and intake drops it.
        try await desk.report(.falsePositive, of: amber, note: "our resolver", by: world.subject("bank-admin"), now: Self.now)
        #expect(try await intake.runtime.reloadIndicators() == 2)
        try await desk.report(.falsePositive, of: amber, by: world.subject("analyst"), now: Self.now)
        #expect(try await intake.runtime.reloadIndicators() == 1)
        #expect(intake.runtime.sets.indicators.indicators.map(\.id) == ["indicator--00000000-0000-4000-8000-000000000002"])
        let standing = try #require(try await IntelIndicatorFeed(store: store).standings(now: Self.now).standings.first { $0.id == amber })
        #expect(!standing.score.active && standing.score.reasons.contains { $0.contains("false positive by 2 organisations") })

        // An analyst's score brings it back, with the reason kept; removing it ends that.
        try await desk.overrideScore(amber, score: 80, reason: "confirmed C2 by the CERT", by: world.subject("analyst"), now: Self.now)
        #expect(try await intake.runtime.reloadIndicators() == 2)
        await #expect(throws: QilaError.self) {
            try await desk.overrideScore(amber, score: 80, reason: "mine", by: world.subject("a-admin"), now: Self.now)
        }
        try await desk.overrideScore(amber, score: nil, reason: "", by: world.subject("analyst"), now: Self.now)
        #expect(try await intake.runtime.reloadIndicators() == 1)

        // A new indicator reaches the running intake without a restart (its loop looks every 2 s).
        _ = try await desk.add(
            .object(["objects": .array([Self.indicator(3, pattern: "[domain-name:value = 'evil.example']", marking: .clear)])]), to: national,
            root: "national", by: world.subject("a-admin"), now: Self.now)
        let deadline = ContinuousClock.now + .seconds(30)
        while intake.runtime.sets.indicators.count != 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(intake.runtime.sets.indicators.indicators.map(\.id).contains("indicator--00000000-0000-4000-8000-000000000003"))
        try await intake.stop()
    }
}

import Foundation
import QilaAccess
import QilaCore
import QilaDetect
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

@Suite("Which organisations' events a shared indicator covers")
struct IntelIndicatorFeedTests {
    @Test("CLEAR and GREEN reach the collection's community, AMBER the producer and its recipients, AMBER+STRICT the producer; RED and unmatched patterns stay out, with the reason")
    func reach() async throws {
        let setup = try await IntelDeskTests.setup()
        let world = setup.world
        let now = FixedInstant.thursdayAfternoon.date
        let sector = try #require(try await setup.desk.collections(for: world.subject("a-red")).first { $0.record.kind == .sector }).record
        func indicator(_ n: Int, _ marking: TLP, pattern: String = "[ipv4-addr:value = '198.51.100.7']") -> JSONValue {
            Stix.indicator(Stix.uuid(n), modified: "2026-12-03T10:00:00.000Z", marking: marking, pattern: pattern)
        }
        _ = try await setup.desk.add(
            Stix.envelope([
                indicator(1, .green), indicator(2, .amber), indicator(3, .amberStrict), indicator(4, .red),
                indicator(5, .green, pattern: "[process:name = 'evil.exe']"),
            ]), to: setup.national, root: "national", by: world.subject("a-red"), recipients: .init(organisations: [world.bank.id]), now: now)
        _ = try await setup.desk.add(Stix.envelope([indicator(6, .green)]), to: sector.id, root: sector.root, by: world.subject("a-red"), now: now)
        // The same indicator in the sector's collection and the national one reaches everyone.
        _ = try await setup.desk.add(Stix.envelope([indicator(1, .green)]), to: sector.id, root: sector.root, by: world.subject("a-red"), now: now)

        let feed = IntelIndicatorFeed(store: world.installation.store)
        let (standings, indicators) = try await feed.standings(now: now)
        // Detection's list, scored without reasons, is the same list.
        let active = try await feed.active(now: now)
        #expect(active.map(\.id) == indicators.map(\.id) && active.map(\.reach) == indicators.map(\.reach))
        let reach = Dictionary(uniqueKeysWithValues: indicators.map { ($0.id, $0.reach) })
        func id(_ n: Int) -> String { "indicator--\(Stix.uuid(n))" }
        #expect(reach[id(1)] == .shared(nil))
        #expect(reach[id(2)] == .shared([world.operatorA.id, world.bank.id]))
        #expect(reach[id(3)] == .shared([world.operatorA.id]))
        #expect(reach[id(6)] == .shared([world.operatorA.id, world.operatorB.id, world.regulator.id]))  // the sector and its regulator
        #expect(reach[id(4)] == nil && reach[id(5)] == nil && indicators.count == 4)
        let excluded = Dictionary(uniqueKeysWithValues: standings.map { ($0.id, $0.excluded) })
        #expect(excluded[id(4)]??.hasPrefix("TLP:RED") == true)
        #expect(excluded[id(5)]??.contains("not one Qila's detection matches") == true)
        // Adding, sighting and scoring change the version intake watches; time alone changes it every rescoring interval.
        let before = try await feed.version(now: now)
        #expect(try await feed.version(now: now.addingTimeInterval(1)) == before)
        #expect(try await feed.version(now: now.addingTimeInterval(DecayModel().rescoreSeconds)) != before)
        try await setup.desk.report(.expired, of: id(1), by: world.subject("bank-admin"), now: now)
        #expect(try await feed.version(now: now) != before)
        #expect(try await feed.standings(now: now).indicators.count == 3)
    }
}

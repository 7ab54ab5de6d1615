import Foundation
import QilaStore
import QilaTestSupport
import Testing

/// One node at a time does an installation-wide job: the lease goes to one holder, is renewed by
/// it, passes to another only once it has run out or is released.
@Suite("Leases")
struct LeaseTests {
    @Test("a lease has one holder until it runs out or is released", arguments: TestBackend.available)
    func oneHolder(_ backend: TestBackend) async throws {
        let installation = try await backend.makeInstallation()
        let store = installation.store
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let a = Lease("job", holder: "node-a", store: store, duration: 30)
        let b = Lease("job", holder: "node-b", store: store, duration: 30)
        #expect(try await a.acquire(now: start))
        #expect(try await !b.acquire(now: start.addingTimeInterval(1)))
        #expect(try await a.acquire(now: start.addingTimeInterval(20)))  // renewed until start + 50
        #expect(try await !b.acquire(now: start.addingTimeInterval(40)))
        #expect(try await b.acquire(now: start.addingTimeInterval(51)))  // a stopped renewing: b takes over
        #expect(try await !a.acquire(now: start.addingTimeInterval(52)))
        await b.release()
        #expect(try await a.acquire(now: start.addingTimeInterval(53)))
        let held = try await store.leases()
        #expect(held.map(\.holder) == ["node-a"])
        #expect(held.first?.acquiredAt == start.addingTimeInterval(53))
    }

    @Test("of many nodes asking at once, one is granted", arguments: TestBackend.available)
    func concurrent(_ backend: TestBackend) async throws {
        let installation = try await backend.makeInstallation()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask { try await Lease("race", holder: "node-\(index)", store: installation.store).acquire(now: now) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 1)
    }
}

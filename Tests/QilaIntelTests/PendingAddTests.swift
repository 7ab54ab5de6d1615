import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

@Suite("A large request to add objects is answered at once and finished by whichever node claims it")
struct PendingAddTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    /// Eight objects, the sixth invalid (no pattern), sent where more than three are answered pending.
    /// `asSent`: the request's bytes are kept as they came (as TAXII does), not its objects encoded again.
    static func send(_ setup: IntelDeskTests.Setup, part: Int = 3, asSent: Bool = false) async throws -> (IntelDesk, IntelDesk.Status) {
        var desk = setup.desk
        desk.objectsAnsweredAtOnce = 3
        desk.pendingPart = part
        var objects = (1...8).map { Stix.indicator(Stix.uuid($0), marking: .green, pattern: "[ipv4-addr:value = '198.51.100.\($0)']") }
        objects[5] = .object(["type": .string("indicator"), "spec_version": .string("2.1"), "id": .string("indicator--\(Stix.uuid(6))")])
        let envelope = Stix.envelope(objects)
        let status = try await desk.add(
            envelope, request: asSent ? try envelope.encoded() : nil, to: setup.national, root: "national", by: setup.world.subject("a-admin"),
            mayDefer: true, now: t0)
        return (desk, status)
    }

    func resource(_ setup: IntelDeskTests.Setup, _ status: IntelDesk.Status, as name: String = "a-admin") async throws -> JSONValue {
        try JSONValue.decode(try await setup.desk.status(status.id, root: "national", for: setup.world.subject(name)))
    }

    @Test("Pending at once with every object counted; stored in parts by the job; complete with successes and the failure named", arguments: TestBackend.available)
    func pendingThenComplete(backend: TestBackend) async throws {
        let setup = try await IntelDeskTests.setup(backend: backend)
        let (desk, status) = try await Self.send(setup, asSent: true)
        #expect(status.pending == 8 && status.total == 8)
        var answer = try await resource(setup, status)
        #expect(answer["status"]?.string == "pending")
        #expect(answer["pending_count"]?.number == 8 && answer["total_count"]?.number == 8 && answer["success_count"]?.number == 0)
        // Nothing is readable before a node stores it.
        #expect(try await IntelDeskTests().seen(setup, "b-admin").isEmpty)
        #expect(try await setup.world.installation.store.pendingIntelAdds() == 1)

        #expect(try await desk.finishPendingAdd(holder: "node-a", now: { Self.t0.addingTimeInterval(1) }))
        answer = try await resource(setup, status)
        #expect(answer["status"]?.string == "complete")
        #expect(answer["success_count"]?.number == 7 && answer["failure_count"]?.number == 1 && answer["pending_count"]?.number == 0)
        #expect(answer["failures"]?.array?.first?["message"]?.string == "is required (objects[5].created)")
        #expect(answer["successes"]?.array?.count == 7)
        #expect(Set(try await IntelDeskTests().seen(setup, "b-admin")).count == 7)
        #expect(try await setup.world.installation.store.pendingIntelAdds() == 0)
        #expect(try await !desk.finishPendingAdd(holder: "node-a", now: { Self.t0.addingTimeInterval(2) }))
        // Another organisation does not learn of the status.
        await #expect(throws: QilaError.self) { _ = try await setup.desk.status(status.id, root: "national", for: setup.world.subject("b-admin")) }
        let actions = try await setup.world.installation.store.auditEntries(from: 0, limit: 1_000, actionPrefix: "intel.objects.").map(\.action)
        #expect(actions.contains("intel.objects.accept") && actions.contains("intel.objects.add"))
    }

    @Test("A node that dies holding a request keeps it only until its claim runs out; the next node stores it all", arguments: TestBackend.available)
    func deadNodeIsTakenOver(backend: TestBackend) async throws {
        let setup = try await IntelDeskTests.setup(backend: backend)
        let (desk, status) = try await Self.send(setup)
        let store = setup.world.installation.store
        // A node claims it and dies before storing anything.
        #expect(try await store.claimIntelAdd(holder: "node-dead", now: Self.t0, lease: IntelDesk.pendingLease) != nil)
        #expect(try await !desk.finishPendingAdd(holder: "node-b", now: { Self.t0.addingTimeInterval(IntelDesk.pendingLease - 1) }))
        #expect(try await resource(setup, status)["status"]?.string == "pending")
        #expect(try await desk.finishPendingAdd(holder: "node-b", now: { Self.t0.addingTimeInterval(IntelDesk.pendingLease + 1) }))
        #expect(try await resource(setup, status)["success_count"]?.number == 7)
        // The dead node's late progress is refused: it no longer holds the request.
        #expect(try await !store.progressIntelAdd(status.id, holder: "node-dead", body: [], now: Self.t0, lease: 60))
    }

    @Test("A request whose storing failed three times is given up: every object not stored is a failure saying why")
    func givenUp() async throws {
        let setup = try await IntelDeskTests.setup()
        let (desk, status) = try await Self.send(setup)
        let store = setup.world.installation.store
        var at = Self.t0
        for _ in 0..<IntelDesk.pendingAttempts {
            #expect(try await store.claimIntelAdd(holder: "node-crashing", now: at, lease: IntelDesk.pendingLease) != nil)
            at = at.addingTimeInterval(IntelDesk.pendingLease + 1)
        }
        let when = at
        #expect(try await desk.finishPendingAdd(holder: "node-b", now: { when }))
        let answer = try await resource(setup, status)
        #expect(answer["status"]?.string == "complete" && answer["success_count"]?.number == 0 && answer["failure_count"]?.number == 8)
        #expect(answer["failures"]?.array?.first?["message"]?.string == "was not stored: storing the request failed 3 times")
        #expect(try await IntelDeskTests().seen(setup, "b-admin").isEmpty)
        #expect(try await store.pendingIntelAdds() == 0)
    }

    @Test("Up to the limit, or where no job runs, a request is stored before the answer")
    func smallIsAnsweredComplete() async throws {
        let setup = try await IntelDeskTests.setup()
        var desk = setup.desk
        desk.objectsAnsweredAtOnce = 3
        let objects = (1...3).map { Stix.indicator(Stix.uuid($0), marking: .green, pattern: "[ipv4-addr:value = '198.51.100.\($0)']") }
        let status = try await desk.add(
            Stix.envelope(objects), to: setup.national, root: "national", by: setup.world.subject("a-admin"), mayDefer: true, now: Self.t0)
        #expect(status.pending == 0 && status.successes.count == 3)
        #expect(try await resource(setup, status)["status"]?.string == "complete")
        // Where no job runs (the command line), a larger request is stored before the answer.
        let more = (4...8).map { Stix.indicator(Stix.uuid($0), marking: .green, pattern: "[ipv4-addr:value = '198.51.100.\($0)']") }
        let stored = try await desk.add(Stix.envelope(more), to: setup.national, root: "national", by: setup.world.subject("a-admin"), now: Self.t0)
        #expect(stored.pending == 0 && stored.successes.count == 5)
        #expect(try await setup.world.installation.store.pendingIntelAdds() == 0)
    }

    @Test("A file uploaded on the page is accepted pending when large; the command line's import is stored before it returns")
    func files() async throws {
        let setup = try await IntelDeskTests.setup()
        var desk = setup.desk
        desk.objectsAnsweredAtOnce = 3
        let objects = (1...4).map { Stix.indicator(Stix.uuid($0), marking: .green, pattern: "[ipv4-addr:value = '198.51.100.\($0)']") }
        let bundle = try JSONValue.object(["type": .string("bundle"), "id": .string("bundle--\(Stix.uuid(99))"), "objects": .array(objects)]).encoded()
        let page = try await desk.importFile(bundle, named: "big.json", into: setup.national, by: setup.world.subject("a-admin"), mayDefer: true)
        #expect(page.status.pending == 4)
        #expect(try await desk.finishPendingAdd(holder: "node-a"))
        #expect(Set(try await IntelDeskTests().seen(setup, "b-admin")).count == 4)
        let cli = try await desk.importFile(bundle, named: "big.json", into: setup.national, by: setup.world.subject("a-admin"))
        #expect(cli.status.pending == 0 && cli.status.successes.count == 4)
    }
}

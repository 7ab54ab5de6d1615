import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

/// A peer that answers from a script: each request is recorded, and a page is chosen by the
/// `next` (or `added_after`) it carries. The real peer (OASIS medallion) is driven in the
/// end-to-end test; this one checks the paging decisions one by one.
actor ScriptedPeer: TaxiiTransport {
    var requests: [URLComponents] = []
    var pages: [String: TaxiiAnswer]
    var failing = false

    init(pages: [String: TaxiiAnswer]) {
        self.pages = pages
    }

    func fail(_ on: Bool) { failing = on }

    nonisolated func get(_ url: URL, accept: String, username: String, password: String, trust: String?) async throws -> TaxiiAnswer {
        try await answer(url, password: password)
    }

    func answer(_ url: URL, password: String) throws -> TaxiiAnswer {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        requests.append(components)
        if failing { return TaxiiAnswer(status: 503, body: Array(#"{"title":"Down for maintenance"}"#.utf8)) }
        guard password == "peer-secret" else { return TaxiiAnswer(status: 401, body: Array(#"{"title":"Unauthorized"}"#.utf8)) }
        let items = components.queryItems ?? []
        let key = items.first { $0.name == "next" }?.value ?? items.first { $0.name == "added_after" }?.value ?? "start"
        return pages[key] ?? TaxiiAnswer(status: 200, body: Array(#"{"more":false}"#.utf8))
    }

    static func page(_ objects: [JSONValue], more: Bool, next: String? = nil, last: String) throws -> TaxiiAnswer {
        var envelope: [String: JSONValue] = ["objects": .array(objects), "more": .bool(more)]
        if let next { envelope["next"] = .string(next) }
        return TaxiiAnswer(status: 200, headers: ["x-taxii-date-added-last": last], body: try JSONValue.object(envelope).encoded())
    }
}

@Suite("Peers: TAXII collections of other servers polled into a local collection")
struct IntelPeerTests {
    static func objects(_ range: Range<Int>, modified: String = "2026-11-01T10:00:00.000Z") -> [JSONValue] {
        range.map { Stix.indicator(Stix.uuid($0), modified: modified) }
    }

    func subscribed(_ setup: IntelDeskTests.Setup, peer: ScriptedPeer) async throws -> (IntelPeerDesk, IntelPeerRecord) {
        let installation = setup.world.installation
        let desk = IntelPeerDesk(intel: setup.desk, secrets: installation.secrets, transport: peer)
        let admin = try #require(setup.world.users["admin"])
        let record = try await desk.subscribe(
            .init(
                name: "cert-abroad", url: "https://taxii.cert.example/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116", collection: "National sharing",
                username: "qila", password: "peer-secret", interval: "600"), account: admin, by: setup.world.subject("admin"))
        return (desk, record)
    }

    @Test("A poll follows next with the same filters, stores each version once, keeps the source, and moves the cursor at the end")
    func pollsAndPages() async throws {
        let setup = try await IntelDeskTests.setup()
        let peer = ScriptedPeer(pages: [
            "start": try ScriptedPeer.page(Self.objects(0..<3), more: true, next: "p2", last: "2026-11-20T10:00:00.000Z"),
            "p2": try ScriptedPeer.page(Self.objects(3..<5), more: true, next: "p3", last: "2026-11-21T10:00:00.000Z"),
            "p3": try ScriptedPeer.page(Self.objects(4..<6), more: false, last: "2026-11-22T10:00:00.123456Z"),
        ])
        let (desk, record) = try await subscribed(setup, peer: peer)
        // The password is sealed, never stored as given.
        #expect(!String(decoding: record.sealedPassword, as: UTF8.self).contains("peer-secret"))

        let first = try await desk.poll(record, now: FixedInstant.thursdayAfternoon.date)
        #expect(first.error == nil && first.pages == 3 && first.received == 7 && first.added == 6)
        #expect(first.cursor == "2026-11-22T10:00:00.123456Z")
        let requests = await peer.requests
        #expect(requests.map { $0.path } == Array(repeating: "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/", count: 3))
        #expect(requests.map { $0.queryItems?.first { $0.name == "next" }?.value } == [nil, "p2", "p3"])
        #expect(requests.allSatisfy { $0.queryItems?.first { $0.name == "limit" }?.value == "1000" })

        // The objects are in the national collection with their source, for those GREEN reaches.
        let seen = try await setup.desk.objects(IntelDesk.Query(), in: record.localCollection, root: "national", for: setup.world.subject("bank-admin"))
        #expect(seen.records.count == 6 && seen.records.allSatisfy { $0.source == "peer:cert-abroad" })
        #expect(seen.records.allSatisfy { $0.producer == setup.world.authority.id })

        // The next poll starts after the cursor; a version already held is not stored again, a new one is.
        await peer.setPage(
            "2026-11-22T10:00:00.123456Z",
            try ScriptedPeer.page(Self.objects(5..<6) + Self.objects(5..<6, modified: "2026-11-23T10:00:00.000Z"), more: false, last: "2026-11-23T11:00:00.000Z"))
        let second = try await desk.poll(try await desk.peer(named: "cert-abroad"), now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(600))
        #expect(second.added == 1 && second.cursor == "2026-11-23T11:00:00.000Z")
        let stored = try #require(try await desk.peers().first)
        #expect(stored.objects == 7 && stored.cursor == "2026-11-23T11:00:00.000Z" && stored.lastError == nil)
        let lastRequest = try #require(await peer.requests.last)
        #expect(lastRequest.queryItems?.first { $0.name == "added_after" }?.value == "2026-11-22T10:00:00.123456Z")
    }

    @Test("A failed poll keeps the cursor, says why, and the next poll repeats it; polls are due by interval")
    func failuresAndSchedule() async throws {
        let setup = try await IntelDeskTests.setup()
        let peer = ScriptedPeer(pages: [
            "start": try ScriptedPeer.page(Self.objects(0..<2), more: true, next: "p2", last: "2026-11-20T10:00:00.000Z"),
            "p2": try ScriptedPeer.page(Self.objects(2..<4), more: false, last: "2026-11-21T10:00:00.000Z"),
        ])
        let (desk, record) = try await subscribed(setup, peer: peer)
        await peer.fail(true)
        let failed = try await desk.poll(record, now: FixedInstant.thursdayAfternoon.date)
        #expect(failed.error == "the peer answered 503 (Down for maintenance)")
        var stored = try #require(try await desk.peers().first)
        #expect(stored.cursor == nil && stored.lastError == failed.error)
        let audited = try await setup.world.installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "intel.peer.")
        #expect(audited.map(\.action) == ["intel.peer.add", "intel.peer.poll"] && audited.last?.outcome == .failure)

        await peer.fail(false)
        // Not due yet (600 s interval), then due.
        #expect(try await desk.pollDue(now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(599)).isEmpty)
        let due = try await desk.pollDue(now: FixedInstant.thursdayAfternoon.date.addingTimeInterval(600))
        #expect(due.map(\.peer) == ["cert-abroad"] && due.first?.poll.added == 4)
        stored = try #require(try await desk.peers().first)
        #expect(stored.cursor == "2026-11-21T10:00:00.000Z" && stored.lastError == nil)
    }

    @Test("A subscription names what is wrong, field by field")
    func refusedSubscriptions() async throws {
        let setup = try await IntelDeskTests.setup()
        let desk = IntelPeerDesk(intel: setup.desk, secrets: setup.world.installation.secrets, transport: ScriptedPeer(pages: [:]))
        let admin = try #require(setup.world.users["admin"])
        let good = IntelPeerDesk.Draft(
            name: "peer", url: "https://taxii.example/root/collections/abc/", collection: "National sharing", username: "u", password: "p")
        func field(_ change: (inout IntelPeerDesk.Draft) -> Void, account: String = "admin") async -> String? {
            var draft = good
            change(&draft)
            do {
                _ = try await desk.subscribe(draft, account: setup.world.users[account]!, by: nil)
                return nil
            } catch let error as QilaError {
                return error.field
            } catch {
                return "\(error)"
            }
        }
        #expect(await field { $0.url = "http://taxii.example/root/collections/abc/" } == "url")  // plain http off this machine
        #expect(await field { $0.url = "https://taxii.example/root/" } == "url")
        #expect(await field { $0.url = "not a url" } == "url")
        #expect(await field { $0.collection = "Operator A" } == "collection")  // one organisation's own collection
        #expect(await field { $0.collection = "nonexistent" } == "collection")
        #expect(await field { $0.interval = "5" } == "interval")
        #expect(await field { $0.password = "" } == "password")
        #expect(await field { $0.trust = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----" } == "trust")
        #expect(await field({ _ in }, account: "a-admin") == "account")
        #expect(await field { $0.url = "http://127.0.0.1:5000/root/collections/abc" } == nil)
        #expect(await field { $0.url = "http://127.0.0.1:5000/root/collections/abd" } == "name")  // the name is taken
        // An operator administrator cannot subscribe through a page either.
        await #expect(throws: QilaError.self) { _ = try await desk.subscribe(good, account: admin, by: setup.world.subject("a-admin")) }
    }
}

extension ScriptedPeer {
    func setPage(_ key: String, _ answer: TaxiiAnswer) { pages[key] = answer }
}

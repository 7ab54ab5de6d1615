import Foundation
import QilaAccess
import QilaCore
import QilaFlows
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaRetention

/// A warrant query made on one node reaches the traffic data another node holds. The link
/// between the desks here calls the other desk directly; `scripts/e2e/test_nodes.py` runs the
/// same exchange over mutual TLS between real nodes.
@Suite("Warrant queries across nodes")
struct WarrantAcrossNodesTests {
    /// Calls the desk of the node asked, as the node link would over HTTPS.
    struct DirectLink: TrafficDataLink {
        let desks: [String: WarrantDesk]
        let caller: String
        struct Down: Error {}
        func ask(_ node: NodeRecord, _ request: TrafficDataRequest) async throws -> TrafficDataAnswer {
            guard let desk = desks[node.id] else { throw Down() }
            return try await desk.answer(request, caller: caller)
        }
    }

    /// Node B: its own flow store (an ISP's collector), holding operator A's flows from another
    /// exporter, registered with a heartbeat that says so.
    static func nodeB(_ setup: WarrantDeskTests.Setup) async throws -> WarrantDesk {
        let installation = setup.world.installation
        let root = installation.dataDirectory + "/node-b/flows"
        let flows = try FlowStore(FlowStore.Configuration(root: root, signingKey: installation.secrets.auditEd25519))
        var batch = FlowBatch()
        let exporter = batch.exporterNumber(.init(exporter: FlowAddress(parsing: "192.0.2.2")!, domain: 0))
        for offset in stride(from: Int64(20_000), to: 25_000, by: 1_000) {
            var record = FlowRecord()
            record.start = WarrantDeskTests.t0Millis + offset
            record.end = record.start + 200
            record.source = FlowAddress(parsing: "10.0.0.1")!
            record.destination = FlowAddress(parsing: "198.51.100.77")!
            record.sourcePort = 41_000
            record.destinationPort = 53
            record.protocolNumber = 17
            record.packets = 1
            record.octets = 80
            batch.append(record, exporter: exporter)
        }
        try flows.append(batch, organisation: setup.world.operatorA.id.description, received: WarrantDeskTests.t0Millis + 30_000)
        let node = NodeIdentity(id: "node-b", name: "isp-collector")
        try await heartbeat(installation.store, node, organisation: setup.world.operatorA.id.description, flows: 5)
        return WarrantDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, flows: flows,
            subscribers: SubscriberRegistry(root: root, key: installation.secrets.sealingKey), nodes: TrafficDataNodes(store: installation.store, node: node))
    }

    static func heartbeat(_ store: SQLStore, _ node: NodeIdentity, organisation: String, flows: Int) async throws {
        var health = NodeHealth()
        health.trafficData = [NodeTrafficData(organisation: organisation, segments: 1, flows: flows, bytes: 4096, firstStart: nil, lastEnd: nil, assignments: 0)]
        try await store.heartbeat(
            NodeRecord(
                id: node.id, name: node.name, version: QilaVersion.description, address: "127.0.0.1:9", owns: [], health: health, startedAt: Date(),
                heartbeatAt: Date()))
    }

    static func approved(_ setup: WarrantDeskTests.Setup) async throws -> Warrant {
        let tests = WarrantDeskTests()
        let world = setup.world
        let warrant = try await setup.desk.record(tests.draft(setup), by: world.subject("investigator", now: WarrantDeskTests.now), gate: setup.gate, now: WarrantDeskTests.now)
        return try await setup.desk.decide(
            warrant.id, approve: true, note: nil, by: world.subject("a-legal", now: WarrantDeskTests.now), gate: setup.gate, now: WarrantDeskTests.now)
    }

    @Test("A query on one node includes the records another node holds; both parts are audited; the package names each node")
    func answeredByTheHolder() async throws {
        let setup = try await WarrantDeskTests.setup()
        let world = setup.world
        let store = world.installation.store
        let b = try await Self.nodeB(setup)
        // A third node holds only another organisation's data: it is not asked (the link cannot reach it).
        try await Self.heartbeat(store, NodeIdentity(id: "node-c", name: "other-isp"), organisation: world.operatorB.id.description, flows: 9)
        setup.desk.nodes.connect(DirectLink(desks: ["node-b": b], caller: world.installation.node.id))
        let warrant = try await Self.approved(setup)
        let investigator = world.subject("investigator", now: WarrantDeskTests.now)

        let result = try await setup.desk.query(
            warrant.id, addresses: [], subscribers: [], windowStart: nil, windowEnd: nil, by: investigator, gate: setup.gate, now: WarrantDeskTests.now)
        // Node A: 10 flows of 10.0.0.1 and 10 of alice's; node B: 5 more of 10.0.0.1 from its exporter.
        #expect(result.rows.count == 25)
        #expect(result.rows.filter { $0.exporter == "192.0.2.2/0" }.count == 5)
        #expect(result.nodes.map(\.name) == [world.installation.node.name, "isp-collector"] && result.nodes.map(\.records) == [20, 5])
        #expect(result.rows.map(\.start) == result.rows.map(\.start).sorted())

        let tar = try await setup.desk.package(result.query.id, of: warrant.id, for: investigator, gate: setup.gate)
        let manifest = try #require(WarrantDeskTests.untar(tar)["manifest.json"])
        let object = try JSONDecoder().decode([String: ManifestValue].self, from: Data(manifest))
        #expect(object["nodes"] == .text("\(world.installation.node.name): 20; isp-collector: 5"))
        #expect(object["records"] == .number(25))

        let entries = try await store.auditEntries(from: 0, limit: 1000, actionPrefix: "warrant.query")
        let answer = try #require(entries.first { $0.action == "warrant.query.answer" })
        #expect(answer.outcome == .success && answer.actor == "node:\(world.installation.node.id)")
        #expect(answer.details["node"] == "isp-collector" && answer.details["records"] == "5" && answer.details["query"] == result.query.id.description)
        let query = try #require(entries.first { $0.action == "warrant.query" && $0.outcome == .success })
        #expect(query.details["nodes"] == "\(world.installation.node.name): 20; isp-collector: 5")
        for entry in entries { #expect(!"\(entry.details)".contains("10.0.0.1"), "\(entry.action) names an identifier") }
    }

    @Test("A holder that does not answer, or cannot be called, stops the query: no partial export is made")
    func holderDown() async throws {
        let setup = try await WarrantDeskTests.setup()
        let world = setup.world
        let store = world.installation.store
        _ = try await Self.nodeB(setup)
        let warrant = try await Self.approved(setup)
        let investigator = world.subject("investigator", now: WarrantDeskTests.now)
        func attempt() async -> QilaError? {
            do {
                _ = try await setup.desk.query(
                    warrant.id, addresses: [], subscribers: [], windowStart: nil, windowEnd: nil, by: investigator, gate: setup.gate, now: WarrantDeskTests.now)
                return nil
            } catch { return error as? QilaError }
        }
        // Without TLS this node has no link to the others.
        let noLink = try #require(await attempt())
        #expect(noLink.code == .unavailable && noLink.message.contains("isp-collector"))
        // With a link, but node B does not answer.
        setup.desk.nodes.connect(DirectLink(desks: [:], caller: world.installation.node.id))
        let down = try #require(await attempt())
        #expect(down.code == .unavailable && down.message.contains("nothing was exported"))
        // Node B's last heartbeat said it was stopping: it is not called at all.
        var record = try #require(try await store.node(id: "node-b"))
        record.health.stopped = true
        try await store.heartbeat(record)
        let stopped = try #require(await attempt())
        #expect(stopped.code == .unavailable && stopped.message.contains("is not running (it was stopped"))
        #expect(try await store.warrantQueries(of: warrant.id).isEmpty)
        let refusals = try await store.auditEntries(from: 0, limit: 1000, actionPrefix: "warrant.query").filter { $0.outcome == .denied }
        #expect(refusals.count == 3 && refusals.allSatisfy { $0.details["reason"]?.contains("isp-collector") == true })
    }

    @Test("The holding node checks the warrant again: scope, window, investigator and status")
    func holderChecksAgain() async throws {
        let setup = try await WarrantDeskTests.setup()
        let world = setup.world
        let b = try await Self.nodeB(setup)
        let warrant = try await Self.approved(setup)
        let caller = world.installation.node.id
        let inScope = TrafficDataRequest(
            warrant: warrant.id.description, query: WarrantQueryID().description, investigator: warrant.investigator.description,
            addresses: ["10.0.0.1"], subscribers: [], windowStart: WarrantDeskTests.t0Millis - 3_600_000, windowEnd: WarrantDeskTests.t0Millis + 3_600_000)
        #expect(try await b.answer(inScope, caller: caller, now: WarrantDeskTests.now).rows.count == 5)

        func refused(_ change: (inout TrafficDataRequest) -> Void, now: Date = WarrantDeskTests.now) async -> QilaError.Code? {
            var request = inScope
            change(&request)
            do {
                _ = try await b.answer(request, caller: caller, now: now)
                return nil
            } catch { return (error as? QilaError)?.code }
        }
        #expect(await refused { $0.addresses = ["10.0.0.2"] } == .invalidInput)
        #expect(await refused { $0.subscribers = ["bob@isp.example"] } == .invalidInput)
        #expect(await refused { $0.windowEnd += 86_400_000 } == .invalidInput)
        #expect(await refused { $0.investigator = world.users["a-legal"]!.id.description } == .forbidden)
        #expect(await refused { _ in } == nil)
        #expect(await refused({ _ in }, now: warrant.expiresAt.addingTimeInterval(1)) == .conflict)
        _ = try await setup.desk.revoke(warrant.id, note: "withdrawn by the court", by: world.subject("investigator", now: WarrantDeskTests.now), gate: setup.gate)
        #expect(await refused { _ in } == .conflict)

        let answers = try await world.installation.store.auditEntries(from: 0, limit: 1000, actionPrefix: "warrant.query.answer")
        #expect(answers.map(\.outcome) == [.success, .denied, .denied, .denied, .denied, .success, .denied, .denied])
        #expect(answers.allSatisfy { $0.details["node"] == "isp-collector" && $0.actor == "node:\(caller)" })
        #expect(answers.filter { $0.outcome == .denied }.allSatisfy { !"\($0.details)".contains("10.0.0.2") && !"\($0.details)".contains("bob") })
    }

    enum ManifestValue: Decodable, Equatable {
        case text(String)
        case number(Int)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .other
            }
        }
    }
}

import Foundation
import QilaAccess
import QilaCore
import QilaFlows
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaRetention

@Suite("Flow sources, retention periods and NAT logs: the desk's rules")
struct FlowSourceDeskTests {
    static func setup() async throws -> (TenantWorld, FlowSourceDesk, DecisionGate) {
        let world = try await TenantWorld.make(on: .sqlite)
        let installation = world.installation
        let root = installation.dataDirectory + "/flows"
        let desk = FlowSourceDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets,
            subscribers: SubscriberRegistry(root: root, key: installation.secrets.sealingKey))
        return (world, desk, DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    func draft(_ world: TenantWorld, kind: String = "exporter", name: String = "Core router", address: String = "192.0.2.1", domain: String = "", secret: String = "")
        -> FlowSourceDesk.Draft
    {
        .init(organisation: world.operatorA.id.description, kind: kind, name: name, address: address, domain: domain, secret: secret)
    }

    func refusal(_ body: () async throws -> Void) async -> QilaError? {
        do {
            try await body()
            return nil
        } catch let error as QilaError {
            return error
        } catch {
            return nil
        }
    }

    @Test("each bad field is refused with that field named; nothing is stored")
    func refusals() async throws {
        let (world, desk, gate) = try await Self.setup()
        let admin = world.subject("a-admin")
        let cases: [(FlowSourceDesk.Draft, String)] = [
            (draft(world, name: "  "), "name"),
            (draft(world, name: String(repeating: "x", count: 101)), "name"),
            (draft(world, name: "bad\u{7}name"), "name"),
            (draft(world, kind: "netflow"), "kind"),
            (draft(world, address: "192.0.2.300"), "address"),
            (draft(world, address: ""), "address"),
            (draft(world, domain: "-1"), "domain"),
            (draft(world, domain: "4294967296"), "domain"),
            (draft(world, kind: "radius", secret: "fifteen chars.."), "secret"),
            (FlowSourceDesk.Draft(organisation: world.authority.id.description, kind: "exporter", name: "x", address: "192.0.2.1", domain: "", secret: ""), "organisation"),
            (FlowSourceDesk.Draft(organisation: "not-an-id", kind: "exporter", name: "x", address: "192.0.2.1", domain: "", secret: ""), "organisation"),
        ]
        for (bad, field) in cases {
            let error = await refusal { _ = try await desk.register(bad, by: admin, gate: gate) }
            #expect(error?.code == .invalidInput && error?.field == field, "expected \(field) refused, got \(String(describing: error))")
        }
        #expect(try await world.installation.store.flowSources().isEmpty)
    }

    @Test("registering seals a RADIUS secret, refuses a duplicate address, and audits; another organisation's admin is denied")
    func register() async throws {
        let (world, desk, gate) = try await Self.setup()
        let store = world.installation.store
        let radius = try await desk.register(
            draft(world, kind: "radius", name: "BNG", address: "192.0.2.7", secret: "a shared secret for the NAS"), by: world.subject("a-admin"), gate: gate)
        let stored = try #require(try await store.flowSource(radius.id))
        #expect(stored.domain == nil)
        let sealed = try #require(stored.sealedSecret)
        #expect(!String(decoding: sealed, as: UTF8.self).contains("shared secret"))
        #expect(String(decoding: try world.installation.secrets.open(sealed), as: UTF8.self) == "a shared secret for the NAS")
        let duplicate = await refusal {
            _ = try await desk.register(draft(world, kind: "radius", address: "192.0.2.7", secret: "another shared secret"), by: world.subject("a-admin"), gate: gate)
        }
        #expect(duplicate?.field == "address")
        let denied = await refusal { _ = try await desk.register(draft(world), by: world.subject("b-admin"), gate: gate) }
        #expect(denied?.code == .forbidden)
        let exporter = try await desk.register(draft(world, domain: "7"), by: world.subject("admin"), gate: gate)
        #expect(exporter.domain == 7)
        let actions = try await store.auditEntries(from: 0, limit: 1000, actionPrefix: "flows.source").map(\.action)
        #expect(actions == ["flows.source.create", "flows.source.create"])
        try await desk.remove(exporter.id, by: world.subject("a-admin"), gate: gate)
        #expect(try await store.flowSource(exporter.id) == nil)
        #expect(try await store.auditEntries(from: 0, limit: 1000, actionPrefix: "flows.source.delete").count == 1)
    }

    @Test("retention is a number of days from 1 to 3650, set by the authority only")
    func retention() async throws {
        let (world, desk, gate) = try await Self.setup()
        let operatorA = world.operatorA.id.description
        for bad in ["0", "3651", "a year", ""] {
            let error = await refusal { _ = try await desk.setRetention(bad, organisation: operatorA, by: world.subject("admin"), gate: gate) }
            #expect(error?.field == "days", "\(bad)")
        }
        let denied = await refusal { _ = try await desk.setRetention("30", organisation: operatorA, by: world.subject("a-admin"), gate: gate) }
        #expect(denied?.code == .forbidden)
        let (_, days) = try await desk.setRetention(" 400 ", organisation: operatorA, by: world.subject("admin"), gate: gate)
        #expect(days == 400)
        #expect(try await world.installation.store.flowRetention()[world.operatorA.id] == 400)
    }

    @Test("a NAT log is stored with the lines it could not read named; an empty one is refused")
    func assignments() async throws {
        let (world, desk, gate) = try await Self.setup()
        let operatorA = world.operatorA.id.description
        let empty = await refusal { _ = try await desk.importAssignments("  \n", organisation: operatorA, by: world.subject("a-admin"), gate: gate) }
        #expect(empty?.field == "log")
        let log = """
            time,event,address,port_first,port_last,internal_address
            2026-11-20T10:00:00Z,start,203.0.113.7,2000,2999,100.64.1.2
            yesterday,start,203.0.113.7,3000,3999,100.64.1.3
            """
        let imported = try await desk.importAssignments(log, organisation: operatorA, by: world.subject("a-admin"), gate: gate)
        #expect(imported.records == 1)
        #expect(imported.lineErrors.count == 1)
        #expect(imported.lineErrors.first?.contains("3") == true)
        let entry = try #require(try await world.installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "flows.assignments").first)
        #expect(entry.details["records"] == "1" && entry.details["rejectedLines"] == "1")
    }

    @Test("a NAT log for an organisation whose traffic data another node keeps is refused here, naming that node")
    func assignmentsOnTheHoldingNode() async throws {
        let (world, plain, gate) = try await Self.setup()
        let installation = world.installation
        let desk = FlowSourceDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, subscribers: plain.subscribers,
            nodes: TrafficDataNodes(store: installation.store, node: installation.node))
        let log = "time,event,address,port_first,port_last,internal_address\n2026-11-20T10:00:00Z,start,203.0.113.7,2000,2999,100.64.1.2\n"
        let operatorA = world.operatorA.id.description
        // No node holds operator A's data yet: this node takes it (and holds it from then on).
        #expect(try await desk.importAssignments(log, organisation: operatorA, by: world.subject("a-admin"), gate: gate).records == 1)
        var health = NodeHealth()
        health.trafficData = [NodeTrafficData(organisation: operatorA, segments: 3, flows: 900, bytes: 1 << 20, firstStart: nil, lastEnd: nil, assignments: 0)]
        try await installation.store.heartbeat(
            NodeRecord(id: "node-isp", name: "isp-collector", version: "test", address: "127.0.0.1:9", owns: [], health: health, startedAt: Date(), heartbeatAt: Date()))
        #expect(try await desk.importAssignments(log, organisation: operatorA, by: world.subject("a-admin"), gate: gate).records == 1)
        // Operator B's flows are on the collector node alone: the log belongs there.
        let operatorB = world.operatorB.id.description
        health.trafficData?[0].organisation = operatorB
        try await installation.store.heartbeat(
            NodeRecord(id: "node-isp", name: "isp-collector", version: "test", address: "127.0.0.1:9", owns: [], health: health, startedAt: Date(), heartbeatAt: Date()))
        let refused = await refusal { _ = try await desk.importAssignments(log, organisation: operatorB, by: world.subject("b-admin"), gate: gate) }
        #expect(refused?.field == "organisation" && refused?.message.contains("isp-collector") == true)
        #expect(desk.subscribers.counts(organisation: operatorB).bindings == 0)
    }
}

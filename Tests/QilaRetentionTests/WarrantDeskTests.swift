import Crypto
import Foundation
import QilaAccess
import QilaCore
import QilaFlows
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaRetention

@Suite("Warrant-scoped access to traffic data")
struct WarrantDeskTests {
    struct Setup {
        var world: TenantWorld
        var desk: WarrantDesk
        var gate: DecisionGate
        var t0: Date
    }

    static let t0Millis: Int64 = 1_790_000_000_000

    static func setup(backend: TestBackend = .sqlite) async throws -> Setup {
        var world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        // Operator A's legal officer is in the world already; Operator B gets one.
        for (name, organisation) in [("b-legal", world.operatorB)] {
            world.users[name] = try await installation.directory.createUser(
                .init(kind: .person, username: name, displayName: name, roles: [.legalOfficer], clearance: .amber), in: organisation.id, by: nil)
        }
        let root = installation.dataDirectory + "/flows"
        let flows = try FlowStore(FlowStore.Configuration(root: root, signingKey: installation.secrets.auditEd25519))
        let registry = SubscriberRegistry(root: root, key: installation.secrets.sealingKey)
        let provider = world.operatorA.id.description
        // Operator A's flows: 10.0.0.1 talks to 198.51.100.1; NATed subscriber traffic leaves as 203.0.113.7.
        var batch = FlowBatch()
        let exporter = batch.exporterNumber(.init(exporter: FlowAddress(parsing: "192.0.2.1")!, domain: 0))
        func flow(_ source: String, _ sourcePort: UInt16, _ destination: String, at offset: Int64, translated: (String, UInt16)? = nil) -> FlowRecord {
            var record = FlowRecord()
            record.start = t0Millis + offset
            record.end = t0Millis + offset + 500
            record.source = FlowAddress(parsing: source)!
            record.destination = FlowAddress(parsing: destination)!
            record.sourcePort = sourcePort
            record.destinationPort = 443
            record.protocolNumber = 6
            record.packets = 10
            record.octets = 4_000
            if let translated {
                record.translatedSource = FlowAddress(parsing: translated.0)!
                record.translatedSourcePort = translated.1
            }
            return record
        }
        for offset in stride(from: Int64(0), to: 10_000, by: 1_000) {
            batch.append(flow("10.0.0.1", 40_000, "198.51.100.1", at: offset), exporter: exporter)
            batch.append(flow("10.0.0.2", 40_001, "198.51.100.2", at: offset), exporter: exporter)
            batch.append(flow("100.64.1.2", 50_000, "198.51.100.9", at: offset, translated: ("203.0.113.7", 2_100)), exporter: exporter)
            batch.append(flow("100.64.1.3", 50_000, "198.51.100.9", at: offset, translated: ("203.0.113.7", 2_200)), exporter: exporter)
        }
        try flows.append(batch, organisation: provider, received: t0Millis + 10_000)
        try registry.record(
            [
                AssignmentEvent(kind: .start, source: .radius, time: t0Millis - 60_000, address: FlowAddress(parsing: "100.64.1.2")!, subscriber: "alice@isp.example", session: "A"),
                AssignmentEvent(kind: .start, source: .radius, time: t0Millis - 60_000, address: FlowAddress(parsing: "100.64.1.3")!, subscriber: "bob@isp.example", session: "B"),
                AssignmentEvent(kind: .start, source: .radius, time: t0Millis - 60_000, address: FlowAddress(parsing: "10.0.0.1")!, subscriber: "carol@isp.example", session: "C"),
            ], organisation: provider)
        let desk = WarrantDesk(
            store: installation.store, audit: installation.audit, secrets: installation.secrets, flows: flows, subscribers: registry,
            nodes: TrafficDataNodes(store: installation.store, node: installation.node))
        return Setup(world: world, desk: desk, gate: DecisionGate(policy: installation.policy, audit: installation.audit),
                     t0: Date(timeIntervalSince1970: Double(t0Millis) / 1000))
    }

    func draft(_ setup: Setup, addresses: String = "10.0.0.1", subscribers: String = "alice@isp.example", discloses: Bool = true) -> WarrantDesk.Draft {
        WarrantDesk.Draft(
            provider: setup.world.operatorA.id.description, court: "Court of the Magistrate, Islamabad", number: "CR-2026-0142",
            issuedAt: WarrantDesk.format(Self.now.addingTimeInterval(-3 * 86_400)),
            expiresAt: String(WarrantDesk.format(Self.now.addingTimeInterval(27 * 86_400)).prefix(16)) + "Z", agency: "FIA Cybercrime Wing", addresses: addresses,
            subscribers: subscribers, disclosesSubscribers: discloses,
            windowStart: WarrantDesk.format(setup.t0.addingTimeInterval(-3600)), windowEnd: WarrantDesk.format(setup.t0.addingTimeInterval(3600)))
    }

    /// The policy decision point reads the real clock for second-factor freshness, so the
    /// warrants here are dated around the real present.
    static let now = Date()

    @Test("Record, approve, query within scope, export signed; every step audited with no identifiers")
    func lifecycle() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let desk = setup.desk
        let investigator = world.subject("investigator", now: Self.now)
        let warrant = try await desk.record(draft(setup), by: investigator, gate: setup.gate, now: Self.now)
        #expect(warrant.status == .pending)

        // No query before approval; another provider's legal officer cannot approve.
        await #expect(throws: QilaError.self) {
            _ = try await desk.query(warrant.id, addresses: [], subscribers: [], windowStart: nil, windowEnd: nil, by: investigator, gate: setup.gate, now: Self.now)
        }
        await #expect(throws: QilaError.self) {
            _ = try await desk.decide(warrant.id, approve: true, note: nil, by: world.subject("b-legal", now: Self.now), gate: setup.gate, now: Self.now)
        }
        // The legal officer needs a fresh second factor to approve.
        var stale = world.subject("a-legal", now: Self.now)
        stale.mfaAt = Self.now.addingTimeInterval(-3600)
        await #expect(throws: QilaError.self) { _ = try await desk.decide(warrant.id, approve: true, note: nil, by: stale, gate: setup.gate, now: Self.now) }
        let approved = try await desk.decide(warrant.id, approve: true, note: nil, by: world.subject("a-legal", now: Self.now), gate: setup.gate, now: Self.now)
        #expect(approved.status == .approved && approved.decidedBy == world.users["a-legal"]!.id)

        let result = try await desk.query(warrant.id, addresses: [], subscribers: [], windowStart: nil, windowEnd: nil, by: investigator, gate: setup.gate, now: Self.now)
        // 10 flows of 10.0.0.1 and 10 of alice's (through the NAT block); none of 10.0.0.2 or bob.
        #expect(result.rows.count == 20)
        #expect(Set(result.rows.map(\.source)) == ["10.0.0.1", "100.64.1.2"])
        #expect(result.rows.filter { $0.source == "10.0.0.1" }.allSatisfy { $0.subscriber == "carol@isp.example" && $0.matched == "address 10.0.0.1" })
        #expect(result.rows.filter { $0.source == "100.64.1.2" }.allSatisfy { $0.subscriber == "alice@isp.example" && $0.matched == "subscriber 1" })

        // The package: manifest hashes match the files, the signature verifies with the audit key.
        let tar = try await desk.package(result.query.id, of: warrant.id, for: investigator, gate: setup.gate)
        let files = Self.untar(tar)
        #expect(Set(files.keys) == ["records.csv", "records.json", "manifest.json", "manifest.sig", "signing-key.pub", "README.txt"])
        let manifest = try #require(files["manifest.json"])
        let object = try JSONSerialization.jsonObject(with: Data(manifest)) as! [String: Any]
        #expect(object["records"] as? Int == 20 && object["warrantNumber"] as? String == "CR-2026-0142")
        for file in object["files"] as! [[String: Any]] {
            let name = file["name"] as! String
            #expect(Hex.encode(SHA256.hash(data: files[name]!)) == file["sha256"] as? String)
        }
        let signature = Data(base64Encoded: String(decoding: files["manifest.sig"]!, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(world.installation.secrets.auditEd25519.publicKey.isValidSignature(signature, for: manifest))
        #expect(String(decoding: files["records.csv"]!, as: UTF8.self).split(separator: "\n").count == 21)

        // The package is sealed in the database.
        let sealed = try #require(try await world.installation.store.warrantExport(result.query.id))
        let text = String(decoding: sealed, as: UTF8.self)
        #expect(!text.contains("10.0.0.1") && !text.contains("alice") && !text.contains("records.csv"))

        // Audit: recorded, approved, queried, downloaded; no identifier in any entry.
        let entries = try await world.installation.store.auditEntries(from: 0, limit: 1000, actionPrefix: "warrant.")
        #expect(entries.map { "\($0.action) \($0.outcome.rawValue)" } == [
            "warrant.record success", "warrant.query denied", "warrant.approve success", "warrant.query success", "warrant.export.download success",
        ])
        for entry in try await world.installation.store.auditEntries(from: 0, limit: 5000, actionPrefix: nil) {
            let text = "\(entry.resource) \(entry.details)"
            #expect(!text.contains("10.0.0.1") && !text.contains("alice"), "\(entry.action) leaks an identifier")
        }
        // The database keeps the scope sealed.
        let row = try #require(try await world.installation.store.warrant(warrant.id))
        #expect(!String(decoding: row.sealedScope, as: UTF8.self).contains("10.0.0.1"))
    }

    @Test("Queries outside scope, window, validity or with a stale second factor are refused and recorded")
    func refusals() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let desk = setup.desk
        let investigator = world.subject("investigator", now: Self.now)
        let warrant = try await desk.record(draft(setup, subscribers: ""), by: investigator, gate: setup.gate, now: Self.now)
        _ = try await desk.decide(warrant.id, approve: true, note: nil, by: world.subject("a-legal", now: Self.now), gate: setup.gate, now: Self.now)
        func refused(_ addresses: [String], _ subscribers: [String] = [], start: Date? = nil, end: Date? = nil, by subject: Subject? = nil, now: Date = Self.now) async -> Bool {
            do {
                _ = try await desk.query(warrant.id, addresses: addresses, subscribers: subscribers, windowStart: start, windowEnd: end, by: subject ?? investigator, gate: setup.gate, now: now)
                return false
            } catch { return true }
        }
        #expect(await refused(["10.0.0.2"]))
        #expect(await refused([], ["bob@isp.example"]))
        #expect(await refused(["10.0.0.1"], start: setup.t0.addingTimeInterval(-7200)))
        #expect(await refused(["10.0.0.1"], now: Self.now.addingTimeInterval(60 * 86_400)))
        var stale = investigator
        stale.mfaAt = Self.now.addingTimeInterval(-20 * 60)
        #expect(await refused(["10.0.0.1"], by: stale))
        var token = investigator
        token.method = .apiToken
        token.tokenScopes = [.read, .write, .admin]
        token.mfaAt = nil
        #expect(await refused(["10.0.0.1"], by: token), "an API token never reaches traffic data")
        #expect(await refused(["10.0.0.1"], by: world.subject("analyst", now: Self.now)))
        #expect(!(await refused(["10.0.0.1"])))
        let denied = try await world.installation.store.auditEntries(from: 0, limit: 1000, actionPrefix: nil).filter { $0.outcome == .denied }
        #expect(denied.count >= 7)

        // Revoked: no more queries. A narrower window inside the warrant's is fine before that.
        #expect(!(await refused(["10.0.0.1"], start: setup.t0, end: setup.t0.addingTimeInterval(5))))
        _ = try await desk.revoke(warrant.id, note: "case closed", by: investigator, gate: setup.gate, now: Self.now)
        #expect(await refused(["10.0.0.1"]))
    }

    @Test("Bad warrant input names the field; rejection needs a reason; oversight sees counts only")
    func validationAndOversight() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let desk = setup.desk
        let investigator = world.subject("investigator", now: Self.now)
        var bad = draft(setup)
        bad.addresses = "10.0.0.1, 10.0.0.0/8"
        await #expect(throws: QilaError.invalid("'10.0.0.0/8' is not a single IPv4 or IPv6 address", field: "addresses")) {
            _ = try await desk.record(bad, by: investigator, gate: setup.gate, now: Self.now)
        }
        bad = draft(setup)
        bad.expiresAt = String(WarrantDesk.format(Self.now.addingTimeInterval(-30 * 86_400)).prefix(10))
        await #expect(throws: QilaError.invalid("must be after the issuing date", field: "expiresAt")) {
            _ = try await desk.record(bad, by: investigator, gate: setup.gate, now: Self.now)
        }
        bad = draft(setup, addresses: "", subscribers: "")
        await #expect(throws: QilaError.self) { _ = try await desk.record(bad, by: investigator, gate: setup.gate, now: Self.now) }
        await #expect(throws: QilaError.self) {
            _ = try await desk.record(draft(setup), by: world.subject("a-admin", now: Self.now), gate: setup.gate, now: Self.now)
        }
        let first = try await desk.record(draft(setup), by: investigator, gate: setup.gate, now: Self.now)
        let second = try await desk.record(draft(setup), by: investigator, gate: setup.gate, now: Self.now)
        let legal = world.subject("a-legal", now: Self.now)
        await #expect(throws: QilaError.invalid("give the reason for rejecting", field: "note")) {
            _ = try await desk.decide(first.id, approve: false, note: " ", by: legal, gate: setup.gate, now: Self.now)
        }
        _ = try await desk.decide(first.id, approve: false, note: "the order names another provider", by: legal, gate: setup.gate, now: Self.now.addingTimeInterval(7200))
        _ = try await desk.decide(second.id, approve: true, note: nil, by: legal, gate: setup.gate, now: Self.now.addingTimeInterval(3600))
        _ = try await desk.query(second.id, addresses: [], subscribers: [], windowStart: nil, windowEnd: nil, by: investigator, gate: setup.gate, now: Self.now)

        let statistics = try await desk.statistics(for: world.subject("overseer", now: Self.now), gate: setup.gate)
        #expect(statistics.byStatus[.rejected] == 1 && statistics.byStatus[.approved] == 1 && statistics.queries == 1 && statistics.records == 20)
        #expect(statistics.decisionHours.count == 2)
        await #expect(throws: QilaError.self) { _ = try await desk.warrant(second.id, for: world.subject("overseer", now: Self.now), gate: setup.gate) }
        await #expect(throws: QilaError.self) { _ = try await desk.statistics(for: investigator, gate: setup.gate) }
        // Each sees their own: the investigator both, B's legal officer none.
        #expect(try await desk.warrants(for: investigator, policy: world.installation.policy).count == 2)
        #expect(try await desk.warrants(for: world.subject("b-legal", now: Self.now), policy: world.installation.policy).isEmpty)
    }

    /// Reads a ustar archive into name → contents.
    static func untar(_ bytes: [UInt8]) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        var offset = 0
        while offset + 512 <= bytes.count {
            let header = Array(bytes[offset..<(offset + 512)])
            if header.allSatisfy({ $0 == 0 }) { break }
            let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
            let size = Int(String(decoding: header[124..<135].prefix { $0 != 0 }, as: UTF8.self), radix: 8) ?? 0
            files[name] = Array(bytes[(offset + 512)..<(offset + 512 + size)])
            offset += 512 + (size + 511) / 512 * 512
        }
        return files
    }
}

@Suite("Retention inside qila serve")
struct RetentionRuntimeTests {
    @Test("Sealed and expired segments are recorded in the audit log; registered sources reach the listeners")
    func chainInAuditLog() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let installation = world.installation
        var settings = RetentionRuntime.Settings()
        settings.defaultRetentionDays = 30
        let runtime = try RetentionRuntime(installation: installation, settings: settings)
        let organisation = world.operatorA.id.description
        var batch = FlowBatch()
        let exporter = batch.exporterNumber(.init(exporter: FlowAddress(parsing: "192.0.2.1")!, domain: 0))
        var record = FlowRecord()
        record.source = FlowAddress(parsing: "10.0.0.1")!
        record.destination = FlowAddress(parsing: "198.51.100.1")!
        let now = Date()
        let old = Int64(now.timeIntervalSince1970 * 1000) - 40 * 86_400_000
        record.start = old
        record.end = old + 1_000
        batch.append(record, exporter: exporter)
        try runtime.store.append(batch, organisation: organisation, received: old)

        try await runtime.sealAndRecord(now: now)
        var entries = try await installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "flows.segment")
        #expect(entries.map(\.action) == ["flows.segment.seal"])
        #expect(entries.first?.details["sha256"]?.count == 64 && entries.first?.resource.hasPrefix("flows:\(organisation)/") == true)

        // Operator A keeps 365 days by the authority's notice: nothing goes. At the default 30, it goes.
        try await installation.store.setFlowRetention(365, for: world.operatorA.id)
        #expect(try await runtime.expire(now: now) == 0)
        try await installation.store.setFlowRetention(30, for: world.operatorA.id)
        #expect(try await runtime.expire(now: now) == 1)
        entries = try await installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "flows.segment")
        #expect(entries.map(\.action) == ["flows.segment.seal", "flows.segment.delete"])
        #expect(runtime.store.verify().isValid)

        // A registered RADIUS client's secret is opened for the listener; an exporter reaches the collector.
        try await installation.store.createFlowSource(
            FlowSource(organisation: world.operatorA.id, kind: .radius, name: "bng", address: "127.0.0.1",
                       sealedSecret: try installation.secrets.seal(Array("a shared secret, 16+".utf8))))
        try await installation.store.createFlowSource(FlowSource(organisation: world.operatorA.id, kind: .exporter, name: "router", address: "127.0.0.1"))
        await #expect(throws: (any Error).self) {
            try await installation.store.createFlowSource(FlowSource(organisation: world.operatorB.id, kind: .exporter, name: "again", address: "127.0.0.1"))
        }
        try await runtime.reloadSources()
        #expect(try await installation.store.flowSources(of: world.operatorA.id).count == 2)
    }
}

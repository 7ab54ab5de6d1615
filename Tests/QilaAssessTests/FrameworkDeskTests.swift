import Foundation
import QilaAccess
import QilaAssess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@Suite("Frameworks the authority adds: stored for every node, checked whole, versions fixed, audited")
struct FrameworkDeskTests {
    static let instant = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("The authority adds its regulations; every member reads them; a version never changes", arguments: TestBackend.available)
    func add(backend: TestBackend) async throws {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let desk = FrameworkDesk(store: installation.store, audit: installation.audit)
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let yaml = ScoringTests.yaml
        let added = try await desk.add(yaml: yaml, named: "telecom.yaml", by: world.subject("analyst"), gate: gate, now: Self.instant)
        #expect(added.id == "telecom-regs" && added.answered.count == 3)
        let library = try await desk.library()
        #expect(library.frameworks.map(\.id) == ["cisa-cpg-2.0", "nist-csf-2.0", "telecom-regs"])
        #expect(try await desk.framework("telecom-regs", version: "2026")?.answered.map(\.id) == ["P1.1", "P1.2", "P2.1"])

        // The same version again is refused, naming the version; a revision with a new version is kept beside it.
        await #expect { try await desk.add(yaml: yaml, named: "again.yaml", by: world.subject("analyst"), gate: gate) } throws: { error in
            (error as? QilaError).map { $0.field == "file" && $0.message.contains("already stored") } ?? false
        }
        let revised = yaml.replacingOccurrences(of: "version: \"2026\"", with: "version: \"2027\"")
            .replacingOccurrences(of: "Management interfaces", with: "Management and signalling interfaces")
        _ = try await desk.add(yaml: revised, named: "telecom-2027.yaml", by: world.subject("analyst"), gate: gate)
        #expect(try await desk.framework("telecom-regs")?.version == "2027")
        #expect(try await desk.framework("telecom-regs", version: "2026")?.requirement("P2.1")?.text.hasPrefix("Management interfaces") == true)

        let audited = try await installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "assessment.framework.")
        #expect(audited.map(\.resource) == ["framework:telecom-regs@2026", "framework:telecom-regs@2027"])
    }

    @Test("Refused: an operator, a file with problems (all listed), a shipped id, a mapping to nowhere", arguments: TestBackend.available)
    func refused(backend: TestBackend) async throws {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let desk = FrameworkDesk(store: installation.store, audit: installation.audit)
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        func refusal(_ yaml: String, as name: String = "analyst") async -> QilaError? {
            do {
                _ = try await desk.add(yaml: yaml, named: "f.yaml", by: world.subject(name), gate: gate)
                return nil
            } catch {
                return error as? QilaError
            }
        }
        let operatorTry = await refusal(ScoringTests.yaml, as: "a-admin")
        #expect(operatorTry?.code == .forbidden)
        let broken = await refusal(ScoringTests.yaml.replacingOccurrences(of: "kind: status", with: "kind: stars") + "\ncolour: red\n")
        #expect(broken?.field == "file" && broken?.message.contains("has 2 problems") == true)
        #expect(broken?.message.contains("f.yaml, line 20, key colour") == true, "\(broken?.message ?? "")")
        let shipped = await refusal(ScoringTests.yaml.replacingOccurrences(of: "id: telecom-regs", with: "id: nist-csf-2.0"))
        #expect(shipped?.message.contains("shipped framework") == true)
        let mapped = await refusal(ScoringTests.yaml + "\nmappings:\n  - target: nist-csf-2.0\n    links:\n      - {from: P1.1, to: GV.XX-01, relation: subset}\n")
        #expect(mapped?.message.contains("'GV.XX-01' is not a requirement of nist-csf-2.0") == true)
        #expect(try await installation.store.frameworks().isEmpty)
        #expect(try await installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "policy.deny").count == 1)
    }
}

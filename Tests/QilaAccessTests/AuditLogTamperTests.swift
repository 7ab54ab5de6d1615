import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

/// Someone with write access to the database changes, removes or reorders audit rows; the
/// verifier must notice every time, on every backend.
@Suite("Audit log tamper evidence")
struct AuditLogTamperTests {
    /// An installation whose log holds 40 entries under signed heads at sizes 10, 25 and 40.
    func populated(_ backend: TestBackend) async throws -> Installation {
        let installation = try await backend.makeInstallation()
        let organisation = try await installation.directory.createOrganisation(
            .init(name: "Operator", kind: .licensee, sector: "telecom"), by: nil)
        var sizes: Set<Int64> = [10, 25, 40]
        while await installation.audit.size < 40 {
            let size = await installation.audit.size
            try await installation.audit.append(
                AuditEntry(
                    time: Date(), actor: "user-\(size)", actorOrganisation: organisation.id, action: "data.read",
                    outcome: .success, resource: "report:\(size)", sourceAddress: "192.0.2.\(size % 250)",
                    details: ["n": String(size)]))
            if sizes.remove(await installation.audit.size) != nil {
                try await installation.audit.signTreeHead()
            }
        }
        let report = try await installation.verifier().verify()
        #expect(report.isIntact, "\(report)")
        #expect(report.entries == 40)
        #expect(report.treeHeads == 3)
        return installation
    }

    /// Drops the append-only guard first, as an attacker with owner rights would.
    func tamper(_ installation: Installation, _ sql: String, _ binds: [SQLValue] = []) async throws {
        let database = installation.store.database
        switch database.dialect {
        case .sqlite:
            for trigger in ["audit_entries_no_update", "audit_entries_no_delete", "audit_heads_no_update", "audit_heads_no_delete"] {
                try await database.execute("DROP TRIGGER IF EXISTS \(trigger)")
            }
        case .postgres:
            try await database.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
            try await database.execute("DROP TRIGGER IF EXISTS audit_heads_append_only ON audit_tree_heads")
        }
        try await database.execute(sql, binds)
    }

    @Test("ordinary statements cannot change or delete audit rows", arguments: TestBackend.available)
    func appendOnlyGuard(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        let database = installation.store.database
        await #expect(throws: (any Error).self) { try await database.execute("UPDATE audit_entries SET actor = 'x' WHERE idx = 1") }
        await #expect(throws: (any Error).self) { try await database.execute("DELETE FROM audit_entries WHERE idx = 1") }
        await #expect(throws: (any Error).self) { try await database.execute("DELETE FROM audit_tree_heads") }
        #expect(try await installation.verifier().verify().isIntact)
    }

    @Test("an intact log verifies, with inclusion and consistency proofs", arguments: TestBackend.available)
    func intact(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        let head = try #require(try await installation.store.latestTreeHead())
        let root = try #require(Hex.decode(head.rootHash))
        for index: Int64 in [0, 7, 24, 39] {
            let proof = try await AuditVerifier.inclusionProof(store: installation.store, index: index, treeSize: head.treeSize)
            #expect(MerkleTree.verifyInclusion(index: index, treeSize: head.treeSize, leafHash: proof.leaf, proof: proof.proof, root: root))
        }
        let heads = try await installation.store.treeHeads()
        let consistency = try await AuditVerifier.consistencyProof(store: installation.store, from: heads[0].treeSize, to: heads[2].treeSize)
        #expect(
            MerkleTree.verifyConsistency(
                firstSize: heads[0].treeSize, secondSize: heads[2].treeSize, firstRoot: Hex.decode(heads[0].rootHash)!,
                secondRoot: root, proof: consistency.proof))
    }

    @Test("changing any field of an entry is detected", arguments: TestBackend.available)
    func changed(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        try await tamper(installation, "UPDATE audit_entries SET actor = 'someone-else' WHERE idx = 12")
        let report = try await installation.verifier().verify()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.contains("entry 12") })
        #expect(report.problems.contains { $0.contains("signed root") })
    }

    @Test("changing an entry and its stored hash together is still detected", arguments: TestBackend.available)
    func changedWithHash(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        var entry = try #require(try await installation.store.auditEntries(from: 3, limit: 1, actionPrefix: nil).first)
        entry.outcome = .denied
        try await tamper(
            installation, "UPDATE audit_entries SET outcome = 'denied', leaf_hash = ? WHERE idx = 3",
            [.blob(MerkleTree.leafHash(entry.canonicalBytes))])
        let report = try await installation.verifier().verify()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.contains("signed root") })
    }

    @Test("removing an entry is detected", arguments: TestBackend.available)
    func removed(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        try await tamper(installation, "DELETE FROM audit_entries WHERE idx = 30")
        let report = try await installation.verifier().verify()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.contains("entry 30 is missing") })
    }

    @Test("removing the newest entries is detected", arguments: TestBackend.available)
    func truncated(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        try await tamper(installation, "DELETE FROM audit_entries WHERE idx >= 35")
        let report = try await installation.verifier().verify()
        #expect(!report.isIntact)
        #expect(report.problems.contains { $0.contains("no longer in the log") })
    }

    @Test("reordering two entries is detected", arguments: TestBackend.available)
    func reordered(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        try await tamper(installation, "UPDATE audit_entries SET idx = 1000 WHERE idx = 5")
        try await tamper(installation, "UPDATE audit_entries SET idx = 5 WHERE idx = 6")
        try await tamper(installation, "UPDATE audit_entries SET idx = 6 WHERE idx = 1000")
        let report = try await installation.verifier().verify()
        #expect(!report.isIntact)
    }

    @Test("a forged tree head is detected", arguments: TestBackend.available)
    func forgedHead(_ backend: TestBackend) async throws {
        let installation = try await populated(backend)
        try await tamper(installation, "UPDATE audit_tree_heads SET root_hash = ? WHERE tree_size = 25", [.text(String(repeating: "0", count: 64))])
        let report = try await installation.verifier().verify()
        #expect(report.problems.contains { $0.contains("Ed25519 signature does not verify") })
        #expect(report.problems.contains { $0.contains("ML-DSA-65 signature does not verify") })
    }

    @Test("concurrent appends get distinct, gap-free indices", arguments: TestBackend.available)
    func concurrentAppends(_ backend: TestBackend) async throws {
        let installation = try await backend.makeInstallation()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<200 {
                group.addTask {
                    try await installation.audit.append(
                        AuditEntry(time: Date(), actor: "a\(n)", action: "test.concurrent", outcome: .success))
                }
            }
            try await group.waitForAll()
        }
        #expect(try await installation.store.auditEntryCount() == 200)
        try await installation.audit.signTreeHead()
        #expect(try await installation.verifier().verify().isIntact)
    }
}

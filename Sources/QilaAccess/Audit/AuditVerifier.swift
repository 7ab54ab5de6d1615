public import Crypto
public import Foundation
public import QilaCore
public import QilaStore

/// Checks the whole audit log against its signed tree heads, as someone who trusts neither the
/// operators nor the database would: every entry is re-encoded and re-hashed from its fields.
public struct AuditVerifier: Sendable {
    public struct Report: Sendable, CustomStringConvertible {
        public var entries: Int64 = 0
        public var treeHeads: Int = 0
        public var problems: [String] = []
        public var latestRoot: String?
        public var isIntact: Bool { problems.isEmpty }

        public var description: String {
            var lines = ["checked \(entries) entries against \(treeHeads) signed tree heads"]
            if let latestRoot { lines.append("root of the whole log: \(latestRoot)") }
            lines += problems.map { "PROBLEM: \($0)" }
            lines.append(isIntact ? "the audit log is intact" : "the audit log has been TAMPERED WITH or damaged")
            return lines.joined(separator: "\n")
        }
    }

    public let store: any AuditRepository
    public let ed25519: Curve25519.Signing.PublicKey
    public let mldsa65: MLDSA65.PublicKey

    public init(store: any AuditRepository, ed25519: Curve25519.Signing.PublicKey, mldsa65: MLDSA65.PublicKey) {
        self.store = store
        self.ed25519 = ed25519
        self.mldsa65 = mldsa65
    }

    /// Reads every entry in pages, reporting progress as `(entries read, total)`.
    public func verify(progress: (@Sendable (Int64, Int64) -> Void)? = nil) async throws -> Report {
        var report = Report()
        let total = try await store.auditEntryCount()
        var leaves: [MerkleTree.Hash] = []
        leaves.reserveCapacity(Int(total))
        var expected: Int64 = 0
        while true {
            let page = try await store.auditEntries(from: expected, limit: 5_000, actionPrefix: nil)
            if page.isEmpty { break }
            for entry in page {
                if entry.index != expected {
                    report.problems.append("entry \(expected) is missing: the next stored entry is \(entry.index)")
                    expected = entry.index
                }
                leaves.append(MerkleTree.leafHash(entry.canonicalBytes))
                expected += 1
            }
            progress?(expected, total)
        }
        report.entries = Int64(leaves.count)
        let stored = try await store.auditLeafHashes(0..<Int64(leaves.count))
        for (index, (recomputed, kept)) in zip(leaves, stored).enumerated() where recomputed != kept {
            report.problems.append("entry \(index) does not match the hash recorded when it was written")
        }
        let heads = try await store.treeHeads()
        report.treeHeads = heads.count
        var frontier = MerkleFrontier()
        var previous: SignedTreeHead?
        for head in heads {
            let message = head.signedBytes
            if let signature = Data(base64Encoded: head.ed25519Signature),
                ed25519.isValidSignature(signature, for: message)
            {
            } else {
                report.problems.append("tree head of size \(head.treeSize): the Ed25519 signature does not verify")
            }
            if let signature = Data(base64Encoded: head.mldsa65Signature),
                mldsa65.isValidSignature(signature, for: message)
            {
            } else {
                report.problems.append("tree head of size \(head.treeSize): the ML-DSA-65 signature does not verify")
            }
            if let previous, head.time < previous.time {
                report.problems.append("tree head of size \(head.treeSize) is dated before the head of size \(previous.treeSize)")
            }
            guard head.treeSize <= Int64(leaves.count) else {
                report.problems.append(
                    "tree head of size \(head.treeSize) covers entries that are no longer in the log (it holds \(leaves.count))")
                previous = head
                continue
            }
            while frontier.size < head.treeSize { frontier.append(leaves[Int(frontier.size)]) }
            if Hex.encode(frontier.root) != head.rootHash {
                report.problems.append(
                    "the first \(head.treeSize) entries do not hash to the signed root: an entry among them was changed, removed, inserted or reordered"
                        + (firstDivergence(leaves: leaves, heads: heads, failing: head).map { " (first suspect: entry \($0))" } ?? ""))
            }
            previous = head
        }
        while frontier.size < Int64(leaves.count) { frontier.append(leaves[Int(frontier.size)]) }
        report.latestRoot = Hex.encode(frontier.root)
        return report
    }

    /// The smallest earlier head that still verifies bounds where tampering starts.
    private func firstDivergence(leaves: [MerkleTree.Hash], heads: [SignedTreeHead], failing: SignedTreeHead) -> Int64? {
        var lastGood: Int64 = 0
        for head in heads where head.treeSize < failing.treeSize && head.treeSize <= Int64(leaves.count) {
            if Hex.encode(MerkleTree.root(leaves[0..<Int(head.treeSize)])) == head.rootHash { lastGood = head.treeSize }
        }
        return lastGood
    }

    /// An inclusion proof for entry `index` in the tree of the first `treeSize` entries.
    public static func inclusionProof(store: any AuditRepository, index: Int64, treeSize: Int64) async throws -> (
        leaf: MerkleTree.Hash, proof: [MerkleTree.Hash], root: MerkleTree.Hash
    ) {
        let count = try await store.auditEntryCount()
        guard treeSize <= count, index < treeSize, index >= 0 else {
            throw QilaError(.invalidInput, "index must be below treeSize, and treeSize at most \(count)", at: "query")
        }
        let leaves = try await store.auditLeafHashes(0..<treeSize)
        return (leaves[Int(index)], MerkleTree.inclusionProof(index: Int(index), leaves: leaves[...]), MerkleTree.root(leaves))
    }

    /// A consistency proof between the trees of the first `from` and first `to` entries.
    public static func consistencyProof(store: any AuditRepository, from: Int64, to: Int64) async throws -> (
        proof: [MerkleTree.Hash], fromRoot: MerkleTree.Hash, toRoot: MerkleTree.Hash
    ) {
        let count = try await store.auditEntryCount()
        guard from >= 1, from <= to, to <= count else {
            throw QilaError(.invalidInput, "need 1 <= from <= to <= \(count)", at: "query")
        }
        let leaves = try await store.auditLeafHashes(0..<to)
        return (
            MerkleTree.consistencyProof(from: Int(from), leaves: leaves[...]), MerkleTree.root(leaves[0..<Int(from)]),
            MerkleTree.root(leaves)
        )
    }
}

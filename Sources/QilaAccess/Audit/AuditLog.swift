public import Crypto
public import Foundation
import Metrics
public import QilaCore
public import QilaStore

/// The tamper-evident audit log: entries are appended in order, hashed into a Merkle tree
/// (RFC 9162), and the tree's head is signed at intervals with Ed25519 and ML-DSA-65.
///
/// Appends are group-committed: callers that arrive while a write is in flight are written
/// together in the next transaction, and each call returns only once its entries are durable.
public actor AuditLog {
    private let store: any AuditRepository
    private let ed25519: Curve25519.Signing.PrivateKey
    private let mldsa65: MLDSA65.PrivateKey
    private var frontier = MerkleFrontier()
    private var pending: [(entries: [AuditEntry], continuation: CheckedContinuation<[AuditEntry], any Error>)] = []
    private var flushing = false

    public init(store: any AuditRepository, ed25519: Curve25519.Signing.PrivateKey, mldsa65: MLDSA65.PrivateKey) {
        self.store = store
        self.ed25519 = ed25519
        self.mldsa65 = mldsa65
    }

    public nonisolated var ed25519PublicKey: Curve25519.Signing.PublicKey { ed25519.publicKey }
    public nonisolated var mldsa65PublicKey: MLDSA65.PublicKey { mldsa65.publicKey }

    public var size: Int64 { frontier.size }

    /// Appends entries and returns them with their indices, once they are durable.
    @discardableResult
    public func append(_ entries: [AuditEntry]) async throws -> [AuditEntry] {
        guard !entries.isEmpty else { return [] }
        let written = try await withCheckedThrowingContinuation { continuation in
            pending.append((entries, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
        return written
    }

    /// Entries from `index` on, for a reader the caller has let read the log; the reading is
    /// itself recorded, so the log shows who looked at it.
    public func read(from index: Int64, limit: Int, actionPrefix: String?, by subject: Subject, source: String?) async throws -> [AuditEntry] {
        let entries = try await store.auditEntries(from: index, limit: limit, actionPrefix: actionPrefix)
        try await recordChange(by: subject, "audit.read", resource: "audit-log", source: source)
        return entries
    }

    /// Records a successful change made by `subject` (nil: the operator at the server's own
    /// shell, recorded as "system") to `resource`, from `source`.
    public func recordChange(
        by subject: Subject?, _ action: String, resource: String, source: String?, details: [String: String] = [:], now: Date = Date()
    ) async throws {
        try await append(
            AuditEntry(
                time: now, actor: subject?.user.id.description ?? "system", actorOrganisation: subject?.organisation.id, action: action,
                outcome: .success, resource: resource, sourceAddress: source, details: details))
    }

    @discardableResult
    public func append(_ entry: AuditEntry) async throws -> AuditEntry {
        try await append([entry])[0]
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let written = try await write(batch.flatMap(\.entries))
                var offset = 0
                for (entries, continuation) in batch {
                    continuation.resume(returning: Array(written[offset..<offset + entries.count]))
                    offset += entries.count
                }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }

    /// Assigns indices after the last stored entry and inserts; if another node took those
    /// indices first, catches up with what it wrote and tries again.
    private func write(_ entries: [AuditEntry]) async throws -> [AuditEntry] {
        try await catchUp()
        for _ in 0..<8 {
            var numbered: [(entry: AuditEntry, leafHash: [UInt8])] = []
            numbered.reserveCapacity(entries.count)
            for (offset, var entry) in entries.enumerated() {
                entry.index = frontier.size + Int64(offset)
                entry.time = AuditEntry.truncatedTime(entry.time)
                numbered.append((entry, MerkleTree.leafHash(entry.canonicalBytes)))
            }
            do {
                try await store.insertAuditEntries(numbered)
            } catch let error as StoreError where error.code == .conflict {
                try await catchUp()
                continue
            }
            for item in numbered { frontier.append(item.leafHash) }
            Counter(label: "qila_audit_entries_total").increment(by: numbered.count)
            Gauge(label: "qila_audit_log_size").record(Double(frontier.size))
            return numbered.map(\.entry)
        }
        throw StoreError(.conflict, "the audit log is being written by other nodes too fast to append to")
    }

    /// Brings the in-memory tree edge up to what the database holds.
    private func catchUp() async throws {
        let stored = try await store.auditEntryCount()
        while frontier.size < stored {
            let upper = min(stored, frontier.size + 10_000)
            let hashes = try await store.auditLeafHashes(frontier.size..<upper)
            guard hashes.count == Int(upper - frontier.size) else {
                throw QilaError(.integrity, "the audit log has a gap between entries \(frontier.size) and \(upper - 1)")
            }
            for hash in hashes { frontier.append(hash) }
        }
    }

    /// Signs and stores a head for the current tree, unless the latest head already covers it.
    @discardableResult
    public func signTreeHead(at time: Date = Date()) async throws -> SignedTreeHead? {
        try await catchUp()
        if let latest = try await store.latestTreeHead(), latest.treeSize >= frontier.size { return nil }
        let head = try Self.sign(
            treeSize: frontier.size, root: frontier.root, time: time, ed25519: ed25519, mldsa65: mldsa65)
        try await store.saveTreeHead(head)
        return head
    }

    static func sign(
        treeSize: Int64, root: [UInt8], time: Date, ed25519: Curve25519.Signing.PrivateKey, mldsa65: MLDSA65.PrivateKey
    ) throws -> SignedTreeHead {
        var head = SignedTreeHead(
            treeSize: treeSize, rootHash: Hex.encode(root), time: AuditEntry.truncatedTime(time), ed25519Signature: "",
            mldsa65Signature: "")
        let message = head.signedBytes
        head.ed25519Signature = try ed25519.signature(for: message).base64EncodedString()
        head.mldsa65Signature = try mldsa65.signature(for: message).base64EncodedString()
        return head
    }
}

public import Foundation

/// A job that one node at a time does for the whole installation (signing audit tree heads,
/// sweeping case deadlines, promoting alerts): the node that holds the lease does it, renewing
/// the lease each round; if it dies, another node takes over once the lease has run out.
public struct Lease: Sendable {
    public let name: String
    public let holder: String
    public let store: SQLStore
    /// How long a grant lasts without renewal: how long a dead node's job waits for another node.
    public let duration: TimeInterval

    public init(_ name: String, holder: String, store: SQLStore, duration: TimeInterval = 30) {
        self.name = name
        self.holder = holder
        self.store = store
        self.duration = duration
    }

    /// Takes or renews the lease; true when this node holds it until `now + duration`.
    public func acquire(now: Date = Date()) async throws -> Bool {
        try await store.acquireLease(name, holder: holder, now: now, until: now.addingTimeInterval(duration))
    }

    /// Runs `body` if this node holds (or can take) the lease; returns nil when another node does.
    public func ifHeld<T: Sendable>(now: Date = Date(), _ body: () async throws -> T) async throws -> T? {
        guard try await acquire(now: now) else { return nil }
        return try await body()
    }

    /// Lets another node take over at once (at a graceful stop).
    public func release() async {
        try? await store.releaseLease(name, holder: holder)
    }
}

public import Foundation
public import QilaStore

/// Slows down password guessing, per account and per source address, at sign-in, at the second
/// factor and at re-authentication alike.
///
/// After `accountFreeFailures` failures within the window an account waits before the next try,
/// doubling each time up to an hour (NIST SP 800-63B 5.2.2 asks for at most 100 failures before
/// lock-out; this allows far fewer). A source that fails against many accounts is held back too.
/// The counts live in the database, so every node of an installation sees the same failures and a
/// restart forgives nothing.
public struct SignInThrottle: Sendable {
    public struct Limits: Sendable {
        public var window: TimeInterval = 15 * 60
        public var accountFreeFailures = 5
        public var sourceFreeFailures = 20
        public var maximumDelay: TimeInterval = 3600
        public init() {}
    }

    private let store: any SignInThrottleRepository
    public let limits: Limits

    public init(store: any SignInThrottleRepository, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
    }

    static func accountKey(_ account: String) -> String { "account:" + account }
    static func sourceKey(_ source: String) -> String { "source:" + source }

    /// When the next attempt may be made, or nil if it may be made now.
    public func retryAfter(account: String, source: String?, now: Date) async throws -> Date? {
        let keys = [Self.accountKey(account)] + (source.map { [Self.sourceKey($0)] } ?? [])
        return try await store.signInsHeld(keys: keys).flatMap { $0 > now ? $0 : nil }
    }

    public func recordFailure(account: String, source: String?, now: Date) async throws {
        try await count(Self.accountKey(account), free: limits.accountFreeFailures, now: now)
        if let source { try await count(Self.sourceKey(source), free: limits.sourceFreeFailures, now: now) }
    }

    public func recordSuccess(account: String) async throws {
        try await store.clearSignInFailures(key: Self.accountKey(account))
    }

    private func count(_ key: String, free: Int, now: Date) async throws {
        let failures = try await store.countSignInFailure(key: key, at: now, window: limits.window)
        let excess = failures - free
        guard excess > 0 else { return }
        let delay = min(limits.maximumDelay, 60 * pow(2, Double(min(excess - 1, 30))))
        try await store.holdSignIns(key: key, until: now.addingTimeInterval(delay))
    }
}

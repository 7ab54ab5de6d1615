public import Foundation

/// Slows down password guessing, per account and per source address.
///
/// After `accountFreeFailures` failures within the window an account waits before the next try,
/// doubling each time up to an hour (NIST SP 800-63B 5.2.2 asks for at most 100 failures before
/// lock-out; this allows far fewer). A source that fails against many accounts is held back too.
/// The state is per node and in memory: a restart forgives, a cluster multiplies the allowance
/// by the number of nodes, both of which still leave online guessing impractical.
public actor SignInThrottle {
    public struct Limits: Sendable {
        public var window: TimeInterval = 15 * 60
        public var accountFreeFailures = 5
        public var sourceFreeFailures = 20
        public var maximumDelay: TimeInterval = 3600
        public init() {}
    }

    private struct Record {
        var failures: [Date] = []
        var blockedUntil: Date?
    }

    private let limits: Limits
    private var accounts: [String: Record] = [:]
    private var sources: [String: Record] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// When the next attempt may be made, or nil if it may be made now.
    public func retryAfter(account: String, source: String?, now: Date = Date()) -> Date? {
        let times = [accounts[account]?.blockedUntil, source.flatMap { sources[$0]?.blockedUntil }].compactMap { $0 }
        return times.filter { $0 > now }.max()
    }

    public func recordFailure(account: String, source: String?, now: Date = Date()) {
        accounts[account] = bump(accounts[account] ?? Record(), free: limits.accountFreeFailures, now: now)
        if let source {
            sources[source] = bump(sources[source] ?? Record(), free: limits.sourceFreeFailures, now: now)
        }
        if accounts.count > 100_000 { accounts = accounts.filter { $0.value.failures.last.map { now.timeIntervalSince($0) < limits.window } ?? false } }
        if sources.count > 100_000 { sources = sources.filter { $0.value.failures.last.map { now.timeIntervalSince($0) < limits.window } ?? false } }
    }

    public func recordSuccess(account: String) {
        accounts[account] = nil
    }

    private func bump(_ record: Record, free: Int, now: Date) -> Record {
        var record = record
        record.failures = record.failures.filter { now.timeIntervalSince($0) < limits.window } + [now]
        let excess = record.failures.count - free
        if excess > 0 {
            let delay = min(limits.maximumDelay, 60 * pow(2, Double(excess - 1)))
            record.blockedUntil = now.addingTimeInterval(delay)
        }
        return record
    }
}

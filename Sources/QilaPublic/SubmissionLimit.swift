public import Foundation
public import QilaStore

/// How often one address may send a public form: `perHour` submissions in a sliding hour, then a
/// wait that doubles with each further attempt, up to a day. The counts are rows of the database
/// (the sign-in throttle's table, under keys of their own), so every node counts the same
/// submissions and a restart forgives none.
public struct SubmissionLimit: Sendable {
    public var perHour: Int
    public var firstWait: TimeInterval = 10 * 60
    public var longestWait: TimeInterval = 24 * 3600

    public init(perHour: Int) {
        self.perHour = perHour
    }

    /// Counts one submission of `form` from `source`, or refuses it with the time to come back.
    /// Without a source address (a test's in-process request) nothing is counted.
    public func admit(_ form: String, from source: String?, store: SQLStore, now: Date) async throws {
        guard let source else { return }
        let key = "public:\(form):\(source)"
        if let held = try await store.signInsHeld(keys: [key]), held > now { throw Self.refusal(until: held, now: now) }
        let count = try await store.countSignInFailure(key: key, at: now, window: 3600)
        let excess = count - perHour
        guard excess > 0 else { return }
        let wait = min(longestWait, firstWait * pow(2, Double(min(excess - 1, 20))))
        try await store.holdSignIns(key: key, until: now.addingTimeInterval(wait))
        throw Self.refusal(until: now.addingTimeInterval(wait), now: now)
    }

    static func refusal(until: Date, now: Date) -> PublicRefusal {
        let minutes = max(1, Int((until.timeIntervalSince(now) / 60).rounded(.up)))
        return PublicRefusal(.throttled, field: "form", key: "err_too_many", values: ["minutes": String(minutes)])
    }
}

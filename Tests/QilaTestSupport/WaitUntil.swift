import Foundation

/// Waits for `condition` to hold, looking every 2 ms, for at most `limit` (a bound for a stuck
/// test, not a timing assumption: the condition is what the test waits for). Returns whether it
/// held. For conditions another thread makes true (a socket's counters, a stage's output).
public func waitUntil(limit: Duration = .seconds(30), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        if ContinuousClock.now > deadline { return false }
        usleep(2_000)
    }
    return true
}

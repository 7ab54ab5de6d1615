import Foundation
import QilaCore
import Synchronization

/// A wall clock a test sets and moves by hand: components given `clock` see only the instants the
/// test chooses.
public final class ManualClock: Sendable {
    private let instant: Mutex<Date>

    public init(_ start: Date) { instant = Mutex(start) }

    public var now: Date { instant.withLock { $0 } }

    public func set(_ date: Date) { instant.withLock { $0 = date } }

    public func advance(by seconds: TimeInterval) { instant.withLock { $0 = $0.addingTimeInterval(seconds) } }

    public var clock: WallClock { WallClock { [self] in self.now } }
}

/// Two instants at opposite ends of the day and the week. A test whose results depend on the hour
/// or the weekday runs at both and expects the same; `.ci/run` also runs the whole suite with the
/// process clock set to each (faketime).
public struct FixedInstant: Sendable, CustomStringConvertible {
    public let date: Date
    public let name: String

    public var description: String { name }

    /// Monday 2026-12-07 00:30 UTC: just after midnight, the first day of the week.
    public static let mondayAfterMidnight = FixedInstant(date: Date(timeIntervalSince1970: 1_796_603_400), name: "Monday 2026-12-07 00:30 UTC")
    /// Thursday 2026-12-03 15:30 UTC: mid-afternoon, mid-week.
    public static let thursdayAfternoon = FixedInstant(date: Date(timeIntervalSince1970: 1_796_311_800), name: "Thursday 2026-12-03 15:30 UTC")

    public static let all = [mondayAfterMidnight, thursdayAfternoon]
}

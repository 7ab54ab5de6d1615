import Foundation

/// Where a component reads "now" from. Production reads the system clock; tests fix it or move
/// it by hand, so that what depends on the hour or the weekday (volume baselines, deadlines, the
/// hour an event is counted in) gives the same result whenever the tests happen to run.
///
/// Durations to wait (timeouts, pauses) are not wall-clock questions: they use `ContinuousClock`.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock that answers with whatever `read` returns each time it is asked.
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    public var now: Date { read() }

    /// The system's clock.
    public static let system = WallClock { Date() }

    /// A clock that always answers `instant`.
    public static func fixed(_ instant: Date) -> WallClock { WallClock { instant } }
}

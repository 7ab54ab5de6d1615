public import Foundation

/// Dates people type are checked for being believable before anything counts from them: nothing
/// Qila records happened before 1990 (a year typed as 1900 or 0026 is a slip), and what is said
/// to have happened already cannot be in the future.
public enum PlausibleTime {
    /// 1990-01-01T00:00:00Z.
    public static let earliest = Date(timeIntervalSince1970: 631_152_000)
    /// Clocks differ: "now" allows this much slack, in seconds.
    public static let slack: TimeInterval = 300

    /// Refuses `date` with `field` named when it is before 1990, or after `now` when `past` is set.
    public static func check(_ date: Date, field: String, past: Bool = false, now: Date = Date()) throws {
        guard date >= earliest else {
            throw QilaError.invalid("is before 1990, which cannot be right: check the year", field: field)
        }
        if past, date > now.addingTimeInterval(slack) {
            throw QilaError.invalid("is in the future: it must be a time that has already passed", field: field)
        }
    }
}

public import Foundation
public import QilaCore

/// An embargo as agreed: a day and a time of day on the clocks of a named time zone. Vendors in
/// several countries agree one instant; naming the zone ("09:00 Asia/Karachi") rather than an
/// offset keeps summer time right, and every page shows the instant in UTC beside it.
public struct EmbargoInput: Sendable, Equatable {
    /// `YYYY-MM-DD`.
    public var date = ""
    /// `HH:MM`, 24-hour.
    public var time = ""
    /// An IANA time zone identifier: `Asia/Karachi`, `Europe/Berlin`, `UTC`.
    public var zone = ""

    public init(date: String = "", time: String = "", zone: String = "") {
        self.date = date
        self.time = time
        self.zone = zone
    }

    /// No day and no time given: no embargo agreed yet (the zone alone, which forms fill in, does not make one).
    public var isEmpty: Bool { [date, time].allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }

    /// The instant, checked: the day and time must exist in that zone (not skipped by a change of
    /// clocks) and lie after `now` and within two years.
    public func resolved(after now: Date) throws(QilaError) -> (instant: Date, zone: String) {
        let zoneText = zone.trimmingCharacters(in: .whitespaces)
        guard !zoneText.isEmpty else { throw QilaError.invalid("name the time zone the embargo is agreed in, such as Asia/Karachi or UTC", field: "embargoZone") }
        guard let timeZone = TimeZone(identifier: zoneText), TimeZone.knownTimeZoneIdentifiers.contains(zoneText) || zoneText == "UTC" else {
            throw QilaError.invalid("'\(zoneText)' is not an IANA time zone name (such as Asia/Karachi, Europe/London or UTC)", field: "embargoZone")
        }
        let dayText = date.trimmingCharacters(in: .whitespaces)
        guard let day = CivilDay(dayText) else { throw QilaError.invalid("'\(dayText)' is not a day written YYYY-MM-DD", field: "embargoDate") }
        let timeText = time.trimmingCharacters(in: .whitespaces)
        let parts = timeText.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }), let hour = Int(parts[0]), let minute = Int(parts[1]),
            (0..<24).contains(hour), (0..<60).contains(minute)
        else { throw QilaError.invalid("'\(timeText)' is not a time of day written HH:MM (24-hour)", field: "embargoTime") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: day.components.year, month: day.components.month, day: day.components.day, hour: hour, minute: minute)
        guard let instant = calendar.date(from: components),
            calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant) == components
        else { throw QilaError.invalid("\(dayText) \(timeText) does not exist in \(zoneText): the clocks skip it", field: "embargoTime") }
        // When the clocks go back, an hour's times happen twice: the parties could mean either.
        for shift in [-3_600.0, -1_800.0, 1_800.0, 3_600.0] {
            let other = instant.addingTimeInterval(shift)
            if calendar.dateComponents([.year, .month, .day, .hour, .minute], from: other) == components {
                throw QilaError.invalid("\(dayText) \(timeText) happens twice in \(zoneText): the clocks go back; choose another time", field: "embargoTime")
            }
        }
        guard instant > now else { throw QilaError.invalid("\(Self.wallTime(instant, in: zoneText)) has passed; choose a later time", field: "embargoDate") }
        guard instant.timeIntervalSince(now) <= 2 * 366 * 86_400 else { throw QilaError.invalid("is more than two years away", field: "embargoDate") }
        return (instant, zoneText)
    }

    /// The form's fields for an embargo already agreed, in its own zone.
    public static func fields(of instant: Date, zone identifier: String) -> EmbargoInput {
        let timeZone = TimeZone(identifier: identifier) ?? .gmt
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        return EmbargoInput(
            date: "\(c.year ?? 0)-\(CivilDay.pad(c.month ?? 0, 2))-\(CivilDay.pad(c.day ?? 0, 2))",
            time: "\(CivilDay.pad(c.hour ?? 0, 2)):\(CivilDay.pad(c.minute ?? 0, 2))", zone: identifier)
    }

    /// `2026-12-10 09:00 Asia/Karachi (UTC+05:00)`.
    static func wallTime(_ instant: Date, in identifier: String) -> String {
        let timeZone = TimeZone(identifier: identifier) ?? .gmt
        let fields = fields(of: instant, zone: identifier)
        let offset = timeZone.secondsFromGMT(for: instant)
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset) / 60
        return "\(fields.date) \(fields.time) \(identifier) (UTC\(sign)\(CivilDay.pad(magnitude / 60, 2)):\(CivilDay.pad(magnitude % 60, 2)))"
    }

    /// The embargo in its own zone and in UTC: `2026-12-10 09:00 Asia/Karachi (UTC+05:00), 2026-12-10 04:00 UTC`.
    public static func describe(_ instant: Date, zone identifier: String) -> String {
        let own = wallTime(instant, in: identifier)
        guard identifier != "UTC" else { return own }
        let utc = fields(of: instant, zone: "UTC")
        return "\(own), \(utc.date) \(utc.time) UTC"
    }
}

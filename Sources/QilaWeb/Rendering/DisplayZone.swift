import Foundation
import QilaCore

/// The time zone a page shows times in: the viewer's own (a profile setting), else the
/// installation's (`display.timeZone`, Asia/Karachi by default). Set for each page request by
/// `DisplayZoneMiddleware`; `Date.display` formats in it and names it.
struct DisplayZone: Sendable, Equatable {
    let zone: TimeZone

    /// The installation's zone when nothing else is configured.
    static let installationDefault = "Asia/Karachi"
    @TaskLocal static var current = DisplayZone(zone: TimeZone(identifier: "UTC")!)

    init(zone: TimeZone) { self.zone = zone }

    init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone
    }

    /// `UTC` or `UTC+05:00`, for a time right now.
    func offset(at date: Date = Date()) -> String {
        let seconds = zone.secondsFromGMT(for: date)
        guard seconds != 0 else { return "UTC" }
        let minutes = abs(seconds) / 60
        return String(format: "UTC%@%02d:%02d", seconds < 0 ? "-" : "+", minutes / 60, minutes % 60)
    }

    /// `Asia/Karachi (UTC+05:00)`, or `UTC`.
    var name: String {
        zone.identifier == "UTC" || zone.identifier == "GMT" ? "UTC" : "\(zone.identifier) (\(offset()))"
    }

    /// `2026-11-23 02:04 UTC+05:00`: the date and time in this zone, with the zone's offset.
    func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date) + " " + offset(at: date)
    }

    /// `2026-11-23`, the date in this zone.
    func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    /// The zones offered on the profile page: the common ones of the region and of partners abroad.
    static let offered = [
        "Asia/Karachi", "UTC", "Asia/Dubai", "Asia/Riyadh", "Asia/Kolkata", "Asia/Kabul", "Asia/Tehran", "Asia/Shanghai", "Asia/Tokyo",
        "Europe/London", "Europe/Berlin", "Europe/Istanbul", "America/New_York", "America/Los_Angeles", "Australia/Sydney",
    ]
}

extension DisplayZone {
    /// A date and time as a person types it (`2026-11-23 14:30`, `2026-11-23T14:30`, with or
    /// without seconds, or a date alone for its midnight), read in this zone and given back as
    /// RFC 3339 in UTC for the desks. Text that names its own zone (`Z`, `+05:00`) or that is not
    /// a date at all is passed on as it is, for the desk to accept or refuse with the field named.
    func instant(_ typed: String) -> String {
        let text = typed.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !Self.namesZone(text) else { return text }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text), formatter.string(from: date) == text { return RFC3339.format(date) }
        }
        return text
    }

    /// `2026-11-23 14:30`: how a time is typed into a form in this zone.
    func typed(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// The hint beside a date-and-time field.
    var inputHint: String { "Year-month-day and 24-hour time, in \(name): 2026-11-23 14:30." }

    static func namesZone(_ text: String) -> Bool {
        if text.hasSuffix("Z") || text.hasSuffix("z") { return true }
        // A trailing offset: +05:00, -0300, +05.
        let tail = text.suffix(6)
        return tail.contains("+") || (tail.contains("-") && text.count > 10 && text.dropFirst(10).contains("-"))
    }
}

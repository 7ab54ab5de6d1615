public import Foundation

/// Times as people, forms and files write them: RFC 3339 (`2026-11-23T10:00:00Z`, fractions and
/// offsets allowed), and the shorter forms typed by hand and sent by browsers' `datetime-local`
/// fields, read as UTC: `2026-11-23T10:00`, `2026-11-23T10:00Z`, `2026-11-23`.
public enum RFC3339 {
    private static let style = Date.ISO8601FormatStyle()

    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? style.parse(trimmed) { return date }
        let base = trimmed.hasSuffix("Z") || trimmed.hasSuffix("z") ? String(trimmed.dropLast()) : trimmed
        switch base.count {
        case 16: return try? style.parse(base + ":00Z")
        case 19: return try? style.parse(base + "Z")
        case 10: return try? style.parse(base + "T00:00:00Z")
        default: return nil
        }
    }

    /// `2026-11-23T10:00:00Z`.
    public static func format(_ date: Date) -> String { style.format(date) }

    /// `2026-11-23T10:00:00.120Z`, exact to the millisecond.
    public static func format(millis: Int64) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let whole = style.format(Date(timeIntervalSince1970: Double(seconds)))
        let fraction = millis - seconds * 1000
        return String(whole.dropLast()) + "." + String(fraction + 1000).dropFirst() + "Z"
    }
}

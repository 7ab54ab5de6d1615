public import Foundation

/// A calendar quarter in the installation's zone (Asia/Karachi unless told otherwise): what the
/// oversight committee reviews and the quarterly report covers.
public struct Quarter: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    /// 1 to 4.
    public var number: Int

    public init(year: Int, number: Int) {
        self.year = year
        self.number = number
    }

    /// `2026-Q4` (or `2026q4`); nil for anything else.
    public init?(parsing text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).uppercased().split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), (2000...2100).contains(year), parts[1].hasPrefix("Q"), let number = Int(parts[1].dropFirst()),
            (1...4).contains(number)
        else { return nil }
        self.init(year: year, number: number)
    }

    public static func containing(_ date: Date, zone: TimeZone) -> Quarter {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month], from: date)
        return Quarter(year: parts.year ?? 2000, number: ((parts.month ?? 1) - 1) / 3 + 1)
    }

    public func start(in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: year, month: (number - 1) * 3 + 1, day: 1)) ?? Date(timeIntervalSince1970: 0)
    }

    public func end(in zone: TimeZone) -> Date { next.start(in: zone) }

    public var next: Quarter { number == 4 ? Quarter(year: year + 1, number: 1) : Quarter(year: year, number: number + 1) }
    public var previous: Quarter { number == 1 ? Quarter(year: year - 1, number: 4) : Quarter(year: year, number: number - 1) }

    /// This quarter and the `count - 1` before it, oldest first.
    public func window(_ count: Int) -> [Quarter] {
        var quarters = [self]
        while quarters.count < count { quarters.insert(quarters[0].previous, at: 0) }
        return quarters
    }

    public var description: String { "\(year)-Q\(number)" }

    public static func < (lhs: Quarter, rhs: Quarter) -> Bool { (lhs.year, lhs.number) < (rhs.year, rhs.number) }
}

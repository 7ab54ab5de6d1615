import Foundation

/// How far one hour's event count is from what the same hour usually holds, with robust statistics
/// an analyst can check by hand.
///
/// The expected count is the median of the same hour of day over the earlier days the source was
/// seen (daily seasonality), times the weekday factor: the median of the source's whole-day totals
/// on the same weekday over the median of all its day totals (weekly seasonality; 1 until two
/// such weekdays are known). The spread is the median absolute deviation of those same-hour counts
/// (scaled by 1.4826 to be comparable with a standard deviation, and by the weekday factor), never
/// below the square root of the expected count (the noise of counting) nor below 1. The distance is
/// the difference in spreads.
public struct VolumeBaseline: Sendable, Equatable {
    public var observed: Int64
    public var expected: Double
    /// The median of the same hour on earlier days.
    public var hourMedian: Double
    /// Nil while fewer than two of the same weekday are known.
    public var weekdayFactor: Double?
    public var spread: Double
    /// (observed − expected) / spread.
    public var distance: Double
    /// Earlier days the baseline is made of.
    public var days: Int

    /// Nil when fewer than `minimumDays` earlier days are known.
    /// - Parameters:
    ///   - sameHour: the count of the same hour on each earlier day the source was seen (0 where it sent none of this).
    ///   - weekdayTotals: the whole-day totals on earlier days of the same weekday.
    ///   - dayTotals: the whole-day totals of all earlier days the source was seen.
    public init?(observed: Int64, sameHour: [Int64], weekdayTotals: [Int64], dayTotals: [Int64], minimumDays: Int) {
        guard sameHour.count >= max(1, minimumDays) else { return nil }
        let hours = sameHour.map(Double.init)
        let hourMedian = Self.median(hours)
        var factor: Double?
        let allMedian = Self.median(dayTotals.map(Double.init))
        if weekdayTotals.count >= 2, allMedian > 0 { factor = Self.median(weekdayTotals.map(Double.init)) / allMedian }
        let expected = hourMedian * (factor ?? 1)
        let deviation = Self.median(hours.map { abs($0 - hourMedian) }) * 1.4826 * (factor ?? 1)
        let spread = max(deviation, expected.squareRoot(), 1)
        self.observed = observed
        self.expected = expected
        self.hourMedian = hourMedian
        weekdayFactor = factor
        self.spread = spread
        distance = (Double(observed) - expected) / spread
        days = sameHour.count
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// "expected 310 (the median of this hour on the last 27 days, 280, × 1.11 for Mondays); spread 42; 29.6 spreads above"
    public func explanation(weekday: String) -> String {
        var text = "expected \(Self.number(expected)): the median of this hour on the \(days) earlier days seen, \(Self.number(hourMedian))"
        if let weekdayFactor {
            text += String(format: ", × %.2f for %@s", weekdayFactor, weekday)
        } else {
            text += " (the weekly pattern is not known yet)"
        }
        text += "; robust spread \(Self.number(spread)) (median absolute deviation); the observation is "
        text += String(format: "%.1f spreads %@ the baseline", abs(distance), distance >= 0 ? "above" : "below")
        return text
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() || value >= 100 ? String(Int64(value.rounded())) : String(format: "%.1f", value)
    }
}

import Foundation
import QilaCore

/// When an event happened, read from its time field as milliseconds since 1970 (UTC).
///
/// Reads ISO 8601 / RFC 3339 texts (`2020-09-14T00:44:23.000Z`, `2020-06-09 22:50:54`,
/// `2019-04-27T15:57:25.868863+05:00`; a text without a zone is taken as UTC, as Windows'
/// `UtcTime` and `SystemTime` are) and Unix times in seconds, milliseconds, microseconds or
/// nanoseconds, told apart by their number of digits (`1600044263`, `1600044263000`, `1600044263.5`).
public enum EventTime {
    public static func milliseconds(_ text: String) -> Int64? {
        var copy = text
        return copy.withUTF8 { milliseconds(utf8: $0) }
    }

    static func milliseconds(utf8 raw: UnsafeBufferPointer<UInt8>) -> Int64? {
        var bytes = raw[...]
        while let first = bytes.first, first == 0x20 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 { bytes = bytes.dropLast() }
        guard !bytes.isEmpty else { return nil }
        let zero = UInt8(ascii: "0")
        func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }

        // A Unix time.
        if bytes.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.count <= 19 else { return nil }
            var value: Int64 = 0
            for byte in whole {
                let (tens, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow, tens <= Int64.max - 9 else { return nil }
                value = tens + Int64(byte - zero)
            }
            var fraction = 0.0
            if parts.count == 2 {
                var scale = 0.1
                for byte in parts[1].prefix(9) {
                    guard isDigit(byte) else { return nil }
                    fraction += Double(byte - zero) * scale
                    scale /= 10
                }
            }
            // Ten digits are seconds until the year 2286; thirteen are milliseconds, sixteen
            // microseconds (journald's __REALTIME_TIMESTAMP), nineteen nanoseconds (FortiGate's eventtime).
            if whole.count <= 11 { return value * 1000 + Int64((fraction * 1000).rounded(.down)) }
            if whole.count <= 14 { return value + Int64(fraction.rounded(.down)) }
            if whole.count <= 17 { return value / 1000 }
            return value / 1_000_000
        }

        // ISO 8601.
        let text = Array(bytes)
        var index = 0
        func number(_ count: Int) -> Int? {
            guard index + count <= text.count else { return nil }
            var value = 0
            for byte in text[index..<index + count] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - zero)
            }
            index += count
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < text.count, text[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...CivilTime.daysIn(month, of: year)).contains(day)
        else { return nil }
        var millisecondsOfDay: Int64 = 0
        var offsetMinutes = 0
        if index < text.count {
            guard expect("T") || expect("t") || expect(" ") else { return nil }
            guard let hour = number(2), hour < 24, expect(":"), let minute = number(2), minute < 60 else { return nil }
            var second = 0
            var millisecond = 0
            if expect(":") {
                guard let parsed = number(2), parsed <= 60 else { return nil }
                second = parsed
                if expect(".") || expect(",") {
                    var digits = 0
                    while index < text.count, isDigit(text[index]) {
                        if digits < 3 { millisecond = millisecond * 10 + Int(text[index] - zero) }
                        digits += 1
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    if digits < 3 { for _ in digits..<3 { millisecond *= 10 } }
                }
            }
            millisecondsOfDay = Int64(((hour * 60 + minute) * 60 + second) * 1000 + millisecond)
            if index < text.count {
                if expect("Z") || expect("z") {
                    // UTC.
                } else if text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
                    let sign = text[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                    guard let hours = number(2), hours < 24 else { return nil }
                    _ = expect(":")
                    let minutes = number(2) ?? 0
                    guard minutes < 60 else { return nil }
                    offsetMinutes = sign * (hours * 60 + minutes)
                } else {
                    return nil
                }
            }
            guard index == text.count else { return nil }
        }
        let days = Int64(CivilTime.days(year: year, month: month, day: day))
        return days * 86_400_000 + millisecondsOfDay - Int64(offsetMinutes) * 60_000
    }

    /// `2020-09-14T00:44:23.000Z` for a time in milliseconds.
    public static func text(_ milliseconds: Int64) -> String {
        let days = Int(milliseconds.quotientFloor(86_400_000))
        let rest = Int(milliseconds - Int64(days) * 86_400_000)
        let date = CivilTime.civil(days: days)
        let pad = CivilDay.pad
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):"
            + "\(pad(rest / 1000 % 60, 2)).\(pad(rest % 1000, 3))Z"
    }
}

extension Int64 {
    /// Division rounding towards minus infinity.
    func quotientFloor(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension EventTime {
    /// When the event in `json` says it happened: the first of the usual time fields
    /// (`FieldMapping.commonTimestampPaths`, top level or under `Event.System`/`EventData`) that
    /// reads as a time. For showing evidence, not for the detection path.
    public static func find(inJSON json: String) -> Int64? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        func lookup(_ path: [String], in object: [String: Any]) -> Any? {
            var current: Any? = object
            for key in path { current = (current as? [String: Any])?[key] }
            return current
        }
        let roots: [[String]] = [[], ["Event", "System"], ["Event", "EventData"], ["System"], ["EventData"]]
        for root in roots {
            for path in FieldMapping.commonTimestampPaths + [["TimeCreated", "SystemTime"], ["TimeCreated", "#attributes", "SystemTime"]] {
                switch lookup(root + path, in: object) {
                case let text as String: if let time = milliseconds(text) { return time }
                case let number as NSNumber: if let time = milliseconds(number.stringValue) { return time }
                default: continue
                }
            }
        }
        return nil
    }
}

import Foundation
import QilaCore
import QilaStore

/// Judges a whole hour of stored volumes against their baselines: each sensor's count of each event
/// type, and each organisation's total when it has several sensors. A sensor that fell silent
/// raises one alert for its total rather than one per type.
struct VolumeWatch {
    /// Earlier days a baseline looks back on.
    static let historyDays = 28

    struct Finding {
        enum Direction: String {
            case spike = "volume-spike"
            case drop = "volume-drop"
        }
        var organisation: OrganisationID
        /// Nil for an organisation's total.
        var sensor: Sensor?
        /// Nil for all types.
        var type: String?
        var hour: Int64
        var baseline: VolumeBaseline
        var direction: Direction
        var severity: SecurityAlert.Severity
    }

    let settings: IntakeSettings

    func judge(hour: Int64, history: VolumeHistory, sensors: [Sensor]) -> [Finding] {
        let day = hour / 24
        let watched = Dictionary(uniqueKeysWithValues: sensors.filter(\.enabled).map { ($0.id, $0) })
        // Series: (sensor or organisation, type or all) → counts.
        struct Key: Hashable {
            var organisation: OrganisationID
            var sensor: Sensor.ID?
            var type: String?
        }
        var hours: [Key: [Int64: Int64]] = [:]
        var days: [Key: [Int64: Int64]] = [:]
        var sensorsOf: [OrganisationID: Set<Sensor.ID>] = [:]
        func keys(_ sensor: Sensor, _ type: String) -> [Key] {
            [
                Key(organisation: sensor.organisation, sensor: sensor.id, type: type), Key(organisation: sensor.organisation, sensor: sensor.id, type: nil),
                Key(organisation: sensor.organisation, sensor: nil, type: nil),
            ]
        }
        for count in history.hours {
            guard let sensor = watched[count.sensor] else { continue }
            for key in keys(sensor, count.type) { hours[key, default: [:]][count.hour, default: 0] += count.events }
        }
        for count in history.days {
            guard let sensor = watched[count.sensor] else { continue }
            sensorsOf[sensor.organisation, default: []].insert(sensor.id)
            for key in keys(sensor, count.type) { days[key, default: [:]][count.hour / 24, default: 0] += count.events }
        }
        var findings: [Finding] = []
        var silent: Set<Sensor.ID> = []
        // Totals first, so that a silent sensor's types are not reported one by one.
        let ordered = Set(days.keys).union(hours.keys).sorted { ($0.type == nil ? 0 : 1, $0.type ?? "") < ($1.type == nil ? 0 : 1, $1.type ?? "") }
        for key in ordered {
            if key.sensor == nil && (sensorsOf[key.organisation]?.count ?? 0) < 2 { continue }
            if let sensor = key.sensor, silent.contains(sensor) { continue }
            // Days the source was seen at all: its owner's (sensor or organisation) total.
            let owner = Key(organisation: key.organisation, sensor: key.sensor, type: nil)
            let seen = (days[owner] ?? [:]).filter { $0.value > 0 }.keys
            let counts = days[key] ?? [:]
            let hourly = hours[key] ?? [:]
            let earlier = seen.filter { $0 < day && $0 >= day - Int64(Self.historyDays) }
            let sameHour = earlier.map { hourly[hour - (day - $0) * 24] ?? 0 }
            let weekday = earlier.filter { (day - $0) % 7 == 0 }.map { counts[$0] ?? 0 }
            guard
                let baseline = VolumeBaseline(
                    observed: hourly[hour] ?? 0, sameHour: sameHour, weekdayTotals: weekday, dayTotals: earlier.map { counts[$0] ?? 0 },
                    minimumDays: settings.volumeMinimumDays)
            else { continue }
            let difference = Double(baseline.observed) - baseline.expected
            guard abs(baseline.distance) >= settings.volumeThreshold, abs(difference) >= Double(settings.volumeMinimumEvents) else { continue }
            let direction: Finding.Direction = difference > 0 ? .spike : .drop
            // A sensor's total only tells that it fell silent; its types tell the rest.
            if key.sensor != nil, key.type == nil, direction == .spike || baseline.observed > 0 { continue }
            if direction == .drop, baseline.observed == 0, key.type == nil, let sensor = key.sensor { silent.insert(sensor) }
            findings.append(
                Finding(
                    organisation: key.organisation, sensor: key.sensor.flatMap { watched[$0] }, type: key.type, hour: hour, baseline: baseline,
                    direction: direction,
                    // A source gone silent, or twice the threshold away: worth a look today.
                    severity: (direction == .drop && baseline.observed == 0) || abs(baseline.distance) >= 2 * settings.volumeThreshold ? .medium : .low))
        }
        return findings
    }
}

extension VolumeWatch.Finding {
    var groupKey: String {
        [organisation.description, "anomaly", direction.rawValue, sensor?.id.description ?? "organisation", type ?? "*"].joined(separator: "\u{1F}")
    }

    func title(organisationName: String) -> String {
        let what = type.map { "\($0) events" } ?? "all events"
        let source = sensor.map { "sensor \($0.name)" } ?? organisationName
        return "Volume \(direction == .spike ? "spike" : "drop"): \(what) from \(source)"
    }

    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    func explanation(organisationName: String) -> String {
        let start = Date(timeIntervalSince1970: Double(hour) * 3600)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // Named from a fixed list: the calendar's own symbols follow the process's locale ("Mon" under POSIX).
        let weekday = Self.weekdays[calendar.component(.weekday, from: start) - 1]
        let time = String(format: "%02d:00–%02d:00 UTC", hour % 24, (hour + 1) % 24)
        let date = String(RFC3339.format(start).prefix(10))
        let what = type.map { "events of type \($0)" } ?? "events of all types"
        let source = sensor.map { "sensor \($0.name)" } ?? "the sensors of \(organisationName)"
        return "\(baseline.observed) \(what) from \(source) between \(time) on \(weekday) \(date); \(baseline.explanation(weekday: weekday))."
    }

    var fields: [AlertField] {
        var fields: [AlertField] = []
        if let sensor { fields.append(AlertField(name: "sensor", value: sensor.name)) }
        fields.append(AlertField(name: "event type", value: type ?? "all"))
        fields.append(AlertField(name: "hour", value: RFC3339.format(Date(timeIntervalSince1970: Double(hour) * 3600))))
        fields.append(AlertField(name: "observed", value: String(baseline.observed)))
        fields.append(AlertField(name: "expected", value: VolumeBaseline.number(baseline.expected)))
        fields.append(AlertField(name: "spread", value: VolumeBaseline.number(baseline.spread)))
        fields.append(AlertField(name: "distance", value: String(format: "%.1f", baseline.distance)))
        return fields
    }
}

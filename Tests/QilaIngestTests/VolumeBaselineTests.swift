import Foundation
import Logging
import QilaCore
import QilaIngest
import QilaStore
import QilaTestSupport
import Testing

@Suite("Volume baselines: robust statistics with daily and weekly seasonality")
struct VolumeBaselineTests {
    @Test("Median, median absolute deviation and the counting-noise floor, checked by hand")
    func statistics() throws {
        // Median 13; deviations 3,1,1,3,87,2,0 → median 2 → 2.9652 scaled, below √13 = 3.606.
        let baseline = try #require(
            VolumeBaseline(observed: 40, sameHour: [10, 12, 14, 16, 100, 11, 13], weekdayTotals: [], dayTotals: [1, 2, 3], minimumDays: 7))
        #expect(baseline.hourMedian == 13)
        #expect(baseline.expected == 13)
        #expect(baseline.weekdayFactor == nil)
        #expect(abs(baseline.spread - 13.0.squareRoot()) < 1e-9)
        #expect(abs(baseline.distance - 27 / 13.0.squareRoot()) < 1e-9)
        // The outlier of 100 does not move the baseline: that is what robust means here.
        let wide = try #require(
            VolumeBaseline(observed: 40, sameHour: [1000, 1040, 960, 1010, 990, 1100, 900, 1020], weekdayTotals: [], dayTotals: [1], minimumDays: 7))
        // Median 1005; deviations 5,35,45,5,15,95,105,15 → median 25 → 37.065.
        #expect(wide.hourMedian == 1005)
        #expect(abs(wide.spread - 25 * 1.4826) < 1e-9)
        #expect(wide.explanation(weekday: "Monday").contains("1005"))
        #expect(wide.explanation(weekday: "Monday").contains("below the baseline"))
        // Too few days: no judgement.
        #expect(VolumeBaseline(observed: 5, sameHour: [1, 2, 3], weekdayTotals: [], dayTotals: [6], minimumDays: 7) == nil)
    }

    @Test("The weekday factor carries the weekly pattern: a quiet Sunday is not a drop, a busy one is a spike")
    func weeklySeasonality() throws {
        // Weekdays send 100 an hour (2400 a day), Sundays 10 an hour (240 a day).
        let sameHour: [Int64] = Array(repeating: 100, count: 24) + Array(repeating: 10, count: 4)
        let dayTotals: [Int64] = Array(repeating: 2400, count: 24) + Array(repeating: 240, count: 4)
        let quiet = try #require(VolumeBaseline(observed: 9, sameHour: sameHour, weekdayTotals: [240, 240, 240, 240], dayTotals: dayTotals, minimumDays: 7))
        #expect(abs(quiet.weekdayFactor! - 0.1) < 1e-9)
        #expect(abs(quiet.expected - 10) < 1e-9)
        #expect(abs(quiet.distance) < 1)
        let busy = try #require(VolumeBaseline(observed: 100, sameHour: sameHour, weekdayTotals: [240, 240, 240, 240], dayTotals: dayTotals, minimumDays: 7))
        #expect(busy.distance > 20)
        #expect(busy.explanation(weekday: "Sunday").contains("× 0.10 for Sundays"))
    }

    @Test(
        "Stored hourly volumes raise spike, drop and silent-sensor alerts that state their baseline, a minute after the hour ends by the pipeline's clock; normal sources raise none",
        arguments: TestBackend.available, FixedInstant.all)
    func judgedHours(backend: TestBackend, instant: FixedInstant) async throws {
        let world = try await TenantWorld.make(on: backend)
        let store = world.installation.store
        let admin = world.users["admin"]!.id
        func sensor(_ name: String, _ organisation: Organisation) async throws -> Sensor {
            let sensor = Sensor(
                organisation: organisation.id, name: name, transport: .syslog, format: .json, mapping: "windows-flat", addresses: ["127.0.0.1"],
                rateLimit: 0, createdBy: admin)
            try await store.createSensor(sensor)
            return sensor
        }
        let dc = try await sensor("dc-logs", world.operatorA)
        let proxy = try await sensor("proxy-logs", world.operatorA)
        let other = try await sensor("edge-logs", world.operatorB)
        // The judged hour is the one the instant falls in.
        let hour = Int64(instant.date.timeIntervalSince1970) / 3600
        // 21 earlier days. A little deterministic noise so that the spread is not zero: −3, 0 or +3
        // by day and hour, so that every whole day adds up to the same total and the weekday factor
        // is exactly 1 wherever in the day the judged hour falls.
        var volumes: [IntakeCommit.Volume] = []
        for back in 1...(21 * 24) {
            let at = hour - Int64(back)
            let noise = ((at / 24 + at % 24) % 3 - 1) * 3
            volumes.append(.init(sensor: dc.id, hour: at, type: "Security/4624", events: 100 + noise))
            volumes.append(.init(sensor: dc.id, hour: at, type: "Security/4688", events: 300 + noise))
            volumes.append(.init(sensor: proxy.id, hour: at, type: "proxy", events: 300 - noise))
            volumes.append(.init(sensor: other.id, hour: at, type: "Security/4624", events: 500 + noise))
        }
        // The judged hour: logons sevenfold, process creations gone, the proxy silent, the other operator as usual.
        // The organisation's total (+600 −300 −300) is as usual: no alert for it.
        volumes.append(.init(sensor: dc.id, hour: hour, type: "Security/4624", events: 700))
        volumes.append(.init(sensor: other.id, hour: hour, type: "Security/4624", events: 503))
        try await store.commitIntake(IntakeCommit(volumes: volumes))

        // The pipeline starts as the judged hour begins and judges through its own clock, as in `qila serve`.
        let clock = ManualClock(Date(timeIntervalSince1970: Double(hour * 3600)))
        let pipeline = IntakePipeline(
            store: store, sets: DetectionSets(), sensors: SensorDirectory(settings: IntakeSettings(), clock: clock.clock), settings: IntakeSettings(),
            journalID: "test", logger: Logger(label: "test.volumes"), clock: clock.clock)
        pipeline.start(committedPosition: 0)
        defer { pipeline.stop() }
        clock.advance(by: 3600 + 59)
        try await pipeline.judgeDueVolumes()
        #expect(try await store.volumesJudged() == nil, "not judged until a minute after the hour ends")
        clock.advance(by: 1)
        try await pipeline.judgeDueVolumes()
        #expect(try await store.volumesJudged() == hour)

        let alerts = try await store.alerts(AlertFilter()).filter { $0.kind == .anomaly }
        let byRule = Dictionary(grouping: alerts, by: \.rule)
        #expect(alerts.count == 3)
        let spike = try #require(byRule["volume-spike"]?.first)
        #expect(spike.organisation == world.operatorA.id && spike.sensor == dc.id)
        #expect(spike.title == "Volume spike: Security/4624 events from sensor dc-logs")
        #expect(spike.fields.contains(AlertField(name: "observed", value: "700")))
        #expect(spike.fields.contains(AlertField(name: "expected", value: "100")))
        let explanation = try #require(spike.explanation)
        #expect(explanation.hasPrefix("700 events of type Security/4624 from sensor dc-logs between \(instant.hourPhrase)"))
        #expect(explanation.contains("the median of this hour on the 21 earlier days seen, 100"))
        #expect(explanation.contains("spreads above the baseline"))
        let drops = try #require(byRule["volume-drop"])
        #expect(drops.count == 2)
        let processes = try #require(drops.first { $0.sensor == dc.id })
        #expect(processes.title == "Volume drop: Security/4688 events from sensor dc-logs")
        #expect(processes.severity == .medium)
        #expect(processes.fields.contains(AlertField(name: "expected", value: "300")))
        // The silent proxy is one alert for all its events, not one per type.
        let silent = try #require(drops.first { $0.sensor == proxy.id })
        #expect(silent.title == "Volume drop: all events from sensor proxy-logs")
        #expect(silent.explanation!.hasPrefix("0 events of all types from sensor proxy-logs"))

        // The next hour, the same again: the same three alerts, one more occurrence each.
        try await store.commitIntake(
            IntakeCommit(volumes: [
                .init(sensor: dc.id, hour: hour + 1, type: "Security/4624", events: 710), .init(sensor: other.id, hour: hour + 1, type: "Security/4624", events: 497),
            ]))
        clock.advance(by: 3600)
        try await pipeline.judgeDueVolumes()
        let after = try await store.alerts(AlertFilter()).filter { $0.kind == .anomaly }
        #expect(after.count == 3)
        #expect(after.allSatisfy { $0.count == 2 })
        #expect(try await store.volumesJudged() == hour + 1)
        // Judging again in the same hour changes nothing: each hour is judged once.
        try await pipeline.judgeDueVolumes()
        #expect(try await store.alerts(AlertFilter()).filter { $0.kind == .anomaly }.allSatisfy { $0.count == 2 })
    }
}

extension FixedInstant {
    /// How a volume alert names the hour this instant falls in.
    fileprivate var hourPhrase: String {
        switch self.date {
        case FixedInstant.mondayAfterMidnight.date: "00:00–01:00 UTC on Monday 2026-12-07"
        default: "15:00–16:00 UTC on Thursday 2026-12-03"
        }
    }
}

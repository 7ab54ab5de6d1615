import Foundation
import QilaCore
import QilaIngest
import QilaTestSupport
import Testing

@Suite("Sensor allowances: rates refill with the clock, the daily quota starts again at midnight UTC")
struct SensorAllowanceTests {
    static func sensor() -> Sensor {
        Sensor(
            organisation: OrganisationID(), name: "dc-logs", transport: .syslog, format: .json, mapping: "windows-flat", addresses: ["127.0.0.1"],
            rateLimit: 100, createdBy: nil)
    }

    @Test("A sensor's rate: a second's worth at once, refilled as the clock moves; streams are told how long to wait")
    func rate() {
        let clock = ManualClock(FixedInstant.thursdayAfternoon.date)
        let sensor = Self.sensor()
        let directory = SensorDirectory(settings: IntakeSettings(), sensors: [sensor], clock: clock.clock)
        #expect(directory.admit(sensor, events: 100) == .accept)
        #expect(directory.admit(sensor, events: 1) == .refuse("rate-limited"))
        clock.advance(by: 0.5)
        #expect(directory.admit(sensor, events: 50) == .accept)
        let (granted, wait) = directory.take(sensor, upTo: 30)
        #expect(granted == 0 && abs(wait - 0.3) < 1e-9)
        clock.advance(by: 0.25)
        #expect(directory.take(sensor, upTo: 30).granted == 25, "a quarter of a second later, a quarter of the rate")
    }

    @Test("The organisation's daily quota counts per UTC day, whatever the hour it is reached", arguments: FixedInstant.all)
    func quota(_ instant: FixedInstant) {
        let clock = ManualClock(instant.date)
        let sensor = Self.sensor()
        var settings = IntakeSettings()
        settings.organisationDailyQuota = 250
        let directory = SensorDirectory(settings: settings, sensors: [sensor], clock: clock.clock)
        for _ in 0..<2 {
            #expect(directory.admit(sensor, events: 100) == .accept)
            clock.advance(by: 1)
        }
        #expect(directory.admit(sensor, events: 100) == .refuse("over-quota"))
        #expect(directory.take(sensor, upTo: 60).granted == 0, "streams too are refused once the quota is used up")
        #expect(directory.admit(sensor, events: 50) == .accept, "what still fits in the quota is taken")
        // Still the same day a second before midnight; a new quota a second after it.
        let day = (instant.date.timeIntervalSince1970 / 86_400).rounded(.down)
        clock.set(Date(timeIntervalSince1970: (day + 1) * 86_400 - 1))
        #expect(directory.admit(sensor, events: 1) == .refuse("over-quota"))
        clock.advance(by: 2)
        #expect(directory.admit(sensor, events: 100) == .accept)
    }
}

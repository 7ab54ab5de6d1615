import Foundation
import Testing

@testable import QilaCases

@Suite("Reporting regimes and deadlines")
struct RegimeTests {
    func date(_ text: String, _ zone: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    @Test("The shipped presets load and say what the law says")
    func presets() throws {
        let regimes = try RegimeParser.presets()
        #expect(Set(regimes.map(\.id)) == ["national", "nis2", "cert-in", "personal-data", "telecom", "cybercrime-complaint"])
        let nis2 = try #require(regimes.first { $0.id == "nis2" })
        #expect(nis2.stages.map(\.id) == ["early-warning", "notification", "intermediate", "final"])
        #expect(nis2.stages.map(\.due.description) == ["24h after awareness", "72h after awareness", "14d after request", "1 month after notification"])
        #expect(nis2.stages[2].onRequest)
        #expect(regimes.first { $0.id == "cert-in" }?.stages.first?.due.description == "6h after awareness")
        let personal = try #require(regimes.first { $0.id == "personal-data" })
        #expect(personal.personalData && personal.stages[0].due.description == "72h after awareness")
        let telecom = try #require(regimes.first { $0.id == "telecom" })
        for field in ["usersAffected", "durationMinutes", "geographicArea", "servicesAffected", "networkElements"] {
            #expect(telecom.stages[1].fields.contains(field), "telecom notification asks \(field)")
            #expect(telecom.field(field) != nil)
        }
        #expect(nis2.isReportable(["severe-disruption": true]) && !nis2.isReportable(["severe-disruption": false]))
    }

    @Test("Hours are elapsed time; days and months are calendar steps in the regime's zone, across daylight saving")
    func deadlinesAcrossTimeZones() throws {
        let brussels = TimeZone(identifier: "Europe/Brussels")!
        // Spring forward (29 March 2026, 02:00 → 03:00): one day is 23 hours, 24 hours end at 11:00.
        let spring = date("2026-03-28 10:00", "Europe/Brussels")
        let oneDay = ReportingRegime.Due(amount: 1, unit: .days, anchor: .awareness)
        let day = ReportingRegime.Due(amount: 24, unit: .hours, anchor: .awareness)
        #expect(oneDay.date(after: spring, in: brussels) == date("2026-03-29 10:00", "Europe/Brussels"))
        #expect(oneDay.date(after: spring, in: brussels).timeIntervalSince(spring) == 23 * 3600)
        #expect(day.date(after: spring, in: brussels) == date("2026-03-29 11:00", "Europe/Brussels"))
        // Fall back (25 October 2026): one day is 25 hours.
        let autumn = date("2026-10-24 10:00", "Europe/Brussels")
        #expect(oneDay.date(after: autumn, in: brussels).timeIntervalSince(autumn) == 25 * 3600)
        // A month after 31 January is the end of February; Karachi has no daylight saving.
        let month = ReportingRegime.Due(amount: 1, unit: .months, anchor: .awareness)
        #expect(month.date(after: date("2026-01-31 09:30", "Asia/Karachi"), in: TimeZone(identifier: "Asia/Karachi")!) == date("2026-02-28 09:30", "Asia/Karachi"))
        // The same instant counted in two zones gives different calendar deadlines.
        let start = date("2026-03-28 23:30", "UTC")
        let inBrussels = oneDay.date(after: start, in: brussels)
        let inKarachi = oneDay.date(after: start, in: TimeZone(identifier: "Asia/Karachi")!)
        #expect(inKarachi.timeIntervalSince(start) == 24 * 3600 && inBrussels.timeIntervalSince(start) == 23 * 3600)
    }

    @Test("Stage clocks with a controllable clock: due soon, overdue, on time, late, on request")
    func clocks() throws {
        let nis2 = try #require(try RegimeParser.presets().first { $0.id == "nis2" })
        let aware = date("2026-11-02 08:00", "UTC")
        func states(_ now: Date, submitted: [String: Date] = [:], requested: [String: Date] = [:]) -> [String] {
            nis2.clocks(awareness: aware, submitted: submitted, requested: requested, now: now).map(\.state.rawValue)
        }
        #expect(states(aware.addingTimeInterval(3600)) == ["open", "open", "not-requested", "open"])
        #expect(states(aware.addingTimeInterval(20 * 3600)) == ["due-soon", "open", "not-requested", "open"])
        #expect(states(aware.addingTimeInterval(30 * 3600)) == ["overdue", "open", "not-requested", "open"])
        let submitted = ["early-warning": aware.addingTimeInterval(10 * 3600), "notification": aware.addingTimeInterval(80 * 3600)]
        let later = aware.addingTimeInterval(100 * 3600)
        #expect(states(later, submitted: submitted, requested: ["intermediate": later]) == ["on-time", "late", "open", "open"])
        // The final report runs from the notification's submission, a month in the regime's zone.
        let clocks = nis2.clocks(awareness: aware, submitted: submitted, now: later)
        #expect(clocks[3].due == date("2026-12-05 16:00", "UTC"))
        // Without the notification, the final report counts from when the notification was due.
        #expect(nis2.clocks(awareness: aware, submitted: [:], now: aware).last?.due == date("2026-12-05 08:00", "UTC"))
        #expect(nis2.clocks(awareness: aware, submitted: [:], now: later)[1].isLateOrMissing)
    }

    @Test("A bad regime is refused with file, line and key")
    func refusals() {
        func error(_ yaml: String) -> String {
            do {
                _ = try RegimeParser.parse(yaml, file: "custom.yaml")
                return "accepted"
            } catch {
                return error.description
            }
        }
        let good = """
            id: custom
            title: Custom
            stages:
              - id: first
                title: First
                due: 12h after awareness
            """
        #expect(error(good) == "accepted")
        #expect(error(good + "\ncolour: red") == "custom.yaml, line 7, key colour: unknown key; a regime has basis, fields, id, personalData, publicIntake, reportableWhen, sectors, significance, stages, timeZone, title")
        #expect(error(good.replacingOccurrences(of: "12h after awareness", with: "soon")).hasPrefix("custom.yaml, line 6, key stages[0].due: 'soon' is not AMOUNT UNIT"))
        #expect(error(good.replacingOccurrences(of: "12h after awareness", with: "2d after final")).contains("'final' is not awareness, request or an earlier stage"))
        #expect(error(good.replacingOccurrences(of: "12h after awareness", with: "3d after request")).contains("only an on-request stage"))
        #expect(error(good + "\n    fields: [summary, colourOfHat]").contains("key stages[0].fields: unknown field 'colourOfHat'"))
        #expect(error(good + "\ntimeZone: Mars/Olympus").contains("key timeZone: 'Mars/Olympus' is not an IANA time zone"))
        #expect(error("id: [unclosed").hasPrefix("custom.yaml, line 2: not valid YAML"))  // where the parser noticed: the end
        #expect(error("id: x\ntitle: y\nstages: []").contains("key stages: a regime needs at least one stage"))
        let withField = good + """

            fields:
              - id: towersDown
                label: Towers down
                type: number
                minimum: 0
            """
        #expect(error(withField.replacingOccurrences(of: "due: 12h after awareness", with: "due: 12h after awareness\n    fields: [towersDown]")) == "accepted")
    }
}

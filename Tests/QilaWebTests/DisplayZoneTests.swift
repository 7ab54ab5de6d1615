import Foundation
import QilaCore
import Testing

@testable import QilaWeb

@Suite("Times shown and typed in the viewer's zone")
struct DisplayZoneTests {
    let karachi = DisplayZone(identifier: "Asia/Karachi")!
    // 2026-11-23T09:30:00Z
    let instant = Date(timeIntervalSince1970: 1_795_426_200)

    @Test("a time is shown in the zone with its offset named")
    func shown() {
        #expect(karachi.format(instant) == "2026-11-23 14:30 UTC+05:00")
        #expect(DisplayZone(zone: TimeZone(identifier: "UTC")!).format(instant) == "2026-11-23 09:30 UTC")
        #expect(DisplayZone(identifier: "America/New_York")!.format(instant) == "2026-11-23 04:30 UTC-05:00")
        #expect(karachi.name == "Asia/Karachi (UTC+05:00)")
        #expect(karachi.day(Date(timeIntervalSince1970: 1_795_460_400)) == "2026-11-24", "19:00 UTC is the next day in Karachi")
    }

    @Test("a time typed without a zone is read in the viewer's zone; one with a zone is left for the desk")
    func typed() {
        for text in ["2026-11-23 14:30", "2026-11-23T14:30", "2026-11-23 14:30:00", " 2026-11-23T14:30:00 "] {
            #expect(karachi.instant(text) == "2026-11-23T09:30:00Z", "\(text)")
        }
        #expect(karachi.instant("2026-11-23") == "2026-11-22T19:00:00Z")
        #expect(karachi.instant("2026-11-23T14:30Z") == "2026-11-23T14:30Z")
        #expect(karachi.instant("2026-11-23T14:30+01:00") == "2026-11-23T14:30+01:00")
        #expect(karachi.instant("23/11/2026 14:30") == "23/11/2026 14:30", "not ISO: passed on for the desk to refuse with the field named")
        #expect(karachi.instant("2026-02-30 10:00") == "2026-02-30 10:00", "no such day")
        #expect(karachi.typed(instant) == "2026-11-23 14:30")
        #expect(RFC3339.parse(karachi.instant(karachi.typed(instant))) == instant)
    }

    @Test("implausible dates are refused with the reason and the field")
    func plausible() {
        let now = instant
        #expect(throws: QilaError.self) { try PlausibleTime.check(Date(timeIntervalSince1970: -2_208_988_800), field: "awareness", now: now) }
        do {
            try PlausibleTime.check(Date(timeIntervalSince1970: 600_000_000), field: "issuedAt", now: now)
            Issue.record("1989 was accepted")
        } catch let error as QilaError {
            #expect(error.field == "issuedAt" && error.message.contains("before 1990"))
        } catch {
            Issue.record("\(error)")
        }
        do {
            try PlausibleTime.check(now.addingTimeInterval(3600), field: "awareness", past: true, now: now)
            Issue.record("an hour ahead was accepted")
        } catch let error as QilaError {
            #expect(error.field == "awareness" && error.message.contains("future"))
        } catch {
            Issue.record("\(error)")
        }
        #expect(throws: Never.self) { try PlausibleTime.check(now.addingTimeInterval(120), field: "awareness", past: true, now: now) }
        #expect(throws: Never.self) { try PlausibleTime.check(now.addingTimeInterval(86_400 * 30), field: "expiresAt", now: now) }
    }
}

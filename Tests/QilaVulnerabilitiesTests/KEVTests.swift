import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import QilaVulnerabilities
import Testing

@Suite("The national KEV catalogue: CISA's imported, the authority's own, removals, due dates per sector and class")
struct KEVTests {
    /// 2026-11-20 10:00 UTC.
    static let t0 = Date(timeIntervalSince1970: 1_795_168_800)

    /// A catalogue in CISA's form (its field names and order; descriptions written for this test).
    static func cisa(version: String = "2026.11.18", entries: [String] = Array(entries.keys).sorted()) -> String {
        let listed = entries.map { Self.entries[$0]! }
        return """
            {
                "title": "CISA Catalog of Known Exploited Vulnerabilities",
                "catalogVersion": "\(version)",
                "dateReleased": "2026-11-18T15:00:12.3456Z",
                "count": \(listed.count),
                "vulnerabilities": [
            \(listed.joined(separator: ",\n"))
                ]
            }
            """
    }

    static let entries: [String: String] = [
        "CVE-2021-44228": """
                    {"cveID": "CVE-2021-44228", "vendorProject": "Apache", "product": "Log4j2", "vulnerabilityName": "Apache Log4j2 Remote Code Execution Vulnerability",
                     "dateAdded": "2021-12-10", "shortDescription": "JNDI lookups in logged text let an attacker load and run code.",
                     "requiredAction": "Apply updates per vendor instructions.", "dueDate": "2021-12-24", "knownRansomwareCampaignUse": "Known",
                     "notes": "https://logging.apache.org/log4j/2.x/security.html; https://nvd.nist.gov/vuln/detail/CVE-2021-44228", "cwes": ["CWE-20", "CWE-400", "CWE-502"]}
            """,
        "CVE-2023-4966": """
                    {"cveID": "CVE-2023-4966", "vendorProject": "Citrix", "product": "NetScaler ADC and NetScaler Gateway", "vulnerabilityName": "Citrix NetScaler Buffer Overflow Vulnerability",
                     "dateAdded": "2023-10-18", "shortDescription": "A buffer overflow discloses session tokens when configured as a gateway.",
                     "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.", "dueDate": "2023-11-08",
                     "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-119"]}
            """,
        "CVE-2024-3400": """
                    {"cveID": "CVE-2024-3400", "vendorProject": "Palo Alto Networks", "product": "PAN-OS", "vulnerabilityName": "Palo Alto Networks PAN-OS Command Injection Vulnerability",
                     "dateAdded": "2024-04-12", "shortDescription": "Command injection in GlobalProtect lets an unauthenticated attacker run code as root.",
                     "requiredAction": "Apply mitigations per vendor instructions.", "dueDate": "2024-04-19", "knownRansomwareCampaignUse": "Unknown",
                     "notes": "https://security.paloaltonetworks.com/CVE-2024-3400", "cwes": ["CWE-77", "CWE-20"]}
            """,
        "CVE-2018-13379": """
                    {"cveID": "CVE-2018-13379", "vendorProject": "Fortinet", "product": "FortiOS", "vulnerabilityName": "Fortinet FortiOS SSL VPN Path Traversal Vulnerability",
                     "dateAdded": "2021-11-03", "shortDescription": "Path traversal in the SSL VPN web portal lets an attacker download system files.",
                     "requiredAction": "Apply updates per vendor instructions.", "dueDate": "2022-05-03", "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-22"]}
            """,
    ]

    struct Fixture {
        var world: TenantWorld
        var desk: KEVDesk
        var gate: DecisionGate
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let world = try await TenantWorld.make(on: backend)
        return Fixture(
            world: world, desk: KEVDesk(store: world.installation.store, audit: world.installation.audit),
            gate: DecisionGate(policy: world.installation.policy, audit: world.installation.audit))
    }

    static func problem(_ text: String) -> String? {
        do {
            _ = try KEVCatalogue.read(Data(text.utf8), file: "kev.json")
            return nil
        } catch {
            return error.description
        }
    }

    @Test("A catalogue is read with CISA's fields; what is wrong is named with its entry and field")
    func reading() throws {
        let catalogue = try KEVCatalogue.read(Data(Self.cisa().utf8), file: "kev.json")
        #expect(catalogue.count == 4 && catalogue.vulnerabilities.map(\.cveID).contains("CVE-2024-3400"))
        #expect(catalogue.vulnerabilities.first { $0.cveID == "CVE-2021-44228" }?.cwes == ["CWE-20", "CWE-400", "CWE-502"])
        let good = Self.cisa()
        #expect(Self.problem(good.replacingOccurrences(of: "\"dueDate\": \"2024-04-19\", ", with: "")) == "kev.json: vulnerabilities[3] has no dueDate")
        #expect(Self.problem(good.replacingOccurrences(of: "2023-10-18", with: "2023-02-30")) == "kev.json: vulnerabilities[2].dateAdded '2023-02-30' is not a date (YYYY-MM-DD)")
        #expect(Self.problem(good.replacingOccurrences(of: "\"CVE-2024-3400\", \"vendorProject\"", with: "\"CVE-24-3400\", \"vendorProject\"")) == "kev.json: vulnerabilities[3].cveID 'CVE-24-3400' is not a CVE identifier (CVE-YYYY-NNNN)")
        #expect(Self.problem(good.replacingOccurrences(of: "\"count\": 4", with: "\"count\": 5")) == "kev.json: count says 5 but the file lists 4")
        #expect(Self.problem(good.replacingOccurrences(of: "\"count\": 4", with: "\"count\": \"4\"")) == "kev.json: count is not of the type CISA's catalogue uses")
        #expect(Self.problem(Self.cisa(entries: ["CVE-2024-3400", "CVE-2024-3400"])) == "kev.json: vulnerabilities[1].cveID CVE-2024-3400 is listed twice")
        #expect(Self.problem("not json")?.hasPrefix("kev.json is not JSON") == true)
        // Older catalogues without `cwes` read as none.
        let old = good.replacingOccurrences(of: ", \"cwes\": [\"CWE-22\"]", with: "")
        #expect(try KEVCatalogue.read(Data(old.utf8), file: "kev.json").vulnerabilities.first { $0.cveID == "CVE-2018-13379" }?.cwes == [])
    }

    @Test("Imported and exported equal in content; a second import changes nothing; only the authority imports", arguments: TestBackend.available)
    func importExport(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let analyst = fixture.world.subject("analyst")
        let summary = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: Self.t0)
        #expect((summary.added, summary.updated, summary.unchanged, summary.dropped) == (4, 0, 0, []))
        let imported = try KEVCatalogue.read(Data(Self.cisa().utf8), file: "kev.json")
        let published = try await fixture.desk.published(title: KEVDesk.defaultTitle)
        #expect(Set(published.vulnerabilities.map(\.cveID)) == Set(imported.vulnerabilities.map(\.cveID)))
        for entry in imported.vulnerabilities { #expect(published.vulnerabilities.first { $0.cveID == entry.cveID } == entry, "\(entry.cveID)") }
        // The export reads back as a catalogue in CISA's form, oldest addition first.
        let again = try KEVCatalogue.read(try published.json(), file: "export.json")
        #expect(again == published && again.vulnerabilities.map(\.dateAdded) == again.vulnerabilities.map(\.dateAdded).sorted())
        let second = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: Self.t0)
        #expect((second.added, second.updated, second.unchanged) == (0, 0, 4))
        await #expect(throws: QilaError.self, "an operator does not import") {
            _ = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: fixture.world.subject("a-admin"), gate: fixture.gate)
        }
        let refused = await #expect(throws: QilaError.self) {
            _ = try await fixture.desk.importCISA(
                Data(Self.cisa().replacingOccurrences(of: "\"count\": 4", with: "\"count\": 3").utf8), file: "kev.json", by: analyst, gate: fixture.gate)
        }
        #expect(refused?.message == "count says 3 but the file lists 4" && refused?.location == "kev.json")
        let audited = try await fixture.world.installation.store.auditEntries(from: 0, limit: 1000, actionPrefix: "kev.").filter { $0.action == "kev.import" }
        #expect(audited.count == 2 && audited.first?.details["added"] == "4")
    }

    @Test("An entry CISA drops is recorded as removed; the authority's removals stand against later imports; the stream says so", arguments: TestBackend.available)
    func removals(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let analyst = fixture.world.subject("analyst")
        _ = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: Self.t0)
        let later = Self.t0.addingTimeInterval(86_400 * 3)
        let next = try await fixture.desk.importCISA(
            Data(Self.cisa(version: "2026.11.21", entries: ["CVE-2021-44228", "CVE-2023-4966", "CVE-2024-3400"]).utf8), file: "kev.json", by: analyst,
            gate: fixture.gate, now: later)
        #expect(next.dropped == ["CVE-2018-13379"] && next.unchanged == 3)
        let dropped = try #require(try await fixture.world.installation.store.kevEntry("CVE-2018-13379"))
        #expect(dropped.removal?.date == "2026-11-23" && dropped.removal?.reason == "not in CISA's catalogue 2026.11.21")
        // The authority removes one that CISA still lists; the next import leaves it removed.
        try await fixture.desk.remove("cve-2023-4966", on: "2026-11-22", reason: "Withdrawn: not exploited in this country's networks", by: analyst, gate: fixture.gate, now: later)
        let third = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: later)
        #expect(third.keptRemoved.contains("CVE-2023-4966"))
        #expect(third.updated == 1 && third.added == 0, "CVE-2018-13379 is listed again: the removal its drop recorded is lifted")
        #expect(try await fixture.world.installation.store.kevEntry("CVE-2018-13379")?.removal == nil)
        let published = try await fixture.desk.published(title: KEVDesk.defaultTitle).vulnerabilities.map(\.cveID)
        #expect(!published.contains("CVE-2023-4966") && published.contains("CVE-2018-13379"))
        let lines = String(decoding: try await fixture.desk.publishedStream(), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 4)
        let removedLine = try #require(lines.first { $0.contains("CVE-2023-4966") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(removedLine.utf8)) as? [String: Any])
        #expect((object["removed"] as? [String: String])?["date"] == "2026-11-22" && object["product"] as? String == "NetScaler ADC and NetScaler Gateway")
        // Refusals name the field.
        for (cve, day, reason, field) in [
            ("CVE-2023-4966", "", "again", "cveID"), ("CVE-2099-0001", "", "unknown entry", "cveID"), ("CVE-2024-3400", "2030-01-01", "future", "removedOn"),
            ("CVE-2024-3400", "2024-01-01", "before it was added", "removedOn"), ("CVE-2024-3400", "", "", "reason"),
        ] {
            do {
                try await fixture.desk.remove(cve, on: day, reason: reason, by: analyst, gate: fixture.gate, now: later)
                Issue.record("\(cve) \(day) was accepted")
            } catch let error as QilaError {
                #expect(error.field == field, "\(cve) \(day): \(error)")
            }
        }
    }

    @Test("The authority's own entries: refusals name the field; CISA's are not edited here; a marked entry is not published", arguments: TestBackend.available)
    func ownEntries(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let analyst = fixture.world.subject("analyst")
        _ = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: Self.t0)
        var input = KEVDesk.EntryInput()
        (input.cveID, input.vendorProject, input.product, input.vulnerabilityName) = ("cve-2026-10001", "Example Telecom Systems", "Subscriber Gateway", "Gateway Authentication Bypass")
        (input.shortDescription, input.requiredAction, input.dueDate, input.cwes) = ("A crafted header skips authentication.", "Apply the vendor's fix.", "2026-12-04", "CWE-287")
        input.dateAdded = "2026-11-20"
        let own = try await fixture.desk.saveOwn(input, by: analyst, gate: fixture.gate, now: Self.t0)
        #expect(own.cveID == "CVE-2026-10001" && own.source == .authority && own.cwes == ["CWE-287"])
        #expect(try await fixture.desk.published(title: KEVDesk.defaultTitle).vulnerabilities.contains { $0.cveID == "CVE-2026-10001" })
        input.tlp = TLP.amber.rawValue
        _ = try await fixture.desk.saveOwn(input, by: analyst, gate: fixture.gate, now: Self.t0)
        #expect(!(try await fixture.desk.published(title: KEVDesk.defaultTitle).vulnerabilities.contains { $0.cveID == "CVE-2026-10001" }))
        var cases: [(KEVDesk.EntryInput, String)] = []
        var bad = input
        bad.cveID = "CVE-2024-3400"
        cases.append((bad, "cveID"))
        bad = input
        bad.dueDate = "2026-11-19"
        cases.append((bad, "dueDate"))
        bad = input
        bad.dateAdded = "2026-12-01"
        cases.append((bad, "dateAdded"))
        bad = input
        bad.cwes = "CWE-287, XSS"
        cases.append((bad, "cwes"))
        bad = input
        bad.product = "  "
        cases.append((bad, "product"))
        bad = input
        bad.tlp = TLP.red.rawValue
        cases.append((bad, "tlp"))
        bad = input
        bad.knownRansomwareCampaignUse = "Maybe"
        cases.append((bad, "knownRansomwareCampaignUse"))
        for (candidate, field) in cases {
            do {
                _ = try await fixture.desk.saveOwn(candidate, by: analyst, gate: fixture.gate, now: Self.t0)
                Issue.record("accepted with a bad \(field)")
            } catch let error as QilaError {
                #expect(error.field == field, "\(field): \(error)")
            }
        }
        await #expect(throws: QilaError.self, "a regulator reads, does not add") {
            _ = try await fixture.desk.saveOwn(input, by: fixture.world.subject("regulator"), gate: fixture.gate, now: Self.t0)
        }
        #expect(try await fixture.desk.entries(for: fixture.world.subject("a-reporter"), gate: fixture.gate).count == 5)
    }

    @Test("Due dates: the entry's rule for the sector, then for the class, then the catalogue's for the sector and the class, then the entry's own",
        arguments: TestBackend.available)
    func dueDates(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let analyst = fixture.world.subject("analyst")
        _ = try await fixture.desk.importCISA(Data(Self.cisa().utf8), file: "kev.json", by: analyst, gate: fixture.gate, now: Self.t0)
        let store = fixture.world.installation.store
        let entry = try #require(try await store.kevEntry("CVE-2024-3400"))
        var operatorA = fixture.world.operatorA
        operatorA.criticality = .critical
        var rules = try await fixture.desk.deadlines(for: analyst, gate: fixture.gate)
        #expect(KEVDesk.dueDate(of: entry, for: operatorA, rules: rules)?.description == "2024-04-19", "no rule: CISA's date")
        _ = try await fixture.desk.setDeadline(cve: "", scope: "criticality", value: "critical", days: "7", dueDate: "", by: analyst, gate: fixture.gate, now: Self.t0)
        rules = try await store.kevDeadlines()
        #expect(KEVDesk.dueDate(of: entry, for: operatorA, rules: rules)?.description == "2024-04-19")
        _ = try await fixture.desk.setDeadline(cve: "", scope: "sector", value: "telecom", days: "14", dueDate: "", by: analyst, gate: fixture.gate, now: Self.t0)
        rules = try await store.kevDeadlines()
        #expect(KEVDesk.dueDate(of: entry, for: operatorA, rules: rules)?.description == "2024-04-26", "the sector's rule before the class's")
        _ = try await fixture.desk.setDeadline(cve: "cve-2024-3400", scope: "criticality", value: "critical", days: "3", dueDate: "", by: analyst, gate: fixture.gate, now: Self.t0)
        rules = try await store.kevDeadlines()
        #expect(KEVDesk.dueDate(of: entry, for: operatorA, rules: rules)?.description == "2024-04-15", "the entry's rule before the catalogue's")
        _ = try await fixture.desk.setDeadline(cve: "CVE-2024-3400", scope: "sector", value: "telecom", days: "", dueDate: "2024-04-13", by: analyst, gate: fixture.gate, now: Self.t0)
        rules = try await store.kevDeadlines()
        #expect(KEVDesk.dueDate(of: entry, for: operatorA, rules: rules)?.description == "2024-04-13")
        #expect(KEVDesk.dueDate(of: entry, for: fixture.world.bank, rules: rules)?.description == "2024-04-19", "the bank: no rule applies")
        for (cve, scope, value, days, due, field) in [
            ("", "sector", "nowhere", "7", "", "value"), ("", "criticality", "vital", "7", "", "value"), ("", "region", "x", "7", "", "scope"),
            ("", "sector", "telecom", "", "2026-12-01", "dueDate"), ("", "sector", "telecom", "7", "2026-12-01", "days"), ("", "sector", "telecom", "-1", "", "days"),
            ("CVE-2099-0001", "sector", "telecom", "7", "", "cveID"),
        ] {
            do {
                _ = try await fixture.desk.setDeadline(cve: cve, scope: scope, value: value, days: days, dueDate: due, by: analyst, gate: fixture.gate, now: Self.t0)
                Issue.record("accepted \(scope) \(value) \(days) \(due)")
            } catch let error as QilaError {
                #expect(error.field == field, "\(scope) \(value) \(days) \(due): \(error)")
            }
        }
    }

    @Test("Property: a day written and read back is the same day, and agrees with the Gregorian calendar, for 5,000 seeded days")
    func days() throws {
        var random = SeededRandom(seed: 42)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<5_000 {
            let ordinal = Int.random(in: -200_000...200_000, using: &random)
            let day = CivilDay(ordinal: ordinal)
            #expect(CivilDay(day.description) == day, "\(ordinal)")
            let date = Date(timeIntervalSince1970: Double(ordinal) * 86_400)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            // Foundation's calendar is Julian before October 1582; KEV's days are Gregorian throughout.
            if let year = parts.year, year >= 1600, year <= 9999 {
                #expect(day.description == String(format: "%04d-%02d-%02d", year, parts.month!, parts.day!), "\(ordinal)")
            }
        }
        #expect(CivilDay("2024-02-29") != nil && CivilDay("2023-02-29") == nil && CivilDay("1900-02-29") == nil && CivilDay("2000-02-29") != nil)
    }
}

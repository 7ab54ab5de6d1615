import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import QilaTraining
import Testing

@Suite("Training and awareness: courses, enrolments, completions with certificates, phishing simulations, coverage")
struct TrainingTests {
    /// 2026-11-20 10:00 UTC.
    static let t0 = Date(timeIntervalSince1970: 1_795_168_800)

    /// A GoPhish results export, as its "Export CSV" button writes it (Papa.unparse of the
    /// results, formulae escaped): five recipients; two clicked (one gave data), one reported.
    static let gophishCSV = """
        \u{FEFF}id,status,ip,latitude,longitude,send_date,reported,modified_date,email,first_name,last_name,position
        a1B2c3D,Email Sent,,0,0,2026-11-03T09:15:02.123456789+05:00,false,2026-11-03T09:15:02.123456789+05:00,sana@operator-a.example,Sana,Iqbal,Billing
        b2C3d4E,Email Opened,203.0.113.7,0,0,2026-11-03T09:15:03+05:00,true,2026-11-03T09:40:00+05:00,omar@operator-a.example,Omar,Shah,NOC
        c3D4e5F,Clicked Link,203.0.113.8,0,0,2026-11-03T09:15:04+05:00,false,2026-11-03T10:02:11+05:00,HINA@operator-a.example,Hina,Raza,Finance
        d4E5f6G,Submitted Data,203.0.113.9,0,0,2026-11-03T09:15:05+05:00,false,2026-11-03T10:05:00+05:00,bilal@operator-a.example,"Bilal, Jr",Khan,"'=HYPERLINK(""x"")"
        e5F6g7H,Error,,0,0,2026-11-03T09:15:06+05:00,false,2026-11-03T09:15:06+05:00,nadia@operator-a.example,Nadia,Ali,HR
        """

    struct Fixture {
        var world: TenantWorld
        var desk: TrainingDesk
        var gate: DecisionGate
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        return Fixture(
            world: world, desk: TrainingDesk(store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets),
            gate: DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    static func course(_ fixture: Fixture, national: Bool = true, mark: String = "70") async throws -> TrainingCourse {
        var input = TrainingDesk.CourseInput()
        (input.title, input.audience, input.durationMinutes, input.passingMark) = ("Spotting phishing", "all staff", "45", mark)
        input.materials = "[Slides](https://training.example/phishing)"
        if !national { input.organisation = fixture.world.operatorA.id.description }
        return try await fixture.desk.createCourse(input, by: fixture.world.subject(national ? "analyst" : "a-admin"), gate: fixture.gate, now: t0)
    }

    @Test("The authority's courses are for everyone, an organisation's for itself; bad fields are named", arguments: TestBackend.available)
    func courses(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let national = try await Self.course(fixture)
        let own = try await Self.course(fixture, national: false)
        #expect(Set(try await fixture.desk.visibleCourses(for: fixture.world.subject("a-reporter")).map(\.id)) == [national.id, own.id])
        #expect(try await fixture.desk.visibleCourses(for: fixture.world.subject("b-admin")).map(\.id) == [national.id])
        var input = TrainingDesk.CourseInput()
        (input.title, input.audience, input.durationMinutes, input.passingMark) = ("National drill", "all staff", "60", "50")
        await #expect(throws: QilaError.self, "an operator cannot publish a national course") {
            _ = try await fixture.desk.createCourse(input, by: fixture.world.subject("a-admin"), gate: fixture.gate)
        }
        input.passingMark = "150"
        do {
            _ = try await fixture.desk.createCourse(input, by: fixture.world.subject("analyst"), gate: fixture.gate)
            Issue.record("a passing mark of 150 was accepted")
        } catch let error as QilaError {
            #expect(error.field == "passingMark")
        }
    }

    @Test("A passed completion gets a certificate that verifies; an altered one does not; a revoked one says so", arguments: TestBackend.available)
    func certificates(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let course = try await Self.course(fixture)
        let operatorA = fixture.world.operatorA.id.description
        let admin = fixture.world.subject("a-admin")
        let failed = try await fixture.desk.recordCompletion(
            course: course.id, organisation: operatorA, email: "zara@operator-a.example", name: "Zara", score: "55", by: admin, gate: fixture.gate, now: Self.t0)
        #expect(!failed.passed)
        await #expect(throws: QilaError.self) { _ = try await fixture.desk.certificate(failed.id, for: admin, gate: fixture.gate) }
        let passed = try await fixture.desk.recordCompletion(
            course: course.id, organisation: operatorA, email: "Zara@Operator-A.example", name: "Zara Ahmed", score: "88", completedOn: "2026-11-19", by: admin,
            gate: fixture.gate, now: Self.t0)
        let (certificate, token) = try await fixture.desk.certificate(passed.id, for: admin, gate: fixture.gate)
        #expect(certificate.name == "Zara" && certificate.score == 88 && certificate.completed == "2026-11-19" && certificate.organisation == "Operator A")
        #expect(try await fixture.desk.verify(token) == .valid(certificate))

        // The code fits a QR code; an altered signature, another completion's id with this
        // signature, or another installation's key: refused.
        #expect(token.count <= 130)
        let parts = token.split(separator: ".").map(String.init)
        let flipped = parts[1].first == "A" ? "B" + parts[1].dropFirst() : "A" + parts[1].dropFirst()
        #expect(try await fixture.desk.verify(parts[0] + "." + flipped) == .invalid)
        #expect(try await fixture.desk.verify(failed.id + "." + parts[1]) == .invalid)
        #expect(try await fixture.desk.verify("not a certificate") == .invalid)
        #expect(try await fixture.desk.verify(parts[0]) == .invalid)
        let other = TrainingCertificate.Signer(sealingKey: .init(size: .bits256))
        #expect(!other.verify(token, against: certificate) && fixture.desk.signer.verify(token, against: certificate))
        var raised = certificate
        raised.score = 100
        #expect(!fixture.desk.signer.verify(token, against: raised), "the same code does not vouch for a higher score")

        await #expect(throws: QilaError.self, "another operator cannot revoke") { try await fixture.desk.revoke(passed.id, by: fixture.world.subject("b-admin"), gate: fixture.gate) }
        try await fixture.desk.revoke(passed.id, by: admin, gate: fixture.gate, now: Self.t0)
        #expect(try await fixture.desk.verify(token) == .revoked(certificate))
    }

    @Test("A GoPhish CSV export is imported: counts, each recipient, and those who clicked enrolled on the chosen course", arguments: TestBackend.available)
    func gophishImport(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let course = try await Self.course(fixture)
        let store = fixture.world.installation.store
        await #expect(throws: QilaError.self, "a reporter reads but does not import") {
            _ = try await fixture.desk.importPhishing(
                Array(Self.gophishCSV.utf8), name: "November", organisation: fixture.world.operatorA.id.description, by: fixture.world.subject("a-reporter"),
                gate: fixture.gate)
        }
        let campaign = try await fixture.desk.importPhishing(
            Array(Self.gophishCSV.utf8), name: "November invoice lure", organisation: fixture.world.operatorA.id.description, enrolCourse: course.id,
            by: fixture.world.subject("a-admin"), gate: fixture.gate, now: Self.t0)
        #expect((campaign.sent, campaign.opened, campaign.clicked, campaign.submitted, campaign.reported) == (4, 3, 2, 1, 1))
        #expect(campaign.launchedAt.timeIntervalSince1970.rounded(.down) == RFC3339.parse("2026-11-03T04:15:02Z")?.timeIntervalSince1970)
        let enrolled = try await store.enrolments(course: course.id)
        #expect(enrolled.map(\.email).sorted() == ["bilal@operator-a.example", "hina@operator-a.example"])
        #expect(enrolled.allSatisfy { $0.reason == "clicked in November invoice lure" && $0.dueAt == Self.t0.addingTimeInterval(30 * 86_400) })
        let people = try await store.people(of: fixture.world.operatorA.id)
        #expect(people.count == 5 && people.first { $0.email == "bilal@operator-a.example" }?.position == "=HYPERLINK(\"x\")")
        let (_, results) = try await fixture.desk.phishingCampaign(campaign.id, for: fixture.world.subject("regulator"), gate: fixture.gate)
        #expect(results.count == 5 && results.filter(\.clicked).count == 2)
        await #expect(throws: QilaError.self) { _ = try await fixture.desk.phishingCampaign(campaign.id, for: fixture.world.subject("b-admin"), gate: fixture.gate) }

        // They complete the course: coverage counts them, the outstanding enrolments fall.
        try await fixture.desk.setHeadcount("40", organisation: fixture.world.operatorA.id.description, by: fixture.world.subject("a-admin"), gate: fixture.gate, now: Self.t0)
        _ = try await fixture.desk.recordCompletion(
            course: course.id, organisation: fixture.world.operatorA.id.description, email: "hina@operator-a.example", name: "", score: "90",
            by: fixture.world.subject("a-admin"), gate: fixture.gate, now: Self.t0)
        let coverage = try await fixture.desk.coverage(of: fixture.world.operatorA.id, year: 2026, for: fixture.world.subject("a-reporter"), gate: fixture.gate)
        #expect(coverage.trained == 1 && coverage.headcount == 40 && coverage.declared && coverage.outstanding == 1)
        #expect(coverage.simulations.first.map { ($0.clickRate, $0.reportRate) } ?? (0, 0) == (0.5, 0.25))
    }

    @Test("The same results as GoPhish's campaign JSON give the same counts; a file of another kind is refused with its place", arguments: TestBackend.available)
    func gophishJSON(backend: TestBackend) async throws {
        let json = """
            {"id": 7, "name": "Q4 courier lure", "status": "Completed", "launch_date": "2026-10-01T08:00:00Z",
             "results": [
              {"id": "x1", "status": "Clicked Link", "reported": false, "email": "a@bank.example", "first_name": "A", "last_name": "B", "position": "", "send_date": "2026-10-01T08:00:01Z"},
              {"id": "x2", "status": "Email Sent", "reported": true, "email": "c@bank.example", "first_name": "C", "last_name": "D", "position": "", "send_date": "2026-10-01T08:00:02Z"}
             ],
             "timeline": []}
            """
        let parsed = try PhishingResults.parse(Array(json.utf8))
        #expect(parsed.name == "Q4 courier lure" && parsed.launchedAt == RFC3339.parse("2026-10-01T08:00:00Z"))
        #expect(parsed.recipients.map(\.clicked) == [true, false] && parsed.recipients.map(\.reported) == [false, true])
        for (bad, location) in [
            ("email,status\nnot-an-address,Email Sent\n", "line 2"), ("id,name\n1,x\n", "line 1"), (#"{"results": [42]}"#, "$.results[0]"),
            ("email,status\n\"a@b.example,Email Sent\n", "line 2"),
        ] {
            do {
                _ = try PhishingResults.parse(Array(bad.utf8))
                Issue.record("accepted \(bad.debugDescription)")
            } catch {
                #expect(error.location == location, "\(bad.debugDescription): \(error)")
            }
        }
    }

    @Test("Property: 3,000 random byte strings and mangled exports never crash the parser, and every refusal has a place")
    func parserNeverCrashes() {
        var random = SplitMix(seed: 2026)
        let base = Array(Self.gophishCSV.utf8)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...400, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = base
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let index = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[index] = [UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "{"), 0xFF, UInt8(ascii: "@")].randomElement(using: &random)!
                }
            }
            do {
                let parsed = try PhishingResults.parse(bytes)
                #expect(parsed.recipients.allSatisfy { $0.email.contains("@") })
            } catch {
                #expect(!error.location.isEmpty && !error.message.isEmpty)
            }
        }
    }

    @Test("Sector and national figures: trained over staff, clicks over messages; withheld below the minimum group", arguments: TestBackend.available)
    func figures(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let store = fixture.world.installation.store
        let admin = fixture.world.subject("admin")
        for (organisation, headcount) in [(fixture.world.operatorA, "40"), (fixture.world.operatorB, "60")] {
            try await store.setHeadcount(Int(headcount)!, of: organisation.id, by: admin.user.id, at: Self.t0)
        }
        try await store.setSetting("assessments.minimum-group", "2")
        let course = try await Self.course(fixture)
        for index in 0..<10 {
            _ = try await fixture.desk.recordCompletion(
                course: course.id, organisation: fixture.world.operatorB.id.description, email: "p\(index)@operator-b.example", name: "", score: "80",
                by: fixture.world.subject("b-admin"), gate: fixture.gate, now: Self.t0)
        }
        let (minimum, groups) = try await fixture.desk.figures(year: 2026, for: fixture.world.subject("overseer"), gate: fixture.gate)
        #expect(minimum == 2)
        let telecom = try #require(groups.first { $0.sector == "telecom" })
        #expect(telecom.organisations == 2 && telecom.coverage == 0.1 && telecom.clickRate == nil)
        #expect(groups.first { $0.sector == nil }?.coverage == 0.1)
        #expect(groups.first { $0.sector == "banking-finance" }?.withheld == true)
        let regulatorGroups = try await fixture.desk.figures(year: 2026, for: fixture.world.subject("regulator"), gate: fixture.gate).groups
        #expect(regulatorGroups.map(\.sector) == ["telecom"], "a regulator sees its own sector only")
        await #expect(throws: QilaError.self) { _ = try await fixture.desk.figures(year: 2026, for: fixture.world.subject("a-reporter"), gate: fixture.gate) }
    }
}


extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

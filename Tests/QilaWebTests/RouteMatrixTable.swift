import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaIngest
import QilaPublic
import QilaIntel
import QilaStore
import QilaTestSupport
import QilaTraining
import QilaVulnerabilities
import Testing
@testable import QilaWeb

/// The expectations of `RouteMatrixTests`, route by route, and the scenario they run on.
enum ExpectationTable {
    typealias E = RouteMatrixTests.Expectation
    typealias Call = RouteMatrixTests.Call
    static let everyone = RouteMatrixTests.everyone
    static let people = RouteMatrixTests.people
    static let anyone = Set(RouteMatrixTests.accounts)

    struct Chunk: Sendable, CustomStringConvertible {
        var number: Int
        var expectations: [E]
        var description: String { "routes \(number): \(expectations.first?.route ?? "") …" }
    }

    static var chunks: [Chunk] {
        stride(from: 0, to: all.count, by: 16).enumerated().map { number, start in
            Chunk(number: number + 1, expectations: Array(all[start..<min(start + 16, all.count)]))
        }
    }

    // MARK: who

    static let caseReaders: Set<String> = ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"]
    static let alertReaders: Set<String> = ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor"]

    // MARK: the scenario

    static func scenario(_ context: RouteMatrixTests.Context) async throws -> RouteMatrixTests.Scenario {
        let harness = context.harness
        let client = context.client
        let world = harness.world
        let store = world.installation.store
        let (caseID, _) = try await CaseAccessTests.makeCase(harness, client)
        let (alert, _, sensor) = try await AlertAccessTests.seed(harness)
        func token(_ name: String) -> String { harness.tokens[name]! }
        // An attachment, a request for information and a notice on the case.
        let attached = try await client.execute(
            uri: "/api/v1/cases/\(caseID)/attachments?name=report.pdf", method: .post,
            headers: [.authorization: "Bearer \(token("a-admin"))", .contentType: "application/octet-stream"],
            body: ByteBuffer(string: "%PDF-1.7\n%%EOF\n"))
        let asked = try await client.call(.post, "/api/v1/cases/\(caseID)/requests", as: token("analyst"), json: #"{"question":"Which hosts?","dueDays":5}"#)
        let noticed = try await client.call(.post, "/api/v1/cases/\(caseID)/notices", as: token("analyst"), json: #"{"replyDays":14}"#)
        let id = try #require(CaseID(caseID))
        let attachmentID = try #require(try await store.attachments(of: id).first?.id.description, "attaching: \(attached.status)")
        let requestID = try #require(try await store.requests(of: id).first?.id.description, "asking: \(asked.status)")
        let noticeID = try #require(try await store.notices(caseID: id).first?.id.description, "notice: \(noticed.status)")
        let analyst = context.sessions["analyst"]!
        _ = try await client.execute(
            uri: "/cases/\(caseID)/tasks", method: .post,
            headers: [.cookie: analyst.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "_csrf=\(analyst.csrf)&title=Collect+logs&assignee=&due="))
        let taskID = try #require(try await store.tasks(of: id).first?.id.description)
        // A flow source, a webhook and a rule of the installation.
        let source = FlowSource(organisation: world.operatorA.id, kind: .exporter, name: "Core router", address: "192.0.2.1")
        try await store.createFlowSource(source)
        let hook = Webhook(
            organisation: world.operatorA.id, url: "https://hooks.example.test/a", sealedSecret: try world.installation.secrets.seal(Array("s".utf8)),
            events: ["case.opened"], createdAt: Date(), createdBy: world.users["a-admin"]!.id)
        try await store.createWebhook(hook)
        let rule = DetectionRule(id: "matrix-rule", title: "Matrix rule", level: "high", file: "matrix.yml", yaml: Self.ruleYAML, uploadedBy: nil)
        try await store.saveRules([rule])
        // A warrant addressed to Operator A, approved, with one query run.
        let warrantID = try await Self.warrant(context, approved: true)
        let investigator = context.sessions["investigator"]!
        let queried = try await client.execute(
            uri: "/warrants/\(warrantID)/query", method: .post,
            headers: [.cookie: investigator.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "_csrf=\(investigator.csrf)&windowStart=&windowEnd="))
        let page = String(buffer: queried.body) + (queried.headers[.location] ?? "")
        let queryID = try #require(page.range(of: "/queries/").map { String(page[$0.upperBound...].prefix { $0 != "/" }) }, "no query: \(queried.status) \(page.prefix(300))")
        // An HTTP sensor of Operator A that sends with its service account, and intake ready.
        let http = Sensor(
            organisation: world.operatorA.id, name: "matrix-http", transport: .http, format: .json, mapping: "windows-flat",
            account: world.users["a-sensor"]!.id, rateLimit: 0, createdBy: world.users["admin"]!.id)
        try await store.createSensor(http)
        try await harness.intake.prepare()
        // The journal's writer, so that an accepted batch is made durable and answered; what
        // detection does with it is not this test's business.
        harness.intake.journal.start { _ in }
        // Operator A's case as a MISP event, for the import form.
        let misp = try await client.call(.get, "/cases/\(caseID)/export/misp", as: token("analyst"))
        // A set-up link for a new account of Operator A, and a token of its reporter.
        let setup = try await world.installation.authenticator.createOneTimeLink(purpose: "setup", user: world.users["a-reporter"]!.id, validFor: .seconds(3600))
        let reporterToken = try await world.installation.authenticator.issueToken(for: world.users["a-reporter"]!, name: "matrix", scopes: [.read], days: 1, by: nil)
        // The national intelligence collection, found and added to through TAXII by Operator A.
        let (collection, object, status) = try await Self.intel(context)
        let (campaign, evidence) = try await Self.campaign(context)
        let portal = try await Self.portal(context)
        let training = try await Self.training(context)
        let advisories = try await Self.advisories(context)
        let disclosure = try await Self.disclosure(context)
        return RouteMatrixTests.Scenario(
            caseID: caseID, alertID: alert.id.description, sensorID: sensor.id.description, attachmentID: attachmentID,
            requestID: requestID, noticeID: noticeID, taskID: taskID, mispEvent: String(buffer: misp.body), warrantID: warrantID, queryID: queryID,
            flowSourceID: source.id.description, webhookID: hook.id, ruleID: rule.id, setupToken: setup,
            reporterTokenID: reporterToken.token.id.description, nationalCollection: collection, intelObject: object, intelStatus: status,
            campaignID: campaign, evidenceSHA: evidence, guideID: portal.guideID, guideSlug: portal.guideSlug, withdrawnID: portal.withdrawnID,
            alertSlug: portal.alertSlug, publicDirective: portal.directive, suspiciousID: portal.suspicious, complaintCase: portal.complaint,
            courseID: training.course, completionID: training.completion, revokedCompletionID: training.revoked, phishingID: training.phishing,
            clearAdvisory: advisories.clear, amberAdvisory: advisories.amber, advisoryYear: advisories.year, amberFile: advisories.amberFile,
            csafKey: advisories.key, vulnerabilityReport: disclosure.report, disclosureCase: disclosure.tracking)
    }

    /// A researcher's report, as the public page stores it, and a case the analyst opened.
    static func disclosure(_ context: RouteMatrixTests.Context) async throws -> (report: String, tracking: String) {
        let world = context.harness.world
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let signer = try await AdvisoryDesk.signer(store: installation.store, sealingKey: installation.secrets.sealingKey, userID: "Matrix <csaf@matrix.test>")
        let advisories = AdvisoryDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy,
            publisher: CSAFDocument.Publisher(name: "Matrix Authority", namespace: "https://qila.matrix.test"), signer: signer)
        let desk = DisclosureDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets, advisories: advisories,
            setupLink: { _ in "unused" })
        let report = VulnerabilityReport(
            reference: "VR-MATRIX01", vendor: "Acme", product: "Gateway", version: "1.0", description: "A forged cookie gives administrator rights.", credit: "",
            sealedContact: try installation.secrets.seal(Array(#"{"name":"R","email":"r@example.test"}"#.utf8)), language: "en", createdAt: Date())
        try await installation.store.addVulnerabilityReport(report)
        let opened = try await desk.open(.init(title: "Matrix case", summary: "A flaw."), by: world.subject("analyst"), gate: gate)
        return (report.id, opened.trackingID)
    }

    /// Two published advisories: CLEAR, and AMBER for Operator A (written by the analyst, published by the administrator).
    static func advisories(_ context: RouteMatrixTests.Context) async throws -> (clear: String, amber: String, year: String, amberFile: String, key: String) {
        let world = context.harness.world
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let signer = try await AdvisoryDesk.signer(store: installation.store, sealingKey: installation.secrets.sealingKey, userID: "Matrix <csaf@matrix.test>")
        let desk = AdvisoryDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy,
            publisher: CSAFDocument.Publisher(name: "Matrix Authority", namespace: "https://qila.matrix.test"), signer: signer)
        func publish(_ tlp: TLP, organisations: [String]) async throws -> AdvisoryRevision {
            let input = AdvisoryInput(
                title: "Matrix \(tlp.rawValue)", tlp: tlp.rawValue, summary: "Patch the gateway.", products: "Acme | Gateway | <2.0 | 2.0",
                vulnerabilities: "CVE-2026-0001 | Overflow | CWE-787 | CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", remediations: "vendor fix | Update to 2.0",
                organisations: organisations)
            let record = try await desk.begin(input, by: world.subject("analyst"), gate: gate)
            _ = try await desk.submit(record.id, by: world.subject("analyst"), gate: gate)
            return try await desk.publish(record.id, summary: "", by: world.subject("admin"), gate: gate)
        }
        let clear = try await publish(.clear, organisations: [])
        let amber = try await publish(.amber, organisations: [world.operatorA.id.description])
        func tracking(_ revision: AdvisoryRevision) async throws -> String { try #require(try await installation.store.advisory(revision.advisoryID)?.trackingID) }
        let parts = amber.path.split(separator: "/").map(String.init)
        return (try await tracking(clear), try await tracking(amber), parts[1], parts[2], signer.fingerprint)
    }

    /// A national course; Operator A's two passed completions and one phishing simulation.
    static func training(_ context: RouteMatrixTests.Context) async throws -> (course: String, completion: String, revoked: String, phishing: String) {
        let world = context.harness.world
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let desk = TrainingDesk(store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets)
        var input = TrainingDesk.CourseInput()
        (input.title, input.audience, input.durationMinutes, input.passingMark) = ("Matrix course", "all staff", "30", "60")
        let course = try await desk.createCourse(input, by: world.subject("analyst"), gate: gate)
        let operatorA = world.operatorA.id.description
        let first = try await desk.recordCompletion(
            course: course.id, organisation: operatorA, email: "one@operator-a.example", name: "One", score: "90", by: world.subject("a-admin"), gate: gate)
        let second = try await desk.recordCompletion(
            course: course.id, organisation: operatorA, email: "two@operator-a.example", name: "Two", score: "90", by: world.subject("a-admin"), gate: gate)
        let csv = "email,status,reported\none@operator-a.example,Clicked Link,false\ntwo@operator-a.example,Email Sent,true\n"
        let campaign = try await desk.importPhishing(
            Array(csv.utf8), name: "Matrix lure", organisation: operatorA, enrolCourse: course.id, by: world.subject("a-admin"), gate: gate)
        return (course.id, first.id, second.id, campaign.id)
    }

    /// The public portal's things: publications, a CLEAR directive, a report from the public, and
    /// a complaint to Operator B (designated as the agency for the matrix).
    static func portal(_ context: RouteMatrixTests.Context) async throws
        -> (guideID: String, guideSlug: String, withdrawnID: String, alertSlug: String, directive: String, suspicious: String, complaint: String)
    {
        let world = context.harness.world
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let cases = CaseDesk(
            store: installation.store, audit: installation.audit, regimes: try RegimeBook.load(folder: nil), attachments: AttachmentStore(store: installation.store),
            policy: installation.policy)
        let intel = IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        let portal = PublicPortal(installation: installation, cases: cases, intel: intel)
        func draft(_ kind: String, _ slug: String) -> PublicationDesk.Draft {
            var draft = PublicationDesk.Draft()
            (draft.kind, draft.slug, draft.title, draft.body) = (kind, slug, "Matrix \(kind)", "Hang up on callers who ask for codes.")
            return draft
        }
        let guide = try await portal.publications.publish(draft("guide", "matrix-guide"), by: world.subject("analyst"), gate: gate)
        let withdrawn = try await portal.publications.publish(draft("guide", "matrix-withdrawn"), by: world.subject("analyst"), gate: gate)
        let alert = try await portal.publications.publish(draft("alert", "matrix-alert"), by: world.subject("analyst"), gate: gate)
        let desk = CampaignDesk(store: installation.store, audit: installation.audit, policy: installation.policy, attachments: AttachmentStore(store: installation.store))
        let now = Date()
        let directive = try await desk.issue(
            .init(
                reference: "NCA-D-M", title: "Public matrix directive", body: "Patch the listed products on every internet-facing system.", requirements: "Patch",
                tlp: .clear, sector: nil, audience: .sector("telecom"), opensAt: RFC3339.format(now.addingTimeInterval(-60)),
                dueAt: RFC3339.format(now.addingTimeInterval(14 * 86_400)), reminderDays: "3", graceDays: "2"),
            by: world.subject("analyst"), gate: gate, now: now)
        var report = SuspiciousReportDesk.Form()
        (report.kind, report.url) = ("website", "https://matrix-phish.example/login")
        report.stamp = portal.suspicious.stamp.issue(form: "suspicious", now: now.addingTimeInterval(-60))
        _ = try await portal.suspicious.report(report, source: nil, now: now)
        let suspicious = try #require(try await installation.store.suspiciousReports(status: .new).first?.id)
        try await portal.complaints.designate(world.operatorB.id, by: world.subject("admin"), gate: gate)
        var complaint = ComplaintDesk.Form()
        (complaint.category, complaint.occurredOn) = ("fraud", "2026-01-10")
        complaint.narrative = "Someone took money from my account after a call that claimed to be my bank."
        (complaint.name, complaint.phone) = ("Matrix Citizen", "0300 7654321")
        complaint.stamp = portal.complaints.stamp.issue(form: "complaint", now: now.addingTimeInterval(-60))
        let receipt = try await portal.complaints.file(complaint, evidence: [], source: nil, now: now)
        let complaintCase = try #require(try await installation.store.complaint(tracking: receipt.tracking)?.caseID.description)
        return (guide.id, guide.slug, withdrawn.id, alert.slug, directive.id.description, suspicious, complaintCase)
    }

    /// The telecom regulator's CPG campaign for its sector; Operator A answered three goals (one
    /// with evidence) and submitted, Operator B has not begun.
    static func campaign(_ context: RouteMatrixTests.Context) async throws -> (String, String) {
        let world = context.harness.world
        let installation = world.installation
        let desk = CampaignDesk(store: installation.store, audit: installation.audit, policy: installation.policy, attachments: AttachmentStore(store: installation.store))
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let now = Date()
        let campaign = try await desk.launch(
            .init(
                title: "Matrix CPG", framework: "cisa-cpg-2.0", requirements: ["1.A", "3.F", "5.B"], cycle: "2026", sector: "telecom", audience: .sector("telecom"),
                opensAt: now.addingTimeInterval(-3600), dueAt: now.addingTimeInterval(30 * 86_400)),
            by: world.subject("regulator"), gate: gate, now: now)
        let answered = try await desk.saveAnswers(
            [
                .init(requirement: "1.A", choice: "implemented", newEvidence: [(name: "charter.txt", bytes: Array("roles".utf8))]),
                .init(requirement: "3.F", choice: "in-progress"), .init(requirement: "5.B", choice: "implemented"),
            ], campaign: campaign.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: gate, now: now)
        _ = try await desk.submit(campaign: campaign.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: gate, now: now)
        return (campaign.id.description, try #require(answered.answers["1.A"]?.evidence.first?.sha256))
    }

    /// A multipart body of text fields and, optionally, one file.
    static func multipart(_ boundary: String, _ fields: [(String, String)], file: (name: String, filename: String, content: String)? = nil) -> String {
        var body = fields.map { "--\(boundary)\r\nContent-Disposition: form-data; name=\"\($0.0)\"\r\n\r\n\($0.1)\r\n" }.joined()
        if let file {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: text/plain\r\n\r\n\(file.content)\r\n"
        }
        return body + "--\(boundary)--\r\n"
    }

    static let assessmentRunners: Set<String> = ["admin", "analyst", "regulator"]
    static let campaignReaders: Set<String> = ["admin", "analyst", "overseer", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "auditor"]
    static let figureReaders: Set<String> = ["admin", "analyst", "overseer", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter"]
    static let answerReadersA: Set<String> = ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"]
    static let answerWritersA: Set<String> = ["a-admin", "a-reporter", "a-sensor"]
    static let assessments: [E] = [
        RouteMatrixTests.get("/assessments", everyone.subtracting(["investigator", "a-legal"])) { _ in "/assessments" },
        RouteMatrixTests.post("/assessments", assessmentRunners, { _ in "/assessments" }, [("title", "Matrix campaign"), ("framework", "nist-csf-2.0"), ("cycle", "2026"), ("scope", "telecom")]),
        RouteMatrixTests.post("/assessments/minimum-group", ["admin"], { _ in "/assessments/minimum-group" }, [("minimumGroup", "5")]),
        E(route: "POST /assessments/frameworks", allowed: ["admin", "analyst"]) { _, _, _ in
            let boundary = "matrix-framework"
            return Call(method: .post, uri: "/assessments/frameworks", multipart: (boundary, Self.multipart(boundary, [], file: ("file", "f.yaml", "id: broken"))))
        },
        RouteMatrixTests.get("/assessments/frameworks/{framework}/export", everyone) { _ in "/assessments/frameworks/cisa-cpg-2.0/export?format=csv" },
        RouteMatrixTests.post("/assessments/directives", assessmentRunners, { _ in "/assessments/directives" }, [("reference", "M-1"), ("title", "Matrix directive"), ("scope", "telecom")]),
        // Not a directive: the addressee's acknowledgement is refused as a conflict once let through.
        RouteMatrixTests.post("/assessments/campaigns/{id}/organisations/{organisation}/acknowledge", answerWritersA, { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/acknowledge" }),
        RouteMatrixTests.get("/assessments/campaigns/{id}", campaignReaders) { "/assessments/campaigns/\($0.campaignID)" },
        RouteMatrixTests.get("/assessments/campaigns/{id}/figures.csv", figureReaders) { "/assessments/campaigns/\($0.campaignID)/figures.csv" },
        RouteMatrixTests.get("/assessments/campaigns/{id}/organisations/{organisation}", answerReadersA) { "/assessments/campaigns/\($0.campaignID)/organisations/{A}" },
        E(route: "POST /assessments/campaigns/{id}/organisations/{organisation}/answers", allowed: answerWritersA) { scenario, _, _ in
            let boundary = "matrix-answers"
            return Call(
                method: .post, uri: "/assessments/campaigns/\(scenario.campaignID)/organisations/{A}/answers",
                multipart: (boundary, Self.multipart(boundary, [("choice.3.F", "implemented"), ("comment.3.F", "")])))
        },
        RouteMatrixTests.post("/assessments/campaigns/{id}/organisations/{organisation}/submit", answerWritersA, { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/submit" }),
        E(route: "POST /assessments/campaigns/{id}/organisations/{organisation}/attest", allowed: ["auditor"]) { scenario, _, _ in
            let boundary = "matrix-attest"
            return Call(
                method: .post, uri: "/assessments/campaigns/\(scenario.campaignID)/organisations/{A}/attest?requirement=1.A",
                multipart: (boundary, Self.multipart(boundary, [("verdict", "agree"), ("level", ""), ("comment", "")], file: ("evidence", "seen.txt", "seen"))))
        },
        RouteMatrixTests.post("/assessments/campaigns/{id}/organisations/{organisation}/reopen", assessmentRunners, { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/reopen" }),
        RouteMatrixTests.post("/assessments/campaigns/{id}/organisations/{organisation}/assign", answerWritersA, { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/assign" }, [("assignee", "")]),
        RouteMatrixTests.get("/assessments/campaigns/{id}/organisations/{organisation}/evidence/{sha256}", answerReadersA) {
            "/assessments/campaigns/\($0.campaignID)/organisations/{A}/evidence/\($0.evidenceSHA)"
        },
        RouteMatrixTests.get("/assessments/campaigns/{id}/organisations/{organisation}/results.json", answerReadersA) { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/results.json" },
        RouteMatrixTests.get("/assessments/campaigns/{id}/organisations/{organisation}/poam.json", answerReadersA) { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/poam.json" },
        RouteMatrixTests.get("/assessments/campaigns/{id}/organisations/{organisation}/answers.csv", answerReadersA) { "/assessments/campaigns/\($0.campaignID)/organisations/{A}/answers.csv" },
        RouteMatrixTests.api(.get, "/api/v1/assessments/campaigns", everyone) { _ in "/api/v1/assessments/campaigns" },
        RouteMatrixTests.api(
            .post, "/api/v1/assessments/campaigns", assessmentRunners, { _ in "/api/v1/assessments/campaigns" },
            json: #"{"title":"Matrix API campaign","framework":"cisa-cpg-2.0","cycle":"2027","sector":"telecom","audience":{"sector":"telecom"},"dueAt":"2099-01-01T00:00:00Z"}"#),
        RouteMatrixTests.api(.get, "/api/v1/assessments/campaigns/{campaignId}", campaignReaders) { "/api/v1/assessments/campaigns/\($0.campaignID)" },
        RouteMatrixTests.api(.get, "/api/v1/assessments/campaigns/{campaignId}/figures", figureReaders) { "/api/v1/assessments/campaigns/\($0.campaignID)/figures" },
        RouteMatrixTests.api(.get, "/api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}", answerReadersA) {
            "/api/v1/assessments/campaigns/\($0.campaignID)/organisations/{A}"
        },
        RouteMatrixTests.api(
            .put, "/api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}/answers", answerWritersA,
            { "/api/v1/assessments/campaigns/\($0.campaignID)/organisations/{A}/answers" }, json: #"{"answers":[{"requirement":"3.F","choice":"implemented"}]}"#),
        E(route: "POST /api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}/evidence", allowed: answerWritersA) { scenario, _, _ in
            Call(
                method: .post, uri: "/api/v1/assessments/campaigns/\(scenario.campaignID)/organisations/{A}/evidence?requirement=1.A&name=more.txt",
                raw: ("application/octet-stream", "more evidence"))
        },
        RouteMatrixTests.api(.post, "/api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}/submission", answerWritersA) {
            "/api/v1/assessments/campaigns/\($0.campaignID)/organisations/{A}/submission"
        },
        RouteMatrixTests.api(
            .post, "/api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}/attestations", ["auditor"],
            { "/api/v1/assessments/campaigns/\($0.campaignID)/organisations/{A}/attestations" }, json: #"{"requirement":"5.B","verdict":"agree"}"#),
        RouteMatrixTests.api(
            .post, "/api/v1/assessments/directives", assessmentRunners, { _ in "/api/v1/assessments/directives" },
            json: #"{"reference":"M-2","title":"Matrix directive","body":"Apply the KEV list within 14 days.","requirements":["Patch"],"tlp":"green","sector":"telecom","audience":{"sector":"telecom"},"dueAt":"2099-01-01T00:00:00Z"}"#),
        RouteMatrixTests.api(.post, "/api/v1/assessments/campaigns/{campaignId}/organisations/{organisationId}/acknowledgement", answerWritersA) {
            "/api/v1/assessments/campaigns/\($0.campaignID)/organisations/{A}/acknowledgement"
        },
        // Last: closing ends answering for the calls above.
        RouteMatrixTests.post("/assessments/campaigns/{id}/close", assessmentRunners, { "/assessments/campaigns/\($0.campaignID)/close" }),
    ]

    /// An indicator envelope with one object of that UUID.
    static func envelope(_ uuid: String) -> String {
        """
        {"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--\(uuid)","created":"2026-11-01T10:00:00.000Z",\
        "modified":"2026-11-01T10:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",\
        "valid_from":"2026-11-01T10:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]}
        """
    }

    /// Shares a GREEN indicator into the national collection as Operator A's administrator; the
    /// collection's id, the object's and the request's status.
    static func intel(_ context: RouteMatrixTests.Context, uuid: String = UUID().uuidString.lowercased()) async throws -> (String, String, String) {
        let client = context.client
        let headers: HTTPFields = [.authorization: "Bearer \(context.harness.tokens["a-admin"]!)", .accept: TaxiiRoutes.mediaType]
        let listed = try await client.execute(uri: "/taxii2/national/collections", method: .get, headers: headers)
        let text = String(buffer: listed.body)
        let collection = try #require(text.range(of: #""id":""#).map { String(text[$0.upperBound...].prefix { $0 != "\"" }) }, "collections: \(text.prefix(300))")
        var post = headers
        post[.contentType] = TaxiiRoutes.mediaType
        let added = try await client.execute(
            uri: "/taxii2/national/collections/\(collection)/objects", method: .post, headers: post, body: ByteBuffer(string: envelope(uuid)))
        #expect(added.status == .accepted, "adding: \(String(buffer: added.body).prefix(300))")
        return (collection, "indicator--\(uuid)", try string("id", in: added))
    }

    static let ruleYAML = """
        title: Matrix rule
        id: 6f5f7a3e-2d4b-4c1e-9a7b-1c2d3e4f5a6b
        status: test
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith: '\\\\whoami.exe'
            condition: selection
        level: high
        """

    /// A warrant addressed to Operator A, recorded by the investigator and, when `approved`,
    /// approved by its legal officer; its id.
    static func warrant(_ context: RouteMatrixTests.Context, approved: Bool) async throws -> String {
        let client = context.client
        let investigator = context.sessions["investigator"]!
        let now = Date()
        func stamp(_ offset: TimeInterval) -> String { String(RFC3339.format(now.addingTimeInterval(offset)).prefix(16)) }
        let fields = [
            ("provider", context.harness.world.operatorA.id.description), ("court", "Sessions Court"), ("number", "W-\(UUID().uuidString.prefix(8))"),
            ("issuedAt", stamp(-86_400)), ("expiresAt", stamp(86_400 * 30)), ("agency", "FIA"), ("addresses", "198.51.100.7"),
            ("subscribers", ""), ("windowStart", stamp(-3600)), ("windowEnd", stamp(3600)),
        ]
        let body = "_csrf=\(investigator.csrf)&" + FormTests.form(fields)
        let recorded = try await client.execute(
            uri: "/warrants", method: .post, headers: [.cookie: investigator.cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body))
        let location = try #require(recorded.headers[.location])
        let id = String(location.dropFirst("/warrants/".count))
        #expect(WarrantID(id) != nil, "recording a warrant: \(recorded.status) \(location)")
        if approved {
            let legal = context.sessions["a-legal"]!
            let decided = try await client.execute(
                uri: "/warrants/\(id)/decision", method: .post, headers: [.cookie: legal.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "_csrf=\(legal.csrf)&decision=approve&note="))
            #expect(decided.status == .ok || decided.status == .seeOther, "approving: \(decided.status)")
        }
        return id
    }

    static func string(_ key: String, in response: TestResponse) throws -> String {
        let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: response.body))
        guard case .string(let value) = object?[key] else { throw TestFailure("no \(key) in \(response.status) \(String(buffer: response.body).prefix(300))") }
        return value
    }

    // MARK: the table

    /// For routes that check credentials: a 401 is their answer to wrong ones, not a refusal.
    static let credentialsChecked: @Sendable (Int, String) -> Bool = { status, location in
        ![403, 404].contains(status) && location != "/sign-in" && !location.hasPrefix("/sign-in?")
    }

    static let all: [E] = pages + admin + cases + intake + retention + api + taxii + intelPages + assessments + publicPortal + training + vulnerabilities + sessionEnding

    static let trainingReadersA: Set<String> = ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"]

    static let training: [E] = [
        RouteMatrixTests.get("/training", everyone.subtracting(["investigator", "a-legal"])) { _ in "/training" },
        RouteMatrixTests.get("/training/courses/{id}", everyone) { "/training/courses/\($0.courseID)" },
        RouteMatrixTests.post("/training/courses", portalEditors, { _ in "/training/courses" }, [("organisation", ""), ("title", "")]),
        RouteMatrixTests.post("/training/courses/{id}/enrol", ["a-admin"], { "/training/courses/\($0.courseID)/enrol?organisation={A}" }, [("people", "not-an-address")]),
        RouteMatrixTests.post("/training/courses/{id}/complete", ["a-admin"], { "/training/courses/\($0.courseID)/complete?organisation={A}" }, [("email", "")]),
        RouteMatrixTests.post("/training/courses/{id}/retire", portalEditors, { "/training/courses/\($0.courseID)/retire" }),
        RouteMatrixTests.post("/training/headcount", ["a-admin"], { _ in "/training/headcount?organisation={A}" }, [("headcount", "0")]),
        E(route: "POST /training/phishing", allowed: ["a-admin"]) { _, _, _ in
            let boundary = "matrix-phishing"
            return Call(method: .post, uri: "/training/phishing?organisation={A}", multipart: (boundary, Self.multipart(boundary, [("name", "x")])))
        },
        RouteMatrixTests.get("/training/phishing/{id}", trainingReadersA) { "/training/phishing/\($0.phishingID)" },
        RouteMatrixTests.get("/training/completions/{id}/certificate", trainingReadersA) { "/training/completions/\($0.completionID)/certificate" },
        RouteMatrixTests.post("/training/completions/{id}/revoke", ["a-admin"], { "/training/completions/\($0.revokedCompletionID)/revoke" }),
        RouteMatrixTests.get("/public/certificates/verify", anyone) { _ in "/public/certificates/verify?c=abc.def" },
        RouteMatrixTests.get("/oversight", ["admin", "analyst", "overseer"]) { _ in "/oversight?quarter=2026-Q3" },
        RouteMatrixTests.get("/oversight/report", ["admin", "analyst", "overseer"]) { _ in "/oversight/report" },
    ]

    static let portalEditors: Set<String> = ["admin", "analyst"]

    static let vulnerabilities: [E] = [
        RouteMatrixTests.get("/kev", everyone.subtracting(["investigator", "a-legal"])) { _ in "/kev?q=log4j&state=all" },
        E(route: "POST /kev/import", allowed: portalEditors) { _, _, _ in
            let boundary = "matrix-kev"
            return Call(method: .post, uri: "/kev/import", multipart: (boundary, Self.multipart(boundary, [], file: ("file", "kev.json", "{\"title\": 1}"))))
        },
        RouteMatrixTests.post("/kev/entries", portalEditors, { _ in "/kev/entries" }, [("cveID", "not-a-cve")]),
        RouteMatrixTests.post("/kev/removals", portalEditors, { _ in "/kev/removals" }, [("cveID", "CVE-2099-0001"), ("reason", "not listed")]),
        RouteMatrixTests.post("/kev/deadlines", portalEditors, { _ in "/kev/deadlines" }, [("scope", "sector"), ("value", "nowhere"), ("days", "7")]),
        RouteMatrixTests.get("/kev/known_exploited_vulnerabilities.json", anyone) { _ in "/kev/known_exploited_vulnerabilities.json" },
        RouteMatrixTests.get("/kev/known_exploited_vulnerabilities.ndjson", anyone) { _ in "/kev/known_exploited_vulnerabilities.ndjson" },
        RouteMatrixTests.get("/advisories", everyone) { _ in "/advisories" },
        RouteMatrixTests.get("/advisories/new", portalEditors) { _ in "/advisories/new" },
        RouteMatrixTests.post("/advisories", portalEditors, { _ in "/advisories" }, [("title", ""), ("tlp", "TLP:CLEAR")]),
        RouteMatrixTests.get("/advisories/{tracking}", amberReaders) { "/advisories/\($0.amberAdvisory)" },
        RouteMatrixTests.get("/advisories/{tracking}/revisions/{number}", everyone) { "/advisories/\($0.clearAdvisory)/revisions/1" },
        RouteMatrixTests.post("/advisories/{tracking}/draft", portalEditors, { "/advisories/\($0.clearAdvisory)/draft" }, [("title", "")]),
        // The published advisory is not a draft: refused, and nothing changes.
        RouteMatrixTests.post("/advisories/{tracking}/submit", portalEditors, { "/advisories/\($0.clearAdvisory)/submit" }),
        RouteMatrixTests.post("/advisories/{tracking}/return", portalEditors, { "/advisories/\($0.clearAdvisory)/return" }, [("note", "")]),
        RouteMatrixTests.post("/advisories/{tracking}/publish", portalEditors, { "/advisories/\($0.clearAdvisory)/publish" }, [("summary", "")]),
        RouteMatrixTests.get("/disclosures", portalEditors) { _ in "/disclosures" },
        RouteMatrixTests.post("/disclosures", portalEditors, { _ in "/disclosures" }, [("title", "")]),
        RouteMatrixTests.get("/disclosures/reports/{id}", portalEditors) { "/disclosures/reports/\($0.vulnerabilityReport)" },
        RouteMatrixTests.post("/disclosures/reports/{id}/case", portalEditors, { "/disclosures/reports/\($0.vulnerabilityReport)/case" }, [("title", "")]),
        RouteMatrixTests.post("/disclosures/reports/{id}/decline", portalEditors, { "/disclosures/reports/\($0.vulnerabilityReport)/decline" }, [("note", "")]),
        RouteMatrixTests.get("/disclosures/{tracking}", portalEditors) { "/disclosures/\($0.disclosureCase)" },
        RouteMatrixTests.post("/disclosures/{tracking}/embargo", portalEditors, { "/disclosures/\($0.disclosureCase)/embargo" }, [("embargoDate", "soon")]),
        RouteMatrixTests.post("/disclosures/{tracking}/vendors", portalEditors, { "/disclosures/\($0.disclosureCase)/vendors" }),
        RouteMatrixTests.post("/disclosures/{tracking}/invitations", portalEditors, { "/disclosures/\($0.disclosureCase)/invitations" }, [("vendor", "")]),
        RouteMatrixTests.post("/disclosures/{tracking}/answers", portalEditors, { "/disclosures/\($0.disclosureCase)/answers" }, [("status", "unknown")]),
        RouteMatrixTests.post("/disclosures/{tracking}/advisory", portalEditors, { "/disclosures/\($0.disclosureCase)/advisory" }),
        RouteMatrixTests.post("/disclosures/{tracking}/release", portalEditors, { "/disclosures/\($0.disclosureCase)/release" }),
        RouteMatrixTests.post("/disclosures/{tracking}/close", portalEditors, { "/disclosures/\($0.disclosureCase)/close" }, [("reason", "")]),
        RouteMatrixTests.get("/exposure", everyone.subtracting(["overseer", "investigator", "a-legal"])) { _ in "/exposure" },
        E(route: "POST /exposure/{organisation}/inventories", allowed: ["a-admin", "a-reporter", "a-sensor"]) { _, _, _ in
            let boundary = "matrix-inventory"
            return Call(method: .post, uri: "/exposure/{A}/inventories", multipart: (boundary, Self.multipart(boundary, [("name", "core")], file: ("file", "sbom.json", "{\"bomFormat\": 1}"))))
        },
        RouteMatrixTests.post("/exposure/{organisation}/statements", ["a-admin", "a-reporter", "a-sensor"], { _ in "/exposure/{A}/statements" }, [("status", "unknown")]),
        RouteMatrixTests.get("/.well-known/security.txt", anyone) { _ in "/.well-known/security.txt" },
        RouteMatrixTests.get("/.well-known/csaf/provider-metadata.json", anyone) { _ in "/.well-known/csaf/provider-metadata.json" },
        RouteMatrixTests.get("/.well-known/csaf/openpgp/{file}", anyone) { "/.well-known/csaf/openpgp/\($0.csafKey).asc" },
        RouteMatrixTests.get("/.well-known/csaf/{tlp}", everyone) { _ in "/.well-known/csaf/feed-tlp-amber.json" },
        RouteMatrixTests.get("/.well-known/csaf/{tlp}/index.txt", anyone) { _ in "/.well-known/csaf/clear/index.txt" },
        RouteMatrixTests.get("/.well-known/csaf/{tlp}/changes.csv", everyone) { _ in "/.well-known/csaf/amber/changes.csv" },
        RouteMatrixTests.get("/.well-known/csaf/{tlp}/{year}", anyone) { "/.well-known/csaf/clear/\($0.advisoryYear)" },
        RouteMatrixTests.get("/.well-known/csaf/{tlp}/{year}/{file}", amberReaders) { "/.well-known/csaf/amber/\($0.advisoryYear)/\($0.amberFile).asc" },
    ]

    /// Who reads Operator A's inventories and exposure: its people, its auditor, its regulator, the authority.
    static let exposureReaders: Set<String> = ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"]

    /// Who reads the AMBER advisory addressed to Operator A: the authority and Operator A's people
    /// cleared for AMBER (its reporter is cleared for GREEN only).
    static let amberReaders: Set<String> = ["admin", "analyst", "a-admin", "a-sensor", "a-legal"]

    static let publicPortal: [E] = [
        RouteMatrixTests.get("/public", anyone) { _ in "/public/" },
        RouteMatrixTests.get("/public/guides/{slug}", anyone) { "/public/guides/\($0.guideSlug)" },
        RouteMatrixTests.get("/public/alerts/{slug}", anyone) { "/public/alerts/\($0.alertSlug)" },
        RouteMatrixTests.get("/public/directives/{id}", anyone) { "/public/directives/\($0.publicDirective)" },
        RouteMatrixTests.get("/public/advisories/{tracking}", anyone) { "/public/advisories/\($0.clearAdvisory)" },
        RouteMatrixTests.get("/public/statistics", anyone) { _ in "/public/statistics" },
        RouteMatrixTests.get("/public/report", anyone) { _ in "/public/report" },
        // Refused for its empty fields (422): the form comes back; nothing is filed.
        E(route: "POST /public/report", allowed: anyone) { _, _, _ in
            let boundary = "matrix-complaint"
            return Call(method: .post, uri: "/public/report", multipart: (boundary, Self.multipart(boundary, [("category", "fraud"), ("lang", "ur")])))
        },
        RouteMatrixTests.get("/public/report/status", anyone) { _ in "/public/report/status" },
        RouteMatrixTests.post("/public/report/status", anyone, { _ in "/public/report/status" }, [("tracking", "QP-0000-0000"), ("secret", "wrong")]),
        RouteMatrixTests.get("/public/suspicious", anyone) { _ in "/public/suspicious" },
        RouteMatrixTests.post("/public/suspicious", anyone, { _ in "/public/suspicious" }, [("kind", "website")]),
        RouteMatrixTests.get("/public/vulnerabilities", anyone) { _ in "/public/vulnerabilities" },
        RouteMatrixTests.post("/public/vulnerabilities", anyone, { _ in "/public/vulnerabilities" }, [("vendor", "Acme")]),
        RouteMatrixTests.get("/public/passwords", anyone) { _ in "/public/passwords" },
        RouteMatrixTests.get("/public/self-check", anyone) { _ in "/public/self-check?audience=business" },
        RouteMatrixTests.post("/public/self-check", anyone, { _ in "/public/self-check" }, [("audience", "household"), ("updates", "no")]),
        RouteMatrixTests.get("/api/v1/public/passwords/range/{prefix}", anyone) { _ in "/api/v1/public/passwords/range/21BD1" },
        RouteMatrixTests.get("/admin/public", portalEditors) { _ in "/admin/public" },
        RouteMatrixTests.post("/admin/public/publications", portalEditors, { _ in "/admin/public/publications" }, [("kind", "guide"), ("slug", "matrix-guide"), ("title", "Taken")]),
        RouteMatrixTests.get("/admin/public/publications/{id}", portalEditors) { "/admin/public/publications/\($0.guideID)" },
        RouteMatrixTests.post("/admin/public/publications/{id}", portalEditors, { "/admin/public/publications/\($0.guideID)" }, [("title", "Matrix guide"), ("body", "Revised.")]),
        RouteMatrixTests.post("/admin/public/publications/{id}/withdraw", portalEditors, { "/admin/public/publications/\($0.withdrawnID)/withdraw" }),
        RouteMatrixTests.post("/admin/public/statistics", portalEditors, { _ in "/admin/public/statistics" }, [("statistics", "suspicious-reports")]),
        RouteMatrixTests.post("/admin/public/agency", ["admin"], { _ in "/admin/public/agency" }, [("agency", "")]),
        RouteMatrixTests.get("/public-reports", portalEditors) { _ in "/public-reports?status=new" },
        RouteMatrixTests.get("/public-reports/{id}", portalEditors) { "/public-reports/\($0.suspiciousID)" },
        // A dismissal without a note is refused as a form (303 back), a second decision as a conflict.
        RouteMatrixTests.post("/public-reports/{id}/confirm", ["analyst"], { "/public-reports/\($0.suspiciousID)/confirm" }, [("collection", "none")]),
        RouteMatrixTests.post("/public-reports/{id}/dismiss", ["analyst"], { "/public-reports/\($0.suspiciousID)/dismiss" }, [("note", "")]),
        // Only the agency's own staff (Operator B, designated for the matrix) open a complainant's details.
        RouteMatrixTests.post("/cases/{id}/complaint-contact", ["b-admin", "b-reporter"], { "/cases/\($0.complaintCase)/complaint-contact" }),
    ]

    /// Routes that end a caller's sessions: last, so that no route after them in the same chunk
    /// finds that caller signed out.
    static let sessionEnding: [E] = [
        RouteMatrixTests.post("/admin/users/{id}/reset-mfa", ["admin", "b-admin"], { _ in "/admin/users/{b-reporter}/reset-mfa" })
    ]

    static let pages: [E] = [
        RouteMatrixTests.get("/", everyone) { _ in "/" },
        RouteMatrixTests.get("/healthz", anyone) { _ in "/healthz" },
        RouteMatrixTests.get("/readyz", anyone) { _ in "/readyz" },
        RouteMatrixTests.get("/openapi.yaml", anyone) { _ in "/openapi.yaml" },
        RouteMatrixTests.get("/problems/{type}", anyone) { _ in "/problems/forbidden" },
        RouteMatrixTests.get("/metrics", ["admin"]) { _ in "/metrics" },
        // Only other nodes, with their node certificates, reach it: no account does.
        RouteMatrixTests.get("/internal/v1/node", []) { _ in "/internal/v1/node" },
        RouteMatrixTests.post("/internal/v1/traffic/query", [], { _ in "/internal/v1/traffic/query" }),
        RouteMatrixTests.get("/sign-in", anyone) { _ in "/sign-in" },
        RouteMatrixTests.get("/sign-in/totp", everyone) { _ in "/sign-in/totp" },
        // Credentials are checked here, not policy: a right password answers 303, a wrong code 401.
        E(route: "POST /sign-in", allowed: anyone, judge: credentialsChecked) { _, _, _ in
            Call(method: .post, uri: "/sign-in", form: [("username", "b-reporter"), ("password", TenantWorld.password)])
        },
        E(route: "POST /sign-in/totp", allowed: people, judge: credentialsChecked) { _, _, _ in
            Call(method: .post, uri: "/sign-in/totp", form: [("code", "000000")], freshSession: true)
        },
        // Signing out answers with the sign-in page, whoever asks.
        E(route: "POST /sign-out", allowed: anyone, judge: { status, _ in status == 303 }) { _, _, _ in
            Call(method: .post, uri: "/sign-out", form: [], freshSession: true)
        },
        RouteMatrixTests.get("/setup/{token}", anyone) { "/setup/\($0.setupToken)" },
        RouteMatrixTests.post("/setup/{token}", anyone, { "/setup/\($0.setupToken)" }, [("password", "short")]),
        RouteMatrixTests.get("/profile", everyone) { _ in "/profile" },
        RouteMatrixTests.post("/profile/time-zone", everyone, { _ in "/profile/time-zone" }, [("timeZone", "Asia/Dubai")]),
        RouteMatrixTests.post("/profile/password", everyone, { _ in "/profile/password" }, [("current", "not the password"), ("new", "x")]),
        RouteMatrixTests.get("/profile/totp", everyone) { _ in "/profile/totp" },
        RouteMatrixTests.post("/profile/totp", everyone, { _ in "/profile/totp" }, [("code", "000000")]),
        RouteMatrixTests.post("/profile/sessions/end-others", everyone, { _ in "/profile/sessions/end-others" }),
        RouteMatrixTests.post("/profile/tokens", everyone, { _ in "/profile/tokens" }, [("name", "matrix"), ("scope", "read"), ("days", "1")]),
        RouteMatrixTests.post("/profile/tokens/{id}/revoke", ["a-reporter"], { "/profile/tokens/\($0.reporterTokenID)/revoke" }),
        RouteMatrixTests.get("/reauthenticate", everyone) { _ in "/reauthenticate?next=/profile" },
        E(route: "POST /reauthenticate", allowed: everyone, judge: credentialsChecked) { _, _, _ in
            Call(method: .post, uri: "/reauthenticate", form: [("password", "wrong password for the matrix"), ("next", "/profile")])
        },
    ]

    static let admin: [E] = [
        RouteMatrixTests.get("/admin/organisations", everyone) { _ in "/admin/organisations" },
        RouteMatrixTests.post("/admin/organisations", ["admin"], { _ in "/admin/organisations" }, [("name", "Matrix Org"), ("kind", "bank"), ("sector", "banking-finance")]),
        RouteMatrixTests.get("/admin/organisations/{id}", ["admin", "analyst", "overseer", "investigator", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor", "a-legal"]) { _ in "/admin/organisations/{A}" },
        RouteMatrixTests.post("/admin/organisations/{id}/users", ["admin", "a-admin"], { _ in "/admin/organisations/{A}/users" }, [("username", "m-user"), ("displayName", "Matrix User"), ("role", "organisation-reporter"), ("clearance", "green")]),
        RouteMatrixTests.get("/admin/users/{id}", ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor"]) { _ in "/admin/users/{a-reporter}" },
        RouteMatrixTests.post("/admin/users/{id}", ["admin", "a-admin"], { _ in "/admin/users/{a-reporter}" }, [("displayName", "A-Reporter"), ("role", "organisation-reporter"), ("clearance", "green")]),
        RouteMatrixTests.post("/admin/users/{id}/setup-link", ["admin", "a-admin"], { _ in "/admin/users/{a-reporter}/setup-link" }),
        RouteMatrixTests.get("/admin/audit", ["admin", "overseer"]) { _ in "/admin/audit" },
        RouteMatrixTests.get("/admin/nodes", ["admin"]) { _ in "/admin/nodes" },
        E(route: "POST /admin/nodes/{id}/forget", allowed: ["admin"]) { _, _, context in
            // A node gone for an hour, as after a machine was retired.
            let id = "node-gone-\(UUID().uuidString.prefix(8).lowercased())"
            let then = Date().addingTimeInterval(-3_600)
            try await context.harness.world.installation.store.heartbeat(
                NodeRecord(id: id, name: "retired", version: "x", address: nil, owns: [], health: NodeHealth(), startedAt: then, heartbeatAt: then))
            return Call(method: .post, uri: "/admin/nodes/\(id)/forget", form: [])
        },
        RouteMatrixTests.get("/admin/webhooks", ["admin", "a-admin", "b-admin", "bank-admin"]) { _ in "/admin/webhooks" },
        RouteMatrixTests.post("/admin/webhooks", ["admin", "a-admin"], { _ in "/admin/webhooks" }, [("organisation", "{A}"), ("url", "https://hooks.example.test/m"), ("event", "case.opened")]),
        E(route: "POST /admin/webhooks/{id}/delete", allowed: ["admin", "a-admin"]) { _, _, context in
            let world = context.harness.world
            let hook = Webhook(
                organisation: world.operatorA.id, url: "https://hooks.example.test/d", sealedSecret: try world.installation.secrets.seal(Array("s".utf8)),
                events: ["case.opened"], createdAt: Date(), createdBy: world.users["a-admin"]!.id)
            try await world.installation.store.createWebhook(hook)
            return Call(method: .post, uri: "/admin/webhooks/\(hook.id)/delete", form: [])
        },
    ]

    static let cases: [E] = [
        RouteMatrixTests.get("/cases", ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin", "auditor"]) { _ in "/cases" },
        RouteMatrixTests.get("/cases.csv", ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin", "auditor"]) { _ in "/cases.csv" },
        RouteMatrixTests.post("/cases", ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"], { _ in "/cases" }, [("organisation", "{A}"), ("title", "Matrix incident"), ("awareness", "2026-11-23T06:00"), ("regime", ""), ("tlp", "amber"), ("pap", "amber"), ("classification", "malicious-code/infected-system")]),
        E(route: "POST /cases/import", allowed: ["analyst"]) { scenario, _, _ in
            let boundary = "matrix-boundary"
            return Call(
                method: .post, uri: "/cases/import",
                multipart: (boundary, "--\(boundary)\r\nContent-Disposition: form-data; name=\"organisation\"\r\n\r\n{A}\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"event.json\"\r\nContent-Type: application/json\r\n\r\n\(scenario.mispEvent)\r\n--\(boundary)--\r\n"))
        },
        RouteMatrixTests.get("/cases/campaigns", ["analyst", "regulator"]) { _ in "/cases/campaigns" },
        RouteMatrixTests.get("/cases/reports", ["admin", "analyst", "overseer", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin", "auditor"]) { _ in "/cases/reports" },
        RouteMatrixTests.get("/cases/{id}", caseReaders) { "/cases/\($0.caseID)" },
        RouteMatrixTests.get("/cases/{id}/attachments/{attachment}", caseReaders) { "/cases/\($0.caseID)/attachments/\($0.attachmentID)" },
        RouteMatrixTests.get("/cases/{id}/export/{format}", caseReaders) { "/cases/\($0.caseID)/export/stix" },
        E(route: "POST /cases/{id}/attachments", allowed: ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"]) { scenario, _, _ in
            let boundary = "matrix-boundary"
            return Call(
                method: .post, uri: "/cases/\(scenario.caseID)/attachments",
                multipart: (boundary, "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nseen at 06:00\r\n--\(boundary)--\r\n"))
        },
        RouteMatrixTests.post("/cases/{id}/comments", caseReaders, { "/cases/\($0.caseID)/comments" }, [("text", "From the matrix")]),
        RouteMatrixTests.post("/cases/{id}/link", ["analyst"], { "/cases/\($0.caseID)/link" }, [("other", "CASE-0")]),
        RouteMatrixTests.post("/cases/{id}/merge", ["analyst"], { "/cases/\($0.caseID)/merge" }, [("other", "CASE-0")]),
        RouteMatrixTests.post("/cases/{id}/notices", ["analyst"], { "/cases/\($0.caseID)/notices" }, [("replyDays", "14")]),
        RouteMatrixTests.post("/cases/{id}/observables", ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"], { "/cases/\($0.caseID)/observables" }, [("observables", "198.51.100.9")]),
        RouteMatrixTests.post(
            "/cases/{id}/share", caseReaders.subtracting(["auditor"]), { "/cases/\($0.caseID)/share" },
            [("collection", "national"), ("what", "indicators"), ("marking", "amber")]),
        RouteMatrixTests.post("/cases/{id}/report", ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"], { "/cases/\($0.caseID)/report" }, [("tlp", "green")]),
        RouteMatrixTests.post("/cases/{id}/requests", ["analyst"], { "/cases/\($0.caseID)/requests" }, [("question", "Which hosts?"), ("dueDays", "5")]),
        RouteMatrixTests.post("/cases/{id}/requests/{request}/answer", ["a-admin", "a-reporter", "a-sensor", "auditor"], { "/cases/\($0.caseID)/requests/\($0.requestID)/answer" }, [("answer", "ws-01")]),
        RouteMatrixTests.post("/cases/{id}/stage-requests", ["analyst"], { "/cases/\($0.caseID)/stage-requests" }, [("regime", "telecom"), ("stage", "final")]),
        RouteMatrixTests.post("/cases/{id}/stages/{regime}/{stage}", ["a-admin", "a-reporter", "a-sensor", "auditor"], { "/cases/\($0.caseID)/stages/telecom/early-warning" }, [("action", "draft"), ("summary", "Billing encrypted")]),
        RouteMatrixTests.post("/cases/{id}/tasks", ["analyst"], { "/cases/\($0.caseID)/tasks" }, [("title", "Matrix task"), ("assignee", ""), ("due", "")]),
        RouteMatrixTests.post("/cases/{id}/tasks/{task}/done", ["analyst"], { "/cases/\($0.caseID)/tasks/\($0.taskID)/done" }),
        RouteMatrixTests.post("/cases/{id}/triage", ["analyst"], { "/cases/\($0.caseID)/triage" }, [("severity", "high")]),
        RouteMatrixTests.get("/notices/{id}", alertReaders) { "/notices/\($0.noticeID)" },
        RouteMatrixTests.get("/notices/{id}/text", alertReaders) { "/notices/\($0.noticeID)/text" },
    ]

    static let intake: [E] = [
        RouteMatrixTests.get("/alerts", ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin"]) { _ in "/alerts" },
        RouteMatrixTests.get("/alerts/{id}", alertReaders) { "/alerts/\($0.alertID)" },
        RouteMatrixTests.get("/alerts.csv", ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin"]) { _ in "/alerts.csv?status=all" },
        E(route: "POST /alerts/bulk", allowed: ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin"]) { scenario, _, _ in
            // Anyone who reads alerts may post; each alert is then checked on its own (see AlertDeskTests).
            Call(method: .post, uri: "/alerts/bulk", form: [("alert", scenario.alertID), ("action", "acknowledge"), ("back", "/alerts")])
        },
        RouteMatrixTests.post("/alerts/{id}/triage", ["analyst", "a-admin"], { "/alerts/\($0.alertID)/triage" }, [("action", "acknowledge")]),
        RouteMatrixTests.get("/sensors", ["admin", "analyst", "regulator", "a-admin", "b-admin", "bank-admin"]) { _ in "/sensors" },
        RouteMatrixTests.post("/sensors", ["admin", "a-admin"], { _ in "/sensors" }, [("organisation", "{A}"), ("name", "matrix-sensor"), ("transport", "syslog"), ("format", "json"), ("mapping", "windows-flat"), ("addresses", "127.0.0.2"), ("rate", "0")]),
        RouteMatrixTests.post("/sensors/{id}/enabled", ["admin", "a-admin"], { "/sensors/\($0.sensorID)/enabled" }, [("enabled", "true")]),
        RouteMatrixTests.get("/rules", ["admin", "analyst"]) { _ in "/rules" },
        RouteMatrixTests.post("/rules", ["admin", "analyst"], { _ in "/rules" }, [("yaml", ruleYAML), ("file", "matrix-upload.yml")]),
        RouteMatrixTests.post("/rules/{id}/enabled", ["admin", "analyst"], { "/rules/\($0.ruleID)/enabled" }, [("enabled", "true")]),
        RouteMatrixTests.get("/rules.csv", ["admin", "analyst"]) { _ in "/rules.csv?state=enabled" },
        RouteMatrixTests.get("/rules/{id}", ["admin", "analyst"]) { "/rules/\($0.ruleID)" },
        E(route: "POST /rules/bulk", allowed: ["admin", "analyst"]) { scenario, _, _ in
            Call(method: .post, uri: "/rules/bulk", form: [("rule", scenario.ruleID), ("action", "enable"), ("back", "/rules")])
        },
    ]

    static let retention: [E] = [
        RouteMatrixTests.get("/flows", ["admin", "a-admin", "b-admin", "bank-admin", "a-legal"]) { _ in "/flows" },
        RouteMatrixTests.post("/flows/sources", ["admin", "a-admin"], { _ in "/flows/sources" }, [("organisation", "{A}"), ("kind", "exporter"), ("name", "Edge"), ("address", "192.0.2.9")]),
        E(route: "POST /flows/sources/{id}/delete", allowed: ["admin", "a-admin"]) { _, caller, context in
            // A source of its own for each caller: one caller's deletion leaves the next nothing to refuse.
            let number = 10 + (RouteMatrixTests.accounts.firstIndex(of: caller) ?? 0)
            let source = FlowSource(organisation: context.harness.world.operatorA.id, kind: .exporter, name: "Doomed", address: "192.0.2.\(number)")
            try await context.harness.world.installation.store.createFlowSource(source)
            return Call(method: .post, uri: "/flows/sources/\(source.id)/delete", form: [])
        },
        RouteMatrixTests.post("/flows/retention", ["admin"], { _ in "/flows/retention" }, [("organisation", "{A}"), ("days", "365")]),
        RouteMatrixTests.post("/flows/assignments", ["admin", "a-admin"], { _ in "/flows/assignments" }, [("organisation", "{A}"), ("log", "")]),
        RouteMatrixTests.get("/warrants", ["admin", "overseer", "investigator", "a-legal"]) { _ in "/warrants" },
        RouteMatrixTests.post("/warrants", ["investigator"], { _ in "/warrants" }, [("provider", "{A}"), ("court", "Court"), ("number", "W-M"), ("issuedAt", "2026-11-20T10:00"), ("expiresAt", "2027-11-20T10:00"), ("agency", "FIA"), ("addresses", "198.51.100.8"), ("windowStart", "2026-11-01T00:00"), ("windowEnd", "2026-11-02T00:00")]),
        RouteMatrixTests.get("/warrants/oversight", ["admin", "overseer"]) { _ in "/warrants/oversight" },
        RouteMatrixTests.get("/warrants/{id}", ["investigator", "a-legal"]) { "/warrants/\($0.warrantID)" },
        E(route: "POST /warrants/{id}/decision", allowed: ["a-legal"]) { _, _, context in
            Call(method: .post, uri: "/warrants/\(try await ExpectationTable.warrant(context, approved: false))/decision", form: [("decision", "approve"), ("note", "")])
        },
        E(route: "POST /warrants/{id}/revoke", allowed: ["investigator", "a-legal"]) { _, _, context in
            Call(method: .post, uri: "/warrants/\(try await ExpectationTable.warrant(context, approved: true))/revoke", form: [("note", "Order withdrawn")])
        },
        RouteMatrixTests.post("/warrants/{id}/query", ["investigator"], { "/warrants/\($0.warrantID)/query" }, [("windowStart", ""), ("windowEnd", "")]),
        RouteMatrixTests.get("/warrants/{id}/queries/{query}/package", ["investigator"]) { "/warrants/\($0.warrantID)/queries/\($0.queryID)/package" },
    ]

    /// TAXII 2.1: who reaches the national root (organisations' people and services, the
    /// regulator, the authority's analysts and administrators), whose status a request is, and who
    /// deletes an object (its producer's organisation and the authority).
    static let sharers: Set<String> = ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin"]
    static let taxii: [E] = [
        RouteMatrixTests.get("/taxii2", everyone) { _ in "/taxii2" },
        RouteMatrixTests.get("/taxii2/{root}", sharers) { _ in "/taxii2/national" },
        RouteMatrixTests.get("/taxii2/{root}/status/{status}", ["a-admin", "a-reporter", "a-sensor"]) { "/taxii2/national/status/\($0.intelStatus)" },
        RouteMatrixTests.get("/taxii2/{root}/collections", sharers) { _ in "/taxii2/national/collections" },
        RouteMatrixTests.get("/taxii2/{root}/collections/{collection}", sharers) { "/taxii2/national/collections/\($0.nationalCollection)" },
        RouteMatrixTests.get("/taxii2/{root}/collections/{collection}/manifest", sharers) { "/taxii2/national/collections/\($0.nationalCollection)/manifest" },
        RouteMatrixTests.get("/taxii2/{root}/collections/{collection}/objects", sharers) { "/taxii2/national/collections/\($0.nationalCollection)/objects" },
        E(route: "POST /taxii2/{root}/collections/{collection}/objects", allowed: sharers) { scenario, _, _ in
            Call(
                method: .post, uri: "/taxii2/national/collections/\(scenario.nationalCollection)/objects",
                raw: (TaxiiRoutes.mediaType, envelope(UUID().uuidString.lowercased())))
        },
        RouteMatrixTests.get("/taxii2/{root}/collections/{collection}/objects/{object}", sharers) {
            "/taxii2/national/collections/\($0.nationalCollection)/objects/\($0.intelObject)"
        },
        RouteMatrixTests.get("/taxii2/{root}/collections/{collection}/objects/{object}/versions", sharers) {
            "/taxii2/national/collections/\($0.nationalCollection)/objects/\($0.intelObject)/versions"
        },
        // A fresh object for each caller, so that one deletion does not leave the next a 404.
        E(route: "DELETE /taxii2/{root}/collections/{collection}/objects/{object}", allowed: ["admin", "analyst", "a-admin", "a-reporter", "a-sensor"]) {
            scenario, _, context in
            let (_, object, _) = try await intel(context)
            return Call(method: .delete, uri: "/taxii2/national/collections/\(scenario.nationalCollection)/objects/\(object)")
        },
    ]

    /// A peer for one caller to poll or remove (nothing answers at its address, so a poll fails at once).
    static func peer(_ context: RouteMatrixTests.Context) async throws -> String {
        let installation = context.harness.world.installation
        let peer = IntelPeerRecord(
            name: "matrix-\(UUID().uuidString.prefix(8))", url: "http://127.0.0.1:9/api/collections/matrix/", localCollection: try await nationalID(installation),
            username: "u", sealedPassword: try installation.secrets.seal(Array("p".utf8)), intervalSeconds: 86_400,
            createdBy: context.harness.world.users["admin"]!.id)
        try await installation.store.createIntelPeer(peer)
        return peer.id
    }

    static func nationalID(_ installation: Installation) async throws -> String {
        try #require(try await installation.store.intelCollections().first { $0.kind == .national }).id
    }

    static let intelPages: [E] = [
        RouteMatrixTests.get("/intel", sharers) { _ in "/intel" },
        RouteMatrixTests.get("/intel/objects/{id}", sharers) { "/intel/objects/\($0.intelObject)" },
        RouteMatrixTests.post(
            "/intel/collections/{id}/recipients", sharers, { "/intel/collections/\($0.nationalCollection)/recipients" }, [("recipient", "nonexistent")]),
        RouteMatrixTests.post("/intel/groups", ["admin"], { _ in "/intel/groups" }, [("title", "Matrix group"), ("slug", "")]),
        E(route: "POST /intel/import", allowed: sharers) { scenario, _, _ in
            let boundary = "matrix-boundary"
            let bundle = #"{"type":"bundle","id":"bundle--6f1f6c8e-3f4a-4c1e-9f57-8f0f7c1c2a11","objects":[]}"#
            return Call(
                method: .post, uri: "/intel/import",
                multipart: (
                    boundary,
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n\(scenario.nationalCollection)\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bundle.json\"\r\nContent-Type: application/json\r\n\r\n\(bundle)\r\n--\(boundary)--\r\n"
                ))
        },
        RouteMatrixTests.post("/intel/objects/{id}/sightings", sharers, { "/intel/objects/\($0.intelObject)/sightings" }, [("kind", "seen"), ("count", "1")]),
        RouteMatrixTests.post("/intel/objects/{id}/score", ["admin", "analyst"], { "/intel/objects/\($0.intelObject)/score" }, [("score", "60"), ("reason", "matrix")]),
        RouteMatrixTests.get("/intel/peers", ["admin"]) { _ in "/intel/peers" },
        RouteMatrixTests.post(
            "/intel/peers", ["admin"], { _ in "/intel/peers" },
            [("name", "matrix peer"), ("url", "http://127.0.0.1:9/api/collections/m/"), ("collection", "National sharing"), ("username", "u"), ("password", "p"), ("interval", "3600")]),
        E(route: "POST /intel/peers/{id}/poll", allowed: ["admin"]) { _, _, context in
            Call(method: .post, uri: "/intel/peers/\(try await peer(context))/poll", form: [])
        },
        E(route: "POST /intel/peers/{id}/remove", allowed: ["admin"]) { _, _, context in
            Call(method: .post, uri: "/intel/peers/\(try await peer(context))/remove", form: [])
        },
        RouteMatrixTests.get("/intel/disclosures", sharers) { _ in "/intel/disclosures" },
        RouteMatrixTests.api(.get, "/misp/feeds/{collection}/{file}", sharers) { "/misp/feeds/\($0.nationalCollection)/manifest.json" },
    ]

    static let api: [E] = [
        RouteMatrixTests.api(.get, "/api/v1/me", everyone) { _ in "/api/v1/me" },
        RouteMatrixTests.api(.get, "/api/v1/sectors", everyone) { _ in "/api/v1/sectors" },
        RouteMatrixTests.api(.post, "/api/v1/sectors", ["admin"], { _ in "/api/v1/sectors" }, json: #"{"id":"sector-{caller}","name":"New sector"}"#),
        RouteMatrixTests.api(.get, "/api/v1/organisations", everyone) { _ in "/api/v1/organisations" },
        RouteMatrixTests.api(.post, "/api/v1/organisations", ["admin"], { _ in "/api/v1/organisations" }, json: #"{"name":"Org of {caller}","kind":"bank","sector":"banking-finance"}"#),
        RouteMatrixTests.api(.get, "/api/v1/organisations/{organisationId}", ["admin", "analyst", "overseer", "investigator", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor", "a-legal"]) { _ in "/api/v1/organisations/{A}" },
        RouteMatrixTests.api(.put, "/api/v1/organisations/{organisationId}", ["admin", "a-admin"], { _ in "/api/v1/organisations/{A}" }, json: #"{"name":"Operator A","kind":"licensee","sector":"telecom","registrationNumber":"L-1"}"#),
        RouteMatrixTests.api(.get, "/api/v1/organisations/{organisationId}/inventories", exposureReaders) { _ in "/api/v1/organisations/{A}/inventories" },
        E(route: "POST /api/v1/organisations/{organisationId}/inventories", allowed: ["a-admin", "a-reporter", "a-sensor"]) { _, _, _ in
            // Refused for its content (422) where the caller may import: nothing is stored.
            Call(method: .post, uri: "/api/v1/organisations/{A}/inventories?name=core", raw: ("application/octet-stream", "{\"bomFormat\": \"SPDX\"}"))
        },
        RouteMatrixTests.api(.get, "/api/v1/organisations/{organisationId}/exposure", exposureReaders) { _ in "/api/v1/organisations/{A}/exposure" },
        RouteMatrixTests.api(
            .post, "/api/v1/organisations/{organisationId}/exposure/statements", ["a-admin", "a-reporter", "a-sensor"], { _ in "/api/v1/organisations/{A}/exposure/statements" },
            json: #"{"componentKey":"x|y|1","kind":"kev","reference":"CVE-2099-0001","status":"mitigated"}"#),
        RouteMatrixTests.api(.get, "/api/v1/organisations/{organisationId}/users", ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor"]) { _ in "/api/v1/organisations/{A}/users" },
        RouteMatrixTests.api(.post, "/api/v1/organisations/{organisationId}/users", ["admin", "a-admin"], { _ in "/api/v1/organisations/{A}/users" }, json: #"{"username":"new-{caller}","displayName":"New Person","roles":["organisation-reporter"]}"#),
        RouteMatrixTests.api(.get, "/api/v1/users/{userId}", ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor"]) { _ in "/api/v1/users/{a-reporter}" },
        RouteMatrixTests.api(.patch, "/api/v1/users/{userId}", ["admin", "a-admin"], { _ in "/api/v1/users/{a-reporter}" }, json: #"{"displayName":"Renamed Reporter"}"#),
        RouteMatrixTests.api(.get, "/api/v1/users/{userId}/tokens", ["admin", "a-admin", "a-reporter"]) { _ in "/api/v1/users/{a-reporter}/tokens" },
        RouteMatrixTests.api(.post, "/api/v1/users/{userId}/tokens", ["admin", "a-admin"], { _ in "/api/v1/users/{a-sensor}/tokens" }, json: #"{"name":"sensor","scopes":["ingest"]}"#),
        E(route: "DELETE /api/v1/users/{userId}/tokens/{tokenId}", allowed: ["admin", "a-admin", "a-reporter"]) { _, _, context in
            let world = context.harness.world
            let issued = try await world.installation.authenticator.issueToken(for: world.users["a-reporter"]!, name: "doomed", scopes: [.read], days: 1, by: nil)
            return Call(method: .delete, uri: "/api/v1/users/\(world.users["a-reporter"]!.id)/tokens/\(issued.token.id)")
        },
        RouteMatrixTests.api(.get, "/api/v1/audit/entries", ["admin", "overseer"]) { _ in "/api/v1/audit/entries" },
        RouteMatrixTests.api(.get, "/api/v1/audit/tree-head", ["admin", "overseer"]) { _ in "/api/v1/audit/tree-head" },
        RouteMatrixTests.api(.get, "/api/v1/audit/proofs/inclusion", ["admin", "overseer"]) { _ in "/api/v1/audit/proofs/inclusion?index=0&treeSize=1" },
        RouteMatrixTests.api(.get, "/api/v1/audit/proofs/consistency", ["admin", "overseer"]) { _ in "/api/v1/audit/proofs/consistency?from=1&to=2" },
        RouteMatrixTests.api(.get, "/api/v1/alerts", ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter", "bank-admin"]) { _ in "/api/v1/alerts" },
        RouteMatrixTests.api(.get, "/api/v1/alerts/{alertId}", alertReaders) { "/api/v1/alerts/\($0.alertID)" },
        RouteMatrixTests.api(.post, "/api/v1/alerts/{alertId}/triage", ["analyst", "a-admin"], { "/api/v1/alerts/\($0.alertID)/triage" }, json: #"{"action":"acknowledge"}"#),
        RouteMatrixTests.api(.get, "/api/v1/sensors", ["admin", "analyst", "regulator", "a-admin", "b-admin", "bank-admin"]) { _ in "/api/v1/sensors" },
        RouteMatrixTests.api(.get, "/api/v1/sensors/{sensorId}/volumes", ["admin", "analyst", "regulator", "a-admin"]) { "/api/v1/sensors/\($0.sensorID)/volumes" },
        RouteMatrixTests.api(.get, "/api/v1/cases", everyone) { _ in "/api/v1/cases" },
        RouteMatrixTests.api(.post, "/api/v1/cases", ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"], { _ in "/api/v1/cases" }, json: #"{"organisation":"{A}","title":"Matrix case of {caller}","awareness":"2026-11-23T06:00Z","tlp":"green"}"#),
        RouteMatrixTests.api(.get, "/api/v1/cases/{caseId}", caseReaders) { "/api/v1/cases/\($0.caseID)" },
        E(route: "POST /api/v1/cases/{caseId}/attachments", allowed: ["analyst", "a-admin", "a-reporter", "a-sensor", "auditor"]) { scenario, _, _ in
            Call(method: .post, uri: "/api/v1/cases/\(scenario.caseID)/attachments?name=more.pdf", raw: ("application/octet-stream", "%PDF-1.7\n%%EOF\n"))
        },
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/comments", caseReaders, { "/api/v1/cases/\($0.caseID)/comments" }, json: #"{"text":"from {caller}"}"#),
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/notices", ["analyst"], { "/api/v1/cases/\($0.caseID)/notices" }, json: #"{"replyDays":14}"#),
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/requests", ["analyst"], { "/api/v1/cases/\($0.caseID)/requests" }, json: #"{"question":"Which hosts?","dueDays":5}"#),
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/requests/{requestId}/answer", ["a-admin", "a-reporter", "a-sensor", "auditor"], { "/api/v1/cases/\($0.caseID)/requests/\($0.requestID)/answer" }, json: #"{"text":"ws-01"}"#),
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/stages/{regime}/{stage}", ["a-admin", "a-reporter", "a-sensor", "auditor"], { "/api/v1/cases/\($0.caseID)/stages/telecom/early-warning" }, json: #"{"summary":"Billing encrypted","servicesAffected":"billing","usersAffected":"1200","geographicArea":"Lahore","suspectedMalicious":"yes"}"#),
        RouteMatrixTests.api(.put, "/api/v1/cases/{caseId}/stages/{regime}/{stage}", ["a-admin", "a-reporter", "a-sensor", "auditor"], { "/api/v1/cases/\($0.caseID)/stages/telecom/early-warning" }, json: #"{"summary":"Billing encrypted"}"#),
        RouteMatrixTests.api(.post, "/api/v1/cases/{caseId}/triage", ["analyst"], { "/api/v1/cases/\($0.caseID)/triage" }, json: #"{"severity":"high"}"#),
        RouteMatrixTests.api(.get, "/api/v1/compliance", everyone) { _ in "/api/v1/compliance" },
        // Each account with an ingest token of its own: who may send as Operator A's sensor.
        E(route: "POST /api/v1/intake", allowed: ["a-sensor"]) { _, caller, context in
            var call = Call(method: .post, uri: "/api/v1/intake?sensor=matrix-http", raw: ("application/x-ndjson", #"{"EventID":1,"Image":"C:\\Windows\\System32\\whoami.exe"}"# + "\n"))
            let world = context.harness.world
            if let user = world.users[caller] {
                call.bearer = try? await world.installation.authenticator.issueToken(for: user, name: "ingest", scopes: [.ingest], days: 1, by: nil).secret
            }
            return call
        },
    ]
}

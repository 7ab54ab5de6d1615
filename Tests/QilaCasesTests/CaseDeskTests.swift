import Crypto
import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaCases

/// Records what the desk announces, in place of webhooks and e-mail.
actor RecordingNotifier: CaseNotifier {
    var events: [CaseEvent] = []
    func notify(_ event: CaseEvent) async { events.append(event) }
    func kinds() -> [CaseEvent.Kind] { events.map(\.kind) }
}

@Suite("Incident cases: reporting, triage, deadlines")
struct CaseDeskTests {
    struct Setup {
        var world: TenantWorld
        var desk: CaseDesk
        var gate: DecisionGate
        var notifier: RecordingNotifier
        var folder: String
    }

    /// 2026-03-27 09:00 UTC: two days before the European change to summer time.
    static let t0 = RFC3339.parse("2026-03-27T09:00:00Z")!

    static func setup(_ backend: TestBackend = .sqlite, maximumBytes: Int = 1024 * 1024) async throws -> Setup {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let folder = installation.dataDirectory + "/attachments"
        let notifier = RecordingNotifier()
        let desk = CaseDesk(
            store: installation.store, audit: installation.audit, regimes: try RegimeBook.load(folder: nil),
            attachments: AttachmentStore(store: installation.store, maximumBytes: maximumBytes, legacyFolder: folder), notifier: notifier,
            policy: installation.policy)
        return Setup(world: world, desk: desk, gate: DecisionGate(policy: installation.policy, audit: installation.audit), notifier: notifier, folder: folder)
    }

    static func earlyWarning() -> [String: String] {
        ["summary": "Ransomware on billing servers", "servicesAffected": "billing", "usersAffected": "1200", "geographicArea": "Lahore", "suspectedMalicious": "yes"]
    }

    @Test("A licensee reports in stages; the authority and the sector's regulator see it, other tenants do not", arguments: TestBackend.available)
    func reportingAndVisibility(_ backend: TestBackend) async throws {
        let s = try await Self.setup(backend)
        let reporter = s.world.subject("a-reporter", now: Self.t0)
        let opening = CaseDesk.Opening(
            organisation: "", title: "Ransomware in billing", awareness: "2026-03-27T08:00Z", tlp: "green", pap: "amber",
            classification: "malicious-code/infected-system", offences: ["4", "PECA 2016 s.5"], significance: ["outage": true],
            observables: "203.0.113.50\nhxxp://evil[.]example/pay\n44d88612fea8a8f36de82e1278abb02f")
        let incident = try await s.desk.open(opening, by: reporter, gate: s.gate, now: Self.t0)
        #expect(incident.number.hasPrefix("QC-2026-"))
        #expect(incident.regimes == ["telecom"])
        #expect(incident.status == .draft)
        #expect(incident.offences == [4, 5])

        // A draft is the reporter's own: the analyst cannot find it.
        let analyst = s.world.subject("analyst", now: Self.t0)
        await #expect(throws: QilaError.self) { _ = try await s.desk.incident(incident.id, for: analyst, gate: s.gate) }
        #expect(try await s.desk.incidents(for: analyst).isEmpty)

        // Missing and malformed fields are all named at once.
        do {
            _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: ["summary": "x", "usersAffected": "many"], by: reporter, gate: s.gate, now: Self.t0)
            Issue.record("an incomplete stage was accepted")
        } catch let error as QilaError {
            #expect(error.code == .invalidInput)
            #expect(error.description.contains("usersAffected"))
            #expect(error.description.contains("servicesAffected"))
            #expect(error.description.contains("geographicArea"))
        }
        let submitted = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: reporter, gate: s.gate, now: Self.t0)
        #expect(submitted.status == .new)
        #expect(submitted.submittedAt == Self.t0)
        // Submitting the same stage again changes nothing.
        await #expect(throws: QilaError.self) {
            _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: reporter, gate: s.gate, now: Self.t0)
        }
        // A later stage that fails leaves the earlier one as it was.
        await #expect(throws: QilaError.self) {
            _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "notification", values: ["summary": "more"], by: reporter, gate: s.gate, now: Self.t0)
        }
        let stages = try await s.world.installation.store.stages(of: incident.id)
        #expect(stages.count == 1)
        #expect(stages.first?.values["usersAffected"] == "1200")
        #expect(stages.first?.values["suspectedMalicious"] == "yes")

        #expect(try await s.desk.incidents(for: analyst).map(\.id) == [incident.id])
        #expect(try await s.desk.incidents(for: s.world.subject("regulator")).map(\.id) == [incident.id])
        #expect(try await s.desk.incidents(for: s.world.subject("b-reporter")).isEmpty)
        #expect(try await s.desk.incidents(for: s.world.subject("bank-admin")).isEmpty)
        await #expect(throws: QilaError.self) { _ = try await s.desk.incident(incident.id, for: s.world.subject("b-admin"), gate: s.gate) }
        #expect(try await s.notifier.kinds() == [.submitted])

        // The observables were normalised (defanged URL restored, hash lower case).
        let observables = try await s.world.installation.store.observables(of: incident.id)
        #expect(observables.contains(Observable(kind: .url, value: "http://evil.example/pay")))
        #expect(observables.contains(Observable(kind: .ipv4, value: "203.0.113.50")))
        #expect(observables.contains(Observable(kind: .md5, value: "44d88612fea8a8f36de82e1278abb02f")))
    }

    @Test("An auditor reports on behalf of the organisations it audits, and no other")
    func auditorOnBehalf() async throws {
        let s = try await Self.setup()
        let auditor = s.world.subject("auditor", now: Self.t0)
        let opening = CaseDesk.Opening(organisation: s.world.operatorA.id.description, title: "Defacement", awareness: "2026-03-27T07:00Z", tlp: "amber")
        let incident = try await s.desk.open(opening, by: auditor, gate: s.gate, now: Self.t0)
        #expect(incident.onBehalf)
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: auditor, gate: s.gate, now: Self.t0)
        let stage = try #require(try await s.world.installation.store.stages(of: incident.id).first)
        #expect(stage.onBehalf)
        let timeline = try await s.world.installation.store.entries(of: incident.id, includeInternal: false)
        #expect(timeline.contains { $0.text.contains("on behalf of Operator A") })
        #expect(timeline.contains { $0.text.contains("by the auditor Audit Firm") })
        // The operator's own reporter sees it (TLP:AMBER is above its green clearance, so its admin).
        #expect(try await s.desk.incidents(for: s.world.subject("a-admin")).map(\.id) == [incident.id])

        let elsewhere = CaseDesk.Opening(organisation: s.world.operatorB.id.description, title: "Not ours", awareness: "2026-03-27T07:00Z")
        await #expect(throws: QilaError.self) { _ = try await s.desk.open(elsewhere, by: auditor, gate: s.gate, now: Self.t0) }
        // A reporter may not mark a case above its own clearance.
        let tooHigh = CaseDesk.Opening(organisation: "", title: "Secret", awareness: "2026-03-27T07:00Z", tlp: "red")
        do {
            _ = try await s.desk.open(tooHigh, by: s.world.subject("a-reporter"), gate: s.gate, now: Self.t0)
            Issue.record("a marking above the clearance was accepted")
        } catch let error as QilaError {
            #expect(error.location == "field tlp")
        }
    }

    @Test("Triage, comments, requests for information, tasks and requested stages")
    func triageWorkflow() async throws {
        let s = try await Self.setup()
        let reporter = s.world.subject("a-admin", now: Self.t0)
        let analyst = s.world.subject("analyst", now: Self.t0)
        var incident = try await s.desk.open(.init(organisation: "", title: "DDoS on DNS", awareness: "2026-03-27T08:30Z"), by: reporter, gate: s.gate, now: Self.t0)
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: reporter, gate: s.gate, now: Self.t0)

        incident = try await s.desk.triage(
            incident.id, .init(status: "triaged", severity: "high", assignee: s.world.users["analyst"]!.id.description), by: analyst, gate: s.gate, now: Self.t0)
        #expect(incident.status == .triaged)
        #expect(incident.severity == .high)
        #expect(incident.assignee == s.world.users["analyst"]!.id)
        // Assigning to someone who may not handle the case is refused by name.
        do {
            _ = try await s.desk.triage(incident.id, .init(assignee: s.world.users["b-admin"]!.id.description), by: analyst, gate: s.gate, now: Self.t0)
            Issue.record("a case was assigned to another tenant")
        } catch let error as QilaError { #expect(error.location == "field assignee") }
        // The reporter cannot triage.
        await #expect(throws: QilaError.self) { _ = try await s.desk.triage(incident.id, .init(status: "closed"), by: reporter, gate: s.gate, now: Self.t0) }
        incident = try await s.desk.triage(incident.id, .init(status: "resolved"), by: analyst, gate: s.gate, now: Self.t0)
        do {
            _ = try await s.desk.triage(incident.id, .init(status: "in-progress"), by: analyst, gate: s.gate, now: Self.t0)
            Issue.record("a case was reopened without a reason")
        } catch let error as QilaError { #expect(error.location == "field note") }
        incident = try await s.desk.triage(incident.id, .init(status: "in-progress", note: "attack resumed"), by: analyst, gate: s.gate, now: Self.t0)
        #expect(incident.status == .inProgress)

        try await s.desk.comment(incident.id, text: "Looks like the Mirai variant from last week", shared: false, by: analyst, gate: s.gate, now: Self.t0)
        try await s.desk.comment(incident.id, text: "Please keep the pcap", shared: true, by: analyst, gate: s.gate, now: Self.t0)
        try await s.desk.comment(incident.id, text: "Regulator noted", shared: false, by: s.world.subject("regulator"), gate: s.gate, now: Self.t0)
        try await s.desk.addTask(incident.id, title: "Contact upstream", assignee: "", due: "2026-03-30", by: analyst, gate: s.gate, now: Self.t0)
        try await s.desk.requestInformation(incident.id, question: "Which resolvers were hit?", dueDays: "3", by: analyst, gate: s.gate, now: Self.t0)
        try await s.desk.requestStage(incident.id, regime: "telecom", stage: "intermediate", by: analyst, gate: s.gate, now: Self.t0)

        let reporterView = try await s.desk.view(incident.id, for: reporter, gate: s.gate, now: Self.t0)
        #expect(!reporterView.seesInternal)
        #expect(reporterView.tasks.isEmpty)
        #expect(!reporterView.timeline.contains { $0.text.contains("Mirai") || $0.text.contains("Regulator noted") || $0.kind == .assigned })
        #expect(reporterView.timeline.contains { $0.text == "Please keep the pcap" })
        let request = try #require(reporterView.requests.first)
        try await s.desk.answer(incident.id, request: request.id, text: "ns1 and ns2", by: reporter, gate: s.gate, now: Self.t0)
        await #expect(throws: QilaError.self) {
            try await s.desk.answer(incident.id, request: request.id, text: "again", by: reporter, gate: s.gate, now: Self.t0)
        }
        let clocks = reporterView.clocks.first!.clocks
        let intermediate = try #require(clocks.first { $0.stage == "intermediate" })
        #expect(intermediate.state == .open)
        #expect(intermediate.due == RFC3339.parse("2026-04-03T09:00:00Z"))
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "intermediate", values: ["status": "Mitigated by scrubbing"], by: reporter, gate: s.gate, now: Self.t0)

        let analystView = try await s.desk.view(incident.id, for: analyst, gate: s.gate, now: Self.t0)
        #expect(analystView.seesInternal)
        #expect(analystView.tasks.count == 1)
        #expect(analystView.timeline.contains { $0.text.contains("Mirai") })
        #expect(analystView.requests.first?.answer == "ns1 and ns2")
        let kinds = try await s.notifier.kinds()
        #expect(kinds.contains(.sharedComment) && kinds.contains(.informationRequested) && kinds.contains(.stageRequested) && kinds.contains(.status))
    }

    @Test("Cases of different organisations sharing an observable are shown together to the authority only")
    func correlationAndMerge() async throws {
        let s = try await Self.setup()
        let a = s.world.subject("a-admin", now: Self.t0)
        let b = s.world.subject("b-admin", now: Self.t0)
        let analyst = s.world.subject("analyst", now: Self.t0)
        let first = try await s.desk.open(.init(organisation: "", title: "Phishing", awareness: "2026-03-27T08:00Z", observables: "login-portal.example\n198.51.100.7"), by: a, gate: s.gate, now: Self.t0)
        let second = try await s.desk.open(.init(organisation: "", title: "Credential theft", awareness: "2026-03-27T08:10Z", observables: "domain:LOGIN-PORTAL.example."), by: b, gate: s.gate, now: Self.t0)
        // Drafts are not correlated.
        #expect(try await s.desk.campaigns(for: analyst).isEmpty)
        for (subject, incident) in [(a, first), (b, second)] {
            _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: subject, gate: s.gate, now: Self.t0)
        }
        let view = try await s.desk.view(first.id, for: analyst, gate: s.gate, now: Self.t0)
        #expect(view.correlated.map(\.incident.id) == [second.id])
        #expect(view.correlated.first?.shared == [Observable(kind: .domain, value: "login-portal.example")])
        // Operator A never learns that operator B reported the same domain.
        #expect(try await s.desk.view(first.id, for: a, gate: s.gate, now: Self.t0).correlated.isEmpty)
        let campaigns = try await s.desk.campaigns(for: analyst)
        #expect(campaigns.count == 1)
        #expect(Set(campaigns[0].cases.map(\.id)) == [first.id, second.id])
        #expect(try await s.desk.campaigns(for: s.world.subject("regulator")).count == 1)

        let merged = try await s.desk.merge(second.id, into: first.number, by: analyst, gate: s.gate, now: Self.t0)
        #expect(merged.status == .closed && merged.mergedInto == first.id)
        #expect(try await s.world.installation.store.observables(of: first.id).count == 2)
        #expect(try await s.world.installation.store.stages(of: second.id).count == 1)
        await #expect(throws: QilaError.self) { _ = try await s.desk.merge(first.id, into: second.number, by: analyst, gate: s.gate, now: Self.t0) }
    }

    @Test("Deadlines: reminders before, escalation after, once each; compliance record; show-cause notice", arguments: TestBackend.available)
    func deadlinesAndCompliance(_ backend: TestBackend) async throws {
        let s = try await Self.setup(backend)
        let reporter = s.world.subject("a-admin", now: Self.t0)
        let analyst = s.world.subject("analyst", now: Self.t0)
        // Aware at 09:00 UTC on 27 March; early warning due 24 h later, notification 72 h later.
        let incident = try await s.desk.open(
            .init(organisation: "", title: "Outage in the core", awareness: "2026-03-27T09:00Z", personalData: true), by: reporter, gate: s.gate, now: Self.t0)
        #expect(incident.regimes == ["telecom", "personal-data"])
        // Nothing submitted yet: the case is a draft, and drafts have no clocks running for the sweep.
        #expect(try await s.desk.sweep(now: Self.t0.addingTimeInterval(20 * 3600)) == .init())
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: reporter, gate: s.gate, now: Self.t0.addingTimeInterval(3600))

        // 60 h in: the notification (due at 72 h) is within its last quarter, so is the 72 h personal-data notification.
        let reminders = try await s.desk.sweep(now: Self.t0.addingTimeInterval(60 * 3600))
        #expect(reminders == .init(reminders: 2, escalations: 0))
        #expect(try await s.desk.sweep(now: Self.t0.addingTimeInterval(61 * 3600)) == .init())
        // 73 h in: both are overdue.
        let escalations = try await s.desk.sweep(now: Self.t0.addingTimeInterval(73 * 3600))
        #expect(escalations == .init(reminders: 0, escalations: 2))
        #expect(try await s.desk.sweep(now: Self.t0.addingTimeInterval(74 * 3600)) == .init())
        let kinds = try await s.notifier.kinds()
        #expect(kinds.filter { $0 == .reminder }.count == 2 && kinds.filter { $0 == .overdue }.count == 2)

        // The notification arrives late, at 80 h; the personal-data one never does.
        let later = Self.t0.addingTimeInterval(80 * 3600)
        var notification = Self.earlyWarning()
        notification.removeValue(forKey: "suspectedMalicious")
        notification.merge(["severity": "high", "durationMinutes": "95", "networkElements": "core", "indicators": "198.51.100.9"]) { $1 }
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "notification", values: notification, by: reporter, gate: s.gate, now: later)
        let record = try #require(try await s.desk.compliance(for: analyst, now: later).first)
        #expect(record.organisation == s.world.operatorA.id)
        #expect(record.onTime == 1 && record.late == 1 && record.missing == 1)
        #expect(record.percentOnTime == 33)
        // The operator reads its own record; operator B has none.
        #expect(try await s.desk.compliance(for: s.world.subject("b-admin"), now: later).isEmpty)

        let notice = try await s.desk.issueNotice(incident.id, replyDays: 14, by: analyst, gate: s.gate, now: later)
        #expect(notice.number.hasPrefix("SCN-2026-"))
        #expect(notice.stages == ["telecom/notification", "personal-data/notification"])
        #expect(notice.text.contains("SHOW-CAUSE NOTICE \(notice.number)"))
        #expect(notice.text.contains("To: Operator A"))
        #expect(notice.text.contains("Incident notification under Telecom security incidents"))
        #expect(notice.text.contains("8 h after the deadline"))
        #expect(notice.text.contains("not submitted as of the date of this notice"))
        #expect(notice.text.contains("within 14 days"))
        // Karachi time (UTC+5) in the document.
        #expect(notice.text.contains("30 March 2026, 14:00"))
        // The organisation reads it; the reporter cannot issue one; another operator cannot read it.
        _ = try await s.desk.notice(notice.id, for: reporter, gate: s.gate)
        await #expect(throws: QilaError.self) { _ = try await s.desk.notice(notice.id, for: s.world.subject("b-admin"), gate: s.gate) }
        await #expect(throws: QilaError.self) { _ = try await s.desk.issueNotice(incident.id, replyDays: 14, by: reporter, gate: s.gate, now: later) }
        #expect(try await s.desk.compliance(for: analyst, now: later).first?.notices == 1)

        let statistics = try await s.desk.statistics(for: s.world.subject("overseer"))
        #expect(statistics.total == 1)
        #expect(statistics.bySector["2026-03"]?["telecom"] == 1)
        #expect(statistics.hoursToStage["Early warning"] == [1])
        #expect(statistics.hoursToStage["Incident notification"] == [80])
    }

    @Test("Exchange: a STIX 2.1 bundle with the Incident Core extension and TLP 2.0 marking; a MISP event that imports back as a case")
    func exchange() async throws {
        let s = try await Self.setup()
        let reporter = s.world.subject("a-admin", now: Self.t0)
        let analyst = s.world.subject("analyst", now: Self.t0)
        let incident = try await s.desk.open(
            .init(organisation: "", title: "Ransomware", awareness: "2026-03-27T08:00Z", tlp: "amber", pap: "red", classification: "malicious-code/infected-system",
                  offences: ["5"], observables: "203.0.113.50\nevil.example\n44d88612fea8a8f36de82e1278abb02f"), by: reporter, gate: s.gate, now: Self.t0)
        _ = try await s.desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: Self.earlyWarning(), by: reporter, gate: s.gate, now: Self.t0)
        _ = try await s.desk.triage(incident.id, .init(status: "in-progress", severity: "critical"), by: analyst, gate: s.gate, now: Self.t0)

        let stix = try JSONSerialization.jsonObject(with: Data(try await s.desk.export(incident.id, as: .stix, for: analyst, gate: s.gate))) as! [String: Any]
        #expect(stix["type"] as? String == "bundle")
        let objects = stix["objects"] as! [[String: Any]]
        let stixIncident = try #require(objects.first { $0["type"] as? String == "incident" })
        #expect(stixIncident["id"] as? String == "incident--\(incident.id)")
        #expect(stixIncident["object_marking_refs"] as? [String] == ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"])
        #expect(stixIncident["description"] as? String == "Ransomware on billing servers")
        let extensionBody = (stixIncident["extensions"] as? [String: Any])?[CaseExchange.incidentExtension] as? [String: Any]
        #expect(extensionBody?["determination"] as? String == "confirmed")
        #expect(extensionBody?["investigation_status"] as? String == "open")
        #expect(extensionBody?["criticality"] as? Int == 100)
        #expect((stixIncident["labels"] as? [String])?.contains("rsit:malicious-code=\"infected-system\"") == true)
        let address = try #require(objects.first { $0["type"] as? String == "ipv4-addr" })
        #expect(address["value"] as? String == "203.0.113.50")
        // Deterministic: the same address always has the same id (UUIDv5 of {"value":...}).
        #expect(address["id"] as? String == "ipv4-addr--\(CaseExchange.uuid5(CaseExchange.observableNamespace, #"{"value":"203.0.113.50"}"#).uuidString.lowercased())")
        #expect(objects.filter { $0["type"] as? String == "relationship" }.count == 4)
        // RFC 9562 appendix A.4: the name-based UUID of "www.example.com" in the DNS namespace.
        #expect(CaseExchange.uuid5(UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!, "www.example.com").uuidString.lowercased() == "2ed6657d-e927-568b-95e1-2665a8aea6a2")

        let misp = try await s.desk.export(incident.id, as: .misp, for: reporter, gate: s.gate)
        let event = try CaseExchange.readMISPEvent(misp)
        #expect(event.tlp == .amber && event.pap == "PAP:RED" && event.classification == "malicious-code/infected-system" && event.offences == ["5"])
        #expect(event.severity == .high)
        #expect(Set(event.observables) == Set(try await s.world.installation.store.observables(of: incident.id)))
        // Operator B never sees A's case; the authority imports the event for B and the two correlate.
        await #expect(throws: QilaError.self) { _ = try await s.desk.export(incident.id, as: .misp, for: s.world.subject("b-admin"), gate: s.gate) }
        let (imported, skipped) = try await s.desk.importMISP(misp, organisation: s.world.operatorB.id.description, by: analyst, gate: s.gate, now: Self.t0)
        #expect(skipped.isEmpty)
        #expect(imported.status == .new && imported.organisation == s.world.operatorB.id && imported.tlp == .amber)
        #expect(try await s.desk.campaigns(for: analyst).count == 3)
        // A reporter cannot import; a broken file is refused naming the field.
        await #expect(throws: QilaError.self) {
            _ = try await s.desk.importMISP(misp, organisation: s.world.operatorA.id.description, by: reporter, gate: s.gate, now: Self.t0)
        }
        do {
            _ = try await s.desk.importMISP(Array("[1,2]".utf8), organisation: s.world.operatorB.id.description, by: analyst, gate: s.gate, now: Self.t0)
            Issue.record("a broken event was imported")
        } catch let error as QilaError { #expect(error.location == "field file") }
    }

    @Test("Attachments: stored by SHA-256 when they are what they claim; over the limit, programs and mismatches refused before storing")
    func attachments() async throws {
        let s = try await Self.setup(maximumBytes: 4096)
        let reporter = s.world.subject("a-admin", now: Self.t0)
        let incident = try await s.desk.open(.init(organisation: "", title: "Leak", awareness: "2026-03-27T08:00Z"), by: reporter, gate: s.gate, now: Self.t0)
        let pdf = Array("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".utf8)
        let attachment = try await s.desk.attach(incident.id, name: "../../evidence.pdf", bytes: pdf, by: reporter, gate: s.gate, now: Self.t0)
        #expect(attachment.name == "evidence.pdf")
        #expect(attachment.mediaType == "application/pdf")
        let (_, read) = try await s.desk.attachment(incident.id, attachment.id, for: reporter, gate: s.gate)
        #expect(read == pdf)
        func refused(_ name: String, _ bytes: [UInt8], _ words: String) async throws {
            do {
                _ = try await s.desk.attach(incident.id, name: name, bytes: bytes, by: reporter, gate: s.gate, now: Self.t0)
                Issue.record("\(name) was accepted")
            } catch let error as QilaError {
                #expect(error.location == "field file")
                #expect(error.message.contains(words), "\(error)")
            }
        }
        try await refused("big.txt", [UInt8](repeating: 0x41, count: 4097), "at most 4096")
        try await refused("invoice.pdf", [0x4D, 0x5A, 0x90, 0x00], "program")
        try await refused("photo.png", pdf, "does not contain")
        try await refused("tool.exe", Array("hello".utf8), "not accepted")
        // Only the accepted file is stored, in the database (where every node reads it).
        let stored = try await s.world.installation.store.database.query("SELECT count(*) AS n FROM attachment_contents").first?.int("n")
        #expect(stored == 1)
        #expect(!FileManager.default.fileExists(atPath: s.folder))
        // Another tenant cannot fetch it.
        await #expect(throws: QilaError.self) { _ = try await s.desk.attachment(incident.id, attachment.id, for: s.world.subject("b-admin"), gate: s.gate) }
    }

    @Test("Attachments an older version kept as files move into the database, checked against their SHA-256")
    func legacyAttachments() async throws {
        let s = try await Self.setup()
        let bytes = Array("a log line\n".utf8)
        let digest = Hex.encode(SHA256.hash(data: bytes))
        try FileManager.default.createDirectory(atPath: s.folder + "/" + digest.prefix(2), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: s.folder + "/" + digest.prefix(2) + "/" + digest, contents: Data(bytes))
        #expect(try await s.desk.attachments.importFolder() == 1)
        #expect(try await s.desk.attachments.read(digest) == bytes)
        #expect(FileManager.default.fileExists(atPath: s.folder + ".moved-to-database/" + digest.prefix(2) + "/" + digest))
        #expect(try await s.desk.attachments.importFolder() == 0)
    }

    @Test("Observables are recognised and normalised; bad lines are named")
    func observableParsing() {
        let parsed = ObservableParser.parse(
            """
            # comment
            2001:DB8::0:1
            ipv4:010.1.2.3
            Example.COM.
            hxxps://Bad[.]Example/x?y=1
            user[@]mail.example
            DA39A3EE5E6B4B0D3255BFEF95601890AFD80709
            account:svc-backup
            not a thing
            ip:999.1.1.1
            """)
        #expect(parsed.observables == [
            Observable(kind: .ipv6, value: "2001:db8::1"),
            Observable(kind: .domain, value: "example.com"),
            Observable(kind: .url, value: "https://bad.example/x?y=1"),
            Observable(kind: .email, value: "user@mail.example"),
            Observable(kind: .sha1, value: "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            Observable(kind: .account, value: "svc-backup"),
        ])
        #expect(parsed.errors.map(\.line) == [3, 9, 10])
        // Browsers send a textarea's lines with CRLF, which Swift reads as one character.
        #expect(ObservableParser.parse("203.0.113.1\r\nexample.org\r\n").observables.count == 2)
        // Random text never crashes the parser and every value it accepts is stable under a second pass.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdef0123456789.:/-_@[]() xhtpsADF\n")
        for _ in 0..<500 {
            let text = String((0..<Int.random(in: 0..<80, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            for observable in ObservableParser.parse(text).observables {
                #expect(ObservableParser.normalise(observable.kind, observable.value) == observable)
            }
        }
    }

    @Test("Regimes defined by the authority load beside the presets; a bad file stops the load with its name and line")
    func authorityRegimes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qila-regimes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try """
        id: banking
        title: Banking incidents
        sectors: [banking-finance]
        timeZone: Asia/Karachi
        stages:
          - id: notification
            title: Notification
            due: 2h after awareness
            fields: [summary]
        """.write(toFile: folder + "/banking.yaml", atomically: true, encoding: .utf8)
        let book = try RegimeBook.load(folder: folder)
        #expect(book.defaultRegime(for: "banking-finance")?.id == "banking")
        #expect(book.defaultRegime(for: "telecom")?.id == "telecom")
        #expect(book.defaultRegime(for: "energy")?.id == "national")
        try "id: broken\ntitle: Broken\nstages:\n  - id: a\n    title: A\n    due: soon\n".write(toFile: folder + "/broken.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try RegimeBook.load(folder: folder)
            Issue.record("a broken regime loaded")
        } catch {
            #expect(error.description.contains("broken.yaml"))
            #expect(error.line == 6)
        }
    }
}

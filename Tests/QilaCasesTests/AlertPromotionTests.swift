import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaCases

@Suite("Alerts promoted to cases automatically above a severity")
struct AlertPromotionTests {
    @Test("New alerts at or above the threshold become cases once, under the automation account; the rest stay for analysts", arguments: TestBackend.available)
    func promotion(_ backend: TestBackend) async throws {
        let s = try await CaseDeskTests.setup(backend)
        let store = s.world.installation.store
        // The case desk reads the real clock; only differences from the present matter here.
        let now = Date()
        func alert(_ title: String, _ severity: SecurityAlert.Severity, _ kind: SecurityAlert.Kind = .rule, organisation: Organisation? = nil, status: SecurityAlert.Status = .new)
            async throws -> SecurityAlert
        {
            var alert = SecurityAlert(
                organisation: (organisation ?? s.world.operatorA).id, sensor: nil, kind: kind, rule: title, title: title, severity: severity,
                groupKey: UUID().uuidString, host: "ws-01", firstAt: now.addingTimeInterval(-120), lastAt: now.addingTimeInterval(-60), count: 3,
                fields: [AlertField(name: "DestinationIp", value: "203.0.113.9"), AlertField(name: "CommandLine", value: "whoami /all")])
            alert.status = status
            try await store.commitIntake(IntakeCommit(newAlerts: [alert]))
            return alert
        }
        // The rule behind the first alert is tagged with ATT&CK's credential-access tactic.
        try await store.saveRules([
            DetectionRule(
                id: "Mimikatz", title: "Mimikatz", level: "high", file: "mimikatz.yml",
                yaml: "title: Mimikatz\nid: Mimikatz\ntags:\n  - attack.credential_access\n  - attack.t1003.001\nlogsource: {product: windows}\ndetection:\n  s: {Image|endswith: mimikatz.exe}\n  condition: s\n",
                uploadedBy: nil)
        ])
        let high = try await alert("Mimikatz", .high)
        let critical = try await alert("Ransom note", .critical, .indicator)
        let medium = try await alert("Odd logon", .medium)
        let dismissed = try await alert("Known scanner", .critical, status: .dismissed)
        let campaign = try await alert("Campaign: Mimikatz", .critical, .campaign, organisation: s.world.authority)

        let opened = try await s.desk.alerts.promoteAutomatically(atOrAbove: .high, since: now.addingTimeInterval(-3600), now: now)
        #expect(opened.count == 2)
        for original in [high, critical] {
            let promoted = try #require(try await store.alert(original.id))
            #expect(promoted.status == .promoted)
            let caseID = try #require(promoted.caseID)
            let incident = try #require(try await store.incident(caseID))
            #expect(incident.organisation == s.world.operatorA.id)
            #expect(incident.title == "Alert: \(original.title)")
            #expect(incident.status == .new && incident.onBehalf)
            #expect(abs(incident.awareness.timeIntervalSince(original.firstAt)) < 0.01)
            #expect(incident.severity == (original.severity == .critical ? .critical : .high))
            // The host, and each matched value that is an observable; the command line is not one.
            let observables = try await store.observables(of: caseID)
            #expect(Set(observables.map { "\($0.kind.rawValue):\($0.value)" }) == ["hostname:ws-01", "ipv4-addr:203.0.113.9"])
            #expect(incident.classification == (original.id == high.id ? "intrusions/privileged-account-compromise" : nil))
            let created = try #require(try await store.entries(of: caseID, includeInternal: true).first { $0.kind == .created })
            #expect(created.text.contains("from alert \(original.id)"))
            let automation = try #require(try await store.user(username: CaseDesk.automationUsername))
            #expect(incident.reportedBy == automation.id && promoted.triagedBy == automation.id)
            #expect(automation.disabled && automation.kind == .service && automation.organisation == s.world.authority.id && automation.roles.isEmpty)
        }
        for untouched in [medium, dismissed, campaign] {
            #expect(try await store.alert(untouched.id)?.caseID == nil)
        }
        // Run again: nothing new is opened.
        #expect(try await s.desk.alerts.promoteAutomatically(atOrAbove: .high, since: now.addingTimeInterval(-3600), now: now).isEmpty)
        // Every promotion is in the audit log.
        let entries = try await store.auditEntries(from: 0, limit: 10_000, actionPrefix: "alert.promote")
        #expect(entries.count == 2 && entries.allSatisfy { $0.details["automatic"] == "true" })
    }
}

@Suite("A classification proposed from a rule's ATT&CK tags")
struct ProposedClassificationTests {
    @Test("Of two triaging one alert at once (two analysts, or two nodes), the second is refused and opens no case", arguments: TestBackend.available)
    func concurrentTriage(_ backend: TestBackend) async throws {
        let s = try await CaseDeskTests.setup(backend)
        let store = s.world.installation.store
        let now = Date()
        let alert = SecurityAlert(
            organisation: s.world.operatorA.id, sensor: nil, kind: .rule, rule: "r", title: "Odd logon", severity: .high, groupKey: "g",
            host: "ws-02", firstAt: now.addingTimeInterval(-60), lastAt: now, count: 1, fields: [])
        try await store.commitIntake(IntakeCommit(newAlerts: [alert]))
        let organisation = try await store.organisation(alert.organisation)
        let analyst = s.world.subject("analyst")
        // Both read the alert as new; the first acknowledges it.
        let first = try await s.desk.alerts.apply(.acknowledge, to: alert, organisation: organisation, reason: nil, by: analyst, gate: s.gate, source: nil, now: now)
        #expect(first.status == .acknowledged)
        // The second, still holding the alert as new, is told; neither a dismissal nor a case results.
        for action in [AlertDesk.Action.dismiss, .promote] {
            await #expect(throws: QilaError.self) {
                _ = try await s.desk.alerts.apply(action, to: alert, organisation: organisation, reason: "x", by: analyst, gate: s.gate, source: nil, now: now)
            }
        }
        #expect(try await store.alert(alert.id)?.status == .acknowledged)
        #expect(try await store.incidents(includeDrafts: true).isEmpty)
    }

    @Test("the tactic furthest along an intrusion wins; tags without a tactic propose nothing")
    func proposal() {
        #expect(ProposedClassification.from(tags: ["attack.discovery", "attack.impact"]) == "availability/sabotage")
        #expect(ProposedClassification.from(tags: ["attack.credential-access", "attack.t1003"]) == "intrusions/privileged-account-compromise")
        #expect(ProposedClassification.from(tags: ["attack.t1059", "cve.2021-44228"]) == nil)
        #expect(ProposedClassification.from(tags: []) == nil)
        #expect(ProposedClassification.tags(ofRule: "title: x\ntags: [attack.execution, attack.t1059.001]\n") == ["attack.execution", "attack.t1059.001"])
        #expect(ProposedClassification.tags(ofRule: "title: [unclosed") == [])
        // Every proposal is a type the taxonomy knows.
        for (_, classification) in ProposedClassification.byTactic {
            #expect(RSITClassification(parsing: classification) != nil, "\(classification)")
        }
    }
}

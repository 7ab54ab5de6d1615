import Foundation
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@Suite("Campaigns: a regulator asks its sector, operators answer and submit, auditors attest, the late are reminded and given notice")
struct CampaignTests {
    static let launchedAt = Date(timeIntervalSince1970: 1_795_000_000)
    static let day: TimeInterval = 86_400
    static let dueAt = launchedAt.addingTimeInterval(30 * day)

    struct Fixture {
        var world: TenantWorld
        var desk: CampaignDesk
        var gate: DecisionGate
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let desk = CampaignDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy, attachments: AttachmentStore(store: installation.store))
        return Fixture(world: world, desk: desk, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    /// A CPG campaign of three goals, MFA expected implemented.
    static func launch(_ fixture: Fixture, cycle: String = "2026", due: Date = dueAt, now: Date = launchedAt) async throws -> AssessmentCampaign {
        try await fixture.desk.launch(
            .init(
                title: "Telecom CPG baseline \(cycle)", framework: "cisa-cpg-2.0", requirements: ["1.A", "3.F", "5.B"], targets: ["3.F": "implemented"],
                cycle: cycle, sector: "telecom", audience: .sector("telecom"), opensAt: now, dueAt: due, reminderDays: 5, graceDays: 3),
            by: fixture.world.subject("regulator"), gate: fixture.gate, now: now)
    }

    static func refusal(_ body: () async throws -> Void) async -> QilaError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? QilaError
        }
    }

    @Test("Launch: a regulator asks its own sector; a national campaign, another sector's bank or an unknown level are refused", arguments: TestBackend.available)
    func launch(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let national = await Self.refusal {
            _ = try await fixture.desk.launch(
                .init(title: "National", framework: "nist-csf-2.0", cycle: "2026", sector: nil, audience: .sector("telecom"), opensAt: Self.launchedAt, dueAt: Self.dueAt),
                by: world.subject("regulator"), gate: fixture.gate, now: Self.launchedAt)
        }
        #expect(national?.code == .forbidden)
        let bank = await Self.refusal {
            _ = try await fixture.desk.launch(
                .init(
                    title: "Telecom", framework: "nist-csf-2.0", cycle: "2026", sector: "telecom", audience: .organisations([world.bank.id]),
                    opensAt: Self.launchedAt, dueAt: Self.dueAt), by: world.subject("regulator"), gate: fixture.gate, now: Self.launchedAt)
        }
        #expect(bank?.field == "organisations" && bank?.message.contains("First Bank") == true)
        let level = await Self.refusal {
            _ = try await fixture.desk.launch(
                .init(
                    title: "Telecom", framework: "cisa-cpg-2.0", targets: ["3.F": "tier-4"], cycle: "2026", sector: "telecom", audience: .sector("telecom"),
                    opensAt: Self.launchedAt, dueAt: Self.dueAt), by: world.subject("regulator"), gate: fixture.gate, now: Self.launchedAt)
        }
        #expect(level?.field == "targets" && level?.message.contains("implemented, in-progress, not-started") == true)
        let past = await Self.refusal {
            _ = try await Self.launch(fixture, due: Self.launchedAt.addingTimeInterval(-Self.day))
        }
        #expect(past?.field == "dueAt")

        let campaign = try await Self.launch(fixture)
        #expect(campaign.frameworkVersion == "2.0" && campaign.requirements == ["1.A", "3.F", "5.B"])
        let participants = try await world.installation.store.participants(campaign.id)
        #expect(Set(participants.map(\.organisation)) == [world.operatorA.id, world.operatorB.id])
        // The operators and the auditor of A see it; the bank does not.
        #expect(try await fixture.desk.campaigns(for: world.subject("a-reporter")).map(\.id) == [campaign.id])
        #expect(try await fixture.desk.campaigns(for: world.subject("auditor")).map(\.id) == [campaign.id])
        #expect(try await fixture.desk.campaigns(for: world.subject("bank-admin")).isEmpty)
        #expect(try await fixture.desk.campaigns(for: world.subject("analyst")).map(\.id) == [campaign.id])
        let entries = try await world.installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "assessment.campaign.")
        #expect(entries.map(\.action) == ["assessment.campaign.launch"])
    }

    @Test("Answering: drafts, refusals naming the requirement, submission only when complete, locked afterwards", arguments: TestBackend.available)
    func answering(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let campaign = try await Self.launch(fixture)
        let desk = fixture.desk
        let a = world.operatorA.id
        let now = Self.launchedAt.addingTimeInterval(Self.day)
        func save(_ inputs: [CampaignDesk.AnswerInput], as name: String = "a-reporter", organisation: OrganisationID? = nil) async throws -> CampaignDesk.Assessment {
            try await desk.saveAnswers(inputs, campaign: campaign.id, organisation: organisation ?? a, by: world.subject(name), gate: fixture.gate, now: now)
        }
        let draft = try await save([
            .init(requirement: "1.A", choice: "implemented", comment: "Board charter, section 4", newEvidence: [(name: "charter.txt", bytes: Array("roles".utf8))])
        ])
        #expect(draft.selfDeclared.progress == 1.0 / 3 && draft.answers["1.A"]?.evidence.map(\.name) == ["charter.txt"])

        let badLevel = await Self.refusal { _ = try await save([.init(requirement: "3.F", choice: "maybe")]) }
        #expect(badLevel?.field == "answers.3.F" && badLevel?.message.contains("implemented, in-progress, not-started or n/a") == true)
        let notAsked = await Self.refusal { _ = try await save([.init(requirement: "2.A", choice: "implemented")]) }
        #expect(notAsked?.field == "answers.2.A")
        let bareNA = await Self.refusal { _ = try await save([.init(requirement: "5.B", choice: "n/a")]) }
        #expect(bareNA?.message.contains("why the requirement does not apply") == true)
        let program = await Self.refusal {
            _ = try await save([.init(requirement: "5.B", choice: "implemented", newEvidence: [(name: "tool.txt", bytes: [0x7F, 0x45, 0x4C, 0x46, 1])])])
        }
        #expect(program?.field == "answers.5.B" && program?.message.contains("program") == true)
        let otherOperator = await Self.refusal { _ = try await save([.init(requirement: "1.A", choice: "implemented")], as: "b-admin", organisation: a) }
        #expect(otherOperator?.code == .forbidden)

        let early = await Self.refusal {
            _ = try await desk.submit(campaign: campaign.id, organisation: a, by: world.subject("a-reporter"), gate: fixture.gate, now: now)
        }
        #expect(early?.field == "answers" && early?.message.contains("2 requirements (3.F, 5.B)") == true)

        _ = try await save([.init(requirement: "3.F", choice: "in-progress"), .init(requirement: "5.B", choice: "implemented", keptEvidence: [])])
        let submitted = try await desk.submit(campaign: campaign.id, organisation: a, by: world.subject("a-reporter"), gate: fixture.gate, now: now)
        // 1.A 1, 3.F 0.5, 5.B 1: Govern 1, Protect 0.5, Respond 1, overall their mean.
        #expect(submitted.isSubmitted && submitted.selfDeclared.overall.score.map { abs($0 - 2.5 / 3) < 1e-9 } == true)
        let locked = await Self.refusal { _ = try await save([.init(requirement: "3.F", choice: "implemented")]) }
        #expect(locked?.code == .conflict)
        let stored = try await world.installation.store.scores(of: [campaign.id])
        #expect(Set(stored.map(\.basis)) == [.selfDeclared, .audited] && stored.allSatisfy { $0.organisation == a && $0.answered == 3 })
    }

    @Test("Audit: the auditor agrees or disputes with its own level and reason; audited figures follow", arguments: TestBackend.available)
    func audit(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let campaign = try await Self.launch(fixture)
        let desk = fixture.desk
        let a = world.operatorA.id
        let now = Self.launchedAt.addingTimeInterval(2 * Self.day)
        _ = try await desk.saveAnswers(
            [.init(requirement: "1.A", choice: "implemented"), .init(requirement: "3.F", choice: "implemented"), .init(requirement: "5.B", choice: "implemented")],
            campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        let unsubmitted = await Self.refusal {
            _ = try await desk.attest(.init(requirement: "1.A", verdict: .agree), campaign: campaign.id, organisation: a, by: world.subject("auditor"), gate: fixture.gate, now: now)
        }
        #expect(unsubmitted?.code == .conflict)
        _ = try await desk.submit(campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: now)

        let agreed = try await desk.attest(
            .init(requirement: "1.A", verdict: .agree), campaign: campaign.id, organisation: a, by: world.subject("auditor"), gate: fixture.gate, now: now)
        #expect(agreed.attestedCount == 1 && !agreed.isFullyAudited)
        let noReason = await Self.refusal {
            _ = try await desk.attest(
                .init(requirement: "3.F", verdict: .disagree, choice: "in-progress"), campaign: campaign.id, organisation: a, by: world.subject("auditor"),
                gate: fixture.gate, now: now)
        }
        #expect(noReason?.field == "attestation.3.F" && noReason?.message.contains("why the auditor disagrees") == true)
        let notAnAuditor = await Self.refusal {
            _ = try await desk.attest(
                .init(requirement: "1.A", verdict: .agree), campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: now)
        }
        #expect(notAnAuditor?.code == .forbidden)
        _ = try await desk.attest(
            .init(requirement: "3.F", verdict: .disagree, choice: "in-progress", comment: "MFA covers VPN only; OSS consoles use passwords"),
            campaign: campaign.id, organisation: a, by: world.subject("auditor"), gate: fixture.gate, now: now)
        let full = try await desk.attest(
            .init(requirement: "5.B", verdict: .agree), campaign: campaign.id, organisation: a, by: world.subject("auditor"), gate: fixture.gate, now: now)
        #expect(full.isFullyAudited)
        #expect(full.selfDeclared.overall.score == 1)
        #expect(full.audited.overall.score.map { abs($0 - 2.5 / 3) < 1e-9 } == true)
        #expect(full.audited["3.F"]?.score == 0.5 && full.selfDeclared["3.F"]?.score == 1)
        let stored = try await world.installation.store.scores(of: [campaign.id]).first { $0.basis == .audited }
        #expect(stored?.attested == 3 && stored.map { CampaignDesk.value($0, node: "3.F", in: full.framework) } == 0.5)
    }

    @Test("Deadlines: one reminder before the due date, one show-cause notice after the grace period, whichever node sweeps", arguments: TestBackend.available)
    func deadlines(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let campaign = try await Self.launch(fixture)
        let desk = fixture.desk
        let store = world.installation.store
        let a = world.operatorA.id
        _ = try await desk.saveAnswers(
            [.init(requirement: "1.A", choice: "implemented"), .init(requirement: "3.F", choice: "implemented"), .init(requirement: "5.B", choice: "implemented")],
            campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: Self.launchedAt)
        _ = try await desk.submit(campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: Self.launchedAt)

        #expect(try await desk.sweep(now: Self.dueAt.addingTimeInterval(-6 * Self.day)) == .init(reminders: 0, notices: 0))
        let reminderTime = Self.dueAt.addingTimeInterval(-4 * Self.day)
        // Two nodes sweeping at once: one reminder between them, to B only.
        let other = CampaignDesk(store: store, audit: world.installation.audit, policy: world.installation.policy, attachments: AttachmentStore(store: store))
        async let first = desk.sweep(now: reminderTime)
        async let second = other.sweep(now: reminderTime)
        let both = try await [first, second]
        #expect(both.map(\.reminders).reduce(0, +) == 1)
        #expect(try await store.assessmentAlerts(campaign.id).keys.sorted() == [world.operatorB.id])
        // Past the due date but within grace: nothing more.
        #expect(try await desk.sweep(now: Self.dueAt.addingTimeInterval(2 * Self.day)) == .init(reminders: 0, notices: 0))
        let noticeTime = Self.dueAt.addingTimeInterval(3 * Self.day + 60)
        #expect(try await desk.sweep(now: noticeTime) == .init(reminders: 0, notices: 1))
        #expect(try await desk.sweep(now: noticeTime.addingTimeInterval(3600)) == .init(reminders: 0, notices: 0))
        let notices = try await store.notices(campaign: campaign.id)
        #expect(notices.count == 1 && notices.first?.organisation == world.operatorB.id && notices.first?.caseID == nil)
        #expect(notices.first?.number.hasPrefix("SCN-") == true && notices.first?.text.contains("Telecom CPG baseline 2026") == true)
        // The notice is read as any other, by B and by the regulator, not by A.
        let cases = CaseDesk(
            store: store, audit: world.installation.audit, regimes: try RegimeBook.load(folder: nil), attachments: AttachmentStore(store: store),
            policy: world.installation.policy)
        let id = try #require(notices.first?.id)
        #expect(try await cases.notice(id, for: world.subject("b-admin"), gate: fixture.gate).text.contains(notices[0].number))
        let refused = await Self.refusal { _ = try await cases.notice(id, for: world.subject("a-admin"), gate: fixture.gate) }
        #expect(refused?.code == .forbidden)
    }

    @Test("Roll-ups: no figure for a group below the minimum; regulators see their sector, oversight the nation; trend and previous cycle", arguments: TestBackend.available)
    func rollups(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let desk = fixture.desk
        let store = world.installation.store
        let first = try await Self.launch(fixture)
        func answerAll(_ campaign: AssessmentCampaign, _ organisation: OrganisationID, _ user: String, _ level: String, at time: Date) async throws {
            _ = try await desk.saveAnswers(
                ["1.A", "3.F", "5.B"].map { .init(requirement: $0, choice: level) }, campaign: campaign.id, organisation: organisation, by: world.subject(user),
                gate: fixture.gate, now: time)
            _ = try await desk.submit(campaign: campaign.id, organisation: organisation, by: world.subject(user), gate: fixture.gate, now: time)
        }
        try await answerAll(first, world.operatorA.id, "a-admin", "in-progress", at: Self.launchedAt)
        try await answerAll(first, world.operatorB.id, "b-admin", "implemented", at: Self.dueAt.addingTimeInterval(Self.day))

        let withheld = try await desk.rollup(first.id, for: world.subject("regulator"), gate: fixture.gate)
        #expect(withheld.minimumGroup == 5 && withheld.national == nil)
        let telecom = try #require(withheld.sectors["telecom"])
        #expect(telecom.asked == 2 && telecom.submitted == 2 && telecom.late == 1 && telecom.withheld && telecom.nodes.isEmpty)

        let tooSmall = await Self.refusal { try await desk.setMinimumGroup("1", by: world.subject("admin"), gate: fixture.gate) }
        #expect(tooSmall?.field == "minimumGroup")
        let analyst = await Self.refusal { try await desk.setMinimumGroup("2", by: world.subject("analyst"), gate: fixture.gate) }
        #expect(analyst?.code == .forbidden)
        try await desk.setMinimumGroup("2", by: world.subject("admin"), gate: fixture.gate)

        let shown = try await desk.rollup(first.id, for: world.subject("overseer"), gate: fixture.gate)
        let national = try #require(shown.national)
        #expect(national.selfDeclared == Distribution([0.5, 1], minimum: 2) && national.selfDeclared?.median == 0.75)
        #expect(national.audited == nil && national.fullyAudited == 0)
        #expect(shown.sectors["telecom"]?.nodes["1"]?.median == 0.75 && shown.heatmapRows.map(\.id) == ["1.A", "3.F", "5.B"])
        // The sector's gaps as its median organisation has them: every goal at 0.75 against full marks.
        let sectorGaps = try #require(try await desk.groupGaps(first.id, sector: "telecom", for: world.subject("regulator"), gate: fixture.gate))
        #expect(Set(sectorGaps.map(\.gap.requirement)) == ["1.A", "3.F", "5.B"] && sectorGaps.allSatisfy { abs($0.gap.achieved - 0.75) < 1e-9 })
        #expect(try await desk.groupGaps(first.id, sector: nil, for: world.subject("regulator"), gate: fixture.gate) == nil)
        // An operator sees its sector's distribution, not the nation's; the bank no figures of it at all.
        let operatorView = try await desk.rollup(first.id, for: world.subject("a-reporter"), gate: fixture.gate)
        #expect(operatorView.national == nil && operatorView.sectors.keys.sorted() == ["telecom"])
        let bank = await Self.refusal { _ = try await desk.rollup(first.id, for: world.subject("bank-admin"), gate: fixture.gate) }
        #expect(bank?.code == .notFound)

        // The next cycle: A improves; its previous cycle is found, and the trend has both.
        let secondDue = Self.dueAt.addingTimeInterval(365 * Self.day)
        let second = try await Self.launch(fixture, cycle: "2027", due: secondDue, now: Self.dueAt.addingTimeInterval(300 * Self.day))
        try await answerAll(second, world.operatorA.id, "a-admin", "implemented", at: secondDue.addingTimeInterval(-Self.day))
        try await answerAll(second, world.operatorB.id, "b-admin", "implemented", at: secondDue.addingTimeInterval(-Self.day))
        let mine = try await desk.assessment(second.id, organisation: world.operatorA.id, for: world.subject("a-admin"), gate: fixture.gate)
        let previous = try #require(try await desk.previousCycle(of: mine))
        #expect(previous.campaign.id == first.id && previous.scores.values.first == 0.5 && mine.selfDeclared.overall.score == 1)
        let trend = try await desk.trend(of: second.id, for: world.subject("overseer"), gate: fixture.gate)
        #expect(trend.map(\.cycle) == ["2026", "2027"] && trend.map { $0.national?.median } == [0.75, 1])
        _ = store
    }

    @Test("Gaps: below target, ranked by share of the whole, raised where the sector's incidents point", arguments: TestBackend.available)
    func gaps(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let desk = fixture.desk
        let campaign = try await Self.launch(fixture)
        let mine = try await desk.saveAnswers(
            [.init(requirement: "1.A", choice: "not-started"), .init(requirement: "3.F", choice: "not-started"), .init(requirement: "5.B", choice: "implemented")],
            campaign: campaign.id, organisation: world.operatorA.id, by: world.subject("a-admin"), gate: fixture.gate, now: Self.launchedAt)
        // Without incidents, two equal gaps keep the framework's order.
        let plain = try await desk.weightedGaps(mine.selfDeclared, framework: mine.framework, sector: "telecom")
        #expect(plain.map(\.gap.requirement) == ["1.A", "3.F"] && plain.allSatisfy { $0.incidentShare == 0 })
        #expect(plain.last?.categories == ["PR.AA"])
        // An intrusion reported in telecom points at identity and access (PR.AA among five categories).
        _ = try await world.installation.store.createCase(
            IncidentCase(
                organisation: world.operatorB.id, sector: "telecom", title: "Core router compromise", awareness: Self.launchedAt, regimes: [],
                classification: "intrusions/system-compromise", status: .new, reportedBy: world.users["b-admin"]!.id, submittedAt: Self.launchedAt),
            entries: [])
        let raised = try await desk.weightedGaps(mine.selfDeclared, framework: mine.framework, sector: "telecom")
        #expect(raised.map(\.gap.requirement) == ["3.F", "1.A"])
        #expect(raised.first.map { abs($0.incidentShare - 0.2) < 1e-9 && abs($0.priority - $0.gap.weighted * 1.8) < 1e-9 } == true)
        // Alerts of rules whose ATT&CK tactic is exfiltration (RSIT data leak: PR.DS, PR.AA) raise those
        // categories, half as much as incidents; dismissed alerts and older ones count for nothing.
        let store = world.installation.store
        try await store.saveRules([
            DetectionRule(id: "exfil", title: "Archive sent out", level: "high", file: "exfil.yml", yaml: "title: Archive sent out\ntags: [attack.exfiltration]\n", uploadedBy: nil)
        ])
        let at = Date()
        func alert(_ status: SecurityAlert.Status, _ time: Date) -> SecurityAlert {
            SecurityAlert(
                organisation: world.operatorB.id, sensor: nil, kind: .rule, rule: "exfil", title: "Archive sent out", severity: .high, groupKey: UUID().uuidString,
                firstAt: time, lastAt: time, count: 1, fields: [], status: status)
        }
        try await store.commitIntake(IntakeCommit(newAlerts: [alert(.new, at), alert(.dismissed, at), alert(.new, at.addingTimeInterval(-120 * Self.day))]))
        let alerted = try await desk.weightedGaps(mine.selfDeclared, framework: mine.framework, sector: "telecom", now: at)
        #expect(alerted.map(\.gap.requirement) == ["3.F", "1.A"] && alerted.map(\.alertShare) == [0.5, 0])
        #expect(alerted.first.map { abs($0.priority - $0.gap.weighted * (1 + 4 * 0.2 + 2 * 0.5)) < 1e-9 } == true)
        let csf = try #require(try FrameworkLibrary.shipped().framework("nist-csf-2.0"))
        let dataSecurity = csf.score([Answer(requirement: "PR.DS-01", choice: .level("1")), Answer(requirement: "GV.OC-01", choice: .level("1"))])
        let ranked = try await desk.weightedGaps(dataSecurity, framework: csf, sector: "telecom", now: at)
        #expect(ranked.first?.gap.requirement == "PR.DS-01" && ranked.first.map { abs($0.alertShare - 0.5) < 1e-9 } == true)
        // Another sector's incidents change nothing for telecom.
        let bank = try await desk.weightedGaps(mine.selfDeclared, framework: mine.framework, sector: "banking-finance")
        #expect(bank.map(\.gap.requirement) == ["1.A", "3.F"])
        let parsed = try CampaignDesk.IncidentMapping.parse("fraud: [PR.AT]\nintrusions: [PR.AA, DE.CM]")
        #expect(parsed.shares(of: ["fraud/phishing", "intrusions/burglary", "test/test"]) == ["PR.AT": 0.5, "PR.AA": 0.25, "DE.CM": 0.25])
        #expect(throws: QilaError.self) { try CampaignDesk.IncidentMapping.parse("fraud: PR.AT") }
    }

    @Test("OSCAL: assessment results with a finding per requirement and the auditor's word; a plan of action ranked by priority", arguments: TestBackend.available)
    func oscal(backend: TestBackend) async throws {
        let fixture = try await Self.fixture(backend)
        let world = fixture.world
        let desk = fixture.desk
        let campaign = try await Self.launch(fixture)
        let a = world.operatorA.id
        _ = try await desk.saveAnswers(
            [
                .init(requirement: "1.A", choice: "implemented", newEvidence: [(name: "charter.txt", bytes: Array("roles".utf8))]),
                .init(requirement: "3.F", choice: "implemented"), .init(requirement: "5.B", choice: "in-progress"),
            ], campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: Self.launchedAt)
        _ = try await desk.submit(campaign: campaign.id, organisation: a, by: world.subject("a-admin"), gate: fixture.gate, now: Self.launchedAt)
        let assessment = try await desk.attest(
            .init(requirement: "3.F", verdict: .disagree, choice: "in-progress", comment: "VPN only"), campaign: campaign.id, organisation: a,
            by: world.subject("auditor"), gate: fixture.gate, now: Self.launchedAt)
        let results = OSCALResults.assessmentResults(assessment, at: Self.launchedAt).assessmentResults
        let findings = try #require(results.results.first?.findings)
        #expect(findings.map(\.target.targetId) == ["r-1.A_smt", "r-3.F_smt", "r-5.B_smt"])
        #expect(findings.map(\.target.status.state) == ["satisfied", "not-satisfied", "not-satisfied"])
        #expect(findings[1].relatedObservations?.count == 2 && findings[0].relatedObservations?.count == 1)
        #expect(results.results.first?.observations?.first?.relevantEvidence?.first?.description.hasPrefix("charter.txt") == true)
        let gaps = try await desk.weightedGaps(assessment.audited, framework: assessment.framework, sector: "telecom")
        let plan = OSCALResults.plan(assessment, gaps: gaps, owner: "CISO", due: Self.dueAt, at: Self.launchedAt).plan
        #expect(plan.poamItems.map(\.title) == ["3.F Implement Multifactor Authentication (MFA)", "5.B Establish Incident Reporting Procedures"])
        #expect(plan.risks?.first?.statement.hasPrefix("Assessed at In progress against a target of Implemented") == true)
        // The same assessment gives the same document (name-based uuids, sorted keys).
        #expect(try OSCALResults.json(OSCALResults.assessmentResults(assessment, at: Self.launchedAt)) == OSCALResults.json(OSCALResults.assessmentResults(assessment, at: Self.launchedAt)))
        if let folder = ProcessInfo.processInfo.environment["QILA_OSCAL_EXPORT_DIR"] {
            try OSCALResults.json(OSCALResults.assessmentResults(assessment, at: Self.launchedAt)).write(to: URL(fileURLWithPath: folder + "/ar.json"))
            try OSCALResults.json(OSCALResults.plan(assessment, gaps: gaps, owner: "CISO", due: Self.dueAt, at: Self.launchedAt)).write(to: URL(fileURLWithPath: folder + "/poam.json"))
        }
    }

    @Test("Quartiles interpolate between closest ranks; a group below the minimum gets none")
    func quartiles() {
        let spread = Distribution([0.1, 0.2, 0.3, 0.4, 0.5], minimum: 5)
        #expect(spread?.lowerQuartile == 0.2 && spread?.median == 0.3 && spread?.upperQuartile == 0.4)
        let even = Distribution([1, 0, 0.5, 0.25], minimum: 2)
        #expect(even.map { abs($0.median - 0.375) < 1e-12 && abs($0.lowerQuartile - 0.1875) < 1e-12 } == true)
        #expect(Distribution([0.1, 0.2, 0.3, 0.4], minimum: 5) == nil)
    }
}

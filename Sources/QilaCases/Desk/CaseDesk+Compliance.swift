public import Foundation
public import QilaAccess
public import QilaCore
import QilaStore

/// Deadlines and compliance: reminders before and escalations after each stage's deadline, the
/// compliance record of each organisation, show-cause notices, and the figures behind the charts.
extension CaseDesk {
    // MARK: reminders and escalations

    public struct SweepResult: Sendable, Hashable {
        public var reminders = 0
        public var escalations = 0
    }

    /// Looks at every open case's clocks once: a stage that is due soon gets one reminder, a stage
    /// past its deadline without a submission one escalation. Each is claimed in the database
    /// first, so several nodes sweeping at once send each only once.
    public func sweep(now: Date = Date()) async throws -> SweepResult {
        var result = SweepResult()
        let stages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        for incident in try await store.incidents(includeDrafts: false) where incident.mergedInto == nil && incident.status != .closed {
            for (regime, clocks) in clocks(of: incident, stages: stages[incident.id] ?? [], now: now) {
                for clock in clocks {
                    guard let due = clock.due, let stage = regime.stages.first(where: { $0.id == clock.stage }) else { continue }
                    let kind: String
                    switch clock.state {
                    case .dueSoon: kind = "reminder"
                    case .overdue: kind = "escalation"
                    default: continue
                    }
                    guard try await store.claimAlert(incident.id, regime: regime.id, stage: stage.id, kind: kind, at: now) else { continue }
                    let text: String
                    if kind == "reminder" {
                        text = "Reminder: \(stage.title) (\(regime.title)) is due \(RFC3339.format(due)), in \(Self.span(due.timeIntervalSince(now)))"
                        result.reminders += 1
                    } else {
                        text = "Escalation: \(stage.title) (\(regime.title)) was due \(RFC3339.format(due)) and has not been submitted"
                        result.escalations += 1
                    }
                    try await store.addEntries([
                        CaseEntry(caseID: incident.id, time: now, actor: nil, actorOrganisation: nil, kind: kind == "reminder" ? .reminder : .escalation, text: text, shared: true)
                    ])
                    await notifier.notify(
                        event(kind == "reminder" ? .reminder : .overdue, incident, "\(incident.number): \(text)", stage: "\(regime.id)/\(stage.id)", due: due, now: now))
                }
            }
        }
        return result
    }

    static func span(_ seconds: TimeInterval) -> String {
        let minutes = Int(max(0, seconds) / 60)
        if minutes < 120 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h" }
        return "\(hours / 24) days"
    }

    // MARK: compliance record

    public struct Compliance: Sendable, Hashable {
        public var organisation: OrganisationID
        public var onTime = 0
        public var late = 0
        /// Past the deadline and not submitted.
        public var missing = 0
        /// Not yet due.
        public var open = 0
        public var notices = 0

        public var due: Int { onTime + late + missing }
        /// Share of due stages submitted on time, 0–100; nil when nothing was due yet.
        public var percentOnTime: Int? { due == 0 ? nil : Int((Double(onTime) * 100 / Double(due)).rounded()) }
    }

    /// Stage deadlines kept, missed and open, per organisation, over the cases the subject may
    /// read (all cases for holders of national statistics).
    public func compliance(for subject: Subject, now: Date = Date()) async throws -> [Compliance] {
        let national = policy.decide(subject, .read, Resource(kind: .incidentStatistics)).allowed
        let stages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        var records: [OrganisationID: Compliance] = [:]
        for incident in try await store.incidents(includeDrafts: false) where incident.mergedInto == nil {
            guard national || policy.decide(subject, .read, Self.resource(incident)).allowed else { continue }
            var record = records[incident.organisation] ?? Compliance(organisation: incident.organisation)
            for (_, clocks) in clocks(of: incident, stages: stages[incident.id] ?? [], now: now) {
                for clock in clocks {
                    switch clock.state {
                    case .submittedOnTime: record.onTime += 1
                    case .submittedLate: record.late += 1
                    case .overdue: record.missing += 1
                    case .open, .dueSoon: record.open += 1
                    case .notRequested: break
                    }
                }
            }
            records[incident.organisation] = record
        }
        for notice in try await store.notices() where records[notice.organisation] != nil {
            records[notice.organisation]?.notices += 1
        }
        return records.values.sorted { ($0.missing + $0.late, $0.organisation) > ($1.missing + $1.late, $1.organisation) }
    }

    // MARK: show-cause notices

    /// Issues a show-cause notice for the case's late or missing stages, as a document the
    /// authority sends: who, which deadlines, what happened, and the days given to reply.
    public func issueNotice(_ id: CaseID, replyDays: Int, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> ComplianceNotice {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .create, Resource(kind: .complianceNotice, owner: incident.organisation, sector: incident.sector, reference: "\(incident.reference)/notice"))
        guard (1...90).contains(replyDays) else { throw QilaError.invalid("the days to reply are from 1 to 90", field: "replyDays") }
        guard let organisation = try await store.organisation(incident.organisation) else { throw QilaError(.notFound, "the organisation is gone") }
        let authority = try await store.organisations().first { $0.kind == .authority }
        var failings: [(regime: ReportingRegime, stage: ReportingRegime.Stage, clock: StageClock)] = []
        for (regime, clocks) in clocks(of: incident, stages: try await store.stages(of: id), now: now) {
            for clock in clocks where clock.isLateOrMissing {
                if let stage = regime.stages.first(where: { $0.id == clock.stage }) { failings.append((regime, stage, clock)) }
            }
        }
        guard !failings.isEmpty else { throw QilaError(.conflict, "every stage due so far was submitted on time; there is nothing to show cause for") }
        let zone = failings.first?.regime.timeZone ?? TimeZone(identifier: "UTC")!
        func local(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_GB")
            formatter.timeZone = zone
            formatter.dateFormat = "d MMMM yyyy, HH:mm zzz"
            return formatter.string(from: date)
        }
        let replyBy = Calendar(identifier: .gregorian).date(byAdding: .day, value: replyDays, to: now) ?? now
        var lines: [String] = []
        lines.append("\(authority?.name ?? "National Cybersecurity Authority")")
        lines.append("")
        lines.append("SHOW-CAUSE NOTICE {NUMBER}")
        lines.append("Date: \(local(now))")
        lines.append("")
        lines.append("To: \(organisation.name)\(organisation.registrationNumber.map { " (registration \($0))" } ?? "")")
        lines.append("Concerning: incident case \(incident.number), of which the organisation became aware on \(local(incident.awareness))")
        lines.append("")
        lines.append("The reporting obligations below applied to this incident and were not met:")
        lines.append("")
        for (index, failing) in failings.enumerated() {
            let due = failing.clock.due.map(local) ?? "—"
            let what: String
            if let submitted = failing.clock.submittedAt {
                what = "submitted \(local(submitted)), \(Self.span(submitted.timeIntervalSince(failing.clock.due ?? submitted))) after the deadline"
            } else {
                what = "not submitted as of the date of this notice, \(Self.span(now.timeIntervalSince(failing.clock.due ?? now))) after the deadline"
            }
            lines.append("\(index + 1). \(failing.stage.title) under \(failing.regime.title) (\(failing.regime.basis.isEmpty ? "reporting regime \(failing.regime.id)" : failing.regime.basis)): due \(due) (\(failing.stage.due.description)); \(what).")
        }
        lines.append("")
        lines.append("You are required to show cause, in writing and within \(replyDays) day\(replyDays == 1 ? "" : "s") of this notice (by \(local(replyBy))), why action should not be taken against the organisation for the failure described above. Any report still outstanding should be submitted through Qila without further delay; doing so does not by itself answer this notice.")
        lines.append("")
        lines.append("Issued by \(subject.user.displayName), \(subject.organisation.name)")
        var notice = ComplianceNotice(
            organisation: incident.organisation, caseID: id, stages: failings.map { "\($0.regime.id)/\($0.stage.id)" }, issuedAt: now, issuedBy: subject.user.id,
            replyDays: replyDays, text: lines.joined(separator: "\n"))
        notice = try await store.createNotice(
            notice,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .notice,
                                text: "Show-cause notice issued for \(failings.map { $0.stage.title }.joined(separator: ", "))", shared: true)])
        notice.text = notice.text.replacingOccurrences(of: "{NUMBER}", with: notice.number)
        try await record(subject, "case.notice", incident, ["notice": notice.number, "stages": notice.stages.joined(separator: ",")])
        await notifier.notify(event(.notice, incident, "Show-cause notice \(notice.number) for \(incident.number)", now: now))
        return notice
    }

    /// A notice, if the subject may read it; its text with the number filled in.
    public func notice(_ id: ComplianceNoticeID, for subject: Subject, gate: any AccessGate) async throws -> ComplianceNotice {
        guard var notice = try await store.notice(id), let organisation = try await store.organisation(notice.organisation) else {
            throw QilaError(.notFound, "no such notice")
        }
        try await gate.require(subject, .read, Resource(kind: .complianceNotice, owner: organisation.id, sector: organisation.sector, reference: "notice:\(notice.number)"))
        notice.text = notice.text.replacingOccurrences(of: "{NUMBER}", with: notice.number)
        return notice
    }

    // MARK: figures for charts

    public struct Statistics: Sendable {
        /// Cases by month (`2026-11`) and sector, RSIT class and severity.
        public var bySector: [String: [String: Int]] = [:]
        public var byClass: [String: [String: Int]] = [:]
        public var bySeverity: [String: [String: Int]] = [:]
        /// Hours from awareness to each stage's submission, by stage title.
        public var hoursToStage: [String: [Double]] = [:]
        public var byStatus: [IncidentCase.Status: Int] = [:]
        public var total = 0
    }

    /// Figures over the cases the subject may read (all of them with national statistics).
    /// Counts only: no titles or content, so the oversight committee sees the same charts.
    public func statistics(for subject: Subject) async throws -> Statistics {
        let national = policy.decide(subject, .read, Resource(kind: .incidentStatistics)).allowed
        let stages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        var result = Statistics()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for incident in try await store.incidents(includeDrafts: false) where incident.mergedInto == nil {
            guard national || policy.decide(subject, .read, Self.resource(incident)).allowed else { continue }
            let parts = calendar.dateComponents([.year, .month], from: incident.awareness)
            let month = String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
            result.total += 1
            result.byStatus[incident.status, default: 0] += 1
            result.bySector[month, default: [:]][incident.sector.rawValue, default: 0] += 1
            let incidentClass = incident.classification.flatMap { RSITClassification(parsing: $0)?.incidentClass } ?? "unclassified"
            result.byClass[month, default: [:]][incidentClass, default: 0] += 1
            result.bySeverity[month, default: [:]][incident.severity?.rawValue ?? "unrated", default: 0] += 1
            for stage in stages[incident.id] ?? [] {
                guard let submitted = stage.submittedAt, let definition = regimes.regime(stage.regime)?.stages.first(where: { $0.id == stage.stage }) else { continue }
                result.hoursToStage[definition.title, default: []].append(submitted.timeIntervalSince(incident.awareness) / 3600)
            }
        }
        return result
    }
}

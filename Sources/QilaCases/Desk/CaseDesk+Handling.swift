public import Foundation
public import QilaAccess
public import QilaCore
import QilaStore

/// The authority's side of a case: triage and workflow, comments, tasks, requests for
/// information, links and merges, attachments; and what a person sees of a case.
extension CaseDesk {
    // MARK: triage

    public struct Triage: Sendable {
        public var status: String?
        public var severity: String?
        /// A user id, or empty to unassign.
        public var assignee: String?
        public var note: String?
        public init(status: String? = nil, severity: String? = nil, assignee: String? = nil, note: String? = nil) {
            self.status = status
            self.severity = severity
            self.assignee = assignee
            self.note = note
        }
    }

    /// Sets status, severity and assignee. The workflow runs forward (new, triaged, in progress,
    /// contained, resolved, closed); going back reopens the case and needs a note saying why.
    public func triage(_ id: CaseID, _ triage: Triage, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> IncidentCase {
        var incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        guard incident.status != .draft else { throw QilaError(.conflict, "the case is still a draft of the reporter") }
        guard incident.mergedInto == nil else { throw QilaError(.conflict, "the case was merged into another; work on that one") }
        let note = triage.note?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard note.count <= 4000 else { throw QilaError.invalid("is longer than 4000 characters", field: "note") }
        var entries: [CaseEntry] = []
        var events: [CaseEvent] = []
        func entry(_ kind: CaseEntry.Kind, _ text: String, shared: Bool) {
            entries.append(CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: kind, text: text, shared: shared))
        }
        if let text = triage.status?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let status = IncidentCase.Status(rawValue: text), status != .draft else {
                throw QilaError.invalid(
                    "'\(text.prefix(30))' is not a status; one of \(IncidentCase.Status.allCases.dropFirst().map(\.rawValue).joined(separator: ", "))", field: "status")
            }
            if status != incident.status {
                if status.rank < incident.status.rank && note.isEmpty {
                    throw QilaError.invalid("moving a case back from \(incident.status.title.lowercased()) to \(status.title.lowercased()) needs a note saying why", field: "note")
                }
                entry(.status, "Status \(incident.status.title.lowercased()) → \(status.title.lowercased())\(note.isEmpty ? "" : ": \(note)")", shared: true)
                incident.status = status
                events.append(event(.status, incident, "\(incident.number) is \(status.title.lowercased())", now: now))
            }
        }
        if let text = triage.severity?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let severity = IncidentCase.Severity(rawValue: text) else {
                throw QilaError.invalid("'\(text.prefix(30))' is not low, medium, high or critical", field: "severity")
            }
            if severity != incident.severity {
                entry(.severity, "Severity \(incident.severity?.rawValue ?? "unset") → \(severity.rawValue)", shared: true)
                incident.severity = severity
            }
        }
        if let text = triage.assignee?.trimmingCharacters(in: .whitespaces) {
            if text.isEmpty {
                if incident.assignee != nil { entry(.assigned, "Unassigned", shared: false); incident.assignee = nil }
            } else {
                guard let userID = UserID(text), let user = try await store.user(userID), !user.disabled,
                    let organisation = try await store.organisation(user.organisation)
                else { throw QilaError.invalid("choose a person of the authority or of the case's regulator", field: "assignee") }
                guard mayHandle(user, in: organisation, incident) else {
                    throw QilaError.invalid("\(user.displayName) may not handle this case", field: "assignee")
                }
                if userID != incident.assignee { entry(.assigned, "Assigned to \(user.displayName)", shared: false); incident.assignee = userID }
            }
        }
        if entries.isEmpty && !note.isEmpty { entry(.note, note, shared: false) }
        guard !entries.isEmpty else { return incident }
        incident.updatedAt = now
        try await store.updateCase(incident, entries: entries)
        try await record(subject, "case.triage", incident, ["status": incident.status.rawValue, "severity": incident.severity?.rawValue ?? ""])
        for event in events { await notifier.notify(event) }
        return incident
    }

    // MARK: comments

    /// A comment: internal (the authority and regulators only) or shared with the reporter.
    /// The reporting side's comments are always shared.
    public func comment(_ id: CaseID, text: String, shared: Bool, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw QilaError.invalid("write something", field: "text") }
        guard body.count <= 20_000 else { throw QilaError.invalid("is longer than 20000 characters", field: "text") }
        let reporter = Self.isReporter(subject, of: incident)
        let isShared = reporter || shared
        if isShared {
            try await gate.require(subject, .update, reporter ? Self.resource(incident) : Self.internalResource(incident))
        } else {
            try await gate.require(subject, .create, Self.internalResource(incident))
        }
        try await store.addEntries([
            CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .comment, text: body, shared: isShared)
        ])
        try await record(subject, "case.comment", incident, ["shared": String(isShared)])
        if isShared && !reporter { await notifier.notify(event(.sharedComment, incident, "\(incident.number): the authority commented", now: now)) }
    }

    // MARK: tasks

    public func addTask(_ id: CaseID, title: String, assignee: String, due: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        let text = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 300 else { throw QilaError.invalid("a task needs a title of at most 300 characters", field: "title") }
        var assigneeID: UserID?
        if !assignee.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let id = UserID(assignee.trimmingCharacters(in: .whitespaces)), try await store.user(id) != nil else {
                throw QilaError.invalid("no such person", field: "assignee")
            }
            assigneeID = id
        }
        var dueDate: Date?
        if !due.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let date = RFC3339.parse(due.trimmingCharacters(in: .whitespaces)) else {
                throw QilaError.invalid("'\(due.prefix(40))' is not a date such as 2026-11-30", field: "due")
            }
            dueDate = date
        }
        let task = CaseTask(caseID: id, title: text, assignee: assigneeID, due: dueDate, createdAt: now, createdBy: subject.user.id)
        try await store.addTask(
            task, entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .task, text: "Task: \(text)", shared: false)])
        try await record(subject, "case.task.add", incident, [:])
    }

    public func completeTask(_ id: CaseID, task taskID: CaseTaskID, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        guard let task = try await store.tasks(of: id).first(where: { $0.id == taskID }) else { throw QilaError(.notFound, "no such task") }
        guard try await store.completeTask(
            taskID, of: id, by: subject.user.id, at: now,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .task, text: "Task done: \(task.title)", shared: false)])
        else { throw QilaError(.conflict, "the task was already done") }
        try await record(subject, "case.task.done", incident, [:])
    }

    // MARK: requests to the reporter

    /// Asks the reporter for information, with an optional number of days to answer.
    public func requestInformation(_ id: CaseID, question: String, dueDays: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        let text = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 4000 else { throw QilaError.invalid("ask a question of at most 4000 characters", field: "question") }
        var due: Date?
        if !dueDays.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let days = Int(dueDays.trimmingCharacters(in: .whitespaces)), (1...90).contains(days) else {
                throw QilaError.invalid("a number of days from 1 to 90", field: "dueDays")
            }
            due = now.addingTimeInterval(Double(days) * 86400)
        }
        let request = CaseRequest(caseID: id, question: text, askedBy: subject.user.id, askedAt: now, due: due)
        try await store.addRequest(
            request,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .request, text: "Request for information: \(text)", shared: true)])
        try await record(subject, "case.request", incident, [:])
        await notifier.notify(event(.informationRequested, incident, "\(incident.number): the authority asks for information", due: due, now: now))
    }

    public func answer(_ id: CaseID, request requestID: CaseRequestID, text: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        guard Self.isReporter(subject, of: incident) else { throw QilaError(.forbidden, "the organisation or its auditor answers requests") }
        try await gate.require(subject, .update, Self.resource(incident))
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty, body.count <= 20_000 else { throw QilaError.invalid("write an answer of at most 20000 characters", field: "answer") }
        guard try await store.answerRequest(
            requestID, of: id, answer: body, by: subject.user.id, at: now,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .answer, text: "Answer: \(body)", shared: true)])
        else { throw QilaError(.conflict, "the request was already answered, or is not of this case") }
        try await record(subject, "case.answer", incident, [:])
    }

    /// Asks for a stage due on request (NIS2's intermediate report); its clock starts now.
    public func requestStage(_ id: CaseID, regime regimeID: String, stage stageID: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        let stage = try stageDefinition(incident, regimeID, stageID)
        guard stage.onRequest else { throw QilaError.invalid("\(stage.title) is always due; it needs no request", field: "stage") }
        if let existing = try await store.stages(of: id).first(where: { $0.regime == regimeID && $0.stage == stageID }), existing.requestedAt != nil {
            throw QilaError(.conflict, "\(stage.title) was already requested")
        }
        try await store.requestStage(
            id, regime: regimeID, stage: stageID, by: subject.user.id, at: now,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .request,
                                text: "\(stage.title) requested, due \(stage.due.description.replacingOccurrences(of: "after request", with: "from now"))", shared: true)])
        try await record(subject, "case.stage.request", incident, ["regime": regimeID, "stage": stageID])
        let due = regimes.regime(regimeID).map { stage.due.date(after: now, in: $0.timeZone) }
        await notifier.notify(event(.stageRequested, incident, "\(incident.number): \(stage.title) requested", stage: "\(regimeID)/\(stageID)", due: due, now: now))
    }

    // MARK: links and merges

    public func link(_ id: CaseID, to otherNumber: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        let other = try await otherCase(otherNumber, subject: subject, gate: gate, field: "other")
        guard other.id != id else { throw QilaError.invalid("a case cannot be linked to itself", field: "other") }
        try await store.linkCases(
            id, other.id, kind: "related", by: subject.user.id, at: now,
            entries: [
                CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .link, text: "Linked to \(other.number)", shared: false),
                CaseEntry(caseID: other.id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .link, text: "Linked to \(incident.number)", shared: false),
            ])
        try await record(subject, "case.link", incident, ["other": other.reference])
    }

    /// Merges case `id` into another: it is closed and points there; its observables move there.
    /// Its own report stays with it (a report is never lost), and the timelines say what happened.
    public func merge(_ id: CaseID, into otherNumber: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> IncidentCase {
        var incident = try await incident(id, for: subject, gate: gate)
        try await gate.require(subject, .update, Self.internalResource(incident))
        let target = try await otherCase(otherNumber, subject: subject, gate: gate, field: "other")
        guard target.id != id else { throw QilaError.invalid("a case cannot be merged into itself", field: "other") }
        guard target.mergedInto == nil else { throw QilaError.invalid("\(target.number) was itself merged; merge into the case it went to", field: "other") }
        guard incident.mergedInto == nil else { throw QilaError(.conflict, "the case was already merged") }
        incident.mergedInto = target.id
        incident.status = .closed
        incident.updatedAt = now
        try await store.updateCase(
            incident,
            entries: [
                CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .merge, text: "Merged into \(target.number)", shared: true),
                CaseEntry(caseID: target.id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .merge, text: "\(incident.number) merged into this case", shared: false),
            ],
            also: [SQLStore.copyObservables(from: id, to: target.id)])
        try await store.linkCases(id, target.id, kind: "merged", by: subject.user.id, at: now, entries: [])
        try await record(subject, "case.merge", incident, ["into": target.reference])
        return incident
    }

    func otherCase(_ number: String, subject: Subject, gate: any AccessGate, field: String) async throws -> IncidentCase {
        let text = number.trimmingCharacters(in: .whitespaces)
        let found: IncidentCase?
        if let id = CaseID(text) { found = try await store.incident(id) } else { found = try await store.incident(number: text.uppercased()) }
        guard let found, found.status != .draft, policy.decide(subject, .read, Self.resource(found)).allowed else {
            throw QilaError.invalid("no case '\(text.prefix(40))' that you can read", field: field)
        }
        try await gate.require(subject, .update, Self.internalResource(found))
        return found
    }

    // MARK: attachments

    public func attach(_ id: CaseID, name: String, bytes: [UInt8], by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> CaseAttachment {
        let incident = try await incident(id, for: subject, gate: gate)
        let reporter = Self.isReporter(subject, of: incident)
        try await gate.require(subject, .update, reporter ? Self.resource(incident) : Self.internalResource(incident))
        let checked = try attachments.check(name: name, bytes: bytes)
        let digest = try await attachments.store(bytes)
        let attachment = CaseAttachment(caseID: id, sha256: digest, name: checked.name, mediaType: checked.mediaType, size: bytes.count, uploadedAt: now, uploadedBy: subject.user.id)
        try await store.addAttachment(
            attachment,
            entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .attachment,
                                text: "Attached \(checked.name) (\(bytes.count) bytes, SHA-256 \(digest.prefix(16))…)", shared: true)])
        try await record(subject, "case.attach", incident, ["sha256": digest, "size": String(bytes.count)])
        return attachment
    }

    public func attachment(_ id: CaseID, _ attachmentID: CaseAttachmentID, for subject: Subject, gate: any AccessGate) async throws -> (CaseAttachment, [UInt8]) {
        let incident = try await incident(id, for: subject, gate: gate)
        guard let attachment = try await store.attachments(of: id).first(where: { $0.id == attachmentID }) else { throw QilaError(.notFound, "no such attachment") }
        let bytes = try await attachments.read(attachment.sha256)
        try await record(subject, "case.attachment.read", incident, ["sha256": attachment.sha256])
        return (attachment, bytes)
    }

    // MARK: what a person sees

    public struct View: Sendable {
        public var incident: IncidentCase
        public var stages: [CaseStage]
        public var clocks: [(regime: ReportingRegime, clocks: [StageClock])]
        public var timeline: [CaseEntry]
        public var tasks: [CaseTask]
        public var requests: [CaseRequest]
        public var observables: [Observable]
        public var attachments: [CaseAttachment]
        /// Cases the subject may read that share an observable with this one, and what they share.
        public var correlated: [(incident: IncidentCase, shared: [Observable])]
        public var links: [(incident: IncidentCase, kind: String)]
        public var notices: [ComplianceNotice]
        public var seesInternal: Bool
        public var isReporter: Bool
    }

    public func view(_ id: CaseID, for subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> View {
        let incident = try await incident(id, for: subject, gate: gate)
        let internalSide = policy.decide(subject, .read, Self.internalResource(incident)).allowed
        let stages = try await store.stages(of: id)
        var correlated: [(IncidentCase, [Observable])] = []
        var links: [(IncidentCase, String)] = []
        if internalSide {
            // Only the authority's side sees other organisations' cases: a reporter never learns
            // that someone else reported the same address.
            for (otherID, shared) in try await store.casesSharingObservables(with: id) {
                guard let other = try await store.incident(otherID), other.status != .draft,
                    policy.decide(subject, .read, Self.resource(other)).allowed
                else { continue }
                correlated.append((other, shared.sorted()))
            }
            for (otherID, kind) in try await store.links(of: id) {
                guard let other = try await store.incident(otherID), policy.decide(subject, .read, Self.resource(other)).allowed else { continue }
                links.append((other, kind))
            }
        }
        let notices = policy.decide(subject, .read, Resource(kind: .complianceNotice, owner: incident.organisation, sector: incident.sector)).allowed
            ? try await store.notices(caseID: id) : []
        return View(
            incident: incident, stages: stages, clocks: clocks(of: incident, stages: stages, now: now),
            timeline: try await store.entries(of: id, includeInternal: internalSide), tasks: internalSide ? try await store.tasks(of: id) : [],
            requests: try await store.requests(of: id), observables: try await store.observables(of: id), attachments: try await store.attachments(of: id),
            correlated: correlated.sorted { $0.0.createdAt > $1.0.createdAt }, links: links, notices: notices, seesInternal: internalSide,
            isReporter: Self.isReporter(subject, of: incident))
    }

    /// Observables reported by more than one organisation, with the cases the subject may read:
    /// a campaign across a sector seen as one.
    public func campaigns(for subject: Subject) async throws -> [(observable: Observable, cases: [IncidentCase])] {
        var result: [(Observable, [IncidentCase])] = []
        for (observable, ids) in try await store.observablesAcrossOrganisations() {
            var cases: [IncidentCase] = []
            for id in ids {
                guard let incident = try await store.incident(id), policy.decide(subject, .read, Self.internalResource(incident)).allowed else { continue }
                cases.append(incident)
            }
            if Set(cases.map(\.organisation)).count > 1 { result.append((observable, cases)) }
        }
        return result.sorted { $0.1.count > $1.1.count }
    }
}

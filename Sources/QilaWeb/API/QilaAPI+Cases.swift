import Foundation
import OpenAPIRuntime
import QilaAccess
import QilaCases
import QilaCore

/// The case operations of the REST API: the same desk as the pages, so the same checks, the same
/// timeline entries and the same refusals, each naming its field.
extension QilaAPI {
    var desk: CaseDesk { cases.desk }

    func caseGate() -> EnforcementGate { EnforcementGate(enforcement: enforcement, source: RequestScope.current.source) }

    func caseID(_ text: String) throws -> CaseID {
        guard let id = CaseID(text) else { throw Problem(.notFound, "no such case") }
        return id
    }

    func listCases(_ input: Operations.ListCases.Input) async throws -> Operations.ListCases.Output {
        let (subject, _, _) = try caller()
        var list = try await desk.incidents(for: subject)
        if let status = input.query.status, !status.isEmpty {
            list = status == "open" ? list.filter(\.isOpen) : list.filter { $0.status.rawValue == status }
        }
        return .ok(.init(body: .json(list.map(Components.Schemas.Case.init))))
    }

    func openCase(_ input: Operations.OpenCase.Input) async throws -> Operations.OpenCase.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let opening = CaseDesk.Opening(
            organisation: body.organisation ?? "", title: body.title, awareness: body.awareness, regime: body.regime ?? "", tlp: body.tlp ?? "amber",
            pap: body.pap ?? "amber", classification: body.classification ?? "", offences: body.offences ?? [], personalData: body.personalData ?? false,
            significance: body.significance?.additionalProperties ?? [:], observables: (body.observables ?? []).joined(separator: "\n"))
        let incident = try await desk.open(opening, by: subject, gate: caseGate())
        return .created(.init(body: .json(.init(incident))))
    }

    func getCase(_ input: Operations.GetCase.Input) async throws -> Operations.GetCase.Output {
        let (subject, _, _) = try caller()
        let view = try await desk.view(try caseID(input.path.caseId), for: subject, gate: caseGate())
        let rows = Dictionary(view.stages.map { ("\($0.regime)/\($0.stage)", $0) }) { a, _ in a }
        var stages: [Components.Schemas.StageState] = []
        for (regime, clocks) in view.clocks {
            for clock in clocks {
                let row = rows["\(regime.id)/\(clock.stage)"]
                // Drafts are the reporter's: the authority sees submitted values only.
                let values = row?.isSubmitted == true || view.isReporter ? row?.values : nil
                stages.append(
                    .init(
                        regime: regime.id, stage: clock.stage, title: regime.stages.first { $0.id == clock.stage }?.title ?? clock.stage, due: clock.due,
                        state: .init(rawValue: clock.state.rawValue) ?? .open, submittedAt: clock.submittedAt,
                        values: values.map { .init(additionalProperties: $0) }))
            }
        }
        let detail = Components.Schemas.CaseDetail(
            _case: .init(view.incident), stages: stages,
            timeline: view.timeline.map { .init(time: $0.time, actor: $0.actor?.description, kind: $0.kind.rawValue, text: $0.text, shared: $0.shared) },
            observables: view.observables.map { .init(kind: $0.kind.rawValue, value: $0.value) },
            requests: view.requests.map { .init(id: $0.id.description, question: $0.question, askedAt: $0.askedAt, due: $0.due, answer: $0.answer, answeredAt: $0.answeredAt) },
            attachments: view.attachments.map(Components.Schemas.Attachment.init),
            correlated: view.correlated.map { .init(id: $0.incident.id.description, number: $0.incident.number, shared: $0.shared.map(\.value)) })
        return .ok(.init(body: .json(detail)))
    }

    func saveStageDraft(_ input: Operations.SaveStageDraft.Input) async throws -> Operations.SaveStageDraft.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        try await desk.saveDraft(
            try caseID(input.path.caseId), regime: input.path.regime, stage: input.path.stage, values: body.additionalProperties, by: subject, gate: caseGate())
        return .noContent(.init())
    }

    func submitStage(_ input: Operations.SubmitStage.Input) async throws -> Operations.SubmitStage.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let incident = try await desk.submit(
            try caseID(input.path.caseId), regime: input.path.regime, stage: input.path.stage, values: body.additionalProperties, by: subject, gate: caseGate())
        return .ok(.init(body: .json(.init(incident))))
    }

    func triageCase(_ input: Operations.TriageCase.Input) async throws -> Operations.TriageCase.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let incident = try await desk.triage(
            try caseID(input.path.caseId), .init(status: body.status, severity: body.severity, assignee: body.assignee, note: body.note), by: subject,
            gate: caseGate())
        return .ok(.init(body: .json(.init(incident))))
    }

    func commentCase(_ input: Operations.CommentCase.Input) async throws -> Operations.CommentCase.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        try await desk.comment(try caseID(input.path.caseId), text: body.text, shared: body.shared ?? false, by: subject, gate: caseGate())
        return .noContent(.init())
    }

    func requestInformation(_ input: Operations.RequestInformation.Input) async throws -> Operations.RequestInformation.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        try await desk.requestInformation(
            try caseID(input.path.caseId), question: body.question, dueDays: body.dueDays.map(String.init) ?? "", by: subject, gate: caseGate())
        return .noContent(.init())
    }

    func answerRequest(_ input: Operations.AnswerRequest.Input) async throws -> Operations.AnswerRequest.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        guard let requestID = CaseRequestID(input.path.requestId) else { throw Problem(.notFound, "no such request") }
        try await desk.answer(try caseID(input.path.caseId), request: requestID, text: body.text, by: subject, gate: caseGate())
        return .noContent(.init())
    }

    func uploadAttachment(_ input: Operations.UploadAttachment.Input) async throws -> Operations.UploadAttachment.Output {
        let (subject, _, _) = try caller()
        guard case .binary(let body) = input.body else { throw Problem(.unsupportedMediaType, "send the file as application/octet-stream") }
        let limit = desk.attachments.maximumBytes
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, "the file is larger than the \(limit) bytes accepted", location: "body")
        }
        let attachment = try await desk.attach(try caseID(input.path.caseId), name: input.query.name, bytes: bytes, by: subject, gate: caseGate())
        return .created(.init(body: .json(.init(attachment))))
    }

    func issueNotice(_ input: Operations.IssueNotice.Input) async throws -> Operations.IssueNotice.Output {
        let (subject, _, _) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let notice = try await desk.issueNotice(try caseID(input.path.caseId), replyDays: body.replyDays, by: subject, gate: caseGate())
        return .created(
            .init(
                body: .json(
                    .init(
                        id: notice.id.description, number: notice.number, organisation: notice.organisation.description, _case: notice.caseID?.description, campaign: notice.campaign?.description,
                        stages: notice.stages, issuedAt: notice.issuedAt, replyDays: notice.replyDays, text: notice.text))))
    }

    func listCompliance(_ input: Operations.ListCompliance.Input) async throws -> Operations.ListCompliance.Output {
        let (subject, _, _) = try caller()
        let records = try await desk.compliance(for: subject)
        return .ok(
            .init(
                body: .json(
                    records.map {
                        .init(organisation: $0.organisation.description, onTime: $0.onTime, late: $0.late, missing: $0.missing, open: $0.open, notices: $0.notices)
                    })))
    }
}

extension Components.Schemas.Case {
    init(_ c: IncidentCase) {
        self.init(
            id: c.id.description, number: c.number, organisation: c.organisation.description, sector: c.sector.rawValue, title: c.title, awareness: c.awareness,
            regimes: c.regimes, tlp: .init(rawValue: c.tlp.rawValue)!, pap: c.pap, classification: c.classification, offences: c.offences,
            personalData: c.personalData, severity: c.severity.flatMap { .init(rawValue: $0.rawValue) }, status: .init(rawValue: c.status.rawValue)!,
            assignee: c.assignee?.description, onBehalf: c.onBehalf, createdAt: c.createdAt, updatedAt: c.updatedAt, submittedAt: c.submittedAt,
            mergedInto: c.mergedInto?.description)
    }
}

extension Components.Schemas.Attachment {
    init(_ a: CaseAttachment) {
        self.init(id: a.id.description, name: a.name, mediaType: a.mediaType, size: a.size, sha256: a.sha256, uploadedAt: a.uploadedAt)
    }
}

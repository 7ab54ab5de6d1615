import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaAssess
import QilaCore
import QilaStore

/// One organisation's questionnaire: answering (drafts, evidence, submission), the auditor's
/// attestations, the assignee, gaps, and the exports (OSCAL results and POA&M, CSV).
extension AssessmentPages {
    func questionnairePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let assessment = try await mapped { try await desk.assessment(id, organisation: organisationID, for: subject, gate: gate(context)) }
        let campaign = assessment.campaign
        let framework = assessment.framework
        let scheme = framework.scoring
        let kept = try await refusedForms.kept(request, context: context)
        let refusedAnswers = kept?.form == QuestionnaireView.answersFormName ? kept : nil
        let refusedAttest = kept?.form == QuestionnaireView.attestFormName ? kept : nil
        let resource = Resource(kind: .assessment, owner: assessment.organisation.id, sector: assessment.organisation.sector, reference: "campaign:\(id)")
        let canUpdate = enforcement.permits(subject, .update, resource)
        let canAnswer = canUpdate && !assessment.isSubmitted && campaign.closedAt == nil && Date() >= campaign.opensAt
        let canAttest = enforcement.permits(subject, .create, Resource(kind: .assessmentAudit, owner: assessment.organisation.id, sector: assessment.organisation.sector))
            && assessment.isSubmitted && campaign.closedAt == nil
        var names: [UserID: String] = [:]
        for user in try await store.users(in: assessment.organisation.id) { names[user.id] = user.displayName }
        let choices: [FieldView.Option] =
            [.init(value: "", label: "Not answered")] + scheme.levels.map { .init(value: $0.value, label: "\($0.name)\($0.description.map { " — \($0)" } ?? "")") }
            + [.init(value: AssessmentAnswer.notApplicable, label: "Does not apply")]
        let base = Self.assessmentHref(id, organisationID)
        let items = assessment.asked.map { requirement -> QuestionnaireView.Item in
            let answer = assessment.answers[requirement.id]
            let anchor = "req-" + requirement.id.replacingOccurrences(of: ".", with: "-")
            let choice = FieldView(
                "choice.\(requirement.id)", label: "Answer", control: .select(choices), state: refusedAnswers, initial: answer?.choice ?? "",
                id: "choice-\(anchor)")
            let comment = FieldView(
                "comment.\(requirement.id)", label: "Comment", control: .textarea(rows: 2), hint: "Required when it does not apply; say where the evidence is.",
                state: refusedAnswers, initial: answer?.comment ?? "", id: "comment-\(anchor)")
            let attestation = assessment.attestations[requirement.id]
            var attestForm: FormView?
            if canAttest, answer != nil {
                let state = refusedAttest?.value("requirement") == requirement.id ? refusedAttest : nil
                attestForm = FormView(
                    action: base + "/attest?requirement=" + (requirement.id.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? requirement.id), submit: attestation == nil ? "Record attestation" : "Change attestation",
                    fields: Self.attestFields(requirement: requirement.id, levels: scheme.levels, anchor: anchor, state: state, attestation: attestation),
                    state: state, enctype: "multipart/form-data", id: "attest-\(anchor)")
            }
            let target = assessment.profile.targets[requirement.id].flatMap(scheme.level)?.name
            return QuestionnaireView.Item(
                id: requirement.id, anchor: anchor, title: requirement.title ?? "", text: requirement.text, guidance: requirement.guidance,
                examples: requirement.examples, hasExamples: !requirement.examples.isEmpty, choice: choice, comment: comment, evidenceName: "evidence.\(requirement.id)",
                evidence: (answer?.evidence ?? []).map { file in
                    .init(name: file.name, href: "\(base)/evidence/\(file.sha256)", size: ByteCountFormatter.string(fromByteCount: Int64(file.size), countStyle: .file), sha256: file.sha256)
                },
                hasEvidence: !(answer?.evidence ?? []).isEmpty,
                answered: answer.map { answer in
                    "\(answer.choice == AssessmentAnswer.notApplicable ? "Does not apply" : scheme.level(answer.choice)?.name ?? answer.choice)"
                },
                answeredBy: answer.map { "\(names[$0.answeredBy] ?? "someone") on \(zone.format($0.answeredAt))" },
                attestation: attestation.map { attestation in
                    attestation.verdict == .agree
                        ? "Auditor agreed\(attestation.comment.isEmpty ? "" : ": \(attestation.comment)")"
                        : "Auditor disagreed: \(attestation.choice == AssessmentAnswer.notApplicable ? "does not apply" : scheme.level(attestation.choice)?.name ?? attestation.choice). \(attestation.comment)"
                },
                attestationClass: attestation.map { $0.verdict == .agree ? "attest-agree" : "attest-disagree" }, target: target,
                error: refusedAnswers?.errors["answers.\(requirement.id)"], attestForm: attestForm)
        }
        let previous = try await desk.previousCycle(of: assessment)
        let functions = framework.requirements.compactMap { function -> QuestionnaireView.Function? in
            guard let node = assessment.selfDeclared[function.id] else { return nil }
            return .init(
                id: function.id, title: function.title ?? function.id, selfDeclared: percent(node.score), audited: percent(assessment.audited[function.id]?.score),
                previous: previous.flatMap { CampaignDesk.value($0.scores, node: function.id, in: framework) }.map { percent($0) } ?? "—", target: percent(node.target))
        }
        let gaps = Self.gapRows(try await desk.weightedGaps(assessment.audited, framework: framework, sector: assessment.organisation.sector), framework: framework)
        let answered = assessment.answers.count
        let status: (String, String) =
            assessment.participant.submittedAt.map { $0 > campaign.dueAt ? ("Submitted late on \(zone.format($0))", "status-late") : ("Submitted on \(zone.format($0))", "status-done") }
            ?? (Date() > campaign.dueAt ? ("Not submitted; it was due \(zone.format(campaign.dueAt))", "status-missing") : ("Draft", "status-open"))
        var assignForm: FormView?
        if canUpdate, enforcement.permits(subject, .update, Resource(kind: .organisation, owner: assessment.organisation.id, sector: assessment.organisation.sector)) || subject.effectiveRoles.contains(.organisationAdmin) {
            let members = try await store.users(in: assessment.organisation.id).filter { !$0.disabled && $0.kind == .person }
            assignForm = FormView(
                action: base + "/assign", submit: "Assign",
                fields: [
                    FieldView(
                        "assignee", label: "Who answers",
                        control: .select([.init(value: "", label: "No one named")] + members.map { .init(value: $0.id.description, label: $0.displayName) }),
                        state: kept?.form == QuestionnaireView.assignFormName ? kept : nil, initial: assessment.participant.assignee?.description ?? "",
                        id: "assignee")
                ], state: nil, id: "assign-form")
        }
        let view = QuestionnaireView(
            campaignTitle: campaign.title, campaignHref: Self.campaignHref(id), organisation: assessment.organisation.name,
            framework: "\(framework.name) \(framework.version)", due: zone.format(campaign.dueAt), status: status.0, statusClass: status.1,
            progressValue: answered, progressMax: max(assessment.asked.count, 1), progressText: "\(answered) of \(assessment.asked.count) answered",
            selfDeclared: percent(assessment.selfDeclared.overall.score), audited: percent(assessment.audited.overall.score),
            auditedNote: assessment.isFullyAudited
                ? "every answer attested"
                : "\(assessment.attestedCount) of \(answered) answers attested; the rest as declared",
            previous: previous.map { "\(percent($0.scores.overall)) in \($0.campaign.cycle) (\($0.campaign.title))" }, functions: functions,
            items: items, canAnswer: canAnswer, canSubmit: canAnswer && answered == assessment.asked.count, saveAction: base + "/answers",
            submitAction: base + "/submit", summary: refusedAnswers?.summary,
            message: kept?.form == AssessmentCampaignsView.doneName ? kept?.value("message") : nil, gaps: Array(gaps), hasGaps: !gaps.isEmpty,
            exports: [
                .init(href: base + "/results.json", title: "OSCAL assessment results (JSON)"), .init(href: base + "/poam.json", title: "Plan of action and milestones (OSCAL POA&M)"),
                .init(href: base + "/answers.csv", title: "Answers (CSV)"),
            ], assignForm: assignForm, assignee: assessment.participant.assignee.flatMap { names[$0] },
            directiveReference: campaign.directive?.reference,
            acknowledged: assessment.acknowledgement.map { "Acknowledged by \(names[$0.user] ?? "a member") on \(zone.format($0.time))" },
            acknowledgeAction: campaign.directive != nil && assessment.acknowledgement == nil && canUpdate ? base + "/acknowledge" : nil)
        return renderer.page("assessment", title: "\(assessment.organisation.name): \(campaign.title)", context: context, view: view, enforcement: enforcement)
    }

    /// The first fifteen gaps as table rows.
    static func gapRows(_ gaps: [CampaignDesk.WeightedGap], framework: Framework) -> [QuestionnaireView.Gap] {
        gaps.prefix(15).enumerated().map { rank, gap in
            QuestionnaireView.Gap(
                rank: rank + 1, requirement: gap.gap.requirement, title: framework.requirement(gap.gap.requirement)?.title ?? "", achieved: percent(gap.gap.achieved),
                target: percent(gap.gap.target), incidents: gap.categories.isEmpty ? "—" : "\(percent(gap.incidentShare)) (\(gap.categories.joined(separator: ", ")))",
                priority: String(format: "%.4f", gap.priority))
        }
    }

    static func attestFields(
        requirement: String, levels: [Framework.Scoring.Level], anchor: String, state: FormState?, attestation: AssessmentAttestation?
    ) -> [FieldView] {
        [
            FieldView(
                "verdict", label: "Verdict", control: .select([.init(value: "agree", label: "Agree"), .init(value: "disagree", label: "Disagree")]),
                state: state, initial: attestation?.verdict.rawValue ?? "agree", id: "verdict-\(anchor)"),
            FieldView(
                "level", label: "Auditor's level (when disagreeing)",
                control: .select([.init(value: "", label: "—")] + levels.map { .init(value: $0.value, label: $0.name) } + [.init(value: AssessmentAnswer.notApplicable, label: "Does not apply")]),
                state: state, initial: attestation?.verdict == .disagree ? attestation?.choice ?? "" : "", id: "level-\(anchor)"),
            FieldView(
                "comment", label: "Auditor's comment", control: .textarea(rows: 2), hint: "Required when disagreeing.", state: state,
                initial: attestation?.comment ?? "", id: "attest-comment-\(anchor)"),
            FieldView("evidence", label: "Auditor's evidence", control: .text(type: "file"), state: nil, id: "attest-evidence-\(anchor)"),
        ]
    }

    func saveAnswers(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let base = Self.assessmentHref(id, organisationID)
        let form = try await multipartForm(request, context, sending: "the answers")
        let assessment = try await mapped { try await desk.assessment(id, organisation: organisationID, for: subject, gate: gate(context)) }
        var values: [String: [String]] = [:]
        for part in form.parts where part.filename == nil { values[part.name, default: []].append(String(decoding: part.bytes, as: UTF8.self)) }
        var state = FormState(form: QuestionnaireView.answersFormName, values: values)
        var inputs: [CampaignDesk.AnswerInput] = []
        for requirement in assessment.asked {
            let choice = form["choice.\(requirement.id)"] ?? ""
            let comment = form["comment.\(requirement.id)"] ?? ""
            let files = form.parts.filter { $0.name == "evidence.\(requirement.id)" && $0.filename != nil && !($0.filename ?? "").isEmpty && !$0.bytes.isEmpty }
            let existing = assessment.answers[requirement.id]
            let kept = values["keep.\(requirement.id)"] ?? []
            let removed = (existing?.evidence.count ?? 0) != kept.count
            // Only what changed is saved, so an answer's author and time stay those of its last change.
            guard !choice.isEmpty else { continue }
            if let existing, existing.choice == choice, existing.comment == comment.trimmingCharacters(in: .whitespacesAndNewlines), files.isEmpty, !removed { continue }
            inputs.append(
                .init(
                    requirement: requirement.id, choice: choice, comment: comment,
                    newEvidence: files.map { (name: $0.filename ?? "evidence", bytes: $0.bytes) }, keptEvidence: kept))
        }
        do {
            if !inputs.isEmpty {
                _ = try await desk.saveAnswers(inputs, campaign: id, organisation: organisationID, by: subject, gate: gate(context), source: context.sourceAddress)
            }
            let message = inputs.isEmpty ? "Nothing changed." : "Saved \(inputs.count) answer\(inputs.count == 1 ? "" : "s") as a draft."
            return try await refusedForms.redirect(
                FormState(form: AssessmentCampaignsView.doneName, values: ["message": [message]]), to: base, context: context, fragment: "questionnaire-message")
        } catch let error as QilaError where error.code == .invalidInput {
            let field = error.field ?? "answers"
            state.errors[field] = error.sentence(naming: field.hasPrefix("answers.") ? "The answer to \(field.dropFirst(8))" : nil)
            if !field.hasPrefix("answers.") { state.summary = error.sentence(naming: nil) }
            let anchor = field.hasPrefix("answers.") ? "req-" + field.dropFirst(8).replacingOccurrences(of: ".", with: "-") : "error-summary"
            return try await refusedForms.redirect(state, to: base, context: context, fragment: anchor)
        } catch let error as QilaError where error.code == .conflict {
            state.summary = error.sentence(naming: nil)
            return try await refusedForms.redirect(state, to: base, context: context)
        }
    }

    func submit(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let base = Self.assessmentHref(id, organisationID)
        do {
            _ = try await desk.submit(campaign: id, organisation: organisationID, by: subject, gate: gate(context), source: context.sourceAddress)
            return try await refusedForms.redirect(
                FormState(form: AssessmentCampaignsView.doneName, values: ["message": ["Submitted. The answers are now with the regulator and the auditor."]]), to: base,
                context: context, fragment: "questionnaire-message")
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            return try await refusedForms.redirect(
                FormState(form: QuestionnaireView.answersFormName, summary: error.sentence(naming: error.field == "answers" ? "Answers" : nil)), to: base, context: context)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func attest(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let base = Self.assessmentHref(id, organisationID)
        let form = try await multipartForm(request, context, sending: "the attestation")
        var values: [String: [String]] = [:]
        for part in form.parts where part.filename == nil { values[part.name, default: []].append(String(decoding: part.bytes, as: UTF8.self)) }
        var state = FormState(form: QuestionnaireView.attestFormName, values: values)
        let requirement = request.uri.queryParameters["requirement"].map(String.init) ?? ""
        state.values["requirement"] = [requirement]
        let anchor = "req-" + requirement.replacingOccurrences(of: ".", with: "-")
        do {
            guard let verdict = AssessmentAttestation.Verdict(rawValue: form["verdict"] ?? "") else {
                throw QilaError.invalid("must be agree or disagree", field: "verdict")
            }
            let level = form["level"] ?? ""
            let files = form.parts.filter { $0.name == "evidence" && !($0.filename ?? "").isEmpty && !$0.bytes.isEmpty }
            _ = try await desk.attest(
                .init(
                    requirement: requirement, verdict: verdict, choice: level.isEmpty ? nil : level, comment: form["comment"] ?? "",
                    newEvidence: files.map { (name: $0.filename ?? "evidence", bytes: $0.bytes) }),
                campaign: id, organisation: organisationID, by: subject, gate: gate(context), source: context.sourceAddress)
            return redirect(base + "#" + anchor)
        } catch let error as QilaError where error.code == .invalidInput {
            // The desk names `attestation.<requirement>`: the message sits beside the comment, where the reason goes.
            let field = error.field == "verdict" ? "verdict" : "comment"
            state.errors[field] = error.sentence(naming: field == "verdict" ? "The verdict" : "The attestation")
            return try await refusedForms.redirect(state, to: base, context: context, fragment: "attest-\(anchor)")
        } catch let error as QilaError where error.code == .conflict {
            throw Problem(.conflict, error.message)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func acknowledge(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        do {
            try await desk.acknowledge(campaign: id, organisation: organisationID, by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .conflict {
            throw Problem(.conflict, error.message)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return redirect(Self.assessmentHref(id, organisationID))
    }

    func reopen(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        do {
            try await desk.reopen(campaign: id, organisation: organisationID, by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .conflict {
            throw Problem(.conflict, error.message)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return redirect(Self.campaignHref(id))
    }

    func assign(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let base = Self.assessmentHref(id, organisationID)
        let text = form["assignee"] ?? ""
        do {
            try await desk.assign(
                campaign: id, organisation: organisationID, to: text.isEmpty ? nil : UserID(text), by: subject, gate: gate(context), source: context.sourceAddress)
            return redirect(base)
        } catch let error as QilaError where error.code == .invalidInput {
            let state = FormState(form: QuestionnaireView.assignFormName, values: ["assignee": [text]], errors: ["assignee": error.sentence(naming: "Who answers")])
            return try await refusedForms.redirect(state, to: base, context: context, fragment: "assign-form")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func evidence(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let sha256 = try context.parameters.require("sha256")
        let (file, bytes) = try await mapped {
            try await desk.evidence(sha256, campaign: id, organisation: organisationID, for: subject, gate: gate(context))
        }
        var headers = HTTPFields()
        headers[.contentType] = file.mediaType
        // Always a download: a file from an organisation is not trusted content.
        headers[.contentDisposition] = "attachment; filename=\"\(file.name.replacingOccurrences(of: "\"", with: ""))\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func download(_ data: Data, type: String, filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func resultsJSON(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let assessment = try await mapped { try await desk.assessment(id, organisation: organisationID, for: subject, gate: gate(context)) }
        return download(
            try OSCALResults.json(OSCALResults.assessmentResults(assessment, at: Date())), type: "application/json",
            filename: "assessment-results-\(organisationID).json")
    }

    func planJSON(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let assessment = try await mapped { try await desk.assessment(id, organisation: organisationID, for: subject, gate: gate(context)) }
        let gaps = try await desk.weightedGaps(assessment.audited, framework: assessment.framework, sector: assessment.organisation.sector)
        var owner: String?
        if let assignee = assessment.participant.assignee { owner = try await store.user(assignee)?.displayName }
        let nextDue = try await store.campaigns().filter { $0.framework == assessment.campaign.framework && $0.dueAt > assessment.campaign.dueAt }.map(\.dueAt).min()
        return download(
            try OSCALResults.json(OSCALResults.plan(assessment, gaps: gaps, owner: owner, due: nextDue, at: Date())), type: "application/json",
            filename: "poam-\(organisationID).json")
    }

    func answersCSV(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let organisationID = try organisationID(context)
        let assessment = try await mapped { try await desk.assessment(id, organisation: organisationID, for: subject, gate: gate(context)) }
        var lines = ["requirement,title,answer,comment,evidence,answered_at,auditor_verdict,auditor_level,auditor_comment,score_self_declared,score_audited,target"]
        for requirement in assessment.asked {
            let answer = assessment.answers[requirement.id]
            let attestation = assessment.attestations[requirement.id]
            func q(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
            lines.append(
                [
                    requirement.id, requirement.title ?? "", answer?.choice ?? "", answer?.comment ?? "", (answer?.evidence ?? []).map(\.name).joined(separator: "; "),
                    answer.map { RFC3339.format($0.answeredAt) } ?? "", attestation?.verdict.rawValue ?? "", attestation?.choice ?? "", attestation?.comment ?? "",
                    q(assessment.selfDeclared[requirement.id]?.score), q(assessment.audited[requirement.id]?.score), q(assessment.selfDeclared[requirement.id]?.target),
                ].map(Self.csvField).joined(separator: ","))
        }
        return Self.csv(lines, filename: "answers-\(organisationID).csv")
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCases
import QilaCore
import QilaIntel
import QilaStore
import QilaPublic

/// Pages of incident reporting and case management: the queue (`/cases`), one case with its
/// report stages, timeline and the authority's tools (`/cases/ID`), figures and compliance
/// (`/cases/reports`), campaigns across organisations (`/cases/campaigns`) and show-cause
/// notices (`/notices/ID`).
extension CasePages {

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/cases", use: casesPage)
        routes.post("/cases", use: openCase)
        routes.get("/cases.csv", use: casesCSV)
        routes.get("/cases/reports", use: caseReports)
        routes.get("/cases/campaigns", use: campaignsPage)
        routes.post("/cases/import", use: importMISP)
        routes.get("/cases/:id", use: casePage)
        routes.get("/cases/:id/export/:format", use: exportCase)
        routes.post("/cases/:id/stages/:regime/:stage", use: stageAction)
        routes.post("/cases/:id/report", use: changeReport)
        routes.post("/cases/:id/triage", use: triageCase)
        routes.post("/cases/:id/comments", use: commentCase)
        routes.post("/cases/:id/tasks", use: addTask)
        routes.post("/cases/:id/tasks/:task/done", use: completeTask)
        routes.post("/cases/:id/requests", use: requestInformation)
        routes.post("/cases/:id/requests/:request/answer", use: answerRequest)
        routes.post("/cases/:id/stage-requests", use: requestStage)
        routes.post("/cases/:id/link", use: linkCase)
        routes.post("/cases/:id/merge", use: mergeCase)
        routes.post("/cases/:id/observables", use: addObservables)
        routes.post("/cases/:id/share", use: shareCase)
        routes.post("/cases/:id/attachments", use: uploadAttachment)
        routes.get("/cases/:id/attachments/:attachment", use: downloadAttachment)
        routes.post("/cases/:id/notices", use: issueNotice)
        routes.get("/notices/:id", use: noticePage)
        routes.get("/notices/:id/text", use: noticeText)
        return routes
    }

    // MARK: the queue

    func casesPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        let query = CaseQuery { request.uri.queryParameters[Substring($0)].map(String.init) }
        let visible = try await desk.incidents(for: subject)
        let openable = try await reportable(subject)
        let canTriage = try await requireCases(subject, visible, openable: openable, context)
        let organisations = try await store.organisations()
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let stages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        let now = Date()
        // Each case's next deadline: the earliest stage still open.
        var next: [CaseID: (title: String, due: Date, state: String)] = [:]
        for incident in visible {
            let clocks = desk.clocks(of: incident, stages: stages[incident.id] ?? [], now: now).flatMap { pair in pair.clocks.map { (pair.regime, $0) } }
            if let soonest = clocks.filter({ [.open, .dueSoon, .overdue].contains($0.1.state) }).min(by: { ($0.1.due ?? .distantFuture) < ($1.1.due ?? .distantFuture) }),
                let stage = soonest.0.stages.first(where: { $0.id == soonest.1.stage }), let due = soonest.1.due
            {
                next[incident.id] = (stage.title, due, soonest.1.state.rawValue)
            }
        }
        let ordered = query.apply(visible, names: names, me: subject.user.id, due: next.mapValues(\.due), zone: zone)
        let page = query.page(of: ordered)
        let reporters = try await origins(of: Array(page.rows))
        let rows = page.rows.map { incident in
            CasesView.Row(
                id: incident.id.description, number: incident.number, title: incident.title, organisation: names[incident.organisation] ?? "",
                status: incident.status.title, statusSlug: incident.status.rawValue, severity: incident.severity?.rawValue ?? "—", tlp: incident.tlp.rawValue,
                tlpSlug: incident.tlp.slug, classification: incident.classification ?? "—", awareness: zone.format(incident.awareness),
                origin: reporters[incident.id], next: next[incident.id].map { "\($0.title): \(zone.format($0.due))" }, nextState: next[incident.id]?.state)
        }
        let readable = organisations.filter { organisation in visible.contains { $0.organisation == organisation.id } }
        let refused = try await refusedForms.kept(request, context: context)
        let kept = refused?.form == CasesView.openFormName ? refused : nil
        let openForm =
            openable.isEmpty
            ? nil
            : FormView(
                action: "/cases", submit: "Open the report",
                fields: CasesView.openFields(
                    openable: openable, own: subject.organisation.id, regimes: cases.desk.regimes.primaryRegimes, clearance: subject.user.clearance,
                    state: kept, zone: zone), state: kept, id: "open-case")
        let importable = subject.effectiveRoles.contains(.authorityAnalyst) ? organisations.filter { $0.kind != .authority && $0.kind != .sectorRegulator } : []
        let view = CasesView(
            rows: rows, query: query, matching: ordered.count, start: page.start, next: page.next, canTriage: canTriage, readableOrganisations: readable,
            sectors: try await store.sectors(), openForm: openForm, importable: importable,
            importError: refused?.form == "case.import" ? refused?.errors.values.first : nil, zone: zone)
        return render("cases", "Incident cases", context, view)
    }

    /// How each case came, when not from its own organisation's reporter: "via auditor" or
    /// "opened by the authority" (from an alert, a MISP event, on the organisation's behalf).
    func origins(of list: [IncidentCase]) async throws -> [CaseID: String] {
        var kinds: [UserID: Organisation.Kind] = [:]
        var result: [CaseID: String] = [:]
        for incident in list where incident.onBehalf {
            if kinds[incident.reportedBy] == nil, let user = try await store.user(incident.reportedBy), let organisation = try await store.organisation(user.organisation) {
                kinds[incident.reportedBy] = organisation.kind
            }
            result[incident.id] = kinds[incident.reportedBy] == .authority ? "opened by the authority" : "via auditor"
        }
        return result
    }


    /// Exactly the cases the list's filters choose, every page of them.
    func filteredCases(_ request: Request, _ subject: Subject) async throws -> [IncidentCase] {
        let query = CaseQuery { request.uri.queryParameters[Substring($0)].map(String.init) }
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        return query.apply(try await desk.incidents(for: subject), names: names, me: subject.user.id, due: [:], zone: DisplayZone.current)
    }

    func openCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: CasesView.openFormName, fields: try await form(request, context))
        let regime = state.value("regime")
        var answers: [String: Bool] = [:]
        for (key, values) in state.values where key.hasPrefix("sig_\(regime)_") {
            answers[String(key.dropFirst("sig_\(regime)_".count))] = values.first == "yes"
        }
        let opening = CaseDesk.Opening(
            organisation: state.value("organisation"), title: state.value("title"), awareness: DisplayZone.current.instant(state.value("awareness")),
            regime: regime, tlp: state.value("tlp").isEmpty ? "amber" : state.value("tlp"), pap: state.value("pap").isEmpty ? "amber" : state.value("pap"),
            classification: state.value("classification"), offences: state.values("offence"), personalData: state.value("personalData") == "1",
            significance: answers, observables: state.value("observables"))
        do {
            let incident = try await desk.open(opening, by: subject, gate: gate(context))
            return redirect("/cases/\(incident.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(
                error,
                fields: CasesView.openFields(openable: [], own: subject.organisation.id, regimes: [], clearance: .red, state: nil, zone: DisplayZone.current),
                renamed: ["offences": "offence"])
            return try await refusedForms.redirect(state, to: "/cases", context: context)
        }
    }

    /// Whether the subject works with cases at all (the list, its CSV): it sees some, may open
    /// some, or triages; else the refusal, recorded. Returns whether it triages.
    @discardableResult
    func requireCases(_ subject: Subject, _ list: [IncidentCase], openable: [Organisation], _ context: QilaRequestContext) async throws -> Bool {
        let canTriage = enforcement.permits(subject, .read, Resource(kind: .incidentInternal, owner: subject.organisation.id, sector: subject.organisation.sector))
        guard !list.isEmpty || !openable.isEmpty || canTriage else {
            try await enforcement.require(subject, .read, Resource(kind: .incident, owner: subject.organisation.id, sector: subject.organisation.sector, reference: "cases"), source: context.sourceAddress)
            throw Problem(.forbidden, "cases are for reporting organisations, their auditors, the authority and regulators")
        }
        return canTriage
    }

    func casesCSV(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let list = try await filteredCases(request, subject)
        try await requireCases(subject, list, openable: try await reportable(subject), context)
        let lines = try await desk.exportCSV(list, by: subject, source: context.sourceAddress)
        return Self.csv(lines, filename: "qila-cases.csv")
    }


    // MARK: one case

    func caseID(_ context: QilaRequestContext) throws -> CaseID {
        guard let id = CaseID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such case") }
        return id
    }

    /// What the page says after a change, by the code in `?done=` (never text from the URL).
    static let doneMessages: [String: String] = [
        "saved": "Saved.", "comment": "Comment added.", "task": "Task added.", "task-done": "Task done.", "request": "Request sent to the reporter.",
        "answer": "Answer sent to the authority.", "stage-request": "Stage requested; its clock runs from now.", "link": "Cases linked.",
        "merge": "Case merged.", "observables": "Observables added.",
    ]

    func casePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try caseID(context)
        let zone = DisplayZone.current
        let kept = try await refusedForms.kept(request, context: context)
        let view: CaseDesk.View
        do {
            view = try await desk.view(id, for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such case")
        }
        let incident = view.incident
        var people: [UserID: String] = [:]
        func name(_ id: UserID?) async -> String {
            guard let id else { return "Qila" }
            if let known = people[id] { return known }
            let found = (try? await store.user(id))?.displayName ?? "someone"
            people[id] = found
            return found
        }
        let organisation = try await store.organisation(incident.organisation)
        let drafts = Dictionary(view.stages.map { ("\($0.regime)/\($0.stage)", $0) }) { a, _ in a }
        let canReport = view.isReporter && enforcement.permits(subject, .update, CaseDesk.resource(incident)) && incident.mergedInto == nil
        let canHandle = enforcement.permits(subject, .update, CaseDesk.internalResource(incident))
        let canComment = canReport || canHandle || enforcement.permits(subject, .create, CaseDesk.internalResource(incident))
        let refusedStage = kept?.form == Self.stageFormName ? kept : nil
        var regimes: [CaseView.Regime] = []
        var opened = false
        for (regime, clocks) in view.clocks {
            var rows: [CaseView.Stage] = []
            for clock in clocks {
                guard let stage = regime.stages.first(where: { $0.id == clock.stage }) else { continue }
                let row = drafts["\(regime.id)/\(stage.id)"]
                var item = CaseView.Stage(
                    regime: regime.id, stage: stage.id, title: stage.title, rule: stage.due.description, due: clock.due.map(zone.format) ?? "—",
                    state: clock.state.rawValue, stateTitle: Self.stateTitle(clock.state))
                if let submitted = row?.submittedAt {
                    item.submitted = "\(zone.format(submitted)) by \(await name(row?.submittedBy))\(row?.onBehalf == true ? " (auditor)" : "")"
                    item.values = stage.fields.compactMap { field in row?.values[field].map { Choice(value: $0, title: regime.field(field)?.label ?? field) } }
                } else if canReport && clock.state != .notRequested {
                    item.form = true
                    item.fields = stage.fields.compactMap { id in
                        regime.field(id).map { Self.fieldInput($0, value: row?.values[id] ?? "", regime: regime.id, stage: stage.id, zone: zone) }
                    }
                    item.hasDraft = row != nil && !(row?.values.isEmpty ?? true)
                    if let refusedStage, refusedStage.value("stage") == "\(regime.id)/\(stage.id)" { item.error = refusedStage.errors.values.first }
                    // Open: the refused form, else the first stage still to send; the rest fold away.
                    item.open = item.error != nil || (!opened && refusedStage == nil)
                    opened = opened || item.open
                } else if clock.state == .notRequested && canHandle && stage.onRequest {
                    item.canRequest = true
                }
                rows.append(item)
            }
            regimes.append(CaseView.Regime(id: regime.id, title: regime.title, basis: regime.basis, zone: DisplayZone(zone: regime.timeZone).name, stages: rows))
        }
        var timeline: [CaseView.Entry] = []
        for entry in view.timeline.reversed() {
            timeline.append(
                CaseView.Entry(
                    time: zone.format(entry.time), who: await name(entry.actor), kind: entry.kind.rawValue, text: entry.text,
                    link: Self.alertReference(in: entry.text).map { "/alerts/\($0)" }, internal: !entry.shared))
        }
        var tasks: [CaseView.Task] = []
        for task in view.tasks {
            tasks.append(
                CaseView.Task(
                    id: task.id.description, title: task.title, due: task.due.map(zone.day) ?? "", assignee: task.assignee == nil ? nil : await name(task.assignee),
                    done: task.doneAt != nil))
        }
        var requests: [CaseView.Request] = []
        for item in view.requests {
            requests.append(
                CaseView.Request(
                    id: item.id.description, question: item.question, asked: zone.format(item.askedAt), by: await name(item.askedBy), due: item.due.map(zone.format),
                    answer: item.answer, answered: item.answeredAt.map(zone.format), canAnswer: item.answer == nil && canReport))
        }
        let handlers = canHandle ? try await desk.handlers(of: incident) : []
        let lateOrMissing = view.clocks.contains { $0.clocks.contains(where: \.isLateOrMissing) }
        let classification = incident.classification.flatMap(RSITClassification.init(parsing:))
        let merged: CaseView.Header.Reference? =
            if let target = incident.mergedInto, let found = try await store.incident(target) { .init(id: found.id.description, number: found.number) } else { nil }
        let fromAlert = view.timeline.first(where: { $0.kind == .created }).flatMap { Self.alertReference(in: $0.text) }
        let header = CaseView.Header(
            id: incident.id.description, number: incident.number, title: incident.title, organisation: organisation?.name ?? "", status: incident.status.title,
            statusSlug: incident.status.rawValue, severity: incident.severity?.rawValue ?? "not rated", tlp: incident.tlp.rawValue, tlpSlug: incident.tlp.slug,
            pap: incident.pap, awareness: zone.format(incident.awareness), reportedBy: await name(incident.reportedBy),
            origin: try await origins(of: [incident])[incident.id], personalData: incident.personalData, isDraft: incident.status == .draft,
            offences: incident.offences.compactMap(PECAOffence.init(rawValue:)).map { "\($0.section) — \($0.title)" },
            classification: classification?.title, classificationTag: classification?.machineTag, assignee: incident.assignee == nil ? nil : await name(incident.assignee),
            mergedInto: merged, fromAlert: fromAlert.map { .init(id: $0, number: String($0.prefix(8))) })
        let done = kept?.form == CaseView.doneName ? kept : nil
        var caseView = CaseView(
            case: header, message: done.map { $0.value("message") }, error: nil, regimes: regimes, timeline: timeline, tasks: tasks, requests: requests,
            hasRequests: !requests.isEmpty, observables: view.observables.map { CaseView.Observable(kind: $0.kind.title, value: $0.value) },
            hasObservables: !view.observables.isEmpty,
            attachments: view.attachments.map {
                CaseView.Attachment(id: $0.id.description, name: $0.name, type: $0.mediaType, sha: $0.sha256, uploaded: zone.format($0.uploadedAt), size: $0.size)
            },
            correlated: view.correlated.map {
                CaseView.Related(
                    id: $0.incident.id.description, number: $0.incident.number, title: $0.incident.title, status: $0.incident.status.title,
                    shared: $0.shared.map(\.value).joined(separator: ", "), kind: "")
            },
            links: view.links.map {
                CaseView.Related(id: $0.incident.id.description, number: $0.incident.number, title: $0.incident.title, status: "", shared: "", kind: $0.kind)
            },
            notices: view.notices.map { CaseView.Notice(id: $0.id.description, number: $0.number, issued: zone.format($0.issuedAt)) },
            hasNotices: !view.notices.isEmpty, seesInternal: view.seesInternal, canReport: canReport, canHandle: canHandle, canComment: canComment,
            canAttach: canReport || canHandle,
            canNotice: canHandle && lateOrMissing
                && enforcement.permits(subject, .create, Resource(kind: .complianceNotice, owner: incident.organisation, sector: incident.sector)),
            statuses: IncidentCase.Status.allCases.dropFirst().map { Choice(value: $0.rawValue, title: $0.title, selected: $0 == incident.status) },
            severities: IncidentCase.Severity.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: $0 == incident.severity) },
            handlers: handlers.map { Choice(value: $0.id.description, title: $0.displayName, selected: $0.id == incident.assignee) },
            classes: RSIT.classes.flatMap { incidentClass in
                incidentClass.types.map {
                    Choice(
                        value: "\(incidentClass.id)/\($0.id)", title: "\(incidentClass.title): \($0.title)",
                        selected: incident.classification == "\(incidentClass.id)/\($0.id)")
                }
            },
            offenceOptions: PECAOffence.allCases.map {
                Choice(value: String($0.rawValue), title: "s.\($0.rawValue) \($0.title)", selected: incident.offences.contains($0.rawValue))
            },
            tlps: TLP.allCases.filter { $0 <= subject.user.clearance }.map { Choice(value: $0.slug, title: $0.rawValue, selected: $0 == incident.tlp) },
            paps: PAP.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: $0.rawValue == incident.pap) },
            maxMB: cases.settings.maximumAttachmentBytes / (1024 * 1024), zoneHint: zone.inputHint, forms: CaseView.Forms(kept))
        if incident.status != .draft { caseView.share = try await shareForm(incident, subject: subject, forms: caseView.forms) }
        if let complaint = try await portal.complaints.complaint(of: incident.id, for: subject) {
            caseView.complaint = .init(
                caseID: incident.id.description, tracking: complaint.record.tracking, language: complaint.record.language == "ur" ? "Urdu" : "English",
                category: portal.text.text(ComplaintCategory(rawValue: complaint.record.category)?.textKey ?? "category_other", .english),
                hasContact: complaint.record.sealedContact != nil, mayOpenContact: complaint.mayOpenContact)
        }
        return render("case", "\(incident.number) · \(incident.title)", context, caseView)
    }

    /// The alert a case was opened from, named in its first timeline entry ("… from alert <id> …").
    static func alertReference(in text: String) -> String? {
        guard let range = text.range(of: "from alert ") else { return nil }
        let candidate = String(text[range.upperBound...].prefix(36))
        return AlertID(candidate) != nil ? candidate : nil
    }

    /// A refused stage form's state: what was typed is saved as the draft; this names the stage.
    static let stageFormName = "case.stage"

    static func stateTitle(_ state: StageClock.State) -> String {
        switch state {
        case .notRequested: "not requested"
        case .open: "open"
        case .dueSoon: "due soon"
        case .overdue: "overdue"
        case .submittedOnTime: "on time"
        case .submittedLate: "late"
        }
    }

    /// One input of a stage form, by the field's kind.
    static func fieldInput(_ field: ReportingRegime.Field, value: String, regime: String, stage: String, zone: DisplayZone) -> CaseView.StageField {
        var item = CaseView.StageField(id: field.id, label: field.label, value: value, inputID: "\(regime)-\(stage)-\(field.id)", help: field.help)
        switch field.kind {
        case .text(let maximum):
            if maximum > 400 { item.isTextarea = true } else { item.isText = true }
            item.maximum = maximum
        case .number:
            item.isNumber = true
        case .boolean:
            item.isChoice = true
            item.options = [Choice(value: "no", title: "No", selected: value != "yes"), Choice(value: "yes", title: "Yes", selected: value == "yes")]
        case .choice(let options):
            item.isChoice = true
            item.options = options.map { Choice(value: $0, title: $0, selected: $0 == value) }
        case .dateTime:
            item.isDateTime = true
            // Stored as RFC 3339; shown as typed in the viewer's zone.
            item.value = RFC3339.parse(value).map(zone.typed) ?? value
            item.help = [field.help, zone.inputHint].compactMap { $0 }.joined(separator: " ")
        }
        return item
    }

    /// Runs a change from the case page, then back to the page (post-redirect-get): with the
    /// change's message, or with the refused form as typed and its reason beside it.
    func onCase(
        _ request: Request, _ context: QilaRequestContext, form formName: String, message: String,
        _ change: (Subject, FormFields, CaseID) async throws -> Void
    ) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try caseID(context)
        do {
            try await change(subject, form, id)
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) {
            var state = FormState(form: "case.\(formName)", fields: form)
            state.errors[error.field ?? "_"] = FormState.sentence(label: nil, error.message)
            return try await refusedForms.redirect(state, to: "/cases/\(id)", context: context, fragment: formName)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return try await caseDone(id, Self.doneMessages[message] ?? "Saved.", context)
    }

    /// Back to the case with `message` shown once.
    func caseDone(_ id: CaseID, _ message: String, _ context: QilaRequestContext, fragment: String = "main") async throws -> Response {
        try await refusedForms.redirect(FormState(form: CaseView.doneName, values: ["message": [message]]), to: "/cases/\(id)", context: context, fragment: fragment)
    }

    func stageAction(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let regime = try context.parameters.require("regime")
        let stage = try context.parameters.require("stage")
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try caseID(context)
        let zone = DisplayZone.current
        var values: [String: String] = [:]
        for (key, list) in form.values where key.hasPrefix("f_") { values[String(key.dropFirst(2))] = list.first ?? "" }
        // Times typed in the viewer's zone are stored as instants.
        if let found = desk.regimes.regime(regime) {
            for (key, value) in values where found.field(key).map({ if case .dateTime = $0.kind { true } else { false } }) == true {
                values[key] = zone.instant(value)
            }
        }
        let fragment = "form-\(regime)-\(stage)"
        do {
            if form["action"] == "draft" {
                try await desk.saveDraft(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
                return try await caseDone(id, "Draft saved. Nothing is sent to the authority until you submit.", context, fragment: fragment)
            }
            _ = try await desk.submit(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
            return try await caseDone(id, "Submitted to the authority.", context, fragment: "stage-\(regime)-\(stage)")
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) {
            // Keep what was typed: save it as the draft, then show every problem beside the stage's form.
            try? await desk.saveDraft(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
            let refused = FormState(form: Self.stageFormName, values: ["stage": ["\(regime)/\(stage)"]], errors: ["stage": error.description])
            return try await refusedForms.redirect(refused, to: "/cases/\(id)", context: context, fragment: fragment)
        }
    }

    func changeReport(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "describe", message: "saved") { subject, form, id in
            let change = CaseDesk.ReportChange(
                classification: form["classification"], offences: form["offencesShown"] == "1" ? form.all("offence") : nil, tlp: form["tlp"], pap: form["pap"],
                personalData: form["personalDataShown"] == "1" ? form["personalData"] == "1" : nil)
            _ = try await desk.change(id, change, by: subject, gate: gate(context))
        }
    }

    func triageCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "triage", message: "saved") { subject, form, id in
            _ = try await desk.triage(
                id, .init(status: form["status"], severity: form["severity"], assignee: form["assignee"], note: form["note"]), by: subject, gate: gate(context))
        }
    }

    func commentCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "comment", message: "comment") { subject, form, id in
            try await desk.comment(id, text: form["text"] ?? "", shared: form["shared"] == "1", by: subject, gate: gate(context))
        }
    }

    func addTask(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "task", message: "task") { subject, form, id in
            let due = (form["due"] ?? "").trimmingCharacters(in: .whitespaces)
            try await desk.addTask(
                id, title: form["title"] ?? "", assignee: form["assignee"] ?? "", due: due.isEmpty ? "" : DisplayZone.current.instant(due), by: subject,
                gate: gate(context))
        }
    }

    func completeTask(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "task", message: "task-done") { subject, _, id in
            guard let task = CaseTaskID(try context.parameters.require("task")) else { throw QilaError(.notFound, "no such task") }
            try await desk.completeTask(id, task: task, by: subject, gate: gate(context))
        }
    }

    func requestInformation(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "ask", message: "request") { subject, form, id in
            try await desk.requestInformation(id, question: form["question"] ?? "", dueDays: form["dueDays"] ?? "", by: subject, gate: gate(context))
        }
    }

    func answerRequest(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "answer", message: "answer") { subject, form, id in
            guard let requestID = CaseRequestID(try context.parameters.require("request")) else { throw QilaError(.notFound, "no such request") }
            try await desk.answer(id, request: requestID, text: form["answer"] ?? "", by: subject, gate: gate(context))
        }
    }

    func requestStage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "triage", message: "stage-request") { subject, form, id in
            try await desk.requestStage(id, regime: form["regime"] ?? "", stage: form["stage"] ?? "", by: subject, gate: gate(context))
        }
    }

    func linkCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "link", message: "link") { subject, form, id in
            try await desk.link(id, to: form["other"] ?? "", by: subject, gate: gate(context))
        }
    }

    func mergeCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "merge", message: "merge") { subject, form, id in
            _ = try await desk.merge(id, into: form["other"] ?? "", by: subject, gate: gate(context))
        }
    }

    func addObservables(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, form: "observables", message: "observables") { subject, form, id in
            _ = try await desk.change(id, .init(observables: form["observables"] ?? ""), by: subject, gate: gate(context))
        }
    }

    /// The sharing form, if the subject may add to some collection: the national one first,
    /// the case's marking chosen unless it is RED (which is not shared into collections).
    func shareForm(_ incident: IncidentCase, subject: Subject, forms: CaseView.Forms) async throws -> CaseView.Share? {
        func order(_ record: IntelCollectionRecord) -> (Int, String) {
            let rank: Int =
                switch record.kind {
                case .national: 0
                case .sector: 1
                default: 2
                }
            return (rank, record.title)
        }
        let writable = try await intel.collections(for: subject).filter(\.canWrite).map(\.record).sorted { order($0) < order($1) }
        guard !writable.isEmpty else { return nil }
        let marking = forms.shareMarking ?? (incident.tlp == .red ? TLP.amberStrict : incident.tlp).slug
        let what = forms.shareWhat ?? IntelDesk.CaseShareKind.indicators.rawValue
        return CaseView.Share(
            collections: writable.enumerated().map { index, record in
                Choice(value: record.id, title: record.title, selected: forms.shareCollection.map { $0 == record.id } ?? (index == 0))
            },
            kinds: IntelDesk.CaseShareKind.allCases.map { Choice(value: $0.rawValue, title: $0.title, selected: $0.rawValue == what) },
            markings: TLP.allCases.filter { $0 != .red }.map { Choice(value: $0.slug, title: $0.rawValue, selected: $0.slug == marking) },
            collectionError: forms.shareErrors["collection"], whatError: forms.shareErrors["what"] ?? forms.shareErrors["_"],
            markingError: forms.shareErrors["marking"])
    }

    func shareCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard try await intel.collections(for: subject).contains(where: \.canWrite) else { throw Problem(.forbidden, "this account may add to no collection") }
        let form = try await form(request, context)
        let id = try caseID(context)
        do {
            let (incident, summary, observables) = try await desk.shareable(id, for: subject, gate: gate(context))
            let material = IntelDesk.CaseMaterial(
                id: incident.id.description, number: incident.number, title: incident.title, summary: summary, tlp: incident.tlp,
                organisation: incident.organisation, created: incident.createdAt, observables: observables)
            let collection = form["collection"] ?? ""
            let (status, left) = try await intel.share(material, as: form["what"] ?? "", marking: form["marking"] ?? "", into: collection, by: subject)
            let title = try await intel.collections(for: subject).first { $0.record.id == collection }?.record.title ?? "the collection"
            let marking = TLP(label: form["marking"] ?? "")?.rawValue ?? ""
            let text = "Shared \(status.successes.count) STIX object\(status.successes.count == 1 ? "" : "s") into \(title) as \(marking)."
            try await desk.recordShared(
                id, text, details: ["collection": collection, "objects": String(status.successes.count), "marking": marking], by: subject, gate: gate(context))
            let note =
                left == 0 ? "" : left == 1 ? " 1 host name or account has no STIX pattern and stayed in the case." : " \(left) host names or accounts have no STIX pattern and stayed in the case."
            return try await caseDone(id, text + note, context, fragment: "share")
        } catch let error as QilaError where error.code == .invalidInput {
            var state = FormState(form: "case.share", fields: form)
            let labels = ["collection": "The collection", "what": "The case", "marking": "The marking"]
            state.errors[error.field ?? "_"] = FormState.sentence(label: labels[error.field ?? ""], error.message)
            return try await refusedForms.redirect(state, to: "/cases/\(id)", context: context, fragment: "share")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        } catch let error as QilaError where error.code == .forbidden {
            throw Problem(.forbidden, error.message)
        }
    }

    func uploadAttachment(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try caseID(context)
        let form = try await multipartForm(request, context, sending: "the file")
        do {
            guard let file = form.file("file"), !(file.filename ?? "").isEmpty else { throw QilaError.invalid("choose a file to attach", field: "file") }
            let attachment = try await desk.attach(id, name: file.filename ?? "", bytes: file.bytes, by: subject, gate: gate(context))
            return try await caseDone(id, "Attached \(attachment.name).", context, fragment: "attach")
        } catch let error as QilaError where error.code == .invalidInput {
            let refused = FormState(form: "case.attach", errors: ["file": FormState.sentence(label: "File", error.message)])
            return try await refusedForms.redirect(refused, to: "/cases/\(id)", context: context, fragment: "attach")
        }
    }

    func downloadAttachment(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try caseID(context)
        guard let attachmentID = CaseAttachmentID(try context.parameters.require("attachment")) else { throw Problem(.notFound, "no such attachment") }
        let (attachment, bytes): (CaseAttachment, [UInt8])
        do {
            (attachment, bytes) = try await desk.attachment(id, attachmentID, for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        var headers = HTTPFields()
        headers[.contentType] = attachment.mediaType
        // Always a download, never shown inline: a file from a reporter is not trusted content.
        headers[.contentDisposition] = "attachment; filename=\"\(attachment.name.replacingOccurrences(of: "\"", with: ""))\""
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-SHA256")!] = attachment.sha256
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func issueNotice(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try caseID(context)
        do {
            let days = Int(form["replyDays"] ?? "") ?? 0
            let notice = try await desk.issueNotice(id, replyDays: days, by: subject, gate: gate(context))
            return redirect("/notices/\(notice.id)")
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) {
            var refused = FormState(form: "case.notice", fields: form)
            refused.errors["replyDays"] = FormState.sentence(label: nil, error.message)
            return try await refusedForms.redirect(refused, to: "/cases/\(id)", context: context, fragment: "notice-form")
        }
    }

    func loadNotice(_ context: QilaRequestContext) async throws -> ComplianceNotice {
        let subject = try subject(context)
        guard let id = ComplianceNoticeID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such notice") }
        do {
            return try await desk.notice(id, for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such notice")
        }
    }

    func noticePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let notice = try await loadNotice(context)
        let concerning: String
        if let campaign = notice.campaign {
            concerning = try await store.campaign(campaign)?.title ?? "the campaign"
        } else if let caseID = notice.caseID {
            concerning = try await store.incident(caseID)?.number ?? "the case"
        } else {
            concerning = "the notices"
        }
        let view = NoticeView(notice, concerning: concerning)
        return renderer.page("notice", title: "Show-cause notice \(notice.number)", context: context, view: view, enforcement: enforcement)
    }

    func noticeText(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let notice = try await loadNotice(context)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(notice.number).txt\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: notice.text + "\n")))
    }

    // MARK: exchange

    func exportCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try caseID(context)
        guard let format = CaseDesk.ExportFormat(rawValue: try context.parameters.require("format")) else { throw Problem(.notFound, "export as stix or misp") }
        let bytes: [UInt8]
        do {
            bytes = try await desk.export(id, as: format, for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such case")
        }
        let number = (try await store.incident(id))?.number ?? "case"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentDisposition] = "attachment; filename=\"\(number)-\(format == .stix ? "stix-2.1" : "misp").json\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func importMISP(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await multipartForm(request, context, sending: "the event")
        do {
            guard let file = form.file("file"), !file.bytes.isEmpty else { throw QilaError.invalid("choose the MISP event's JSON file", field: "file") }
            let (incident, _) = try await desk.importMISP(file.bytes, organisation: form["organisation"] ?? "", by: subject, gate: gate(context))
            // The event's indicators also go to the organisation's intelligence collection, where its detection reads them.
            if let collection = try await intel.collection(of: incident.organisation) {
                let text: String
                do {
                    let imported = try await intel.importFile(
                        file.bytes, named: file.filename ?? "event.json", into: collection.id, by: subject, source: "case:\(incident.number)")
                    let count = imported.status.successes.count
                    text = "The event's \(count) STIX object\(count == 1 ? "" : "s") (indicators and a report) were added to \(collection.title)."
                } catch let error as QilaError {
                    text = "The event's indicators were not added to \(collection.title): \(error.message)."
                }
                try await desk.recordShared(incident.id, text, details: ["collection": collection.id], by: subject, gate: gate(context))
            }
            return redirect("/cases/\(incident.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            let refused = FormState(form: "case.import", errors: [error.field ?? "file": FormState.sentence(label: nil, error.message)])
            return try await refusedForms.redirect(refused, to: "/cases", context: context, fragment: "import-misp")
        }
    }

    // MARK: figures, compliance, campaigns

    func caseReports(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let statistics = try await desk.statistics(for: subject)
        let compliance = try await desk.compliance(for: subject)
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        let national = enforcement.permits(subject, .read, Resource(kind: .incidentStatistics))
        let reports = !(try await reportable(subject)).isEmpty
        guard national || statistics.total > 0 || !compliance.isEmpty || reports
            || subject.effectiveRoles.contains(.sectorRegulator)
        else {
            try await enforcement.require(subject, .read, Resource(kind: .incidentStatistics, reference: "incident-statistics"), source: context.sourceAddress)
            throw Problem(.forbidden, "no figures to show")
        }
        func chart(_ data: [String: [String: Int]], _ title: String) -> String {
            let months = data.keys.sorted().suffix(12)
            let series = Set(data.values.flatMap(\.keys)).sorted()
            return BarChart(bars: months.map { BarChart.Bar(label: $0, values: data[$0] ?? [:]) }, series: series, title: title).svg()
        }
        let stageTitles = statistics.hoursToStage.keys.sorted { (Self.median(statistics.hoursToStage[$0]!) ?? 0) < (Self.median(statistics.hoursToStage[$1]!) ?? 0) }
        let timing = BarChart(
            bars: stageTitles.map { BarChart.Bar(label: $0, values: ["median hours": Int((Self.median(statistics.hoursToStage[$0]!) ?? 0).rounded())]) },
            series: ["median hours"], title: "Median hours from awareness to each stage")
        let complianceChart = BarChart(
            bars: compliance.prefix(20).map { BarChart.Bar(label: names[$0.organisation] ?? "", values: ["on time": $0.onTime, "late": $0.late, "missing": $0.missing]) },
            series: ["on time", "late", "missing"], title: "Report stages by organisation: on time, late, missing")
        let view = CaseReportsView(
            total: statistics.total, national: national,
            statuses: IncidentCase.Status.allCases.dropFirst().map { CaseReportsView.Count(title: $0.title, count: statistics.byStatus[$0] ?? 0) },
            sectorChart: chart(statistics.bySector, "Incidents by sector, by month of awareness"),
            classChart: chart(statistics.byClass, "Incidents by RSIT class, by month"),
            severityChart: chart(statistics.bySeverity, "Incidents by severity, by month"), timingChart: timing.svg(),
            complianceChart: complianceChart.svg(),
            timing: stageTitles.map { title in
                let hours = statistics.hoursToStage[title]!
                return CaseReportsView.Timing(
                    stage: title, median: String(format: "%.1f", Self.median(hours) ?? 0), worst: String(format: "%.1f", hours.max() ?? 0), count: hours.count)
            },
            compliance: compliance.map { record in
                CaseReportsView.Compliance(
                    organisation: names[record.organisation] ?? "", percent: record.percentOnTime.map { "\($0) %" } ?? "—", onTime: record.onTime,
                    late: record.late, missing: record.missing, open: record.open, notices: record.notices, poor: record.missing + record.late > 0)
            })
        return render("case-reports", "Incident figures", context, view)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    func campaignsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard subject.effectiveRoles.contains(.authorityAnalyst) || subject.effectiveRoles.contains(.sectorRegulator) else {
            try await enforcement.require(subject, .read, Resource(kind: .incidentInternal, reference: "campaigns"), source: context.sourceAddress)
            throw Problem(.forbidden, "campaigns are for the authority and regulators")
        }
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        let campaigns = try await desk.campaigns(for: subject)
        let view = CampaignsView(
            campaigns: campaigns.map { campaign in
                CampaignsView.Campaign(
                    kind: campaign.observable.kind.title, value: campaign.observable.value, organisations: Set(campaign.cases.map(\.organisation)).count,
                    cases: campaign.cases.map {
                        CampaignsView.Case(id: $0.id.description, number: $0.number, organisation: names[$0.organisation] ?? "", title: $0.title)
                    })
            },
            hasCampaigns: !campaigns.isEmpty)
        return render("campaigns", "Campaigns across organisations", context, view)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCases
import QilaCore
import QilaStore

/// Pages of incident reporting and case management: the queue (`/cases`), one case with its
/// report stages, timeline and the authority's tools (`/cases/ID`), figures and compliance
/// (`/cases/reports`), campaigns across organisations (`/cases/campaigns`) and show-cause
/// notices (`/notices/ID`).
extension WebPages {
    var desk: CaseDesk { cases.desk }

    func registerCases(on router: Router<QilaRequestContext>) {
        router.get("/cases", use: casesPage)
        router.post("/cases", use: openCase)
        router.get("/cases.csv", use: casesCSV)
        router.get("/cases/reports", use: caseReports)
        router.get("/cases/campaigns", use: campaignsPage)
        router.post("/cases/import", use: importMISP)
        router.get("/cases/:id", use: casePage)
        router.get("/cases/:id/export/:format", use: exportCase)
        router.post("/cases/:id/stages/:regime/:stage", use: stageAction)
        router.post("/cases/:id/report", use: changeReport)
        router.post("/cases/:id/triage", use: triageCase)
        router.post("/cases/:id/comments", use: commentCase)
        router.post("/cases/:id/tasks", use: addTask)
        router.post("/cases/:id/tasks/:task/done", use: completeTask)
        router.post("/cases/:id/requests", use: requestInformation)
        router.post("/cases/:id/requests/:request/answer", use: answerRequest)
        router.post("/cases/:id/stage-requests", use: requestStage)
        router.post("/cases/:id/link", use: linkCase)
        router.post("/cases/:id/merge", use: mergeCase)
        router.post("/cases/:id/observables", use: addObservables)
        router.post("/cases/:id/attachments", use: uploadAttachment)
        router.get("/cases/:id/attachments/:attachment", use: downloadAttachment)
        router.post("/cases/:id/notices", use: issueNotice)
        router.get("/notices/:id", use: noticePage)
        router.get("/notices/:id/text", use: noticeText)
    }

    // MARK: the queue

    func casesPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await casesView(request, context, [:])
    }

    /// Organisations the subject may report for: its own and those it audits.
    func reportable(_ subject: Subject) async throws -> [Organisation] {
        try await store.organisations().filter { organisation in
            organisation.kind != .authority
                && enforcement.permits(subject, .create, Resource(kind: .incident, owner: organisation.id, sector: organisation.sector))
                && CaseDesk.isReporter(subject, for: organisation.id)
        }
    }

    func filteredCases(_ request: Request, _ subject: Subject) async throws -> [IncidentCase] {
        let query = request.uri.queryParameters
        var list = try await desk.incidents(for: subject)
        if let status = query["status"].map(String.init), !status.isEmpty {
            list = status == "open" ? list.filter(\.isOpen) : list.filter { $0.status.rawValue == status }
        }
        if let organisation = query["organisation"].map(String.init), !organisation.isEmpty { list = list.filter { $0.organisation.description == organisation } }
        if let sector = query["sector"].map(String.init), !sector.isEmpty { list = list.filter { $0.sector.rawValue == sector } }
        if query["mine"] == "1" { list = list.filter { $0.assignee == subject.user.id } }
        return list
    }

    func casesView(_ request: Request, _ context: QilaRequestContext, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let subject = try subject(context)
        let list = try await filteredCases(request, subject)
        let openable = try await reportable(subject)
        let canTriage = try await requireCases(subject, list, openable: openable, context)
        let organisations = try await store.organisations()
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let stages = Dictionary(grouping: try await store.allStages(), by: \.caseID)
        let now = Date()
        let rows = list.map { incident -> [String: Any] in
            var row: [String: Any] = [
                "id": incident.id.description, "number": incident.number, "title": incident.title, "organisation": names[incident.organisation] ?? "",
                "status": incident.status.title, "statusSlug": incident.status.rawValue, "severity": incident.severity?.rawValue ?? "—",
                "tlp": incident.tlp.rawValue, "tlpSlug": incident.tlp.slug, "classification": incident.classification ?? "—",
                "awareness": incident.awareness.display, "onBehalf": incident.onBehalf,
            ]
            let clocks = desk.clocks(of: incident, stages: stages[incident.id] ?? [], now: now).flatMap { pair in pair.clocks.map { (pair.regime, $0) } }
            if let next = clocks.filter({ [.open, .dueSoon, .overdue].contains($0.1.state) }).min(by: { ($0.1.due ?? .distantFuture) < ($1.1.due ?? .distantFuture) }),
                let stage = next.0.stages.first(where: { $0.id == next.1.stage })
            {
                row["next"] = "\(stage.title): \(next.1.due?.display ?? "")"
                row["nextState"] = next.1.state.rawValue
            }
            return row
        }
        let primary = cases.desk.regimes.primaryRegimes
        let importable = subject.effectiveRoles.contains(.authorityAnalyst) ? organisations.filter { $0.kind != .authority && $0.kind != .sectorRegulator } : []
        var values: [String: Any] = [
            "cases": rows, "hasCases": !rows.isEmpty, "canOpen": !openable.isEmpty, "canTriage": canTriage,
            "openable": openable.map { ["id": $0.id.description, "name": $0.name, "selected": $0.id == subject.organisation.id] },
            "regimes": primary.map { regime -> [String: Any] in
                ["id": regime.id, "title": regime.title, "questions": regime.significance.map { ["id": $0.id, "text": $0.text, "regime": regime.id] }]
            },
            "classes": RSIT.classes.map { incidentClass -> [String: Any] in
                ["title": incidentClass.title, "types": incidentClass.types.map { ["value": "\(incidentClass.id)/\($0.id)", "title": $0.title] }]
            },
            "offences": PECAOffence.allCases.map { ["value": String($0.rawValue), "title": "s.\($0.rawValue) \($0.title)"] },
            "statuses": IncidentCase.Status.allCases.dropFirst().map { ["value": $0.rawValue, "title": $0.title, "selected": request.uri.queryParameters["status"].map(String.init) == $0.rawValue] },
            "filterOpen": request.uri.queryParameters["status"] == "open",
            "query": request.uri.query ?? "",
            "nowLocal": String(RFC3339.format(now).prefix(16)),
            "canImport": !importable.isEmpty, "importable": importable.map { ["id": $0.id.description, "name": $0.name] },
        ]
        values.merge(extra) { $1 }
        return render("cases", "Incident cases", context, values, status: status)
    }

    func openCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let regime = form["regime"] ?? ""
        var answers: [String: Bool] = [:]
        for (key, values) in form.values where key.hasPrefix("sig_\(regime)_") {
            answers[String(key.dropFirst("sig_\(regime)_".count))] = values.first == "yes"
        }
        let opening = CaseDesk.Opening(
            organisation: form["organisation"] ?? "", title: form["title"] ?? "", awareness: form["awareness"] ?? "", regime: regime,
            tlp: form["tlp"] ?? "amber", pap: form["pap"] ?? "amber", classification: form["classification"] ?? "", offences: form.all("offence"),
            personalData: form["personalData"] == "1", significance: answers, observables: form["observables"] ?? "")
        do {
            let incident = try await desk.open(opening, by: subject, gate: gate(context))
            return redirect("/cases/\(incident.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            var echo: [String: Any] = ["error": error.description]
            for key in ["title", "awareness", "observables"] { echo["form_\(key)"] = form[key] ?? "" }
            return try await casesView(request, context, echo, status: .badRequest)
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

    /// A CSV download of `lines` (RFC 4180: CRLF line ends), never cached.
    static func csv(_ lines: [String], filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }

    /// RFC 4180 quoting, as the case export does it.
    static func csvField(_ value: String) -> String { CaseDesk.csvField(value) }

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
        var extra: [String: Any] = [:]
        if let code = request.uri.queryParameters["done"], let message = Self.doneMessages[String(code)] { extra["message"] = message }
        return try await caseView(context, try caseID(context), extra)
    }

    func caseView(_ context: QilaRequestContext, _ id: CaseID, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let subject = try subject(context)
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
        var regimes: [[String: Any]] = []
        for (regime, clocks) in view.clocks {
            var stageRows: [[String: Any]] = []
            for clock in clocks {
                guard let stage = regime.stages.first(where: { $0.id == clock.stage }) else { continue }
                let row = drafts["\(regime.id)/\(stage.id)"]
                var item: [String: Any] = [
                    "regime": regime.id, "stage": stage.id, "title": stage.title, "rule": stage.due.description, "state": clock.state.rawValue,
                    "stateTitle": Self.stateTitle(clock.state), "due": clock.due?.display ?? "—",
                ]
                if let submitted = row?.submittedAt {
                    item["submitted"] = "\(submitted.display) by \(await name(row?.submittedBy))\(row?.onBehalf == true ? " (auditor)" : "")"
                    item["values"] = stage.fields.compactMap { field -> [String: Any]? in
                        guard let value = row?.values[field] else { return nil }
                        return ["label": regime.field(field)?.label ?? field, "value": value]
                    }
                } else if canReport && clock.state != .notRequested {
                    item["form"] = true
                    item["fields"] = stage.fields.compactMap { id -> [String: Any]? in
                        guard let field = regime.field(id) else { return nil }
                        return Self.fieldInput(field, value: row?.values[id] ?? "", regime: regime.id, stage: stage.id)
                    }
                    item["hasDraft"] = row != nil && !(row?.values.isEmpty ?? true)
                } else if clock.state == .notRequested && canHandle && stage.onRequest {
                    item["canRequest"] = true
                }
                stageRows.append(item)
            }
            regimes.append(["id": regime.id, "title": regime.title, "basis": regime.basis, "zone": regime.timeZone.identifier, "stages": stageRows])
        }
        var timeline: [[String: Any]] = []
        for entry in view.timeline.reversed() {
            timeline.append([
                "time": entry.time.display, "who": await name(entry.actor), "kind": entry.kind.rawValue, "text": entry.text, "internal": !entry.shared,
            ])
        }
        var tasks: [[String: Any]] = []
        for task in view.tasks {
            var row: [String: Any] = ["id": task.id.description, "title": task.title, "done": task.doneAt != nil, "due": task.due?.display ?? ""]
            if let assignee = task.assignee { row["assignee"] = await name(assignee) }
            tasks.append(row)
        }
        var requests: [[String: Any]] = []
        for item in view.requests {
            var row: [String: Any] = ["id": item.id.description, "question": item.question, "asked": item.askedAt.display, "by": await name(item.askedBy)]
            if let due = item.due { row["due"] = due.display }
            if let answer = item.answer { row["answer"] = answer; row["answered"] = item.answeredAt?.display ?? "" } else { row["canAnswer"] = canReport }
            requests.append(row)
        }
        let handlers = canHandle ? try await desk.handlers(of: incident) : []
        let lateOrMissing = view.clocks.contains { $0.clocks.contains(where: \.isLateOrMissing) }
        var header: [String: Any] = [
            "id": incident.id.description, "number": incident.number, "title": incident.title, "organisation": organisation?.name ?? "",
            "status": incident.status.title, "statusSlug": incident.status.rawValue, "severity": incident.severity?.rawValue ?? "not rated",
            "tlp": incident.tlp.rawValue, "tlpSlug": incident.tlp.slug, "pap": incident.pap, "awareness": incident.awareness.display,
            "reportedBy": await name(incident.reportedBy), "onBehalf": incident.onBehalf, "personalData": incident.personalData,
            "offences": incident.offences.compactMap(PECAOffence.init(rawValue:)).map { "\($0.section) — \($0.title)" },
            "isDraft": incident.status == .draft,
        ]
        if let classification = incident.classification.flatMap(RSITClassification.init(parsing:)) {
            header["classification"] = classification.title
            header["classificationTag"] = classification.machineTag
        }
        if let assignee = incident.assignee { header["assignee"] = await name(assignee) }
        if let merged = incident.mergedInto, let target = try await store.incident(merged) {
            header["mergedInto"] = ["id": target.id.description, "number": target.number]
        }
        var values: [String: Any] = [
            "case": header, "regimes": regimes, "timeline": timeline, "tasks": tasks, "requests": requests,
            "observables": view.observables.map { ["kind": $0.kind.title, "value": $0.value] }, "hasObservables": !view.observables.isEmpty,
            "attachments": view.attachments.map { attachment -> [String: Any] in
                ["id": attachment.id.description, "name": attachment.name, "type": attachment.mediaType, "size": attachment.size, "sha": attachment.sha256,
                 "uploaded": attachment.uploadedAt.display]
            },
            "correlated": view.correlated.map { pair -> [String: Any] in
                ["id": pair.incident.id.description, "number": pair.incident.number, "title": pair.incident.title,
                 "shared": pair.shared.map(\.value).joined(separator: ", "), "status": pair.incident.status.title]
            },
            "links": view.links.map { ["id": $0.incident.id.description, "number": $0.incident.number, "title": $0.incident.title, "kind": $0.kind] },
            "notices": view.notices.map { ["id": $0.id.description, "number": $0.number, "issued": $0.issuedAt.display] },
            "seesInternal": view.seesInternal, "canReport": canReport, "canHandle": canHandle, "canComment": canComment,
            "canAttach": canReport || canHandle, "canNotice": canHandle && lateOrMissing
                && enforcement.permits(subject, .create, Resource(kind: .complianceNotice, owner: incident.organisation, sector: incident.sector)),
            "statuses": IncidentCase.Status.allCases.dropFirst().map { ["value": $0.rawValue, "title": $0.title, "selected": $0 == incident.status] },
            "severities": IncidentCase.Severity.allCases.map { ["value": $0.rawValue, "selected": $0 == incident.severity] },
            "handlers": handlers.map { ["id": $0.id.description, "name": $0.displayName, "selected": $0.id == incident.assignee] },
            "classes": RSIT.classes.map { incidentClass -> [String: Any] in
                ["title": incidentClass.title,
                 "types": incidentClass.types.map { ["value": "\(incidentClass.id)/\($0.id)", "title": $0.title, "selected": incident.classification == "\(incidentClass.id)/\($0.id)"] }]
            },
            "offenceOptions": PECAOffence.allCases.map { ["value": String($0.rawValue), "title": "s.\($0.rawValue) \($0.title)", "checked": incident.offences.contains($0.rawValue)] },
            "tlps": TLP.allCases.filter { $0 <= subject.user.clearance }.map { ["value": $0.slug, "title": $0.rawValue, "selected": $0 == incident.tlp] },
            "paps": PAP.allCases.map { ["value": $0.rawValue, "title": $0.rawValue, "selected": $0.rawValue == incident.pap] },
            "maxMB": cases.settings.maximumAttachmentBytes / (1024 * 1024),
        ]
        values.merge(extra) { $1 }
        return render("case", "\(incident.number) · \(incident.title)", context, values, status: status)
    }

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
    static func fieldInput(_ field: ReportingRegime.Field, value: String, regime: String, stage: String) -> [String: Any] {
        var item: [String: Any] = ["id": field.id, "label": field.label, "value": value, "inputID": "\(regime)-\(stage)-\(field.id)"]
        if let help = field.help { item["help"] = help }
        switch field.kind {
        case .text(let maximum): item[maximum > 400 ? "isTextarea" : "isText"] = true; item["maximum"] = maximum
        case .number(let minimum, _): item["isNumber"] = true; if let minimum { item["minimum"] = Int(minimum) }
        case .boolean: item["isChoice"] = true; item["options"] = [["value": "no", "title": "No", "selected": value != "yes"], ["value": "yes", "title": "Yes", "selected": value == "yes"]]
        case .choice(let options): item["isChoice"] = true; item["options"] = options.map { ["value": $0, "title": $0, "selected": $0 == value] }
        case .dateTime: item["isDateTime"] = true; item["value"] = String(value.prefix(16))
        }
        return item
    }

    /// Runs a change from the case page and shows the page again: with the change's message, or
    /// with what was wrong (naming the field) and the form as typed.
    func onCase(
        _ request: Request, _ context: QilaRequestContext, message: String, echo: [String: String] = [:],
        _ change: (Subject, FormFields, CaseID) async throws -> Void
    ) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try caseID(context)
        do {
            try await change(subject, form, id)
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) {
            var values: [String: Any] = ["error": error.description]
            for (key, field) in echo { values[key] = form[field] ?? "" }
            return try await caseView(context, id, values, status: error.code == .conflict ? .conflict : .badRequest)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return redirect("/cases/\(id)?done=\(message)")
    }

    func stageAction(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let regime = try context.parameters.require("regime")
        let stage = try context.parameters.require("stage")
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try caseID(context)
        var values: [String: String] = [:]
        for (key, list) in form.values where key.hasPrefix("f_") { values[String(key.dropFirst(2))] = list.first ?? "" }
        do {
            if form["action"] == "draft" {
                try await desk.saveDraft(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
                return try await caseView(context, id, ["message": "Draft saved. Nothing is sent to the authority until you submit."])
            }
            _ = try await desk.submit(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
            return try await caseView(context, id, ["message": "Submitted to the authority."])
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) {
            // Keep what was typed: save it as the draft, then show every problem.
            try? await desk.saveDraft(id, regime: regime, stage: stage, values: values, by: subject, gate: gate(context))
            return try await caseView(context, id, ["error": error.description, "errorStage": "\(regime)/\(stage)"], status: .badRequest)
        }
    }

    func changeReport(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "saved") { subject, form, id in
            let change = CaseDesk.ReportChange(
                classification: form["classification"], offences: form["offencesShown"] == "1" ? form.all("offence") : nil, tlp: form["tlp"], pap: form["pap"],
                personalData: form["personalDataShown"] == "1" ? form["personalData"] == "1" : nil)
            _ = try await desk.change(id, change, by: subject, gate: gate(context))
        }
    }

    func triageCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "saved", echo: ["form_note": "note"]) { subject, form, id in
            _ = try await desk.triage(
                id, .init(status: form["status"], severity: form["severity"], assignee: form["assignee"], note: form["note"]), by: subject, gate: gate(context))
        }
    }

    func commentCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "comment", echo: ["form_comment": "text"]) { subject, form, id in
            try await desk.comment(id, text: form["text"] ?? "", shared: form["shared"] == "1", by: subject, gate: gate(context))
        }
    }

    func addTask(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "task", echo: ["form_task": "title"]) { subject, form, id in
            try await desk.addTask(id, title: form["title"] ?? "", assignee: form["assignee"] ?? "", due: form["due"] ?? "", by: subject, gate: gate(context))
        }
    }

    func completeTask(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "task-done") { subject, _, id in
            guard let task = CaseTaskID(try context.parameters.require("task")) else { throw QilaError(.notFound, "no such task") }
            try await desk.completeTask(id, task: task, by: subject, gate: gate(context))
        }
    }

    func requestInformation(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "request", echo: ["form_question": "question"]) { subject, form, id in
            try await desk.requestInformation(id, question: form["question"] ?? "", dueDays: form["dueDays"] ?? "", by: subject, gate: gate(context))
        }
    }

    func answerRequest(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "answer") { subject, form, id in
            guard let requestID = CaseRequestID(try context.parameters.require("request")) else { throw QilaError(.notFound, "no such request") }
            try await desk.answer(id, request: requestID, text: form["answer"] ?? "", by: subject, gate: gate(context))
        }
    }

    func requestStage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "stage-request") { subject, form, id in
            try await desk.requestStage(id, regime: form["regime"] ?? "", stage: form["stage"] ?? "", by: subject, gate: gate(context))
        }
    }

    func linkCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "link", echo: ["form_other": "other"]) { subject, form, id in
            try await desk.link(id, to: form["other"] ?? "", by: subject, gate: gate(context))
        }
    }

    func mergeCase(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "merge", echo: ["form_merge": "other"]) { subject, form, id in
            _ = try await desk.merge(id, into: form["other"] ?? "", by: subject, gate: gate(context))
        }
    }

    func addObservables(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await onCase(request, context, message: "observables", echo: ["form_observables": "observables"]) { subject, form, id in
            _ = try await desk.change(id, .init(observables: form["observables"] ?? ""), by: subject, gate: gate(context))
        }
    }

    func uploadAttachment(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try caseID(context)
        guard let boundary = MultipartForm.boundary(of: request.headers[.contentType]) else {
            throw Problem(.unsupportedMediaType, "send the file as multipart/form-data")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let form: MultipartForm
        do { form = try MultipartForm(body: body, boundary: boundary) } catch { throw Problem(.badRequest, "the upload is not valid multipart/form-data") }
        guard let file = form.file("file"), !(file.filename ?? "").isEmpty else {
            return try await caseView(context, id, ["error": "Choose a file to attach (field file)."], status: .badRequest)
        }
        do {
            let attachment = try await desk.attach(id, name: file.filename ?? "", bytes: file.bytes, by: subject, gate: gate(context))
            return try await caseView(context, id, ["message": "Attached \(attachment.name)."])
        } catch let error as QilaError where error.code == .invalidInput {
            return try await caseView(context, id, ["error": error.description], status: .badRequest)
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
            return try await caseView(context, id, ["error": error.description], status: .badRequest)
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
        let view = NoticeView(notice, caseNumber: try await store.incident(notice.caseID)?.number ?? "")
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
        guard let boundary = MultipartForm.boundary(of: request.headers[.contentType]) else {
            throw Problem(.unsupportedMediaType, "send the event as multipart/form-data")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let form: MultipartForm
        do { form = try MultipartForm(body: body, boundary: boundary) } catch { throw Problem(.badRequest, "the upload is not valid multipart/form-data") }
        do {
            guard let file = form.file("file"), !file.bytes.isEmpty else { throw QilaError.invalid("choose the MISP event's JSON file", field: "file") }
            let (incident, _) = try await desk.importMISP(file.bytes, organisation: form["organisation"] ?? "", by: subject, gate: gate(context))
            return redirect("/cases/\(incident.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            return try await casesView(request, context, ["error": error.description], status: .badRequest)
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
        return render("case-reports", "Incident figures", context, [
            "total": statistics.total, "national": national,
            "statuses": IncidentCase.Status.allCases.dropFirst().map { ["title": $0.title, "count": statistics.byStatus[$0] ?? 0] },
            "sectorChart": chart(statistics.bySector, "Incidents by sector, by month of awareness"),
            "classChart": chart(statistics.byClass, "Incidents by RSIT class, by month"),
            "severityChart": chart(statistics.bySeverity, "Incidents by severity, by month"),
            "timingChart": timing.svg(), "complianceChart": complianceChart.svg(),
            "timing": stageTitles.map { title -> [String: Any] in
                let hours = statistics.hoursToStage[title]!
                return ["stage": title, "count": hours.count, "median": String(format: "%.1f", Self.median(hours) ?? 0), "worst": String(format: "%.1f", hours.max() ?? 0)]
            },
            "compliance": compliance.map { record -> [String: Any] in
                ["organisation": names[record.organisation] ?? "", "onTime": record.onTime, "late": record.late, "missing": record.missing, "open": record.open,
                 "notices": record.notices, "percent": record.percentOnTime.map { "\($0) %" } ?? "—", "poor": record.missing + record.late > 0]
            },
        ])
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
        return render("campaigns", "Campaigns across organisations", context, [
            "campaigns": campaigns.map { campaign -> [String: Any] in
                ["kind": campaign.observable.kind.title, "value": campaign.observable.value, "organisations": Set(campaign.cases.map(\.organisation)).count,
                 "cases": campaign.cases.map { ["id": $0.id.description, "number": $0.number, "organisation": names[$0.organisation] ?? "", "title": $0.title] }]
            },
            "hasCampaigns": !campaigns.isEmpty,
        ])
    }
}

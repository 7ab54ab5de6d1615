import Foundation
import QilaCases
import QilaCore

/// What the case list is asked for: text, status, organisation, sector, severity, TLP, a range
/// of awareness dates, "assigned to me", a sort, and where a page starts.
struct CaseQuery: Sendable, Equatable {
    enum Sort: String, CaseIterable, Sendable {
        case updated, awareness, due, number
        var label: String {
            switch self {
            case .updated: "Last changed"
            case .awareness: "Became aware (newest first)"
            case .due: "Next deadline (soonest first)"
            case .number: "Number"
            }
        }
    }

    static let pageSize = 50

    var text = ""
    /// "open", a status, or nil for any.
    var status: String?
    var organisation: String?
    var sector: String?
    var severity: IncidentCase.Severity?
    var tlp: TLP?
    var awareFrom: String?
    var awareTo: String?
    var mine = false
    var sort = Sort.updated
    var after: String?

    init(parameters: (String) -> String?) {
        func value(_ name: String) -> String? { parameters(name).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) } }
        text = value("q") ?? ""
        status = value("status").flatMap { $0 == "open" || IncidentCase.Status(rawValue: $0) != nil ? $0 : nil }
        organisation = value("organisation")
        sector = value("sector")
        severity = value("severity").flatMap(IncidentCase.Severity.init(rawValue:))
        tlp = value("tlp").flatMap { TLP(label: $0) }
        awareFrom = value("from").flatMap { Self.isDay($0) ? $0 : nil }
        awareTo = value("to").flatMap { Self.isDay($0) ? $0 : nil }
        mine = parameters("mine") == "1"
        sort = value("sort").flatMap(Sort.init(rawValue:)) ?? .updated
        after = value("after").map { String($0.prefix(64)) }
    }

    static func isDay(_ text: String) -> Bool {
        text.count == 10 && text.enumerated().allSatisfy { index, character in [4, 7].contains(index) ? character == "-" : character.isASCII && character.isNumber }
    }

    func string(after cursor: String? = nil) -> String {
        var items: [(String, String)] = []
        if !text.isEmpty { items.append(("q", text)) }
        if let status { items.append(("status", status)) }
        if let organisation { items.append(("organisation", organisation)) }
        if let sector { items.append(("sector", sector)) }
        if let severity { items.append(("severity", severity.rawValue)) }
        if let tlp { items.append(("tlp", tlp.slug)) }
        if let awareFrom { items.append(("from", awareFrom)) }
        if let awareTo { items.append(("to", awareTo)) }
        if mine { items.append(("mine", "1")) }
        if sort != .updated { items.append(("sort", sort.rawValue)) }
        if let cursor { items.append(("after", cursor)) }
        return ListPaging.query(items)
    }

    /// The cases matching, in this query's order (ties by id); `due` is each case's next deadline.
    func apply(_ cases: [IncidentCase], names: [OrganisationID: String], me: UserID, due: [CaseID: Date], zone: DisplayZone) -> [IncidentCase] {
        let wanted = text.lowercased()
        let filtered = cases.filter { incident in
            if let status {
                if status == "open" ? !incident.isOpen : incident.status.rawValue != status { return false }
            }
            if let organisation, incident.organisation.description != organisation { return false }
            if let sector, incident.sector.rawValue != sector { return false }
            if let severity, incident.severity != severity { return false }
            if let tlp, incident.tlp != tlp { return false }
            if let awareFrom, zone.day(incident.awareness) < awareFrom { return false }
            if let awareTo, zone.day(incident.awareness) > awareTo { return false }
            if mine, incident.assignee != me { return false }
            if !wanted.isEmpty {
                let haystack = [incident.number, incident.title, names[incident.organisation] ?? "", incident.classification ?? ""].joined(separator: " ").lowercased()
                if !haystack.contains(wanted) { return false }
            }
            return true
        }
        return filtered.sorted { a, b in
            switch sort {
            case .updated: if a.updatedAt != b.updatedAt { return a.updatedAt > b.updatedAt }
            case .awareness: if a.awareness != b.awareness { return a.awareness > b.awareness }
            case .due:
                let left = due[a.id] ?? .distantFuture, right = due[b.id] ?? .distantFuture
                if left != right { return left < right }
            case .number: if a.number != b.number { return a.number > b.number }
            }
            return a.id.description < b.id.description
        }
    }

    func page(of ordered: [IncidentCase]) -> (rows: ArraySlice<IncidentCase>, next: String?, start: Int) {
        ListPaging.page(of: ordered, after: after, size: Self.pageSize) { $0.id.description }
    }
}

/// The case list with its filters, and the forms to report an incident and import a MISP event.
struct CasesView: Sendable {
    struct Row: Sendable {
        var id, number, title, organisation, status, statusSlug, severity, tlp, tlpSlug, classification, awareness: String
        var origin: String?
        var next: String?
        var nextState: String?
    }

    let cases: [Row]
    let hasCases: Bool
    let canTriage: Bool
    let q: String
    let statuses, organisations, sectors, severities, tlps, sorts: [Choice]
    let showOrganisations: Bool
    let from, to: String
    let mine: Bool
    let rangeText: String
    let nextHref, firstHref: String?
    let csvHref: String
    let zoneName: String
    let openForm: FormView?
    let importable: [Choice]
    let canImport: Bool
    let importError: String?

    static let openFormName = "case.open"

    /// The report form's fields: one checkbox per significance question of each regime.
    static func openFields(openable: [Organisation], own: OrganisationID, regimes: [ReportingRegime], clearance: TLP, state: FormState?, zone: DisplayZone)
        -> [FieldView]
    {
        var fields = [
            FieldView(
                "organisation", label: "Organisation", control: .select(openable.map { .init(value: $0.id.description, label: $0.name) }), required: true,
                state: state, initial: openable.contains(where: { $0.id == own }) ? own.description : openable.first?.id.description ?? ""),
            FieldView("title", label: "Short title", hint: "At most 200 characters.", required: true, state: state),
            FieldView(
                "awareness", label: "Time of awareness", hint: "When the organisation became aware of the incident. " + zone.inputHint + " Every deadline counts from this moment.", required: true, state: state,
                initial: zone.typed(Date()), autocomplete: "off"),
            FieldView(
                "regime", label: "Reporting regime",
                control: .select([.init(value: "", label: "the default for the organisation's sector")] + regimes.map { .init(value: $0.id, label: $0.title) }),
                state: state),
        ]
        for regime in regimes {
            for question in regime.significance {
                fields.append(
                    FieldView(
                        "sig_\(regime.id)_\(question.id)", label: "\(question.text) (\(regime.title))", control: .checkbox(value: "yes"), state: state))
            }
        }
        fields += [
            FieldView(
                "tlp", label: "TLP", control: .select(TLP.allCases.filter { $0 <= clearance }.map { .init(value: $0.slug, label: $0.rawValue) }),
                hint: "Who may see the report beyond the authority.", required: true, state: state, initial: TLP.amber.slug),
            FieldView(
                "pap", label: "PAP", control: .select(PAP.allCases.map { .init(value: $0.rawValue, label: $0.rawValue) }),
                hint: "What may be done with the observables.", required: true, state: state, initial: PAP.amber.rawValue),
            FieldView(
                "classification", label: "Classification (RSIT)",
                control: .select(
                    [.init(value: "", label: "not yet known")]
                        + RSIT.classes.flatMap { incidentClass in
                            incidentClass.types.map { .init(value: "\(incidentClass.id)/\($0.id)", label: "\(incidentClass.title): \($0.title)") }
                        }), state: state),
            FieldView(
                "offence", label: "Offences under PECA 2016 it may constitute",
                control: .checkboxes(PECAOffence.allCases.map { .init(value: String($0.rawValue), label: "s.\($0.rawValue) \($0.title)") }), state: state),
            FieldView("personalData", label: "Personal data were affected (adds the data-protection stages)", control: .checkbox(), state: state),
            FieldView(
                "observables", label: "Observables", control: .textarea(rows: 3),
                hint: "One per line: addresses, domains, URLs, hashes, e-mail addresses; account:name for an account.", state: state),
        ]
        return fields
    }

    init(
        rows: [Row], query: CaseQuery, matching: Int, start: Int, next: String?, canTriage: Bool, readableOrganisations: [Organisation], sectors: [Sector],
        openForm: FormView?, importable: [Organisation], importError: String?, zone: DisplayZone
    ) {
        cases = rows
        hasCases = !rows.isEmpty
        self.canTriage = canTriage
        q = query.text
        statuses =
            [Choice(value: "open", title: "open", selected: query.status == "open")]
            + IncidentCase.Status.allCases.map { Choice(value: $0.rawValue, title: $0.title, selected: query.status == $0.rawValue) }
        organisations = readableOrganisations.map { Choice(value: $0.id.description, title: $0.name, selected: query.organisation == $0.id.description) }
        showOrganisations = readableOrganisations.count > 1
        self.sectors = sectors.map { Choice(value: $0.id.rawValue, title: $0.name, selected: query.sector == $0.id.rawValue) }
        severities = IncidentCase.Severity.allCases.map { Choice(value: $0.rawValue, title: $0.rawValue, selected: query.severity == $0) }
        tlps = TLP.allCases.map { Choice(value: $0.slug, title: $0.rawValue, selected: query.tlp == $0) }
        sorts = CaseQuery.Sort.allCases.map { Choice(value: $0.rawValue, title: $0.label, selected: query.sort == $0) }
        from = query.awareFrom ?? ""
        to = query.awareTo ?? ""
        mine = query.mine
        rangeText = rows.isEmpty ? "No case matches." : "Cases \(start + 1)–\(start + rows.count) of \(matching) matching. Times in \(zone.name)."
        nextHref = next.map { "/cases?" + query.string(after: $0) }
        firstHref = query.after == nil ? nil : "/cases" + (query.string().isEmpty ? "" : "?" + query.string())
        csvHref = "/cases.csv" + (query.string().isEmpty ? "" : "?" + query.string())
        zoneName = zone.name
        self.openForm = openForm
        self.importable = importable.map { Choice(value: $0.id.description, title: $0.name) }
        canImport = !importable.isEmpty
        self.importError = importError
    }
}

/// One case: the incident, its stages with their clocks and forms, description, observables,
/// attachments, requests, tasks, related cases, notices and the timeline. Each form that was
/// refused comes back with what was typed and the reason beside it.
struct CaseView: Sendable {
    /// A complaint filed on the public portal: how the citizen tracks it, and whether the viewer
    /// may open the sealed contact details.
    struct Complaint: Sendable {
        var caseID, tracking, language, category: String
        var hasContact, mayOpenContact: Bool
    }

    var complaint: Complaint?
    struct Header: Sendable {
        struct Reference: Sendable {
            var id, number: String
        }

        var id, number, title, organisation, status, statusSlug, severity, tlp, tlpSlug, pap, awareness, reportedBy: String
        /// How the case came: reported by the organisation, by its auditor, or opened by the authority.
        var origin: String?
        var personalData, isDraft: Bool
        var offences: [String]
        var classification, classificationTag, assignee: String?
        var mergedInto: Reference?
        var fromAlert: Reference?
    }

    struct StageField: Sendable {
        var id, label, value, inputID: String
        var help: String?
        var isTextarea = false, isText = false, isNumber = false, isChoice = false, isDateTime = false
        var maximum: Int?
        var options: [Choice] = []
    }

    struct Stage: Sendable {
        var regime, stage, title, rule, due, state, stateTitle: String
        var submitted: String?
        var values: [Choice] = []
        var form = false
        var open = false
        var fields: [StageField] = []
        var hasDraft = false
        var canRequest = false
        var error: String?
    }

    struct Regime: Sendable {
        var id, title, basis, zone: String
        var stages: [Stage]
    }

    struct Entry: Sendable {
        var time, who, kind, text: String
        var link: String?
        var `internal`: Bool
    }

    struct Task: Sendable {
        var id, title, due: String
        var assignee: String?
        var done: Bool
    }

    struct Request: Sendable {
        var id, question, asked, by: String
        var due, answer, answered: String?
        var canAnswer: Bool
    }

    struct Observable: Sendable {
        var kind, value: String
    }

    struct Attachment: Sendable {
        var id, name, type, sha, uploaded: String
        var size: Int
    }

    struct Related: Sendable {
        var id, number, title, status, shared, kind: String
    }

    struct Notice: Sendable {
        var id, number, issued: String
    }

    let `case`: Header
    let message: String?
    let error: String?
    let regimes: [Regime]
    let timeline: [Entry]
    let tasks: [Task]
    let requests: [Request]
    let hasRequests: Bool
    let observables: [Observable]
    let hasObservables: Bool
    let attachments: [Attachment]
    let correlated: [Related]
    let links: [Related]
    let notices: [Notice]
    let hasNotices: Bool
    let seesInternal, canReport, canHandle, canComment, canAttach, canNotice: Bool
    let statuses, severities, handlers, classes, offenceOptions, tlps, paps: [Choice]
    let maxMB: Int
    let zoneHint: String
    let forms: Forms
    /// Sharing the case's observables with an intelligence community, for those who may add to one.
    var share: Share? = nil

    struct Share: Sendable {
        var collections, kinds, markings: [Choice]
        /// A refusal, beside the field it names.
        var collectionError, whatError, markingError: String?
    }

    /// What was typed into the case page's one refused form (if any), and its reason, which the
    /// page shows beside that form.
    struct Forms: Sendable {
        var note = "", comment = "", task = "", taskDue = "", question = "", dueDays = "", other = "", merge = "", observables = "", replyDays = "14"
        /// The sharing form's choices as last submitted, if it was refused.
        var shareCollection, shareWhat, shareMarking: String?
        var shareErrors: [String: String] = [:]
        var triageError, commentError, taskError, askError, linkError, mergeError, observablesError, describeError, attachError, noticeError, answerError: String?

        /// Form states are named `case.<form>`; the reason is kept under the form's name.
        init(_ kept: FormState?) {
            guard let kept, kept.form.hasPrefix("case."), kept.form != CaseView.doneName else { return }
            let form = String(kept.form.dropFirst("case.".count))
            let reason = kept.errors.values.first ?? kept.summary
            switch form {
            case "triage": note = kept.value("note"); triageError = reason
            case "comment": comment = kept.value("text"); commentError = reason
            case "task": task = kept.value("title"); taskDue = kept.value("due"); taskError = reason
            case "ask": question = kept.value("question"); dueDays = kept.value("dueDays"); askError = reason
            case "link": other = kept.value("other"); linkError = reason
            case "merge": merge = kept.value("other"); mergeError = reason
            case "observables": observables = kept.value("observables"); observablesError = reason
            case "describe": describeError = reason
            case "attach": attachError = reason
            case "notice": replyDays = kept.value("replyDays"); noticeError = reason
            case "answer": answerError = reason
            case "share": (shareCollection, shareWhat, shareMarking, shareErrors) = (kept.value("collection"), kept.value("what"), kept.value("marking"), kept.errors)
            default: break
            }
        }
    }

    /// A change made, shown once after the redirect.
    static let doneName = "case.done"
}

/// Incident figures: counts, charts by sector, class and severity, time to each stage, and each
/// organisation's record of reporting on time.
struct CaseReportsView: Sendable {
    struct Count: Sendable {
        var title: String
        var count: Int
    }

    struct Timing: Sendable {
        var stage, median, worst: String
        var count: Int
    }

    struct Compliance: Sendable {
        var organisation, percent: String
        var onTime, late, missing, open, notices: Int
        var poor: Bool
    }

    let total: Int
    let national: Bool
    let statuses: [Count]
    let sectorChart, classChart, severityChart, timingChart, complianceChart: String
    let timing: [Timing]
    let compliance: [Compliance]
}

/// Observables shared by cases of several organisations.
struct CampaignsView: Sendable {
    struct Case: Sendable {
        var id, number, organisation, title: String
    }

    struct Campaign: Sendable {
        var kind, value: String
        var organisations: Int
        var cases: [Case]
    }

    let campaigns: [Campaign]
    let hasCampaigns: Bool
}

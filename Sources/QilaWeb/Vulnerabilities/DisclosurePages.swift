import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaPublic
import QilaStore
import QilaVulnerabilities

/// Coordinated vulnerability disclosure: `/disclosures` lists researchers' new reports and the
/// cases (a vendor's contact sees only its own cases); a report's page opens a case or declines
/// it; a case's page holds its embargo, its vendors (invited with accounts that reach only their
/// cases), each vendor's answer, and the advisory whose release waits for the embargo's end.
struct DisclosurePages: PageCollection {
    let kit: PageKit
    static let navigation = [
        NavigationEntry(title: "Disclosures", path: "/disclosures", order: 45) { subject, enforcement in
            enforcement.permits(subject, .read, DisclosureDesk.desk) || subject.effectiveRoles.contains(.vendorContact)
        }
    ]

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/disclosures", use: list)
        routes.post("/disclosures", use: open)
        routes.get("/disclosures/reports/{id}", use: report)
        routes.post("/disclosures/reports/{id}/case", use: openFromReport)
        routes.post("/disclosures/reports/{id}/decline", use: decline)
        routes.get("/disclosures/{tracking}", use: show)
        routes.post("/disclosures/{tracking}/embargo", use: embargo)
        routes.post("/disclosures/{tracking}/vendors", use: addVendors)
        routes.post("/disclosures/{tracking}/invitations", use: invite)
        routes.post("/disclosures/{tracking}/answers", use: answer)
        routes.post("/disclosures/{tracking}/advisory", use: draftAdvisory)
        routes.post("/disclosures/{tracking}/release", use: release)
        routes.post("/disclosures/{tracking}/close", use: close)
        return routes
    }

    func desk() async throws -> DisclosureDesk { try await Self.desk(installation: kit.installation, web: kit.web) }

    static func desk(installation: Installation, web: WebConfiguration) async throws -> DisclosureDesk {
        let authenticator = installation.authenticator
        return DisclosureDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets,
            advisories: try await AdvisoryPages.desk(installation: installation, web: web), setupLink: { try await authenticator.createPasswordLink(for: $0) })
    }

    static let openName = "disclosure.open"
    static let declineName = "disclosure.decline"
    static let embargoName = "disclosure.embargo"
    static let vendorsName = "disclosure.vendors"
    static let inviteName = "disclosure.invite"
    static let answerName = "disclosure.answer"
    static let releaseName = "disclosure.release"
    static let closeName = "disclosure.close"
    static let actionName = "disclosure.action"
    static let doneName = "disclosure.done"

    func done(_ message: String, to path: String, _ context: QilaRequestContext, extra: [String: [String]] = [:]) async throws -> Response {
        try await refusedForms.redirect(
            FormState(form: Self.doneName, values: extra.merging(["message": [message]]) { $1 }), to: path, context: context, fragment: "disclosure-message")
    }

    // MARK: the list

    static func openFields(state: FormState?) -> [FieldView] {
        [
            FieldView("title", label: "Title", hint: "What vendors see first, such as “Authentication bypass in Edge Gateway web console”.", required: true, state: state, id: "case-title"),
            FieldView("summary", label: "Summary for the vendors", control: .textarea(rows: 5), hint: "Markdown: what the vulnerability is and how it was found.", required: true, state: state, id: "case-summary"),
        ] + embargoFields(state: state, prefix: "case-embargo")
    }

    static func embargoFields(state: FormState?, prefix: String) -> [FieldView] {
        [
            FieldView("embargoDate", label: "Embargo ends on (YYYY-MM-DD)", control: .text(type: "date"), hint: "Leave the three embargo fields empty until one is agreed.", state: state, id: "\(prefix)-date"),
            FieldView("embargoTime", label: "at (HH:MM, 24-hour)", control: .text(type: "time"), state: state, id: "\(prefix)-time"),
            FieldView(
                "embargoZone", label: "in the time zone", hint: "An IANA name: Asia/Karachi, Europe/London, America/New_York, UTC.", state: state,
                initial: DisplayZone.installationDefault, id: "\(prefix)-zone"),
        ]
    }

    static func embargo(_ fields: FormFields) -> EmbargoInput {
        EmbargoInput(date: fields["embargoDate"] ?? "", time: fields["embargoTime"] ?? "", zone: fields["embargoZone"] ?? "")
    }

    func list(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let desk = try await desk()
        let authority = enforcement.permits(subject, .read, DisclosureDesk.desk)
        guard authority || subject.effectiveRoles.contains(.vendorContact) else { throw Problem(.forbidden, "disclosure cases are the authority's and their vendors'") }
        let zone = DisplayZone.current
        let kept = try await refusedForms.kept(request, context: context)
        let reports = authority ? try await desk.reports(.new, for: subject, gate: gate(context)) : []
        let cases = try await desk.cases(for: subject)
        let now = Date()
        let view = DisclosureListView(
            reports: reports.map {
                .init(reference: $0.reference, link: "/disclosures/reports/\($0.id)", product: "\($0.vendor) \($0.product) \($0.version)", received: zone.format($0.createdAt))
            },
            hasReports: !reports.isEmpty, authority: authority,
            cases: cases.map { item in
                let record = item.record
                return .init(
                    tracking: record.trackingID, link: "/disclosures/\(record.trackingID)", title: record.title, status: record.status.rawValue,
                    vendors: String(item.vendors),
                    embargo: record.embargoAt.map { EmbargoInput.describe($0, zone: record.embargoZone ?? "UTC") } ?? "not agreed yet",
                    ended: record.embargoAt.map { $0 <= now } ?? false)
            },
            hasCases: !cases.isEmpty,
            openForm: authority
                ? FormView(
                    action: "/disclosures", submit: "Open the case", fields: Self.openFields(state: kept?.form == Self.openName ? kept : nil),
                    state: kept?.form == Self.openName ? kept : nil, id: "open-form")
                : nil,
            message: kept?.form == Self.doneName ? kept?.value("message") : nil)
        return render("disclosures", "Coordinated disclosure", context, view)
    }

    func open(_ request: Request, context: QilaRequestContext) async throws -> Response { try await open(request, context: context, reportID: "") }

    func openFromReport(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await open(request, context: context, reportID: try context.parameters.require("id"))
    }

    func open(_ request: Request, context: QilaRequestContext, reportID: String) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: Self.openName, fields: fields)
        do {
            let record = try await desk().open(
                DisclosureDesk.Opening(title: fields["title"] ?? "", summary: fields["summary"] ?? "", reportID: reportID, embargo: Self.embargo(fields)),
                by: subject, gate: gate(context))
            return try await done("Opened \(record.trackingID). Add its vendors below.", to: "/disclosures/\(record.trackingID)", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            state.refuse(error, fields: Self.openFields(state: nil))
            return try await refusedForms.redirect(
                state, to: reportID.isEmpty ? "/disclosures" : "/disclosures/reports/\(reportID)", context: context, fragment: "open-form")
        }
    }

    // MARK: a researcher's report

    func report(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let desk = try await desk()
        let report = try await desk.report(try context.parameters.require("id"), for: subject, gate: gate(context))
        let contact = try await desk.contact(of: report, by: subject, gate: gate(context))
        let kept = try await refusedForms.kept(request, context: context)
        let openState =
            kept?.form == Self.openName
            ? kept
            : FormState(
                form: Self.openName,
                values: ["title": ["Vulnerability in \(report.vendor) \(report.product)"], "summary": [report.description], "embargoZone": [DisplayZone.installationDefault]])
        var caseLink: String?
        if let id = report.caseID, let record = try await kit.installation.store.disclosureCase(id) { caseLink = "/disclosures/\(record.trackingID)" }
        let view = DisclosureReportView(
            reference: report.reference, vendor: report.vendor, product: report.product, version: report.version.isEmpty ? "—" : report.version,
            description: report.description, credit: report.credit.isEmpty ? "not to be named" : report.credit, language: report.language,
            received: DisplayZone.current.format(report.createdAt), status: report.status.rawValue, note: report.note.isEmpty ? nil : report.note,
            contactName: contact?.name.isEmpty == false ? contact?.name : nil, contactEmail: contact?.email, caseLink: caseLink, reportID: report.id,
            openForm: report.status == .new
                ? FormView(action: "/disclosures/reports/\(report.id)/case", submit: "Open a case for it", fields: Self.openFields(state: openState), state: kept?.form == Self.openName ? kept : nil, id: "open-form")
                : nil,
            declineForm: report.status == .new
                ? FormView(
                    action: "/disclosures/reports/\(report.id)/decline", submit: "Decline the report",
                    fields: [FieldView("note", label: "Why it is declined", control: .textarea(rows: 3), hint: "Kept with the report; write to the researcher yourself.", required: true, state: kept?.form == Self.declineName ? kept : nil, id: "decline-note")],
                    state: kept?.form == Self.declineName ? kept : nil, id: "decline-form")
                : nil)
        return render("disclosure-report", "Report \(report.reference)", context, view)
    }

    func decline(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let fields = try await form(request, context)
        var state = FormState(form: Self.declineName, fields: fields)
        do {
            try await desk().decline(id, note: fields["note"] ?? "", by: subject, gate: gate(context))
            return try await done("Declined the report.", to: "/disclosures", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            state.refuse(error, fields: [FieldView("note", label: "Why it is declined", state: nil)])
            return try await refusedForms.redirect(state, to: "/disclosures/reports/\(id)", context: context, fragment: "decline-form")
        }
    }

    // MARK: a case

    static func inviteFields(state: FormState?, sectors: [Sector]) -> [FieldView] {
        [
            FieldView("vendor", label: "Vendor", hint: "Its name as it trades; a vendor of that name already registered is reused.", required: true, state: state, id: "invite-vendor"),
            FieldView(
                "sector", label: "Sector whose products it makes", control: .select([.init(value: "", label: "—")] + sectors.map { .init(value: $0.id.description, label: $0.name) }),
                state: state, id: "invite-sector"),
            FieldView("contactName", label: "Contact's name", required: true, state: state, id: "invite-name"),
            FieldView("contactEmail", label: "Contact's e-mail address", control: .text(type: "email"), hint: "Their user name; the account reaches only this vendor's cases.", required: true, state: state, id: "invite-email"),
        ]
    }

    static func answerFields(state: FormState?, vendors: [DisclosureVendor]?, initial: DisclosureVendor?) -> [FieldView] {
        var fields: [FieldView] = []
        if let vendors {
            fields.append(
                FieldView(
                    "organisation", label: "Vendor", control: .select(vendors.map { .init(value: $0.organisation.description, label: $0.organisationName) }),
                    state: state, id: "answer-vendor"))
        }
        fields += [
            FieldView(
                "status", label: "Status", control: .select(DisclosureVendor.Status.allCases.map { .init(value: $0.rawValue, label: $0.title) }), state: state,
                initial: initial?.status.rawValue ?? "", id: "answer-status"),
            FieldView(
                "statement", label: "Statement for the advisory", control: .textarea(rows: 4),
                hint: "Needed for affected, fix ready and not affected: what the advisory should say for this vendor.", state: state,
                initial: initial?.statement ?? "", id: "answer-statement"),
            FieldView("agreesEmbargo", label: "Agrees the embargo as it now stands", control: .checkbox(), state: state, initial: initial?.embargoAgreed == true ? "1" : "", id: "answer-agrees"),
        ]
        return fields
    }

    func show(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let desk = try await desk()
        let detail = try await desk.detail(tracking, for: subject, gate: gate(context))
        let record = detail.record
        let authority = enforcement.permits(subject, .update, DisclosureDesk.desk)
        let kept = try await refusedForms.kept(request, context: context)
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let zone = DisplayZone.current
        let open = record.status == .open
        let own = detail.vendors.first { $0.organisation == subject.organisation.id }
        let agreed = detail.vendors.filter(\.embargoAgreed).count
        var counts: [String: Int] = [:]
        for vendor in detail.vendors { counts[vendor.status.title, default: 0] += 1 }
        let chart =
            detail.vendors.isEmpty
            ? nil
            : BarChart(
                bars: DisclosureVendor.Status.allCases.filter { counts[$0.title] != nil }.map { BarChart.Bar(label: $0.title, values: ["vendors": counts[$0.title]!]) },
                series: ["vendors"], title: "Vendors by status"
            ).svg()
        var vendorOptions: [FieldView.Option] = []
        if authority && open {
            let present = Set(detail.vendors.map(\.organisation))
            vendorOptions = try await kit.installation.store.organisations().filter { $0.kind == .vendor && !present.contains($0.id) }.sorted { $0.name < $1.name }
                .map { .init(value: $0.id.description, label: $0.name) }
        }
        // The table can be narrowed to a status or a name: a case may have a hundred vendors.
        let statusFilter = queryValue(request, "status")
        let nameFilter = queryValue(request, "q")
        let shownVendors = detail.vendors.filter { vendor in
            (statusFilter.isEmpty || vendor.status.rawValue == statusFilter) && (nameFilter.isEmpty || vendor.organisationName.localizedCaseInsensitiveContains(nameFilter))
        }
        let advisory = detail.advisory
        var advisoryState: String?
        if let advisory {
            switch advisory.state {
            case .draft: advisoryState = "a draft, being written"
            case .review: advisoryState = record.releaseBy != nil ? "waiting for review; its release is approved for the embargo's end" : "waiting for review"
            case .published: advisoryState = "published"
            }
        }
        let embargoState = refused(Self.embargoName) ?? record.embargoAt.map { at in
            let fields = EmbargoInput.fields(of: at, zone: record.embargoZone ?? "UTC")
            return FormState(form: Self.embargoName, values: ["embargoDate": [fields.date], "embargoTime": [fields.time], "embargoZone": [fields.zone]])
        }
        let view = DisclosureCaseView(
            tracking: record.trackingID, title: record.title, status: record.status.rawValue, summaryHTML: SafeMarkdown.html(record.summary),
            opened: zone.format(record.createdAt),
            embargo: record.embargoAt.map { EmbargoInput.describe($0, zone: record.embargoZone ?? "UTC") },
            embargoInYourZone: record.embargoAt.map { zone.format($0) }, agreed: "\(agreed) of \(detail.vendors.count) vendors agree it",
            report: detail.report.map { .init(reference: $0.reference, link: authority ? "/disclosures/reports/\($0.id)" : nil, description: $0.description, product: "\($0.vendor) \($0.product) \($0.version)") },
            vendors: shownVendors.map { vendor in
                let visible = authority || vendor.organisation == subject.organisation.id
                return .init(
                    name: vendor.organisationName, status: vendor.status.title, statusClass: vendor.status.rawValue,
                    statement: visible ? (vendor.statement.isEmpty ? "—" : vendor.statement) : "—", agreed: vendor.embargoAgreed ? "yes" : "no",
                    updated: zone.format(vendor.updatedAt), own: vendor.organisation == subject.organisation.id)
            },
            hasVendors: !shownVendors.isEmpty, vendorCount: String(detail.vendors.count),
            shownCount: shownVendors.count == detail.vendors.count ? nil : "\(shownVendors.count) of \(detail.vendors.count) shown",
            statusFilters: [FieldView.Option(value: "", label: "Every status", selected: statusFilter.isEmpty)]
                + DisclosureVendor.Status.allCases.map { FieldView.Option(value: $0.rawValue, label: $0.title, selected: $0.rawValue == statusFilter) },
            nameFilter: nameFilter, chart: chart,
            advisory: advisory.map { .init(tracking: $0.trackingID, link: "/advisories/\($0.trackingID)", state: advisoryState ?? "") },
            authority: authority,
            embargoForm: authority && open
                ? FormView(
                    action: "/disclosures/\(tracking)/embargo", submit: record.embargoAt == nil ? "Set the embargo" : "Move the embargo",
                    fields: Self.embargoFields(state: embargoState, prefix: "embargo") + [
                        FieldView("reason", label: "Why it moves", control: .textarea(rows: 2), hint: "Needed when an agreed embargo moves; every vendor reads it and agrees again.", state: refused(Self.embargoName), id: "embargo-reason")
                    ], state: refused(Self.embargoName), id: "embargo-form")
                : nil,
            vendorsForm: authority && open && !vendorOptions.isEmpty
                ? FormView(
                    action: "/disclosures/\(tracking)/vendors", submit: "Add these vendors",
                    fields: [FieldView("organisations", label: "Registered vendors", control: .checkboxes(vendorOptions), state: refused(Self.vendorsName), id: "vendors-organisations")],
                    state: refused(Self.vendorsName), id: "vendors-form")
                : nil,
            inviteForm: authority && open
                ? FormView(
                    action: "/disclosures/\(tracking)/invitations", submit: "Invite the vendor",
                    fields: Self.inviteFields(state: refused(Self.inviteName), sectors: try await kit.installation.store.sectors()), state: refused(Self.inviteName),
                    id: "invite-form")
                : nil,
            setupLink: kept?.form == Self.doneName ? kept?.values["setupLink"]?.first : nil,
            answerForm: open && (authority ? !detail.vendors.isEmpty : own != nil)
                ? FormView(
                    action: "/disclosures/\(tracking)/answers", submit: authority ? "Record the answer" : "Save our answer",
                    fields: Self.answerFields(state: refused(Self.answerName), vendors: authority ? detail.vendors : nil, initial: authority ? nil : own),
                    state: refused(Self.answerName), id: "answer-form")
                : nil,
            answerHeading: authority ? "Record a vendor's answer" : "Your answer, for \(own?.organisationName ?? "your organisation")",
            canDraft: authority && open && advisory == nil,
            releaseForm: authority && open && advisory?.state == .review
                ? FormView(
                    action: "/disclosures/\(tracking)/release", submit: record.embargoAt.map { $0 <= Date() } == true ? "Publish now" : "Approve release at the embargo's end",
                    fields: [FieldView("summary", label: "What this revision says", hint: "Left empty: “Initial publication.”", state: refused(Self.releaseName), id: "release-summary")],
                    state: refused(Self.releaseName), id: "release-form")
                : nil,
            closeForm: authority && open
                ? FormView(
                    action: "/disclosures/\(tracking)/close", submit: "Close without an advisory",
                    fields: [FieldView("reason", label: "Why it closes", control: .textarea(rows: 2), required: true, state: refused(Self.closeName), id: "close-reason")],
                    state: refused(Self.closeName), id: "close-form")
                : nil,
            actionError: refused(Self.actionName)?.summary,
            message: kept?.form == Self.doneName ? kept?.value("message") : nil)
        return render("disclosure", "\(record.trackingID): \(record.title)", context, view)
    }

    func caseAction(
        _ request: Request, _ context: QilaRequestContext, form name: String, fragment: String, fields known: [FieldView],
        _ act: (DisclosureDesk, DisclosureCase, FormFields, Subject) async throws -> (message: String, extra: [String: [String]])
    ) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let fields = try await form(request, context)
        var state = FormState(form: name, fields: fields)
        let desk = try await desk()
        guard let record = try await kit.installation.store.disclosureCase(tracking) else { throw Problem(.notFound, "no disclosure case \(tracking)") }
        do {
            let (message, extra) = try await act(desk, record, fields, subject)
            return try await done(message, to: "/disclosures/\(record.trackingID)", context, extra: extra)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict || error.code == .forbidden {
            state.refuse(error, fields: known)
            return try await refusedForms.redirect(state, to: "/disclosures/\(record.trackingID)", context: context, fragment: fragment)
        }
    }

    func embargo(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await caseAction(request, context, form: Self.embargoName, fragment: "embargo-form", fields: Self.embargoFields(state: nil, prefix: "embargo") + [FieldView("reason", label: "Why it moves", state: nil)]) { desk, record, fields, subject in
            let changed = try await desk.setEmbargo(record.id, Self.embargo(fields), reason: fields["reason"] ?? "", by: subject, gate: gate(context))
            return ("Embargo until \(changed.embargoAt.map { EmbargoInput.describe($0, zone: changed.embargoZone ?? "UTC") } ?? ""); every vendor is asked to agree it.", [:])
        }
    }

    func addVendors(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await caseAction(request, context, form: Self.vendorsName, fragment: "vendors-form", fields: [FieldView("organisations", label: "Registered vendors", state: nil)]) { desk, record, fields, subject in
            let added = try await desk.addVendors(record.id, organisations: fields.all("organisations"), by: subject, gate: gate(context))
            return ("Added \(added) vendor\(added == 1 ? "" : "s").", [:])
        }
    }

    func invite(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await caseAction(request, context, form: Self.inviteName, fragment: "invite-form", fields: Self.inviteFields(state: nil, sectors: [])) { desk, record, fields, subject in
            let invitation = DisclosureDesk.Invitation(
                vendor: fields["vendor"] ?? "", sector: fields["sector"] ?? "", contactName: fields["contactName"] ?? "", contactEmail: fields["contactEmail"] ?? "")
            let (organisation, user, secret) = try await desk.invite(record.id, invitation, by: subject, gate: gate(context))
            return (
                "Invited \(user.displayName) of \(organisation.name). Send them this one-time link to set a password (shown once):",
                ["setupLink": [absolute("/setup/\(secret)", request)]]
            )
        }
    }

    func answer(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let authority = enforcement.permits(subject, .update, DisclosureDesk.desk)
        return try await caseAction(request, context, form: Self.answerName, fragment: "answer-form", fields: Self.answerFields(state: nil, vendors: [], initial: nil)) { desk, record, fields, subject in
            let organisation = authority ? fields["organisation"] ?? "" : subject.organisation.id.description
            let vendor = try await desk.answer(
                record.id, vendor: organisation,
                DisclosureDesk.VendorAnswer(status: fields["status"] ?? "", statement: fields["statement"] ?? "", agreesEmbargo: fields["agreesEmbargo"] == "1"),
                by: subject, gate: gate(context))
            return ("Recorded for \(vendor.organisationName): \(vendor.status.title.lowercased())\(vendor.embargoAgreed ? ", embargo agreed" : "").", [:])
        }
    }

    func draftAdvisory(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        _ = try await form(request, context)
        guard let record = try await kit.installation.store.disclosureCase(tracking) else { throw Problem(.notFound, "no disclosure case \(tracking)") }
        do {
            let advisory = try await desk().draftAdvisory(record.id, by: subject, gate: gate(context))
            return try await refusedForms.redirect(
                FormState(form: AdvisoryView.doneName, values: ["message": ["Drafted \(advisory.trackingID) from \(record.trackingID): finish it and send it for review."]]),
                to: "/advisories/\(advisory.trackingID)", context: context, fragment: "advisory-form")
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            var state = FormState(form: Self.actionName)
            state.refuse(error, fields: [])
            return try await refusedForms.redirect(state, to: "/disclosures/\(record.trackingID)", context: context, fragment: "advisory")
        }
    }

    func release(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await caseAction(request, context, form: Self.releaseName, fragment: "release-form", fields: [FieldView("summary", label: "What this revision says", state: nil)]) { desk, record, fields, subject in
            switch try await desk.approveRelease(record.id, summary: fields["summary"] ?? "", by: subject, gate: gate(context)) {
            case .published(let revision): return ("Published the advisory, revision \(revision.number).", [:])
            case .scheduled(let at):
                return ("Release approved: the advisory is published at \(EmbargoInput.describe(at, zone: record.embargoZone ?? "UTC")), when the embargo ends.", [:])
            }
        }
    }

    func close(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await caseAction(request, context, form: Self.closeName, fragment: "close-form", fields: [FieldView("reason", label: "Why it closes", state: nil)]) { desk, record, fields, subject in
            try await desk.close(record.id, reason: fields["reason"] ?? "", by: subject, gate: gate(context))
            return ("Closed \(record.trackingID) without an advisory.", [:])
        }
    }
}

struct DisclosureListView: Sendable {
    struct Report: Sendable { var reference, link, product, received: String }
    struct Case: Sendable {
        var tracking, link, title, status, vendors, embargo: String
        var ended: Bool
    }

    let reports: [Report]
    let hasReports: Bool
    let authority: Bool
    let cases: [Case]
    let hasCases: Bool
    let openForm: FormView?
    let message: String?
}

struct DisclosureReportView: Sendable {
    let reference, vendor, product, version, description, credit, language, received, status: String
    let note: String?
    let contactName: String?
    let contactEmail: String?
    let caseLink: String?
    let reportID: String
    let openForm: FormView?
    let declineForm: FormView?
}

struct DisclosureCaseView: Sendable {
    struct Report: Sendable {
        var reference: String
        var link: String?
        var description, product: String
    }
    struct Vendor: Sendable {
        var name, status, statusClass, statement, agreed, updated: String
        var own: Bool
    }
    struct Advisory: Sendable { var tracking, link, state: String }

    let tracking, title, status, summaryHTML, opened: String
    let embargo: String?
    let embargoInYourZone: String?
    let agreed: String
    let report: Report?
    let vendors: [Vendor]
    let hasVendors: Bool
    let vendorCount: String
    let shownCount: String?
    let statusFilters: [FieldView.Option]
    let nameFilter: String
    let chart: String?
    let advisory: Advisory?
    let authority: Bool
    let embargoForm: FormView?
    let vendorsForm: FormView?
    let inviteForm: FormView?
    let setupLink: String?
    let answerForm: FormView?
    let answerHeading: String
    let canDraft: Bool
    let releaseForm: FormView?
    let closeForm: FormView?
    let actionError: String?
    let message: String?
}

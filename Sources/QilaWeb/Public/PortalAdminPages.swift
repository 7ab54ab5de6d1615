import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaIntel
import QilaPublic
import QilaStore

/// The staff's side of the public portal: the authority publishes guides and alerts, chooses the
/// statistics and designates the complaints agency (`/admin/public`); analysts work through the
/// suspicious messages and websites the public reports (`/public-reports`); the agency's handler
/// opens a complainant's contact details from the case.
struct PortalAdminPages: PageCollection {
    let kit: PageKit
    let portal: PublicPortal
    let intel: IntelDesk
    static let navigation = [
        NavigationEntry(title: "Public portal", path: "/admin/public", order: 95) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .publicContent))
        },
        NavigationEntry(title: "Public reports", path: "/public-reports", order: 26) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .suspiciousReport))
        },
    ]

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/admin/public", use: overview)
        routes.post("/admin/public/publications", use: publish)
        routes.get("/admin/public/publications/:id", use: editPage)
        routes.post("/admin/public/publications/:id", use: revise)
        routes.post("/admin/public/publications/:id/withdraw", use: withdraw)
        routes.post("/admin/public/statistics", use: chooseStatistics)
        routes.post("/admin/public/agency", use: designate)
        routes.get("/public-reports", use: queue)
        routes.get("/public-reports/:id", use: report)
        routes.post("/public-reports/:id/confirm") { request, context in try await decide(request, context, confirm: true) }
        routes.post("/public-reports/:id/dismiss") { request, context in try await decide(request, context, confirm: false) }
        routes.post("/cases/:id/complaint-contact", use: contact)
        return routes
    }

    // MARK: publications

    func overview(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let publications = try await portal.publications.all(for: subject, gate: gate(context))
        let kept = try await refusedForms.kept(request, context: context)
        let zone = DisplayZone.current
        let organisations = try await store.organisations().filter(\.isOverseen)
        let current = try await portal.complaints.agency()
        let chosen = try await portal.publications.publishedStatistics()
        let mayDesignate = enforcement.permits(subject, .administer, Resource(kind: .publicContent))
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let view = PortalAdminView(
            items: publications.map { publication in
                PortalAdminView.Item(
                    id: publication.id, kind: publication.kind == .alert ? "Alert" : "Guide", title: publication.title,
                    href: "/public/\(publication.kind == .alert ? "alerts" : "guides")/\(publication.slug)", published: zone.format(publication.publishedAt),
                    state: publication.withdrawnAt.map { "withdrawn \(zone.format($0))" } ?? "published", urdu: !publication.titleUrdu.isEmpty,
                    withdrawn: publication.withdrawnAt != nil)
            },
            hasItems: !publications.isEmpty,
            publishForm: FormView(
                action: "/admin/public/publications", submit: "Publish", fields: PortalAdminView.publishFields(state: refused(PortalAdminView.publishName)),
                state: refused(PortalAdminView.publishName), id: "publish"),
            statisticsForm: FormView(
                action: "/admin/public/statistics", submit: "Save",
                fields: PortalAdminView.statisticsFields(chosen: chosen, state: refused(PortalAdminView.statisticsName)),
                state: refused(PortalAdminView.statisticsName), id: "statistics-form"),
            agencyForm: mayDesignate
                ? FormView(
                    action: "/admin/public/agency", submit: "Designate",
                    fields: PortalAdminView.agencyFields(organisations, current: current?.id, state: refused(PortalAdminView.agencyName)),
                    state: refused(PortalAdminView.agencyName), id: "agency-form")
                : nil,
            agency: current?.name ?? "none designated: the complaint form says complaints cannot be received",
            message: kept?.form == PortalAdminView.doneName ? kept?.value("message") : nil)
        return render("portal-admin", "Public portal", context, view)
    }

    func draft(_ fields: FormFields) -> PublicationDesk.Draft {
        var draft = PublicationDesk.Draft()
        draft.kind = fields["kind"] ?? "guide"
        draft.slug = fields["slug"] ?? ""
        draft.title = fields["title"] ?? ""
        draft.body = fields["body"] ?? ""
        draft.titleUrdu = fields["titleUrdu"] ?? ""
        draft.bodyUrdu = fields["bodyUrdu"] ?? ""
        return draft
    }

    func done(_ message: String, to path: String, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: PortalAdminView.doneName, values: ["message": [message]]), to: path, context: context)
    }

    func publish(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: PortalAdminView.publishName, fields: fields)
        do {
            let publication = try await portal.publications.publish(draft(fields), by: subject, gate: gate(context))
            return try await done("Published at /public/\(publication.kind == .alert ? "alerts" : "guides")/\(publication.slug).", to: "/admin/public", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: PortalAdminView.publishFields(state: nil))
            return try await refusedForms.redirect(state, to: "/admin/public", context: context, fragment: "publish")
        }
    }

    func editPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        guard let publication = try await portal.publications.all(for: subject, gate: gate(context)).first(where: { $0.id == id }) else {
            throw Problem(.notFound, "no such publication")
        }
        let kept = try await refusedForms.kept(request, context: context)
        let refused = kept?.form == PortalAdminView.publishName ? kept : nil
        var draft = PublicationDesk.Draft()
        (draft.title, draft.body, draft.titleUrdu, draft.bodyUrdu) = (publication.title, publication.body, publication.titleUrdu, publication.bodyUrdu)
        let view = PublicationEditView(
            title: publication.title, href: "/public/\(publication.kind == .alert ? "alerts" : "guides")/\(publication.slug)",
            form: FormView(
                action: "/admin/public/publications/\(id)", submit: "Save the revision",
                fields: PortalAdminView.publishFields(state: refused, draft: draft, editing: true), state: refused, id: "revise"))
        return render("portal-publication", "Revise: \(publication.title)", context, view)
    }

    func revise(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let fields = try await form(request, context)
        var state = FormState(form: PortalAdminView.publishName, fields: fields)
        do {
            _ = try await portal.publications.revise(id, draft(fields), by: subject, gate: gate(context))
            return try await done("Revision published.", to: "/admin/public", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: PortalAdminView.publishFields(state: nil, editing: true))
            return try await refusedForms.redirect(state, to: "/admin/public/publications/\(id)", context: context)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func withdraw(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        do {
            try await portal.publications.withdraw(try context.parameters.require("id"), by: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return try await done("Withdrawn from the public pages.", to: "/admin/public", context)
    }

    func chooseStatistics(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: PortalAdminView.statisticsName, fields: fields)
        do {
            try await portal.publications.publishStatistics(fields.all("statistics"), by: subject, gate: gate(context))
            return try await done("The statistics page shows what is ticked.", to: "/admin/public", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: PortalAdminView.statisticsFields(chosen: [], state: nil))
            return try await refusedForms.redirect(state, to: "/admin/public", context: context, fragment: "statistics-form")
        }
    }

    func designate(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: PortalAdminView.agencyName, fields: fields)
        return try await withReauthentication("/admin/public", for: subject) {
            do {
                try await portal.complaints.designate(fields["agency"] ?? "", by: subject, gate: gate(context))
                return try await done("Complaints now go to the designated agency.", to: "/admin/public", context)
            } catch let error as QilaError where error.code == .invalidInput {
                state.refuse(error, fields: PortalAdminView.agencyFields([], current: nil, state: nil))
                return try await refusedForms.redirect(state, to: "/admin/public", context: context, fragment: "agency-form")
            }
        }
    }

    // MARK: suspicious messages and websites

    func queue(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let status = request.uri.queryParameters["status"].flatMap { SuspiciousReport.Status(rawValue: String($0)) } ?? .new
        let reports = try await portal.suspicious.reports(status, for: subject, gate: gate(context))
        let zone = DisplayZone.current
        let view = SuspiciousQueueView(
            rows: reports.map {
                .init(
                    id: $0.id, reference: $0.reference, kind: $0.kind.rawValue, url: $0.url, sender: $0.sender, received: zone.format($0.createdAt),
                    status: $0.status.rawValue)
            },
            hasRows: !reports.isEmpty,
            tabs: SuspiciousReport.Status.allCases.map { .init(label: $0.rawValue.capitalized, href: "/public-reports?status=\($0.rawValue)", current: $0 == status) },
            message: try await refusedForms.kept(request, context: context).flatMap { $0.form == PortalAdminView.doneName ? $0.value("message") : nil })
        return render("suspicious-queue", "Reports from the public", context, view)
    }

    static let confirmName = "suspicious.confirm"
    static let dismissName = "suspicious.dismiss"

    func report(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let report: SuspiciousReport
        do {
            report = try await portal.suspicious.report(try context.parameters.require("id"), for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        let kept = try await refusedForms.kept(request, context: context)
        let zone = DisplayZone.current
        let writable = try await intel.collections(for: subject).filter(\.canWrite).map(\.record)
        let mayDecide = report.status == .new && enforcement.permits(subject, .update, Resource(kind: .suspiciousReport))
        let confirmState = kept?.form == Self.confirmName ? kept : nil
        let dismissState = kept?.form == Self.dismissName ? kept : nil
        let view = SuspiciousReportView(
            reference: report.reference, kind: report.kind.rawValue, url: report.url, sender: report.sender, headers: report.headers,
            description: report.description, received: zone.format(report.createdAt), status: report.status.rawValue,
            language: report.language == "ur" ? "Urdu" : "English", decided: report.decidedAt.map(zone.format), note: report.note.isEmpty ? nil : report.note,
            intelObject: report.intelObject, isNew: report.status == .new,
            indicators: SuspiciousReportDesk.observables(of: report).map { "\($0.kind.title): \($0.value)" },
            confirmForm: mayDecide
                ? FormView(
                    action: "/public-reports/\(report.id)/confirm", submit: "Confirm and share the indicators",
                    fields: Self.confirmFields(writable, state: confirmState), state: confirmState, id: "confirm")
                : nil,
            dismissForm: mayDecide
                ? FormView(action: "/public-reports/\(report.id)/dismiss", submit: "Dismiss", fields: Self.dismissFields(state: dismissState), state: dismissState, id: "dismiss")
                : nil)
        return render("suspicious-report", "Report \(report.reference)", context, view)
    }

    static func confirmFields(_ collections: [IntelCollectionRecord], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "collection", label: "Share into", control: .select(collections.map { .init(value: $0.id, label: $0.title) }), required: true, state: state,
                initial: collections.first { $0.kind == .national }?.id ?? "", id: "confirm-collection"),
            FieldView(
                "marking", label: "Marking",
                control: .select([.init(value: "clear", label: "TLP:CLEAR"), .init(value: "green", label: "TLP:GREEN"), .init(value: "amber", label: "TLP:AMBER")]),
                state: state, initial: "green", id: "confirm-marking"),
            FieldView("note", label: "Note", hint: "What it is, for the record.", state: state, id: "confirm-note"),
        ]
    }

    static func dismissFields(state: FormState?) -> [FieldView] {
        [FieldView("note", label: "Why it is dismissed", required: true, state: state, id: "dismiss-note")]
    }

    func decide(_ request: Request, _ context: QilaRequestContext, confirm: Bool) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let fields = try await form(request, context)
        var state = FormState(form: confirm ? Self.confirmName : Self.dismissName, fields: fields)
        do {
            let decided = try await portal.suspicious.decide(
                id, confirm: confirm, note: fields["note"] ?? "", collection: fields["collection"] ?? "", marking: fields["marking"] ?? "", by: subject,
                gate: gate(context))
            return try await done("\(decided.reference) \(confirm ? "confirmed; its indicators are shared" : "dismissed").", to: "/public-reports", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: confirm ? Self.confirmFields([], state: nil) : Self.dismissFields(state: nil))
            return try await refusedForms.redirect(state, to: "/public-reports/\(id)", context: context, fragment: confirm ? "confirm" : "dismiss")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    // MARK: complaints

    func contact(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        guard let id = CaseID(try context.parameters.require("id")), let incident = try await store.incident(id),
            let record = try await store.complaint(caseID: id)
        else { throw Problem(.notFound, "no complaint for this case") }
        let contact = try await portal.complaints.contact(of: id, by: subject, gate: gate(context))
        let view = ComplaintContactView(
            caseNumber: incident.number, caseHref: "/cases/\(id)", tracking: record.tracking, name: contact?.name ?? "", phone: contact?.phone ?? "",
            email: contact?.email ?? "", hasContact: contact != nil)
        return render("complaint-contact", "Complainant of \(incident.number)", context, view)
    }
}

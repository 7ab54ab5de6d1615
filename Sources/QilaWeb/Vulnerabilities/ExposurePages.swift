import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaStore
import QilaVulnerabilities

/// Inventories and exposure: `/exposure` for an organisation's people (its exposure, statuses,
/// inventories and their import), and for its auditor, its sector's regulator and the authority
/// (a table of the organisations they read, then any one of them).
struct ExposurePages: PageCollection {
    let kit: PageKit
    var desk: ExposureDesk { ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy) }
    static let navigation = [
        NavigationEntry(title: "Exposure", path: "/exposure", order: 46) { subject, enforcement in
            // Its own organisation's, another of its sector (a regulator, the authority), or one it audits.
            let candidates =
                [ExposureDesk.resource(subject.organisation), Resource(kind: .inventory, owner: OrganisationID(), sector: subject.organisation.sector)]
                + subject.user.auditedOrganisations.map { Resource(kind: .inventory, owner: $0) }
            return candidates.contains { enforcement.permits(subject, .read, $0) }
        }
    ]

    static let pageSize = 100

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/exposure", use: page)
        routes.post("/exposure/{organisation}/inventories", use: importInventory)
        routes.post("/exposure/{organisation}/statements", use: state)
        return routes
    }

    /// The organisations the subject may read the exposure of (the authority's own is none).
    func readable(_ subject: Subject) async throws -> [Organisation] {
        try await store.organisations().filter { $0.keepsOwnRecords && enforcement.permits(subject, .read, ExposureDesk.resource($0)) }
    }

    func organisation(_ context: QilaRequestContext, _ subject: Subject) async throws -> Organisation {
        let text = try context.parameters.require("organisation")
        guard let found = try await store.organisations().first(where: { $0.id.description == text }) else { throw Problem(.notFound, "no organisation \(text)") }
        return found
    }

    func page(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let readable = try await readable(subject)
        guard !readable.isEmpty else { throw Problem(.forbidden, "exposure is read by the organisation, its auditor, its sector's regulator and the authority") }
        let asked = request.uri.queryParameters["organisation"].map(String.init).flatMap { text in readable.first { $0.id.description == text } }
        let chosen = asked ?? (readable.count == 1 ? readable.first : readable.first { $0.id == subject.organisation.id })
        let zone = DisplayZone.current
        let today = CivilDay(Date())
        let kept = try await refusedForms.kept(request, context: context)
        var rows: [ExposureView.Row] = []
        var inventories: [ExposureView.Inventory] = []
        var counts: String?
        var chart: String?
        var importAction: String?
        let show = String(request.uri.queryParameters["show"] ?? "open")
        let offset = max(0, Int(String(request.uri.queryParameters["offset"] ?? "")) ?? 0)
        var shown: String?
        var emptyText = ""
        var previous: String?
        var next: String?
        if let chosen {
            let all = try await desk.exposure(of: chosen, for: subject, gate: gate(context))
            // Open ones first (overdue at the top, as sorted by due date); closed ones on request.
            let selected = all.filter { exposure in
                switch show {
                case "overdue": exposure.isOverdue(on: today)
                case "closed": exposure.status != .open
                case "all": true
                default: exposure.status == .open
                }
            }
            let exposures = Array(selected.dropFirst(offset).prefix(Self.pageSize))
            emptyText =
                all.isEmpty
                ? "Nothing in the inventories matches a listed KEV entry or a published advisory."
                : "None with this choice: \(all.count) in all."
            shown = selected.isEmpty ? nil : "\(offset + 1)–\(offset + exposures.count) of \(selected.count)"
            func link(_ offset: Int) -> String { "/exposure?organisation=\(chosen.id)&show=\(show)&offset=\(offset)" }
            previous = offset > 0 ? link(max(0, offset - Self.pageSize)) : nil
            next = offset + Self.pageSize < selected.count ? link(offset + Self.pageSize) : nil
            let mayState = enforcement.permits(subject, .update, ExposureDesk.resource(chosen))
            let refused = kept?.form == ExposureView.stateName ? kept : nil
            for (index, exposure) in exposures.enumerated() {
                let isRefused = refused.map { $0.value("component") == exposure.componentKey && $0.value("reference") == exposure.target.reference } ?? false
                let status = isRefused ? refused!.value("status") : exposure.status.rawValue
                let justification = isRefused ? refused!.value("justification") : (exposure.statement?.justification ?? "")
                let reference = exposure.target.reference
                let tracking = reference.split(separator: "#").first.map(String.init) ?? reference
                rows.append(
                    ExposureView.Row(
                        key: "n\(index)", reference: reference,
                        referenceLink: exposure.target.kind == .kev ? "/kev?q=\(reference)&state=all" : "/advisories/\(tracking)",
                        cve: exposure.target.kind == .kev ? "" : (exposure.target.cve ?? ""),
                        title: exposure.target.title, component: "\(exposure.component.vendor) \(exposure.component.name)".trimmingCharacters(in: .whitespaces),
                        version: exposure.component.version, due: exposure.due?.description ?? "—", status: exposure.status.label,
                        match: exposure.approximate ? "approximate (by \(exposure.basis == "name" ? "name" : "\(exposure.basis), version unknown"))" : "exact (\(exposure.basis))",
                        statement: exposure.statement.map { statement in
                            [statement.justification.flatMap { value in ExposureDesk.justifications.first { $0.value == value }?.label }, statement.note.isEmpty ? nil : statement.note,
                             zone.format(statement.statedAt)].compactMap { $0 }.joined(separator: " · ")
                        } ?? "",
                        overdue: exposure.isOverdue(on: today), approximate: exposure.approximate,
                        form: mayState
                            ? ExposureView.StateForm(
                                action: "/exposure/\(chosen.id)/statements", component: exposure.componentKey, kind: exposure.target.kind.rawValue, reference: reference,
                                statuses: ExposureDesk.Status.allCases.map { .init(value: $0.rawValue, label: $0.label, selected: $0.rawValue == status) },
                                justifications: ExposureDesk.justifications.map { .init(value: $0.value, label: $0.label, selected: $0.value == justification) },
                                note: isRefused ? refused!.value("note") : (exposure.statement?.note ?? ""), open: isRefused,
                                statusError: isRefused ? refused!.errors["status"] : nil, justificationError: isRefused ? refused!.errors["justification"] : nil,
                                noteError: isRefused ? refused!.errors["note"] : nil, summary: isRefused ? refused!.summary : nil)
                            : nil))
            }
            var tally: [String: Int] = [:]
            for exposure in all { tally[exposure.isOverdue(on: today) ? "overdue" : exposure.status.label, default: 0] += 1 }
            let order = ["overdue", "open", "mitigated", "patched", "not affected"]
            counts = all.isEmpty ? nil : order.compactMap { name in tally[name].map { "\($0) \(name)" } }.joined(separator: " · ")
            chart = all.isEmpty
                ? nil
                : BarChart(bars: order.map { BarChart.Bar(label: $0, values: ["exposures": tally[$0] ?? 0]) }, series: ["exposures"], title: "Exposures by status").svg()
            inventories = try await desk.inventories(of: chosen, for: subject, gate: gate(context)).map {
                .init(name: $0.name, format: $0.format, components: String($0.components), imported: zone.format($0.importedAt))
            }
            if enforcement.permits(subject, .create, ExposureDesk.resource(chosen)) { importAction = "/exposure/\(chosen.id)/inventories" }
        }
        // Several organisations: a row each, with what is open, overdue and closed.
        var organisations: [ExposureView.OrganisationRow] = []
        if readable.count > 1, asked == nil {
            for (organisation, exposures) in try await desk.exposure(of: readable, for: subject, gate: gate(context)) {
                let closed = exposures.filter { $0.status != .open }
                let days = closed.compactMap(\.daysToClose).sorted()
                let components = try await store.inventories(organisation: organisation.id.description).reduce(0) { $0 + $1.components }
                let overdue = exposures.filter { $0.isOverdue(on: today) }.count
                organisations.append(
                    .init(
                        name: organisation.name, link: "/exposure?organisation=\(organisation.id)", components: String(components),
                        open: String(exposures.count - closed.count), overdue: String(overdue), closed: String(closed.count),
                        median: days.isEmpty ? "—" : String(format: "%.1f", days[days.count / 2]), hasOverdue: overdue > 0))
            }
        }
        let view = ExposureView(
            organisationName: chosen?.name,
            choices: readable.count > 1 ? readable.map { .init(value: $0.id.description, label: $0.name, selected: $0.id == chosen?.id) } : [],
            hasChoices: readable.count > 1, rows: rows, hasRows: !rows.isEmpty,
            emptyText: inventories.isEmpty ? "No inventory has been imported yet: import one below." : emptyText, counts: counts, chart: chart, inventories: inventories,
            hasInventories: !inventories.isEmpty, importAction: importAction,
            importError: kept?.form == ExposureView.importFormName ? kept?.errors["file"] ?? kept?.errors["name"] : nil,
            importName: kept?.form == ExposureView.importFormName ? kept?.value("name") ?? "" : "", organisations: organisations,
            hasOrganisations: !organisations.isEmpty,
            shows: [("open", "Open"), ("overdue", "Overdue"), ("closed", "Closed"), ("all", "All")].map { .init(value: $0.0, label: $0.1, selected: $0.0 == show) },
            organisationID: chosen?.id.description ?? "", shown: shown, previous: previous, next: next, message: kept?.form == ExposureView.doneName ? kept?.value("message") : nil)
        return render("exposure", "Exposure", context, view)
    }

    func done(_ message: String, _ organisation: Organisation, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(
            FormState(form: ExposureView.doneName, values: ["message": [message]]), to: "/exposure?organisation=\(organisation.id)", context: context,
            fragment: "exposure-message")
    }

    func importInventory(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let organisation = try await organisation(context, subject)
        let form = try await multipartForm(request, context, sending: "the inventory")
        let name = form["name"] ?? ""
        do {
            guard let file = form.file("file"), !file.bytes.isEmpty else {
                throw QilaError.invalid("is required: a CycloneDX JSON SBOM or a CSV file", field: "file")
            }
            let summary = try await desk.importInventory(
                Data(file.bytes), file: file.filename ?? "inventory", name: name.isEmpty ? (file.filename ?? "inventory") : name, organisation: organisation,
                by: subject, gate: gate(context))
            return try await done(
                "Imported '\(summary.inventory.name)' (\(summary.inventory.format), \(summary.inventory.components) components): \(summary.exposures) exposures.",
                organisation, context)
        } catch let error as QilaError where error.code == .invalidInput {
            let text = error.sentence(naming: error.field == "name" ? "Name" : "The file")
            return try await refusedForms.redirect(
                FormState(form: ExposureView.importFormName, values: ["name": [name]], errors: [error.field == "name" ? "name" : "file": text]),
                to: "/exposure?organisation=\(organisation.id)", context: context, fragment: "import-form")
        }
    }

    func state(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let organisation = try await organisation(context, subject)
        let fields = try await form(request, context)
        var state = FormState(form: ExposureView.stateName, fields: fields)
        do {
            let statement = try await desk.state(
                organisation: organisation, component: fields["component"] ?? "", kind: fields["kind"] ?? "", reference: fields["reference"] ?? "",
                status: fields["status"] ?? "", justification: fields["justification"] ?? "", note: fields["note"] ?? "", by: subject, gate: gate(context))
            return try await done("\(statement.reference): \(ExposureDesk.Status(rawValue: statement.status)?.label ?? statement.status).", organisation, context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .notFound {
            state.refuse(
                error,
                fields: [
                    FieldView("status", label: "Status", state: nil), FieldView("justification", label: "Why not affected", state: nil),
                    FieldView("note", label: "Note", state: nil),
                ])
            return try await refusedForms.redirect(state, to: "/exposure?organisation=\(organisation.id)", context: context, fragment: "exposures")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaStore
import QilaVulnerabilities

/// The national catalogue of known exploited vulnerabilities: `/kev` for everyone signed in (the
/// entries with the due date that applies to the reader's organisation), where the authority also
/// imports CISA's catalogue, adds its own entries, records removals and sets due dates; and the
/// published catalogue at `/kev/known_exploited_vulnerabilities.json` (CISA's form) and `.ndjson`
/// (with removals), which need no sign-in.
struct KEVPages: PageCollection {
    let kit: PageKit
    var desk: KEVDesk { KEVDesk(store: installation.store, audit: installation.audit) }
    static let navigation = [
        NavigationEntry(title: "Exploited vulnerabilities", path: "/kev", order: 45) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .kevCatalogue))
        }
    ]
    static let pageSize = 100

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/kev", use: catalogue)
        routes.post("/kev/import", use: importCISA)
        routes.post("/kev/entries", use: saveEntry)
        routes.post("/kev/removals", use: remove)
        routes.post("/kev/deadlines", use: setDeadline)
        routes.get("/kev/known_exploited_vulnerabilities.json", use: publishedJSON)
        routes.get("/kev/known_exploited_vulnerabilities.ndjson", use: publishedStream)
        return routes
    }

    func catalogue(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let entries = try await desk.entries(for: subject, gate: gate(context))
        let rules = try await desk.deadlines(for: subject, gate: gate(context))
        let canEdit = enforcement.permits(subject, .update, Resource(kind: .kevCatalogue))
        let parameters = request.uri.queryParameters
        let query = queryValue(request, "q")
        let source = String(parameters["source"] ?? "")
        let state = String(parameters["state"] ?? "listed")
        let offset = max(0, Int(String(parameters["offset"] ?? "")) ?? 0)
        let needle = query.lowercased()
        let matching = entries.filter { record in
            (source.isEmpty || record.source.rawValue == source)
                && (state == "all" || (state == "removed") == (record.removal != nil))
                && (needle.isEmpty
                    || [record.cveID, record.vendorProject, record.product, record.vulnerabilityName].contains { $0.lowercased().contains(needle) })
        }.sorted { ($0.dateAdded, $0.cveID) > ($1.dateAdded, $1.cveID) }
        // An organisation's members see the date that applies to them; the authority and the
        // regulators see the entry's own (rules per sector are listed below the table).
        let own = subject.organisation.kind == .authority || subject.organisation.kind == .sectorRegulator ? nil : subject.organisation
        let page = matching.dropFirst(offset).prefix(Self.pageSize)
        let rows = page.map { record in
            let due = own.flatMap { KEVDesk.dueDate(of: record, for: $0, rules: rules)?.description } ?? record.dueDate
            return KEVView.Row(
                cve: record.cveID, vendorProduct: "\(record.vendorProject) \(record.product)", name: record.vulnerabilityName, added: record.dateAdded,
                due: due, ransomware: record.knownRansomwareCampaignUse, source: record.source == .cisa ? "CISA" : "Authority", tlp: record.tlp.rawValue,
                state: record.removal.map { "removed \($0.date): \($0.reason)" } ?? "listed", removed: record.removal != nil,
                dueTitle: due == record.dueDate ? "the entry's due date" : "the due date for \(own?.name ?? "")")
        }
        func link(_ offset: Int) -> String {
            var items = [URLQueryItem(name: "offset", value: String(offset))]
            if !query.isEmpty { items.append(URLQueryItem(name: "q", value: query)) }
            if !source.isEmpty { items.append(URLQueryItem(name: "source", value: source)) }
            items.append(URLQueryItem(name: "state", value: state))
            var components = URLComponents()
            components.path = "/kev"
            components.queryItems = items
            return components.string ?? "/kev"
        }
        // Entries added per year, CISA's and the authority's.
        var perYear: [String: [String: Int]] = [:]
        for record in entries where record.removal == nil {
            perYear[String(record.dateAdded.prefix(4)), default: [:]][record.source == .cisa ? "CISA" : "authority", default: 0] += 1
        }
        let chart =
            perYear.isEmpty
            ? nil
            : BarChart(
                bars: perYear.keys.sorted().map { BarChart.Bar(label: $0, values: perYear[$0]!) }, series: ["CISA", "authority"],
                title: "Entries listed, by the year they were added"
            ).svg()
        let sectors = try await store.sectors()
        let sectorNames = Dictionary(uniqueKeysWithValues: sectors.map { ($0.id.description, $0.name) })
        let zone = DisplayZone.current
        let kept = try await refusedForms.kept(request, context: context)
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let view = KEVView(
            rows: Array(rows), total: matching.count,
            shown: matching.isEmpty ? nil : "\(offset + 1)–\(offset + page.count) of \(matching.count)", query: query,
            emptyText: entries.isEmpty
                ? "The catalogue is empty: the authority imports CISA's catalogue here or with qila kev import."
                : "No entries match\(query.isEmpty ? "" : " “\(query)”") with these choices.",
            sources: [("", "CISA's and the authority's"), ("cisa", "CISA's"), ("authority", "The authority's")]
                .map { FieldView.Option(value: $0.0, label: $0.1, selected: $0.0 == source) },
            states: [("listed", "Listed"), ("removed", "Removed"), ("all", "All")].map { FieldView.Option(value: $0.0, label: $0.1, selected: $0.0 == state) },
            previous: offset > 0 ? link(max(0, offset - Self.pageSize)) : nil,
            next: offset + Self.pageSize < matching.count ? link(offset + Self.pageSize) : nil,
            dueHeading: own == nil ? "Due" : "Due for \(own!.name)",
            chart: chart,
            rules: rules.map { rule in
                KEVView.RuleRow(
                    entry: rule.cveID.isEmpty ? "every entry" : rule.cveID, scope: rule.scope == .sector ? "sector" : "criticality class",
                    value: rule.scope == .sector ? sectorNames[rule.scopeValue] ?? rule.scopeValue : rule.scopeValue,
                    deadline: rule.dueDate ?? "\(rule.days ?? 0) days after it was added", setAt: zone.format(rule.setAt))
            },
            hasRules: !rules.isEmpty, canEdit: canEdit,
            importError: refused(KEVView.importName)?.errors["file"],
            entryForm: canEdit
                ? FormView(action: "/kev/entries", submit: "Save the entry", fields: KEVView.entryFields(state: refused(KEVView.entryName)), state: refused(KEVView.entryName), id: "entry-form")
                : nil,
            removalForm: canEdit
                ? FormView(
                    action: "/kev/removals", submit: "Record the removal", fields: KEVView.removalFields(state: refused(KEVView.removalName)),
                    state: refused(KEVView.removalName), id: "removal-form")
                : nil,
            deadlineForm: canEdit
                ? FormView(
                    action: "/kev/deadlines", submit: "Set the due date", fields: KEVView.deadlineFields(state: refused(KEVView.deadlineName), sectors: sectors),
                    state: refused(KEVView.deadlineName), id: "deadline-form")
                : nil,
            message: kept?.form == KEVView.doneName ? kept?.value("message") : nil)
        return render("kev", "Known exploited vulnerabilities", context, view)
    }

    func done(_ message: String, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: KEVView.doneName, values: ["message": [message]]), to: "/kev", context: context, fragment: "kev-message")
    }

    func importCISA(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await multipartForm(request, context, sending: "CISA's catalogue")
        do {
            guard let file = form.file("file"), !file.bytes.isEmpty else {
                throw QilaError.invalid("is required: known_exploited_vulnerabilities.json as CISA publishes it", field: "file")
            }
            let summary = try await desk.importCISA(Data(file.bytes), file: file.filename ?? "catalogue.json", by: subject, gate: gate(context))
            var message = "Imported CISA's catalogue \(summary.catalogVersion): \(summary.added) added, \(summary.updated) updated, \(summary.unchanged) unchanged"
            if !summary.dropped.isEmpty { message += "; no longer listed by CISA, recorded as removed: \(summary.dropped.joined(separator: ", "))" }
            if !summary.keptRemoved.isEmpty { message += "; left removed as the authority decided: \(summary.keptRemoved.joined(separator: ", "))" }
            return try await done(message + ".", context)
        } catch let error as QilaError where error.code == .invalidInput {
            let text = error.field == nil ? error.description : error.sentence(naming: "The file")
            return try await refusedForms.redirect(
                FormState(form: KEVView.importName, errors: ["file": text]), to: "/kev", context: context, fragment: "import-form")
        }
    }

    func saveEntry(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var input = KEVDesk.EntryInput()
        input.cveID = fields["cveID"] ?? ""
        input.vendorProject = fields["vendorProject"] ?? ""
        input.product = fields["product"] ?? ""
        input.vulnerabilityName = fields["vulnerabilityName"] ?? ""
        input.dateAdded = fields["dateAdded"] ?? ""
        input.shortDescription = fields["shortDescription"] ?? ""
        input.requiredAction = fields["requiredAction"] ?? ""
        input.dueDate = fields["dueDate"] ?? ""
        input.knownRansomwareCampaignUse = fields["knownRansomwareCampaignUse"] ?? "Unknown"
        input.cwes = fields["cwes"] ?? ""
        input.notes = fields["notes"] ?? ""
        input.tlp = fields["tlp"] ?? TLP.clear.rawValue
        var state = FormState(form: KEVView.entryName, fields: fields)
        do {
            let record = try await desk.saveOwn(input, by: subject, gate: gate(context))
            return try await done("Saved \(record.cveID) (\(record.tlp.rawValue)).", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: KEVView.entryFields(state: nil))
            return try await refusedForms.redirect(state, to: "/kev", context: context, fragment: "entry-form")
        }
    }

    func remove(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: KEVView.removalName, fields: fields)
        do {
            let cve = (fields["cveID"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
            try await desk.remove(cve, on: fields["removedOn"] ?? "", reason: fields["reason"] ?? "", by: subject, gate: gate(context))
            return try await done("Recorded the removal of \(cve).", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: KEVView.removalFields(state: nil))
            return try await refusedForms.redirect(state, to: "/kev", context: context, fragment: "removal-form")
        }
    }

    func setDeadline(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: KEVView.deadlineName, fields: fields)
        do {
            let rule = try await desk.setDeadline(
                cve: fields["cveID"] ?? "", scope: fields["scope"] ?? "", value: fields["value"] ?? "", days: fields["days"] ?? "",
                dueDate: fields["dueDate"] ?? "", by: subject, gate: gate(context))
            return try await done("Due date set for \(rule.cveID.isEmpty ? "every entry" : rule.cveID), \(rule.scope.rawValue) \(rule.scopeValue).", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: KEVView.deadlineFields(state: nil, sectors: try await store.sectors()))
            return try await refusedForms.redirect(state, to: "/kev", context: context, fragment: "deadline-form")
        }
    }

    // MARK: published, without sign-in

    func publishedJSON(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let catalogue = try await desk.published(title: KEVDesk.defaultTitle)
        return Self.download(try catalogue.json(), type: "application/json")
    }

    func publishedStream(_ request: Request, context: QilaRequestContext) async throws -> Response {
        Self.download(try await desk.publishedStream(), type: "application/x-ndjson")
    }

    static func download(_ data: Data, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

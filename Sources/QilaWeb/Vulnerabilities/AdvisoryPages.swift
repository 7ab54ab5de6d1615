import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaPublic
import QilaStore
import QilaVulnerabilities

/// Advisories: `/advisories` lists what the reader may read (the authority also its working
/// copies); the authority writes an advisory on `/advisories/new`, sends it for review, and a
/// second person returns or publishes it on its page; every reader of an advisory gets its CSAF
/// document there. The CSAF provider tree itself is `CSAFProviderPages`.
struct AdvisoryPages: PageCollection {
    let kit: PageKit
    static let navigation = [
        NavigationEntry(title: "Advisories", path: "/advisories", order: 44) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .advisory)) || enforcement.permits(subject, .read, Resource(kind: .advisoryDraft))
        }
    ]

    static let pageSize = 50

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/advisories", use: list)
        routes.get("/advisories/new", use: newForm)
        routes.post("/advisories", use: begin)
        routes.get("/advisories/{tracking}", use: show)
        routes.get("/advisories/{tracking}/revisions/{number}", use: document)
        routes.post("/advisories/{tracking}/draft", use: save)
        routes.post("/advisories/{tracking}/submit", use: submit)
        routes.post("/advisories/{tracking}/return", use: sendBack)
        routes.post("/advisories/{tracking}/publish", use: publish)
        return routes
    }

    func desk() async throws -> AdvisoryDesk { try await Self.desk(kit) }

    /// The desk with the installation's publisher (the authority, at the public address) and CSAF signing key.
    static func desk(_ kit: PageKit) async throws -> AdvisoryDesk { try await desk(installation: kit.installation, web: kit.web) }

    static func desk(installation: Installation, web: WebConfiguration) async throws -> AdvisoryDesk {
        let authority = try await installation.store.organisations().first { $0.kind == .authority }
        let origin = PublicOrigin.configured(web).text
        let name = authority?.name ?? "Qila"
        let signer = try await AdvisoryDesk.signer(
            store: installation.store, sealingKey: installation.secrets.sealingKey, userID: "\(name) CSAF signing key <\(origin)/.well-known/csaf/>")
        return AdvisoryDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy,
            publisher: CSAFDocument.Publisher(name: name, namespace: origin), signer: signer, generatorVersion: QilaVersion.description)
    }

    func canWrite(_ subject: Subject) -> Bool { enforcement.permits(subject, .update, Resource(kind: .advisoryDraft)) }

    func list(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let desk = try await desk()
        let zone = DisplayZone.current
        let writer = canWrite(subject)
        // Members read at least CLEAR and GREEN advisories; an account limited to other things (a vendor's contact) is refused.
        guard writer || enforcement.permits(subject, .read, Resource(kind: .advisory)) else { throw Problem(.forbidden, "advisories are for members") }
        let published = try await desk.published(for: subject)
        var rows: [AdvisoryListView.Row] = []
        var seen = Set<String>()
        if writer {
            let latest = Dictionary(published.map { ($0.advisoryID, $0) }, uniquingKeysWith: { a, _ in a })
            for record in try await desk.workingCopies(for: subject, gate: gate(context)) {
                seen.insert(record.id)
                let score = latest[record.id].flatMap { try? JSONDecoder().decode(AdvisoryContent.self, from: Data($0.content.utf8)) }?.highestScore
                let state: String
                switch record.state {
                case .draft: state = record.publishedVersion == 0 ? "draft" : "revision \(record.publishedVersion + 1) being written"
                case .review: state = "waiting for review"
                case .published: state = "published, revision \(record.publishedVersion)"
                }
                rows.append(
                    AdvisoryListView.Row(
                        tracking: record.trackingID, title: record.title, tlp: record.tlp.rawValue, tlpClass: record.tlp.slug, state: state,
                        updated: zone.format(record.updatedAt), severity: score.map { Self.scoreText($0) } ?? "—", link: "/advisories/\(record.trackingID)"))
            }
        }
        for revision in published where !seen.contains(revision.advisoryID) {
            let content = try? JSONDecoder().decode(AdvisoryContent.self, from: Data(revision.content.utf8))
            let tracking = String(revision.path.split(separator: "/").last?.dropLast(5) ?? "")
            let record = try await store.advisory(revision.advisoryID)
            rows.append(
                AdvisoryListView.Row(
                    tracking: record?.trackingID ?? tracking, title: revision.title, tlp: revision.tlp.rawValue, tlpClass: revision.tlp.slug,
                    state: "revision \(revision.number)", updated: zone.format(revision.publishedAt),
                    severity: content?.highestScore.map { Self.scoreText($0) } ?? "—", link: "/advisories/\(record?.trackingID ?? tracking)"))
        }
        // Published advisories by month and marking, the last twelve months that have any.
        var perMonth: [String: [String: Int]] = [:]
        for revision in published {
            perMonth[String(RFC3339.format(revision.publishedAt).prefix(7)), default: [:]][revision.tlp.rawValue, default: 0] += 1
        }
        let months = perMonth.keys.sorted().suffix(12)
        let chart =
            months.isEmpty
            ? nil
            : BarChart(
                bars: months.map { BarChart.Bar(label: $0, values: perMonth[$0]!) }, series: TLP.allCases.map(\.rawValue),
                title: "Advisories by month of their latest revision, by marking"
            ).svg()
        // Searched by tracking id or title, fifty a page.
        let query = queryValue(request, "q")
        let offset = max(0, Int(String(request.uri.queryParameters["offset"] ?? "")) ?? 0)
        let matching = query.isEmpty ? rows : rows.filter { $0.tracking.localizedCaseInsensitiveContains(query) || $0.title.localizedCaseInsensitiveContains(query) }
        let page = Array(matching.dropFirst(offset).prefix(Self.pageSize))
        func link(_ offset: Int) -> String {
            var components = URLComponents()
            components.path = "/advisories"
            components.queryItems = [URLQueryItem(name: "offset", value: String(offset))] + (query.isEmpty ? [] : [URLQueryItem(name: "q", value: query)])
            return components.string ?? "/advisories"
        }
        let kept = try await refusedForms.kept(request, context: context)
        let view = AdvisoryListView(
            rows: page, hasRows: !page.isEmpty,
            emptyText: rows.isEmpty ? "No advisories yet\(writer ? ": write the first with the button above" : "")." : "No advisory matches “\(query)”.",
            query: query, shown: matching.count > Self.pageSize ? "\(offset + 1)–\(offset + page.count) of \(matching.count)" : nil,
            previous: offset > 0 ? link(max(0, offset - Self.pageSize)) : nil, next: offset + Self.pageSize < matching.count ? link(offset + Self.pageSize) : nil,
            canWrite: writer, chart: chart, message: kept?.form == AdvisoryView.doneName ? kept?.value("message") : nil)
        return render("advisories", "Advisories", context, view)
    }

    static func scoreText(_ score: Double) -> String { String(format: "%.1f", score) + " " + CVSSSeverity(score: score).rawValue.lowercased() }

    func newForm(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await gate(context).require(subject, .create, Resource(kind: .advisoryDraft))
        let kept = try await refusedForms.kept(request, context: context)
        let state = kept?.form == AdvisoryView.formName ? kept : nil
        let form = FormView(
            action: "/advisories", submit: "Save the draft",
            fields: AdvisoryView.fields(state: state, sectors: try await store.sectors(), organisations: try await store.organisations()), state: state,
            id: "advisory-form")
        let view = AdvisoryView(
            tracking: "New", title: "a new advisory", tlp: "", tlpClass: "", published: false, summaryHTML: "", detailsHTML: "", products: [],
            vulnerabilities: [], remediations: [], references: [], hasReferences: false, revisions: [], hasRevisions: false, state: "new", reviewNote: nil,
            submittedBy: nil, editForm: form, submitAction: nil, returnForm: nil, publishForm: nil, summaryError: nil, message: nil)
        return render("advisory", "Write an advisory", context, view)
    }

    func begin(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: AdvisoryView.formName, fields: fields)
        do {
            let record = try await desk().begin(AdvisoryView.input(from: fields), by: subject, gate: gate(context))
            return try await done("Saved the draft \(record.trackingID).", to: "/advisories/\(record.trackingID)", context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: AdvisoryView.fields(state: nil, sectors: [], organisations: []))
            return try await refusedForms.redirect(state, to: "/advisories/new", context: context, fragment: "advisory-form")
        }
    }

    func done(_ message: String, to path: String, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: AdvisoryView.doneName, values: ["message": [message]]), to: path, context: context, fragment: "advisory-message")
    }

    func show(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let desk = try await desk()
        let writer = canWrite(subject)
        let found = try await desk.revisions(trackingID: tracking, for: subject)
        var working: (record: AdvisoryRecord, input: AdvisoryInput)?
        if writer, let record = try await store.advisory(trackingID: tracking) { working = try await desk.workingCopy(record.id, for: subject, gate: gate(context)) }
        guard found != nil || working != nil else { throw Problem(.notFound, "no advisory \(tracking) that you may read") }
        if let latest = found?.revisions.last { try await desk.recordDisclosure(latest, to: subject, via: "page") }
        let zone = DisplayZone.current
        let latest = found?.revisions.last
        let content = try latest.map { try JSONDecoder().decode(AdvisoryContent.self, from: Data($0.content.utf8)) }
        let kept = try await refusedForms.kept(request, context: context)
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let record = working?.record
        var submitter = "someone"
        if let id = record?.submittedBy.flatMap(UserID.init), let user = try await store.user(id) { submitter = user.displayName }
        let sectors = try await store.sectors()
        let organisations = try await store.organisations()
        let editState = refused(AdvisoryView.formName) ?? working.map { AdvisoryView.state(of: $0.input) }
        let view = AdvisoryView(
            tracking: tracking, title: content?.title ?? record?.title ?? "", tlp: (content?.tlp ?? record?.tlp ?? .clear).rawValue,
            tlpClass: (content?.tlp ?? record?.tlp ?? .clear).slug, published: content != nil, summaryHTML: SafeMarkdown.html(content?.summary ?? ""),
            detailsHTML: content.map { SafeMarkdown.html($0.details) } ?? "",
            products: content?.products.map { product in
                .init(
                    vendor: product.vendor, name: product.name, affected: (try? VersionRange(product.affected))?.readable ?? product.affected,
                    fixed: product.fixed ?? "—", identifier: product.identifier ?? "")
            } ?? [],
            vulnerabilities: content?.vulnerabilities.enumerated().map { index, item in
                .init(
                    id: item.cve ?? "\(tracking)-\(index + 1)", title: item.title, cwe: item.cwe ?? "",
                    cvss31: item.cvss31Score.map(Self.scoreText) ?? "—", cvss31Vector: item.cvss31 ?? "",
                    cvss40: item.cvss40Score.map(Self.scoreText) ?? "—", cvss40Vector: item.cvss40 ?? "")
            } ?? [],
            remediations: content?.remediations.map { remediation in
                .init(
                    category: AdvisoryContent.remediationLabel(remediation.category),
                    details: remediation.details, url: remediation.url)
            } ?? [],
            references: content?.references.map { .init(url: $0.url, summary: $0.summary) } ?? [], hasReferences: !(content?.references.isEmpty ?? true),
            revisions: (found?.revisions ?? []).reversed().map {
                .init(number: String($0.number), date: zone.format($0.publishedAt), summary: $0.summary, csaf: "/advisories/\(tracking)/revisions/\($0.number)")
            },
            hasRevisions: !(found?.revisions.isEmpty ?? true),
            state: record.map { record in
                switch record.state {
                case .draft: record.publishedVersion == 0 ? "draft" : "revision \(record.publishedVersion + 1) being written"
                case .review: "waiting for review"
                case .published: "published"
                }
            },
            reviewNote: record?.state == .draft ? record?.reviewNote : nil, submittedBy: record?.state == .review ? submitter : nil,
            editForm: record.map { _ in
                FormView(
                    action: "/advisories/\(tracking)/draft", submit: record?.state == .published ? "Begin the next revision" : "Save the draft",
                    fields: AdvisoryView.fields(state: editState, sectors: sectors, organisations: organisations),
                    state: refused(AdvisoryView.formName), id: "advisory-form")
            },
            submitAction: record?.state == .draft ? "/advisories/\(tracking)/submit" : nil,
            returnForm: record?.state == .review
                ? FormView(
                    action: "/advisories/\(tracking)/return", submit: "Return it", fields: AdvisoryView.returnFields(state: refused(AdvisoryView.returnName)),
                    state: refused(AdvisoryView.returnName), id: "return-form")
                : nil,
            publishForm: record?.state == .review
                ? FormView(
                    action: "/advisories/\(tracking)/publish", submit: "Publish",
                    fields: AdvisoryView.publishFields(state: refused(AdvisoryView.publishName), first: record?.publishedVersion == 0),
                    state: refused(AdvisoryView.publishName), id: "publish-form")
                : nil,
            summaryError: refused(AdvisoryView.submitName)?.summary,
            message: kept?.form == AdvisoryView.doneName ? kept?.value("message") : nil)
        return render("advisory", "\(tracking): \(view.title)", context, view)
    }

    /// A revision's CSAF document, for a reader the advisory's marking allows.
    func document(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let number = try context.parameters.require("number", as: Int.self)
        guard let found = try await desk().revisions(trackingID: tracking, for: subject), let revision = found.revisions.first(where: { $0.number == number })
        else { throw Problem(.notFound, "no revision \(number) of an advisory \(tracking) that you may read") }
        try await desk().recordDisclosure(revision, to: subject, via: "csaf")
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentDisposition] = "attachment; filename=\"\(CSAFDocument.fileName(trackingID: tracking))\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: revision.document)))
    }

    func record(_ tracking: String) async throws -> AdvisoryRecord {
        guard let record = try await store.advisory(trackingID: tracking) else { throw Problem(.notFound, "no advisory \(tracking)") }
        return record
    }

    func save(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let fields = try await form(request, context)
        var state = FormState(form: AdvisoryView.formName, fields: fields)
        do {
            let record = try await record(tracking)
            _ = try await desk().save(record.id, AdvisoryView.input(from: fields), by: subject, gate: gate(context))
            return try await done("Saved the draft.", to: "/advisories/\(tracking)", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            state.refuse(error, fields: AdvisoryView.fields(state: nil, sectors: [], organisations: []))
            return try await refusedForms.redirect(state, to: "/advisories/\(tracking)", context: context, fragment: "advisory-form")
        }
    }

    func submit(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        _ = try await form(request, context)
        do {
            let record = try await record(tracking)
            _ = try await desk().submit(record.id, by: subject, gate: gate(context))
            return try await done("Sent for review: another analyst or administrator publishes it.", to: "/advisories/\(tracking)", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            // The draft's fault names the form's field: shown beside it, with the draft as saved.
            let record = try await record(tracking)
            var state = AdvisoryView.state(of: try AdvisoryDesk.decode(record.draft))
            state.refuse(error, fields: AdvisoryView.fields(state: nil, sectors: [], organisations: []))
            return try await refusedForms.redirect(state, to: "/advisories/\(tracking)", context: context, fragment: "advisory-form")
        }
    }

    func sendBack(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let fields = try await form(request, context)
        var state = FormState(form: AdvisoryView.returnName, fields: fields)
        do {
            let record = try await record(tracking)
            _ = try await desk().returnToAuthor(record.id, note: fields["note"] ?? "", by: subject, gate: gate(context))
            return try await done("Returned to the author.", to: "/advisories/\(tracking)", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            state.refuse(error, fields: AdvisoryView.returnFields(state: nil))
            return try await refusedForms.redirect(state, to: "/advisories/\(tracking)", context: context, fragment: "return-form")
        }
    }

    func publish(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let tracking = try context.parameters.require("tracking")
        let fields = try await form(request, context)
        var state = FormState(form: AdvisoryView.publishName, fields: fields)
        do {
            let record = try await record(tracking)
            let revision = try await desk().publish(record.id, summary: fields["summary"] ?? "", by: subject, gate: gate(context))
            return try await done("Published revision \(revision.number) (\(revision.tlp.rawValue)).", to: "/advisories/\(tracking)", context)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict || error.code == .forbidden {
            state.refuse(error, fields: AdvisoryView.publishFields(state: nil, first: false))
            return try await refusedForms.redirect(state, to: "/advisories/\(tracking)", context: context, fragment: "publish-form")
        }
    }
}

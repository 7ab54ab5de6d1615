import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaAssess
import QilaCore
import QilaPublic
import QilaStore
import QilaVulnerabilities
import Synchronization

/// The public pages at `/public/`: no sign-in, English and Urdu. Everything they show comes from
/// the portal's desks; every string from the translation table.
struct PublicPages: PageCollection {
    let kit: PageKit
    let portal: PublicPortal
    let campaigns: CampaignDesk
    let cache: PublicPageCache
    static let navigation: [NavigationEntry] = []
    static let languageCookie = "qila_lang"

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/public/", use: home)
        routes.get("/public/guides/:slug") { request, context in try await publication(.guide, request, context) }
        routes.get("/public/alerts/:slug") { request, context in try await publication(.alert, request, context) }
        routes.get("/public/directives/:id", use: directive)
        routes.get("/public/advisories/:tracking", use: advisory)
        routes.get("/public/statistics", use: statistics)
        routes.get("/public/report", use: complaintForm)
        routes.post("/public/report", use: fileComplaint)
        routes.get("/public/report/status", use: statusForm)
        routes.post("/public/report/status", use: checkStatus)
        routes.get("/public/suspicious", use: suspiciousForm)
        routes.post("/public/suspicious", use: reportSuspicious)
        routes.get("/public/vulnerabilities", use: vulnerabilityForm)
        routes.post("/public/vulnerabilities", use: reportVulnerability)
        routes.get("/public/passwords", use: passwords)
        routes.get("/public/self-check", use: selfCheck)
        routes.post("/public/self-check", use: selfCheckPlan)
        return routes
    }

    // MARK: language

    /// The reader's language: the switch (`lang` in the query, or a form's hidden field), then the
    /// cookie the switch set, then `Accept-Language`; and whether the choice is to be remembered.
    func language(_ request: Request, form: String? = nil) -> (PublicLanguage, remember: Bool) {
        if let chosen = request.uri.queryParameters["lang"].map(String.init), let language = PublicLanguage(rawValue: chosen) {
            return (language, request.cookies[Self.languageCookie]?.value != language.rawValue)
        }
        let choice = form ?? request.cookies[Self.languageCookie]?.value
        return (PublicLanguage.negotiate(choice: choice, acceptLanguage: request.headers[.acceptLanguage]), false)
    }

    func t(_ language: PublicLanguage) -> Translations { Translations(text: portal.text, language: language) }

    func page(
        _ template: String, _ titleKey: String, _ language: PublicLanguage, path: String, _ view: any Sendable, status: HTTPResponse.Status = .ok,
        script: String? = nil, remember: Bool = false, title: String? = nil
    ) -> Response {
        renderer.publicPage(
            template, title: title ?? t(language)[titleKey], language: language, path: path, view: view, status: status, script: script, remember: remember)
    }

    func notFound(_ language: PublicLanguage, path: String) -> Response {
        page("public-not-found", "not_found_title", language, path: path, EmptyPublicView(), status: .notFound)
    }

    // MARK: reading

    func home(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        if remember { return try await homePage(language, remember: true) }
        return try await cache.page("home:\(language.rawValue)") { try await homeParts(language, remember: false) }
    }

    func homePage(_ language: PublicLanguage, remember: Bool) async throws -> Response {
        let (headers, body) = try await homeParts(language, remember: remember)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    func homeParts(_ language: PublicLanguage, remember: Bool) async throws -> (HTTPFields, ByteBuffer) {
        let t = t(language)
        let publications = try await portal.publications.published()
        func item(_ publication: PublicPublication) -> PublicHomeView.Item {
            let urdu = language == .urdu && !publication.titleUrdu.isEmpty
            return PublicHomeView.Item(
                href: "/public/\(publication.kind == .alert ? "alerts" : "guides")/\(publication.slug)", title: urdu ? publication.titleUrdu : publication.title,
                summary: SafeMarkdown.plain(urdu ? publication.bodyUrdu : publication.body), published: t("published_on", ["date": Self.day(publication.publishedAt)]),
                foreign: language == .urdu && !urdu)
        }
        let directives = try await campaigns.publicDirectives().prefix(20).compactMap { campaign -> PublicHomeView.DirectiveLink? in
            guard let directive = campaign.directive else { return nil }
            return PublicHomeView.DirectiveLink(
                href: "/public/directives/\(campaign.id)", title: "\(directive.reference): \(campaign.title)",
                due: t("directive_due", ["date": Self.day(campaign.dueAt)]))
        }
        let advisoryDesk = try await AdvisoryPages.desk(kit)
        var advisories: [PublicHomeView.DirectiveLink] = []
        for revision in try await advisoryDesk.published(for: nil).prefix(10) {
            guard let record = try await store.advisory(revision.advisoryID) else { continue }
            advisories.append(
                PublicHomeView.DirectiveLink(
                    href: "/public/advisories/\(record.trackingID)", title: "\(record.trackingID): \(revision.title)",
                    due: t("advisory_revision", ["number": String(revision.number), "date": Self.day(revision.publishedAt)])))
        }
        let view = PublicHomeView(
            alerts: publications.filter { $0.kind == .alert }.prefix(10).map(item), guides: publications.filter { $0.kind == .guide }.prefix(30).map(item),
            directives: Array(directives), advisories: advisories)
        return renderer.publicPageParts("public-home", title: t["home_title"], language: language, path: "/public/", view: view, remember: remember)
    }

    func publication(_ kind: PublicPublication.Kind, _ request: Request, _ context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        let slug = try context.parameters.require("slug")
        let path = "/public/\(kind == .alert ? "alerts" : "guides")/\(slug)"
        guard let publication = try await portal.publications.published(slug: slug), publication.kind == kind else { return notFound(language, path: path) }
        let t = t(language)
        let urdu = language == .urdu && !publication.titleUrdu.isEmpty
        let view = PublicPublicationView(
            kindLabel: t[kind == .alert ? "alert_label" : "guide_label"], title: urdu ? publication.titleUrdu : publication.title,
            published: t("published_on", ["date": Self.day(publication.publishedAt)]),
            updated: publication.updatedAt > publication.publishedAt.addingTimeInterval(60) ? t("updated_on", ["date": Self.day(publication.updatedAt)]) : nil,
            html: SafeMarkdown.html(urdu ? publication.bodyUrdu : publication.body), foreign: language == .urdu && !urdu)
        return page("public-publication", "", language, path: path, view, remember: remember, title: view.title)
    }

    func directive(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        let text = try context.parameters.require("id")
        let path = "/public/directives/\(text)"
        guard let id = CampaignID(text), let campaign = try await campaigns.publicDirective(id), let directive = campaign.directive else {
            return notFound(language, path: path)
        }
        let view = PublicDirectiveView(
            reference: directive.reference, title: campaign.title, due: t(language)("directive_due", ["date": Self.day(campaign.dueAt)]),
            html: SafeMarkdown.html(directive.body), requirements: directive.requirements.map { .init(id: $0.id, text: $0.text) })
        return page("public-directive", "", language, path: path, view, remember: remember, title: "\(directive.reference): \(campaign.title)")
    }

    /// A TLP:CLEAR advisory's latest revision; anything else is not found here.
    func advisory(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        let tracking = try context.parameters.require("tracking")
        let path = "/public/advisories/\(tracking)"
        guard let found = try await AdvisoryPages.desk(kit).revisions(trackingID: tracking, for: nil), let latest = found.revisions.last,
            let content = try? JSONDecoder().decode(AdvisoryContent.self, from: Data(latest.content.utf8))
        else { return notFound(language, path: path) }
        let view = PublicAdvisoryView(
            tracking: tracking, title: content.title,
            revision: t(language)("advisory_revision", ["number": String(latest.number), "date": Self.day(latest.publishedAt)]),
            summaryHTML: SafeMarkdown.html(content.summary), detailsHTML: SafeMarkdown.html(content.details),
            products: content.products.map {
                .init(vendor: $0.vendor, name: $0.name, affected: (try? VersionRange($0.affected))?.readable ?? $0.affected, fixed: $0.fixed ?? "—")
            },
            vulnerabilities: content.vulnerabilities.enumerated().map { index, item in
                let score = [item.cvss40Score, item.cvss31Score].compactMap { $0 }.first
                return .init(id: item.cve ?? "\(tracking)-\(index + 1)", title: item.title, severity: score.map(AdvisoryPages.scoreText) ?? "")
            },
            remediations: content.remediations.map { remediation in
                .init(
                    category: AdvisoryContent.remediationLabel(remediation.category),
                    details: remediation.details, url: remediation.url)
            },
            references: content.references.map { .init(url: $0.url, summary: $0.summary) }, csaf: "/.well-known/csaf/\(latest.path)")
        return page("public-advisory", "", language, path: path, view, remember: remember, title: "\(tracking): \(content.title)")
    }

    func statistics(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        if remember {
            let (headers, body) = try await statisticsParts(language, remember: true)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        return try await cache.page("statistics:\(language.rawValue)") { try await statisticsParts(language, remember: false) }
    }

    func statisticsParts(_ language: PublicLanguage, remember: Bool) async throws -> (HTTPFields, ByteBuffer) {
        let t = t(language)
        let (year, minimum, figures) = try await portal.publications.figures()
        let tables = figures.map { figure -> PublicStatisticsView.Table in
            let largest = max(1, figure.rows.compactMap(\.count).max() ?? 1)
            let heading: String
            switch figure.statistic {
            case .incidentsByClass: heading = t["statistics_incidents"]
            case .complaintsByCategory: heading = t["statistics_complaints"]
            case .suspiciousReports: heading = t["statistics_suspicious"]
            }
            return PublicStatisticsView.Table(
                heading: heading,
                rows: figure.rows.map { row in
                    PublicStatisticsView.Row(
                        label: t[row.key], shown: row.count.map { Self.number($0) } ?? t["statistics_withheld"],
                        share: row.count.map { Int((Double($0) / Double(largest) * 100).rounded()) } ?? 0)
                })
        }
        let view = PublicStatisticsView(
            intro: t("statistics_intro", ["year": String(year), "minimum": Self.number(minimum)]), tables: tables)
        return renderer.publicPageParts("public-statistics", title: t["statistics_title"], language: language, path: "/public/statistics", view: view, remember: remember)
    }

    func passwords(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        return page("public-passwords", "passwords_title", language, path: "/public/passwords", EmptyPublicView(), script: "/assets/public-passwords.js", remember: remember)
    }

    // MARK: forms

    /// A form field with its label and hint in `language`.
    func field(
        _ name: String, _ label: String, _ language: PublicLanguage, hint: String? = nil, value: String = "", error: String? = nil, type: String = "text",
        textarea: Bool = false, rows: Int = 5, required: Bool = false, autocomplete: String? = nil, inputmode: String? = nil, ltr: Bool = false
    ) -> PublicField {
        let t = t(language)
        return PublicField(
            id: name, name: name, label: t[label], hint: hint, value: value, fieldError: error, inputType: type, isTextarea: textarea, rows: rows,
            autocomplete: autocomplete, required: required, requiredText: t["required"], optionalText: t["optional"], errorPrefix: t["error_prefix"],
            inputmode: inputmode, ltr: ltr)
    }

    static func errorLines(_ refusals: [PublicRefusal], _ language: PublicLanguage) -> [PublicErrorLine] {
        refusals.map { PublicErrorLine(field: $0.field == "form" || $0.field == "stamp" ? "main" : $0.field, text: $0.text(language)) }
    }

    func complaintView(
        _ language: PublicLanguage, form: ComplaintDesk.Form = .init(), refusals: [PublicRefusal] = [], unavailable: Bool = false
    ) -> PublicComplaintView {
        let t = t(language)
        func error(_ field: String) -> String? { refusals.first { $0.field == field }?.text(language) }
        return PublicComplaintView(
            unavailable: unavailable, stamp: portal.complaints.stamp.issue(form: "complaint", now: Date()),
            categories: ComplaintCategory.allCases.map { .init(value: $0.rawValue, label: t[$0.textKey], selected: form.category == $0.rawValue, id: "category-\($0.rawValue)") },
            categoryError: error("category"),
            narrative: field("narrative", "report_narrative", language, hint: t["report_narrative_hint"], value: form.narrative, error: error("narrative"), textarea: true, rows: 8, required: true),
            occurredOn: field("occurredOn", "report_occurred", language, hint: t["report_occurred_hint"], value: form.occurredOn, error: error("occurredOn"), type: "date", required: true, ltr: true),
            moneyLost: field("moneyLost", "report_money", language, hint: t["report_money_hint"], value: form.moneyLost, error: error("moneyLost"), inputmode: "numeric", ltr: true),
            name: field("name", "report_name", language, value: form.name, error: error("name"), autocomplete: "name"),
            phone: field("phone", "report_phone", language, value: form.phone, error: error("phone"), type: "tel", autocomplete: "tel", ltr: true),
            email: field("email", "report_email", language, value: form.email, error: error("email"), type: "email", autocomplete: "email", ltr: true),
            evidenceHint: t("report_evidence_hint", ["count": Self.number(ComplaintDesk.maximumFiles)]), evidenceError: error("evidence"),
            errors: Self.errorLines(refusals, language))
    }

    func complaintForm(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        let unavailable = try await portal.complaints.agency() == nil
        return page("public-report", "report_title", language, path: "/public/report", complaintView(language, unavailable: unavailable), remember: remember)
    }

    func fileComplaint(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let parts = try await multipartForm(request, context, sending: "the complaint")
        var form = ComplaintDesk.Form()
        form.category = parts["category"] ?? ""
        form.narrative = parts["narrative"] ?? ""
        form.occurredOn = parts["occurredOn"] ?? ""
        form.moneyLost = parts["moneyLost"] ?? ""
        form.name = parts["name"] ?? ""
        form.phone = parts["phone"] ?? ""
        form.email = parts["email"] ?? ""
        form.stamp = parts["stamp"] ?? ""
        let (language, _) = language(request, form: parts["lang"])
        form.language = language
        let files = parts.parts.filter { $0.name == "evidence" && $0.filename != nil && !($0.filename ?? "").isEmpty && !$0.bytes.isEmpty }
            .map { ComplaintDesk.Evidence(name: $0.filename ?? "evidence", bytes: $0.bytes) }
        do {
            let receipt = try await portal.complaints.file(form, evidence: files, source: context.sourceAddress)
            return page("public-report-filed", "report_filed_title", language, path: "/public/report", PublicReceiptView(tracking: receipt.tracking, secret: receipt.secret))
        } catch let refused as PublicRefusals {
            let throttled = refused.refusals.contains { $0.kind == .throttled }
            let unavailable = refused.refusals.contains { $0.kind == .unavailable }
            return page(
                "public-report", "report_title", language, path: "/public/report", complaintView(language, form: form, refusals: refused.refusals, unavailable: unavailable),
                status: throttled ? .tooManyRequests : unavailable ? .serviceUnavailable : .unprocessableContent)
        }
    }

    func statusView(_ language: PublicLanguage, tracking: String = "", refusals: [PublicRefusal] = [], status: PublicStatusView.Shown? = nil) -> PublicStatusView {
        func error(_ field: String) -> String? { refusals.first { $0.field == field }?.text(language) }
        return PublicStatusView(
            status: status, tracking: field("tracking", "report_tracking", language, value: tracking, error: error("tracking"), required: true, ltr: true),
            secret: field("secret", "report_secret", language, required: true, autocomplete: "off", ltr: true), errors: Self.errorLines(refusals, language))
    }

    func statusForm(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        return page("public-status", "status_title", language, path: "/public/report/status", statusView(language), remember: remember)
    }

    func checkStatus(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let fields = try await form(request, context)
        let (language, _) = language(request, form: fields["lang"])
        let t = t(language)
        let tracking = fields["tracking"] ?? ""
        do {
            let status = try await portal.complaints.status(tracking: tracking, secret: fields["secret"] ?? "", source: context.sourceAddress)
            let shown = PublicStatusView.Shown(
                heading: t("status_heading", ["tracking": status.tracking]), state: t["state_" + status.state.rawValue], outcome: status.outcomeKey.map { t[$0] },
                note: status.note, category: t[status.category.textKey], filed: Self.day(status.filedAt), updated: Self.day(status.updatedAt))
            return page("public-status", "status_title", language, path: "/public/report/status", statusView(language, tracking: status.tracking, status: shown))
        } catch let refusal as PublicRefusal {
            return page(
                "public-status", "status_title", language, path: "/public/report/status", statusView(language, tracking: tracking, refusals: [refusal]),
                status: refusal.kind == .throttled ? .tooManyRequests : .unprocessableContent)
        }
    }

    func suspiciousView(_ language: PublicLanguage, form: SuspiciousReportDesk.Form = .init(), refusals: [PublicRefusal] = [], reference: String? = nil) -> PublicSuspiciousView {
        let t = t(language)
        func error(_ field: String) -> String? { refusals.first { $0.field == field }?.text(language) }
        return PublicSuspiciousView(
            reference: reference, thanks: reference.map { t("suspicious_thanks_text", ["reference": $0]) } ?? "",
            stamp: portal.suspicious.stamp.issue(form: "suspicious", now: Date()),
            kinds: [("message", "suspicious_kind_message"), ("website", "suspicious_kind_website")].map {
                PublicOption(value: $0.0, label: t[$0.1], selected: form.kind == $0.0, id: "kind-\($0.0)")
            },
            kindError: error("kind"),
            url: field("url", "suspicious_url", language, hint: t["suspicious_url_hint"], value: form.url, error: error("url"), type: "url", ltr: true),
            sender: field("sender", "suspicious_sender", language, hint: t["suspicious_sender_hint"], value: form.sender, error: error("sender"), ltr: true),
            headers: field("headers", "suspicious_headers", language, hint: t["suspicious_headers_hint"], value: form.headers, error: error("headers"), textarea: true, rows: 6, ltr: true),
            description: field("description", "suspicious_description", language, value: form.description, error: error("description"), textarea: true, rows: 4),
            errors: Self.errorLines(refusals, language))
    }

    func suspiciousForm(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        return page("public-suspicious", "suspicious_title", language, path: "/public/suspicious", suspiciousView(language), remember: remember)
    }

    func reportSuspicious(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let fields = try await form(request, context)
        let (language, _) = language(request, form: fields["lang"])
        var form = SuspiciousReportDesk.Form()
        form.kind = fields["kind"] ?? ""
        form.url = fields["url"] ?? ""
        form.sender = fields["sender"] ?? ""
        form.headers = fields["headers"] ?? ""
        form.description = fields["description"] ?? ""
        form.stamp = fields["stamp"] ?? ""
        form.language = language
        do {
            let reference = try await portal.suspicious.report(form, source: context.sourceAddress)
            return page("public-suspicious", "suspicious_thanks_title", language, path: "/public/suspicious", suspiciousView(language, reference: reference))
        } catch let refused as PublicRefusals {
            let throttled = refused.refusals.contains { $0.kind == .throttled }
            return page(
                "public-suspicious", "suspicious_title", language, path: "/public/suspicious", suspiciousView(language, form: form, refusals: refused.refusals),
                status: throttled ? .tooManyRequests : .unprocessableContent)
        }
    }

    // MARK: vulnerabilities reported by researchers

    func vulnerabilityView(_ language: PublicLanguage, form: VulnerabilityReportDesk.Form = .init(), refusals: [PublicRefusal] = [], reference: String? = nil)
        -> PublicVulnerabilityView
    {
        let t = t(language)
        func error(_ field: String) -> String? { refusals.first { $0.field == field }?.text(language) }
        return PublicVulnerabilityView(
            reference: reference, thanks: reference.map { t("vulnerability_thanks_text", ["reference": $0]) } ?? "",
            stamp: portal.vulnerabilities.stamp.issue(form: "vulnerability", now: Date()),
            vendor: field("vendor", "vulnerability_vendor", language, hint: t["vulnerability_vendor_hint"], value: form.vendor, error: error("vendor"), required: true),
            product: field("product", "vulnerability_product", language, value: form.product, error: error("product"), required: true),
            version: field("version", "vulnerability_version", language, hint: t["vulnerability_version_hint"], value: form.version, error: error("version"), ltr: true),
            description: field(
                "description", "vulnerability_description", language, hint: t["vulnerability_description_hint"], value: form.description,
                error: error("description"), textarea: true, rows: 10, required: true),
            name: field("name", "vulnerability_name", language, value: form.name, error: error("name"), autocomplete: "name"),
            email: field(
                "email", "vulnerability_email", language, hint: t["vulnerability_email_hint"], value: form.email, error: error("email"), type: "email",
                required: true, autocomplete: "email", ltr: true),
            credit: field("credit", "vulnerability_credit", language, hint: t["vulnerability_credit_hint"], value: form.credit, error: error("credit")),
            errors: Self.errorLines(refusals, language))
    }

    func vulnerabilityForm(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        return page("public-vulnerability", "vulnerability_title", language, path: "/public/vulnerabilities", vulnerabilityView(language), remember: remember)
    }

    func reportVulnerability(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let fields = try await form(request, context)
        let (language, _) = language(request, form: fields["lang"])
        var form = VulnerabilityReportDesk.Form()
        form.vendor = fields["vendor"] ?? ""
        form.product = fields["product"] ?? ""
        form.version = fields["version"] ?? ""
        form.description = fields["description"] ?? ""
        form.name = fields["name"] ?? ""
        form.email = fields["email"] ?? ""
        form.credit = fields["credit"] ?? ""
        form.stamp = fields["stamp"] ?? ""
        form.language = language
        do {
            let reference = try await portal.vulnerabilities.report(form, source: context.sourceAddress)
            return page(
                "public-vulnerability", "vulnerability_thanks_title", language, path: "/public/vulnerabilities", vulnerabilityView(language, reference: reference))
        } catch let refused as PublicRefusals {
            let throttled = refused.refusals.contains { $0.kind == .throttled }
            return page(
                "public-vulnerability", "vulnerability_title", language, path: "/public/vulnerabilities",
                vulnerabilityView(language, form: form, refusals: refused.refusals), status: throttled ? .tooManyRequests : .unprocessableContent)
        }
    }

    // MARK: self-check

    func selfCheckView(_ language: PublicLanguage, audience: SelfCheck.Audience, answers: [String: SelfCheck.Answer] = [:], plan: [SelfCheck.Step]? = nil) -> PublicSelfCheckView {
        let t = t(language)
        let labels: [SelfCheck.Answer: String] = [.yes: "selfcheck_yes", .no: "selfcheck_no", .unsure: "selfcheck_unsure"]
        return PublicSelfCheckView(
            audience: audience.rawValue,
            audiences: SelfCheck.Audience.allCases.map {
                PublicOption(value: $0.rawValue, label: t["selfcheck_\($0.rawValue)"], selected: $0 == audience, id: "audience-\($0.rawValue)")
            },
            questions: SelfCheck.questions(for: audience).map { question in
                PublicSelfCheckView.Question(
                    text: t[question.questionKey],
                    answers: SelfCheck.Answer.allCases.map { answer in
                        .init(name: question.id, id: "\(question.id)-\(answer.rawValue)", value: answer.rawValue, label: t[labels[answer] ?? ""], selected: answers[question.id] == answer)
                    })
            },
            plan: plan.map { steps in
                .init(steps: steps.map { .init(action: t[$0.question.actionKey], why: t[$0.question.whyKey], unsure: $0.unsure) })
            })
    }

    func selfCheck(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let (language, remember) = language(request)
        let audience = request.uri.queryParameters["audience"].flatMap { SelfCheck.Audience(rawValue: String($0)) } ?? .household
        return page("public-self-check", "selfcheck_title", language, path: "/public/self-check?audience=\(audience.rawValue)", selfCheckView(language, audience: audience), remember: remember)
    }

    func selfCheckPlan(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let fields = try await form(request, context)
        let (language, _) = language(request, form: fields["lang"])
        let audience = fields["audience"].flatMap(SelfCheck.Audience.init(rawValue:)) ?? .household
        var answers: [String: SelfCheck.Answer] = [:]
        for question in SelfCheck.questions(for: audience) {
            if let answer = fields[question.id].flatMap(SelfCheck.Answer.init(rawValue:)) { answers[question.id] = answer }
        }
        let plan = SelfCheck.plan(answers, audience: audience)
        return page(
            "public-self-check", "selfcheck_plan_title", language, path: "/public/self-check?audience=\(audience.rawValue)",
            selfCheckView(language, audience: audience, answers: answers, plan: plan))
    }

    // MARK: formatting

    /// A day as `2026-12-04`: the same in both languages, and unambiguous.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = DisplayZone.current.zone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// A count with grouping, in Western digits in both languages (as Pakistani Urdu print uses them).
    static func number(_ value: Int) -> String { value.formatted(Self.grouped) }

    static let grouped = IntegerFormatStyle<Int>(locale: Locale(identifier: "en_US"))
}

struct EmptyPublicView: Sendable {}

/// Rendered public pages kept for a moment, per node: what a crowd reads after a national alert
/// is rendered once every two seconds, not once a request. Only pages that depend on nothing but
/// the language are kept.
final class PublicPageCache: Sendable {
    private struct Entry: Sendable {
        var expires: ContinuousClock.Instant
        var headers: HTTPFields
        var body: ByteBuffer
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let lifetime: Duration

    init(seconds: Int) {
        lifetime = .seconds(seconds)
    }

    /// The page kept under `key` if it is still fresh.
    func fresh(_ key: String) -> Response? {
        guard let entry = entries.withLock({ $0[key] }), entry.expires > ContinuousClock.now else { return nil }
        return Response(status: .ok, headers: entry.headers, body: .init(byteBuffer: entry.body))
    }

    /// The page kept under `key`, or one made by `make` and kept.
    func page(_ key: String, make: () async throws -> (HTTPFields, ByteBuffer)) async rethrows -> Response {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), entry.expires > now {
            return Response(status: .ok, headers: entry.headers, body: .init(byteBuffer: entry.body))
        }
        let (headers, body) = try await make()
        entries.withLock { $0[key] = Entry(expires: now + lifetime, headers: headers, body: body) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaAssess
import QilaCases
import QilaCore
import QilaIngest
import QilaRetention
import QilaStore
import QilaIntel
import QilaPublic
import QilaTraining
import QilaOversight
import QilaVulnerabilities

/// What every page collection shares: the installation (its store, directory and authenticator),
/// the policy enforcement point, the renderer and the web settings. Capability runtimes and desks
/// are held only by the collections that need them.
struct PageKit: Sendable {
    let installation: Installation
    let enforcement: PolicyEnforcementPoint
    let renderer: PageRenderer
    let secureCookies: Bool
    let web: WebConfiguration
}

/// A link in the navigation, declared by the collection whose pages it opens and shown to a
/// subject only when the policy lets them open it.
struct NavigationEntry: Sendable {
    let title: String
    let path: String
    /// Where it stands in the bar, lowest first.
    let order: Int
    let isShown: @Sendable (Subject, PolicyEnforcementPoint) -> Bool
}

/// A capability's pages: its routes as a collection, its navigation entries, and the shared
/// helpers (the subject, forms, rendering, redirects, re-authentication).
protocol PageCollection: Sendable {
    var kit: PageKit { get }
    func routes() -> RouteCollection<QilaRequestContext>
    static var navigation: [NavigationEntry] { get }
}

/// The policy enforcement point as a desk's gate, for one request.
struct EnforcementGate: AccessGate {
    let enforcement: PolicyEnforcementPoint
    let source: String?
    func require(_ subject: Subject, _ action: Action, _ resource: Resource) async throws {
        try await enforcement.require(subject, action, resource, source: source)
    }
}

extension PageCollection {
    var installation: Installation { kit.installation }
    var enforcement: PolicyEnforcementPoint { kit.enforcement }
    var renderer: PageRenderer { kit.renderer }
    var secureCookies: Bool { kit.secureCookies }
    var web: WebConfiguration { kit.web }
    var store: SQLStore { installation.store }
    var authenticator: Authenticator { installation.authenticator }
    var refusedForms: RefusedForms { RefusedForms(store: installation.store, secrets: installation.secrets) }

    func gate(_ context: QilaRequestContext) -> EnforcementGate { EnforcementGate(enforcement: enforcement, source: context.sourceAddress) }

    /// Organisations the subject may report incidents for: its own and those it audits.
    func reportable(_ subject: Subject) async throws -> [Organisation] {
        try await store.organisations().filter { organisation in
            organisation.kind != .authority
                && enforcement.permits(subject, .create, Resource(kind: .incident, owner: organisation.id, sector: organisation.sector))
                && CaseDesk.isReporter(subject, for: organisation.id)
        }
    }

    /// A CSV download of `lines` (RFC 4180: CRLF line ends), never cached.
    static func csv(_ lines: [String], filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }

    /// RFC 4180 quoting, as the case export does it (a leading =, +, - or @ is defused).
    static func csvField(_ value: String) -> String { CaseDesk.csvField(value) }

    /// A value of the query string as a form sends it (`+` for a space, percent-encoding undone), trimmed.
    func queryValue(_ request: Request, _ name: String) -> String {
        (FormFields(request.uri.query ?? "")[name] ?? "").trimmingCharacters(in: .whitespaces)
    }

    func subject(_ context: QilaRequestContext) throws -> Subject {
        guard let subject = context.subject() else { throw Problem.unauthenticated }
        return subject
    }

    /// A multipart/form-data body (an upload form): `what` names what is sent, for the refusal.
    func multipartForm(_ request: Request, _ context: QilaRequestContext, sending what: String) async throws -> MultipartForm {
        guard let boundary = MultipartForm.boundary(of: request.headers[.contentType]) else {
            throw Problem(.unsupportedMediaType, "send \(what) as multipart/form-data")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        do { return try MultipartForm(body: body, boundary: boundary) } catch { throw Problem(.badRequest, "the upload is not valid multipart/form-data") }
    }

    func form(_ request: Request, _ context: QilaRequestContext) async throws -> FormFields {
        guard request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true else {
            throw Problem(.unsupportedMediaType, "send the form as application/x-www-form-urlencoded")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes), text.utf8.count == body.readableBytes else {
            throw Problem(.badRequest, "the form is not valid UTF-8")
        }
        return FormFields(text)
    }

    func render(_ template: String, _ title: String, _ context: QilaRequestContext, _ view: any Sendable, status: HTTPResponse.Status = .ok) -> Response {
        renderer.page(template, title: title, context: context, view: view, status: status, enforcement: enforcement)
    }

    func sessionCookie(_ secret: String) -> Cookie {
        Cookie(
            name: AuthenticationMiddleware.sessionCookie, value: secret, maxAge: 12 * 3600, path: "/",
            secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    func clearedCookie() -> Cookie {
        Cookie(name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// A full link to send to someone: from the configured public URL or names, never from
    /// whatever Host the request claimed.
    func absolute(_ path: String, _ request: Request) -> String {
        PublicOrigin.link(path, configuration: web, requestAuthority: request.head.authority)
    }

    func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// Sends the person to confirm their identity when a sensitive action needs it, or to turn
    /// on two-factor sign-in first: administering is never done on a password alone.
    func withReauthentication(_ next: String, for subject: Subject, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let problem as Problem where problem.kind == .reauthenticate {
            return try await secondFactorRedirect(subject, next: next, reason: "administer")
        }
    }

    /// A form whose submission will need a fresh second factor asks for it before it is shown,
    /// not after everything is typed: the redirect to enrol or to re-authenticate (coming back to
    /// `next`), or nil when the subject may go on.
    func secondFactorFirst(_ subject: Subject, _ action: Action, _ resource: Resource, next: String, reason: String) async throws -> Response? {
        guard installation.policy.decide(subject, action, resource).denial == .staleMFA else { return nil }
        return try await secondFactorRedirect(subject, next: next, reason: reason)
    }

    func secondFactorRedirect(_ subject: Subject, next: String, reason: String) async throws -> Response {
        if try await store.credentials(of: subject.user.id)?.mfaEnabled != true {
            return redirect("/profile/totp?reason=\(reason)")
        }
        let local = LocalRedirect.path(next) ?? "/"
        return redirect("/reauthenticate?next=" + (local.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-"))) ?? "/"))
    }

    /// As `withReauthentication(_:for:_:)`, keeping what was typed: the person confirms who they
    /// are and comes back to the form as they left it.
    func withReauthentication(
        _ page: String, for subject: Subject, keeping state: FormState, reason: String, context: QilaRequestContext,
        _ body: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await body()
        } catch let problem as Problem where problem.kind == .reauthenticate {
            return try await secondFactorRedirect(subject, next: try await refusedForms.keep(state, for: page, context: context), reason: reason)
        }
    }

}

/// Signing in, set-up links, the profile, two-factor enrolment and re-authentication.
struct AccountPages: PageCollection {
    let kit: PageKit
    static let navigation: [NavigationEntry] = []
}

/// The overview's dashboards.
struct OverviewPages: PageCollection {
    let kit: PageKit
    let cases: CaseRuntime
    let retention: RetentionRuntime
    var desk: CaseDesk { cases.desk }
    static let navigation = [NavigationEntry(title: "Overview", path: "/", order: 0) { _, _ in true }]
}

/// Organisations, accounts and the audit log.
struct AdminPages: PageCollection {
    let kit: PageKit
    static let navigation = [
        NavigationEntry(title: "Organisations", path: "/admin/organisations", order: 10) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .organisation, owner: subject.organisation.id))
        },
        NavigationEntry(title: "Audit log", path: "/admin/audit", order: 100) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .auditLog))
        },
        NavigationEntry(title: "Nodes", path: "/admin/nodes", order: 110) { subject, enforcement in
            enforcement.permits(subject, .read, NodeRegistry.resource)
        },
    ]
}

/// Incident cases: the queue, a case, figures and campaigns, notices.
struct CasePages: PageCollection {
    let kit: PageKit
    let cases: CaseRuntime
    let intel: IntelDesk
    let portal: PublicPortal
    var desk: CaseDesk { cases.desk }
    static let navigation = [
        NavigationEntry(title: "Cases", path: "/cases", order: 20) { subject, enforcement in
            let own = subject.organisation
            return enforcement.permits(subject, .read, Resource(kind: .incident, owner: own.id, sector: own.sector))
                || !subject.user.auditedOrganisations.isEmpty || subject.effectiveRoles.contains(.authorityAnalyst)
                || subject.effectiveRoles.contains(.sectorRegulator)
        },
        // For those who see national figures but no cases (the oversight committee).
        NavigationEntry(title: "Incident figures", path: "/cases/reports", order: 21) { subject, enforcement in
            let own = subject.organisation
            let seesCases = enforcement.permits(subject, .read, Resource(kind: .incident, owner: own.id, sector: own.sector))
                || !subject.user.auditedOrganisations.isEmpty || subject.effectiveRoles.contains(.authorityAnalyst)
                || subject.effectiveRoles.contains(.sectorRegulator)
            return !seesCases && enforcement.permits(subject, .read, Resource(kind: .incidentStatistics))
        },
    ]
}

/// Telemetry intake: sensors, the alert queue and alerts, detection rules.
struct IntakePages: PageCollection {
    let kit: PageKit
    let intake: IntakeRuntime?
    let cases: CaseRuntime
    static let navigation = [
        NavigationEntry(title: "Alerts", path: "/alerts", order: 30) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .alert, owner: subject.organisation.id, sector: subject.organisation.sector))
        },
        NavigationEntry(title: "Sensors", path: "/sensors", order: 31) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .sensor, owner: subject.organisation.id, sector: subject.organisation.sector))
        },
        NavigationEntry(title: "Rules", path: "/rules", order: 32) { subject, enforcement in
            enforcement.permits(subject, .update, Resource(kind: .detectionRule))
        },
    ]
}

/// Retained traffic data: sources and retention, warrants and their queries, oversight.
struct RetentionPages: PageCollection {
    let kit: PageKit
    let retention: RetentionRuntime
    static let navigation = [
        NavigationEntry(title: "Traffic data", path: "/flows", order: 40) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .flowSource, owner: subject.organisation.id))
        },
        NavigationEntry(title: "Warrants", path: "/warrants", order: 41) { subject, _ in
            !subject.effectiveRoles.isDisjoint(with: [.investigator, .legalOfficer])
        },
        // The oversight committee and administrators see counts and timing, never a warrant.
        NavigationEntry(title: "Warrant oversight", path: "/warrants/oversight", order: 42) { subject, enforcement in
            subject.effectiveRoles.isDisjoint(with: [.investigator, .legalOfficer]) && enforcement.permits(subject, .read, Resource(kind: .warrantStatistics))
        },
    ]
}

/// Where case notifications go.
struct WebhookPages: PageCollection {
    let kit: PageKit
    static let navigation = [
        NavigationEntry(title: "Webhooks", path: "/admin/webhooks", order: 90) { subject, enforcement in
            enforcement.permits(subject, .create, Resource(kind: .webhook, owner: subject.organisation.id, sector: subject.organisation.sector))
        }
    ]
}

/// Every page collection, registered on the router; the navigation is theirs, in order.
struct WebPages: Sendable {
    let kit: PageKit
    let retention: RetentionRuntime
    let cases: CaseRuntime
    let intake: IntakeRuntime?

    let intel: IntelDesk
    let intelPeers: IntelPeerDesk
    let campaigns: CampaignDesk
    let portal: PublicPortal
    let training: TrainingDesk
    /// Rendered public pages, shared with the fast path that answers from it.
    let publicCache: PublicPageCache

    static let navigation: [NavigationEntry] = (OverviewPages.navigation + AdminPages.navigation + CasePages.navigation + IntakePages.navigation
        + IntelPages.navigation + AssessmentPages.navigation + RetentionPages.navigation + WebhookPages.navigation
        + PortalAdminPages.navigation + TrainingPages.navigation + OversightPages.navigation + KEVPages.navigation + AdvisoryPages.navigation + ExposurePages.navigation + DisclosurePages.navigation).sorted { $0.order < $1.order }

    func register(on router: Router<QilaRequestContext>) {
        let collections: [any PageCollection] = [
            AccountPages(kit: kit), OverviewPages(kit: kit, cases: cases, retention: retention), AdminPages(kit: kit), CasePages(kit: kit, cases: cases, intel: intel, portal: portal),
            IntakePages(kit: kit, intake: intake, cases: cases), RetentionPages(kit: kit, retention: retention), WebhookPages(kit: kit),
            IntelPages(kit: kit, desk: intel, peers: intelPeers), AssessmentPages(kit: kit, desk: campaigns),
            PublicPages(kit: kit, portal: portal, campaigns: campaigns, cache: publicCache), PortalAdminPages(kit: kit, portal: portal, intel: intel),
            TrainingPages(kit: kit, desk: training), KEVPages(kit: kit), AdvisoryPages(kit: kit), CSAFProviderPages(kit: kit), ExposurePages(kit: kit), DisclosurePages(kit: kit),
            OversightPages(
                kit: kit,
                desk: OversightDesk(
                    store: kit.installation.store, policy: kit.installation.policy, cases: cases.desk, campaigns: campaigns, training: training,
                    warrants: retention.desk,
                    exposure: ExposureDesk(store: kit.installation.store, audit: kit.installation.audit, policy: kit.installation.policy), zone: DisplayZone(identifier: kit.web.displayTimeZone)?.zone ?? TimeZone(identifier: "Asia/Karachi")!)),
        ]
        for collection in collections { router.addRoutes(collection.routes()) }
    }
}

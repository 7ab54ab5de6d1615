import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
public import Prometheus
public import QilaAccess
import QilaStore
import QilaVulnerabilities
public import ServiceLifecycle
import OpenAPIHummingbird
import QilaCore
public import QilaRetention
public import QilaAssess
import QilaCases
public import QilaIngest
public import QilaIntel
public import QilaPublic
public import QilaTraining
import QilaOversight

/// Builds the HTTP application: middleware, the REST API, the pages, health and metrics.
public struct QilaServer: Sendable {
    public let installation: Installation
    public let configuration: WebConfiguration
    public let metrics: PrometheusCollectorRegistry
    /// Traffic-data retention; `qila serve` passes the one its listeners run in.
    public let retention: RetentionRuntime
    /// Incident reporting and case management.
    public let cases: CaseRuntime
    /// Telemetry intake; without it the intake endpoint and pages answer that intake is off.
    public let intake: IntakeRuntime?
    /// HTTP(S) connections held per source address.
    public let connections: ConnectionLimiter
    /// Shared intelligence and the peers it is polled from.
    public let intel: IntelDesk
    public let intelPeers: IntelPeerDesk
    /// Assessment campaigns, their answers, audits and roll-ups.
    public let campaigns: CampaignDesk
    /// The public pages' desks: publications, complaints, reports, the password range.
    public let portal: PublicPortal
    /// Training and awareness records.
    public let training: TrainingDesk

    public init(
        installation: Installation, configuration: WebConfiguration, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        retention: RetentionRuntime? = nil, cases: CaseRuntime? = nil, intake: IntakeRuntime? = nil
    ) throws {
        self.intake = intake
        self.connections = ConnectionLimiter(perSource: configuration.connectionsPerSource)
        self.installation = installation
        self.configuration = configuration
        self.metrics = metrics
        self.retention = try retention ?? RetentionRuntime(installation: installation, settings: .init())
        self.cases = try cases ?? CaseRuntime(installation: installation)
        self.intel = IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        self.intelPeers = IntelPeerDesk(intel: intel, secrets: installation.secrets, transport: HTTPTaxiiTransport())
        let caseSettings = self.cases.settings
        self.campaigns = CampaignDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy, attachments: self.cases.desk.attachments,
            notifier: OutboxNotifier(
                store: installation.store, logger: Logger(label: "qila.assessments.notify"), emailEnabled: caseSettings.smtp != nil, baseURL: caseSettings.baseURL))
        var portalSettings = PublicPortal.Settings()
        portalSettings.complaintsPerHour = configuration.complaintsPerHour
        portalSettings.reportsPerHour = configuration.reportsPerHour
        portalSettings.formMinimumSeconds = configuration.formMinimumSeconds
        self.portal = PublicPortal(installation: installation, cases: self.cases.desk, intel: self.intel, settings: portalSettings)
        self.training = TrainingDesk(store: installation.store, audit: installation.audit, policy: installation.policy, secrets: installation.secrets)
    }

    /// The router alone, for tests that send requests without sockets.
    func router() async throws -> Router<QilaRequestContext> {
        let renderer = try await PageRenderer.load()
        let enforcement = PolicyEnforcementPoint(
            policy: installation.policy, audit: installation.audit, skipForBenchmark: configuration.benchmarkUnsafeSkipPolicy,
            auditReads: !configuration.benchmarkUnsafeSkipReadAudit)
        let router = Router(context: QilaRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(hsts: configuration.tls))
        let publicCache = PublicPageCache(seconds: 2)
        router.add(middleware: PortalFastPath(range: portal.passwords, cache: publicCache))
        router.add(middleware: ProblemMiddleware(pages: renderer))
        router.add(middleware: MethodMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: BodyLimitMiddleware(attachmentLimit: cases.settings.maximumAttachmentBytes))
        router.add(
            middleware: AuthenticationMiddleware(
                authenticator: installation.authenticator, nodes: installation.store, scheme: configuration.tls ? "https" : "http"))
        router.add(middleware: RequestScopeMiddleware())
        router.add(middleware: DisplayZoneMiddleware(store: installation.store, fallback: DisplayZone(identifier: configuration.displayTimeZone) ?? DisplayZone(zone: .gmt)))

        let installation = self.installation
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            do {
                try await installation.store.ping()
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            } catch {
                return Problem(.serviceUnavailable, "the database is not answering").response()
            }
        }
        // Called by other nodes of the installation over mutual TLS: who answers, and from where.
        let thisNode = installation.node
        router.get("/internal/v1/node") { _, context -> Response in
            guard let caller = context.node else {
                throw Problem(.unauthorized, "only another node of this installation, presenting its node certificate, calls this")
            }
            let body = try JSONEncoder().encode(
                NodeLink.Description(id: thisNode.id, name: thisNode.name, version: QilaVersion.description, caller: caller.id))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        // Another node's part of a warrant query, for the traffic data this node holds; the warrant
        // is checked again here and the answer audited as this node's.
        let desk = retention.desk
        router.post("/internal/v1/traffic/query") { request, context -> Response in
            guard let caller = context.node else {
                throw Problem(.unauthorized, "only another node of this installation, presenting its node certificate, calls this")
            }
            let body = try await request.body.collect(upTo: 1 << 20)
            let query: TrafficDataRequest
            do {
                query = try JSONDecoder().decode(TrafficDataRequest.self, from: Data(buffer: body))
            } catch {
                throw Problem(.badRequest, "the body is not a traffic-data request")
            }
            let answer = try JSONEncoder().encode(try await desk.answer(query, caller: caller.id))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
        let metrics = self.metrics
        router.get("/metrics") { _, context -> Response in
            guard let subject = context.subject() else { throw Problem.unauthenticated }
            try await enforcement.require(subject, .read, Resource(kind: .system, reference: "metrics"), source: context.sourceAddress)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        guard let resources = Bundle.module.resourcePath else { throw QilaError(.configuration, "the QilaWeb bundle is missing") }
        let spec = try String(contentsOfFile: resources + "/openapi.yaml", encoding: .utf8)
        // What each problem type means: the page a problem's `type` names.
        router.get("/problems/:type") { _, context -> Response in
            guard let kind = ProblemType(rawValue: try context.parameters.require("type")) else { throw Problem(.notFound, "no such problem type") }
            return renderer.page("problem-type", title: kind.title, context: context, view: ProblemTypeView(kind))
        }
        router.get("/openapi.yaml") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: spec)))
        }
        router.add(middleware: FileMiddleware(resources + "/Assets", urlBasePath: "/assets", cacheControl: .init([(.text, [.maxAge(3600)])])))

        if let intake { IntakeRoutes(installation: installation, enforcement: enforcement, intake: intake).register(on: router) }
        TaxiiRoutes(desk: intel, scheme: configuration.tls ? "https" : "http")
            .register(on: router)
        MispFeedRoutes(desk: intel).register(on: router)
        let api = QilaAPI(installation: installation, enforcement: enforcement, cases: cases, campaigns: campaigns)
        try api.registerHandlers(on: router, serverURL: try Servers.Server1.url())
        let kit = PageKit(installation: installation, enforcement: enforcement, renderer: renderer, secureCookies: configuration.tls, web: configuration)
        PasswordRangeRoutes(range: portal.passwords).register(on: router)
        WebPages(kit: kit, retention: retention, cases: cases, intake: intake, intel: intel, intelPeers: intelPeers, campaigns: campaigns, portal: portal, training: training, publicCache: publicCache).register(on: router)
        return router
    }

    /// The HTTP(S) server as a service, plus the tree-head signer.
    public func services(
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
        onIntakeListening: @escaping @Sendable ([(kind: String, port: Int)]) -> Void = { _ in }
    ) async throws -> [any Service] {
        let router = try await router()
        let limiter = connections
        let head = TimeAmount.milliseconds(Int64(configuration.requestHeadTimeout * 1000))
        let passwords = portal.passwords, hsts = configuration.tls
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionDeadline<HTTPRequestPart>(limiter: limiter, deadline: head) { part in
                    switch part {
                    case .head: .met
                    case .end: .rearm
                    case .body: .none
                    }
                }
            ],
            idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000)))
        // Hummingbird's HTTP/1.1 channel, with the password range API answered on the event loop.
        let http1 = HTTPServerBuilder { responder in
            RangeAnsweringHTTP1Channel(base: HTTP1Channel(responder: responder, configuration: http), range: passwords, hsts: hsts)
        }
        let node = installation.node, store = installation.store, host = configuration.host
        let address = NodeAddress(configuration.nodeAddress)
        func lease(_ name: String) -> Lease { Lease(name, holder: node.id, store: store) }
        let server: HTTPServerBuilder
        var link: NodeLink?
        if configuration.tls {
            let authority = try installation.certificateAuthority()
            try authority.ensureServerCertificate(hostnames: configuration.hostnames)
            try authority.ensureNodeCertificate(node: installation.node.id)
            let nodeLink = try NodeLink(authority: authority)
            retention.nodes.connect(nodeLink)
            link = nodeLink
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(authority.serverCertificateFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: authority.serverKeyFile, format: .pem)))
            // Client certificates are optional (browsers have none) but, when sent, must chain to Qila's CA.
            tls.certificateVerification = .optionalVerification
            tls.trustRoots = .file(authority.caFile)
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(http1, tlsConfiguration: tls)
        } else {
            server = http1
        }
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "qila"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                if !["0.0.0.0", "::", ""].contains(host) { address.set(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)") }
                await onServerRunning(port)
            },
            logger: logger)
        return [
            app,
            TreeHeadSigner(
                audit: installation.audit, lease: lease("audit.tree-heads"),
                interval: configuration.treeHeadInterval, logger: logger),
            NodeHeartbeat(
                installation: installation, retention: retention, intake: intake, address: address, link: link, interval: configuration.heartbeatInterval),
            RetentionService(runtime: retention, logger: logger), CaseDeadlineService(runtime: cases, lease: lease("cases.deadlines"), logger: logger),
            NotificationSender(store: installation.store, secrets: installation.secrets, smtp: cases.settings.smtp, logger: logger),
            IntelPeerPoller(desk: intelPeers, lease: lease("intel.peers"), logger: logger),
            IntelPendingAddWorker(desk: intel, holder: node.id.description, logger: logger),
            AssessmentDeadlineService(desk: campaigns, lease: lease("assessments.deadlines"), interval: cases.settings.sweepInterval, logger: logger),
            ExposureDeadlineService(
                desk: ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy),
                notifier: OutboxNotifier(
                    store: installation.store, logger: Logger(label: "qila.exposure.notify"), emailEnabled: cases.settings.smtp != nil,
                    baseURL: cases.settings.baseURL),
                lease: lease("exposure.deadlines"), interval: cases.settings.sweepInterval, logger: logger),
            DisclosureReleaseService(
                desk: { [installation, configuration] in try await DisclosurePages.desk(installation: installation, web: configuration) }, lease: lease("disclosure.release"), interval: cases.settings.sweepInterval, logger: logger),
        ] + (intake.map {
            [
                IntakeService(runtime: $0, logger: logger, onListening: onIntakeListening),
                CorrelationService(runtime: $0, lease: lease("detect.correlations"), logger: logger),
            ]
        } ?? [])
            + (cases.settings.autoPromote.map { [AlertPromotionService(desk: cases.desk, minimum: $0, lease: lease("alerts.promotion"), logger: logger)] } ?? [])
    }
}

/// Makes the principal visible to the generated API handlers.
struct RequestScopeMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await RequestScope.$current.withValue(.init(principal: context.principal, source: context.sourceAddress)) {
            try await next(request, context)
        }
    }
}

/// Shows a page's times in the viewer's zone (their profile setting) or the installation's.
/// API answers are in RFC 3339 with their offset and are left alone.
struct DisplayZoneMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    let store: SQLStore
    let fallback: DisplayZone

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var zone = fallback
        // Pages only: not the API, and not the stylesheet, script and icon each page fetches.
        if let principal = context.principal, !request.uri.path.hasPrefix("/api/"), !request.uri.path.hasPrefix("/assets/"),
            let chosen = try? await store.setting(Directory.timeZoneKey(principal.user.id)).flatMap(DisplayZone.init(identifier:))
        {
            zone = chosen
        }
        return try await DisplayZone.$current.withValue(zone) { try await next(request, context) }
    }
}

/// Signs a tree head whenever the audit log has grown, at an interval, and once more at shutdown;
/// on several nodes, only the node holding the `audit.tree-heads` lease signs, so heads follow one
/// another in order whichever nodes appended the entries.
struct TreeHeadSigner: Service {
    let audit: AuditLog
    let lease: Lease
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await everyRound(interval, logger: logger, failure: "could not sign the audit tree head", pauseFirst: true) {
            _ = try await lease.ifHeld { try await audit.signTreeHead() }
        }
        _ = try? await lease.ifHeld { try await audit.signTreeHead() }
        await lease.release()
    }
}

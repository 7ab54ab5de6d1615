import ArgumentParser
import Configuration
import NIOCore
import Foundation
import Logging
import Metrics
import Prometheus
import QilaAccess
import QilaCases
import QilaCore
import QilaIngest
import QilaIntel
import QilaRetention
import QilaWeb
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the platform: web UI, REST API and background services.",
        discussion: """
            Stops gracefully on SIGTERM or SIGINT (Ctrl-C): requests in flight finish and a last audit \
            tree head is signed. On the first start it prints a one-time set-up link.
            """)

    @OptionGroup var storage: StorageOptions

    @Option(help: "Address to listen on. Default: 127.0.0.1 (loopback only).")
    var host: String?

    @Option(help: "HTTPS port. Default: 8443.")
    var port: Int?

    @Flag(help: "Serve plain HTTP (only behind a TLS-terminating proxy, or for tests).")
    var noTLS = false

    @Option(name: .customLong("hostname"), help: "A name for the server certificate (repeatable). Default: localhost.")
    var hostnames: [String] = []

    @Option(name: .customLong("flows-listen"), help: "Collect NetFlow/IPFIX on HOST:PORT over UDP (repeatable), from the exporters registered on /flows; off for none. Default: 127.0.0.1:2055 and 127.0.0.1:4739.")
    var flowsListen: [String] = []

    @Option(name: .customLong("radius-listen"), help: "Receive RADIUS accounting on HOST:PORT over UDP (repeatable), from the clients registered on /flows. Default: off.")
    var radiusListen: [String] = []

    @Option(name: .customLong("syslog-udp"), help: "Receive syslog on HOST:PORT over UDP (repeatable), from the sensors registered on /sensors; off for none. Default: 127.0.0.1:5514.")
    var syslogUDP: [String] = []

    @Option(name: .customLong("syslog-tcp"), help: "Receive syslog on HOST:PORT over TCP (RFC 6587 framing; repeatable); off for none. Default: 127.0.0.1:5514.")
    var syslogTCP: [String] = []

    @Option(name: .customLong("syslog-tls"), help: "Receive syslog over TLS on HOST:PORT (RFC 5425, client certificates from Qila's CA; repeatable). Default: off.")
    var syslogTLS: [String] = []

    @Option(help: "This node's name on the nodes page (node.name). Default: the host's name and the node's identifier.")
    var nodeName: String?

    @Option(help: "Where other nodes reach this one, HOST:PORT (node.address). Default: the listening address, unless it is every interface.")
    var nodeAddress: String?

    @Flag(help: .hidden)
    var benchmarkUnsafeSkipPolicy = false

    @Flag(help: .hidden)
    var benchmarkUnsafeSkipReadAudit = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["QILA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "qila")

        // Flags win over QILA_* variables, which win over qila.yaml.
        let nodeSettings = nodeName.map { ["node.name": $0] } ?? [:]
        let reader = try await storage.reader(extra: nodeSettings)
        var web = WebConfiguration()
        web.nodeAddress = nodeAddress ?? reader.string(forKey: "node.address")
        web.host = host ?? reader.string(forKey: "http.host", default: web.host)
        web.port = port ?? reader.int(forKey: "http.port", default: web.port)
        web.tls = noTLS ? false : reader.bool(forKey: "http.tls", default: web.tls)
        web.hostnames = hostnames.isEmpty ? reader.stringArray(forKey: "hostnames", default: web.hostnames) : hostnames
        web.publicURL = reader.string(forKey: "publicURL")
        web.displayTimeZone = reader.string(forKey: "display.timeZone", default: web.displayTimeZone)
        guard TimeZone(identifier: web.displayTimeZone) != nil else {
            throw fail("display.timeZone: '\(web.displayTimeZone)' is not an IANA time zone (for example Asia/Karachi)")
        }
        web.requestHeadTimeout = reader.double(forKey: "http.requestHeadTimeout", default: web.requestHeadTimeout)
        web.idleTimeout = reader.double(forKey: "http.idleTimeout", default: web.idleTimeout)
        web.connectionsPerSource = reader.int(forKey: "http.connectionsPerSource", default: web.connectionsPerSource)
        guard web.requestHeadTimeout > 0, web.idleTimeout > 0, web.connectionsPerSource >= 0 else {
            throw fail("http.requestHeadTimeout and http.idleTimeout must be above 0 seconds, http.connectionsPerSource 0 (no limit) or more")
        }
        if let publicURL = web.publicURL, !WebConfiguration.isUsablePublicURL(publicURL) {
            throw fail("publicURL must be an http or https address with a host, such as https://qila.authority.example")
        }
        web.complaintsPerHour = reader.int(forKey: "public.complaintsPerHour", default: web.complaintsPerHour)
        web.reportsPerHour = reader.int(forKey: "public.reportsPerHour", default: web.reportsPerHour)
        web.formMinimumSeconds = reader.int(forKey: "public.formMinimumSeconds", default: web.formMinimumSeconds)
        guard (1...10_000).contains(web.complaintsPerHour), (1...10_000).contains(web.reportsPerHour), (0...600).contains(web.formMinimumSeconds) else {
            throw fail("public.complaintsPerHour and public.reportsPerHour must be from 1 to 10000, public.formMinimumSeconds from 0 to 600")
        }
        web.benchmarkUnsafeSkipPolicy = benchmarkUnsafeSkipPolicy
        web.benchmarkUnsafeSkipReadAudit = benchmarkUnsafeSkipReadAudit
        if benchmarkUnsafeSkipReadAudit {
            logger.warning("CROSS-TENANT READS ARE NOT AUDITED (--benchmark-unsafe-skip-read-audit)")
        }
        if benchmarkUnsafeSkipPolicy {
            logger.warning("THE POLICY CHECK IS OFF (--benchmark-unsafe-skip-policy): every signed-in user can do everything")
        }

        let installation = try await storage.open(extra: nodeSettings)
        let opening = installation.opening
        if opening.keyFileCreated {
            print("Made the installation key file \(opening.keyFile) (key \(opening.keyIdentifier)): keep a copy apart from the database's backups; every further node needs this same file (--key-file)")
        }
        if case .migrated(let directory) = opening.secrets {
            print("Moved the keys of \(directory) into the database, sealed under key \(opening.keyIdentifier); the old files are in \(directory)/secrets.moved-to-database")
        } else if FileManager.default.fileExists(atPath: installation.dataDirectory + "/secrets/password-pepper") {
            // A node that made its own keys before it joined the installation: they are not used.
            logger.warning(
                "\(installation.dataDirectory)/secrets holds keys this node made on its own before the installation's were in the database; they are not used, and what was sealed with them (TOTP enrolments, warrants, webhook secrets made through this node) cannot be opened. Move the folder aside once nothing needs it.")
        }
        var retentionSettings = RetentionRuntime.Settings()
        // With nothing named, `qila serve` does its whole job on loopback (a port in use is named
        // and skipped); listeners named on the command line or in the configuration must bind.
        let defaultFlows = ["127.0.0.1:2055", "127.0.0.1:4739"], defaultSyslog = ["127.0.0.1:5514"]
        func listeners(_ flags: [String], _ key: ConfigKey, _ defaults: [String]) -> (addresses: [String], isDefault: Bool) {
            let chosen = flags.isEmpty ? reader.stringArray(forKey: key, default: defaults) : flags
            return (chosen == ["off"] ? [] : chosen, flags.isEmpty && chosen == defaults)
        }
        let flows = listeners(flowsListen, "flows.listen", defaultFlows)
        retentionSettings.flowListen = flows.addresses
        retentionSettings.skipUnavailableListeners = flows.isDefault
        retentionSettings.radiusListen = radiusListen.isEmpty ? reader.stringArray(forKey: "flows.radius", default: []) : radiusListen
        retentionSettings.defaultRetentionDays = reader.int(forKey: "flows.retentionDays", default: 365)
        retentionSettings.durabilityInterval = reader.double(forKey: "flows.durableSeconds", default: 1.0)
        guard (0.05...60).contains(retentionSettings.durabilityInterval) else {
            throw fail("flows.durableSeconds must be from 0.05 to 60 seconds")
        }
        guard (1...3650).contains(retentionSettings.defaultRetentionDays) else {
            throw fail("flows.retentionDays must be from 1 to 3650")
        }
        let retention: RetentionRuntime
        do {
            retention = try RetentionRuntime(installation: installation, settings: retentionSettings)
        } catch {
            throw fail("cannot open the traffic-data store: \(error)")
        }
        for (path, discarded, blocks) in retention.store.recoveries {
            print("recovered \(path): \(blocks) complete blocks kept, \(discarded) torn bytes cut")
        }
        var caseSettings = CaseRuntime.Settings()
        caseSettings.regimesFolder = reader.string(forKey: "cases.regimes")
        let sweepSeconds = reader.int(forKey: "cases.sweepSeconds", default: 60)
        guard (1...3600).contains(sweepSeconds) else { throw fail("cases.sweepSeconds must be from 1 to 3600") }
        caseSettings.sweepInterval = .seconds(sweepSeconds)
        let attachmentMB = reader.int(forKey: "cases.maxAttachmentMB", default: 25)
        guard (1...1024).contains(attachmentMB) else { throw fail("cases.maxAttachmentMB must be from 1 to 1024") }
        caseSettings.maximumAttachmentBytes = attachmentMB * 1024 * 1024
        if let smtpHost = reader.string(forKey: "smtp.host") {
            guard let from = reader.string(forKey: "smtp.from"), from.contains("@") else { throw fail("smtp.from must be the sender's e-mail address") }
            let securityText = reader.string(forKey: "smtp.security", default: "starttls")
            guard let security = SMTPSettings.Security(rawValue: securityText) else { throw fail("smtp.security must be starttls, tls or none") }
            let port = reader.int(forKey: "smtp.port", default: security == .tls ? 465 : 587)
            guard (1...65535).contains(port) else { throw fail("smtp.port must be from 1 to 65535") }
            caseSettings.smtp = SMTPSettings(
                host: smtpHost, port: port, security: security, username: reader.string(forKey: "smtp.username"),
                password: reader.string(forKey: "smtp.password", isSecret: true), from: from)
        }
        caseSettings.baseURL = reader.string(forKey: "publicURL")
        if let promote = reader.string(forKey: "intake.autoPromote"), !promote.isEmpty, promote != "off" {
            guard let severity = SecurityAlert.Severity(rawValue: promote) else {
                throw fail("intake.autoPromote must be off or a severity: \(SecurityAlert.Severity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            caseSettings.autoPromote = severity
        }
        let cases: CaseRuntime
        do {
            cases = try CaseRuntime(installation: installation, settings: caseSettings)
        } catch {
            throw fail("\(error)")
        }
        do {
            let moved = try await cases.desk.attachments.importFolder()
            if moved > 0 { print("Moved \(moved) case attachments from \(installation.dataDirectory)/attachments into the database") }
        } catch {
            throw fail("cannot move case attachments into the database: \(error)")
        }
        var intakeSettings = IntakeRuntime.Settings(journalDirectory: reader.string(forKey: "intake.journal", default: installation.dataDirectory + "/journal"))
        let udp = listeners(syslogUDP, "intake.syslogUDP", defaultSyslog), tcp = listeners(syslogTCP, "intake.syslogTCP", defaultSyslog)
        intakeSettings.syslogUDP = udp.addresses
        intakeSettings.syslogTCP = tcp.addresses
        intakeSettings.skipUnavailableListeners = udp.isDefault && tcp.isDefault
        intakeSettings.syslogTLS = syslogTLS.isEmpty ? reader.stringArray(forKey: "intake.syslogTLS", default: []) : syslogTLS
        intakeSettings.indicatorFiles = reader.stringArray(forKey: "intake.indicators", default: [])
        let maximumMessage = reader.int(forKey: "intake.maxMessageKB", default: 64)
        guard (1...1024).contains(maximumMessage) else { throw fail("intake.maxMessageKB must be from 1 to 1024") }
        intakeSettings.maximumMessage = maximumMessage * 1024
        intakeSettings.idleTimeout = reader.double(forKey: "intake.idleTimeout", default: intakeSettings.idleTimeout)
        intakeSettings.connectionsPerSource = reader.int(forKey: "intake.connectionsPerSource", default: intakeSettings.connectionsPerSource)
        guard intakeSettings.idleTimeout > 0, intakeSettings.connectionsPerSource >= 0 else {
            throw fail("intake.idleTimeout must be above 0 seconds, intake.connectionsPerSource 0 (no limit) or more")
        }
        var pipelineSettings = IntakeSettings()
        pipelineSettings.workers = reader.int(forKey: "intake.workers", default: pipelineSettings.workers)
        guard (1...256).contains(pipelineSettings.workers) else { throw fail("intake.workers must be from 1 to 256") }
        let windowMinutes = reader.int(forKey: "intake.alertWindowMinutes", default: 60)
        guard (1...10_080).contains(windowMinutes) else { throw fail("intake.alertWindowMinutes must be from 1 to 10080") }
        pipelineSettings.alertWindow = Double(windowMinutes) * 60
        pipelineSettings.campaignOrganisations = reader.int(forKey: "intake.campaignOrganisations", default: 2)
        guard pipelineSettings.campaignOrganisations >= 2 else { throw fail("intake.campaignOrganisations must be at least 2") }
        let campaignHours = reader.int(forKey: "intake.campaignHours", default: 24)
        guard (1...720).contains(campaignHours) else { throw fail("intake.campaignHours must be from 1 to 720") }
        pipelineSettings.campaignWindow = Double(campaignHours) * 3600
        let learningDays = reader.double(forKey: "intake.firstSeenLearningDays", default: 7)
        guard (0...365).contains(learningDays) else { throw fail("intake.firstSeenLearningDays must be from 0 to 365") }
        pipelineSettings.firstSeenLearning = learningDays * 86_400
        pipelineSettings.volumeThreshold = reader.double(forKey: "intake.volumeThreshold", default: 5)
        guard pipelineSettings.volumeThreshold >= 1 else { throw fail("intake.volumeThreshold must be at least 1 (robust spreads)") }
        pipelineSettings.volumeMinimumEvents = reader.int(forKey: "intake.volumeMinimumEvents", default: 100)
        guard pipelineSettings.volumeMinimumEvents >= 1 else { throw fail("intake.volumeMinimumEvents must be at least 1") }
        pipelineSettings.volumeMinimumDays = reader.int(forKey: "intake.volumeMinimumDays", default: 7)
        guard (1...28).contains(pipelineSettings.volumeMinimumDays) else { throw fail("intake.volumeMinimumDays must be from 1 to 28") }
        pipelineSettings.sensorRate = reader.int(forKey: "intake.sensorRate", default: 0)
        pipelineSettings.organisationRate = reader.int(forKey: "intake.organisationRate", default: 0)
        pipelineSettings.organisationDailyQuota = reader.int(forKey: "intake.dailyQuota", default: 0)
        guard pipelineSettings.sensorRate >= 0, pipelineSettings.organisationRate >= 0, pipelineSettings.organisationDailyQuota >= 0 else {
            throw fail("intake.sensorRate, intake.organisationRate and intake.dailyQuota must not be negative")
        }
        pipelineSettings.authority = try await installation.store.organisations().first { $0.kind == .authority }?.id
        intakeSettings.pipeline = pipelineSettings
        if !intakeSettings.syslogTLS.isEmpty {
            let authority = try installation.certificateAuthority()
            try authority.ensureServerCertificate(hostnames: web.hostnames)
            intakeSettings.tlsCertificate = authority.serverCertificateFile
            intakeSettings.tlsKey = authority.serverKeyFile
            intakeSettings.tlsClientCA = authority.caFile
        }
        let intake: IntakeRuntime
        do {
            intake = try IntakeRuntime(
                store: installation.store, settings: intakeSettings, logger: logger, indicators: IntelIndicatorFeed(store: installation.store))
        } catch {
            throw fail("cannot open the intake journal: \(error)")
        }
        let server = try QilaServer(
            installation: installation, configuration: web, metrics: registry, retention: retention, cases: cases, intake: intake)
        let scheme = web.tls ? "https" : "http"
        let firstRun = try await installation.needsFirstRun()
        let setupSecret = firstRun
            ? try await installation.authenticator.createOneTimeLink(purpose: "first-run", user: nil, validFor: .seconds(24 * 3600))
            : nil
        let settings = web
        let services = try await server.services(
            logger: logger,
            onServerRunning: { port in
            let base = "\(scheme)://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(port)"
            print("Qila is serving \(base) (data: \(installation.dataDirectory))")
            if let setupSecret {
                print("First start: create the authority's first administrator at\n  \(base)/setup/\(setupSecret)\n(this link works once and expires in 24 hours)")
            }
            if settings.tls {
                print("The server certificate is issued by Qila's CA: \(installation.pkiDirectory)/ca.pem")
            }
            fflush(nil)
        },
            onIntakeListening: { listening in
                for (kind, port) in listening { print("Intake: \(kind) on port \(port)") }
                print("Intake: ready")
                fflush(nil)
            })
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EACCES || error.errnoCode == EADDRNOTAVAIL {
            // The web listener is the one that cannot be skipped: say which address it wanted.
            let place = settings.host.contains(":") ? "[\(settings.host)]:\(settings.port)" : "\(settings.host):\(settings.port)"
            throw fail("cannot listen for \(scheme.uppercased()) on \(place): \(String(cString: strerror(error.errnoCode)).lowercased()) (choose another with --port or http.port)")
        } catch {
            throw fail("the server stopped: \(error)")
        }
        try await installation.close()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring the database schema up to date (serve does this too) and list what was applied.")

    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let options = try await storage.installationOptions()
        let location = options.database ?? options.dataDirectory + "/qila.sqlite"
        do {
            try FileManager.default.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true)
            let store = try await QilaStore.SQLStore.open(location)
            let versions = try await QilaStore.Migrator().appliedVersions(in: store.database)
            print("schema is at version \(versions.max() ?? 0) (\(versions.count) migrations applied)")
            try await store.close()
        } catch let error as QilaStore.StoreError {
            throw fail(error.message)
        }
    }
}

import QilaStore

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Print the access policy as a table, for auditors.")

    func run() throws {
        print(Policy.markdown())
    }
}

public import Foundation
public import Logging
public import QilaAccess
public import QilaStore
import QilaCore
public import ServiceLifecycle

/// Incident reporting inside `qila serve`: the regimes in force (checked at start), the case desk
/// with its attachment store under `<data>/attachments`, and the deadline sweep.
public final class CaseRuntime: Sendable {
    public struct Settings: Sendable {
        /// Folder of authority-defined regimes (`*.yaml`); nil means `<data>/regimes`.
        public var regimesFolder: String?
        public var maximumAttachmentBytes = 25 * 1024 * 1024
        /// How often deadlines are looked at for reminders and escalations.
        public var sweepInterval: Duration = .seconds(60)
        /// The mail server for e-mail notifications; nil sends none (webhooks still go).
        public var smtp: SMTPSettings?
        /// The address people reach Qila at, for links in e-mails.
        public var baseURL: String?
        /// New alerts at or above this severity become cases on their own; nil, only analysts promote.
        public var autoPromote: SecurityAlert.Severity?

        public init() {}
    }

    public let settings: Settings
    public let desk: CaseDesk

    public let notifier: any CaseNotifier

    public init(installation: Installation, settings: Settings = Settings(), notifier: (any CaseNotifier)? = nil) throws {
        self.settings = settings
        let book: RegimeBook
        do {
            book = try RegimeBook.load(folder: settings.regimesFolder ?? installation.dataDirectory + "/regimes")
        } catch {
            throw QilaError(.configuration, "a reporting regime is not valid: \(error)")
        }
        let notifier = notifier ?? OutboxNotifier(
            store: installation.store, logger: Logger(label: "qila.cases.notify"), emailEnabled: settings.smtp != nil, baseURL: settings.baseURL)
        self.notifier = notifier
        desk = CaseDesk(
            store: installation.store, audit: installation.audit, regimes: book,
            attachments: AttachmentStore(
                store: installation.store, maximumBytes: settings.maximumAttachmentBytes, legacyFolder: installation.dataDirectory + "/attachments"),
            notifier: notifier, policy: installation.policy)
    }
}

/// Looks at every open case's deadlines at an interval: reminders before, escalations after. On
/// several nodes the holder of the `cases.deadlines` lease sweeps (each reminder is also recorded
/// under a unique key, so even two sweeps could not send one twice).
public struct CaseDeadlineService: Service {
    let runtime: CaseRuntime
    let lease: Lease
    let logger: Logger

    public init(runtime: CaseRuntime, lease: Lease, logger: Logger) {
        self.runtime = runtime
        self.lease = lease
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(runtime.settings.sweepInterval, logger: logger, failure: "the case deadline sweep failed") {
            if let result = try await lease.ifHeld({ try await runtime.desk.sweep() }), result.reminders + result.escalations > 0 {
                logger.info("case deadlines", metadata: ["reminders": "\(result.reminders)", "escalations": "\(result.escalations)"])
            }
        }
        await lease.release()
    }
}

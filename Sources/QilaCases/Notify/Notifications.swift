public import Foundation
public import Logging
public import QilaAccess
public import QilaCore
public import QilaStore
public import ServiceLifecycle
import Crypto
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Puts each case event in the durable outbox, once per webhook and per e-mail recipient, in
/// the same moment the change is made; a sender delivers later and retries, so a mail server or
/// receiver that is down loses nothing.
///
/// Who hears what: the organisation's administrators and reporters hear what asks something of
/// them (reminders, escalations, requests, shared comments, notices, status); the authority's
/// analysts and the sector's regulators hear of submissions and escalations. E-mails carry the
/// case number and the stage, never the report's content.
public struct OutboxNotifier: CaseNotifier {
    let store: SQLStore
    let logger: Logger
    let emailEnabled: Bool
    let baseURL: String?

    public init(store: SQLStore, logger: Logger, emailEnabled: Bool, baseURL: String? = nil) {
        self.store = store
        self.logger = logger
        self.emailEnabled = emailEnabled
        self.baseURL = baseURL
    }

    static let toReporter: Set<CaseEvent.Kind> = [.reminder, .overdue, .stageRequested, .informationRequested, .sharedComment, .notice, .status]
    static let toAuthority: Set<CaseEvent.Kind> = [.opened, .submitted, .overdue]

    public func notify(_ event: CaseEvent) async {
        do {
            try await store.enqueue(try await messages(for: event))
        } catch {
            logger.error("a case notification could not be queued", metadata: ["event": "\(event.kind.rawValue)", "error": "\(error)"])
        }
    }

    func messages(for event: CaseEvent) async throws -> [OutboxMessage] {
        let due = event.due.map { "\nDue: \(RFC3339.format($0))" } ?? ""
        return try await messages(
            OutgoingEvent(
                kind: event.kind.rawValue, organisation: event.organisation, sector: event.sector, summary: event.summary, time: event.time,
                toOrganisation: Self.toReporter.contains(event.kind), toAuthority: Self.toAuthority.contains(event.kind), clearanceNeeded: event.tlp,
                subjectPrefix: "[\(event.tlp.rawValue)] ", body: "\(event.summary)\(due)\nMarking: \(event.tlp.rawValue)",
                path: "/cases/\(event.caseID)", linkLabel: "Open the case", replyHint: "reply through the case page, not by e-mail"),
            payload: event)
    }

    /// An event of any capability, reduced to what the outbox needs: whom to tell and what to say.
    public struct OutgoingEvent: Sendable {
        public var kind: String
        public var organisation: OrganisationID
        public var sector: SectorID
        public var summary: String
        public var time: Date
        /// Tell the organisation's administrators and reporters.
        public var toOrganisation: Bool
        /// Tell the authority's analysts and the sector's regulators (those cleared for `clearanceNeeded`).
        public var toAuthority: Bool
        public var clearanceNeeded: TLP
        public var subjectPrefix: String
        public var body: String
        /// The page to open, after the installation's public URL.
        public var path: String
        public var linkLabel: String
        public var replyHint: String

        public init(
            kind: String, organisation: OrganisationID, sector: SectorID, summary: String, time: Date, toOrganisation: Bool, toAuthority: Bool,
            clearanceNeeded: TLP = .clear, subjectPrefix: String = "", body: String, path: String, linkLabel: String = "Open", replyHint: String
        ) {
            self.kind = kind
            self.organisation = organisation
            self.sector = sector
            self.summary = summary
            self.time = time
            self.toOrganisation = toOrganisation
            self.toAuthority = toAuthority
            self.clearanceNeeded = clearanceNeeded
            self.subjectPrefix = subjectPrefix
            self.body = body
            self.path = path
            self.linkLabel = linkLabel
            self.replyHint = replyHint
        }
    }

    /// Queues an event for the webhooks that want it and, with e-mail on, the people it concerns.
    public func notify(_ event: OutgoingEvent, payload: some Encodable & Sendable) async {
        do {
            try await store.enqueue(try await messages(event, payload: payload))
        } catch {
            logger.error("a notification could not be queued", metadata: ["event": "\(event.kind)", "error": "\(error)"])
        }
    }

    func messages(_ event: OutgoingEvent, payload value: some Encodable) async throws -> [OutboxMessage] {
        var messages: [OutboxMessage] = []
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let payload = String(decoding: try encoder.encode(value), as: UTF8.self)
        for hook in try await store.webhooks() where hook.active && (hook.organisation == nil || hook.organisation == event.organisation)
            && (hook.events.isEmpty || hook.events.contains(event.kind))
        {
            messages.append(OutboxMessage(channel: .webhook, target: hook.id, event: event.kind, subject: event.summary, payload: payload, createdAt: event.time))
        }
        guard emailEnabled else { return messages }
        var recipients: Set<String> = []
        if event.toOrganisation {
            for user in try await store.users(in: event.organisation) where !user.disabled && user.kind == .person
                && !user.roles.isDisjoint(with: [.organisationAdmin, .organisationReporter])
            {
                if let email = user.email { recipients.insert(email) }
            }
        }
        if event.toAuthority {
            for organisation in try await store.organisations() where organisation.kind == .authority || (organisation.kind == .sectorRegulator && organisation.sector == event.sector) {
                for user in try await store.users(in: organisation.id) where !user.disabled && user.kind == .person
                    && !user.roles.isDisjoint(with: [.authorityAnalyst, .sectorRegulator]) && event.clearanceNeeded <= user.clearance
                {
                    if let email = user.email { recipients.insert(email) }
                }
            }
        }
        let link = baseURL.map { "\n\n\(event.linkLabel): \($0)\(event.path)" } ?? ""
        let body = "\(event.body)\(link)\n\nSent by Qila; \(event.replyHint)."
        for recipient in recipients.sorted() {
            messages.append(OutboxMessage(channel: .email, target: recipient, event: event.kind, subject: event.subjectPrefix + event.summary, payload: body, createdAt: event.time))
        }
        return messages
    }
}

/// Delivers the outbox: webhooks as an HTTPS POST of the event's JSON with
/// `Qila-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body" with the hook's secret>`,
/// e-mail through the configured SMTP server. Failures are retried with growing pauses (30 s,
/// 1 min, 2 min … up to 6 h), ten times, then given up and kept on record.
public struct NotificationSender: Service {
    let store: SQLStore
    let secrets: ServerSecrets
    let smtp: SMTPSettings?
    let logger: Logger
    let interval: Duration

    public static let maximumAttempts = 10

    public init(store: SQLStore, secrets: ServerSecrets, smtp: SMTPSettings?, logger: Logger, interval: Duration = .seconds(2)) {
        self.store = store
        self.secrets = secrets
        self.smtp = smtp
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "notification delivery failed") { _ = try await deliverDue() }
    }

    /// Sends what is due now; returns how many were delivered.
    public func deliverDue(now: Date = Date()) async throws -> Int {
        var delivered = 0
        let hooks = Dictionary(try await store.webhooks().map { ($0.id, $0) }) { a, _ in a }
        for message in try await store.claimOutbox(now: now, lease: 120) {
            do {
                switch message.channel {
                case .webhook:
                    guard let hook = hooks[message.target], hook.active else { throw DeliveryError(message: "the webhook was removed") }
                    try await post(message, to: hook, now: now)
                case .email:
                    guard let smtp else { throw DeliveryError(message: "no SMTP server is configured") }
                    try await SMTPClient(settings: smtp).send(to: [message.target], subject: message.subject, body: message.payload, date: now)
                }
                try await store.markDelivered(message.id, at: Date())
                delivered += 1
            } catch {
                let attempts = message.attempts + 1
                let retry = attempts >= Self.maximumAttempts ? nil : now.addingTimeInterval(min(6 * 3600, 30 * pow(2, Double(attempts - 1))))
                try await store.markFailed(message.id, error: String("\(error)".prefix(300)), retryAt: retry, at: now)
                logger.warning(
                    "a notification was not delivered", metadata: ["channel": "\(message.channel.rawValue)", "event": "\(message.event)", "attempt": "\(attempts)", "error": "\(error)"])
            }
        }
        return delivered
    }

    struct DeliveryError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The signature header for `body` sent at `time` with `secret`.
    public static func signature(body: [UInt8], secret: [UInt8], time: Date) -> String {
        let stamp = String(Int64(time.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stamp.utf8) + [0x2E] + body, using: SymmetricKey(data: secret))
        return "t=\(stamp),v1=\(Hex.encode(mac))"
    }

    func post(_ message: OutboxMessage, to hook: Webhook, now: Date) async throws {
        guard let url = URL(string: hook.url) else { throw DeliveryError(message: "the webhook's address is not a URL") }
        let secret = try secrets.open(hook.sealedSecret)
        let body = Array(message.payload.utf8)
        var request = URLRequest(url: url, timeoutInterval: 15)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(message.event, forHTTPHeaderField: "Qila-Event")
        request.setValue(message.id, forHTTPHeaderField: "Qila-Delivery")
        request.setValue(Self.signature(body: body, secret: secret, time: now), forHTTPHeaderField: "Qila-Signature")
        let (_, response) = try await URLSession.shared.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            throw DeliveryError(message: "the receiver answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
    }
}

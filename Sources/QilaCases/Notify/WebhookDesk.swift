public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Signed webhooks that hear of case events: added and removed here, for the webhooks page and
/// anything else that manages them. The address is checked with the field named (https, or plain
/// http to this machine only), the policy decision point is asked, the change is audited, and the
/// signing secret is made here, sealed, and returned once.
public struct WebhookDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let secrets: ServerSecrets
    /// Longest address, in characters.
    public static let maximumURL = 2_000

    public init(store: SQLStore, audit: AuditLog, secrets: ServerSecrets) {
        self.store = store
        self.audit = audit
        self.secrets = secrets
    }

    /// The webhooks of `organisation`'s cases; nil is the authority's own, hearing of every case.
    public static func resource(_ organisation: Organisation?) -> Resource {
        Resource(kind: .webhook, owner: organisation?.id, sector: organisation?.sector, reference: "webhooks:\(organisation?.id.description ?? "authority")")
    }

    /// Checks a webhook address: https anywhere, plain http only to this machine.
    public static func address(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespaces)
        guard !address.isEmpty else { throw QilaError.invalid("is required", field: "url") }
        guard address.count <= maximumURL else { throw QilaError.invalid("is longer than \(maximumURL) characters", field: "url") }
        guard let url = URLComponents(string: address), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw QilaError.invalid("'\(address.prefix(60))' is not a URL: it starts https://", field: "url")
        }
        let loopback = ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw QilaError.invalid("must start https:// (plain http:// only to this machine)", field: "url")
        }
        return address
    }

    /// What a person types into the form.
    public struct Draft: Sendable {
        /// The organisation's id; empty is the authority's own webhook, for every case.
        public var organisation: String
        public var url: String
        public var events: [String]

        public init(organisation: String, url: String, events: [String]) {
            self.organisation = organisation
            self.url = url
            self.events = events
        }
    }

    /// Adds a webhook; returns it with its signing secret, which is shown once and kept only sealed.
    public func add(_ draft: Draft, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws -> (Webhook, secret: [UInt8]) {
        let scope = draft.organisation.trimmingCharacters(in: .whitespaces)
        var organisation: Organisation?
        if !scope.isEmpty {
            guard let id = OrganisationID(scope), let found = try await store.organisation(id) else {
                throw QilaError.invalid("choose whose cases the webhook hears of", field: "organisation")
            }
            organisation = found
        }
        try await gate.require(subject, .create, Self.resource(organisation))
        let address = try Self.address(draft.url)
        let known = Set(CaseEvent.Kind.allCases.map(\.rawValue))
        if let unknown = draft.events.first(where: { !known.contains($0) }) {
            throw QilaError.invalid("'\(unknown.prefix(40))' is not an event: \(known.sorted().joined(separator: ", "))", field: "event")
        }
        var secret = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in secret.indices { secret[index] = UInt8.random(in: 0...255, using: &generator) }
        let hook = Webhook(
            organisation: organisation?.id, url: address, sealedSecret: try secrets.seal(secret), events: draft.events, createdAt: now, createdBy: subject.user.id)
        try await store.createWebhook(hook)
        try await audit.recordChange(
            by: subject, "webhook.create", resource: "webhook:\(hook.id)", source: source, details: ["organisation": organisation?.id.description ?? "all"], now: now)
        return (hook, secret)
    }

    /// Removes a webhook: nothing more is sent to it.
    public func remove(_ id: String, by subject: Subject, gate: any AccessGate, source: String? = nil) async throws {
        guard let hook = try await store.webhooks().first(where: { $0.id == id && $0.active }) else { throw QilaError(.notFound, "no such webhook") }
        let organisation: Organisation? = if let owner = hook.organisation { try await store.organisation(owner) } else { nil }
        try await gate.require(subject, .delete, Self.resource(organisation))
        try await store.deleteWebhook(id)
        try await audit.recordChange(by: subject, "webhook.delete", resource: "webhook:\(id)", source: source)
    }
}

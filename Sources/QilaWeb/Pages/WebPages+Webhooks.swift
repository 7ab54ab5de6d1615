import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCases
import QilaCore
import QilaStore

/// Where case notifications go: signed webhooks (`/admin/webhooks`), and the recent deliveries.
extension WebPages {
    func registerWebhooks(on router: Router<QilaRequestContext>) {
        router.get("/admin/webhooks", use: webhooksPage)
        router.post("/admin/webhooks", use: createWebhook)
        router.post("/admin/webhooks/:id/delete", use: deleteWebhook)
    }

    func webhookResource(_ organisation: Organisation?) -> Resource {
        Resource(kind: .webhook, owner: organisation?.id, sector: organisation?.sector, reference: "webhooks:\(organisation?.id.description ?? "authority")")
    }

    func webhooksPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await webhooksView(context, [:])
    }

    func webhooksView(_ context: QilaRequestContext, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let subject = try subject(context)
        let organisations = try await store.organisations()
        let scopes = organisations.filter { enforcement.permits(subject, .create, webhookResource($0)) && $0.kind != .authority }
        let national = enforcement.permits(subject, .create, Resource(kind: .webhook, reference: "webhooks:authority"))
        guard national || !scopes.isEmpty else {
            try await enforcement.require(subject, .read, webhookResource(subject.organisation), source: context.sourceAddress)
            throw Problem(.forbidden, "webhooks are set by administrators")
        }
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let hooks = try await store.webhooks().filter { hook in
            hook.active && enforcement.permits(subject, .read, webhookResource(hook.organisation.flatMap { id in organisations.first { $0.id == id } }))
        }
        let ids = Set(hooks.map(\.id))
        let deliveries = try await store.outbox(limit: 200).filter { $0.channel == .webhook && ids.contains($0.target) }.prefix(30)
        var values: [String: Any] = [
            "hooks": hooks.map { hook -> [String: Any] in
                ["id": hook.id, "url": hook.url, "scope": hook.organisation.flatMap { names[$0] } ?? "all organisations (authority)",
                 "events": hook.events.isEmpty ? "all" : hook.events.joined(separator: ", "), "created": hook.createdAt.display]
            },
            "scopes": (national ? [["id": "", "name": "All organisations (the authority's systems)"]] : []) + scopes.map { ["id": $0.id.description, "name": $0.name] },
            "events": CaseEvent.Kind.allCases.map { ["value": $0.rawValue] },
            "deliveries": deliveries.map { message -> [String: Any] in
                ["event": message.event, "created": message.createdAt.display, "attempts": message.attempts,
                 "state": message.deliveredAt != nil ? "delivered" : message.givenUpAt != nil ? "given up" : "waiting", "error": message.lastError ?? ""]
            },
        ]
        values.merge(extra) { $1 }
        return render("webhooks", "Webhooks", context, values, status: status)
    }

    func createWebhook(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let scopeText = form["organisation"] ?? ""
        let organisation: Organisation? = if let id = OrganisationID(scopeText) { try await store.organisation(id) } else { nil }
        if !scopeText.isEmpty && organisation == nil { return try await webhooksView(context, ["error": "Choose whose cases the webhook hears of (field organisation)."], status: .badRequest) }
        try await enforcement.require(subject, .create, webhookResource(organisation), source: context.sourceAddress)
        let address = (form["url"] ?? "").trimmingCharacters(in: .whitespaces)
        guard let url = URLComponents(string: address), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(host))
        else {
            return try await webhooksView(context, ["error": "The address must be an https:// URL (plain http only to this machine) (field url)."], status: .badRequest)
        }
        let known = Set(CaseEvent.Kind.allCases.map(\.rawValue))
        let events = form.all("event").filter(known.contains)
        var secret = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in secret.indices { secret[index] = UInt8.random(in: 0...255, using: &generator) }
        let hook = Webhook(
            organisation: organisation?.id, url: address, sealedSecret: try installation.secrets.seal(secret), events: events, createdAt: Date(), createdBy: subject.user.id)
        try await store.createWebhook(hook)
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "webhook.create", outcome: .success,
                       resource: "webhook:\(hook.id)", sourceAddress: context.sourceAddress, details: ["organisation": organisation?.id.description ?? "all"]))
        return try await webhooksView(context, ["newSecret": Hex.encode(secret), "message": "Webhook added. Copy its signing secret now: it is not shown again."])
    }

    func deleteWebhook(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try context.parameters.require("id")
        guard let hook = try await store.webhooks().first(where: { $0.id == id && $0.active }) else { throw Problem(.notFound, "no such webhook") }
        let organisation: Organisation? = if let owner = hook.organisation { try await store.organisation(owner) } else { nil }
        try await enforcement.require(subject, .delete, webhookResource(organisation), source: context.sourceAddress)
        try await store.deleteWebhook(id)
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "webhook.delete", outcome: .success,
                       resource: "webhook:\(id)", sourceAddress: context.sourceAddress))
        return redirect("/admin/webhooks")
    }
}


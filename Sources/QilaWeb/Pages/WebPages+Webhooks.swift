import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCases
import QilaCore
import QilaStore

/// Where case notifications go: signed webhooks (`/admin/webhooks`), and the recent deliveries.
extension WebhookPages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/admin/webhooks", use: webhooksPage)
        routes.post("/admin/webhooks", use: createWebhook)
        routes.post("/admin/webhooks/:id/delete", use: deleteWebhook)
        return routes
    }

    var webhookDesk: WebhookDesk { WebhookDesk(store: store, audit: installation.audit, secrets: installation.secrets) }

    func webhooksPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let organisations = try await store.organisations()
        let scopes = organisations.filter { enforcement.permits(subject, .create, WebhookDesk.resource($0)) && $0.keepsOwnRecords }
        let national = enforcement.permits(subject, .create, WebhookDesk.resource(nil))
        guard national || !scopes.isEmpty else {
            try await enforcement.require(subject, .read, WebhookDesk.resource(subject.organisation), source: context.sourceAddress)
            throw Problem(.forbidden, "webhooks are set by administrators")
        }
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let hooks = try await store.webhooks().filter { hook in
            hook.active && enforcement.permits(subject, .read, WebhookDesk.resource(hook.organisation.flatMap { id in organisations.first { $0.id == id } }))
        }
        let ids = Set(hooks.map(\.id))
        let deliveries = try await store.outbox(limit: 200).filter { $0.channel == .webhook && ids.contains($0.target) }.prefix(30)
        let view = WebhooksView(
            hooks: hooks.map { hook in
                WebhooksView.Hook(
                    id: hook.id, url: hook.url, scope: hook.organisation.flatMap { names[$0] } ?? "all organisations (authority)",
                    events: hook.events.isEmpty ? "all" : hook.events.joined(separator: ", "), created: hook.createdAt.display)
            },
            deliveries: deliveries.map { message in
                WebhooksView.Delivery(
                    event: message.event, created: message.createdAt.display,
                    state: message.deliveredAt != nil ? "delivered" : message.givenUpAt != nil ? "given up" : "waiting", error: message.lastError ?? "",
                    attempts: message.attempts)
            },
            scopes: scopes, national: national, kept: try await refusedForms.kept(request, context: context))
        return renderer.page("webhooks", title: "Webhooks", context: context, view: view, enforcement: enforcement)
    }

    func createWebhook(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: WebhooksView.addFormName, fields: try await form(request, context))
        do {
            let (_, secret) = try await webhookDesk.add(
                .init(organisation: state.value("organisation"), url: state.value("url"), events: state.values("event")), by: subject, gate: gate(context),
                source: context.sourceAddress)
            let added = FormState(form: WebhooksView.addedName, values: ["secret": [Hex.encode(secret)]])
            return try await refusedForms.redirect(added, to: "/admin/webhooks", context: context, fragment: "webhook-secret")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: WebhooksView.addFields(scopes: [], national: false, state: nil))
            return try await refusedForms.redirect(state, to: "/admin/webhooks", context: context)
        }
    }

    func deleteWebhook(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        do {
            try await webhookDesk.remove(try context.parameters.require("id"), by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such webhook")
        }
        return redirect("/admin/webhooks")
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import QilaAccess
import QilaCore

/// Renders the server-side pages from the Mustache templates in the bundle. Values are
/// HTML-escaped by Mustache; templates never carry scripts (the CSP forbids inline ones).
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let productName: String

    static func load(productName: String = "Qila") async throws -> PageRenderer {
        guard let root = Bundle.module.resourcePath else {
            throw QilaError(.configuration, "the QilaWeb resource bundle is missing")
        }
        let library = try await MustacheLibrary(directory: root + "/Templates")
        return PageRenderer(library: library, productName: productName)
    }

    /// Renders `template` inside the layout, with the navigation the subject may use.
    func page(
        _ template: String, title: String, context: QilaRequestContext, values: [String: Any] = [:],
        status: HTTPResponse.Status = .ok, enforcement: PolicyEnforcementPoint? = nil
    ) -> Response {
        var all = values
        all["title"] = title
        all["product"] = productName
        if let principal = context.principal {
            let subject = principal.subject()
            all["signedIn"] = true
            all["me"] = ["displayName": principal.user.displayName, "organisation": principal.organisation.name]
            all["csrf"] = principal.session?.csrfToken ?? ""
            if let enforcement {
                all["nav"] = [
                    "organisations": enforcement.permits(subject, .read, Resource(kind: .organisation, owner: subject.organisation.id)),
                    "audit": enforcement.permits(subject, .read, Resource(kind: .auditLog)),
                    "cases": enforcement.permits(subject, .read, Resource(kind: .incident, owner: subject.organisation.id, sector: subject.organisation.sector))
                        || !subject.user.auditedOrganisations.isEmpty || subject.effectiveRoles.contains(.authorityAnalyst)
                        || subject.effectiveRoles.contains(.sectorRegulator),
                    "caseFigures": enforcement.permits(subject, .read, Resource(kind: .incidentStatistics)),
                    "webhooks": enforcement.permits(subject, .create, Resource(kind: .webhook, owner: subject.organisation.id, sector: subject.organisation.sector)),
                    "flows": enforcement.permits(subject, .read, Resource(kind: .flowSource, owner: subject.organisation.id)),
                    "alerts": enforcement.permits(subject, .read, Resource(kind: .alert, owner: subject.organisation.id, sector: subject.organisation.sector)),
                    "sensors": enforcement.permits(subject, .read, Resource(kind: .sensor, owner: subject.organisation.id, sector: subject.organisation.sector)),
                    "rules": enforcement.permits(subject, .update, Resource(kind: .detectionRule)),
                    "warrants": !subject.effectiveRoles.isDisjoint(with: [.investigator, .legalOfficer])
                        || enforcement.permits(subject, .read, Resource(kind: .warrantStatistics)),
                ]
            }
        } else if let pending = context.awaitingSecondFactor {
            all["csrf"] = pending.session?.csrfToken ?? ""
        }
        let html = library.render(all, withTemplate: template) ?? "template \(template) is missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func errorPage(_ problem: Problem, context: QilaRequestContext) -> Response {
        page(
            "error", title: problem.title, context: context,
            values: ["status": problem.status, "detail": problem.detail ?? "", "location": problem.location ?? ""],
            status: HTTPResponse.Status(code: problem.status))
    }
}

extension Date {
    /// `2026-11-22 21:04 UTC`, for tables.
    var display: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: self)
    }
}

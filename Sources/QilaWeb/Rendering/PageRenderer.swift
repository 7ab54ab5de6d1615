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

    /// Renders `template` inside the layout, with the navigation the subject may use. `view` is
    /// the page's typed view.
    func page(
        _ template: String, title: String, context: QilaRequestContext, view: any Sendable,
        status: HTTPResponse.Status = .ok, enforcement: PolicyEnforcementPoint? = nil
    ) -> Response {
        let model = PageModel(view: view, chrome: chrome(title: title, context: context, enforcement: enforcement))
        let html = library.render(model, withTemplate: template) ?? "template \(template) is missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func chrome(title: String, context: QilaRequestContext, enforcement: PolicyEnforcementPoint?) -> Chrome {
        var chrome = Chrome(title: title, product: productName)
        if let principal = context.principal {
            let subject = principal.subject()
            chrome.signedIn = true
            chrome.me = Chrome.Me(displayName: principal.user.displayName, organisation: principal.organisation.name)
            chrome.csrf = principal.session?.csrfToken ?? ""
            if let enforcement {
                chrome.nav = WebPages.navigation.filter { $0.isShown(subject, enforcement) }.map { Chrome.Link(title: $0.title, path: $0.path) }
            }
        } else if let pending = context.awaitingSecondFactor {
            chrome.csrf = pending.session?.csrfToken ?? ""
        }
        return chrome
    }

    func errorPage(_ problem: Problem, context: QilaRequestContext) -> Response {
        page(
            "error", title: problem.title, context: context, view: ErrorView(status: problem.status, detail: problem.detail ?? "", location: problem.location),
            status: HTTPResponse.Status(code: problem.status))
    }
}

/// What the layout shows around every page.
struct Chrome: Sendable {
    struct Me: Sendable {
        var displayName: String
        var organisation: String
    }

    /// A navigation link the subject may follow.
    struct Link: Sendable {
        var title, path: String
    }

    var title: String
    var product: String
    var signedIn = false
    var me: Me?
    var csrf = ""
    /// The navigation: the page collections' entries the policy lets the subject open, in order.
    var nav: [Link] = []
}

/// What a template sees: the page's view first, then the layout's chrome.
struct PageModel: MustacheParent {
    let view: any Sendable
    let chrome: Chrome

    func child(named name: String) -> Any? {
        if let parent = view as? any MustacheParent {
            if let value = parent.child(named: name) { return value }
        } else if let value = Self.property(name, of: view) {
            return value
        }
        return Self.property(name, of: chrome)
    }

    /// A stored property's value, nil when it is missing or an empty optional.
    static func property(_ name: String, of object: Any) -> Any? {
        guard let value = Mirror(reflecting: object).children.first(where: { $0.label == name })?.value else { return nil }
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }
}

extension Date {
    /// `2026-11-23 02:04 UTC+05:00`: in the zone of the page being shown, named.
    var display: String { DisplayZone.current.format(self) }
}

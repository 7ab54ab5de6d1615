import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import QilaPublic

/// The translation table in one language, as templates read it: `{{t.key}}`.
struct Translations: MustacheParent, Sendable {
    let text: PublicText
    let language: PublicLanguage

    func child(named name: String) -> Any? { text.text(name, language) }
    subscript(_ key: String) -> String { text.text(key, language) }
    func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String { text.text(key, language, values) }
}

/// What the public layout shows around every page: the language and its direction, the switch
/// to the other language, the page's title and, for the one page that needs it, its script.
struct PublicChrome: Sendable {
    var lang: String
    var dir: String
    var otherLang: String
    var otherDir: String
    /// The same page in the other language.
    var switchHref: String
    var pageTitle: String
    var script: String?
    var t: Translations
}

struct PublicPageModel: MustacheParent {
    let view: any Sendable
    let chrome: PublicChrome

    func child(named name: String) -> Any? {
        if let parent = view as? any MustacheParent {
            if let value = parent.child(named: name) { return value }
        } else if let value = PageModel.property(name, of: view) {
            return value
        }
        return PageModel.property(name, of: chrome)
    }
}

/// One field of a public form: its label and hint already in the reader's language, what was
/// typed, and the refusal beside it.
struct PublicField: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        switch name {
        case "isInput": isInput
        case "describedBy": describedBy
        default: nil
        }
    }

    var id: String
    var name: String
    var label: String
    var hint: String?
    var value: String = ""
    var fieldError: String?
    var inputType = "text"
    var isTextarea = false
    var rows = 5
    var autocomplete: String?
    var required = false
    var requiredText = ""
    var optionalText = ""
    var errorPrefix = ""
    var inputmode: String?
    /// Typed in a script of its own direction (an address, a number) whatever the page's.
    var ltr = false
    var isInput: Bool { !isTextarea }
    var describedBy: String? {
        let ids = [hint.map { _ in id + "-hint" }, fieldError.map { _ in id + "-error" }].compactMap { $0 }
        return ids.isEmpty ? nil : ids.joined(separator: " ")
    }
}

/// A choice among radio buttons.
struct PublicOption: Sendable {
    var value: String
    var label: String
    var selected: Bool
    var id: String
}

extension PageRenderer {
    /// Renders a public page in `language`. `path` is the page's own path, for the language switch.
    func publicPage(
        _ template: String, title: String, language: PublicLanguage, path: String, view: any Sendable, status: HTTPResponse.Status = .ok,
        script: String? = nil, remember: Bool = false
    ) -> Response {
        let (headers, body) = publicPageParts(template, title: title, language: language, path: path, view: view, script: script, remember: remember)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The headers and body of a public page, for a page that is also kept in the cache.
    func publicPageParts(
        _ template: String, title: String, language: PublicLanguage, path: String, view: any Sendable, script: String? = nil, remember: Bool = false
    ) -> (HTTPFields, ByteBuffer) {
        let other = language.other
        let separator = path.contains("?") ? "&" : "?"
        let chrome = PublicChrome(
            lang: language.rawValue, dir: language.direction, otherLang: other.rawValue, otherDir: other.direction,
            switchHref: path + separator + "lang=" + other.rawValue, pageTitle: title, script: script,
            t: Translations(text: .shipped, language: language))
        let html = library.render(PublicPageModel(view: view, chrome: chrome), withTemplate: template) ?? "template \(template) is missing"
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLanguage] = language.rawValue
        headers[.vary] = "Accept-Language, Cookie"
        if remember {
            // The switch's choice, kept for the public pages only.
            headers[.setCookie] = "qila_lang=\(language.rawValue); Path=/public; Max-Age=31536000; SameSite=Lax"
        }
        return (headers, ByteBuffer(string: html))
    }
}

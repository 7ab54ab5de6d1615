import Foundation

/// What the lists (cases, alerts, rules) share: the page after a cursor, and the query string
/// that asks for the same list again.
enum ListPaging {
    /// One page of `ordered`, starting after the element whose id is `after` (the start when
    /// there is none or it is gone), and the cursor of the next page if there is one.
    static func page<Element>(of ordered: [Element], after: String?, size: Int, id: (Element) -> String)
        -> (rows: ArraySlice<Element>, next: String?, start: Int)
    {
        var start = 0
        if let after, let index = ordered.firstIndex(where: { id($0) == after }) { start = index + 1 }
        let end = min(ordered.count, start + size)
        return (ordered[start..<end], end < ordered.count ? id(ordered[end - 1]) : nil, start)
    }

    /// `name=value&…`, each value percent-encoded.
    static func query(_ items: [(String, String)]) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        return items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }
}

/// An option of a hand-written select or checkbox group (list filters, the case page's forms).
struct Choice: Sendable {
    var value, title: String
    var selected = false
}

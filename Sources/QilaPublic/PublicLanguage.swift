/// The languages of the public pages: English and Urdu.
public enum PublicLanguage: String, Sendable, CaseIterable, Hashable {
    case english = "en"
    case urdu = "ur"

    /// The value of the page's `dir` attribute: Urdu is written right to left.
    public var direction: String { self == .urdu ? "rtl" : "ltr" }

    /// The other language, for the switch at the top of every page.
    public var other: PublicLanguage { self == .urdu ? .english : .urdu }

    /// The language a request asks for: an explicit choice (the switch's `lang` query or the
    /// cookie it sets) first, then the first of `Accept-Language`'s ranges, by weight, that names
    /// English or Urdu; English when nothing matches.
    public static func negotiate(choice: String?, acceptLanguage: String?) -> PublicLanguage {
        if let choice, let chosen = PublicLanguage(rawValue: choice.lowercased()) { return chosen }
        guard let acceptLanguage else { return .english }
        var ranges: [(language: PublicLanguage, weight: Double, order: Int)] = []
        for (order, part) in acceptLanguage.split(separator: ",").enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { continue }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard let language = PublicLanguage(rawValue: primary) else { continue }
            var weight = 1.0
            for parameter in pieces.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            if weight > 0 { ranges.append((language, weight, order)) }
        }
        return ranges.sorted { ($0.weight, -$0.order) > ($1.weight, -$1.order) }.first?.language ?? .english
    }
}

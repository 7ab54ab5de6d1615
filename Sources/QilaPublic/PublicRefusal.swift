public import QilaCore

/// Why the portal refused what a member of the public sent: the field it concerns and the key of
/// the explanation in the translation table, so that the page shows it, beside the field, in the
/// language the person reads. Its description is the English text.
public struct PublicRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A field's value cannot be accepted.
        case invalid
        /// Too many submissions from one address, or a form sent too fast: try later.
        case throttled
        /// The feature is not available now (no agency has been designated).
        case unavailable
    }

    public var kind: Kind
    public var field: String
    /// The translation key of the explanation.
    public var key: String
    /// Values for the placeholders of the text.
    public var values: [String: String]

    public init(_ kind: Kind = .invalid, field: String, key: String, values: [String: String] = [:]) {
        self.kind = kind
        self.field = field
        self.key = key
        self.values = values
    }

    public func text(_ language: PublicLanguage) -> String { PublicText.shipped.text(key, language, values) }

    public var description: String { "\(text(.english)) (field \(field))" }

    /// The same refusal as an error the API and command line report.
    public var error: QilaError {
        switch kind {
        case .invalid: QilaError.invalid(text(.english), field: field)
        case .throttled: QilaError(.throttled, text(.english), at: "field \(field)")
        case .unavailable: QilaError(.unavailable, text(.english))
        }
    }
}

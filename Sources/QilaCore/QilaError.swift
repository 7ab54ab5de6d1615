/// An error a person can act on: an extensible code, a message that names what was wrong and
/// where, and the place it was found (field, line, byte offset).
///
/// The web layer turns these into RFC 9457 problem details; the command line prints them.
public struct QilaError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidInput = Code(rawValue: "invalid-input")
        public static let notFound = Code(rawValue: "not-found")
        public static let conflict = Code(rawValue: "conflict")
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        public static let forbidden = Code(rawValue: "forbidden")
        public static let throttled = Code(rawValue: "throttled")
        public static let storage = Code(rawValue: "storage")
        public static let configuration = Code(rawValue: "configuration")
        public static let integrity = Code(rawValue: "integrity")
        /// A part the operation needs (another node, a peer) is not answering now; trying later may work.
        public static let unavailable = Code(rawValue: "unavailable")
    }

    public var code: Code
    public var message: String
    /// Where the problem is, such as `field password` or `qila.yaml line 4`.
    public var location: String?

    public init(_ code: Code, _ message: String, at location: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(message) (\(location))" }
        return message
    }

    /// The input field the error names (`invalid(_:field:)`), for a form to show it beside.
    public var field: String? {
        guard let location, location.hasPrefix("field ") else { return nil }
        return String(location.dropFirst(6))
    }

    /// The message as a sentence about `subject` (a field's label, a command-line option):
    /// "is required" becomes "Court is required.", a message that does not continue its
    /// subject ("choose the provider …") stands alone, capitalised.
    public func sentence(naming subject: String?) -> String {
        var text = message.trimmingCharacters(in: .whitespaces)
        let aboutTheSubject = ["is ", "are ", "must ", "has ", "have ", "was ", "cannot ", "should ", "does ", "names ", "needs "]
        if let subject, aboutTheSubject.contains(where: { text.hasPrefix($0) }) {
            text = subject + " " + text
        } else if let subject, text.hasPrefix("line ") {
            // A field of many lines: "Products, line 2: …".
            text = subject + ", " + text
        } else if let first = text.first {
            text = first.uppercased() + text.dropFirst()
        }
        if let last = text.last, !".?!".contains(last) { text += "." }
        return text
    }

    public static func invalid(_ message: String, field: String) -> QilaError {
        QilaError(.invalidInput, message, at: "field \(field)")
    }
}

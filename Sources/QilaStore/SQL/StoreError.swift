/// A storage failure, with the backend's own words kept for operators but no bound values,
/// which may be secrets or personal data.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public var description: String { rawValue }
        /// A unique or primary key was already taken.
        public static let conflict = Code(rawValue: "conflict")
        /// The database cannot be reached or opened.
        public static let unavailable = Code(rawValue: "unavailable")
        /// A row does not have the shape this version of Qila expects.
        public static let corruptRow = Code(rawValue: "corrupt-row")
        /// The database refused a statement.
        public static let statement = Code(rawValue: "statement")
        /// The schema is newer than this binary.
        public static let schema = Code(rawValue: "schema")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "storage \(code): \(message)" }
}

/// A numbered change to the schema. Migrations run in order at start, each in one transaction,
/// and are never edited once released: a change to the schema is a new migration.
public struct Migration: Sendable {
    public var version: Int64
    public var name: String
    public var statements: [String]
    /// Statements only one backend understands (triggers, functions), run after the portable ones.
    public var dialectStatements: [SQLDialect: [String]]

    public init(version: Int64, name: String, statements: [String], dialectStatements: [SQLDialect: [String]] = [:]) {
        self.version = version
        self.name = name
        self.statements = statements
        self.dialectStatements = dialectStatements
    }
}

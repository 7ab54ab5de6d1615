/// The few operations the repositories need from a SQL database.
///
/// There is deliberately no open-ended transaction: every multi-statement change is an atomic
/// `batch`, and read-then-write sequences use conditional statements (`WHERE ... RETURNING`)
/// or unique keys with retry. That keeps both backends honest about concurrency, including
/// several Qila nodes sharing one PostgreSQL.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    func execute(_ sql: String, _ binds: [SQLValue]) async throws
    /// Runs a statement that changes rows and returns what its `RETURNING` clause lists.
    func writeReturning(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs the statements in one transaction: all take effect or none does.
    func batch(_ statements: [SQLStatement]) async throws
    /// Releases connections; the database may not be used afterwards.
    func close() async throws
}

extension SQLDatabase {
    public func query(_ sql: String, _ binds: SQLValue...) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
    public func execute(_ sql: String, _ binds: SQLValue...) async throws {
        try await execute(sql, binds)
    }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// Replaces the portable type names used in Qila's DDL with the backend's own.
    func ddl(_ statement: String) -> String {
        switch self {
        case .sqlite: statement.replacingOccurrences(of: "BYTES", with: "BLOB")
        case .postgres: statement.replacingOccurrences(of: "BYTES", with: "BYTEA")
        }
    }
}

import Foundation
import GRDB

/// SQLite through GRDB: one file in WAL mode, many readers and one writer.
///
/// `synchronous = FULL` makes each committed transaction durable before the call returns,
/// so a crash or `kill -9` loses nothing that was acknowledged.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(.unavailable, "cannot open the SQLite database at \(path): \(Self.describe(error))")
        }
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: Self.arguments(binds)).map(Self.convert)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func execute(_ sql: String, _ binds: [SQLValue]) async throws {
        do {
            try await pool.write { db in try db.execute(sql: sql, arguments: Self.arguments(binds)) }
        } catch {
            throw Self.translate(error)
        }
    }

    public func batch(_ statements: [SQLStatement]) async throws {
        do {
            try await pool.write { db in
                for statement in statements {
                    try db.execute(sql: statement.sql, arguments: Self.arguments(statement.binds))
                }
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func writeReturning(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            return try await pool.write { db in
                try Row.fetchAll(db, sql: sql, arguments: Self.arguments(binds)).map(Self.convert)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    public func close() async throws {
        try pool.close()
    }

    private static func arguments(_ binds: [SQLValue]) -> StatementArguments {
        StatementArguments(binds.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .integer(let v): v
            case .real(let v): v
            case .text(let v): v
            case .blob(let v): Data(v)
            }
        })
    }

    private static func convert(_ row: Row) -> SQLRow {
        var values: [String: SQLValue] = [:]
        for (column, dbValue) in row {
            let value: SQLValue
            switch dbValue.storage {
            case .null: value = .null
            case .int64(let v): value = .integer(v)
            case .double(let v): value = .real(v)
            case .string(let v): value = .text(v)
            case .blob(let v): value = .blob(Array(v))
            }
            values[column.lowercased()] = value
        }
        return SQLRow(values)
    }

    static func translate(_ error: any Error) -> any Error {
        if let error = error as? DatabaseError {
            if error.resultCode == .SQLITE_CONSTRAINT {
                return StoreError(.conflict, error.message ?? "constraint violated")
            }
            return StoreError(.statement, describe(error))
        }
        return error
    }

    /// GRDB leaves bound values out of its descriptions unless asked, which is what Qila wants.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.resultCode): \(error.message ?? "no message")"
        }
        return String(describing: error)
    }
}

import Foundation
import Logging

/// Brings a database's schema up to the version this binary expects.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration] = Schema.migrations) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The versions already applied.
    public func appliedVersions(in database: any SQLDatabase) async throws -> Set<Int64> {
        let create = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        if database.dialect == .postgres {
            // IF NOT EXISTS is not safe against a concurrent CREATE in PostgreSQL (both may pass the
            // check; one then fails on the catalogue): nodes starting together take turns.
            try await database.batch([SQLStatement("SELECT pg_advisory_xact_lock(74657)"), SQLStatement(create)])
        } else {
            try await database.execute(create)
        }
        let rows = try await database.query("SELECT version FROM schema_migrations")
        return Set(try rows.map { try $0.int("version") })
    }

    /// The migrations not yet applied, in order.
    public func pending(in database: any SQLDatabase) async throws -> [Migration] {
        let applied = try await appliedVersions(in: database)
        if let newest = applied.max(), let known = migrations.last?.version, newest > known {
            throw StoreError(
                .schema,
                "the database is at schema version \(newest) but this qila knows only up to \(known): upgrade qila"
            )
        }
        return migrations.filter { !applied.contains($0.version) }
    }

    /// Applies every pending migration; returns those it applied.
    @discardableResult
    public func migrate(_ database: any SQLDatabase, logger: Logger? = nil) async throws -> [Migration] {
        var applied: [Migration] = []
        for migration in try await pending(in: database) {
            var statements: [SQLStatement] = []
            if database.dialect == .postgres {
                // Several nodes may start at once: the first takes the lock, the others wait and
                // then find the version recorded.
                statements.append(SQLStatement("SELECT pg_advisory_xact_lock(74657)"))
            }
            statements += migration.statements.map { SQLStatement(database.dialect.ddl($0)) }
            statements += (migration.dialectStatements[database.dialect] ?? []).map { SQLStatement($0) }
            statements.append(
                SQLStatement(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(migration.version), .text(migration.name), SQLValue(Date())]
                )
            )
            do {
                try await database.batch(statements)
                logger?.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration)
            } catch {
                if try await appliedVersions(in: database).contains(migration.version) { continue }
                throw StoreError(.schema, "migration \(migration.version) (\(migration.name)) failed: \(error)")
            }
        }
        return applied
    }
}

import Foundation
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL through PostgresNIO's connection pool.
public final class PostgresDatabase: SQLDatabase {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    /// Connects to the database named by a `postgres://user:password@host:port/database` URL.
    /// `?sslmode=require` asks for TLS; the default on loopback is plain TCP. `?connect_timeout=N`
    /// (seconds, as libpq reads it) bounds the wait for a first answer; 10 by default.
    public init(url: String, logger: Logger = Logger(label: "qila.store.postgres")) async throws {
        let configuration = try Self.configuration(from: url)
        let deadline = URLComponents(string: url)?.queryItems?.first { $0.name == "connect_timeout" }?.value.flatMap(Int.init).map { max(1, $0) } ?? 10
        self.logger = logger
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        self.client = client
        runTask = Task { await client.run() }
        do {
            // The pool retries refused connections for ever; a first query with a deadline turns
            // an unreachable server into one clear error at start.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await client.query("SELECT 1", logger: logger).collect() }
                group.addTask {
                    try await Task.sleep(for: .seconds(deadline))
                    throw StoreError(.unavailable, "no answer within \(deadline) seconds")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            runTask.cancel()
            throw StoreError(
                .unavailable,
                "cannot reach PostgreSQL at \(configuration.host ?? "?"):\(configuration.port ?? 5432): \(Self.describe(error))"
            )
        }
    }

    static func configuration(from text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw StoreError(.unavailable, "the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.unavailable, "the database URL names no host")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.clientDefault)
        default: tls = .require(.clientDefault)
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding,
            database: database.isEmpty ? nil : database,
            tls: tls
        )
        configuration.options.maximumConnections = 20
        return configuration
    }

    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            let rows = try await client.query(try Self.query(sql, binds), logger: logger)
            var result: [SQLRow] = []
            for try await row in rows { result.append(try Self.convert(row)) }
            return result
        } catch {
            throw Self.translate(error)
        }
    }

    public func writeReturning(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await query(sql, binds)
    }

    public func execute(_ sql: String, _ binds: [SQLValue]) async throws {
        do {
            let rows = try await client.query(try Self.query(sql, binds), logger: logger)
            for try await _ in rows {}
        } catch {
            throw Self.translate(error)
        }
    }

    public func batch(_ statements: [SQLStatement]) async throws {
        do {
            let queries = try statements.map { try Self.query($0.sql, $0.binds) }
            try await client.withTransaction(logger: logger) { connection in
                for query in queries {
                    let rows = try await connection.query(query, logger: self.logger)
                    for try await _ in rows {}
                }
            }
        } catch let error as PostgresTransactionError {
            throw Self.translate(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch {
            throw Self.translate(error)
        }
    }

    public func close() async throws {
        runTask.cancel()
        _ = await runTask.value
    }

    /// Rewrites `?` placeholders to `$1`, `$2`, ... outside quoted text.
    static func query(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQuery {
        var rewritten = ""
        rewritten.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var inQuote = false
        for character in sql {
            if character == "'" { inQuote.toggle() }
            if character == "?" && !inQuote {
                number += 1
                rewritten += "$\(number)"
            } else {
                rewritten.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let v): bindings.append(v)
            case .real(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        return PostgresQuery(unsafeSQL: rewritten, binds: bindings)
    }

    private static func convert(_ row: PostgresRow) throws -> SQLRow {
        var values: [String: SQLValue] = [:]
        for cell in row {
            let value: SQLValue
            if cell.bytes == nil {
                value = .null
            } else {
                switch cell.dataType {
                case .int8: value = .integer(try cell.decode(Int64.self))
                case .int4: value = .integer(Int64(try cell.decode(Int32.self)))
                case .int2: value = .integer(Int64(try cell.decode(Int16.self)))
                case .bool: value = .integer(try cell.decode(Bool.self) ? 1 : 0)
                case .float8, .float4, .numeric: value = .real(try cell.decode(Double.self))
                case .bytea: value = .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
                default: value = .text(try cell.decode(String.self))
                }
            }
            values[cell.columnName.lowercased()] = value
        }
        return SQLRow(values)
    }

    static func translate(_ error: any Error) -> any Error {
        if let error = error as? PSQLError {
            let state = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            if state == "23505" || state == "23503" {
                return StoreError(.conflict, message)
            }
            if error.serverInfo == nil {
                return StoreError(.unavailable, "PostgreSQL connection failed: \(error.code)")
            }
            return StoreError(.statement, "\(state ?? "?"): \(message)")
        }
        return error
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return String(describing: underlying) }
            return "\(error.code)"
        }
        return String(describing: error)
    }
}

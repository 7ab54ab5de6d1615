import Foundation
import QilaAccess
import QilaCore
import QilaStore

/// The databases a contract test runs against: SQLite always, PostgreSQL when
/// `QILA_TEST_POSTGRES_URL` names one (CI sets it).
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["QILA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The backends available in this run. (In CI a separate test fails when PostgreSQL is
    /// missing, so a misconfigured CI cannot pass by silently testing SQLite alone.)
    public static var available: [TestBackend] {
        if postgresURL != nil { return [.sqlite, .postgres] }
        FileHandle.standardError.write(Data("note: QILA_TEST_POSTGRES_URL is not set; contract tests run on SQLite only\n".utf8))
        return [.sqlite]
    }

    /// A fresh, empty database of this kind: a new SQLite file, or a new PostgreSQL schema.
    public func makeDatabaseLocation() async throws -> (location: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qila-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        switch self {
        case .sqlite:
            return (directory + "/qila.sqlite", directory)
        case .postgres:
            guard let base = Self.postgresURL else { fatalError("QILA_TEST_POSTGRES_URL is not set") }
            // Each test gets its own database, so tests may run in parallel.
            let name = "qila_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            // Many tests create databases at once on two cores: the bound on the first answer is a
            // safety net for a hung server, not a measure of speed.
            var components = URLComponents(string: base)!
            components.queryItems = (components.queryItems ?? []).filter { $0.name != "connect_timeout" } + [URLQueryItem(name: "connect_timeout", value: "300")]
            let admin = try await PostgresDatabase(url: components.string!)
            try await admin.execute("CREATE DATABASE \(name)")
            try await admin.close()
            components.path = "/" + name
            return (components.string!, directory)
        }
    }

    /// A fresh installation on this backend, with fast password hashing for tests.
    public func makeInstallation() async throws -> Installation {
        let (location, directory) = try await makeDatabaseLocation()
        var options = Installation.Options(dataDirectory: directory, database: self == .sqlite ? nil : location)
        options.passwordIterations = 1_000
        return try await Installation.open(options)
    }
}

public import Foundation
public import Logging
public import QilaCore

/// The repositories of `QilaRepositories`, written once over `SQLDatabase` and so shared by the
/// SQLite and PostgreSQL backends. The contract tests run the same suite against both.
public final class SQLStore: QilaRepositories {
    public let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Opens the database named by `location` and brings its schema up to date:
    /// a `postgres://` URL, or a path to a SQLite file.
    public static func open(_ location: String, logger: Logger = Logger(label: "qila.store")) async throws -> SQLStore {
        let database: any SQLDatabase
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            database = try await PostgresDatabase(url: location, logger: logger)
        } else {
            let path = location.hasPrefix("sqlite://") ? String(location.dropFirst("sqlite://".count)) : location
            database = try SQLiteDatabase(path: path)
        }
        try await Migrator().migrate(database, logger: logger)
        let store = SQLStore(database: database)
        try await store.seedDefaultSectors()
        return store
    }

    func seedDefaultSectors() async throws {
        let existing = Set(try await sectors().map(\.id))
        for sector in Sector.defaults where !existing.contains(sector.id) {
            do { try await createSector(sector) } catch let error as StoreError where error.code == .conflict {}
        }
    }

    public func close() async throws { try await database.close() }

    // MARK: encoding helpers

    static func key(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.lowercased().trimmingCharacters(in: .whitespaces)
    }

    static func joined<S: Sequence>(_ values: S) -> String where S.Element: CustomStringConvertible {
        values.map(\.description).sorted().joined(separator: ",")
    }

    static func split(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }
}

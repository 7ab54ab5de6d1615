public import Foundation
public import QilaCore

/// A framework the authority added, as the YAML it was given.
public struct StoredFramework: Sendable, Equatable {
    public var id: String
    public var version: String
    public var name: String
    public var body: String
    public var addedBy: UserID
    public var addedAt: Date

    public init(id: String, version: String, name: String, body: String, addedBy: UserID, addedAt: Date) {
        self.id = id
        self.version = version
        self.name = name
        self.body = body
        self.addedBy = addedBy
        self.addedAt = addedAt
    }
}

extension SQLStore {
    /// Stores a framework version; false when that id and version are already stored (a
    /// version, once used, does not change).
    public func addFramework(_ framework: StoredFramework) async throws -> Bool {
        let rows = try await database.writeReturning(
            """
            INSERT INTO assessment_frameworks (id, version, name, body, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (id, version) DO NOTHING RETURNING id
            """,
            [
                .text(framework.id), .text(framework.version), .text(framework.name), .text(framework.body), .text(framework.addedBy.description),
                SQLValue(framework.addedAt),
            ])
        return !rows.isEmpty
    }

    /// Every stored version, oldest first.
    public func frameworks() async throws -> [StoredFramework] {
        try await database.query("SELECT * FROM assessment_frameworks ORDER BY added_at, id, version").map { row in
            guard let user = UserID(try row.string("added_by")) else { throw StoreError(.corruptRow, "a framework's author cannot be read") }
            return StoredFramework(
                id: try row.string("id"), version: try row.string("version"), name: try row.string("name"), body: try row.string("body"),
                addedBy: user, addedAt: try row.date("added_at"))
        }
    }
}

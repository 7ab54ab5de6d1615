public import QilaCore

extension SQLStore {
    public func sectors() async throws -> [Sector] {
        try await database.query("SELECT id, name FROM sectors ORDER BY name").map {
            Sector(id: SectorID(rawValue: try $0.string("id")), name: try $0.string("name"))
        }
    }

    public func createSector(_ sector: Sector) async throws {
        try await database.execute("INSERT INTO sectors (id, name) VALUES (?, ?)", .text(sector.id.rawValue), .text(sector.name))
    }

    public func createOrganisation(_ organisation: Organisation) async throws {
        try await database.execute(
            """
            INSERT INTO organisations (id, name, name_key, kind, sector, registration_number, criticality, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(organisation.id.description), .text(organisation.name), .text(Self.key(organisation.name)),
            .text(organisation.kind.rawValue), .text(organisation.sector.rawValue),
            SQLValue(organisation.registrationNumber), SQLValue(organisation.criticality?.rawValue), SQLValue(organisation.createdAt)
        )
    }

    public func organisation(_ id: OrganisationID) async throws -> Organisation? {
        try await database.query("SELECT * FROM organisations WHERE id = ?", .text(id.description)).first.map(Self.organisation)
    }

    public func organisations() async throws -> [Organisation] {
        try await database.query("SELECT * FROM organisations ORDER BY name_key").map(Self.organisation)
    }

    public func updateOrganisation(_ organisation: Organisation) async throws {
        try await database.execute(
            "UPDATE organisations SET name = ?, name_key = ?, kind = ?, sector = ?, registration_number = ?, criticality = ? WHERE id = ?",
            .text(organisation.name), .text(Self.key(organisation.name)), .text(organisation.kind.rawValue),
            .text(organisation.sector.rawValue), SQLValue(organisation.registrationNumber), SQLValue(organisation.criticality?.rawValue),
            .text(organisation.id.description)
        )
    }

    static func organisation(_ row: SQLRow) throws -> Organisation {
        let id = try row.string("id")
        let kind = try row.string("kind")
        guard let organisationID = OrganisationID(id), let organisationKind = Organisation.Kind(rawValue: kind) else {
            throw StoreError(.corruptRow, "organisation \(id) has kind '\(kind)' or an id Qila cannot read")
        }
        return Organisation(
            id: organisationID,
            name: try row.string("name"),
            kind: organisationKind,
            sector: SectorID(rawValue: try row.string("sector")),
            registrationNumber: row.optionalString("registration_number"),
            criticality: row.optionalString("criticality").flatMap(Organisation.Criticality.init(rawValue:)),
            createdAt: try row.date("created_at")
        )
    }
}

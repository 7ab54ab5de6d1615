public import Foundation
public import QilaCore

/// An imported inventory: its name, format and size.
public struct InventoryRecord: Sendable, Equatable {
    public var id: String
    public var organisation: String
    public var name: String
    public var format: String
    public var components: Int
    public var importedBy: String
    public var importedAt: Date

    public init(id: String, organisation: String, name: String, format: String, components: Int, importedBy: String, importedAt: Date) {
        self.id = id
        self.organisation = organisation
        self.name = name
        self.format = format
        self.components = components
        self.importedBy = importedBy
        self.importedAt = importedAt
    }
}

/// One component as stored.
public struct InventoryComponentRecord: Sendable, Equatable {
    public var id: String
    public var inventory: String
    public var organisation: String
    public var vendor: String
    public var name: String
    public var version: String
    public var cpe: String?
    public var purl: String?

    public init(id: String, inventory: String, organisation: String, vendor: String, name: String, version: String, cpe: String?, purl: String?) {
        self.id = id
        self.inventory = inventory
        self.organisation = organisation
        self.vendor = vendor
        self.name = name
        self.version = version
        self.cpe = cpe
        self.purl = purl
    }
}

/// What an organisation says of one exposure, VEX-like: open, mitigated, patched, or not affected with a justification.
public struct ExposureStatement: Sendable, Equatable {
    public var organisation: String
    /// The component's key: vendor, name and version folded.
    public var component: String
    public var kind: String
    public var reference: String
    public var status: String
    public var justification: String?
    public var note: String
    public var statedBy: String
    public var statedAt: Date

    public init(
        organisation: String, component: String, kind: String, reference: String, status: String, justification: String?, note: String, statedBy: String,
        statedAt: Date
    ) {
        self.organisation = organisation
        self.component = component
        self.kind = kind
        self.reference = reference
        self.status = status
        self.justification = justification
        self.note = note
        self.statedBy = statedBy
        self.statedAt = statedAt
    }
}

extension SQLStore {
    /// Replaces the organisation's inventory of that name with these components, in one transaction.
    public func replaceInventory(_ inventory: InventoryRecord, components: [InventoryComponentRecord]) async throws {
        var statements = [
            SQLStatement(
                "DELETE FROM inventory_components WHERE inventory IN (SELECT id FROM inventories WHERE organisation = ? AND name = ?)",
                [.text(inventory.organisation), .text(inventory.name)]),
            SQLStatement("DELETE FROM inventories WHERE organisation = ? AND name = ?", [.text(inventory.organisation), .text(inventory.name)]),
            SQLStatement(
                "INSERT INTO inventories (id, organisation, name, format, components, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(inventory.id), .text(inventory.organisation), .text(inventory.name), .text(inventory.format), .integer(Int64(inventory.components)),
                    .text(inventory.importedBy), SQLValue(inventory.importedAt),
                ]),
        ]
        for component in components {
            statements.append(
                SQLStatement(
                    "INSERT INTO inventory_components (id, inventory, organisation, vendor, name, version, cpe, purl) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(component.id), .text(component.inventory), .text(component.organisation), .text(component.vendor), .text(component.name),
                        .text(component.version), SQLValue(component.cpe), SQLValue(component.purl),
                    ]))
        }
        try await database.batch(statements)
    }

    public func inventories(organisation: String) async throws -> [InventoryRecord] {
        try await database.query("SELECT * FROM inventories WHERE organisation = ? ORDER BY name", .text(organisation)).map { row in
            InventoryRecord(
                id: try row.string("id"), organisation: try row.string("organisation"), name: try row.string("name"), format: try row.string("format"),
                components: Int(try row.int("components")), importedBy: try row.string("imported_by"), importedAt: try row.date("imported_at"))
        }
    }

    /// The components of one organisation, or of every organisation when nil.
    public func inventoryComponents(organisation: String?) async throws -> [InventoryComponentRecord] {
        let rows =
            if let organisation {
                try await database.query("SELECT * FROM inventory_components WHERE organisation = ? ORDER BY vendor, name, version", .text(organisation))
            } else {
                try await database.query("SELECT * FROM inventory_components")
            }
        return try rows.map { row in
            InventoryComponentRecord(
                id: try row.string("id"), inventory: try row.string("inventory"), organisation: try row.string("organisation"), vendor: try row.string("vendor"),
                name: try row.string("name"), version: try row.string("version"), cpe: row.optionalString("cpe"), purl: row.optionalString("purl"))
        }
    }

    public func saveExposureStatement(_ statement: ExposureStatement) async throws {
        try await database.execute(
            """
            INSERT INTO exposure_statements (organisation, component, kind, reference, status, justification, note, stated_by, stated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (organisation, component, kind, reference) DO UPDATE SET status = excluded.status, justification = excluded.justification,
                note = excluded.note, stated_by = excluded.stated_by, stated_at = excluded.stated_at
            """,
            .text(statement.organisation), .text(statement.component), .text(statement.kind), .text(statement.reference), .text(statement.status),
            SQLValue(statement.justification), .text(statement.note), .text(statement.statedBy), SQLValue(statement.statedAt))
    }

    /// The statements of one organisation, or of every organisation when nil.
    public func exposureStatements(organisation: String?) async throws -> [ExposureStatement] {
        let rows =
            if let organisation {
                try await database.query("SELECT * FROM exposure_statements WHERE organisation = ?", .text(organisation))
            } else {
                try await database.query("SELECT * FROM exposure_statements")
            }
        return try rows.map { row in
            ExposureStatement(
                organisation: try row.string("organisation"), component: try row.string("component"), kind: try row.string("kind"),
                reference: try row.string("reference"), status: try row.string("status"), justification: row.optionalString("justification"),
                note: try row.string("note"), statedBy: try row.string("stated_by"), statedAt: try row.date("stated_at"))
        }
    }

    /// Claims one reminder or escalation of one exposure for one due date; false if a node already did.
    public func claimExposureAlert(organisation: String, component: String, kind: String, reference: String, alert: String, due: String, at time: Date)
        async throws -> Bool
    {
        !(try await database.writeReturning(
            """
            INSERT INTO exposure_alerts (organisation, component, kind, reference, alert, due, time) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING RETURNING alert
            """,
            [.text(organisation), .text(component), .text(kind), .text(reference), .text(alert), .text(due), SQLValue(time)])).isEmpty
    }

    /// The organisations that have imported an inventory.
    public func organisationsWithInventories() async throws -> [String] {
        try await database.query("SELECT DISTINCT organisation FROM inventories ORDER BY organisation").map { try $0.string("organisation") }
    }
}

import Foundation
import QilaCore
import QilaStore
import QilaVulnerabilities

/// The exposure page: one organisation's exposure (what it runs that a KEV entry or an advisory
/// names, with due dates and statuses) and its inventories; or, for those who read several
/// organisations, a table of them with their counts.
struct ExposureView: Sendable {
    struct Row: Sendable {
        var key: String
        var reference, referenceLink, cve, title, component, version, due, status, match, statement: String
        var overdue: Bool
        var approximate: Bool
        /// The form to change its status, open after a refusal.
        var form: StateForm?
    }

    struct StateForm: Sendable {
        var action: String
        var component, kind, reference: String
        var statuses: [FieldView.Option]
        var justifications: [FieldView.Option]
        var note: String
        var open: Bool
        var statusError: String?
        var justificationError: String?
        var noteError: String?
        var summary: String?
    }

    struct Inventory: Sendable { var name, format, components, imported: String }

    struct OrganisationRow: Sendable {
        var name, link, components, open, overdue, closed, median: String
        var hasOverdue: Bool
    }

    let organisationName: String?
    let choices: [FieldView.Option]
    let hasChoices: Bool
    let rows: [Row]
    let hasRows: Bool
    let emptyText: String
    let counts: String?
    let chart: String?
    let inventories: [Inventory]
    let hasInventories: Bool
    let importAction: String?
    let importError: String?
    let importName: String
    let organisations: [OrganisationRow]
    let hasOrganisations: Bool
    let shows: [FieldView.Option]
    let organisationID: String
    let shown: String?
    let previous: String?
    let next: String?
    let message: String?

    static let stateName = "exposure.state"
    static let importFormName = "exposure.import"
    static let doneName = "exposure.done"
}

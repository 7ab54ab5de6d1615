import Foundation
import QilaCore
import QilaStore
import QilaVulnerabilities

/// The national KEV catalogue's page: the entries (searched, filtered, paged), and for the
/// authority the import, its own entries, removals and due dates.
struct KEVView: Sendable {
    struct Row: Sendable {
        var cve, vendorProduct, name, added, due, ransomware, source, tlp, state: String
        var removed: Bool
        var dueTitle: String
    }

    struct RuleRow: Sendable {
        var entry, scope, value, deadline, setAt: String
    }

    let rows: [Row]
    let total: Int
    let shown: String?
    let query: String
    /// What the empty table says: nothing imported yet, or nothing matches.
    let emptyText: String
    let sources: [FieldView.Option]
    let states: [FieldView.Option]
    let previous: String?
    let next: String?
    let dueHeading: String
    let chart: String?
    let rules: [RuleRow]
    let hasRules: Bool
    let canEdit: Bool
    let importError: String?
    let entryForm: FormView?
    let removalForm: FormView?
    let deadlineForm: FormView?
    let message: String?

    static let entryName = "kev.entry"
    static let removalName = "kev.removal"
    static let deadlineName = "kev.deadline"
    static let importName = "kev.import"
    static let doneName = "kev.done"

    static func entryFields(state: FormState?) -> [FieldView] {
        [
            FieldView("cveID", label: "CVE", hint: "Such as CVE-2026-10001. Saving an entry of the authority's again revises it.", required: true, state: state, id: "entry-cve"),
            FieldView("vendorProject", label: "Vendor or project", required: true, state: state),
            FieldView("product", label: "Product", required: true, state: state),
            FieldView("vulnerabilityName", label: "Vulnerability name", required: true, state: state),
            FieldView("dateAdded", label: "Date added", hint: "YYYY-MM-DD; today if left empty.", state: state),
            FieldView("shortDescription", label: "Description", control: .textarea(rows: 3), required: true, state: state),
            FieldView("requiredAction", label: "Required action", control: .textarea(rows: 2), required: true, state: state),
            FieldView("dueDate", label: "Due date", hint: "YYYY-MM-DD, unless a sector's or class's rule sets another.", required: true, state: state),
            FieldView(
                "knownRansomwareCampaignUse", label: "Used in ransomware campaigns",
                control: .select([.init(value: "Unknown", label: "Unknown"), .init(value: "Known", label: "Known")]), state: state, initial: "Unknown"),
            FieldView("cwes", label: "CWEs", hint: "Such as CWE-287, CWE-20.", state: state),
            FieldView("notes", label: "Notes and references", control: .textarea(rows: 2), state: state),
            FieldView(
                "tlp", label: "Marking",
                control: .select(
                    [TLP.clear, .green, .amber, .amberStrict].map { .init(value: $0.rawValue, label: $0 == .clear ? "TLP:CLEAR (published)" : $0.rawValue) }),
                hint: "Only TLP:CLEAR entries are published at /kev/known_exploited_vulnerabilities.json.", state: state, initial: TLP.clear.rawValue),
        ]
    }

    static func removalFields(state: FormState?) -> [FieldView] {
        [
            FieldView("cveID", label: "CVE", required: true, state: state, id: "removal-cve"),
            FieldView("removedOn", label: "Removed on", hint: "YYYY-MM-DD; today if left empty.", state: state),
            FieldView("reason", label: "Reason", control: .textarea(rows: 2), hint: "Published with the entry in the NDJSON stream.", required: true, state: state),
        ]
    }

    static func deadlineFields(state: FormState?, sectors: [Sector]) -> [FieldView] {
        [
            FieldView("cveID", label: "CVE", hint: "Leave empty for every entry of the catalogue.", state: state, id: "deadline-cve"),
            FieldView(
                "scope", label: "For", control: .select([.init(value: "sector", label: "A sector"), .init(value: "criticality", label: "A criticality class")]),
                state: state, initial: "sector"),
            FieldView(
                "value", label: "Sector or class",
                control: .select(
                    sectors.map { .init(value: $0.id.description, label: "Sector: \($0.name)") }
                        + Organisation.Criticality.allCases.map { .init(value: $0.rawValue, label: "Class: \($0.rawValue)") }),
                required: true, state: state),
            FieldView("days", label: "Days after the entry was added", hint: "From 0 to 3650.", state: state),
            FieldView("dueDate", label: "Or a date, for one entry", hint: "YYYY-MM-DD.", state: state, id: "deadline-due"),
        ]
    }
}

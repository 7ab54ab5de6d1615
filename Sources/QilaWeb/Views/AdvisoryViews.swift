import Foundation
import QilaCore
import QilaStore
import QilaVulnerabilities

/// The advisories list: the published ones the reader may read, and for the authority every
/// working copy with its state.
struct AdvisoryListView: Sendable {
    struct Row: Sendable {
        var tracking, title, tlp, tlpClass, state, updated, severity: String
        var link: String
    }

    let rows: [Row]
    let hasRows: Bool
    /// What the empty table says: none yet, or none matching the search.
    let emptyText: String
    let query: String
    let shown: String?
    let previous: String?
    let next: String?
    let canWrite: Bool
    let chart: String?
    let message: String?
}

/// One advisory: its latest published revision as readers see it, its revisions, and for the
/// authority the working copy's form and the review actions.
struct AdvisoryView: Sendable {
    struct Product: Sendable { var vendor, name, affected, fixed, identifier: String }
    struct Vulnerability: Sendable { var id, title, cwe, cvss31, cvss31Vector, cvss40, cvss40Vector: String }
    struct Remediation: Sendable { var category, details: String; var url: String? }
    struct Reference: Sendable { var url, summary: String }
    struct Revision: Sendable { var number: String; var date, summary, csaf: String }

    let tracking: String
    let title: String
    let tlp: String
    let tlpClass: String
    let published: Bool
    let summaryHTML: String
    let detailsHTML: String
    let products: [Product]
    let vulnerabilities: [Vulnerability]
    let remediations: [Remediation]
    let references: [Reference]
    let hasReferences: Bool
    let revisions: [Revision]
    let hasRevisions: Bool
    /// The authority's part.
    let state: String?
    let reviewNote: String?
    let submittedBy: String?
    let editForm: FormView?
    let submitAction: String?
    let returnForm: FormView?
    let publishForm: FormView?
    let summaryError: String?
    let message: String?

    static let formName = "advisory.draft"
    static let submitName = "advisory.submit"
    static let returnName = "advisory.return"
    static let publishName = "advisory.publish"
    static let doneName = "advisory.done"

    static func fields(state: FormState?, sectors: [Sector], organisations: [Organisation]) -> [FieldView] {
        [
            FieldView("title", label: "Title", required: true, state: state, id: "advisory-title"),
            FieldView(
                "tlp", label: "Marking",
                control: .select(TLP.allCases.map { .init(value: $0.rawValue, label: $0 == .clear ? "TLP:CLEAR (public pages and CSAF feed)" : $0.rawValue) }),
                hint: "CLEAR: everyone. GREEN: every member. AMBER: the sectors and organisations chosen below. RED: the organisations chosen below.",
                state: state, initial: TLP.clear.rawValue),
            FieldView("summary", label: "Summary", control: .textarea(rows: 4), hint: "Markdown: what is affected and what to do.", required: true, state: state),
            FieldView("details", label: "Details", control: .textarea(rows: 6), hint: "Markdown: the technical details.", state: state),
            FieldView(
                "products", label: "Affected products", control: .textarea(rows: 4),
                hint: "One per line: Vendor | Product | affected versions | fixed in | CPE 2.3 name or package URL. Affected versions as <2.4.60, or >=2.4.0, <2.4.60, or 2.4.1; the last two parts may be left out.",
                required: true, state: state),
            FieldView(
                "vulnerabilities", label: "Vulnerabilities", control: .textarea(rows: 3),
                hint: "One per line: CVE | title | CWE | CVSS:3.1/… | CVSS:4.0/…. The CVE may be left empty; CWE and vectors may be left out.", required: true,
                state: state),
            FieldView(
                "remediations", label: "Remediations", control: .textarea(rows: 3),
                hint: "One per line: category | what to do | URL. Categories: vendor fix, workaround, mitigation, fix planned, optional patch, no fix planned, none available.",
                required: true, state: state),
            FieldView("references", label: "References", control: .textarea(rows: 2), hint: "One per line: https://address | what it is.", state: state),
            FieldView(
                "sectors", label: "Sectors receiving it (AMBER)", control: .checkboxes(sectors.map { .init(value: $0.id.description, label: $0.name) }), state: state),
            FieldView(
                "organisations", label: "Organisations receiving it (AMBER, RED)",
                control: .checkboxes(organisations.filter(\.keepsOwnRecords).map { .init(value: $0.id.description, label: $0.name) }), state: state),
        ]
    }

    static func returnFields(state: FormState?) -> [FieldView] {
        [FieldView("note", label: "What should change", control: .textarea(rows: 3), required: true, state: state, id: "return-note")]
    }

    static func publishFields(state: FormState?, first: Bool) -> [FieldView] {
        [
            FieldView(
                "summary", label: "What this revision changes", hint: first ? "Left empty: “Initial publication.”" : "Shown in the revision history.",
                required: !first, state: state, id: "publish-summary")
        ]
    }

    /// The form's values from a saved draft.
    static func state(of input: AdvisoryInput) -> FormState {
        FormState(
            form: formName,
            values: [
                "title": [input.title], "tlp": [input.tlp], "summary": [input.summary], "details": [input.details], "products": [input.products],
                "vulnerabilities": [input.vulnerabilities], "remediations": [input.remediations], "references": [input.references],
                "sectors": input.sectors, "organisations": input.organisations,
            ])
    }

    static func input(from fields: FormFields) -> AdvisoryInput {
        AdvisoryInput(
            title: fields["title"] ?? "", tlp: fields["tlp"] ?? TLP.clear.rawValue, summary: fields["summary"] ?? "", details: fields["details"] ?? "",
            products: fields["products"] ?? "", vulnerabilities: fields["vulnerabilities"] ?? "", remediations: fields["remediations"] ?? "",
            references: fields["references"] ?? "", sectors: fields.all("sectors"), organisations: fields.all("organisations"))
    }
}

import Foundation
import QilaCore
import QilaPublic
import QilaStore

/// The authority's page for the public portal: what is published, the form to publish, the
/// statistics shown, and the agency complaints go to.
struct PortalAdminView: Sendable {
    struct Item: Sendable {
        var id, kind, title, href, published, state: String
        var urdu: Bool
        var withdrawn: Bool
    }

    let items: [Item]
    let hasItems: Bool
    let publishForm: FormView
    let statisticsForm: FormView
    let agencyForm: FormView?
    let agency: String
    let message: String?

    static let publishName = "portal.publish"
    static let statisticsName = "portal.statistics"
    static let agencyName = "portal.agency"
    static let doneName = "portal.done"

    static func publishFields(state: FormState?, draft: PublicationDesk.Draft = .init(), editing: Bool = false) -> [FieldView] {
        (editing
            ? []
            : [
                FieldView(
                    "kind", label: "Kind", control: .select([.init(value: "guide", label: "Guide"), .init(value: "alert", label: "Alert (a current threat)")]),
                    state: state, initial: draft.kind),
                FieldView(
                    "slug", label: "Address", hint: "The last part of its address on the public pages, such as protect-your-accounts.", required: true,
                    state: state, initial: draft.slug),
            ])
            + [
                FieldView("title", label: "Title (English)", required: true, state: state, initial: draft.title),
                FieldView(
                    "body", label: "Text (English)", control: .textarea(rows: 10),
                    hint: "Markdown: # headings, - lists, **bold**, [links](https://…). Everything published is TLP:CLEAR: anyone may read it.", required: true,
                    state: state, initial: draft.body),
                FieldView("titleUrdu", label: "Title (Urdu)", hint: "With the Urdu text, or leave both empty.", state: state, initial: draft.titleUrdu),
                FieldView("bodyUrdu", label: "Text (Urdu)", control: .textarea(rows: 10), state: state, initial: draft.bodyUrdu),
            ]
    }

    static func statisticsFields(chosen: [PublicationDesk.Statistic], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "statistics", label: "Published statistics",
                control: .checkboxes(PublicationDesk.Statistic.allCases.map { .init(value: $0.rawValue, label: $0.title, selected: chosen.contains($0)) }),
                hint: "Counted since the start of the year when the page is read; groups under the minimum size are withheld.", state: state)
        ]
    }

    static func agencyFields(_ organisations: [Organisation], current: OrganisationID?, state: FormState?) -> [FieldView] {
        [
            FieldView(
                "agency", label: "Complaints go to",
                control: .select([.init(value: "", label: "Choose the investigation agency…")] + organisations.map { .init(value: $0.id.description, label: $0.name) }),
                hint: "Its staff handle the complaints as cases and alone may open the complainants' contact details.", required: true, state: state,
                initial: current?.description ?? "")
        ]
    }
}

/// Editing one publication.
struct PublicationEditView: Sendable {
    let title: String
    let href: String
    let form: FormView
}

/// The analysts' queue of suspicious messages and websites.
struct SuspiciousQueueView: Sendable {
    struct Row: Sendable {
        var id, reference, kind, url, sender, received, status: String
    }

    struct Tab: Sendable {
        var label, href: String
        var current: Bool
    }

    let rows: [Row]
    let hasRows: Bool
    let tabs: [Tab]
    let message: String?
}

/// One report, with the decision forms while it is new.
struct SuspiciousReportView: Sendable {
    let reference, kind, url, sender, headers, description, received, status, language: String
    let decided: String?
    let note: String?
    let intelObject: String?
    let isNew: Bool
    let indicators: [String]
    let confirmForm: FormView?
    let dismissForm: FormView?
}

/// A complainant's contact details, opened by the agency's handler.
struct ComplaintContactView: Sendable {
    let caseNumber, caseHref, tracking, name, phone, email: String
    let hasContact: Bool
}

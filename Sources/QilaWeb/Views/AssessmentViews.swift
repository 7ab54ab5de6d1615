import Foundation
import QilaAssess
import QilaCore

/// A score between 0 and 1 as people read it: a whole percentage, or a dash where there is none.
func percent(_ value: Double?) -> String { value.map { "\(Int(($0 * 100).rounded())) %" } ?? "—" }

/// The campaigns page: those the subject sees, where its own organisation stands in each, the
/// form to launch one, and the minimum-group setting for the authority's administrators.
struct AssessmentCampaignsView: Sendable {
    struct FrameworkRow: Sendable {
        var id, name, version: String
        var requirements: Int
        var origin: String
        var exports: [QuestionnaireView.Link]
    }

    let frameworks: [FrameworkRow]
    let canAddFramework: Bool
    let frameworkError: String?

    struct Row: Sendable {
        var href, title, framework, cycle, scope, due, submitted: String
        var mine: String?
        var mineHref: String?
        var closed: Bool
        /// A directive's reference; nil for an assessment.
        var reference: String?
    }

    let rows: [Row]
    let hasRows: Bool
    let launchForm: FormView?
    let directiveForm: FormView?
    let minimumGroupForm: FormView?
    let minimumGroup: Int
    let message: String?

    static let launchFormName = "assessment.launch"
    static let minimumGroupFormName = "assessment.minimum-group"
    static let doneName = "assessment.done"
    static let frameworkFormName = "assessment.framework"
    static let directiveFormName = "assessment.directive"

    static func directiveFields(scopes: [(value: String, label: String)], audiences: [(value: String, label: String)], organisations: [Organisation],
                                zone: DisplayZone, state: FormState?) -> [FieldView] {
        [
            FieldView("reference", label: "Reference", hint: "The authority's number for it, as NCA-D-2026-03.", required: true, state: state, id: "directive-reference"),
            FieldView("title", label: "Title", required: true, state: state, id: "directive-title"),
            FieldView(
                "body", label: "What is directed, and why", control: .textarea(rows: 5), hint: "Markdown; addressees read it on the directive's page.",
                required: true, state: state, id: "directive-body"),
            FieldView(
                "requirements", label: "Requirements", control: .textarea(rows: 4),
                hint: "One a line; addressees report compliance with each (numbered R1, R2…).", required: true, state: state, id: "directive-requirements"),
            FieldView(
                "tlp", label: "Marking",
                control: .select([TLP.clear, .green, .amber, .amberStrict].map { .init(value: $0.slug, label: "TLP:" + $0.slug.uppercased()) }),
                hint: "TLP:CLEAR directives may later be published on the public pages.", state: state, initial: "green", id: "directive-tlp"),
            FieldView("scope", label: "Scope", control: .select(scopes.map { .init(value: $0.value, label: $0.label) }), state: state, id: "directive-scope"),
            FieldView(
                "audience", label: "Addressees", control: .select(audiences.map { .init(value: $0.value, label: $0.label) }),
                hint: "A whole sector or a criticality class; tick organisations below to address only those.", state: state, id: "directive-audience"),
            FieldView(
                "organisation", label: "Only these organisations", control: .checkboxes(organisations.map { .init(value: $0.id.description, label: $0.name) }),
                state: state),
            FieldView("opensAt", label: "In force from (\(zone.name))", hint: zone.inputHint, required: true, state: state, initial: zone.typed(Date()), id: "directive-opens"),
            FieldView("dueAt", label: "Comply by (\(zone.name))", hint: zone.inputHint, required: true, state: state, id: "directive-due"),
            FieldView("reminderDays", label: "Remind, days before", control: .text(type: "number"), state: state, initial: "3", id: "directive-reminder"),
            FieldView("graceDays", label: "Show-cause notice, days after", control: .text(type: "number"), state: state, initial: "3", id: "directive-grace"),
        ]
    }

    /// `sectors` are the scopes the subject may launch in (nil for national), `frameworks` the library.
    static func launchFields(frameworks: [Framework], scopes: [(value: String, label: String)], audiences: [(value: String, label: String)],
                             organisations: [Organisation], zone: DisplayZone, state: FormState?) -> [FieldView] {
        [
            FieldView("title", label: "Title", hint: "What organisations will see, as \"Telecom CSF baseline 2026\".", required: true, state: state, id: "launch-title"),
            FieldView(
                "framework", label: "Framework", control: .select(frameworks.map { .init(value: $0.id, label: "\($0.name) \($0.version) (\($0.answered.count) requirements)") }),
                required: true, state: state, id: "launch-framework"),
            FieldView("cycle", label: "Cycle", hint: "As 2026 or 2026-H2; campaigns of one framework form the trend across cycles.", required: true, state: state, id: "launch-cycle"),
            FieldView("scope", label: "Scope", control: .select(scopes.map { .init(value: $0.value, label: $0.label) }), state: state, id: "launch-scope"),
            FieldView(
                "audience", label: "Organisations asked", control: .select(audiences.map { .init(value: $0.value, label: $0.label) }),
                hint: "A whole sector, or a criticality class (within the scope's sector); tick organisations below to ask only those.", state: state,
                id: "launch-audience"),
            FieldView(
                "organisation", label: "Only these organisations", control: .checkboxes(organisations.map { .init(value: $0.id.description, label: $0.name) }),
                state: state),
            FieldView(
                "requirements", label: "Requirements asked", control: .textarea(rows: 2),
                hint: "Leave empty to ask every requirement; else their ids, separated by spaces or commas (a profile).", state: state, id: "launch-requirements"),
            FieldView(
                "targets", label: "Targets", control: .textarea(rows: 2),
                hint: "REQUIREMENT=LEVEL, one a line (as PR.AA-03=3); full marks where none is named.", state: state, id: "launch-targets"),
            FieldView("opensAt", label: "Opens (\(zone.name))", hint: zone.inputHint, required: true, state: state, initial: zone.typed(Date()), id: "launch-opens"),
            FieldView("dueAt", label: "Due (\(zone.name))", hint: zone.inputHint, required: true, state: state, id: "launch-due"),
            FieldView("reminderDays", label: "Remind, days before the due date", control: .text(type: "number"), state: state, initial: "7", id: "launch-reminder"),
            FieldView(
                "graceDays", label: "Show-cause notice, days after the due date", control: .text(type: "number"), state: state, initial: "7",
                id: "launch-grace"),
        ]
    }

    static func minimumGroupFields(current: Int, state: FormState?) -> [FieldView] {
        [
            FieldView(
                "minimumGroup", label: "Smallest group shown", control: .text(type: "number"),
                hint: "Organisations a sector or the nation must have submitted before its distribution is shown (2 to 100).", required: true,
                state: state, initial: String(current), id: "minimum-group")
        ]
    }
}

/// One campaign: what it asks, who was asked and where each stands, and the figures the reader may see.
struct AssessmentCampaignView: Sendable {
    struct Participant: Sendable {
        var name, href, sector, status, statusClass, progress, audited, alerts, acknowledged: String
        var noticeHref: String?
        var canReopen: Bool
    }

    struct Group: Sendable {
        var name, asked, submitted, late, audited, lowerQuartile, median, upperQuartile, auditedMedian: String
        var withheld: Bool
    }

    struct Directive: Sendable {
        struct Requirement: Sendable {
            var id, text: String
        }

        var reference, tlp, tlpSlug, body: String
        var requirements: [Requirement]
    }

    let id: String
    let title: String
    let directive: Directive?
    let framework: String
    let cycle: String
    let scope: String
    let opens: String
    let due: String
    let closed: String?
    let requirementCount: Int
    let targets: String?
    let participants: [Participant]
    let showParticipants: Bool
    let mine: String?
    let groups: [Group]
    let hasGroups: Bool
    let minimumGroup: Int
    let heatmap: String?
    let trend: String?
    let distribution: String?
    let canClose: Bool
    let csvHref: String?
    /// Each open group's gaps, as its median organisation has them.
    let gapGroups: [GapGroup]
    let hasGapGroups: Bool

    struct GapGroup: Sendable {
        var name: String
        var gaps: [QuestionnaireView.Gap]
    }
}

/// An organisation's assessment: progress, scores (self-declared and audited), each requirement
/// with its guidance beside the answer, the auditor's word, gaps and exports.
struct QuestionnaireView: Sendable {
    struct Evidence: Sendable {
        var name, href, size, sha256: String
    }

    struct Item: Sendable {
        var id, anchor, title, text: String
        var guidance: String?
        var examples: [String]
        var hasExamples: Bool
        var choice: FieldView
        var comment: FieldView
        var evidenceName: String
        var evidence: [Evidence]
        var hasEvidence: Bool
        var answered: String?
        var answeredBy: String?
        var attestation: String?
        var attestationClass: String?
        var target: String?
        var error: String?
        var attestForm: FormView?
    }

    struct Function: Sendable {
        var id, title, selfDeclared, audited, previous, target: String
    }

    struct Gap: Sendable {
        var rank: Int
        var requirement, title, achieved, target, incidents, priority: String
    }

    let campaignTitle: String
    let campaignHref: String
    let organisation: String
    let framework: String
    let due: String
    let status: String
    let statusClass: String
    let progressValue: Int
    let progressMax: Int
    let progressText: String
    let selfDeclared: String
    let audited: String
    let auditedNote: String
    let previous: String?
    let functions: [Function]
    let items: [Item]
    let canAnswer: Bool
    let canSubmit: Bool
    let saveAction: String
    let submitAction: String
    let summary: String?
    let message: String?
    let gaps: [Gap]
    let hasGaps: Bool
    let exports: [Link]
    let assignForm: FormView?
    let assignee: String?
    /// For a directive: its reference, who acknowledged it, or where to acknowledge it.
    let directiveReference: String?
    let acknowledged: String?
    let acknowledgeAction: String?

    struct Link: Sendable {
        var href, title: String
    }

    static let answersFormName = "assessment.answers"
    static let attestFormName = "assessment.attest"
    static let assignFormName = "assessment.assign"
}

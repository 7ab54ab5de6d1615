import Foundation
import Mustache
import QilaPublic

/// A view whose templates also read computed properties (Mirror sees stored ones only): they are
/// answered by `computed(_:)`, everything else by the stored property of that name.
protocol MustacheView: MustacheParent {
    func computed(_ name: String) -> Any?
}

extension MustacheView {
    func child(named name: String) -> Any? { computed(name) ?? PageModel.property(name, of: self) }
}

/// The views of the public pages. Every text in them comes from the translation table, in the
/// reader's language, except what people wrote themselves (publications, directives, their own input).
struct PublicErrorLine: Sendable {
    var field: String
    var text: String
}

struct PublicHomeView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        switch name {
        case "hasDirectives": hasDirectives
        case "hasAdvisories": hasAdvisories
        default: nil
        }
    }

    struct Item: Sendable {
        var href: String
        var title: String
        var summary: String
        var published: String
        /// Written in English only, shown in a page in Urdu.
        var foreign: Bool
    }

    struct DirectiveLink: Sendable {
        var href: String
        var title: String
        var due: String
    }

    var alerts: [Item]
    var guides: [Item]
    var directives: [DirectiveLink]
    var hasDirectives: Bool { !directives.isEmpty }
    /// The latest TLP:CLEAR advisories (their text is in English).
    var advisories: [DirectiveLink] = []
    var hasAdvisories: Bool { !advisories.isEmpty }
}

/// A TLP:CLEAR advisory on the public pages.
struct PublicAdvisoryView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasReferences" ? !references.isEmpty : nil
    }

    struct Product: Sendable { var vendor, name, affected, fixed: String }
    struct Vulnerability: Sendable { var id, title, severity: String }
    struct Remediation: Sendable { var category, details: String; var url: String? }
    struct Reference: Sendable { var url, summary: String }

    var tracking: String
    var title: String
    var revision: String
    var summaryHTML: String
    var detailsHTML: String
    var products: [Product]
    var vulnerabilities: [Vulnerability]
    var remediations: [Remediation]
    var references: [Reference]
    var csaf: String
}

struct PublicPublicationView: Sendable {
    var kindLabel: String
    var title: String
    var published: String
    var updated: String?
    var html: String
    var foreign: Bool
}

struct PublicDirectiveView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasRequirements" ? hasRequirements : nil
    }

    struct Requirement: Sendable {
        var id: String
        var text: String
    }

    var reference: String
    var title: String
    var due: String
    var html: String
    var requirements: [Requirement]
    var hasRequirements: Bool { !requirements.isEmpty }
}

struct PublicStatisticsView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasTables" ? hasTables : nil
    }

    struct Row: Sendable {
        var label: String
        var shown: String
        /// Of the table's largest count, 0 to 100 (0 when withheld).
        var share: Int
    }

    struct Table: Sendable {
        var heading: String
        var rows: [Row]
    }

    var intro: String
    var tables: [Table]
    var hasTables: Bool { !tables.isEmpty }
}

struct PublicComplaintView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasErrors" ? hasErrors : nil
    }

    var unavailable: Bool
    var stamp: String
    var categories: [PublicOption]
    var categoryError: String?
    var narrative: PublicField
    var occurredOn: PublicField
    var moneyLost: PublicField
    var name: PublicField
    var phone: PublicField
    var email: PublicField
    var evidenceHint: String
    var evidenceError: String?
    var errors: [PublicErrorLine]
    var hasErrors: Bool { !errors.isEmpty }
}

struct PublicReceiptView: Sendable {
    var tracking: String
    var secret: String
}

struct PublicStatusView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasErrors" ? hasErrors : nil
    }

    struct Shown: Sendable {
        var heading: String
        var state: String
        var outcome: String?
        var note: String?
        var category: String
        var filed: String
        var updated: String
    }

    var status: Shown?
    var tracking: PublicField
    var secret: PublicField
    var errors: [PublicErrorLine]
    var hasErrors: Bool { !errors.isEmpty }
}

struct PublicSuspiciousView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasErrors" ? hasErrors : nil
    }

    var reference: String?
    var thanks: String
    var stamp: String
    var kinds: [PublicOption]
    var kindError: String?
    var url: PublicField
    var sender: PublicField
    var headers: PublicField
    var description: PublicField
    var errors: [PublicErrorLine]
    var hasErrors: Bool { !errors.isEmpty }
}

struct PublicVulnerabilityView: Sendable, MustacheView {
    func computed(_ name: String) -> Any? {
        name == "hasErrors" ? hasErrors : nil
    }

    var reference: String?
    var thanks: String
    var stamp: String
    var vendor: PublicField
    var product: PublicField
    var version: PublicField
    var description: PublicField
    var name: PublicField
    var email: PublicField
    var credit: PublicField
    var errors: [PublicErrorLine]
    var hasErrors: Bool { !errors.isEmpty }
}

struct PublicSelfCheckView: Sendable {
    struct Answer: Sendable {
        var name: String
        var id: String
        var value: String
        var label: String
        var selected: Bool
    }

    struct Question: Sendable {
        var text: String
        var answers: [Answer]
    }

    struct Step: Sendable {
        var action: String
        var why: String
        var unsure: Bool
    }

    struct Plan: Sendable, MustacheView {
        func computed(_ name: String) -> Any? { name == "hasSteps" ? hasSteps : nil }
        var steps: [Step]
        var hasSteps: Bool { !steps.isEmpty }
    }

    var audience: String
    var audiences: [PublicOption]
    var questions: [Question]
    var plan: Plan?
}

import Foundation
import QilaCore

/// A show-cause notice as the authority issued it, to print or download.
struct NoticeView: Sendable {
    struct Paragraph: Sendable {
        var lines: [String]
    }

    let id: String
    let number: String
    /// Where the notice came from: the case, or the assessment campaign.
    let backHref: String
    let backLabel: String
    let paragraphs: [Paragraph]

    /// `concerning` names the case (its number) or the campaign (its title) the notice is about.
    init(_ notice: ComplianceNotice, concerning: String) {
        id = notice.id.description
        number = notice.number
        if let campaign = notice.campaign {
            backHref = "/assessments/campaigns/\(campaign)"
        } else {
            backHref = "/cases/\(notice.caseID?.description ?? "")"
        }
        backLabel = concerning
        paragraphs = notice.text.components(separatedBy: "\n\n").map { Paragraph(lines: $0.split(whereSeparator: \.isNewline).map(String.init)) }
    }
}

import Foundation
import QilaCore

/// A show-cause notice as the authority issued it, to print or download.
struct NoticeView: Sendable {
    struct Paragraph: Sendable {
        var lines: [String]
    }

    let id: String
    let number: String
    let caseID: String
    let caseNumber: String
    let paragraphs: [Paragraph]

    init(_ notice: ComplianceNotice, caseNumber: String) {
        id = notice.id.description
        number = notice.number
        caseID = notice.caseID.description
        self.caseNumber = caseNumber
        paragraphs = notice.text.components(separatedBy: "\n\n").map { Paragraph(lines: $0.split(whereSeparator: \.isNewline).map(String.init)) }
    }
}

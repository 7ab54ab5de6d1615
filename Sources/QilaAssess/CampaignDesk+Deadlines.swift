public import Foundation
public import QilaCore
import QilaStore

/// Reminders before a campaign's due date and show-cause notices after its grace period, for
/// organisations that have not submitted. Each is claimed in the database first, so several
/// nodes sweeping at once send each only once.
extension CampaignDesk {
    public struct SweepResult: Sendable, Hashable {
        public var reminders: Int
        public var notices: Int

        public init(reminders: Int = 0, notices: Int = 0) {
            self.reminders = reminders
            self.notices = notices
        }
    }

    public func sweep(now: Date = Date()) async throws -> SweepResult {
        var result = SweepResult()
        let day: TimeInterval = 86_400
        for campaign in try await store.campaigns() where campaign.closedAt == nil && campaign.opensAt <= now {
            let remindFrom = campaign.dueAt.addingTimeInterval(-Double(campaign.reminderDays) * day)
            let noticeFrom = campaign.dueAt.addingTimeInterval(Double(campaign.graceDays) * day)
            guard now >= remindFrom else { continue }
            for participant in try await store.participants(campaign.id) where participant.submittedAt == nil {
                guard let organisation = try await store.organisation(participant.organisation) else { continue }
                if now < campaign.dueAt {
                    guard try await store.claimAssessmentAlert(campaign.id, organisation.id, kind: "reminder", at: now) else { continue }
                    result.reminders += 1
                    await notifier?.notify(
                        AssessmentEvent(
                            kind: .reminder, campaign: campaign.id, title: campaign.title, organisation: organisation.id, sector: organisation.sector,
                            summary: "Reminder: \(campaign.title) is due \(RFC3339.format(campaign.dueAt)) and has not been submitted", due: campaign.dueAt,
                            time: now))
                } else if now >= noticeFrom {
                    guard try await store.claimAssessmentAlert(campaign.id, organisation.id, kind: "notice", at: now) else { continue }
                    let notice = try await issueNotice(campaign, organisation, now: now)
                    result.notices += 1
                    await notifier?.notify(
                        AssessmentEvent(
                            kind: .notice, campaign: campaign.id, title: campaign.title, organisation: organisation.id, sector: organisation.sector,
                            summary: "Show-cause notice \(notice.number): \(campaign.title) was due \(RFC3339.format(campaign.dueAt)) and has not been submitted",
                            due: campaign.dueAt, time: now))
                }
            }
        }
        return result
    }

    /// The notice, in the same form as a case's: who, which obligation, what happened, the days
    /// to reply; issued in the name of the campaign's runner.
    func issueNotice(_ campaign: AssessmentCampaign, _ organisation: Organisation, now: Date) async throws -> ComplianceNotice {
        let replyDays = 14
        let issuer = try await store.user(campaign.createdBy)
        let runner = try await store.organisation(campaign.createdByOrganisation)
        let authority = try await store.organisations().first { $0.kind == .authority }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMMM yyyy, HH:mm zzz"
        let replyBy = now.addingTimeInterval(Double(replyDays) * 86_400)
        let framework = try? await framework(of: campaign).framework
        var lines: [String] = []
        lines.append(runner?.name ?? authority?.name ?? "National Cybersecurity Authority")
        lines.append("")
        lines.append("SHOW-CAUSE NOTICE {NUMBER}")
        lines.append("Date: \(formatter.string(from: now))")
        lines.append("")
        lines.append("To: \(organisation.name)\(organisation.registrationNumber.map { " (registration \($0))" } ?? "")")
        if let directive = campaign.directive {
            lines.append("Concerning: directive \(directive.reference), \"\(campaign.title)\"")
            lines.append("")
            lines.append(
                "The organisation was directed to acknowledge the directive and report its compliance by \(formatter.string(from: campaign.dueAt)). The report had not been submitted by the end of the \(campaign.graceDays)-day grace period, nor as of the date of this notice.")
        } else {
            lines.append("Concerning: the assessment campaign \"\(campaign.title)\" (cycle \(campaign.cycle)), \(framework.map { "\($0.name) \($0.version)" } ?? campaign.framework)")
            lines.append("")
            lines.append(
                "The organisation was asked to submit its assessment by \(formatter.string(from: campaign.dueAt)). It had not been submitted by the end of the \(campaign.graceDays)-day grace period, nor as of the date of this notice.")
        }
        lines.append("")
        lines.append(
            "You are required to show cause, in writing and within \(replyDays) days of this notice (by \(formatter.string(from: replyBy))), why action should not be taken against the organisation for this failure. The \(campaign.directive == nil ? "assessment" : "compliance report") should be submitted through Qila without further delay; doing so does not by itself answer this notice.")
        lines.append("")
        lines.append("Issued on behalf of \(issuer?.displayName ?? "the campaign's runner"), \(runner?.name ?? "")")
        var notice = ComplianceNotice(
            organisation: organisation.id, campaign: campaign.id, stages: ["assessment"], issuedAt: now, issuedBy: campaign.createdBy, replyDays: replyDays,
            text: lines.joined(separator: "\n"))
        notice = try await store.createNotice(notice, entries: [])
        notice.text = notice.text.replacingOccurrences(of: "{NUMBER}", with: notice.number)
        try await audit.recordChange(
            by: nil, "assessment.notice", resource: "campaign:\(campaign.id)/\(organisation.id)", source: nil, details: ["notice": notice.number], now: now)
        return notice
    }
}

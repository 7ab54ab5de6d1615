public import Foundation
import QilaCore
public import Logging
public import QilaCases
public import QilaStore
public import ServiceLifecycle

extension OutboxNotifier: AssessmentNotifier {
    /// Launches, reminders and notices go to the organisation; submissions and disputes to the
    /// authority's analysts and the sector's regulators. Webhooks get the event's JSON.
    public func notify(_ event: AssessmentEvent) async {
        let toOrganisation: Set<AssessmentEvent.Kind> = [.launched, .reminder, .notice, .disputed]
        let toAuthority: Set<AssessmentEvent.Kind> = [.submitted, .disputed, .notice]
        let due = event.due.map { "\nDue: \(RFC3339.format($0))" } ?? ""
        await notify(
            OutgoingEvent(
                kind: event.kind.rawValue, organisation: event.organisation, sector: event.sector, summary: event.summary, time: event.time,
                toOrganisation: toOrganisation.contains(event.kind), toAuthority: toAuthority.contains(event.kind), body: "\(event.summary)\(due)",
                path: "/assessments/campaigns/\(event.campaign)/organisations/\(event.organisation)", linkLabel: "Open the assessment",
                replyHint: "answer on the assessment's page, not by e-mail"),
            payload: event)
    }
}

/// Looks at every open campaign's dates at an interval: reminders before the due date, notices
/// after the grace period. On several nodes the holder of the `assessments.deadlines` lease
/// sweeps (each alert is also claimed under a unique key, so two sweeps could not send one twice).
public struct AssessmentDeadlineService: Service {
    let desk: CampaignDesk
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(desk: CampaignDesk, lease: Lease, interval: Duration, logger: Logger) {
        self.desk = desk
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "the assessment deadline sweep failed") {
            if let result = try await lease.ifHeld({ try await desk.sweep() }), result.reminders + result.notices > 0 {
                logger.info("assessment deadlines", metadata: ["reminders": "\(result.reminders)", "notices": "\(result.notices)"])
            }
        }
        await lease.release()
    }
}

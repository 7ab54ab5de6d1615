public import Foundation
public import Logging
public import QilaCases
public import QilaCore
public import QilaStore
public import ServiceLifecycle

/// What the exposure sweep tells: a reminder to the organisation before items fall due, and an
/// escalation, to the organisation and to the authority and its sector's regulator, once they are overdue.
public struct ExposureEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case reminder = "exposure.reminder", overdue = "exposure.overdue" }
    public var kind: Kind
    public var organisation: OrganisationID
    public var sector: SectorID
    public var summary: String
    /// The entries concerned (at most 20 named).
    public var references: [String]
    public var count: Int
    public var time: Date
}

public protocol ExposureNotifier: Sendable {
    func notify(_ event: ExposureEvent) async
}

extension OutboxNotifier: ExposureNotifier {
    public func notify(_ event: ExposureEvent) async {
        await notify(
            OutgoingEvent(
                kind: event.kind.rawValue, organisation: event.organisation, sector: event.sector, summary: event.summary, time: event.time,
                toOrganisation: true, toAuthority: event.kind == .overdue,
                body: "\(event.summary)\n\(event.references.joined(separator: "\n"))\(event.count > event.references.count ? "\n…" : "")",
                path: "/exposure?organisation=\(event.organisation)&show=\(event.kind == .overdue ? "overdue" : "open")", linkLabel: "Open the exposure",
                replyHint: "state each item's status on the exposure page, not by e-mail"),
            payload: event)
    }
}

extension ExposureDesk {
    public struct SweepResult: Sendable, Hashable {
        public var reminders = 0
        public var escalations = 0
    }

    /// Days before a due date that the organisation is reminded.
    public static let reminderDays = 7

    /// Reminds organisations of open items falling due within a week and escalates overdue ones,
    /// each item once per due date (claimed in the database, so several nodes send it once);
    /// one message per organisation and kind, naming the items.
    public func sweep(notifier: (any ExposureNotifier)?, now: Date = Date()) async throws -> SweepResult {
        var result = SweepResult()
        let today = CivilDay(now)
        let organisations = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id.description, $0) })
        let context = try await context()
        for id in try await store.organisationsWithInventories() {
            guard let organisation = organisations[id] else { continue }
            var reminders: [String] = []
            var overdue: [String] = []
            for exposure in try await computeExposure(of: organisation, now: now, context: context) where exposure.status == .open {
                guard let due = exposure.due else { continue }
                let alert: String
                if due < today {
                    alert = "overdue"
                } else if due.ordinal - today.ordinal <= Self.reminderDays {
                    alert = "reminder"
                } else {
                    continue
                }
                guard
                    try await store.claimExposureAlert(
                        organisation: id, component: exposure.componentKey, kind: exposure.target.kind.rawValue, reference: exposure.target.reference,
                        alert: alert, due: due.description, at: now)
                else { continue }
                let line = "\(exposure.target.reference) (\(exposure.component.vendor) \(exposure.component.name) \(exposure.component.version)), due \(due)"
                if alert == "overdue" { overdue.append(line) } else { reminders.append(line) }
            }
            if !reminders.isEmpty {
                result.reminders += reminders.count
                await notifier?.notify(
                    ExposureEvent(
                        kind: .reminder, organisation: organisation.id, sector: organisation.sector,
                        summary: "Reminder: \(reminders.count) exposure\(reminders.count == 1 ? "" : "s") of \(organisation.name) fall due within \(Self.reminderDays) days",
                        references: Array(reminders.prefix(20)), count: reminders.count, time: now))
            }
            if !overdue.isEmpty {
                result.escalations += overdue.count
                try await audit.recordChange(
                    by: nil, "exposure.overdue", resource: "inventory:\(organisation.id)", source: nil,
                    details: ["count": String(overdue.count), "first": overdue.prefix(5).joined(separator: "; ")], now: now)
                await notifier?.notify(
                    ExposureEvent(
                        kind: .overdue, organisation: organisation.id, sector: organisation.sector,
                        summary: "Overdue: \(overdue.count) exposure\(overdue.count == 1 ? "" : "s") of \(organisation.name) passed their due date still open",
                        references: Array(overdue.prefix(20)), count: overdue.count, time: now))
            }
        }
        return result
    }
}

/// Sweeps exposure due dates at an interval, on the node holding the `exposure.deadlines` lease.
public struct ExposureDeadlineService: Service {
    let desk: ExposureDesk
    let notifier: any ExposureNotifier
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(desk: ExposureDesk, notifier: any ExposureNotifier, lease: Lease, interval: Duration, logger: Logger) {
        self.desk = desk
        self.notifier = notifier
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "the exposure deadline sweep failed") {
            if let result = try await lease.ifHeld({ try await desk.sweep(notifier: notifier) }), result.reminders + result.escalations > 0 {
                logger.info("exposure deadlines", metadata: ["reminders": "\(result.reminders)", "escalations": "\(result.escalations)"])
            }
        }
        await lease.release()
    }
}

extension ExposureDesk {
    /// The nation's exposure now, in aggregate: for the oversight committee (no organisation named).
    public struct National: Sendable, Equatable {
        /// Organisations that have imported an inventory.
        public var organisations: Int
        public var open: Int
        public var overdue: Int
        public var closed: Int
        /// Organisations with at least one overdue item.
        public var organisationsOverdue: Int
        /// Median days from an entry's publication to the statement that closed it, over every closed item.
        public var medianDaysToClose: Double?
    }

    /// Aggregates every organisation's exposure; the caller decides who may read it.
    public func national(now: Date = Date()) async throws -> National {
        let today = CivilDay(now)
        let organisations = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id.description, $0) })
        var result = National(organisations: 0, open: 0, overdue: 0, closed: 0, organisationsOverdue: 0, medianDaysToClose: nil)
        var days: [Double] = []
        let context = try await context()
        for id in try await store.organisationsWithInventories() {
            guard let organisation = organisations[id] else { continue }
            result.organisations += 1
            let exposures = try await computeExposure(of: organisation, now: now, context: context)
            let overdue = exposures.filter { $0.isOverdue(on: today) }.count
            result.overdue += overdue
            result.open += exposures.filter { $0.status == .open }.count
            result.closed += exposures.filter { $0.status != .open }.count
            if overdue > 0 { result.organisationsOverdue += 1 }
            days += exposures.compactMap(\.daysToClose)
        }
        days.sort()
        result.medianDaysToClose = days.isEmpty ? nil : days.count % 2 == 1 ? days[days.count / 2] : (days[days.count / 2 - 1] + days[days.count / 2]) / 2
        return result
    }
}

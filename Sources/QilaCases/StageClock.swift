public import Foundation

/// Where one stage of a report stands against its deadline.
public struct StageClock: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// An on-request stage the authority has not asked for.
        case notRequested = "not-requested"
        case open
        /// Less than a quarter of the time allowed is left.
        case dueSoon = "due-soon"
        case overdue
        case submittedOnTime = "on-time"
        case submittedLate = "late"
    }

    public var stage: String
    public var due: Date?
    public var submittedAt: Date?
    public var state: State

    /// On time, late, or missing (overdue and not submitted): what the compliance record counts.
    public var isLateOrMissing: Bool { state == .submittedLate || state == .overdue }
}

extension ReportingRegime {
    /// The clock of every stage, for an incident the organisation became aware of at `awareness`,
    /// with the stages submitted and requested so far, seen at `now`.
    ///
    /// A stage counted from another stage runs from that stage's submission, or from its deadline
    /// while it is not submitted: a late notification does not stop the final report's clock.
    public func clocks(awareness: Date, submitted: [String: Date], requested: [String: Date] = [:], now: Date) -> [StageClock] {
        var dues: [String: Date] = [:]
        var result: [StageClock] = []
        for stage in stages {
            let start: Date?
            switch stage.due.anchor {
            case .awareness: start = awareness
            case .request: start = requested[stage.id]
            case .stage(let other): start = submitted[other] ?? dues[other]
            }
            guard let start else {
                result.append(StageClock(stage: stage.id, due: nil, submittedAt: submitted[stage.id], state: .notRequested))
                continue
            }
            let due = stage.due.date(after: start, in: timeZone)
            dues[stage.id] = due
            let state: StageClock.State
            if let at = submitted[stage.id] {
                state = at <= due ? .submittedOnTime : .submittedLate
            } else if now > due {
                state = .overdue
            } else if due.timeIntervalSince(now) < due.timeIntervalSince(start) / 4 {
                state = .dueSoon
            } else {
                state = .open
            }
            result.append(StageClock(stage: stage.id, due: due, submittedAt: submitted[stage.id], state: state))
        }
        return result
    }
}

public import Foundation
public import QilaCore
public import QilaTraining
public import QilaVulnerabilities

/// The oversight committee's national picture for a quarter, arranged under the five pillars of
/// the ITU Global Cybersecurity Index (legal, technical, organisational, capacity development,
/// cooperation), with the three quarters before it for trends. Aggregates only: no case, warrant,
/// organisation or person is named; a count from fewer sources than the minimum group is withheld
/// (nil), as are rates and medians of groups under it.
public struct NationalPicture: Sendable {
    public var quarter: Quarter
    /// The quarters shown in trends, oldest first, ending with `quarter`.
    public var quarters: [Quarter]
    public var minimumGroup: Int
    public var legal: Legal
    public var technical: Technical
    public var organisational: Organisational
    /// Nil when the subject may not see training figures.
    public var capacity: Capacity?
    public var cooperation: Cooperation

    /// A labelled row of counts, one per quarter of the trend.
    public struct Series: Sendable, Equatable {
        public var label: String
        /// Per quarter, oldest first; nil where withheld.
        public var values: [Int?]
    }

    public struct Legal: Sendable {
        /// Report stages that fell due in each quarter: on time, late, still missing.
        public var onTime: [Int]
        public var late: [Int]
        public var missing: [Int]
        /// On time over all that fell due, per quarter (nil when none fell due).
        public var onTimeShare: [Double?]
        /// Hours from awareness to the first stage submitted, median, for the quarter.
        public var medianHoursToFirstReport: Double?
        public var notices: [Int]
        /// Nil when the subject may not see warrant statistics.
        public var warrants: Warrants?
    }

    public struct Warrants: Sendable {
        /// Recorded and queried, per quarter.
        public var recorded: [Int]
        public var queries: [Int]
        public var approved: Int
        public var rejected: Int
        public var pending: Int
        public var medianDecisionHours: Double?
        /// Should always be 0: queries run after the warrant expired.
        public var queriesAfterExpiry: Int
    }

    public struct Technical: Sendable {
        /// Incidents reported by organisations, per sector and per class.
        public var bySector: [Series]
        public var byClass: [Series]
        public var total: [Int]
        public var medianHoursToTriage: Double?
        public var medianHoursToClose: Double?
        /// Complaints from the public per quarter.
        public var complaints: [Int]
        /// Exposure to known exploited vulnerabilities and advisories now; nil when too few
        /// organisations have imported an inventory (the minimum group) or none at all.
        public var exposure: ExposureDesk.National? = nil
    }

    public struct Organisational: Sendable {
        public struct Campaign: Sendable {
            public var title: String
            public var framework: String
            public var cycle: String
            public var due: Date
            public var submitted: Int
            public var asked: Int
            /// Medians of the overall score, 0 to 1; nil where withheld.
            public var nationalSelfDeclared: Double?
            public var nationalAudited: Double?
            public var sectors: [(name: String, median: Double?)]
        }

        public struct Directive: Sendable {
            public var reference: String
            public var title: String
            public var due: Date
            public var asked: Int
            public var acknowledged: Int
            public var submitted: Int
        }

        public var campaigns: [Campaign]
        public var directives: [Directive]
    }

    public struct Capacity: Sendable {
        public var year: Int
        public var groups: [TrainingDesk.GroupFigures]
    }

    public struct Cooperation: Sendable {
        /// Intelligence objects added per quarter, by the collection's kind (national, sector,
        /// organisation, group).
        public var shared: [Series]
        public var sightingReports: [Int]
        public var sightingsSeen: [Int]
        /// Suspicious messages and websites the public reported, and those confirmed and shared.
        public var publicReports: [Int]
        public var publicConfirmed: [Int]
        /// Peers abroad the installation exchanges with.
        public var peers: Int
    }
}

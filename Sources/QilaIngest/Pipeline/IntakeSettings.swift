public import Foundation
public import QilaCore

/// How intake groups, keeps and escalates what it finds. Set from `intake:` in the configuration.
public struct IntakeSettings: Sendable {
    /// Detection threads; all cores by default.
    public var workers: Int
    /// Journalled bytes waiting for a worker or for the committer before intake is slowed down.
    public var queueBytes: Int
    /// Occurrences of the same rule on the same host (or account) within this many seconds are one alert.
    public var alertWindow: TimeInterval
    /// Events kept as evidence per alert.
    public var evidencePerAlert: Int
    /// The same rule or indicator in this many organisations within `campaignWindow` raises a national campaign alert.
    public var campaignOrganisations: Int
    public var campaignWindow: TimeInterval
    /// The organisation national campaign alerts belong to (the authority); none, no campaign alerts.
    public var authority: OrganisationID?
    /// A subject (host, account) must have been known this long before a value new to it is an alert.
    public var firstSeenLearning: TimeInterval
    /// An hour's count this many robust spreads from its baseline, and at least `volumeMinimumEvents`
    /// away, raises a volume anomaly; a baseline needs `volumeMinimumDays` earlier days.
    public var volumeThreshold: Double
    public var volumeMinimumEvents: Int
    public var volumeMinimumDays: Int
    /// How often the committer writes (seconds).
    public var commitInterval: TimeInterval
    /// Default events per second per sensor, and per organisation (0: unlimited).
    public var sensorRate: Int
    public var organisationRate: Int
    /// Events per organisation per UTC day (0: unlimited).
    public var organisationDailyQuota: Int

    public init(
        workers: Int = ProcessInfo.processInfo.activeProcessorCount, queueBytes: Int = 64 << 20, alertWindow: TimeInterval = 3600,
        evidencePerAlert: Int = 10, campaignOrganisations: Int = 2, campaignWindow: TimeInterval = 86_400, authority: OrganisationID? = nil,
        firstSeenLearning: TimeInterval = 7 * 86_400, volumeThreshold: Double = 5, volumeMinimumEvents: Int = 100, volumeMinimumDays: Int = 7,
        commitInterval: TimeInterval = 0.25,
        sensorRate: Int = 0, organisationRate: Int = 0, organisationDailyQuota: Int = 0
    ) {
        self.workers = max(1, workers)
        self.queueBytes = queueBytes
        self.alertWindow = alertWindow
        self.evidencePerAlert = evidencePerAlert
        self.campaignOrganisations = campaignOrganisations
        self.campaignWindow = campaignWindow
        self.authority = authority
        self.firstSeenLearning = firstSeenLearning
        self.volumeThreshold = volumeThreshold
        self.volumeMinimumEvents = volumeMinimumEvents
        self.volumeMinimumDays = volumeMinimumDays
        self.commitInterval = commitInterval
        self.sensorRate = sensorRate
        self.organisationRate = organisationRate
        self.organisationDailyQuota = organisationDailyQuota
    }
}

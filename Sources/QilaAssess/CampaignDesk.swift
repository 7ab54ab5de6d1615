public import Foundation
public import QilaAccess
public import QilaCases
public import QilaCore
public import QilaStore

/// Assessment campaigns (docs/decisions/0024): the authority or a sector regulator asks
/// organisations to assess themselves against a framework by a date; organisations answer,
/// save drafts and submit; auditors attest answer by answer; late submissions are reminded and
/// then escalated to show-cause notices; scores are kept per submission for the roll-ups.
public struct CampaignDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    /// For quiet checks (what to list); refusals go through the gate each call is given.
    public let policy: PolicyDecisionPoint
    public let frameworks: FrameworkDesk
    public let attachments: AttachmentStore
    public let notifier: (any AssessmentNotifier)?

    public init(
        store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint, attachments: AttachmentStore, notifier: (any AssessmentNotifier)? = nil
    ) {
        self.store = store
        self.audit = audit
        self.policy = policy
        self.frameworks = FrameworkDesk(store: store, audit: audit)
        self.attachments = attachments
        self.notifier = notifier
    }

    /// Whom a campaign asks: a sector, a list of organisations, or a criticality class (within
    /// the campaign's sector when it has one).
    public enum Audience: Sendable, Hashable {
        case sector(SectorID)
        case organisations([OrganisationID])
        case criticality(Organisation.Criticality)
    }

    public struct Launch: Sendable {
        public var title: String
        public var framework: String
        /// The profile: requirements asked (all when empty) and target levels.
        public var requirements: [String]
        public var targets: [String: String]
        public var cycle: String
        /// The sector of a regulator's campaign; nil for a national one.
        public var sector: SectorID?
        public var audience: Audience
        public var opensAt: Date
        public var dueAt: Date
        public var reminderDays: Int
        public var graceDays: Int

        public init(
            title: String, framework: String, requirements: [String] = [], targets: [String: String] = [:], cycle: String, sector: SectorID?,
            audience: Audience, opensAt: Date, dueAt: Date, reminderDays: Int = 7, graceDays: Int = 7
        ) {
            self.title = title
            self.framework = framework
            self.requirements = requirements
            self.targets = targets
            self.cycle = cycle
            self.sector = sector
            self.audience = audience
            self.opensAt = opensAt
            self.dueAt = dueAt
            self.reminderDays = reminderDays
            self.graceDays = graceDays
        }
    }

    static func checkedTitle(_ text: String) throws -> String {
        let title = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (3...200).contains(title.count) else { throw QilaError.invalid("must be 3 to 200 characters", field: "title") }
        return title
    }

    static func checkedCycle(_ text: String) throws -> String {
        let cycle = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...40).contains(cycle.count) else { throw QilaError.invalid("must be 1 to 40 characters, as 2026 or 2026-H2", field: "cycle") }
        return cycle
    }

    static func checkDates(opensAt: Date, dueAt: Date, reminderDays: Int, graceDays: Int, now: Date) throws {
        guard dueAt > opensAt else { throw QilaError.invalid("must be after the opening date", field: "dueAt") }
        guard dueAt > now else { throw QilaError.invalid("must be in the future", field: "dueAt") }
        guard (0...90).contains(reminderDays) else { throw QilaError.invalid("must be 0 to 90 days", field: "reminderDays") }
        guard (0...90).contains(graceDays) else { throw QilaError.invalid("must be 0 to 90 days", field: "graceDays") }
    }

    /// The organisations an audience names (never the authority or a regulator), within `sector`
    /// when the campaign or directive has one; refused when none matches.
    func addressees(_ audience: Audience, sector: SectorID?) async throws -> [Organisation] {
        let everyone = try await store.organisations().filter(\.isOverseen)
        var chosen: [Organisation]
        switch audience {
        case .sector(let named):
            if let own = sector, own != named {
                throw QilaError.invalid("must be the campaign's own sector (\(own))", field: "organisations")
            }
            chosen = everyone.filter { $0.sector == named }
        case .organisations(let ids):
            let known = Dictionary(uniqueKeysWithValues: everyone.map { ($0.id, $0) })
            chosen = []
            for id in ids {
                guard let organisation = known[id] else {
                    throw QilaError.invalid("\(id) is not an organisation that can be addressed (the authority and regulators are not)", field: "organisations")
                }
                if let sector, organisation.sector != sector {
                    throw QilaError.invalid("\(organisation.name) is not in the campaign's sector (\(sector))", field: "organisations")
                }
                chosen.append(organisation)
            }
        case .criticality(let criticality):
            chosen = everyone.filter { $0.criticality == criticality && (sector == nil || $0.sector == sector) }
        }
        chosen = Array(Set(chosen)).sorted { $0.name < $1.name }
        guard !chosen.isEmpty else { throw QilaError.invalid("must name at least one organisation; none matches", field: "organisations") }
        return chosen
    }

    /// A date as forms and the API give it (RFC 3339), refused naming the field.
    public static func date(_ text: String, field: String) throws -> Date {
        guard let date = RFC3339.parse(text.trimmingCharacters(in: .whitespaces)) else {
            throw QilaError.invalid("must be a date and time, as 2026-12-31 17:00", field: field)
        }
        return date
    }

    /// A whole number of days, refused naming the field.
    public static func days(_ text: String, field: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else { throw QilaError.invalid("must be a whole number of days", field: field) }
        return value
    }

    /// Requirement ids separated by spaces, commas or new lines.
    public static func requirementList(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }

    /// Targets as `REQUIREMENT=LEVEL`, one a line (or separated by commas), refused naming the line.
    public static func targets(_ text: String) throws -> [String: String] {
        var targets: [String: String] = [:]
        for (index, line) in text.split(whereSeparator: { $0 == "\n" || $0 == "," }).enumerated() {
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw QilaError.invalid("entry \(index + 1) ('\(entry)') must be REQUIREMENT=LEVEL, as PR.AA-03=3", field: "targets")
            }
            targets[parts[0]] = parts[1]
        }
        return targets
    }

    static func resource(_ campaign: AssessmentCampaign) -> Resource {
        Resource(kind: .assessmentCampaign, sector: campaign.sector, reference: "campaign:\(campaign.id)")
    }

    static func resource(_ organisation: Organisation, _ campaign: CampaignID, kind: Resource.Kind = .assessment) -> Resource {
        Resource(kind: kind, owner: organisation.id, sector: organisation.sector, reference: "campaign:\(campaign)/\(organisation.id)")
    }

    /// A launch as a form gives it: every value as typed, dates as RFC 3339 (the page converts
    /// from the reader's zone), the profile as text.
    public struct LaunchText: Sendable {
        public var title, framework, requirements, targets, cycle, opensAt, dueAt, reminderDays, graceDays: String
        public var sector: SectorID?
        public var audience: Audience

        public init(
            title: String, framework: String, requirements: String, targets: String, cycle: String, sector: SectorID?, audience: Audience,
            opensAt: String, dueAt: String, reminderDays: String, graceDays: String
        ) {
            self.title = title
            self.framework = framework
            self.requirements = requirements
            self.targets = targets
            self.cycle = cycle
            self.sector = sector
            self.audience = audience
            self.opensAt = opensAt
            self.dueAt = dueAt
            self.reminderDays = reminderDays
            self.graceDays = graceDays
        }
    }

    /// Launches from typed text: the policy first, then each value read, naming its field.
    public func launch(_ text: LaunchText, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws
        -> AssessmentCampaign
    {
        try await gate.require(subject, .create, Resource(kind: .assessmentCampaign, sector: text.sector, reference: "campaign:new"))
        // In the form's order, so the first refusal is the first field at fault.
        _ = try Self.checkedTitle(text.title)
        _ = try Self.checkedCycle(text.cycle)
        return try await launch(
            Launch(
                title: text.title, framework: text.framework, requirements: Self.requirementList(text.requirements), targets: try Self.targets(text.targets),
                cycle: text.cycle, sector: text.sector, audience: text.audience, opensAt: try Self.date(text.opensAt, field: "opensAt"),
                dueAt: try Self.date(text.dueAt, field: "dueAt"), reminderDays: try Self.days(text.reminderDays, field: "reminderDays"),
                graceDays: try Self.days(text.graceDays, field: "graceDays")),
            by: subject, gate: gate, source: source, now: now)
    }

    /// Launches a campaign: checks the profile against the framework, resolves the audience to
    /// organisations (never the authority or a regulator), stores it with them and audits it.
    public func launch(_ input: Launch, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws
        -> AssessmentCampaign
    {
        try await gate.require(subject, .create, Resource(kind: .assessmentCampaign, sector: input.sector, reference: "campaign:new"))
        let title = try Self.checkedTitle(input.title)
        let cycle = try Self.checkedCycle(input.cycle)
        guard let framework = try await frameworks.framework(input.framework) else {
            throw QilaError.invalid("'\(input.framework)' is not a framework of this installation", field: "framework")
        }
        let leaves = Set(framework.answered.map(\.id))
        if let unknown = input.requirements.first(where: { !leaves.contains($0) }) {
            throw QilaError.invalid("'\(unknown)' is not a requirement answered in \(framework.id) (name leaves, as GV.OC-01)", field: "requirements")
        }
        let asked = input.requirements.isEmpty ? leaves : Set(input.requirements)
        for (requirement, level) in input.targets.sorted(by: { $0.key < $1.key }) {
            guard asked.contains(requirement) else { throw QilaError.invalid("'\(requirement)' has a target but is not asked", field: "targets") }
            guard framework.scoring.level(level) != nil else {
                throw QilaError.invalid(
                    "'\(level)' (for \(requirement)) is not a level of \(framework.id); levels: \(framework.scoring.levels.map(\.value).joined(separator: ", "))",
                    field: "targets")
            }
        }
        try Self.checkDates(opensAt: input.opensAt, dueAt: input.dueAt, reminderDays: input.reminderDays, graceDays: input.graceDays, now: now)
        let chosen = try await addressees(input.audience, sector: input.sector)
        let campaign = AssessmentCampaign(
            title: title, framework: framework.id, frameworkVersion: framework.version, requirements: input.requirements.isEmpty ? [] : framework.answered.map(\.id).filter(asked.contains),
            targets: input.targets, cycle: cycle, sector: input.sector, opensAt: input.opensAt, dueAt: input.dueAt, reminderDays: input.reminderDays,
            graceDays: input.graceDays, createdBy: subject.user.id, createdByOrganisation: subject.organisation.id, createdAt: now)
        try await store.createCampaign(campaign, participants: chosen.map { AssessmentParticipant(campaign: campaign.id, organisation: $0.id, sector: $0.sector) })
        try await audit.recordChange(
            by: subject, "assessment.campaign.launch", resource: "campaign:\(campaign.id)", source: source,
            details: ["framework": "\(framework.id)@\(framework.version)", "organisations": String(chosen.count), "due": RFC3339.format(input.dueAt)], now: now)
        for organisation in chosen {
            await notifier?.notify(
                AssessmentEvent(
                    kind: .launched, campaign: campaign.id, title: campaign.title, organisation: organisation.id, sector: organisation.sector,
                    summary: "Assessment \(campaign.title) (\(framework.name) \(framework.version)) is due \(RFC3339.format(campaign.dueAt))", due: campaign.dueAt,
                    time: now))
        }
        return campaign
    }

    /// The campaigns the subject may see: those it runs or reads, those its organisation is asked
    /// in, and those of the organisations it audits.
    public func campaigns(for subject: Subject) async throws -> [AssessmentCampaign] {
        let own = subject.organisation
        let answersForOwn = policy.decide(subject, .read, Resource(kind: .assessment, owner: own.id, sector: own.sector, reference: "campaigns")).allowed
        let mine = answersForOwn ? Set(try await store.participations(of: own.id).map(\.campaign)) : []
        var audited: Set<CampaignID> = []
        for organisation in subject.effectiveRoles.contains(.auditor) ? subject.user.auditedOrganisations : [] {
            audited.formUnion(try await store.participations(of: organisation).map(\.campaign))
        }
        let reach = try await statisticsReach(subject)
        var result: [AssessmentCampaign] = []
        for campaign in try await store.campaigns() {
            if mine.contains(campaign.id) || audited.contains(campaign.id) || reach.national {
                result.append(campaign)
            } else if policy.decide(subject, .read, Self.resource(campaign)).allowed {
                result.append(campaign)
            } else if let sectors = reach.sectors, !sectors.isEmpty,
                !sectors.isDisjoint(with: try await store.participants(campaign.id).map(\.sector))
            {
                // Its figures are open to the subject (an operator's own sector's, for comparison).
                result.append(campaign)
            }
        }
        return result
    }

    /// One campaign, if the subject may see it (see `campaigns`).
    public func campaign(_ id: CampaignID, for subject: Subject) async throws -> AssessmentCampaign {
        guard let campaign = try await store.campaign(id) else { throw QilaError(.notFound, "no such campaign") }
        if policy.decide(subject, .read, Self.resource(campaign)).allowed { return campaign }
        let participants = Set(try await store.participants(id).map(\.organisation))
        let own = subject.organisation
        if participants.contains(own.id),
            policy.decide(subject, .read, Resource(kind: .assessment, owner: own.id, sector: own.sector, reference: "campaign:\(id)")).allowed
        {
            return campaign
        }
        if subject.effectiveRoles.contains(.auditor), !participants.isDisjoint(with: subject.user.auditedOrganisations) { return campaign }
        let reach = try await statisticsReach(subject)
        if reach.national { return campaign }
        if let sectors = reach.sectors, !sectors.isDisjoint(with: try await store.participants(id).map(\.sector)) { return campaign }
        throw QilaError(.notFound, "no such campaign")
    }

    /// The framework version a campaign asks, and its profile.
    public func framework(of campaign: AssessmentCampaign) async throws -> (framework: Framework, profile: Profile) {
        if let directive = campaign.directive { return (Self.framework(of: directive, campaign: campaign), Profile()) }
        guard let framework = try await frameworks.framework(campaign.framework, version: campaign.frameworkVersion) else {
            throw QilaError(.notFound, "framework \(campaign.framework) \(campaign.frameworkVersion) is no longer installed")
        }
        return (framework, Profile(requirements: Set(campaign.requirements), targets: campaign.targets))
    }

    /// Closes a campaign: no more answers or reminders; its scores stay for the roll-ups.
    public func close(_ id: CampaignID, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws {
        guard let campaign = try await store.campaign(id) else { throw QilaError(.notFound, "no such campaign") }
        try await gate.require(subject, .update, Self.resource(campaign))
        guard try await store.closeCampaign(id, at: now) else { throw QilaError(.conflict, "the campaign is already closed") }
        try await audit.recordChange(by: subject, "assessment.campaign.close", resource: "campaign:\(id)", source: source, now: now)
    }
}

/// Something an organisation or the campaign's runner should hear about.
public struct AssessmentEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case launched = "assessment.launched"
        case reminder = "assessment.reminder"
        case submitted = "assessment.submitted"
        case disputed = "assessment.disputed"
        case notice = "assessment.notice"
    }

    public var kind: Kind
    public var campaign: CampaignID
    public var title: String
    public var organisation: OrganisationID
    public var sector: SectorID
    /// One line, without answers.
    public var summary: String
    public var due: Date?
    public var time: Date

    public init(kind: Kind, campaign: CampaignID, title: String, organisation: OrganisationID, sector: SectorID, summary: String, due: Date? = nil, time: Date) {
        self.kind = kind
        self.campaign = campaign
        self.title = title
        self.organisation = organisation
        self.sector = sector
        self.summary = summary
        self.due = due
        self.time = time
    }
}

/// Where assessment events go (webhooks, e-mail); called after the change is stored.
public protocol AssessmentNotifier: Sendable {
    func notify(_ event: AssessmentEvent) async
}

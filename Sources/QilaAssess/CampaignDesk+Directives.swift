public import Foundation
public import QilaAccess
public import QilaCore
import QilaStore

/// Directives (docs/decisions/0024): the authority, or a regulator for its sector, directs
/// organisations to do something by a deadline ("apply the KEV list within 14 days"). A directive
/// is a campaign whose requirements are its own: addressees acknowledge it, then report compliance
/// per requirement with evidence and submit; the late are reminded and given notice as for an
/// assessment, and the figures are the same.
extension CampaignDesk {
    /// Complied, partly complied, not complied.
    public static let directiveScoring = Framework.Scoring(
        kind: .status,
        levels: [
            .init(value: "complied", name: "Complied", description: "Every part of the requirement is done.", credit: 1),
            .init(value: "partly", name: "Partly complied", description: "Work is under way or done for part of what it covers.", credit: 0.5),
            .init(value: "not-complied", name: "Not complied", description: "Nothing has been done yet.", credit: 0),
        ])

    /// The framework a directive is answered against: its requirements, flat, scored by compliance.
    public static func framework(of directive: AssessmentCampaign.Directive, campaign: AssessmentCampaign) -> Framework {
        Framework(
            id: "directive", name: "\(directive.reference) \(campaign.title)", version: "1", levels: ["requirement"], scoring: directiveScoring,
            requirements: directive.requirements.map { Framework.Requirement(id: $0.id, text: $0.text) })
    }

    public struct DirectiveInput: Sendable {
        public var reference, title, body, requirements, opensAt, dueAt, reminderDays, graceDays: String
        public var tlp: TLP
        public var sector: SectorID?
        public var audience: Audience

        /// `requirements` one a line; each gets the id `R1`, `R2`… in order.
        public init(
            reference: String, title: String, body: String, requirements: String, tlp: TLP, sector: SectorID?, audience: Audience, opensAt: String,
            dueAt: String, reminderDays: String, graceDays: String
        ) {
            self.reference = reference
            self.title = title
            self.body = body
            self.requirements = requirements
            self.tlp = tlp
            self.sector = sector
            self.audience = audience
            self.opensAt = opensAt
            self.dueAt = dueAt
            self.reminderDays = reminderDays
            self.graceDays = graceDays
        }
    }

    /// Issues a directive to the organisations its audience names; audited, each addressee told.
    public func issue(_ input: DirectiveInput, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws
        -> AssessmentCampaign
    {
        try await gate.require(subject, .create, Resource(kind: .assessmentCampaign, sector: input.sector, reference: "directive:new"))
        let reference = input.reference.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (2...60).contains(reference.count), !reference.contains(where: \.isNewline) else {
            throw QilaError.invalid("must be 2 to 60 characters on one line, as NCA-D-2026-03", field: "reference")
        }
        let title = try Self.checkedTitle(input.title)
        let body = input.body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (10...20_000).contains(body.count) else { throw QilaError.invalid("must say what is directed and why, in 10 to 20,000 characters", field: "body") }
        let lines = input.requirements.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard (1...200).contains(lines.count) else { throw QilaError.invalid("must list 1 to 200 requirements, one a line", field: "requirements") }
        if let long = lines.firstIndex(where: { $0.count > 2000 }) {
            throw QilaError.invalid("line \(long + 1) is longer than 2,000 characters", field: "requirements")
        }
        guard [.clear, .green, .amber, .amberStrict].contains(input.tlp) else {
            throw QilaError.invalid("must be TLP:CLEAR, GREEN, AMBER or AMBER+STRICT (a directive is for its addressees at least)", field: "tlp")
        }
        let opensAt = try Self.date(input.opensAt, field: "opensAt")
        let dueAt = try Self.date(input.dueAt, field: "dueAt")
        let reminderDays = try Self.days(input.reminderDays, field: "reminderDays")
        let graceDays = try Self.days(input.graceDays, field: "graceDays")
        try Self.checkDates(opensAt: opensAt, dueAt: dueAt, reminderDays: reminderDays, graceDays: graceDays, now: now)
        let chosen = try await addressees(input.audience, sector: input.sector)
        let directive = AssessmentCampaign.Directive(
            reference: reference, body: body, tlp: input.tlp,
            requirements: lines.enumerated().map { .init(id: "R\($0.offset + 1)", text: $0.element) })
        let calendar = Calendar(identifier: .gregorian)
        let campaign = AssessmentCampaign(
            title: title, framework: "directive", frameworkVersion: "1", cycle: String(calendar.component(.year, from: dueAt)), sector: input.sector,
            opensAt: opensAt, dueAt: dueAt, reminderDays: reminderDays, graceDays: graceDays, createdBy: subject.user.id,
            createdByOrganisation: subject.organisation.id, createdAt: now, directive: directive)
        try await store.createCampaign(campaign, participants: chosen.map { AssessmentParticipant(campaign: campaign.id, organisation: $0.id, sector: $0.sector) })
        try await audit.recordChange(
            by: subject, "directive.issue", resource: "campaign:\(campaign.id)", source: source,
            details: ["reference": reference, "organisations": String(chosen.count), "due": RFC3339.format(dueAt), "tlp": input.tlp.rawValue], now: now)
        for organisation in chosen {
            await notifier?.notify(
                AssessmentEvent(
                    kind: .launched, campaign: campaign.id, title: campaign.title, organisation: organisation.id, sector: organisation.sector,
                    summary: "Directive \(reference): \(title), to be complied with by \(RFC3339.format(dueAt))", due: dueAt, time: now))
        }
        return campaign
    }

    /// An addressee acknowledges a directive (once); needed before it reports compliance.
    public func acknowledge(
        campaign id: CampaignID, organisation organisationID: OrganisationID, by subject: Subject, gate: any AccessGate, source: String? = nil,
        now: Date = Date()
    ) async throws {
        let (campaign, _, organisation) = try await participation(id, organisationID)
        try await gate.require(subject, .update, Self.resource(organisation, id))
        guard let directive = campaign.directive else { throw QilaError(.conflict, "only a directive is acknowledged") }
        guard try await store.acknowledge(id, organisationID, by: subject.user.id, at: now) else {
            throw QilaError(.conflict, "\(organisation.name) has already acknowledged \(directive.reference)")
        }
        try await audit.recordChange(
            by: subject, "directive.acknowledge", resource: "campaign:\(id)/\(organisationID)", source: source, details: ["reference": directive.reference], now: now)
    }
}

extension CampaignDesk {
    /// Directives marked TLP:CLEAR, newest first: anyone may read them on the public pages.
    public func publicDirectives() async throws -> [AssessmentCampaign] {
        try await store.campaigns().filter { $0.directive?.tlp == .clear }.sorted { $0.createdAt > $1.createdAt }
    }

    /// One public directive, or nil when there is none such (or it is not TLP:CLEAR).
    public func publicDirective(_ id: CampaignID) async throws -> AssessmentCampaign? {
        guard let campaign = try await store.campaign(id), campaign.directive?.tlp == .clear else { return nil }
        return campaign
    }
}

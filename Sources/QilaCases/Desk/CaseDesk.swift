public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Something that happened to a case that people outside the page should hear of.
public struct CaseEvent: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A case opened in the authority's queue on an organisation's behalf, from an alert
        /// (by an analyst or by automatic promotion).
        case opened = "case.opened"
        case submitted = "case.submitted"
        case status = "case.status"
        case reminder = "stage.reminder"
        case overdue = "stage.overdue"
        case stageRequested = "stage.requested"
        case informationRequested = "case.information-requested"
        case sharedComment = "case.comment"
        case notice = "notice.issued"
    }

    public var kind: Kind
    public var caseID: CaseID
    public var number: String
    public var organisation: OrganisationID
    public var sector: SectorID
    public var tlp: TLP
    /// One line, without the case's content beyond its number and stage names.
    public var summary: String
    public var stage: String?
    public var due: Date?
    public var time: Date
}

/// Where case events go (webhooks, e-mail). The desk calls it after the change is stored.
public protocol CaseNotifier: Sendable {
    func notify(_ event: CaseEvent) async
}

public struct SilentNotifier: CaseNotifier {
    public init() {}
    public func notify(_ event: CaseEvent) async {}
}

/// Incident reporting and case handling: organisations (or their auditors) open a case and submit
/// its report stage by stage under the regimes that apply; the authority triages, assigns,
/// comments, asks for information, links, merges and closes; every change is a timeline entry
/// written in the same transaction, and every refusal is recorded by the gate.
public struct CaseDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let regimes: RegimeBook
    public let attachments: AttachmentStore
    public let notifier: any CaseNotifier
    public let policy: PolicyDecisionPoint

    public init(
        store: SQLStore, audit: AuditLog, regimes: RegimeBook, attachments: AttachmentStore, notifier: any CaseNotifier = SilentNotifier(),
        policy: PolicyDecisionPoint = PolicyDecisionPoint()
    ) {
        self.store = store
        self.audit = audit
        self.regimes = regimes
        self.attachments = attachments
        self.notifier = notifier
        self.policy = policy
    }

    public static func resource(_ c: IncidentCase) -> Resource {
        Resource(kind: .incident, owner: c.organisation, sector: c.sector, tlp: c.tlp, reference: c.reference)
    }

    public static func internalResource(_ c: IncidentCase) -> Resource {
        Resource(kind: .incidentInternal, owner: c.organisation, sector: c.sector, tlp: c.tlp, reference: "\(c.reference)/internal")
    }

    /// Whether the subject is on the reporting side of the case: the organisation or its auditor.
    public static func isReporter(_ subject: Subject, of c: IncidentCase) -> Bool {
        isReporter(subject, for: c.organisation)
    }

    /// Whether the subject reports for `organisation`: it is theirs, or they audit it.
    public static func isReporter(_ subject: Subject, for organisation: OrganisationID) -> Bool {
        subject.organisation.id == organisation || subject.user.auditedOrganisations.contains(organisation)
    }

    /// Whether `user` may handle the case (triage, tasks, internal comments): asked of the policy
    /// as if they were signed in, so an assignment never goes to someone who could not act on it.
    public func mayHandle(_ user: User, in organisation: Organisation, _ incident: IncidentCase) -> Bool {
        guard !user.disabled, user.kind == .person else { return false }
        let candidate = Subject(user: user, organisation: organisation, method: .passwordAndTOTP, authenticatedAt: Date(), mfaAt: Date())
        return policy.decide(candidate, .update, Self.internalResource(incident)).allowed
    }

    /// The people who may handle the case: the authority's analysts, and the regulators its policy allows.
    public func handlers(of incident: IncidentCase) async throws -> [User] {
        var result: [User] = []
        for organisation in try await store.organisations() where organisation.kind == .authority || organisation.kind == .sectorRegulator {
            result += try await store.users(in: organisation.id).filter { mayHandle($0, in: organisation, incident) }
        }
        return result.sorted { $0.displayName < $1.displayName }
    }

    // MARK: opening a case

    /// What a reporter fills in to open a case.
    public struct Opening: Sendable {
        public var organisation: String
        public var title: String
        public var awareness: String
        public var regime: String
        public var tlp: String
        public var pap: String
        public var classification: String
        public var offences: [String]
        public var personalData: Bool
        public var significance: [String: Bool]
        public var observables: String
        /// Set by the public portal alone: opens a case under a regime for the public's complaints.
        public var fromPortal = false

        public init(
            organisation: String, title: String, awareness: String, regime: String = "", tlp: String = "amber", pap: String = "amber",
            classification: String = "", offences: [String] = [], personalData: Bool = false, significance: [String: Bool] = [:], observables: String = ""
        ) {
            self.organisation = organisation
            self.title = title
            self.awareness = awareness
            self.regime = regime
            self.tlp = tlp
            self.pap = pap
            self.classification = classification
            self.offences = offences
            self.personalData = personalData
            self.significance = significance
            self.observables = observables
        }
    }

    /// Opens a case as a draft, for the subject's organisation or one it audits. Nothing reaches
    /// the authority until the first stage is submitted.
    public func open(_ opening: Opening, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> IncidentCase {
        let organisationText = opening.organisation.trimmingCharacters(in: .whitespaces)
        let organisationID = organisationText.isEmpty ? subject.organisation.id : OrganisationID(organisationText)
        guard let organisationID, let organisation = try await store.organisation(organisationID), organisation.kind != .authority else {
            throw QilaError.invalid("choose the organisation the incident happened to", field: "organisation")
        }
        let title = opening.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw QilaError.invalid("give the incident a short title", field: "title") }
        guard title.count <= 200 else { throw QilaError.invalid("is longer than 200 characters", field: "title") }
        guard !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw QilaError.invalid("must not contain control characters (such as NUL or a line break)", field: "title")
        }
        guard let awareness = RFC3339.parse(opening.awareness.trimmingCharacters(in: .whitespaces)) else {
            throw QilaError.invalid("'\(opening.awareness.prefix(40))' is not a date and time such as 2026-11-23T10:00Z", field: "awareness")
        }
        try PlausibleTime.check(awareness, field: "awareness", past: true, now: now)
        let regimeID = opening.regime.trimmingCharacters(in: .whitespaces)
        let regime: ReportingRegime?
        if regimeID.isEmpty {
            regime = regimes.defaultRegime(for: organisation.sector)
        } else {
            regime = regimes.regime(regimeID)
            guard let regime, !regime.personalData, !regime.publicIntake || opening.fromPortal else {
                throw QilaError.invalid(
                    "'\(regimeID)' is not a regime; choose one of \(regimes.primaryRegimes.map(\.id).joined(separator: ", "))", field: "regime")
            }
        }
        guard let regime else { throw QilaError(.configuration, "no reporting regime is configured") }
        let marking = try Self.marking(opening.tlp, pap: opening.pap, clearance: subject.user.clearance)
        let classification = try Self.classification(opening.classification)
        let offences = try Self.offences(opening.offences)
        let parsed = ObservableParser.parse(opening.observables)
        if let error = parsed.errors.first {
            throw QilaError.invalid("\(error.description)\(parsed.errors.count > 1 ? " (and \(parsed.errors.count - 1) more)" : "")", field: "observables")
        }
        var regimeIDs = [regime.id]
        if opening.personalData, let extra = regimes.personalDataRegime { regimeIDs.append(extra.id) }
        let unknownAnswers = opening.significance.keys.filter { key in !regime.significance.contains { $0.id == key } }
        if let key = unknownAnswers.sorted().first { throw QilaError.invalid("\(regime.title) asks no question '\(key)'", field: "significance") }
        var incident = IncidentCase(
            organisation: organisation.id, sector: organisation.sector, title: title, awareness: awareness, regimes: regimeIDs, tlp: marking.tlp,
            pap: marking.pap.rawValue, classification: classification?.description, offences: offences.map(\.rawValue),
            personalData: opening.personalData, significance: opening.significance, status: .draft, reportedBy: subject.user.id,
            onBehalf: subject.organisation.id != organisation.id, createdAt: now)
        try await gate.require(subject, .create, Self.resource(incident))
        let entry = CaseEntry(
            caseID: incident.id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .created,
            text: incident.onBehalf ? "Opened by \(subject.user.displayName) (\(subject.organisation.name)) on behalf of \(organisation.name)" : "Opened by \(subject.user.displayName)",
            shared: true)
        incident = try await store.createCase(incident, entries: [entry])
        _ = try await store.addObservables(parsed.observables, to: incident.id, by: subject.user.id, at: now)
        try await record(subject, "case.open", incident, ["regimes": regimeIDs.joined(separator: ","), "onBehalf": String(incident.onBehalf)])
        return incident
    }

    static func marking(_ tlpText: String, pap papText: String, clearance: TLP) throws -> (tlp: TLP, pap: PAP) {
        guard let tlp = TLP(label: tlpText.trimmingCharacters(in: .whitespaces).isEmpty ? "amber" : tlpText) else {
            throw QilaError.invalid("'\(tlpText.prefix(20))' is not a TLP 2.0 marking (clear, green, amber, amber+strict, red)", field: "tlp")
        }
        guard tlp <= clearance else {
            throw QilaError.invalid("\(tlp.rawValue) is above your clearance (\(clearance.rawValue)); you could not read the case yourself", field: "tlp")
        }
        guard let pap = PAP(parsing: papText.trimmingCharacters(in: .whitespaces).isEmpty ? "amber" : papText) else {
            throw QilaError.invalid("'\(papText.prefix(20))' is not a PAP marking (clear, green, amber, red)", field: "pap")
        }
        return (tlp, pap)
    }

    static func classification(_ text: String) throws -> RSITClassification? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        guard let value = RSITClassification(parsing: trimmed) else {
            throw QilaError.invalid("'\(trimmed.prefix(60))' is not an RSIT class/type such as malicious-code/infected-system", field: "classification")
        }
        return value
    }

    static func offences(_ texts: [String]) throws -> [PECAOffence] {
        var result: [PECAOffence] = []
        for text in texts where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let offence = PECAOffence(parsing: text) else {
                throw QilaError.invalid("'\(text.prefix(30))' is not a PECA 2016 offence section (3 to 26)", field: "offences")
            }
            if !result.contains(offence) { result.append(offence) }
        }
        return result.sorted { $0.rawValue < $1.rawValue }
    }

    // MARK: reading

    /// The case, if the subject may read it. Drafts are visible to the reporting side only.
    public func incident(_ id: CaseID, for subject: Subject, gate: any AccessGate) async throws -> IncidentCase {
        guard let incident = try await store.incident(id) else { throw QilaError(.notFound, "no such case") }
        if incident.status == .draft && !Self.isReporter(subject, of: incident) { throw QilaError(.notFound, "no such case") }
        try await gate.require(subject, .read, Self.resource(incident))
        return incident
    }

    /// Cases the subject may read, newest first: the national queue for the authority, the
    /// sector's for a regulator, its own (and audited) for an organisation.
    public func incidents(for subject: Subject) async throws -> [IncidentCase] {
        try await store.incidents().filter { incident in
            if incident.status == .draft && !Self.isReporter(subject, of: incident) { return false }
            return policy.decide(subject, .read, Self.resource(incident)).allowed
        }
    }

    public func regimes(of incident: IncidentCase) -> [ReportingRegime] {
        incident.regimes.compactMap(regimes.regime)
    }

    /// Each regime's stage clocks for the case, seen at `now`.
    public func clocks(of incident: IncidentCase, stages: [CaseStage], now: Date) -> [(regime: ReportingRegime, clocks: [StageClock])] {
        regimes(of: incident).map { regime in
            let mine = stages.filter { $0.regime == regime.id }
            let submitted = Dictionary(mine.compactMap { stage in stage.submittedAt.map { (stage.stage, $0) } }) { a, _ in a }
            let requested = Dictionary(mine.compactMap { stage in stage.requestedAt.map { (stage.stage, $0) } }) { a, _ in a }
            return (regime, regime.clocks(awareness: incident.awareness, submitted: submitted, requested: requested, now: now))
        }
    }

    // MARK: report stages

    /// Saves what has been typed for a stage without checking completeness, so a reporter can
    /// come back to it. Only field names the stage asks for are kept.
    public func saveDraft(
        _ id: CaseID, regime regimeID: String, stage stageID: String, values: [String: String], by subject: Subject, gate: any AccessGate,
        now: Date = Date()
    ) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        guard Self.isReporter(subject, of: incident) else { throw QilaError(.forbidden, "only the organisation or its auditor writes the report") }
        try await gate.require(subject, .update, Self.resource(incident))
        let stage = try stageDefinition(incident, regimeID, stageID)
        var kept: [String: String] = [:]
        for name in stage.fields {
            guard let value = values[name] else { continue }
            guard value.count <= 20_000 else { throw QilaError.invalid("is longer than 20000 characters", field: name) }
            kept[name] = value
        }
        guard try await store.saveStageDraft(CaseStage(caseID: id, regime: regimeID, stage: stageID, values: kept, updatedAt: now)) else {
            throw QilaError(.conflict, "\(stage.title) was already submitted; add to the case with a comment or the next stage")
        }
    }

    func stageDefinition(_ incident: IncidentCase, _ regimeID: String, _ stageID: String) throws -> ReportingRegime.Stage {
        guard incident.regimes.contains(regimeID), let regime = regimes.regime(regimeID) else {
            throw QilaError.invalid("the case is not reported under '\(regimeID)'", field: "regime")
        }
        guard let stage = regime.stages.first(where: { $0.id == stageID }) else {
            throw QilaError.invalid("'\(stageID)' is not a stage of \(regime.title)", field: "stage")
        }
        return stage
    }

    /// Submits a stage: every field checked (all problems reported at once, each naming its
    /// field); stored with the case's change and the timeline entry in one transaction. A stage
    /// already submitted stays as it was. The first submission puts the case in the queue.
    public func submit(
        _ id: CaseID, regime regimeID: String, stage stageID: String, values: [String: String], by subject: Subject, gate: any AccessGate,
        now: Date = Date()
    ) async throws -> IncidentCase {
        var incident = try await incident(id, for: subject, gate: gate)
        guard Self.isReporter(subject, of: incident) else { throw QilaError(.forbidden, "only the organisation or its auditor submits the report") }
        try await gate.require(subject, .update, Self.resource(incident))
        let stage = try stageDefinition(incident, regimeID, stageID)
        guard let regime = regimes.regime(regimeID) else { throw QilaError.invalid("unknown regime", field: "regime") }
        let stages = try await store.stages(of: id)
        let existing = stages.first { $0.regime == regimeID && $0.stage == stageID }
        if existing?.isSubmitted == true { throw QilaError(.conflict, "\(stage.title) was already submitted on \(RFC3339.format(existing!.submittedAt!))") }
        if stage.onRequest && existing?.requestedAt == nil {
            throw QilaError.invalid("\(stage.title) is due only when the authority asks for it", field: "stage")
        }
        let checked: [String: FieldValue]
        switch regime.check(stage: stageID, values: values) {
        case .success(let values): checked = values
        case .failure(let failure):
            throw QilaError(.invalidInput, failure.problems.map(\.message).joined(separator: "; "), at: "field " + failure.problems.map(\.field).joined(separator: ", "))
        }
        var stored: [String: String] = [:]
        for (name, value) in checked {
            switch value {
            case .text(let text): stored[name] = text
            case .number(let number): stored[name] = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .boolean(let flag): stored[name] = flag ? "yes" : "no"
            case .dateTime(let date): stored[name] = RFC3339.format(date)
            }
        }
        let first = incident.submittedAt == nil
        incident.updatedAt = now
        if first {
            incident.submittedAt = now
            incident.status = .new
        }
        if let proposed = stored["severity"].flatMap(IncidentCase.Severity.init(rawValue:)), incident.severity == nil {
            incident.severity = proposed
        }
        let onBehalf = subject.organisation.id != incident.organisation
        let clock = clocks(of: incident, stages: stages, now: now).first { $0.regime.id == regimeID }?.clocks.first { $0.stage == stageID }
        let lateness = clock?.due.map { now > $0 ? " — late, due \(RFC3339.format($0))" : "" } ?? ""
        let entry = CaseEntry(
            caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .submitted,
            text: "\(stage.title) (\(regime.title)) submitted\(onBehalf ? " by the auditor \(subject.organisation.name)" : "")\(lateness)", shared: true)
        let row = CaseStage(
            caseID: id, regime: regimeID, stage: stageID, values: stored, submittedAt: now, submittedBy: subject.user.id, onBehalf: onBehalf,
            requestedAt: existing?.requestedAt, requestedBy: existing?.requestedBy, updatedAt: now)
        guard try await store.submitStage(row, updating: incident, entries: [entry]) else {
            throw QilaError(.conflict, "\(stage.title) was submitted a moment ago by someone else")
        }
        // Indicators typed into the report are observables too.
        if let indicators = stored["indicators"] {
            _ = try await store.addObservables(ObservableParser.parse(indicators).observables, to: id, by: subject.user.id, at: now)
        }
        try await record(subject, "case.stage.submit", incident, ["regime": regimeID, "stage": stageID, "onBehalf": String(onBehalf)])
        await notifier.notify(event(.submitted, incident, "\(incident.number): \(stage.title) submitted", stage: "\(regimeID)/\(stageID)", due: clock?.due, now: now))
        return incident
    }

    /// Changes the reporter's own description: classification, offences, markings, the
    /// personal-data flag (which adds the data-protection regime) and observables.
    public struct ReportChange: Sendable {
        public var classification: String?
        public var offences: [String]?
        public var tlp: String?
        public var pap: String?
        public var personalData: Bool?
        public var observables: String?
        public init(classification: String? = nil, offences: [String]? = nil, tlp: String? = nil, pap: String? = nil, personalData: Bool? = nil, observables: String? = nil) {
            self.classification = classification
            self.offences = offences
            self.tlp = tlp
            self.pap = pap
            self.personalData = personalData
            self.observables = observables
        }
    }

    public func change(_ id: CaseID, _ change: ReportChange, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> IncidentCase {
        var incident = try await incident(id, for: subject, gate: gate)
        let internalSide = policy.decide(subject, .update, Self.internalResource(incident)).allowed
        guard Self.isReporter(subject, of: incident) || internalSide else { throw QilaError(.forbidden, "you may not change this case") }
        try await gate.require(subject, .update, Self.resource(incident))
        var notes: [String] = []
        if let text = change.classification {
            let value = try Self.classification(text)?.description
            if value != incident.classification { notes.append("classification \(value ?? "removed")"); incident.classification = value }
        }
        if let texts = change.offences {
            let value = try Self.offences(texts).map(\.rawValue)
            if value != incident.offences { notes.append("PECA offences \(value.isEmpty ? "none" : value.map { "s.\($0)" }.joined(separator: ", "))"); incident.offences = value }
        }
        if change.tlp != nil || change.pap != nil {
            let marking = try Self.marking(change.tlp ?? incident.tlp.rawValue, pap: change.pap ?? incident.pap, clearance: subject.user.clearance)
            if marking.tlp != incident.tlp { notes.append("marked \(marking.tlp.rawValue)"); incident.tlp = marking.tlp }
            if marking.pap.rawValue != incident.pap { notes.append("marked \(marking.pap.rawValue)"); incident.pap = marking.pap.rawValue }
        }
        if let flag = change.personalData, flag != incident.personalData {
            if flag {
                incident.personalData = true
                if let extra = regimes.personalDataRegime, !incident.regimes.contains(extra.id) {
                    incident.regimes.append(extra.id)
                    notes.append("flagged as a personal-data breach: \(extra.title) stages added")
                }
            } else {
                let stages = try await store.stages(of: id)
                if let extra = regimes.personalDataRegime, stages.contains(where: { $0.regime == extra.id && $0.isSubmitted }) {
                    throw QilaError.invalid("a personal-data stage was already submitted; the flag stays", field: "personalData")
                }
                incident.personalData = false
                incident.regimes.removeAll { regimes.regime($0)?.personalData == true }
                notes.append("no longer flagged as a personal-data breach")
            }
        }
        var added: [Observable] = []
        if let text = change.observables {
            let parsed = ObservableParser.parse(text)
            if let error = parsed.errors.first { throw QilaError.invalid(error.description, field: "observables") }
            added = parsed.observables
        }
        if !notes.isEmpty {
            incident.updatedAt = now
            try await store.updateCase(
                incident,
                entries: [CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .classification, text: notes.joined(separator: "; ").capitalisedFirst, shared: true)])
        }
        if !added.isEmpty {
            let new = try await store.addObservables(added, to: id, by: subject.user.id, at: now)
            if !new.isEmpty {
                try await store.addEntries([
                    CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .observable,
                              text: "\(new.count) observable\(new.count == 1 ? "" : "s") added", shared: true)
                ])
            }
        }
        if !notes.isEmpty || !added.isEmpty { try await record(subject, "case.change", incident, [:]) }
        return incident
    }

    // MARK: helpers

    func record(_ subject: Subject, _ action: String, _ incident: IncidentCase, _ details: [String: String]) async throws {
        try await audit.append(
            AuditEntry(
                time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: action, outcome: .success,
                resource: incident.reference, details: details.merging(["organisation": incident.organisation.description]) { a, _ in a }))
    }

    func event(_ kind: CaseEvent.Kind, _ incident: IncidentCase, _ summary: String, stage: String? = nil, due: Date? = nil, now: Date) -> CaseEvent {
        CaseEvent(
            kind: kind, caseID: incident.id, number: incident.number, organisation: incident.organisation, sector: incident.sector, tlp: incident.tlp,
            summary: summary, stage: stage, due: due, time: now)
    }
}

extension String {
    var capitalisedFirst: String { prefix(1).uppercased() + dropFirst() }
}

public import Foundation
public import QilaAccess
public import QilaCore
import Logging
public import QilaStore
import ServiceLifecycle

/// Cases opened from security alerts: by an analyst on the alert page, or automatically for alerts
/// at or above a severity.
extension CaseDesk {
    /// The username of the account automatic promotions are recorded under: a disabled service
    /// account of the authority, created on first use, that can neither sign in nor hold tokens.
    public static let automationUsername = "qila-automation"

    /// What a case opened from `alert` starts with: its title, the first occurrence as the time of
    /// awareness, the host, the account and every matched value that is an observable (addresses,
    /// domains, URLs, hashes), the classification its rule's ATT&CK tags suggest, and TLP:AMBER,
    /// or the clearance of whoever opens it when that is lower (as for a MISP import), so they
    /// can read their own case.
    public static func opening(for alert: SecurityAlert, organisation: Organisation, clearance: TLP = .amber, ruleTags: [String] = []) -> Opening {
        var lines: [String] = []
        if let host = alert.host, ObservableParser.normalise(.host, host) != nil { lines.append("host:\(host)") }
        if let account = alert.account, ObservableParser.normalise(.account, account) != nil { lines.append("account:\(account)") }
        // Each matched value on its own: one that is not an observable (a command line) is left out, not the rest.
        for value in alert.fields.map(\.value) where !value.contains(where: \.isNewline) {
            if case .success = ObservableParser.parseOne(value) { lines.append(value) }
        }
        var seen: Set<String> = []
        let observables = lines.filter { seen.insert($0.lowercased()).inserted }.joined(separator: "\n")
        return Opening(
            organisation: organisation.id.description, title: String("Alert: \(alert.title)".prefix(200)), awareness: RFC3339.format(alert.firstAt),
            tlp: min(TLP.amber, clearance).rawValue, classification: ProposedClassification.from(tags: ruleTags) ?? "", observables: observables)
    }

    /// Opens a case from an alert. Someone on the organisation's own reporting side gets a draft
    /// to report from; anyone else (the authority) opens it in the authority's queue on the
    /// organisation's behalf, as for a MISP import. `gate` is nil only for automatic promotion.
    public func openFromAlert(
        _ alert: SecurityAlert, organisation: Organisation, by subject: Subject, gate: (any AccessGate)?, note: String, now: Date = Date()
    ) async throws -> IncidentCase {
        let rule = alert.kind == .rule || alert.kind == .correlation ? try await store.detectionRule(alert.rule) : nil
        let opening = Self.opening(
            for: alert, organisation: organisation, clearance: subject.user.clearance, ruleTags: rule.map { ProposedClassification.tags(ofRule: $0.yaml) } ?? [])
        if let gate, Self.isReporter(subject, for: organisation.id) { return try await open(opening, by: subject, gate: gate, now: now) }
        guard organisation.kind != .authority else {
            throw QilaError.invalid("a national campaign alert is promoted through its organisations' alerts", field: "action")
        }
        guard let regime = regimes.defaultRegime(for: organisation.sector) else { throw QilaError(.configuration, "no reporting regime is configured") }
        var incident = IncidentCase(
            organisation: organisation.id, sector: organisation.sector, title: opening.title, awareness: alert.firstAt, regimes: [regime.id],
            tlp: TLP(label: opening.tlp) ?? .amber, pap: PAP.amber.rawValue, classification: opening.classification.isEmpty ? nil : opening.classification,
            severity: IncidentCase.Severity(alert.severity), status: .new,
            reportedBy: subject.user.id, onBehalf: true, createdAt: now, submittedAt: now)
        if let gate {
            try await gate.require(subject, .create, Self.resource(incident))
            try await gate.require(subject, .update, Self.internalResource(incident))
        }
        incident = try await store.createCase(
            incident,
            entries: [
                CaseEntry(
                    caseID: incident.id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .created,
                    text: "\(note) from alert \(alert.id) (\(alert.severity.rawValue), \(alert.count) occurrence\(alert.count == 1 ? "" : "s") since \(RFC3339.format(alert.firstAt)))"
                        + (opening.classification.isEmpty ? "" : "; classification \(opening.classification) proposed from the rule's ATT&CK tags"),
                    shared: true)
            ])
        _ = try await store.addObservables(ObservableParser.parse(opening.observables).observables, to: incident.id, by: subject.user.id, at: now)
        try await record(subject, "case.open", incident, ["alert": alert.id.description, "automatic": String(gate == nil)])
        await notifier.notify(event(.opened, incident, "\(incident.number) opened from alert: \(incident.title)", now: now))
        return incident
    }

    /// Triage of alerts, whose promotion opens cases here.
    public var alerts: AlertDesk { AlertDesk(store: store, audit: audit, policy: policy, cases: self) }

    /// The automation account as a subject, created on first use; nil until there is an authority.
    func automationAccount() async throws -> Subject? {
        guard let authority = try await store.organisations().first(where: { $0.kind == .authority }) else { return nil }
        var user = try await store.user(username: Self.automationUsername)
        if user == nil {
            let account = User(
                organisation: authority.id, kind: .service, username: Self.automationUsername, displayName: "Qila automation", roles: [],
                clearance: .amber, disabled: true)
            try await store.createUser(account, credentials: UserCredentials())
            user = account
        }
        guard let user, user.organisation == authority.id, user.kind == .service, user.disabled else {
            throw QilaError(.configuration, "the username \(Self.automationUsername) belongs to another account; automatic promotion needs it")
        }
        return Subject(user: user, organisation: authority, method: .apiToken, authenticatedAt: Date(), mfaAt: nil)
    }
}

extension IncidentCase.Severity {
    init(_ severity: SecurityAlert.Severity) {
        switch severity {
        case .informational, .low: self = .low
        case .medium: self = .medium
        case .high: self = .high
        case .critical: self = .critical
        }
    }
}

/// Promotes alerts at or above a severity to cases as they arrive (`intake.autoPromote`).
/// On several nodes the holder of the `alerts.promotion` lease promotes, and each alert is claimed
/// by a conditional update before its case is opened, so no alert becomes two cases.
public struct AlertPromotionService: Service {
    let desk: CaseDesk
    let minimum: SecurityAlert.Severity
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(desk: CaseDesk, minimum: SecurityAlert.Severity, lease: Lease, interval: Duration = .seconds(5), logger: Logger) {
        self.desk = desk
        self.minimum = minimum
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Alerts already waiting when promotion starts are promoted if they occurred in the last day.
        let since = Date().addingTimeInterval(-86_400)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let opened = try await lease.ifHeld { try await desk.alerts.promoteAutomatically(atOrAbove: minimum, since: since) } ?? []
                if !opened.isEmpty { logger.info("alerts promoted to cases", metadata: ["cases": "\(opened.count)"]) }
            } catch {
                logger.error("automatic promotion of alerts failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await lease.release()
    }
}

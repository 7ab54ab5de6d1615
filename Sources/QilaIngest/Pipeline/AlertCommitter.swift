import Foundation
import QilaCore
import QilaDetect
import QilaStore

/// Turns workers' results, in journal order, into what is stored: alerts grouped by rule and host
/// (or account) within the grouping window, evidence, national campaign alerts, correlations,
/// first-seen anomalies, volumes and sensor health. Its state lives in a value that is replaced
/// only once the commit it produced is stored, so a failed commit can be built again unchanged.
final class AlertCommitter: @unchecked Sendable {
    struct OpenGroup {
        var id: AlertID
        var lastAt: Int64
        var evidence: Int
    }

    struct State {
        var open: [String: OpenGroup] = [:]
        /// Group keys already looked up in the database this run.
        var checked: Set<String> = []
        /// First-seen values per organisation, kind and subject, and since when the subject is known.
        var known: [String: Set<String>] = [:]
        var since: [String: Int64] = [:]
        var refusedTotals: [Sensor.ID: [String: Int64]] = [:]
        var correlators: [String: (version: Int, correlator: Correlator, set: CompiledRuleSet)] = [:]
    }

    let store: SQLStore
    let settings: IntakeSettings
    let sets: DetectionSets
    let sensors: SensorDirectory
    let clock: WallClock
    private(set) var state = State()
    private var pending: State?
    private var healthLoaded = false
    private var organisationNames: [OrganisationID: String] = [:]
    /// Where national campaign alerts go: the setting, or the installation's authority once it exists.
    private var authority: OrganisationID?

    /// What becomes of events a Sigma correlation reads: a node's intake writes them to the
    /// database for the installation's correlation evaluator (so a correlation sees every node's
    /// events); the evaluator's own committer correlates them.
    enum Correlation {
        case deferred(journal: String)
        case evaluated
    }

    let correlation: Correlation

    init(store: SQLStore, settings: IntakeSettings, sets: DetectionSets, sensors: SensorDirectory, clock: WallClock, correlation: Correlation) {
        self.correlation = correlation
        self.clock = clock
        self.store = store
        self.settings = settings
        self.sets = sets
        self.sensors = sensors
        authority = settings.authority
    }

    /// Called when the commit `build` returned was not stored and will not be built again.
    func abandoned() {
        pending = nil
    }

    /// Called after the commit `build` returned is stored.
    func committed() {
        if let pending { state = pending }
        pending = nil
    }

    func build(
        _ results: [EntryResult], refusals: (counts: [Sensor.ID: [String: Int64]], errors: [Sensor.ID: String]), volumes findings: [VolumeWatch.Finding] = []
    ) async throws -> IntakeCommit {
        var state = self.state
        if !healthLoaded {
            for (id, health) in try await store.sensorHealth() { state.refusedTotals[id] = health.refused }
            healthLoaded = true
        }
        var commit = IntakeCommit()
        var health: [Sensor.ID: SensorHealth] = [:]
        var volumes: [String: IntakeCommit.Volume] = [:]
        var newAlerts: [AlertID: SecurityAlert] = [:]
        var newOrder: [AlertID] = []
        var updates: [AlertID: IntakeCommit.AlertUpdate] = [:]
        let window = Int64(settings.alertWindow * 1000)

        func record(
            organisation: OrganisationID, sensor: Sensor.ID?, kind: SecurityAlert.Kind, rule: String, title: String, severity: SecurityAlert.Severity,
            host: String?, account: String?, fields: [AlertField], events: [[UInt8]], occurrences: Int64, time: Int64, explanation: String? = nil,
            groupKey given: String? = nil, once: Bool = false
        ) async throws {
            let groupKey = given ?? [organisation.description, kind.rawValue, rule, host ?? account ?? ""].joined(separator: "\u{1F}")
            if state.open[groupKey] == nil || state.open[groupKey]!.lastAt < time - window, !state.checked.contains(groupKey) {
                state.checked.insert(groupKey)
                if let existing = try await store.openAlert(groupKey: groupKey, since: Date(milliseconds: time - window)) {
                    let evidence = try await store.evidence(of: existing.id).count
                    state.open[groupKey] = OpenGroup(
                        id: existing.id, lastAt: existing.lastAt.milliseconds, evidence: evidence)
                }
            }
            if var group = state.open[groupKey], group.lastAt >= time - window {
                if newAlerts[group.id] != nil {
                    newAlerts[group.id]!.count += occurrences
                    newAlerts[group.id]!.lastAt = Date(milliseconds: max(time, group.lastAt))
                } else {
                    var update = updates[group.id] ?? IntakeCommit.AlertUpdate(alert: group.id, occurrences: 0, lastAt: Date(milliseconds: time))
                    update.occurrences += occurrences
                    update.lastAt = Date(milliseconds: max(time, update.lastAt.milliseconds))
                    updates[group.id] = update
                }
                for event in events where group.evidence < settings.evidencePerAlert {
                    commit.evidence.append(
                        AlertEvidence(
                            alert: group.id, sequence: group.evidence, receivedAt: Date(milliseconds: time), event: String(decoding: event, as: UTF8.self),
                            fields: fields))
                    group.evidence += 1
                }
                group.lastAt = max(group.lastAt, time)
                state.open[groupKey] = group
                return
            }
            var alert = SecurityAlert(
                organisation: organisation, sensor: sensor, kind: kind, rule: rule, title: title, severity: severity, groupKey: groupKey, host: host,
                account: account, firstAt: Date(milliseconds: time), lastAt: Date(milliseconds: time), count: occurrences, fields: fields,
                explanation: explanation)
            // Another node may be opening the same group now: both use the alert the database names.
            // A group raised `once` (a value first seen) is claimed for good: a node that had not yet
            // heard of the value from another node adds to that node's alert instead of raising another.
            alert.id = try await store.claimAlertGroup(
                groupKey, candidate: alert.id, time: Date(milliseconds: time), until: Date(milliseconds: time + (once ? Self.forever : window)))
            newAlerts[alert.id] = alert
            newOrder.append(alert.id)
            let kept = events.prefix(settings.evidencePerAlert)
            state.open[groupKey] = OpenGroup(id: alert.id, lastAt: time, evidence: kept.count)
            for (sequence, event) in kept.enumerated() {
                commit.evidence.append(
                    AlertEvidence(
                        alert: alert.id, sequence: sequence, receivedAt: Date(milliseconds: time), event: String(decoding: event, as: UTF8.self), fields: fields))
            }
        }

        for result in results {
            // Events the correlation evaluator reads again carry no health of their own.
            if result.events > 0 || result.bytes > 0 || !result.refused.isEmpty || result.lastError != nil {
                var sensorHealth = health[result.sensor] ?? SensorHealth(sensor: result.sensor)
                sensorHealth.events += result.events
                sensorHealth.bytes += result.bytes
                let seen = Date(milliseconds: result.receivedAt)
                if result.events > 0, sensorHealth.lastSeen.map({ $0 < seen }) ?? true { sensorHealth.lastSeen = seen }
                for (reason, count) in result.refused { sensorHealth.refused[reason, default: 0] += count }
                if let error = result.lastError {
                    sensorHealth.lastError = error
                    sensorHealth.lastErrorAt = seen
                }
                health[result.sensor] = sensorHealth
            }
            let hour = result.receivedAt / 3_600_000
            for (type, count) in result.types {
                let key = "\(result.sensor)|\(hour)|\(type)"
                volumes[key, default: IntakeCommit.Volume(sensor: result.sensor, hour: hour, type: type, events: 0)].events += count
            }
            guard let organisation = result.organisation else { continue }
            for finding in result.findings {
                try await record(
                    organisation: organisation, sensor: result.sensor, kind: finding.kind, rule: finding.rule, title: finding.title,
                    severity: finding.severity, host: finding.host, account: finding.account, fields: finding.fields, events: finding.events,
                    occurrences: finding.occurrences, time: result.receivedAt)
            }
            for (index, correlated) in result.correlated.enumerated() {
                if case .deferred(let journal) = correlation {
                    if let input = deferred(correlated, of: result, organisation: organisation, journal: journal, index: index) {
                        commit.correlationInputs.append(input)
                    }
                    continue
                }
                for fired in correlate(&state, correlated) {
                    try await record(
                        organisation: organisation, sensor: result.sensor, kind: .correlation, rule: fired.rule, title: fired.title,
                        severity: fired.severity, host: nil, account: nil, fields: fired.fields, events: [correlated.event], occurrences: 1,
                        time: result.receivedAt, explanation: fired.explanation)
                }
            }
            for (indicator, count) in result.sightings {
                let at = Date(milliseconds: result.receivedAt)
                commit.sightings.append(
                    IntelSighting(indicator: indicator, organisation: organisation, kind: .seen, source: "detection", count: Int(count), firstSeen: at, lastSeen: at))
            }
            for observation in result.observations {
                let key = [organisation.description, observation.kind, observation.subject].joined(separator: "\u{1F}")
                if state.known[key] == nil {
                    let stored = try await store.firstSeen(organisation: organisation, kind: observation.kind, subject: observation.subject)
                    state.known[key] = stored.values
                    if let since = stored.since { state.since[key] = since.milliseconds }
                }
                guard state.known[key]!.insert(observation.value).inserted else { continue }
                commit.firstSeen.append(
                    IntakeCommit.FirstSeen(
                        organisation: organisation, kind: observation.kind, subject: observation.subject, value: observation.value, at: Date(milliseconds: result.receivedAt)))
                if let since = state.since[key], since <= result.receivedAt - Int64(settings.firstSeenLearning * 1000) {
                    let known = state.known[key]!.count - 1
                    let title = EntityProfile.firstSeenTitles[observation.kind] ?? observation.kind
                    let explanation =
                        "\(observation.value) was never seen for \(observation.subject) before; \(known) other value\(known == 1 ? "" : "s") "
                        + "seen for it since \(RFC3339.format(Date(milliseconds: since))) (first-seen baseline)."
                    try await record(
                        organisation: organisation, sensor: result.sensor, kind: .anomaly, rule: observation.kind, title: "\(title): \(observation.value)",
                        severity: .low, host: observation.subject, account: nil,
                        fields: [AlertField(name: "subject", value: observation.subject), AlertField(name: "value", value: observation.value)],
                        events: [], occurrences: 1, time: result.receivedAt, explanation: explanation,
                        groupKey: [organisation.description, "anomaly", observation.kind, observation.subject, observation.value].joined(separator: "\u{1F}"),
                        once: true)
                }
                if state.since[key] == nil { state.since[key] = result.receivedAt }
            }
        }

        for finding in findings {
            let name = try await name(of: finding.organisation)
            try await record(
                organisation: finding.organisation, sensor: finding.sensor?.id, kind: .anomaly, rule: finding.direction.rawValue,
                title: finding.title(organisationName: name), severity: finding.severity, host: nil, account: nil, fields: finding.fields, events: [],
                occurrences: 1, time: (finding.hour + 1) * 3_600_000 - 1, explanation: finding.explanation(organisationName: name),
                groupKey: finding.groupKey)
        }

        // National campaigns: the same rule or indicator in several organisations within the window.
        if authority == nil { authority = try await store.organisations().first { $0.kind == .authority }?.id }
        if let authority {
            var byRule: [String: [SecurityAlert]] = [:]
            for id in newOrder where [.rule, .indicator, .correlation].contains(newAlerts[id]!.kind) {
                byRule[newAlerts[id]!.rule, default: []].append(newAlerts[id]!)
            }
            for (rule, alerts) in byRule.sorted(by: { $0.key < $1.key }) {
                let latest = alerts.map(\.lastAt).max()!
                let since = latest.addingTimeInterval(-settings.campaignWindow)
                var members = try await store.organisationsAlerting(rule: rule, since: since)
                members += alerts.map { ($0.organisation, $0.id) }
                let organisations = Set(members.map(\.organisation))
                guard organisations.count >= settings.campaignOrganisations else { continue }
                var names: [String] = []
                for organisation in organisations.sorted() { names.append(try await name(of: organisation)) }
                let explanation =
                    "\(alerts[0].title) fired in \(organisations.count) organisations within \(Int(settings.campaignWindow / 3600)) h: "
                    + names.sorted().joined(separator: ", ") + "."
                let groupKey = ["campaign", rule].joined(separator: "\u{1F}")
                let time = latest.milliseconds
                let campaignWindow = Int64(settings.campaignWindow * 1000)
                var campaignID: AlertID
                if let open = state.open[groupKey], open.lastAt >= time - campaignWindow {
                    campaignID = open.id
                } else if !state.checked.contains(groupKey),
                    let existing = try await store.openAlert(groupKey: groupKey, since: Date(milliseconds: time - campaignWindow))
                {
                    campaignID = existing.id
                } else {
                    var campaign = SecurityAlert(
                        organisation: authority, sensor: nil, kind: .campaign, rule: rule, title: "Campaign: \(alerts[0].title)",
                        severity: max(.high, alerts.map(\.severity).max()!), groupKey: groupKey, firstAt: since, lastAt: latest,
                        count: Int64(organisations.count), fields: [AlertField(name: "organisations", value: String(organisations.count))],
                        explanation: explanation)
                    campaign.id = try await store.claimAlertGroup(
                        groupKey, candidate: campaign.id, time: latest, until: Date(milliseconds: time + campaignWindow))
                    newAlerts[campaign.id] = campaign
                    newOrder.append(campaign.id)
                    campaignID = campaign.id
                }
                state.checked.insert(groupKey)
                state.open[groupKey] = OpenGroup(id: campaignID, lastAt: time, evidence: 0)
                if newAlerts[campaignID] == nil {
                    commit.campaignUpdates.append((campaignID, Int64(organisations.count), explanation, latest))
                }
                for member in members {
                    if newAlerts[member.alert] != nil {
                        newAlerts[member.alert]!.campaign = campaignID
                    } else {
                        commit.campaignLinks.append((member.alert, campaignID))
                    }
                }
            }
        }

        // Refusals counted at intake, before the journal.
        for (sensor, counts) in refusals.counts {
            var sensorHealth = health[sensor] ?? SensorHealth(sensor: sensor)
            for (reason, count) in counts { sensorHealth.refused[reason, default: 0] += count }
            if let error = refusals.errors[sensor] {
                sensorHealth.lastError = error
                sensorHealth.lastErrorAt = clock.now
            }
            health[sensor] = sensorHealth
        }
        for (sensor, var delta) in health {
            var totals = state.refusedTotals[sensor] ?? [:]
            for (reason, count) in delta.refused { totals[reason, default: 0] += count }
            state.refusedTotals[sensor] = totals
            delta.refused = totals
            commit.health.append(delta)
        }
        commit.newAlerts = newOrder.map { newAlerts[$0]! }
        commit.alertUpdates = Array(updates.values)
        commit.volumes = Array(volumes.values)
        pending = state
        return commit
    }

    private func name(of organisation: OrganisationID) async throws -> String {
        if let known = organisationNames[organisation] { return known }
        let name = try await store.organisation(organisation)?.name ?? organisation.description
        organisationNames[organisation] = name
        return name
    }

    struct Fired {
        var rule: String
        var title: String
        var severity: SecurityAlert.Severity
        var fields: [AlertField]
        var explanation: String
    }

    /// The event as the correlation evaluator reads it: rules by key, not by their number in this
    /// node's compiled set. Nil when the rules changed since the worker matched it.
    private func deferred(_ correlated: EntryResult.Correlated, of result: EntryResult, organisation: OrganisationID, journal: String, index: Int) -> CorrelationInput? {
        guard let (set, version) = sets.ruleSet(for: correlated.mapping), correlated.version == version, index < 4096 else { return nil }
        let keys = correlated.rules.compactMap { set.rules.indices.contains($0) ? Self.key(of: set.rules[$0]) : nil }
        return CorrelationInput(
            journal: journal, sequence: result.start * 4096 + Int64(index), mapping: correlated.mapping, rules: keys, event: correlated.event,
            sensor: result.sensor, organisation: organisation, receivedAt: Date(milliseconds: result.receivedAt))
    }

    /// A hundred years, in milliseconds: how long a claim made `once` lasts.
    static let forever: Int64 = 100 * 365 * 86_400_000

    static func key(of rule: SigmaRule) -> String { rule.file ?? rule.id ?? rule.title }

    /// Feeds events to the correlators without raising alerts: a node taking over correlation
    /// rebuilds the windows its predecessor held.
    func warm(_ results: [EntryResult]) {
        for result in results {
            for correlated in result.correlated { _ = correlate(&state, correlated) }
        }
    }

    private func correlate(_ state: inout State, _ correlated: EntryResult.Correlated) -> [Fired] {
        guard let (set, version) = sets.ruleSet(for: correlated.mapping) else { return [] }
        if state.correlators[correlated.mapping]?.version != version {
            state.correlators[correlated.mapping] = (version, Correlator(set.correlations), set)
        }
        // Rule numbers are of the version the worker matched with; a result from an older version is not correlated.
        guard correlated.version == version else { return [] }
        let fired = correlated.event.withUnsafeBufferPointer { state.correlators[correlated.mapping]!.correlator.observe(rules: correlated.rules, event: $0, reference: 0) }
        return fired.map { alert in
            let correlation = set.correlations.correlations[alert.correlation]
            return Fired(
                rule: correlation.id ?? correlation.file ?? correlation.title, title: correlation.title, severity: SecurityAlert.Severity(correlation.level),
                fields: alert.group.map { AlertField(name: $0.field, value: $0.value) },
                explanation: "\(correlation.kind.rawValue): \(alert.eventCount) events, measured \(alert.value), between "
                    + "\(RFC3339.format(Date(milliseconds: alert.windowStart))) and \(RFC3339.format(Date(milliseconds: alert.windowEnd)))")
        }
    }
}

extension Date {
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}

import Foundation
import OpenAPIRuntime
import QilaAccess
import QilaCases
import QilaCore
import QilaIngest
import QilaStore

/// Alerts and sensors in the REST API: the same desk and the same checks as the pages.
extension QilaAPI {
    var alertDesk: AlertDesk { cases.desk.alerts }
    func gate(_ source: String?) -> EnforcementGate { EnforcementGate(enforcement: enforcement, source: source) }

    func listAlerts(_ input: Operations.ListAlerts.Input) async throws -> Operations.ListAlerts.Output {
        let (subject, _, source) = try caller()
        let (readable, organisations) = try await alertDesk.readableOrganisations(subject, gate: gate(source))
        let query = input.query
        var chosen: [OrganisationID]?
        if let text = query.organisation {
            guard let id = OrganisationID(text), readable.contains(where: { $0.id == id }) else {
                throw Problem(.badRequest, "'\(text.prefix(40))' is not an organisation whose alerts you may read", location: "organisation")
            }
            chosen = [id]
        }
        var statuses: [SecurityAlert.Status]? = [.new, .acknowledged]
        if let text = query.status {
            if text == "all" {
                statuses = nil
            } else {
                guard let status = SecurityAlert.Status(rawValue: text) else {
                    throw Problem(
                        .badRequest, "'\(text.prefix(20))' is not a status: \(SecurityAlert.Status.allCases.map(\.rawValue).joined(separator: ", ")) or all",
                        location: "status")
                }
                statuses = [status]
            }
        }
        var sensor: Sensor.ID?
        if let text = query.sensor {
            guard let id = Sensor.ID(text) else { throw Problem(.badRequest, "'\(text.prefix(40))' is not a sensor id", location: "sensor") }
            sensor = id
        }
        let filter = AlertFilter(
            organisations: chosen ?? (readable.count == organisations.count ? nil : readable.map(\.id)), statuses: statuses,
            kinds: query.kind.flatMap { SecurityAlert.Kind(rawValue: $0.rawValue) }.map { [$0] },
            severities: query.severity.flatMap { SecurityAlert.Severity(rawValue: $0.rawValue) }.map { [$0] }, sensor: sensor, rule: query.rule,
            text: query.q?.trimmingCharacters(in: .whitespaces), limit: try Self.limit(query.limit))
        return .ok(.init(body: .json(try await store.alerts(filter).map(Components.Schemas.Alert.init))))
    }

    func getAlert(_ input: Operations.GetAlert.Input) async throws -> Operations.GetAlert.Output {
        let (subject, _, source) = try caller()
        let (alert, _) = try await alertDesk.alert(input.path.alertId, for: subject, gate: gate(source))
        let evidence = try await store.evidence(of: alert.id)
        let members = alert.kind == .campaign ? try await store.alerts(AlertFilter(campaign: alert.id)) : []
        return .ok(
            .init(
                body: .json(
                    .init(
                        alert: .init(alert),
                        evidence: evidence.map { .init(sequence: $0.sequence, receivedAt: $0.receivedAt, event: $0.event) },
                        members: members.map(Components.Schemas.Alert.init)))))
    }

    func triageAlert(_ input: Operations.TriageAlert.Input) async throws -> Operations.TriageAlert.Output {
        let (subject, _, source) = try caller()
        guard case .json(let body) = input.body else { throw Problem(.unsupportedMediaType, "send application/json") }
        let alert = try await alertDesk.triage(input.path.alertId, action: body.action.rawValue, reason: body.reason, by: subject, gate: gate(source), source: source)
        return .ok(.init(body: .json(.init(alert))))
    }

    func listSensors(_ input: Operations.ListSensors.Input) async throws -> Operations.ListSensors.Output {
        let (subject, _, source) = try caller()
        var (readable, organisations) = try await SensorDesk(store: store, audit: installation.audit).organisations(readableBy: subject, policy: installation.policy, gate: gate(source))
        if let text = input.query.organisation {
            guard let id = OrganisationID(text), let organisation = organisations.first(where: { $0.id == id }) else {
                throw Problem(.badRequest, "'\(text.prefix(40))' is not an organisation", location: "organisation")
            }
            try await enforcement.require(subject, .read, SensorDesk.resource(organisation), source: source)
            readable = [organisation]
        }
        let ids = Set(readable.map(\.id))
        let health = try await store.sensorHealth()
        let sensors = try await store.sensors().filter { ids.contains($0.organisation) }
        return .ok(.init(body: .json(sensors.map { .init($0, health: health[$0.id] ?? SensorHealth(sensor: $0.id)) })))
    }

    func getSensorVolumes(_ input: Operations.GetSensorVolumes.Input) async throws -> Operations.GetSensorVolumes.Output {
        let (subject, _, source) = try caller()
        guard let id = Sensor.ID(input.path.sensorId), let sensor = try await store.sensor(id),
            let organisation = try await store.organisation(sensor.organisation)
        else { throw Problem(.notFound, "no such sensor") }
        try await enforcement.require(subject, .read, SensorDesk.resource(organisation), source: source)
        let hours = min(max(input.query.hours ?? 48, 1), 2160)
        let volumes = try await store.sensorVolumes(sensors: [id], since: Date().addingTimeInterval(-Double(hours) * 3600))
        return .ok(
            .init(
                body: .json(
                    volumes.map { .init(hour: Date(timeIntervalSince1970: Double($0.hour) * 3600), _type: $0.type, events: $0.events) })))
    }
}

extension Components.Schemas.Alert {
    init(_ alert: SecurityAlert) {
        self.init(
            id: alert.id.description, organisation: alert.organisation.description, sensor: alert.sensor?.description,
            kind: .init(rawValue: alert.kind.rawValue)!, rule: alert.rule, title: alert.title, severity: .init(rawValue: alert.severity.rawValue)!,
            host: alert.host, account: alert.account, firstAt: alert.firstAt, lastAt: alert.lastAt, count: alert.count,
            status: .init(rawValue: alert.status.rawValue)!, reason: alert.reason, triagedBy: alert.triagedBy?.description, triagedAt: alert.triagedAt,
            caseId: alert.caseID?.description, campaign: alert.campaign?.description, explanation: alert.explanation,
            fields: alert.fields.map { .init(name: $0.name, value: $0.value) })
    }
}

extension Components.Schemas.Sensor {
    init(_ sensor: Sensor, health: SensorHealth) {
        self.init(
            id: sensor.id.description, organisation: sensor.organisation.description, name: sensor.name,
            transport: .init(rawValue: sensor.transport.rawValue)!, format: .init(rawValue: sensor.format.rawValue)!, mapping: sensor.mapping,
            account: sensor.account?.description, addresses: sensor.addresses, rateLimit: sensor.rateLimit, enabled: sensor.enabled,
            createdAt: sensor.createdAt,
            health: .init(
                lastSeen: health.lastSeen, events: health.events, bytes: health.bytes, refused: .init(additionalProperties: health.refused),
                lastError: health.lastError, lastErrorAt: health.lastErrorAt))
    }
}

extension QilaAPI {
    /// A list's `limit`: 100 when absent, refused outside 1...1000 rather than quietly clamped.
    static func limit(_ given: Int?, maximum: Int = 1000) throws -> Int {
        let limit = given ?? 100
        guard (1...maximum).contains(limit) else {
            throw Problem(.badRequest, "limit must be from 1 to \(maximum), not \(limit)", location: "query limit", type: .invalidInput)
        }
        return limit
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCases
import QilaCore
import QilaDetect
import QilaIngest
import QilaStore

/// Telemetry intake pages: sensors and their health (`/sensors`), the alert queue (`/alerts`),
/// an alert with its evidence and triage (`/alerts/:id`), and rule management (`/rules`).
extension WebPages {
    func registerIntake(on router: Router<QilaRequestContext>) {
        router.get("/sensors", use: sensorsPage)
        router.post("/sensors", use: createSensor)
        router.post("/sensors/:id/enabled", use: toggleSensor)
        router.get("/alerts", use: alertsPage)
        router.get("/alerts/:id", use: alertPage)
        router.post("/alerts/:id/triage", use: triageAlert)
        router.get("/rules", use: rulesPage)
        router.post("/rules", use: uploadRule)
        router.post("/rules/:id/enabled", use: toggleRule)
    }

    func requireIntake() throws -> IntakeRuntime {
        guard let intake else { throw Problem(.serviceUnavailable, "telemetry intake is not running on this server") }
        return intake
    }

    var alertDesk: AlertDesk { AlertDesk(installation: installation, enforcement: enforcement, cases: cases) }


    // MARK: sensors

    func sensorsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await sensorsView(context, [:])
    }

    func sensorsView(_ context: QilaRequestContext, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let (readable, organisations) = try await alertDesk.sensorOrganisations(subject, source: context.sourceAddress)
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let readableIDs = Set(readable.map(\.id))
        let sensors = try await store.sensors().filter { readableIDs.contains($0.organisation) }
        let health = try await store.sensorHealth()
        let since = Date().addingTimeInterval(-24 * 3600)
        let volumes = try await store.sensorVolumes(sensors: sensors.map(\.id), since: since)
        var accounts: [UserID: String] = [:]
        for organisation in readable { for user in try await store.users(in: organisation.id) { accounts[user.id] = user.username } }
        let currentHour = Int64(Date().timeIntervalSince1970) / 3600
        var hourly: [Sensor.ID: [Int64: Int64]] = [:]
        for volume in volumes { hourly[volume.sensor, default: [:]][volume.hour, default: 0] += volume.events }
        let rows = sensors.map { sensor -> [String: Any] in
            let h = health[sensor.id] ?? SensorHealth(sensor: sensor.id)
            let lastHour = hourly[sensor.id]?[currentHour] ?? 0
            let refused = h.refused.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let silent = h.lastSeen.map { Date().timeIntervalSince($0) > 3600 } ?? true
            return [
                "id": sensor.id.description, "name": sensor.name, "organisation": names[sensor.organisation] ?? "?", "transport": sensor.transport.title,
                "format": sensor.format.title, "mapping": sensor.mapping,
                "source": sensor.transport == .syslog ? sensor.addresses.joined(separator: ", ") : (sensor.account.flatMap { accounts[$0] } ?? "-"),
                "enabled": sensor.enabled, "events": h.events, "lastHour": lastHour, "lastSeen": h.lastSeen?.display ?? "never",
                "refused": refused.isEmpty ? "none" : refused, "lastError": h.lastError ?? "", "silent": silent && sensor.enabled,
                "canChange": enforcement.permits(subject, .update, AlertDesk.sensorResource(organisations.first { $0.id == sensor.organisation }!)),
            ]
        }
        // Events per hour over the last day, by sensor (the busiest eight).
        let busiest = sensors.sorted { (health[$0.id]?.events ?? 0) > (health[$1.id]?.events ?? 0) }.prefix(8)
        let hours = (0..<24).map { currentHour - 23 + Int64($0) }
        let chart = BarChart(
            bars: hours.map { hour in
                BarChart.Bar(
                    label: String(format: "%02d:00", Int(hour % 24)),
                    values: Dictionary(uniqueKeysWithValues: busiest.map { ($0.name, Int(hourly[$0.id]?[hour] ?? 0)) }))
            }, series: busiest.map(\.name), title: "Events per hour, last 24 hours (UTC)"
        ).svg()
        let creatable = readable.filter { enforcement.permits(subject, .create, AlertDesk.sensorResource($0)) && $0.kind != .authority }
        var serviceAccounts: [[String: Any]] = []
        for organisation in creatable {
            for user in try await store.users(in: organisation.id) where user.kind == .service {
                serviceAccounts.append(["id": user.id.description, "name": "\(user.username) (\(organisation.name))"])
            }
        }
        let authority = subject.effectiveRoles.contains(.authorityAdmin) || subject.effectiveRoles.contains(.authorityAnalyst)
        var values: [String: Any] = [
            "sensors": rows, "chart": chart, "hasSensors": !rows.isEmpty,
            "canCreate": !creatable.isEmpty, "organisations": creatable.map { ["id": $0.id.description, "name": $0.name] },
            "transports": Sensor.Transport.allCases.map { ["value": $0.rawValue, "title": $0.title] },
            "formats": Sensor.Format.allCases.map { ["value": $0.rawValue, "title": $0.title] },
            "mappings": FieldMapping.shippedNames.map { ["value": $0] }, "accounts": serviceAccounts,
            "unknown": authority ? intake.directory.unknownSources.sorted { $0.value > $1.value }.prefix(20).map { ["source": $0.key, "count": $0.value] } : [],
            "showUnknown": authority && !intake.directory.unknownSources.isEmpty,
        ]
        values.merge(extra) { $1 }
        return render("sensors", "Sensors", context, values, status: status)
    }

    func createSensor(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let form = try await form(request, context)
        func refuse(_ message: String) async throws -> Response { try await sensorsView(context, ["error": message], status: .badRequest) }
        guard let organisationID = OrganisationID(form["organisation"] ?? ""), let organisation = try await store.organisation(organisationID) else {
            return try await refuse("Choose the organisation the sensor belongs to (field organisation).")
        }
        try await enforcement.require(subject, .create, AlertDesk.sensorResource(organisation), source: context.sourceAddress)
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 80 else { return try await refuse("Give the sensor a name of 1 to 80 characters (field name).") }
        guard let transport = Sensor.Transport(rawValue: form["transport"] ?? "") else { return try await refuse("Choose how events arrive (field transport).") }
        guard let format = Sensor.Format(rawValue: form["format"] ?? "") else { return try await refuse("Choose what each message holds (field format).") }
        let mapping = form["mapping"] ?? ""
        guard FieldMapping.shippedNames.contains(mapping) else { return try await refuse("Choose a field mapping (field mapping).") }
        let addresses = (form["addresses"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        if let bad = addresses.first(where: { AddressRange($0) == nil }) { return try await refuse("'\(bad)' is not an address or CIDR network (field addresses).") }
        if transport == .syslog && addresses.isEmpty { return try await refuse("Plain syslog is recognised by its source: give at least one address (field addresses).") }
        var account: UserID?
        if transport != .syslog {
            guard let chosen = UserID(form["account"] ?? ""), let user = try await store.user(chosen), user.organisation == organisation.id, user.kind == .service else {
                return try await refuse("HTTP and TLS sensors send as a service account of their organisation (field account).")
            }
            account = user.id
        }
        let rate = Int(form["rate"] ?? "") ?? 0
        guard rate >= 0 else { return try await refuse("The rate limit cannot be negative (field rate).") }
        let sensor = Sensor(
            organisation: organisation.id, name: name, transport: transport, format: format, mapping: mapping, account: account, addresses: addresses,
            rateLimit: rate, createdBy: subject.user.id)
        do {
            try await store.createSensor(sensor)
        } catch let error as StoreError where error.code == .conflict {
            return try await refuse("\(organisation.name) already has a sensor named '\(name)' (field name).")
        }
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "sensor.create", outcome: .success,
                       resource: "sensor:\(sensor.id)", sourceAddress: context.sourceAddress, details: ["organisation": organisation.id.description]))
        try await intake.reloadSensors()
        return try await sensorsView(context, ["message": "Sensor \(name) registered for \(organisation.name)."])
    }

    func toggleSensor(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let form = try await form(request, context)
        guard let id = Sensor.ID(try context.parameters.require("id")), var sensor = try await store.sensor(id),
            let organisation = try await store.organisation(sensor.organisation)
        else { throw Problem(.notFound, "no such sensor") }
        try await enforcement.require(subject, .update, AlertDesk.sensorResource(organisation), source: context.sourceAddress)
        sensor.enabled = form["enabled"] == "true"
        try await store.updateSensor(sensor)
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id,
                       action: sensor.enabled ? "sensor.enable" : "sensor.disable", outcome: .success, resource: "sensor:\(sensor.id)",
                       sourceAddress: context.sourceAddress))
        try await intake.reloadSensors()
        return redirect("/sensors")
    }

    // MARK: alerts

    func alertsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (readable, organisations) = try await alertDesk.readableOrganisations(subject, source: context.sourceAddress)
        let query = request.uri.queryParameters
        let status = query.get("status").flatMap(SecurityAlert.Status.init(rawValue:))
        let kind = query.get("kind").flatMap(SecurityAlert.Kind.init(rawValue:))
        let severity = query.get("severity").flatMap(SecurityAlert.Severity.init(rawValue:))
        let chosenOrganisation = query.get("organisation").flatMap(OrganisationID.init).flatMap { id in readable.first { $0.id == id } }
        let text = query.get("q")?.trimmingCharacters(in: .whitespaces)
        let everyone = readable.count == organisations.count
        let filter = AlertFilter(
            organisations: chosenOrganisation.map { [$0.id] } ?? (everyone ? nil : readable.map(\.id)),
            statuses: status.map { [$0] } ?? (query.get("status") == "all" ? nil : [.new, .acknowledged]), kinds: kind.map { [$0] },
            severities: severity.map { [$0] }, text: text, limit: 300)
        let alerts = try await store.alerts(filter)
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        // By severity, for the chart.
        var bySeverity: [SecurityAlert.Severity: Int] = [:]
        for alert in alerts { bySeverity[alert.severity, default: 0] += 1 }
        let chart = BarChart(
            bars: SecurityAlert.Severity.allCases.reversed().map { BarChart.Bar(label: $0.rawValue, values: ["alerts": bySeverity[$0] ?? 0]) },
            series: ["alerts"], title: "Alerts shown, by severity", height: 140
        ).svg()
        func options<T: RawRepresentable & CaseIterable>(_ all: T.AllCases, _ chosen: T?) -> [[String: Any]] where T.RawValue == String {
            all.map { ["value": $0.rawValue, "selected": $0.rawValue == chosen?.rawValue] }
        }
        return render(
            "alerts", "Alerts", context,
            [
                "alerts": alerts.map { alert -> [String: Any] in
                    [
                        "id": alert.id.description, "title": alert.title, "severity": alert.severity.rawValue, "kind": alert.kind.rawValue,
                        "organisation": names[alert.organisation] ?? "?", "subject": alert.host ?? alert.account ?? "-", "count": alert.count,
                        "first": alert.firstAt.display, "last": alert.lastAt.display, "status": alert.status.rawValue,
                        "campaign": alert.campaign != nil,
                    ]
                },
                "hasAlerts": !alerts.isEmpty, "chart": chart,
                "statuses": options(SecurityAlert.Status.allCases, status), "kinds": options(SecurityAlert.Kind.allCases, kind),
                "severities": options(SecurityAlert.Severity.allCases, severity), "q": text ?? "",
                "allStatuses": query.get("status") == "all",
                "organisations": readable.count > 1 ? readable.map { ["id": $0.id.description, "name": $0.name, "selected": $0.id == chosenOrganisation?.id] } : [],
            ])
    }

    func alertPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await alertView(context, try context.parameters.require("id"), [:])
    }

    func alertView(_ context: QilaRequestContext, _ idText: String, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let subject = try subject(context)
        let (alert, organisation) = try await alertDesk.alert(idText, for: subject, source: context.sourceAddress)
        let evidence = try await store.evidence(of: alert.id)
        let sensor: Sensor? = if let id = alert.sensor { try await store.sensor(id) } else { nil }
        var members: [[String: Any]] = []
        if alert.kind == .campaign {
            let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
            for member in try await store.alerts(AlertFilter(campaign: alert.id)) {
                members.append(["id": member.id.description, "organisation": names[member.organisation] ?? "?", "count": member.count, "last": member.lastAt.display])
            }
        }
        // The national campaign alert is the authority's: linked only for those who may read it.
        var campaignLink: String?
        if let campaign = alert.campaign, let parent = try await store.alert(campaign), enforcement.permits(subject, .read, AlertDesk.resource(parent, nil)) {
            campaignLink = "/alerts/\(campaign)"
        }
        var values: [String: Any] = [
            "id": alert.id.description, "title": alert.title, "severity": alert.severity.rawValue, "kind": alert.kind.rawValue, "rule": alert.rule,
            "organisation": organisation?.name ?? "?", "sensor": sensor?.name ?? "-", "host": alert.host ?? "-", "account": alert.account ?? "-",
            "count": alert.count, "first": alert.firstAt.display, "last": alert.lastAt.display, "status": alert.status.rawValue,
            "reason": alert.reason ?? "", "hasReason": alert.reason != nil, "explanation": alert.explanation ?? "",
            "hasExplanation": alert.explanation != nil, "caseID": alert.caseID?.description ?? "",
            "hasCase": alert.caseID != nil, "campaignLink": campaignLink ?? "", "inCampaign": campaignLink != nil,
            "fields": alert.fields.map { ["name": $0.name, "value": $0.value] },
            "evidence": evidence.map { item -> [String: Any] in
                ["sequence": item.sequence + 1, "received": item.receivedAt.display, "event": Self.pretty(item.event)]
            },
            "hasEvidence": !evidence.isEmpty, "members": members, "hasMembers": !members.isEmpty,
            "canTriage": enforcement.permits(subject, .update, AlertDesk.resource(alert, organisation)) && alert.status != .promoted,
            "canPromote": organisation?.kind != .authority && enforcement.permits(subject, .create, Resource(kind: .incident, owner: alert.organisation, sector: organisation?.sector)),
        ]
        values.merge(extra) { $1 }
        return render("alert", alert.title, context, values, status: status)
    }

    static func pretty(_ event: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(event.utf8)),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return event }
        return String(decoding: data, as: UTF8.self)
    }

    func triageAlert(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let idText = try context.parameters.require("id")
        let alert: SecurityAlert
        do {
            alert = try await alertDesk.triage(idText, action: form["action"], reason: form["reason"], by: subject, source: context.sourceAddress)
        } catch {
            // What the person can mend is said on the alert page; the rest is the problem page.
            let problem = Problem.from(error)
            guard [400, 409].contains(problem.status) else { throw error }
            let detail = (problem.detail ?? problem.title) + (problem.location.map { " (field \($0))" } ?? "")
            return try await alertView(context, idText, ["error": detail.prefix(1).uppercased() + detail.dropFirst() + "."], status: HTTPResponse.Status(code: problem.status))
        }
        if let caseID = alert.caseID, alert.status == .promoted { return redirect("/cases/\(caseID)") }
        return redirect("/alerts/\(alert.id)")
    }

    // MARK: rules

    func rulesPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await rulesView(context, request.uri.queryParameters.get("q"), [:])
    }

    func rulesView(_ context: QilaRequestContext, _ query: String?, _ extra: [String: Any], status: HTTPResponse.Status = .ok) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, Resource(kind: .detectionRule, reference: "rules"), source: context.sourceAddress)
        let rules = try await store.detectionRules()
        let text = query?.lowercased().trimmingCharacters(in: .whitespaces) ?? ""
        let shown = rules.filter { text.isEmpty || $0.title.lowercased().contains(text) || $0.file.lowercased().contains(text) || $0.id.lowercased() == text }
        let occurrences = try await store.alertOccurrences()
        var byLevel: [String: Int] = [:]
        for rule in rules where rule.enabled { byLevel[rule.level ?? "none", default: 0] += 1 }
        var values: [String: Any] = [
            "rules": shown.prefix(300).map { rule -> [String: Any] in
                [
                    "id": rule.id, "title": rule.title, "level": rule.level ?? "-", "file": rule.file, "enabled": rule.enabled,
                    "problems": rule.problems.joined(separator: "; "), "hasProblems": !rule.problems.isEmpty, "alerts": occurrences[rule.id] ?? 0,
                ]
            },
            "total": rules.count, "enabledCount": rules.filter(\.enabled).count, "problemCount": rules.filter { !$0.problems.isEmpty }.count,
            "shownCount": min(shown.count, 300), "matching": shown.count, "q": query ?? "",
            "canChange": enforcement.permits(subject, .update, Resource(kind: .detectionRule, reference: "rules")),
            "chart": BarChart(
                bars: ["critical", "high", "medium", "low", "informational", "none"].map { BarChart.Bar(label: $0, values: ["rules": byLevel[$0] ?? 0]) },
                series: ["rules"], title: "Enabled rules by level", height: 140
            ).svg(),
        ]
        values.merge(extra) { $1 }
        return render("rules", "Detection rules", context, values, status: status)
    }

    func uploadRule(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let form = try await form(request, context)
        try await enforcement.require(subject, .create, Resource(kind: .detectionRule, reference: "rules"), source: context.sourceAddress)
        let yaml = (form["yaml"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        guard !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return try await rulesView(context, nil, ["error": "Paste the rule's YAML (field yaml)."], status: .badRequest)
        }
        var file = (form["file"] ?? "").trimmingCharacters(in: .whitespaces)
        if file.isEmpty { file = "uploaded.yml" }
        var mappings = intake.directory.mappings
        if mappings.isEmpty { mappings = ["windows-flat", "aws-cloudtrail"] }
        // A rule that does not parse is refused with what lint said; one that parses is stored with its findings.
        let lint = intake.sets.lint(yaml, file: file, mappings: mappings)
        guard lint.unreadable.isEmpty else {
            return try await rulesView(context, nil, ["error": "The rule was not stored: " + lint.all.joined(separator: "; "), "yaml": yaml], status: .badRequest)
        }
        let rule = RuleImport.rule(yaml: yaml, file: file, by: subject.user.id, sets: intake.sets, mappings: mappings, lint: lint)
        try await store.saveRules([rule])
        try await store.bumpRulesVersion()
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "rule.upload", outcome: .success,
                       resource: "rule:\(rule.id)", sourceAddress: context.sourceAddress))
        try await intake.reloadRules()
        let message = rule.problems.isEmpty
            ? "Rule “\(rule.title)” stored and running." : "Rule “\(rule.title)” stored; lint: " + rule.problems.joined(separator: "; ")
        return try await rulesView(context, rule.id, ["message": message])
    }

    func toggleRule(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let form = try await form(request, context)
        try await enforcement.require(subject, .update, Resource(kind: .detectionRule, reference: "rules"), source: context.sourceAddress)
        let id = try context.parameters.require("id")
        guard try await store.detectionRule(id) != nil else { throw Problem(.notFound, "no such rule") }
        let enabled = form["enabled"] == "true"
        try await store.setRule(id, enabled: enabled)
        try await installation.audit.append(
            AuditEntry(time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: enabled ? "rule.enable" : "rule.disable",
                       outcome: .success, resource: "rule:\(id)", sourceAddress: context.sourceAddress))
        try await intake.reloadRules()
        return redirect("/rules?q=\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
    }
}

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
extension IntakePages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/sensors", use: sensorsPage)
        routes.post("/sensors", use: createSensor)
        routes.post("/sensors/:id/enabled", use: toggleSensor)
        routes.get("/alerts", use: alertsPage)
        routes.get("/alerts.csv", use: alertsCSV)
        routes.post("/alerts/bulk", use: bulkAlerts)
        routes.get("/alerts/:id", use: alertPage)
        routes.post("/alerts/:id/triage", use: triageAlert)
        routes.get("/rules", use: rulesPage)
        routes.get("/rules.csv", use: rulesCSV)
        routes.post("/rules", use: uploadRule)
        routes.post("/rules/bulk", use: bulkRules)
        routes.get("/rules/:id", use: rulePage)
        routes.post("/rules/:id/enabled", use: toggleRule)
        return routes
    }

    func requireIntake() throws -> IntakeRuntime {
        guard let intake else { throw Problem(.serviceUnavailable, "telemetry intake is not running on this server") }
        return intake
    }

    var alertDesk: AlertDesk { cases.desk.alerts }


    // MARK: sensors

    var sensorDesk: SensorDesk { SensorDesk(store: store, audit: installation.audit) }

    func sensorsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let (readable, organisations) = try await sensorDesk.organisations(readableBy: subject, policy: installation.policy, gate: gate(context))
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let readableIDs = Set(readable.map(\.id))
        let sensors = try await store.sensors().filter { readableIDs.contains($0.organisation) }
        let health = try await store.sensorHealth()
        let now = Date()
        let volumes = try await store.sensorVolumes(sensors: sensors.map(\.id), since: now.addingTimeInterval(-24 * 3600))
        var accounts: [UserID: String] = [:]
        for organisation in readable { for user in try await store.users(in: organisation.id) { accounts[user.id] = user.username } }
        let currentHour = Int64(now.timeIntervalSince1970) / 3600
        var hourly: [Sensor.ID: [Int64: Int64]] = [:]
        for volume in volumes { hourly[volume.sensor, default: [:]][volume.hour, default: 0] += volume.events }
        let rows = sensors.map { sensor -> SensorsView.Row in
            let h = health[sensor.id] ?? SensorHealth(sensor: sensor.id)
            let refused = h.refused.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let silent = h.lastSeen.map { now.timeIntervalSince($0) > 3600 } ?? true
            let organisation = organisations.first { $0.id == sensor.organisation }
            return SensorsView.Row(
                id: sensor.id.description, name: sensor.name, organisation: names[sensor.organisation] ?? "?", transport: sensor.transport.title,
                format: sensor.format.title, mapping: sensor.mapping,
                source: sensor.transport == .syslog ? sensor.addresses.joined(separator: ", ") : (sensor.account.flatMap { accounts[$0] } ?? "-"),
                lastSeen: h.lastSeen?.display ?? "never", refused: refused.isEmpty ? "none" : refused, lastError: h.lastError ?? "",
                enabled: sensor.enabled, silent: silent && sensor.enabled,
                canChange: organisation.map { enforcement.permits(subject, .update, SensorDesk.resource($0)) } ?? false,
                events: h.events, lastHour: hourly[sensor.id]?[currentHour] ?? 0)
        }
        // Events per hour over the last day, by sensor (the busiest eight).
        let busiest = sensors.sorted { (health[$0.id]?.events ?? 0) > (health[$1.id]?.events ?? 0) }.prefix(8)
        let hours = (0..<24).map { currentHour - 23 + Int64($0) }
        let chart = BarChart(
            bars: hours.map { hour in
                BarChart.Bar(
                    label: String(DisplayZone.current.format(Date(timeIntervalSince1970: Double(hour) * 3600)).dropFirst(11).prefix(5)),
                    values: Dictionary(uniqueKeysWithValues: busiest.map { ($0.name, Int(hourly[$0.id]?[hour] ?? 0)) }))
            }, series: busiest.map(\.name), title: "Events per hour over the last 24 hours, \(DisplayZone.current.name)"
        ).svg()
        let creatable = readable.filter { enforcement.permits(subject, .create, SensorDesk.resource($0)) && $0.keepsOwnRecords }
        var serviceAccounts: [(User, Organisation)] = []
        for organisation in creatable {
            for user in try await store.users(in: organisation.id) where user.kind == .service && !user.disabled { serviceAccounts.append((user, organisation)) }
        }
        let authority = subject.effectiveRoles.contains(.authorityAdmin) || subject.effectiveRoles.contains(.authorityAnalyst)
        let unknown = authority ? intake.directory.unknownSources.sorted { $0.value > $1.value }.prefix(20).map { SensorsView.Unknown(source: $0.key, count: Int64($0.value)) } : []
        var message: String?
        if let id = request.uri.queryParameters["registered"].flatMap({ Sensor.ID(String($0)) }), let sensor = sensors.first(where: { $0.id == id }) {
            message = "Sensor \(sensor.name) registered for \(names[sensor.organisation] ?? "its organisation")."
        }
        let view = SensorsView(
            sensors: rows, chart: chart, unknown: Array(unknown), message: message, creatable: creatable, accounts: serviceAccounts,
            state: try await refusedForms.state(of: SensorsView.registerFormName, request, context: context))
        return renderer.page("sensors", title: "Sensors", context: context, view: view, enforcement: enforcement)
    }

    func createSensor(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        var state = FormState(form: SensorsView.registerFormName, fields: try await form(request, context))
        let draft = SensorDesk.Draft(
            organisation: state.value("organisation"), name: state.value("name"), transport: state.value("transport"), format: state.value("format"),
            mapping: state.value("mapping"), addresses: state.value("addresses"), account: state.value("account"), rate: state.value("rate"))
        do {
            let sensor = try await sensorDesk.register(draft, by: subject, gate: gate(context), source: context.sourceAddress)
            try await intake.reloadSensors()
            return redirect("/sensors?registered=\(sensor.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: SensorsView.registerFields(organisations: [], accounts: [], state: nil))
            return try await refusedForms.redirect(state, to: "/sensors", context: context)
        }
    }

    func toggleSensor(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let intake = try requireIntake()
        let subject = try subject(context)
        let form = try await form(request, context)
        guard let id = Sensor.ID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such sensor") }
        do {
            _ = try await sensorDesk.setEnabled(id, form["enabled"] == "true", by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such sensor")
        }
        try await intake.reloadSensors()
        return redirect("/sensors")
    }

    // MARK: alerts

    /// The alerts the subject's query asks for, every page of them, in its order.
    func queriedAlerts(_ request: Request, _ subject: Subject, _ context: QilaRequestContext) async throws
        -> (query: AlertQuery, ordered: [SecurityAlert], readable: [Organisation], names: [OrganisationID: String])
    {
        let (readable, organisations) = try await alertDesk.readableOrganisations(subject, gate: gate(context))
        var query = AlertQuery { request.uri.queryParameters[Substring($0)].map(String.init) }
        if let chosen = query.organisation, !readable.contains(where: { $0.id == chosen }) { query.organisation = nil }
        let alerts = try await store.alerts(query.filter(readable: readable.map(\.id), everyone: readable.count == organisations.count))
        return (query, query.ordered(alerts), readable, Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) }))
    }

    func alertsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (query, ordered, readable, names) = try await queriedAlerts(request, subject, context)
        var bySeverity: [SecurityAlert.Severity: Int] = [:]
        for alert in ordered { bySeverity[alert.severity, default: 0] += 1 }
        let chart = BarChart(
            bars: SecurityAlert.Severity.allCases.reversed().map { BarChart.Bar(label: $0.rawValue, values: ["alerts": bySeverity[$0] ?? 0]) },
            series: ["alerts"], title: "Alerts matching, by severity", height: 140
        ).svg()
        let sectors = Dictionary(uniqueKeysWithValues: readable.map { ($0.id, $0.sector) })
        let view = AlertsView(
            ordered: ordered, query: query, names: names, readable: readable,
            canTriage: { enforcement.permits(subject, .update, Resource(kind: .alert, owner: $0.organisation, sector: sectors[$0.organisation])) },
            chart: chart, kept: try await refusedForms.kept(request, context: context), zone: DisplayZone.current)
        return render("alerts", "Alerts", context, view)
    }

    /// Exactly the filtered queue, every page of it, as CSV (times in RFC 3339, UTC).
    func alertsCSV(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (_, ordered, _, names) = try await queriedAlerts(request, subject, context)
        var lines = ["id,severity,title,kind,organisation,host,account,rule,occurrences,first,last,status,reason,case"]
        for alert in ordered {
            lines.append(
                [
                    alert.id.description, alert.severity.rawValue, alert.title, alert.kind.rawValue, names[alert.organisation] ?? "", alert.host ?? "",
                    alert.account ?? "", alert.rule, String(alert.count), RFC3339.format(alert.firstAt), RFC3339.format(alert.lastAt), alert.status.rawValue,
                    alert.reason ?? "", alert.caseID?.description ?? "",
                ].map(Self.csvField).joined(separator: ","))
        }
        return Self.csv(lines, filename: "qila-alerts.csv")
    }

    /// Acknowledges or dismisses (with one reason) the ticked alerts; back to the same page.
    func bulkAlerts(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let back = LocalRedirect.path(form["back"] ?? "") ?? "/alerts"
        // Refused outright for those who read no alerts at all; then each alert is checked on its own.
        _ = try await alertDesk.readableOrganisations(subject, gate: gate(context))
        do {
            let result = try await alertDesk.triage(
                form.all("alert"), action: form["action"], reason: form["reason"], by: subject, gate: gate(context), source: context.sourceAddress)
            let verb = form["action"] == "dismiss" ? "dismissed" : "acknowledged"
            var message = "\(result.changed.count) alert\(result.changed.count == 1 ? "" : "s") \(verb)."
            if !result.skipped.isEmpty {
                let reasons = Dictionary(grouping: result.skipped, by: \.reason).map { "\($0.value.count) \($0.key)" }.sorted()
                message += " Left as they were: " + reasons.joined(separator: ", ") + "."
            }
            let done = FormState(form: AlertsView.bulkDoneName, values: ["message": [message]])
            return try await refusedForms.redirect(done, to: back, context: context, fragment: "alert-list")
        } catch let error as QilaError where error.code == .invalidInput {
            let refused = FormState(
                form: AlertsView.bulkFormName, values: ["reason": [form["reason"] ?? ""]],
                errors: [error.field ?? "alert": FormState.sentence(label: error.field == "reason" ? "Reason" : nil, error.message)])
            return try await refusedForms.redirect(refused, to: back, context: context, fragment: "alert-list")
        }
    }

    func alertPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (alert, organisation): (SecurityAlert, Organisation?)
        do {
            (alert, organisation) = try await alertDesk.alert(try context.parameters.require("id"), for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such alert")
        }
        let zone = DisplayZone.current
        let evidence = try await store.evidence(of: alert.id)
        let sensor: Sensor? = if let id = alert.sensor { try await store.sensor(id) } else { nil }
        var members: [AlertView.Member] = []
        if alert.kind == .campaign {
            let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
            for member in try await store.alerts(AlertFilter(campaign: alert.id)) {
                members.append(AlertView.Member(id: member.id.description, organisation: names[member.organisation] ?? "?", last: zone.format(member.lastAt), count: member.count))
            }
        }
        // The national campaign alert is the authority's: linked only for those who may read it.
        var campaignLink: String?
        if let campaign = alert.campaign, let parent = try await store.alert(campaign), enforcement.permits(subject, .read, AlertDesk.resource(parent, nil)) {
            campaignLink = "/alerts/\(campaign)"
        }
        let happened = evidence.compactMap { EventTime.find(inJSON: $0.event).map { Date(timeIntervalSince1970: Double($0) / 1000) } }
        let rule = alert.kind == .rule || alert.kind == .correlation ? try await store.detectionRule(alert.rule) : nil
        let kept = try await refusedForms.state(of: AlertView.triageFormName, request, context: context)
        let view = AlertView(
            id: alert.id.description, title: alert.title, severity: alert.severity.rawValue, kind: alert.kind.rawValue,
            rule: rule.map { "\($0.title) (\($0.id))" } ?? alert.rule, organisation: organisation?.name ?? "?", sensor: sensor?.name ?? "-",
            host: alert.host ?? "-", account: alert.account ?? "-", first: zone.format(alert.firstAt), last: zone.format(alert.lastAt),
            status: alert.status.rawValue,
            ruleHref: rule.map { "/rules/" + ($0.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }, count: alert.count,
            reason: alert.reason, explanation: alert.explanation, caseID: alert.caseID?.description, campaignLink: campaignLink,
            fields: alert.fields.map { AlertView.Field(name: $0.name, value: $0.value) }, members: members, hasMembers: !members.isEmpty,
            evidence: evidence.map { item in
                AlertView.Evidence(
                    sequence: item.sequence + 1, received: zone.format(item.receivedAt),
                    happened: EventTime.find(inJSON: item.event).map { zone.format(Date(timeIntervalSince1970: Double($0) / 1000)) }, event: Self.pretty(item.event))
            },
            hasEvidence: !evidence.isEmpty,
            eventSpan: happened.isEmpty ? nil : "\(zone.format(happened.min()!)) to \(zone.format(happened.max()!)) (the events kept as evidence)",
            canTriage: enforcement.permits(subject, .update, AlertDesk.resource(alert, organisation)) && alert.status != .promoted,
            canPromote: organisation?.kind != .authority
                && enforcement.permits(subject, .create, Resource(kind: .incident, owner: alert.organisation, sector: organisation?.sector)),
            triageError: kept.flatMap { $0.errors.values.first }, triageReason: kept?.value("reason") ?? "", zoneName: zone.name)
        return render("alert", alert.title, context, view)
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
            alert = try await alertDesk.triage(idText, action: form["action"], reason: form["reason"], by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
            // What the person can mend is said beside the form, with what they typed.
            let refused = FormState(
                form: AlertView.triageFormName, values: ["reason": [form["reason"] ?? ""]],
                errors: [error.field ?? "reason": FormState.sentence(label: error.field == "reason" ? "Reason" : nil, error.message)])
            return try await refusedForms.redirect(refused, to: "/alerts/\(idText)", context: context, fragment: "triage")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such alert")
        }
        if let caseID = alert.caseID, alert.status == .promoted { return redirect("/cases/\(caseID)") }
        return redirect("/alerts/\(alert.id)")
    }

    // MARK: rules

    var ruleDesk: RuleDesk { RuleDesk(store: store, audit: installation.audit, sets: intake?.sets ?? DetectionSets()) }

    func rulesPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, RuleDesk.resource, source: context.sourceAddress)
        let rules = try await store.detectionRules()
        let query = RuleQuery { request.uri.queryParameters[Substring($0)].map(String.init) }
        var byLevel: [String: Int] = [:]
        for rule in rules where rule.enabled { byLevel[rule.level ?? "none", default: 0] += 1 }
        let chart = BarChart(
            bars: (RuleQuery.levels + ["none"]).map { BarChart.Bar(label: $0, values: ["rules": byLevel[$0] ?? 0]) },
            series: ["rules"], title: "Enabled rules by level", height: 140
        ).svg()
        var message: String?
        if let id = request.uri.queryParameters["stored"].map(String.init), let rule = rules.first(where: { $0.id == id }) {
            message = rule.problems.isEmpty ? "Rule “\(rule.title)” stored and running." : "Rule “\(rule.title)” stored; lint: " + rule.problems.joined(separator: "; ")
        }
        let desk = ruleDesk
        let feeds = try await desk.feeds(of: rules)
        if let stored = request.uri.queryParameters["stored"].map(String.init), let feed = feeds[stored], !feed.isFed {
            message = (message ?? "") + " It cannot fire yet: " + feed.description + "."
        }
        let view = RulesView(
            rules: rules, alerts: try await store.alertOccurrences().mapValues { Int($0) }, feeds: feeds,
            mappings: try await desk.mappings().sorted(), query: query,
            canChange: enforcement.permits(subject, .update, RuleDesk.resource), chart: chart, message: message,
            kept: try await refusedForms.kept(request, context: context))
        return renderer.page("rules", title: "Detection rules", context: context, view: view, enforcement: enforcement)
    }

    /// Exactly the filtered list, every page of it, as CSV.
    func rulesCSV(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, RuleDesk.resource, source: context.sourceAddress)
        let query = RuleQuery { request.uri.queryParameters[Substring($0)].map(String.init) }
        let alerts = try await store.alertOccurrences().mapValues { Int($0) }
        let rules = try await store.detectionRules()
        let feeds = try await ruleDesk.feeds(of: rules)
        var lines = ["id,title,level,file,enabled,alerts,fed by,lint"]
        for rule in query.ordered(rules, alerts: alerts, feeds: feeds) {
            lines.append(
                [
                    rule.id, rule.title, rule.level ?? "", rule.file, rule.enabled ? "yes" : "no", String(alerts[rule.id, default: 0]),
                    feeds[rule.id]?.description ?? "", rule.problems.joined(separator: "; "),
                ]
                    .map(Self.csvField).joined(separator: ","))
        }
        return Self.csv(lines, filename: "qila-rules.csv")
    }

    func rulePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, RuleDesk.resource, source: context.sourceAddress)
        let id = try context.parameters.require("id")
        guard let rule = try await store.detectionRule(id) else { throw Problem(.notFound, "no such rule") }
        // Alerts raised by the rule, by the day of their last occurrence, over the last 30 days.
        let now = Date()
        let alerts = try await store.alerts(AlertFilter(rule: rule.id, since: now.addingTimeInterval(-30 * 86_400), limit: 5_000))
        var perDay = [Int](repeating: 0, count: 30)
        for alert in alerts {
            let day = 29 - Int(now.timeIntervalSince(alert.lastAt) / 86_400)
            if (0..<30).contains(day) { perDay[day] += 1 }
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "d MMM"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let chart = BarChart(
            bars: (0..<30).map { BarChart.Bar(label: formatter.string(from: now.addingTimeInterval(Double($0 - 29) * 86_400)), values: ["alerts": perDay[$0]]) },
            series: ["alerts"], title: "Alerts per day, last 30 days (UTC)", height: 160
        ).svg()
        let view = RuleView(
            id: rule.id, title: rule.title, level: rule.level ?? "-", file: rule.file, yaml: rule.yaml, uploaded: rule.uploadedAt.display,
            enabled: rule.enabled, problems: rule.problems, hasProblems: !rule.problems.isEmpty, alerts: Int((try await store.alertOccurrences())[rule.id, default: 0]),
            chart: chart, alertsHref: "/alerts?status=all&rule=" + (rule.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
            canChange: enforcement.permits(subject, .update, RuleDesk.resource),
            message: request.uri.queryParameters["done"].map { $0 == "enabled" ? "Rule enabled." : "Rule disabled." })
        return renderer.page("rule", title: rule.title, context: context, view: view, enforcement: enforcement)
    }

    func uploadRule(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: RulesView.uploadFormName, fields: try await form(request, context))
        do {
            let rule = try await ruleDesk.upload(yaml: state.value("yaml"), file: state.value("file"), by: subject, gate: gate(context), source: context.sourceAddress)
            try await intake?.reloadRules()
            return redirect("/rules?stored=\(rule.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&q=\(rule.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: RulesView.uploadFields(state: nil))
            return try await refusedForms.redirect(state, to: "/rules", context: context)
        }
    }

    func toggleRule(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let id = try context.parameters.require("id")
        let enabled = form["enabled"] == "true"
        do {
            try await ruleDesk.setEnabled([id], enabled, by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such rule")
        }
        try await intake?.reloadRules()
        return redirect("/rules/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")?done=\(enabled ? "enabled" : "disabled")")
    }

    /// Enables or disables the ticked rules of the list; back to the same page of the same list.
    func bulkRules(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let back = LocalRedirect.path(form["back"] ?? "") ?? "/rules"
        let ids = form.all("rule")
        let enabled = form["action"] == "enable"
        do {
            let count = try await ruleDesk.setEnabled(ids, enabled, by: subject, gate: gate(context), source: context.sourceAddress)
            try await intake?.reloadRules()
            let done = FormState(form: "rule.bulk.done", values: ["message": ["\(count) rule\(count == 1 ? "" : "s") \(enabled ? "enabled" : "disabled")."]])
            return try await refusedForms.redirect(done, to: back, context: context, fragment: "rule-list")
        } catch let error as QilaError where error.code == .invalidInput || error.code == .notFound {
            let refused = FormState(form: RulesView.bulkFormName, errors: ["rule": FormState.sentence(label: nil, error.message)])
            return try await refusedForms.redirect(refused, to: back, context: context, fragment: "rule-list")
        }
    }
}

import Foundation
import Hummingbird
import QilaAccess
import QilaCases
import QilaCore
import QilaIngest
import QilaStore

/// The overview: a dashboard per role, each section built only when the policy lets the subject
/// open what it summarises.
extension OverviewPages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/", use: home)
        return routes
    }

    func home(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        let roles = subject.effectiveRoles
        let organisations = try await store.organisations()
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let visible = organisations.filter { enforcement.permits(subject, .read, .organisation($0)) }
        let counts = Dictionary(grouping: visible, by: \.sector).mapValues(\.count)
        let sectors = try await store.sectors()
        let chart = BarChart(
            bars: sectors.filter { counts[$0.id] != nil }.map { BarChart.Bar(label: $0.name, values: ["organisations": counts[$0.id] ?? 0]) },
            series: ["organisations"], title: "Organisations you can see, by sector", height: 160)
        let now = Date()
        var view = HomeView(
            organisation: subject.organisation.name, roles: roles.sorted().map(\.title), clearance: subject.user.clearance.rawValue,
            clearanceSlug: subject.user.clearance.slug, method: subject.method.rawValue,
            mfa: try await store.credentials(of: subject.user.id)?.mfaEnabled ?? false, zoneName: zone.name, sectorChart: chart.svg())

        // Cases the subject reads, with their next deadlines.
        let incidents = (try? await desk.incidents(for: subject)) ?? []
        let stages = incidents.isEmpty ? [:] : Dictionary(grouping: try await store.allStages(), by: \.caseID)
        var deadlines: [(incident: IncidentCase, stage: String, due: Date, state: StageClock.State)] = []
        for incident in incidents where incident.mergedInto == nil && incident.status != .closed {
            for (regime, clocks) in desk.clocks(of: incident, stages: stages[incident.id] ?? [], now: now) {
                for clock in clocks where [.open, .dueSoon, .overdue].contains(clock.state) {
                    if let due = clock.due, let stage = regime.stages.first(where: { $0.id == clock.stage }) {
                        deadlines.append((incident, stage.title, due, clock.state))
                    }
                }
            }
        }
        deadlines.sort { $0.due < $1.due }
        func link(_ item: (incident: IncidentCase, stage: String, due: Date, state: StageClock.State)) -> HomeView.Link {
            HomeView.Link(
                href: "/cases/\(item.incident.id)", text: "\(item.incident.number) \(item.stage)",
                note: "\(names[item.incident.organisation] ?? "") · due \(zone.format(item.due))", state: item.state.rawValue)
        }

        if roles.contains(.authorityAnalyst), enforcement.permits(subject, .read, Resource(kind: .alert, owner: subject.organisation.id, sector: subject.organisation.sector)) {
            let open = try await store.alerts(AlertFilter(statuses: [.new, .acknowledged], limit: 5_000))
            var bySeverity: [SecurityAlert.Severity: Int] = [:]
            for alert in open { bySeverity[alert.severity, default: 0] += 1 }
            let alertsChart = BarChart(
                bars: SecurityAlert.Severity.allCases.reversed().map { BarChart.Bar(label: $0.rawValue, values: ["open alerts": bySeverity[$0] ?? 0]) },
                series: ["open alerts"], title: "Open alerts by severity", width: 420, height: 160
            ).svg()
            let awaiting = incidents.filter { $0.status == .new }.count
            let overdue = deadlines.filter { $0.state == .overdue }.count
            view.analyst = HomeView.Analyst(
                alertsChart: alertsChart, openAlerts: open.count,
                figures: [
                    .init(label: "new alerts", value: open.filter { $0.status == .new }.count, href: "/alerts?status=new"),
                    .init(label: "reports awaiting triage", value: awaiting, href: "/cases?status=new", tone: awaiting > 0 ? "warn" : nil),
                    .init(label: "stages overdue", value: overdue, href: "/cases?status=open&sort=due", tone: overdue > 0 ? "bad" : nil),
                    .init(label: "stages due in the next day", value: deadlines.filter { $0.state == .dueSoon }.count, href: "/cases?status=open&sort=due"),
                ],
                due: deadlines.prefix(8).map(link), hasDue: !deadlines.isEmpty)
        }

        if subject.organisation.kind != .authority && subject.organisation.kind != .sectorRegulator {
            let own = deadlines.filter { CaseDesk.isReporter(subject, for: $0.incident.organisation) }
            var requests: [HomeView.Link] = []
            for incident in incidents where CaseDesk.isReporter(subject, for: incident.organisation) {
                for request in try await store.requests(of: incident.id) where request.answer == nil {
                    requests.append(
                        .init(href: "/cases/\(incident.id)#requests", text: "\(incident.number): \(request.question)", note: request.due.map { "answer by \(zone.format($0))" }))
                }
            }
            var sensors: [HomeView.Figure] = []
            let showSensors = enforcement.permits(subject, .read, SensorDesk.resource(subject.organisation))
            if showSensors {
                let health = try await store.sensorHealth()
                let mine = try await store.sensors().filter { $0.organisation == subject.organisation.id && $0.enabled }
                let silent = mine.filter { sensor in health[sensor.id]?.lastSeen.map { now.timeIntervalSince($0) > 3600 } ?? true }.count
                sensors = [
                    .init(label: "sensors sending", value: mine.count - silent, href: "/sensors"),
                    .init(label: "silent for over an hour", value: silent, href: "/sensors", tone: silent > 0 ? "bad" : nil),
                ]
            }
            let reports = !(try await reportable(subject)).isEmpty
            if !own.isEmpty || !requests.isEmpty || showSensors || reports {
                view.reporting = HomeView.Organisation(
                    stages: own.prefix(8).map(link), hasStages: !own.isEmpty, requests: Array(requests.prefix(8)), hasRequests: !requests.isEmpty,
                    sensors: sensors, showSensors: showSensors)
            }
        }

        if roles.contains(.sectorRegulator) {
            let sector = incidents.filter { $0.sector == subject.organisation.sector }
            let compliance = try await desk.compliance(for: subject, now: now)
            view.regulator = HomeView.Regulator(
                figures: [
                    .init(label: "open incidents in the sector", value: sector.filter(\.isOpen).count, href: "/cases?status=open"),
                    .init(label: "reported in the last 30 days", value: sector.filter { now.timeIntervalSince($0.awareness) < 30 * 86_400 }.count, href: "/cases"),
                    .init(label: "stages overdue", value: deadlines.filter { $0.state == .overdue }.count, href: "/cases?status=open&sort=due"),
                ],
                compliance: compliance.sorted { ($0.percentOnTime ?? 101) < ($1.percentOnTime ?? 101) }.prefix(8).map { record in
                    .init(
                        href: "/cases/reports#compliance", text: names[record.organisation] ?? "",
                        note: "\(record.percentOnTime.map { "\($0) % on time" } ?? "nothing due yet") · \(record.late) late, \(record.missing) missing",
                        state: record.missing + record.late > 0 ? "overdue" : "on-time")
                },
                hasCompliance: !compliance.isEmpty)
        }

        if roles.contains(.authorityAdmin) || roles.contains(.organisationAdmin) {
            let administered = organisations.filter { enforcement.permits(subject, .update, .organisation($0)) || $0.id == subject.organisation.id }
            let ids = Set(administered.map(\.id))
            let health = try await store.sensorHealth()
            let sensors = try await store.sensors().filter { ids.contains($0.organisation) && $0.enabled }
            let silent = sensors.filter { sensor in health[sensor.id]?.lastSeen.map { now.timeIntervalSince($0) > 3600 } ?? true }.count
            var pending: [HomeView.Link] = []
            for organisation in administered {
                for user in try await store.users(in: organisation.id) where user.kind == .person && !user.disabled {
                    if try await store.credentials(of: user.id)?.passwordHash == nil {
                        pending.append(.init(href: "/admin/users/\(user.id)", text: "\(user.displayName) (\(user.username))", note: organisation.name))
                    }
                }
            }
            let seesCollector = enforcement.permits(subject, .read, Resource(kind: .system, reference: "flows-collector"))
            let head = roles.contains(.authorityAdmin) ? try await store.latestTreeHead() : nil
            view.administrator = HomeView.Administrator(
                figures: [
                    .init(label: "sensors enabled", value: sensors.count, href: "/sensors"),
                    .init(label: "silent for over an hour", value: silent, href: "/sensors", tone: silent > 0 ? "bad" : nil),
                    .init(label: "accounts not yet set up", value: pending.count, href: nil, tone: pending.isEmpty ? nil : "warn"),
                ],
                collector: seesCollector
                    ? (retention.isCollecting
                        ? "NetFlow/IPFIX on UDP \(retention.boundFlowPorts.map(String.init).joined(separator: ", "))\(retention.isLosing() ? ": losing datagrams" : "")"
                        : "not listening (qila serve --flows-listen HOST:PORT)") : "",
                collectorState: retention.isLosing() ? "overdue" : "on-time",
                head: head.map { "\($0.treeSize) entries, signed \(zone.format($0.time))" } ?? (roles.contains(.authorityAdmin) ? "no tree head signed yet" : ""),
                pending: Array(pending.prefix(8)), hasPending: !pending.isEmpty)
        }
        return render("home", "Overview", context, view)
    }
}

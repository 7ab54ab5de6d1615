import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaFlows
import QilaRetention
import QilaStore


/// Pages of traffic-data retention: flow sources, collector health and retention periods
/// (`/flows`), warrants and the queries under them (`/warrants`), and the oversight view.
extension RetentionPages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/flows", use: flowsPage)
        routes.post("/flows/sources", use: createFlowSource)
        routes.post("/flows/sources/:id/delete", use: deleteFlowSource)
        routes.post("/flows/retention", use: setRetention)
        routes.post("/flows/assignments", use: uploadAssignments)
        routes.get("/warrants", use: warrantsPage)
        routes.post("/warrants", use: recordWarrant)
        routes.get("/warrants/oversight", use: warrantOversight)
        routes.get("/warrants/:id", use: warrantPage)
        routes.post("/warrants/:id/decision", use: decideWarrant)
        routes.post("/warrants/:id/revoke", use: revokeWarrant)
        routes.post("/warrants/:id/query", use: queryWarrant)
        routes.get("/warrants/:id/queries/:query/package", use: downloadPackage)
        return routes
    }


    // MARK: flow sources, health, retention

    func flowsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, Resource(kind: .flowSource, owner: subject.organisation.id, reference: "flows"), source: context.sourceAddress)
        let organisations = try await store.organisations().filter(\.keepsOwnRecords)
        let readable = organisations.filter { enforcement.permits(subject, .read, Resource(kind: .flowSource, owner: $0.id, sector: $0.sector)) }
        let names = Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) })
        let visible = Set(readable.map(\.id))
        let health = retention.collector.currentHealth
        let radius = retention.radius.currentCounters
        let retentionDays = try await store.flowRetention()
        // Traffic data stays on the node that collected it: this node's holdings read live, the
        // others' as their last heartbeats described them.
        let now = Date()
        let thisNode = retention.installation.node
        let others = try await store.nodes().filter { $0.id != thisNode.id }
        let holdings = retention.holdings()
        var held: [(node: String, silent: Bool, data: NodeTrafficData)] = holdings.trafficData.map { (thisNode.name, false, $0) }
        for record in others {
            let silent = now.timeIntervalSince(record.heartbeatAt) >= NodeRegistry.silentAfter
            held += (record.health.trafficData ?? []).map { (record.name, silent, $0) }
        }
        // A source's counts add what every node received from it (a router may export to several).
        let senders = (holdings.collector?.senders ?? []) + others.flatMap { $0.health.collector?.senders ?? [] }
        let sources = try await store.flowSources().filter { visible.contains($0.organisation) }.map { source -> FlowsView.Source in
            let counted = senders.filter { sender in
                sender.radius == (source.kind == .radius) && FlowAddress(parsing: sender.address) == FlowAddress(parsing: source.address)
                    && (source.kind == .radius || source.domain == nil || sender.domain == source.domain)
            }
            let seen = !counted.isEmpty
            return FlowsView.Source(
                id: source.id.description, name: source.name, kind: source.kind.title, organisation: names[source.organisation] ?? "",
                address: source.address, domain: source.domain.map(String.init) ?? "any",
                received: seen ? String(counted.reduce(0) { $0 + $1.received }) : "-", lost: seen ? String(counted.reduce(0) { $0 + $1.lost }) : "-",
                faults: seen ? String(counted.reduce(0) { $0 + $1.faults }) : "-",
                canDelete: enforcement.permits(subject, .delete, Resource(kind: .flowSource, owner: source.organisation)))
        }
        let stored = readable.map { organisation -> FlowsView.Stored in
            let parts = held.filter { $0.data.organisation == organisation.id.description && ($0.data.flows > 0 || $0.data.assignments > 0) }
            return FlowsView.Stored(
                id: organisation.id.description, name: organisation.name,
                days: String(retentionDays[organisation.id] ?? retention.settings.defaultRetentionDays), daysError: nil,
                segments: parts.reduce(0) { $0 + $1.data.segments }, flows: parts.reduce(0) { $0 + $1.data.flows },
                assignments: parts.reduce(0) { $0 + $1.data.assignments },
                megabytes: String(format: "%.1f", Double(parts.reduce(0) { $0 + $1.data.bytes }) / 1_048_576),
                nodes: parts.map { $0.silent ? "\($0.node) (silent)" : $0.node }.joined(separator: ", "),
                canSet: enforcement.permits(subject, .update, FlowSourceDesk.retentionResource(organisation)))
        }
        let creatable = readable.filter { enforcement.permits(subject, .create, FlowSourceDesk.resource($0)) }
        let seesCollector = enforcement.permits(subject, .read, Resource(kind: .system, reference: "flows-collector"))
        let collectors = seesCollector ? others.compactMap { record -> FlowsView.NodeCollectorRow? in
            guard let collector = record.health.collector else { return nil }
            let silent = now.timeIntervalSince(record.heartbeatAt) >= NodeRegistry.silentAfter
            return FlowsView.NodeCollectorRow(
                node: record.name, state: record.health.stopped ? "stopped" : silent ? "silent" : "up", up: !silent && !record.health.stopped,
                flowPorts: collector.flowPorts.isEmpty ? "off" : collector.flowPorts.map(String.init).joined(separator: ", "),
                radiusPorts: collector.radiusPorts.isEmpty ? "off" : collector.radiusPorts.map(String.init).joined(separator: ", "),
                stored: collector.storedFlows, dropped: collector.droppedDatagrams, diskFull: collector.diskFull, losing: record.health.flowsLosing)
        } : []
        let collector = FlowsView.Collector(
            collecting: retention.isCollecting, flowPorts: retention.boundFlowPorts.map(String.init).joined(separator: ", "),
            accounting: retention.isReceivingAccounting, radiusPorts: retention.boundRadiusPorts.map(String.init).joined(separator: ", "),
            diskFull: health.diskFull, seesCollector: seesCollector,
            unknownExporters: seesCollector ? health.unknownExporters.values.reduce(0, +) + radius.unknown.values.reduce(0, +) : 0,
            dropped: health.droppedDatagrams, hasDropped: health.droppedDatagrams > 0,
            kernelDrops: health.kernelDrops.sorted { $0.key < $1.key }.map { "UDP \($0.key): \($0.value)" }.joined(separator: ", "),
            handoffOverflow: health.handoffOverflow, lastError: seesCollector ? health.lastError : nil)
        // Datagrams dropped before decoding: their flows were not retained.
        let losses = seesCollector ? retention.recentLosses.reversed().prefix(20).map { loss in
            FlowsView.Loss(
                from: RFC3339.format(loss.from), to: RFC3339.format(loss.to), datagrams: loss.datagrams,
                place: (loss.kernelDrops.sorted { $0.key < $1.key }.map { "kernel, UDP \($0.key): \($0.value)" }
                    + (loss.handoffOverflow > 0 ? ["hand-off to the decoder: \(loss.handoffOverflow)"] : [])).joined(separator: "; "))
        } : []
        var message: String?
        if let id = request.uri.queryParameters["retention"].flatMap({ OrganisationID(String($0)) }), let row = stored.first(where: { $0.id == id.description }) {
            message = "\(row.name) keeps traffic data for \(row.days) days."
        } else if let name = request.uri.queryParameters["registered"].map(String.init), let source = sources.first(where: { $0.id == name }) {
            message = "\(source.kind) \(source.name) registered for \(source.organisation)."
        }
        let view = FlowsView(
            node: thisNode.name, collector: collector, otherCollectors: collectors, losing: seesCollector && retention.isLosing(), losses: Array(losses),
            chart: collectorChart(), sources: sources,
            organisations: stored, creatable: creatable, message: message, kept: try await refusedForms.kept(request, context: context))
        return renderer.page("flows", title: "Traffic data", context: context, view: view, enforcement: enforcement)
    }

    /// Flows stored and lost per minute over the last hour, from the collector's samples.
    func collectorChart() -> String {
        let samples = retention.recentSamples
        let now = Date()
        var stored = [Int](repeating: 0, count: 60)
        var lost = [Int](repeating: 0, count: 60)
        for (previous, sample) in zip(samples, samples.dropFirst()) {
            let minute = 59 - Int(now.timeIntervalSince(sample.time) / 60)
            guard (0..<60).contains(minute) else { continue }
            stored[minute] += max(0, sample.stored - previous.stored)
            lost[minute] += max(0, sample.lost - previous.lost) + max(0, sample.refused - previous.refused)
        }
        let bars = (0..<60).map { index in
            BarChart.Bar(label: "-\(59 - index)m", values: ["stored": stored[index], "lost": lost[index]])
        }
        return BarChart(bars: bars, series: ["stored", "lost"], title: "Flows stored and lost per minute, last hour").svg()
    }

    func createFlowSource(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: FlowsView.registerFormName, fields: try await form(request, context))
        let draft = FlowSourceDesk.Draft(
            organisation: state.value("organisation"), kind: state.value("kind"), name: state.value("name"), address: state.value("address"),
            domain: state.value("domain"), secret: state.value("secret"))
        do {
            let source = try await retention.sources.register(draft, by: subject, gate: gate(context), source: context.sourceAddress)
            try await retention.reloadSources()
            return redirect("/flows?registered=\(source.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: FlowsView.registerFields(organisations: [], state: nil))
            return try await refusedForms.redirect(FlowsView.withoutSecret(state), to: "/flows", context: context)
        }
    }

    func deleteFlowSource(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        guard let id = FlowSource.ID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such flow source") }
        try await retention.sources.remove(id, by: subject, gate: gate(context), source: context.sourceAddress)
        try await retention.reloadSources()
        return redirect("/flows")
    }

    func setRetention(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: FlowsView.retentionFormName, fields: try await form(request, context))
        do {
            let (organisation, _) = try await retention.sources.setRetention(
                state.value("days"), organisation: state.value("organisation"), by: subject, gate: gate(context), source: context.sourceAddress)
            return redirect("/flows?retention=\(organisation.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: [FieldView("days", label: "Retention", state: nil)])
            return try await refusedForms.redirect(state, to: "/flows", context: context, fragment: "retention-\(state.value("organisation"))")
        }
    }

    /// NAT port-block logs pasted or uploaded as text (CSV or syslog), for the organisation's own NAT.
    func uploadAssignments(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: FlowsView.importFormName, fields: try await form(request, context))
        do {
            let imported = try await retention.sources.importAssignments(
                state.value("log"), organisation: state.value("organisation"), by: subject, gate: gate(context), source: context.sourceAddress)
            // What was stored and the lines that were not, shown once on the page the browser is sent to.
            let result = FormState(
                form: FlowsView.importedName,
                values: ["organisation": [imported.organisation.name], "records": [String(imported.records)], "lineError": Array(imported.lineErrors.prefix(20))])
            return try await refusedForms.redirect(result, to: "/flows", context: context, fragment: "import-result")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: FlowsView.importFields(organisations: [], state: nil))
            return try await refusedForms.redirect(state, to: "/flows", context: context)
        }
    }

    // MARK: warrants

    func warrantsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let roles = subject.effectiveRoles
        guard roles.contains(.investigator) || roles.contains(.legalOfficer) else {
            if enforcement.permits(subject, .read, Resource(kind: .warrantStatistics, reference: "warrant-statistics")) { return redirect("/warrants/oversight") }
            try await enforcement.require(subject, .read, Resource(kind: .warrant, owner: subject.organisation.id, reference: "warrants"), source: context.sourceAddress)
            throw Problem(.forbidden, "warrants are for investigators and providers' legal officers")
        }
        let canRecord = roles.contains(.investigator)
        if canRecord, let first = try await secondFactorFirst(subject, .create, Resource(kind: .warrant, person: subject.user.id, reference: "warrants"), next: request.uri.description, reason: "warrants") {
            return first
        }
        let organisations = try await store.organisations()
        let view = WarrantsView(
            warrants: try await retention.desk.warrants(for: subject, policy: installation.policy),
            names: Dictionary(uniqueKeysWithValues: organisations.map { ($0.id, $0.name) }), canRecord: canRecord,
            providers: organisations.filter { $0.kind != .authority },
            state: try await refusedForms.state(of: WarrantsView.recordFormName, request, context: context))
        return renderer.page("warrants", title: "Warrants", context: context, view: view, enforcement: enforcement)
    }

    func recordWarrant(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        var state = FormState(form: WarrantsView.recordFormName, fields: form)
        let zone = DisplayZone.current
        let draft = WarrantDesk.Draft(
            provider: state.value("provider"), court: state.value("court"), number: state.value("number"), issuedAt: zone.instant(state.value("issuedAt")),
            expiresAt: zone.instant(state.value("expiresAt")), agency: state.value("agency"), addresses: state.value("addresses"),
            subscribers: state.value("subscribers"), disclosesSubscribers: state.value("disclosesSubscribers") == "1",
            windowStart: zone.instant(state.value("windowStart")), windowEnd: zone.instant(state.value("windowEnd")))
        return try await withReauthentication("/warrants", for: subject, keeping: state, reason: "warrants", context: context) {
            do {
                let warrant = try await retention.desk.record(draft, by: subject, gate: gate(context))
                return redirect("/warrants/\(warrant.id)")
            } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict {
                state.refuse(error, fields: WarrantsView.recordFields(providers: [], state: nil))
                return try await refusedForms.redirect(state, to: "/warrants", context: context)
            }
        }
    }

    func loadWarrant(_ context: QilaRequestContext, _ subject: Subject) async throws -> Warrant {
        guard let id = WarrantID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such warrant") }
        do {
            return try await retention.desk.warrant(id, for: subject, gate: gate(context))
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, "no such warrant")
        }
    }

    func warrantPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let kept = try await refusedForms.state(of: Self.warrantDoneName, request, context: context)
        return try await warrantView(
            context, try await loadWarrant(context, subject), message: kept.map { $0.value("message") }, error: kept.flatMap { $0.errors["note"] })
    }

    /// What happened to a warrant (or why a change was refused), shown once on its page.
    static let warrantDoneName = "warrant.done"

    func warrantView(
        _ context: QilaRequestContext, _ warrant: Warrant, message: String? = nil, error: String? = nil, result: WarrantDesk.QueryResult? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let subject = try subject(context)
        let provider = try await store.organisation(warrant.provider)
        let investigator = try await store.user(warrant.investigator)
        let decider: User? = if let id = warrant.decidedBy { try await store.user(id) } else { nil }
        let isInvestigator = warrant.investigator == subject.user.id
        let isLegal = subject.effectiveRoles.contains(.legalOfficer) && subject.organisation.id == warrant.provider
        let queries = try await retention.desk.queries(of: warrant.id, for: subject, gate: gate(context))
        let details = WarrantView.Details(
            id: warrant.id.description, number: warrant.number, court: warrant.court, agency: warrant.agency, provider: provider?.name ?? "",
            issued: warrant.issuedAt.display, expires: warrant.expiresAt.display, windowStart: warrant.windowStart.display,
            windowEnd: warrant.windowEnd.display, status: warrant.status.title, statusSlug: warrant.status.rawValue,
            investigator: investigator?.displayName ?? "", discloses: warrant.disclosesSubscribers,
            decidedBy: warrant.decidedAt == nil ? nil : decider?.displayName, decided: warrant.decidedAt?.display,
            note: warrant.decisionNote.flatMap { $0.isEmpty ? nil : $0 })
        let rows = result?.rows ?? []
        let view = WarrantView(
            warrant: details, addresses: warrant.addresses, subscribers: warrant.subscribers, canDecide: isLegal && warrant.status == .pending,
            canRevoke: (isLegal || isInvestigator) && warrant.status == .approved, canQuery: isInvestigator && warrant.isInForce(at: Date()),
            queries: queries.map { query in
                WarrantView.Query(
                    id: query.id.description, time: query.time.display, identifiers: (query.addresses + query.subscribers).joined(separator: ", "),
                    sha: String(query.manifestSHA256.prefix(16)), records: query.resultCount, elapsed: query.elapsedMilliseconds, canDownload: isInvestigator)
            },
            hasQueries: !queries.isEmpty,
            message: result.map { result in
                let places = result.nodes.count > 1 ? " on \(result.nodes.count) nodes (\(result.nodes.map { "\($0.name): \($0.records)" }.joined(separator: ", ")))" : ""
                return "\(result.rows.count) records found\(places) in \(result.query.elapsedMilliseconds) ms; the signed package is ready."
            } ?? message,
            error: error,
            results: rows.prefix(200).map { row in
                WarrantView.Record(
                    start: row.start, source: row.source, destination: row.destination,
                    translated: row.translatedSource.map { "\($0):\(row.translatedSourcePort ?? 0)" } ?? "", subscriber: row.subscriber ?? "",
                    matched: row.matched, protocol: Int(row.protocolNumber), sourcePort: Int(row.sourcePort), destinationPort: Int(row.destinationPort),
                    octets: Int64(row.octets))
            },
            hasResults: !rows.isEmpty, more: rows.count > 200 ? rows.count - 200 : nil)
        return render("warrant", "Warrant \(warrant.number)", context, view, status: status)
    }

    func decideWarrant(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await changeWarrant(request, context) { warrant, form, subject in
            let decided = try await retention.desk.decide(warrant.id, approve: form["decision"] == "approve", note: form["note"], by: subject, gate: gate(context))
            return "The warrant is \(decided.status.title.lowercased())."
        }
    }

    func revokeWarrant(_ request: Request, context: QilaRequestContext) async throws -> Response {
        try await changeWarrant(request, context) { warrant, form, subject in
            _ = try await retention.desk.revoke(warrant.id, note: form["note"] ?? "", by: subject, gate: gate(context))
            return "The warrant is revoked; no more queries run under it."
        }
    }

    /// A change to a warrant from its page: confirmed identity first, then the change, then back
    /// to the page (post-redirect-get) with what happened or what was wrong.
    func changeWarrant(
        _ request: Request, _ context: QilaRequestContext, _ change: (Warrant, FormFields, Subject) async throws -> String
    ) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let warrant = try await loadWarrant(context, subject)
        let page = "/warrants/\(warrant.id)"
        return try await withReauthentication(page, for: subject) {
            var done = FormState(form: Self.warrantDoneName)
            do {
                done.values["message"] = [try await change(warrant, form, subject)]
            } catch let error as QilaError where error.code != .forbidden {
                done.errors["note"] = FormState.sentence(label: nil, error.message)
            }
            return try await refusedForms.redirect(done, to: page, context: context, fragment: "main")
        }
    }

    /// Runs a query under the warrant and shows the records it found (the first 200; all are in
    /// the signed package). Answered in place: the records are not kept anywhere else.
    func queryWarrant(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await form(request, context)
        let warrant = try await loadWarrant(context, subject)
        let identifiers = form.all("identifier")
        return try await withReauthentication("/warrants/\(warrant.id)", for: subject) {
            do {
                let zone = DisplayZone.current
                let start = try (form["windowStart"]).flatMap { $0.isEmpty ? nil : try WarrantDesk.date(zone.instant($0), field: "windowStart") }
                let end = try (form["windowEnd"]).flatMap { $0.isEmpty ? nil : try WarrantDesk.date(zone.instant($0), field: "windowEnd") }
                let result = try await retention.desk.query(
                    warrant.id, addresses: identifiers.filter { warrant.addresses.contains($0) },
                    subscribers: identifiers.filter { warrant.subscribers.contains($0) }, windowStart: start, windowEnd: end, by: subject, gate: gate(context))
                return try await warrantView(context, warrant, result: result)
            } catch let error as QilaError where error.code != .forbidden {
                return try await warrantView(context, warrant, error: error.description, status: error.code == .unavailable ? .serviceUnavailable : .badRequest)
            }
        }
    }

    func downloadPackage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let warrant = try await loadWarrant(context, subject)
        guard let queryID = WarrantQueryID(try context.parameters.require("query")) else { throw Problem(.notFound, "no such export") }
        return try await withReauthentication("/warrants/\(warrant.id)", for: subject) {
            let bytes = try await retention.desk.package(queryID, of: warrant.id, for: subject, gate: gate(context))
            var headers = HTTPFields()
            headers[.contentType] = "application/x-tar"
            let safeNumber = String(warrant.number.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "-" })
            headers[.contentDisposition] = "attachment; filename=\"warrant-\(safeNumber)-\(queryID.description.prefix(8)).tar\""
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    func warrantOversight(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let statistics = try await retention.desk.statistics(for: subject, gate: gate(context))
        let months = Set(statistics.warrantsByMonth.keys).union(statistics.queriesByMonth.keys).sorted().suffix(12)
        let chart = BarChart(
            bars: months.map { BarChart.Bar(label: $0, values: ["warrants": statistics.warrantsByMonth[$0] ?? 0, "queries": statistics.queriesByMonth[$0] ?? 0]) },
            series: ["warrants", "queries"], title: "Warrants recorded and queries run per month")
        let hours = statistics.decisionHours.sorted()
        let median = hours.isEmpty ? nil : hours.count % 2 == 1 ? hours[hours.count / 2] : (hours[hours.count / 2 - 1] + hours[hours.count / 2]) / 2
        let view = WarrantOversightView(
            statuses: Warrant.Status.allCases.map { WarrantOversightView.Status(title: $0.title, count: statistics.byStatus[$0] ?? 0) },
            queries: statistics.queries, records: statistics.records, afterExpiry: statistics.queriesAfterExpiry, decided: hours.count,
            medianDecision: median.map { String(format: "%.1f h", $0) } ?? "—", chart: chart.svg())
        return render("warrant-oversight", "Warrant oversight", context, view)
    }
}

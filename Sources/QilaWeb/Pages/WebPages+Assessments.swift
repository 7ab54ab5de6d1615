import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaAssess
import QilaCore
import QilaStore

/// Assessment campaigns (`/assessments`): the list and the launch form, one campaign with who
/// stands where and the sector and national figures, and one organisation's questionnaire with
/// its auditor's attestations, gaps and exports.
struct AssessmentPages: PageCollection {
    let kit: PageKit
    let desk: CampaignDesk

    static let navigation = [
        NavigationEntry(title: "Assessments", path: "/assessments", order: 38) { subject, enforcement in takesPart(subject, enforcement) }
    ]

    /// Whoever answers or audits assessments of its own organisation, or may see figures of some.
    static func takesPart(_ subject: Subject, _ enforcement: PolicyEnforcementPoint) -> Bool {
        let own = subject.organisation
        return enforcement.permits(subject, .read, Resource(kind: .assessment, owner: own.id, sector: own.sector, reference: "assessments"))
            || enforcement.permits(subject, .read, Resource(kind: .assessmentStatistics, sector: own.sector, reference: "assessments"))
    }

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/assessments", use: campaignsPage)
        routes.post("/assessments", use: launch)
        routes.post("/assessments/minimum-group", use: setMinimumGroup)
        routes.post("/assessments/frameworks", use: addFramework)
        routes.post("/assessments/directives", use: issueDirective)
        routes.get("/assessments/frameworks/:framework/export", use: exportFramework)
        routes.get("/assessments/campaigns/:id", use: campaignPage)
        routes.post("/assessments/campaigns/:id/close", use: close)
        routes.get("/assessments/campaigns/:id/figures.csv", use: figuresCSV)
        routes.get("/assessments/campaigns/:id/organisations/:organisation", use: questionnairePage)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/answers", use: saveAnswers)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/submit", use: submit)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/attest", use: attest)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/reopen", use: reopen)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/acknowledge", use: acknowledge)
        routes.post("/assessments/campaigns/:id/organisations/:organisation/assign", use: assign)
        routes.get("/assessments/campaigns/:id/organisations/:organisation/evidence/:sha256", use: evidence)
        routes.get("/assessments/campaigns/:id/organisations/:organisation/results.json", use: resultsJSON)
        routes.get("/assessments/campaigns/:id/organisations/:organisation/poam.json", use: planJSON)
        routes.get("/assessments/campaigns/:id/organisations/:organisation/answers.csv", use: answersCSV)
        return routes
    }

    func campaignID(_ context: QilaRequestContext) throws -> CampaignID {
        guard let id = CampaignID(try context.parameters.require("id")) else { throw Problem(.notFound, "no such campaign") }
        return id
    }

    func organisationID(_ context: QilaRequestContext) throws -> OrganisationID {
        guard let id = OrganisationID(try context.parameters.require("organisation")) else { throw Problem(.notFound, "no such assessment") }
        return id
    }

    /// Desk refusals that are not about a field: not found stays not found, a conflict is a 409.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    static func campaignHref(_ id: CampaignID) -> String { "/assessments/campaigns/\(id)" }
    static func assessmentHref(_ id: CampaignID, _ organisation: OrganisationID) -> String { "/assessments/campaigns/\(id)/organisations/\(organisation)" }

    // MARK: campaigns

    /// The scopes the subject may launch in: national (value "") and the sectors its policy reaches.
    func launchScopes(_ subject: Subject, sectors: [Sector]) -> [(value: String, label: String)] {
        var scopes: [(String, String)] = []
        if enforcement.permits(subject, .create, Resource(kind: .assessmentCampaign, reference: "campaign:new")) { scopes.append(("", "National (the authority's)")) }
        for sector in sectors where enforcement.permits(subject, .create, Resource(kind: .assessmentCampaign, sector: sector.id, reference: "campaign:new")) {
            scopes.append((sector.id.rawValue, sector.name))
        }
        return scopes
    }

    func campaignsPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard Self.takesPart(subject, enforcement) else {
            try await enforcement.require(subject, .read, Resource(kind: .assessmentStatistics, reference: "assessments"), source: context.sourceAddress)
            throw Problem(.forbidden, "this account takes no part in assessments")
        }
        let zone = DisplayZone.current
        let campaigns = try await desk.campaigns(for: subject)
        let sectors = try await store.sectors()
        let sectorNames = Dictionary(uniqueKeysWithValues: sectors.map { ($0.id, $0.name) })
        let library = try await desk.frameworks.library()
        let mine = Dictionary(try await store.participations(of: subject.organisation.id).map { ($0.campaign, $0) }) { $1 }
        var rows: [AssessmentCampaignsView.Row] = []
        for campaign in campaigns {
            let participants = try await store.participants(campaign.id)
            let framework = library.framework(campaign.framework)
            var own: String?
            if let participant = mine[campaign.id] {
                if let submitted = participant.submittedAt {
                    own = submitted > campaign.dueAt ? "Submitted late" : "Submitted"
                } else {
                    let answered = try await store.answers(campaign.id, subject.organisation.id).count
                    own = answered == 0 ? "Not started" : "Draft, \(answered) answered"
                }
            }
            rows.append(
                .init(
                    href: Self.campaignHref(campaign.id), title: campaign.title,
                    framework: campaign.directive == nil ? "\(framework?.name ?? campaign.framework) \(campaign.frameworkVersion)" : "Directive",
                    cycle: campaign.cycle,
                    scope: campaign.sector.map { sectorNames[$0] ?? $0.rawValue } ?? "National", due: zone.format(campaign.dueAt),
                    submitted: "\(participants.filter { $0.submittedAt != nil }.count) of \(participants.count)", mine: own,
                    mineHref: own == nil ? nil : Self.assessmentHref(campaign.id, subject.organisation.id), closed: campaign.closedAt != nil,
                    reference: campaign.directive?.reference))
        }
        let kept = try await refusedForms.kept(request, context: context)
        let scopes = launchScopes(subject, sectors: sectors)
        var launchForm: FormView?
        var directiveForm: FormView?
        if !scopes.isEmpty {
            let refused = kept?.form == AssessmentCampaignsView.launchFormName ? kept : nil
            let regulated = Set(scopes.map(\.value))
            let candidates = try await store.organisations().filter {
                ![.authority, .sectorRegulator].contains($0.kind) && (regulated.contains("") || regulated.contains($0.sector.rawValue))
            }
            let audiences: [(value: String, label: String)] =
                sectors.filter { regulated.contains("") || regulated.contains($0.id.rawValue) }.map { ("sector:\($0.id)", "Every organisation in \($0.name)") }
                + Organisation.Criticality.allCases.map { ("criticality:\($0.rawValue)", "\($0.title) organisations") }
            launchForm = FormView(
                action: "/assessments", submit: "Launch campaign",
                fields: AssessmentCampaignsView.launchFields(
                    frameworks: library.frameworks, scopes: scopes, audiences: audiences, organisations: candidates, zone: zone, state: refused),
                state: refused, id: "launch-campaign")
            let refusedDirective = kept?.form == AssessmentCampaignsView.directiveFormName ? kept : nil
            directiveForm = FormView(
                action: "/assessments/directives", submit: "Issue directive",
                fields: AssessmentCampaignsView.directiveFields(
                    scopes: scopes, audiences: audiences, organisations: candidates, zone: zone, state: refusedDirective),
                state: refusedDirective, id: "issue-directive")
        }
        let minimum = try await desk.minimumGroup()
        var minimumForm: FormView?
        if enforcement.permits(subject, .administer, Resource(kind: .system, reference: "setting:\(CampaignDesk.minimumGroupSetting)")) {
            let refused = kept?.form == AssessmentCampaignsView.minimumGroupFormName ? kept : nil
            minimumForm = FormView(
                action: "/assessments/minimum-group", submit: "Save", fields: AssessmentCampaignsView.minimumGroupFields(current: minimum, state: refused),
                state: refused, id: "minimum-group-form")
        }
        let shipped = Set(try FrameworkLibrary.shipped().frameworks.map(\.id))
        let frameworkRows = library.frameworks.map { framework in
            AssessmentCampaignsView.FrameworkRow(
                id: framework.id, name: framework.name, version: framework.version, requirements: framework.answered.count,
                origin: shipped.contains(framework.id) ? "shipped" : "added by the authority",
                exports: FrameworkExport.Format.allCases.map { .init(href: "/assessments/frameworks/\(framework.id)/export?format=\($0.rawValue)", title: $0.rawValue.uppercased()) })
        }
        let refusedFramework = kept?.form == AssessmentCampaignsView.frameworkFormName ? kept : nil
        let view = AssessmentCampaignsView(
            frameworks: frameworkRows, canAddFramework: enforcement.permits(subject, .create, FrameworkDesk.resource),
            frameworkError: refusedFramework?.errors["file"],
            rows: rows, hasRows: !rows.isEmpty, launchForm: launchForm, directiveForm: directiveForm, minimumGroupForm: minimumForm, minimumGroup: minimum,
            message: kept?.form == AssessmentCampaignsView.doneName ? kept?.value("message") : nil)
        return renderer.page("assessments", title: "Assessments", context: context, view: view, enforcement: enforcement)
    }

    func launch(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        var state = FormState(form: AssessmentCampaignsView.launchFormName, fields: try await form(request, context))
        do {
            let scope = state.value("scope")
            let sector: SectorID? = scope.isEmpty ? nil : SectorID(rawValue: scope)
            let audience = Self.audience(state, sector: sector)
            let campaign = try await desk.launch(
                CampaignDesk.LaunchText(
                    title: state.value("title"), framework: state.value("framework"), requirements: state.value("requirements"),
                    targets: state.value("targets"), cycle: state.value("cycle"), sector: sector, audience: audience,
                    opensAt: zone.instant(state.value("opensAt")), dueAt: zone.instant(state.value("dueAt")), reminderDays: state.value("reminderDays"),
                    graceDays: state.value("graceDays")),
                by: subject, gate: gate(context), source: context.sourceAddress)
            return redirect(Self.campaignHref(campaign.id))
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(
                error,
                fields: AssessmentCampaignsView.launchFields(frameworks: [], scopes: [], audiences: [], organisations: [], zone: zone, state: nil),
                renamed: ["organisations": "audience"])
            return try await refusedForms.redirect(state, to: "/assessments", context: context)
        }
    }

    func setMinimumGroup(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: AssessmentCampaignsView.minimumGroupFormName, fields: try await form(request, context))
        do {
            try await desk.setMinimumGroup(state.value("minimumGroup"), by: subject, gate: gate(context), source: context.sourceAddress)
            return try await refusedForms.redirect(
                FormState(form: AssessmentCampaignsView.doneName, values: ["message": ["Groups smaller than \(try await desk.minimumGroup()) now show counts only."]]), to: "/assessments",
                context: context, fragment: "assessments-message")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: AssessmentCampaignsView.minimumGroupFields(current: 0, state: nil))
            return try await refusedForms.redirect(state, to: "/assessments", context: context)
        }
    }

    /// The audience a launch or directive form names: organisations ticked, else its choice, else the scope's sector.
    static func audience(_ state: FormState, sector: SectorID?) -> CampaignDesk.Audience {
        let audienceText = state.value("audience")
        let chosen = state.values("organisation").compactMap(OrganisationID.init)
        if !chosen.isEmpty { return .organisations(chosen) }
        if audienceText.hasPrefix("criticality:"), let criticality = Organisation.Criticality(rawValue: String(audienceText.dropFirst(12))) {
            return .criticality(criticality)
        }
        if audienceText.hasPrefix("sector:") { return .sector(SectorID(rawValue: String(audienceText.dropFirst(7)))) }
        if let sector { return .sector(sector) }
        // Nobody chosen: the desk refuses it, after the policy, naming the field.
        return .organisations([])
    }

    func issueDirective(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        var state = FormState(form: AssessmentCampaignsView.directiveFormName, fields: try await form(request, context))
        do {
            let scope = state.value("scope")
            let sector: SectorID? = scope.isEmpty ? nil : SectorID(rawValue: scope)
            let directive = try await desk.issue(
                CampaignDesk.DirectiveInput(
                    reference: state.value("reference"), title: state.value("title"), body: state.value("body"), requirements: state.value("requirements"),
                    tlp: TLP.allCases.first { $0.slug == state.value("tlp") } ?? .red, sector: sector, audience: Self.audience(state, sector: sector),
                    opensAt: zone.instant(state.value("opensAt")), dueAt: zone.instant(state.value("dueAt")), reminderDays: state.value("reminderDays"),
                    graceDays: state.value("graceDays")),
                by: subject, gate: gate(context), source: context.sourceAddress)
            return redirect(Self.campaignHref(directive.id))
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(
                error, fields: AssessmentCampaignsView.directiveFields(scopes: [], audiences: [], organisations: [], zone: zone, state: nil),
                renamed: ["organisations": "audience"])
            return try await refusedForms.redirect(state, to: "/assessments", context: context)
        }
    }

    // MARK: frameworks

    func addFramework(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let form = try await multipartForm(request, context, sending: "the framework")
        let frameworks = FrameworkDesk(store: store, audit: installation.audit)
        do {
            guard let file = form.file("file"), !file.bytes.isEmpty else { throw QilaError.invalid("is required: a framework's YAML file", field: "file") }
            guard let text = String(validating: file.bytes, as: UTF8.self) else { throw QilaError.invalid("must be UTF-8 text (YAML)", field: "file") }
            let added = try await frameworks.add(
                yaml: text, named: file.filename ?? "framework.yaml", by: subject, gate: gate(context), source: context.sourceAddress)
            return try await refusedForms.redirect(
                FormState(
                    form: AssessmentCampaignsView.doneName,
                    values: ["message": ["Added \(added.name) \(added.version) (\(added.answered.count) requirements); campaigns may use it now."]]),
                to: "/assessments", context: context, fragment: "assessments-message")
        } catch let error as QilaError where error.code == .invalidInput {
            let state = FormState(
                form: AssessmentCampaignsView.frameworkFormName, errors: ["file": error.sentence(naming: "The framework file")])
            return try await refusedForms.redirect(state, to: "/assessments", context: context, fragment: "add-framework")
        }
    }

    func exportFramework(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, FrameworkDesk.resource, source: context.sourceAddress)
        let id = try context.parameters.require("framework")
        guard let format = FrameworkExport.Format(rawValue: request.uri.queryParameters["format"].map(String.init) ?? "yaml") else {
            throw Problem(.badRequest, "format must be csv, yaml or oscal", location: "query format")
        }
        guard let framework = try await desk.frameworks.framework(id) else { throw Problem(.notFound, "no such framework") }
        let text = try FrameworkExport.render(framework, as: format)
        let (type, suffix) = format == .csv ? ("text/csv", "csv") : format == .yaml ? ("application/yaml", "yaml") : ("application/json", "json")
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "attachment; filename=\"\(framework.id)-\(framework.version).\(suffix)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: one campaign

    func campaignPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let zone = DisplayZone.current
        let id = try campaignID(context)
        let rollup: Rollup?
        let campaign: AssessmentCampaign
        do {
            rollup = try await desk.rollup(id, for: subject, gate: gate(context))
            campaign = rollup!.campaign
        } catch let error as QilaError where error.code == .forbidden || error.code == .notFound {
            // Organisations of a campaign they are not in, and their auditors, see no figures but the campaign.
            campaign = try await mapped { try await desk.campaign(id, for: subject) }
            rollup = nil
        }
        let (framework, profile) = try await desk.framework(of: campaign)
        let sectors = Dictionary(uniqueKeysWithValues: try await store.sectors().map { ($0.id, $0.name) })
        let standings = try await desk.standings(campaign, for: subject)
        let acknowledgements = campaign.directive == nil ? [:] : try await store.acknowledgements(campaign.id)
        let canRunIt = enforcement.permits(subject, .update, Resource(kind: .assessmentCampaign, sector: campaign.sector, reference: "campaign:\(campaign.id)"))
        let participants = standings.map { standing in
            let submitted = standing.participant.submittedAt
            let status: (String, String)
            if let submitted {
                status = submitted > campaign.dueAt ? ("Submitted late", "status-late") : ("Submitted", "status-done")
            } else if standing.answered == 0 {
                status = Date() > campaign.dueAt ? ("Missing", "status-missing") : ("Not started", "status-open")
            } else {
                status = Date() > campaign.dueAt ? ("Draft, overdue", "status-missing") : ("Draft", "status-open")
            }
            var alerts: [String] = []
            if let time = standing.alerts["reminder"] { alerts.append("reminded \(zone.format(time))") }
            if let notice = standing.notice { alerts.append("notice \(notice.number)") }
            return AssessmentCampaignView.Participant(
                name: standing.organisation.name, href: Self.assessmentHref(campaign.id, standing.organisation.id),
                sector: sectors[standing.participant.sector] ?? standing.participant.sector.rawValue, status: status.0, statusClass: status.1,
                progress: "\(standing.answered) of \(standing.asked)", audited: "\(standing.attested) of \(standing.answered)",
                alerts: alerts.joined(separator: "; "),
                acknowledged: campaign.directive == nil ? "" : acknowledgements[standing.organisation.id].map { zone.format($0.time) } ?? "not yet",
                noticeHref: standing.notice.map { "/notices/\($0.id)" }, canReopen: canRunIt && submitted != nil)
        }
        var groups: [AssessmentCampaignView.Group] = []
        var heatmap: String?
        var trend: String?
        var distribution: String?
        if let rollup {
            func group(_ name: String, _ figures: GroupFigures) -> AssessmentCampaignView.Group {
                .init(
                    name: name, asked: String(figures.asked), submitted: String(figures.submitted), late: String(figures.late),
                    audited: String(figures.fullyAudited), lowerQuartile: percent(figures.selfDeclared?.lowerQuartile), median: percent(figures.selfDeclared?.median),
                    upperQuartile: percent(figures.selfDeclared?.upperQuartile), auditedMedian: percent(figures.audited?.median), withheld: figures.withheld)
            }
            if let national = rollup.national { groups.append(group("All sectors", national)) }
            let ordered = rollup.sectors.sorted { (sectors[$0.key] ?? $0.key.rawValue) < (sectors[$1.key] ?? $1.key.rawValue) }
            groups += ordered.map { group(sectors[$0.key] ?? $0.key.rawValue, $0.value) }
            let rows = rollup.heatmapRows
            if !rows.isEmpty, ordered.contains(where: { !$0.value.nodes.isEmpty }) {
                heatmap = HeatmapChart(
                    rows: rows.map { row in row.title.map { "\(row.id) \($0)" } ?? row.id },
                    columns: ordered.map { sectors[$0.key] ?? $0.key.rawValue },
                    values: rows.map { row in ordered.map { $0.value.nodes[row.id].map { ($0.median * 100).rounded() } } },
                    title: "Median score by \(framework.levels.count > 1 ? framework.levels[1] : "group") and sector (%); blank: fewer than \(rollup.minimumGroup) submitted",
                    maximum: 100
                ).svg()
            }
            let functions = framework.requirements
            let tops = (rollup.national.map { [("All sectors", $0)] } ?? []) + ordered.map { (sectors[$0.key] ?? $0.key.rawValue, $0.value) }
            if tops.contains(where: { !$0.1.nodes.isEmpty }) {
                distribution = HeatmapChart(
                    rows: functions.map { $0.title ?? $0.id }, columns: tops.map(\.0),
                    values: functions.map { function in tops.map { $0.1.nodes[function.id].map { ($0.median * 100).rounded() } } },
                    title: "Median score by \(framework.levels.first ?? "function") (%)", maximum: 100
                ).svg()
            }
            let points = try await desk.trend(of: campaign.id, for: subject, gate: gate(context))
            if points.count > 1 {
                let names = (rollup.national == nil ? [] : ["All sectors"]) + ordered.map { sectors[$0.key] ?? $0.key.rawValue }
                trend = TimeSeriesChart(
                    points: points.map { point in
                        var values: [String: Double] = [:]
                        if let national = point.national { values["All sectors"] = (national.median * 100).rounded() }
                        for (sector, figure) in point.sectors { values[sectors[sector] ?? sector.rawValue] = (figure.median * 100).rounded() }
                        return .init(label: point.cycle, values: values)
                    }, series: names, title: "Median overall score by cycle (%)", unit: "score"
                ).svg()
            }
        }
        var gapGroups: [AssessmentCampaignView.GapGroup] = []
        if let rollup {
            let groups: [(String, SectorID?)] = (rollup.national == nil ? [] : [("All sectors", nil)])
                + rollup.sectors.keys.sorted { (sectors[$0] ?? $0.rawValue) < (sectors[$1] ?? $1.rawValue) }.map { (sectors[$0] ?? $0.rawValue, $0) }
            for (name, sector) in groups {
                if let gaps = try await desk.groupGaps(in: rollup, sector: sector), !gaps.isEmpty {
                    gapGroups.append(.init(name: name, gaps: Self.gapRows(gaps, framework: framework)))
                }
            }
        }
        let mine = try await store.participant(id, subject.organisation.id) != nil
        let minimumGroup = try await desk.minimumGroup()
        let view = AssessmentCampaignView(
            id: campaign.id.description, title: campaign.title,
            directive: campaign.directive.map { directive in
                .init(
                    reference: directive.reference, tlp: "TLP:" + directive.tlp.slug.uppercased(), tlpSlug: directive.tlp.slug, body: directive.body,
                    requirements: directive.requirements.map { .init(id: $0.id, text: $0.text) })
            },
            framework: campaign.directive == nil ? "\(framework.name) \(framework.version)" : "Directive", cycle: campaign.cycle,
            scope: campaign.sector.map { sectors[$0] ?? $0.rawValue } ?? "National", opens: zone.format(campaign.opensAt), due: zone.format(campaign.dueAt),
            closed: campaign.closedAt.map(zone.format),
            requirementCount: profile.requirements.isEmpty ? framework.answered.count : profile.requirements.count,
            targets: campaign.targets.isEmpty ? nil : campaign.targets.sorted { $0.key < $1.key }.map { "\($0.key) → \(framework.scoring.level($0.value)?.name ?? $0.value)" }.joined(separator: ", "),
            participants: participants, showParticipants: !participants.isEmpty, mine: mine ? Self.assessmentHref(campaign.id, subject.organisation.id) : nil,
            groups: groups, hasGroups: !groups.isEmpty, minimumGroup: minimumGroup, heatmap: heatmap, trend: trend,
            distribution: distribution, canClose: canRunIt && campaign.closedAt == nil,
            csvHref: rollup == nil ? nil : "/assessments/campaigns/\(campaign.id)/figures.csv", gapGroups: gapGroups, hasGapGroups: !gapGroups.isEmpty)
        return renderer.page("assessment-campaign", title: campaign.title, context: context, view: view, enforcement: enforcement)
    }

    func close(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try campaignID(context)
        do {
            try await desk.close(id, by: subject, gate: gate(context), source: context.sourceAddress)
        } catch let error as QilaError where error.code == .conflict {
            throw Problem(.conflict, error.message)
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return redirect(Self.campaignHref(id))
    }

    /// The figures the reader may see, as CSV: one row per group and node, counts and quartiles.
    func figuresCSV(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try campaignID(context)
        let rollup: Rollup
        do {
            rollup = try await mapped { try await desk.rollup(id, for: subject, gate: gate(context)) }
        } catch let error as QilaError where error.code == .forbidden {
            try await enforcement.require(subject, .read, Resource(kind: .assessmentStatistics, reference: "campaign:\(id)"), source: context.sourceAddress)
            throw Problem(.forbidden, error.message)
        }
        var lines = ["group,node,asked,submitted,late,fully_audited,lower_quartile,median,upper_quartile,audited_median"]
        func add(_ name: String, _ figures: GroupFigures) {
            func q(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
            lines.append(
                [name, "overall", String(figures.asked), String(figures.submitted), String(figures.late), String(figures.fullyAudited),
                 q(figures.selfDeclared?.lowerQuartile), q(figures.selfDeclared?.median), q(figures.selfDeclared?.upperQuartile), q(figures.audited?.median)]
                    .map(Self.csvField).joined(separator: ","))
            for node in rollup.framework.nodes.map(\.requirement.id) {
                guard let distribution = figures.nodes[node] else { continue }
                lines.append(
                    [name, node, "", String(distribution.count), "", "", q(distribution.lowerQuartile), q(distribution.median), q(distribution.upperQuartile), ""]
                        .map(Self.csvField).joined(separator: ","))
            }
        }
        if let national = rollup.national { add("all", national) }
        for (sector, figures) in rollup.sectors.sorted(by: { $0.key < $1.key }) { add(sector.rawValue, figures) }
        return Self.csv(lines, filename: "assessment-\(id)-figures.csv")
    }
}

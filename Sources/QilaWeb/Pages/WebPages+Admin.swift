import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaStore

/// Organisations, accounts and the audit log.
extension AdminPages {
    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/admin/organisations", use: organisations)
        routes.post("/admin/organisations", use: createOrganisation)
        routes.get("/admin/organisations/:id", use: organisation)
        routes.post("/admin/organisations/:id/users", use: createUser)
        routes.get("/admin/users/:id", use: user)
        routes.post("/admin/users/:id", use: updateUser)
        routes.post("/admin/users/:id/setup-link", use: newSetupLink)
        routes.post("/admin/users/:id/reset-mfa", use: resetMFA)
        routes.get("/admin/audit", use: audit)
        routes.get("/admin/nodes", use: nodes)
        routes.post("/admin/nodes/:id/forget", use: forgetNode)
        return routes
    }

    // MARK: organisations

    func organisations(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let visible = try await store.organisations().filter { enforcement.permits(subject, .read, .organisation($0)) }
        let sectors = try await store.sectors()
        let sectorNames = Dictionary(uniqueKeysWithValues: sectors.map { ($0.id, $0.name) })
        let view = OrganisationsView(
            organisations: visible.map { organisation in
                OrganisationsView.Row(
                    id: organisation.id.description, name: organisation.name, kind: organisation.kind.title,
                    sector: sectorNames[organisation.sector] ?? organisation.sector.rawValue, registration: organisation.registrationNumber ?? "",
                    created: organisation.createdAt.display)
            },
            sectors: sectors, canCreate: enforcement.permits(subject, .create, Resource(kind: .organisation)),
            state: try await refusedForms.state(of: OrganisationsView.registerFormName, request, context: context))
        return render("organisations", "Organisations", context, view)
    }

    func createOrganisation(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        var state = FormState(form: OrganisationsView.registerFormName, fields: try await form(request, context))
        try await enforcement.require(subject, .create, Resource(kind: .organisation, reference: "organisation:new"), source: context.sourceAddress)
        do {
            guard let kind = Organisation.Kind(rawValue: state.value("kind")), kind != .authority else {
                throw QilaError.invalid("choose a kind of organisation", field: "kind")
            }
            let created = try await installation.directory.createOrganisation(
                .init(
                    name: state.value("name"), kind: kind, sector: SectorID(rawValue: state.value("sector")),
                    registrationNumber: state.value("registrationNumber"), criticality: Organisation.Criticality(rawValue: state.value("criticality"))),
                by: subject)
            return redirect("/admin/organisations/\(created.id)")
        } catch let error as QilaError where [.invalidInput, .conflict].contains(error.code) && error.field != nil {
            state.refuse(error, fields: OrganisationsView.registerFields(sectors: [], state: nil))
            return try await refusedForms.redirect(state, to: "/admin/organisations", context: context)
        }
    }

    func loadOrganisation(_ context: QilaRequestContext) async throws -> Organisation {
        guard let id = OrganisationID(try context.parameters.require("id")), let organisation = try await store.organisation(id) else {
            throw Problem(.notFound, "no such organisation")
        }
        return organisation
    }

    func organisation(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let organisation = try await loadOrganisation(context)
        try await enforcement.require(subject, .read, .organisation(organisation), source: context.sourceAddress)
        let usersResource = Resource(kind: .user, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/users")
        var users: [OrganisationView.Account] = []
        if enforcement.permits(subject, .read, usersResource) {
            for user in try await store.users(in: organisation.id) {
                users.append(
                    OrganisationView.Account(
                        id: user.id.description, username: user.username, displayName: user.displayName, kind: user.kind.rawValue,
                        roles: user.roles.sorted().map(\.title).joined(separator: ", "), clearance: user.clearance.rawValue,
                        clearanceSlug: user.clearance.slug, mfa: try await store.credentials(of: user.id)?.mfaEnabled ?? false, disabled: user.disabled))
            }
        }
        var form: FormView?
        if enforcement.permits(subject, .create, usersResource) {
            let state = try await refusedForms.state(of: OrganisationView.accountFormName, request, context: context)
            form = FormView(
                action: "/admin/organisations/\(organisation.id)/users", submit: "Add account",
                fields: OrganisationView.accountFields(
                    roles: Directory.grantableRoles(by: subject, in: organisation), clearances: TLP.allCases.filter { $0 <= subject.user.clearance },
                    state: state),
                state: state, id: "add-account")
        }
        let sectorName = try await store.sectors().first { $0.id == organisation.sector }?.name ?? organisation.sector.rawValue
        let view = OrganisationView(
            organisation: .init(
                id: organisation.id.description, name: organisation.name, kind: organisation.kind.title, sector: sectorName,
                registration: organisation.registrationNumber ?? "—"),
            users: users, added: try await refusedForms.state(of: OrganisationView.accountAddedName, request, context: context), form: form)
        return renderer.page("organisation", title: organisation.name, context: context, view: view, enforcement: enforcement)
    }

    func createUser(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let organisation = try await loadOrganisation(context)
        let page = "/admin/organisations/\(organisation.id)"
        var state = FormState(form: OrganisationView.accountFormName, fields: try await form(request, context))
        let resource = Resource(kind: .user, owner: organisation.id, sector: organisation.sector, reference: "organisation:\(organisation.id)/users")
        return try await withReauthentication(page, for: subject, keeping: state, reason: "administer", context: context) {
            try await enforcement.require(subject, .create, resource, source: context.sourceAddress)
            try await enforcement.require(subject, .administer, resource, source: context.sourceAddress)
            do {
                let user = try await installation.directory.createUser(
                    .init(
                        kind: User.Kind(rawValue: state.value("kind")) ?? .person, username: state.value("username"),
                        displayName: state.value("displayName"), email: state.value("email").isEmpty ? nil : state.value("email"),
                        roles: Set(state.values("role").compactMap(Role.init(rawValue:))),
                        clearance: TLP(rawValue: state.value("clearance")) ?? .green),
                    in: organisation.id, by: subject)
                var created = FormState(form: OrganisationView.accountAddedName, values: ["username": [user.username]])
                if user.kind == .person {
                    let secret = try await authenticator.createPasswordLink(for: user)
                    created.values["setupLink"] = [absolute("/setup/\(secret)", request)]
                }
                return try await refusedForms.redirect(created, to: page, context: context, fragment: "account-added")
            } catch let error as QilaError where error.code == .invalidInput || error.code == .conflict || (error.code == .forbidden && error.field != nil) {
                state.refuse(error, fields: OrganisationView.accountFields(roles: [], clearances: [], state: nil), renamed: ["roles": "role"])
                return try await refusedForms.redirect(state, to: page, context: context)
            }
        }
    }

    // MARK: users

    func loadUser(_ context: QilaRequestContext) async throws -> (User, Organisation) {
        guard let id = UserID(try context.parameters.require("id")), let user = try await store.user(id),
            let organisation = try await store.organisation(user.organisation)
        else { throw Problem(.notFound, "no such user") }
        return (user, organisation)
    }

    func user(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (user, organisation) = try await loadUser(context)
        try await enforcement.require(subject, .read, .user(user, in: organisation), source: context.sourceAddress)
        let view = UserView(
            user: user, organisation: organisation, mfa: try await store.credentials(of: user.id)?.mfaEnabled ?? false,
            canAdminister: user.id != subject.user.id && enforcement.permits(subject, .update, .user(user, in: organisation)),
            roles: Directory.grantableRoles(by: subject, in: organisation), clearances: TLP.allCases.filter { $0 <= subject.user.clearance },
            auditable: try await auditable(for: organisation, by: subject), kept: try await refusedForms.kept(request, context: context))
        return render("user", user.displayName, context, view)
    }

    /// The organisations an auditor of `organisation` may be engaged for, when the subject sets
    /// audit engagements (the authority's administrators); nil when it does not.
    func auditable(for organisation: Organisation, by subject: Subject) async throws -> [Organisation]? {
        guard subject.effectiveRoles.contains(.authorityAdmin) && organisation.kind != .authority else { return nil }
        return try await store.organisations().filter { $0.kind != .authority && $0.id != organisation.id }
    }

    /// Back to the account's page with a message (and a new set-up link) shown once.
    func userDone(_ user: User, _ values: [String: [String]], _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: UserView.doneName, values: values), to: "/admin/users/\(user.id)", context: context, fragment: "main")
    }

    func updateUser(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (user, organisation) = try await loadUser(context)
        var state = FormState(form: UserView.grantFormName, fields: try await form(request, context))
        let page = "/admin/users/\(user.id)"
        return try await withReauthentication(page, for: subject, keeping: state, reason: "administer", context: context) {
            try await enforcement.require(subject, .administer, .user(user, in: organisation), source: context.sourceAddress)
            let engagements = try await auditable(for: organisation, by: subject) != nil
            do {
                guard let clearance = TLP(rawValue: state.value("clearance")) else { throw QilaError.invalid("choose a TLP clearance", field: "clearance") }
                _ = try await installation.directory.updateUser(
                    user.id,
                    .init(
                        roles: Set(state.values("role").compactMap(Role.init(rawValue:))), clearance: clearance,
                        auditedOrganisations: engagements ? Set(state.values("audited").compactMap(OrganisationID.init)) : nil,
                        disabled: state.value("disabled") == "1"),
                    by: subject)
                return try await userDone(user, ["message": ["Saved."]], context)
            } catch let error as QilaError where error.code == .invalidInput || (error.code == .forbidden && error.field != nil) {
                state.refuse(
                    error, fields: UserView.grantFields(roles: [], clearances: [], auditable: [], user: user, state: nil),
                    renamed: ["roles": "role", "auditedOrganisations": "audited"])
                return try await refusedForms.redirect(state, to: page, context: context)
            }
        }
    }

    func newSetupLink(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (user, organisation) = try await loadUser(context)
        return try await withReauthentication("/admin/users/\(user.id)", for: subject) {
            try await enforcement.require(subject, .administer, Resource(kind: .credentials, owner: organisation.id, sector: organisation.sector, person: user.id, reference: "user:\(user.id)/credentials"), source: context.sourceAddress)
            let secret = try await authenticator.createPasswordLink(for: user, by: subject, source: context.sourceAddress)
            return try await userDone(user, ["setupLink": [absolute("/setup/\(secret)", request)]], context)
        }
    }

    func resetMFA(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (user, organisation) = try await loadUser(context)
        return try await withReauthentication("/admin/users/\(user.id)", for: subject) {
            try await enforcement.require(subject, .administer, Resource(kind: .credentials, owner: organisation.id, sector: organisation.sector, person: user.id, reference: "user:\(user.id)/credentials"), source: context.sourceAddress)
            try await authenticator.resetMFA(for: user, by: subject)
            return try await userDone(user, ["message": ["Two-factor sign-in was reset; the person's sessions were ended."]], context)
        }
    }

    // MARK: audit log

    func audit(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await enforcement.require(subject, .read, Resource(kind: .auditLog), source: context.sourceAddress)
        let query = request.uri.queryParameters
        let action = query["action"].map(String.init) ?? ""
        let size = try await store.auditEntryCount()
        let from = query["from"].flatMap { Int64(String($0)) } ?? max(0, size - 100)
        let entries = try await installation.audit.read(from: from, limit: 100, actionPrefix: action.isEmpty ? nil : action, by: subject, source: context.sourceAddress)
        var names: [String: String] = [:]
        for actor in Set(entries.map(\.actor)) {
            if let id = UserID(actor), let user = try await store.user(id) { names[actor] = user.username }
        }
        let head = try await store.latestTreeHead()
        let view = AuditView(
            action: action, from: from,
            entries: entries.reversed().map { entry in
                AuditView.Entry(
                    index: entry.index, time: entry.time.display, actor: names[entry.actor] ?? entry.actor, action: entry.action,
                    outcome: entry.outcome.rawValue, resource: entry.resource, source: entry.sourceAddress ?? "",
                    details: entry.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            },
            hasEntries: !entries.isEmpty, chart: try await hourlyChart(), next: entries.count == 100 ? entries.last.map { String($0.index + 1) } : nil,
            head: head.map { AuditView.Head(treeSize: $0.treeSize, rootHash: $0.rootHash, time: $0.time.display) })
        return render("audit", "Audit log", context, view)
    }

    /// Entries of the last 24 hours by hour and outcome.
    func hourlyChart() async throws -> String {
        let now = Date()
        let hour = 3600.0
        let start = (now.timeIntervalSince1970 / hour).rounded(.down) * hour - 23 * hour
        var buckets = [[String: Int]](repeating: [:], count: 24)
        for (time, outcome) in try await store.auditOutcomes(since: Date(timeIntervalSince1970: start)) {
            let slot = Int((time.timeIntervalSince1970 - start) / hour)
            guard (0..<24).contains(slot) else { continue }
            buckets[slot][outcome, default: 0] += 1
        }
        let bars = buckets.enumerated().map { offset, values in
            let label = Date(timeIntervalSince1970: start + Double(offset) * hour).display.dropFirst(11).prefix(5)
            return BarChart.Bar(label: String(label), values: values)
        }
        return BarChart(bars: bars, series: ["success", "denied", "failure"], title: "Audit entries per hour").svg()
    }

    // MARK: nodes

    var nodeRegistry: NodeRegistry { NodeRegistry(store: store, audit: installation.audit) }

    func nodes(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let entries = try await nodeRegistry.nodes(by: subject, gate: gate(context))
        let view = NodesView.build(
            entries, thisNode: installation.node.id, canForget: enforcement.permits(subject, .administer, NodeRegistry.resource))
        return render("nodes", "Nodes", context, view)
    }

    func forgetNode(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        return try await withReauthentication("/admin/nodes", for: subject) {
            do {
                try await nodeRegistry.forget(try context.parameters.require("id"), by: subject, gate: gate(context), source: context.sourceAddress)
            } catch let error as QilaError where error.code == .notFound {
                throw Problem(.notFound, "no such node")
            } catch let error as QilaError where error.code == .conflict {
                throw Problem(.conflict, error.message)
            }
            return redirect("/admin/nodes")
        }
    }
}

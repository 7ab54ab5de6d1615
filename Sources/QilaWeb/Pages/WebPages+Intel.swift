import Foundation
import Hummingbird
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore

/// Shared intelligence: search and collections (`/intel`), one object with its versions,
/// relationships, standing and sightings (`/intel/objects/:id`), the peers the authority polls
/// (`/intel/peers`), and who received a producer's AMBER and RED objects (`/intel/disclosures`).
struct IntelPages: PageCollection {
    let kit: PageKit
    let desk: IntelDesk
    let peers: IntelPeerDesk
    var feed: IntelIndicatorFeed { IntelIndicatorFeed(store: desk.store) }

    static let navigation = [
        NavigationEntry(title: "Intelligence", path: "/intel", order: 35) { subject, enforcement in
            let own = subject.organisation
            return enforcement.permits(subject, .read, Resource(kind: .intelCollection, reference: "intel-collection:national"))
                || enforcement.permits(subject, .read, Resource(kind: .intelCollection, owner: own.id, sector: own.sector))
        }
    ]

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/intel", use: intelPage)
        routes.get("/intel/objects/:id", use: objectPage)
        routes.post("/intel/objects/:id/sightings", use: reportSighting)
        routes.post("/intel/objects/:id/score", use: setScore)
        routes.get("/intel/peers", use: peersPage)
        routes.post("/intel/peers", use: addPeer)
        routes.post("/intel/peers/:id/poll", use: pollPeer)
        routes.post("/intel/peers/:id/remove", use: removePeer)
        routes.get("/intel/disclosures", use: disclosuresPage)
        routes.post("/intel/import", use: importFile)
        routes.post("/intel/collections/:id/recipients", use: setRecipients)
        routes.post("/intel/groups", use: addGroup)
        return routes
    }

    static func marking(_ rank: Int) -> (label: String, css: String) {
        let tlp = TLP.allCases.first { $0.rank == rank } ?? .red
        return ("TLP:" + tlp.slug.uppercased(), "tlp-" + tlp.slug.replacingOccurrences(of: "+", with: "-"))
    }

    static func objectHref(_ id: String) -> String { "/intel/objects/" + (id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id) }

    func rows(_ records: [IntelObjectRecord], names: [String: String]) -> [IntelObjectRow] {
        records.map { record in
            let marking = Self.marking(record.tlp)
            return IntelObjectRow(
                id: record.id, href: Self.objectHref(record.id), type: record.type, name: record.name ?? "", marking: marking.label,
                markingClass: marking.css, collection: names[record.collection] ?? "?",
                added: Date(timeIntervalSince1970: Double(record.dateAdded) / 1_000_000).display, source: record.source, revoked: record.revoked)
        }
    }

    func readers(_ record: IntelCollectionRecord, organisations: [Organisation], sectors: [SectorID: String]) -> String {
        switch record.kind {
        case .national: return "every organisation"
        case .sector: return "\(sectors[record.sector ?? SectorID(rawValue: "")] ?? "the sector")'s organisations, its regulator and the authority"
        case .organisation: return "\(organisations.first { $0.id == record.organisation }?.name ?? "the organisation") and the authority"
        case .group: return record.audience.compactMap { id in organisations.first { $0.id == id }?.name }.sorted().joined(separator: ", ")
        }
    }

    // MARK: search and collections

    func intelPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let reachable = try await desk.collections(for: subject)
        guard !reachable.isEmpty else { throw Problem(.forbidden, "this account shares no intelligence") }
        let organisations = try await store.organisations()
        let sectors = Dictionary(uniqueKeysWithValues: try await store.sectors().map { ($0.id, $0.name) })
        let names = Dictionary(uniqueKeysWithValues: reachable.map { ($0.record.id, $0.record.title) })
        let chosenID = request.uri.queryParameters["collection"].map(String.init) ?? reachable.first { $0.record.kind == .national }?.record.id
        let collections = reachable.map { collection in
            IntelView.Collection(
                id: collection.record.id, title: collection.record.title, root: collection.record.root,
                readers: readers(collection.record, organisations: organisations, sectors: sectors),
                href: "/intel?collection=\(collection.record.id)", canWrite: collection.canWrite, chosen: collection.record.id == chosenID)
        }
        // Search.
        let text = queryValue(request, "q")
        var results: [IntelObjectRow] = []
        var searchError: String?
        if !text.isEmpty {
            do {
                results = rows(try await desk.search(text, for: subject), names: names)
            } catch let error as QilaError where error.code == .invalidInput {
                searchError = error.sentence(naming: "The search")
            }
        }
        // The chosen collection's objects, newest added last, a page at a time.
        var objects: [IntelObjectRow] = []
        var nextHref: String?
        if let chosen = reachable.first(where: { $0.record.id == chosenID }), chosen.canRead {
            var query = IntelDesk.Query()
            query.limit = 50
            query.next = request.uri.queryParameters["next"].map(String.init)
            let page = try await desk.objects(query, in: chosen.record.id, root: chosen.record.root, for: subject, bodies: false)
            objects = rows(page.records, names: names)
            if page.more, let next = page.next { nextHref = "/intel?collection=\(chosen.record.id)&next=\(next)" }
        }
        let kept = try await refusedForms.kept(request, context: context)
        let refusedImport = kept?.form == Self.importFormName ? kept : nil
        // Who the reader's organisation names for its AMBER objects in the chosen collection.
        var recipients: IntelView.Recipients?
        if let chosen = reachable.first(where: { $0.record.id == chosenID }), chosen.canWrite, chosen.record.kind != .organisation {
            let refused = kept?.form == Self.recipientsFormName ? kept : nil
            let saved = try await desk.defaultRecipients(collection: chosen.record.id, for: subject).map(\.description)
            let current = Set(refused?.values("recipient") ?? saved)
            recipients = IntelView.Recipients(
                action: "/intel/collections/\(chosen.record.id)/recipients",
                choices: try await desk.recipientCandidates(chosen.record, for: subject).map {
                    Choice(value: $0.id.description, title: $0.name, selected: current.contains($0.id.description))
                }, error: refused?.errors.values.first)
        }
        let isAuthorityAdministrator =
            enforcement.permits(subject, .administer, IntelDesk.resource(reachable[0].record)) && subject.organisation.kind == .authority
        var group: IntelView.Group?
        if isAuthorityAdministrator {
            let refused = kept?.form == Self.groupFormName ? kept : nil
            let chosenMembers = Set(refused?.values("member") ?? [])
            group = IntelView.Group(
                title: refused?.value("title") ?? "", slug: refused?.value("slug") ?? "",
                members: organisations.filter(\.keepsOwnRecords).sorted { $0.name < $1.name }.map {
                    Choice(value: $0.id.description, title: $0.name, selected: chosenMembers.contains($0.id.description))
                }, titleError: refused?.errors["title"], slugError: refused?.errors["slug"], membersError: refused?.errors["members"])
        }
        let chosenImport = refusedImport?.value("collection") ?? chosenID
        let importable = reachable.filter(\.canWrite).map {
            Choice(value: $0.record.id, title: $0.record.title, selected: $0.record.id == chosenImport)
        }
        let view = IntelView(
            message: kept?.form == Self.doneFormName ? kept?.value("message") : nil, importCollections: importable, canImport: !importable.isEmpty,
            importFileError: refusedImport?.errors["file"], importCollectionError: refusedImport?.errors["collection"],
            query: text, searched: !text.isEmpty && searchError == nil, results: results, hasResults: !results.isEmpty, searchError: searchError,
            collections: collections, chosen: collections.first { $0.chosen }, objects: objects, hasObjects: !objects.isEmpty, nextHref: nextHref,
            showPeers: isAuthorityAdministrator, recipients: recipients, group: group)
        return render("intel", "Intelligence", context, view)
    }

    // MARK: recipients and trust groups

    static let recipientsFormName = "intel.recipients"
    static let groupFormName = "intel.group"

    func setRecipients(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let form = try await form(request, context)
        guard let record = try await store.intelCollection(id: id),
            let collection = try? await desk.collection(id, root: record.root, for: subject)
        else { throw Problem(.notFound, "no such collection") }
        guard collection.canWrite else { throw Problem(.forbidden, "this account does not share into the collection") }
        let chosen = form.all("recipient").map { OrganisationID($0) }
        do {
            guard !chosen.contains(nil) else { throw QilaError.invalid("names an organisation that does not exist", field: "recipients") }
            try await desk.setDefaultRecipients(chosen.compactMap { $0 }, collection: id, root: record.root, by: subject)
        } catch let error as QilaError where error.code == .invalidInput {
            let state = FormState(
                form: Self.recipientsFormName, values: ["recipient": form.all("recipient")],
                errors: ["recipients": FormState.sentence(label: "The choice", error.message)])
            return try await refusedForms.redirect(state, to: "/intel?collection=\(id)", context: context, fragment: "intel-recipients")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        } catch let error as QilaError where error.code == .forbidden {
            throw Problem(.forbidden, error.message)
        }
        return try await refusedForms.redirect(
            FormState(form: Self.doneFormName, values: ["message": ["Saved: your TLP:AMBER objects in \(record.title) go to the organisations ticked."]]),
            to: "/intel?collection=\(id)", context: context, fragment: "intel-recipients")
    }

    func addGroup(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await requirePeerAdministrator(subject, context)
        let form = try await form(request, context)
        do {
            let members = try form.all("member").map { text -> OrganisationID in
                guard let id = OrganisationID(text) else { throw QilaError.invalid("names an organisation that does not exist", field: "members") }
                return id
            }
            let group = try await desk.createGroup(title: form["title"] ?? "", slug: form["slug"] ?? "", members: members, by: subject)
            return try await refusedForms.redirect(
                FormState(form: Self.doneFormName, values: ["message": ["Trust group \(group.title) defined: its API root is /taxii2/\(group.root)/."]]),
                to: "/intel?collection=\(group.id)", context: context, fragment: "intel-collections")
        } catch let error as QilaError where error.code == .invalidInput {
            let labels = ["title": "The name", "slug": "The short name", "members": "The choice"]
            var state = FormState(form: Self.groupFormName, fields: form)
            state.errors[error.field ?? "title"] = FormState.sentence(label: labels[error.field ?? ""], error.message)
            return try await refusedForms.redirect(state, to: "/intel", context: context, fragment: "intel-group")
        }
    }

    // MARK: files

    static let importFormName = "intel.import"
    static let doneFormName = "intel.done"

    /// A STIX bundle or MISP event uploaded into a collection.
    func importFile(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard try await desk.collections(for: subject).contains(where: \.canWrite) else { throw Problem(.forbidden, "this account may add to no collection") }
        let form = try await multipartForm(request, context, sending: "the file")
        let collection = form["collection"] ?? ""
        do {
            guard let file = form.file("file"), !(file.filename ?? "").isEmpty else {
                throw QilaError.invalid("needs a STIX bundle or a MISP event (JSON) chosen", field: "file")
            }
            let imported = try await desk.importFile(file.bytes, named: file.filename ?? "upload.json", into: collection, by: subject, mayDefer: true)
            let status = imported.status
            var text =
                status.pending > 0
                ? "Accepted \(status.total) objects from the \(imported.format) \(file.filename ?? ""): they are being stored, 5,000 at a time, and appear below as they are."
                : "Added \(status.successes.count) of \(status.total) object\(status.total == 1 ? "" : "s") from the \(imported.format) \(file.filename ?? "")."
            if let first = status.failures.first { text += " \(status.failures.count) refused; the first: \(first.id): \(first.message ?? "refused")." }
            if imported.skipped > 0 { text += " \(imported.skipped) MISP attribute\(imported.skipped == 1 ? " was" : "s were") not for detection or named no single value." }
            return try await refusedForms.redirect(
                FormState(form: Self.doneFormName, values: ["message": [text]]), to: "/intel?collection=\(collection)", context: context, fragment: "intel-objects")
        } catch let error as QilaError where error.code == .invalidInput {
            let state = FormState(
                form: Self.importFormName, values: ["collection": [collection]],
                errors: [error.field ?? "file": FormState.sentence(label: error.field == "collection" ? "The collection" : "The file", error.message)])
            return try await refusedForms.redirect(state, to: "/intel", context: context, fragment: "intel-import")
        } catch let error as QilaError where error.code == .notFound || error.code == .forbidden {
            let state = FormState(
                form: Self.importFormName, values: ["collection": [collection]],
                errors: ["collection": FormState.sentence(label: "The collection", "must be one you may add to")])
            return try await refusedForms.redirect(state, to: "/intel", context: context, fragment: "intel-import")
        }
    }

    // MARK: one object

    func objectPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let reachable = try await desk.collections(for: subject).filter(\.canRead)
        let names = Dictionary(uniqueKeysWithValues: reachable.map { ($0.record.id, $0.record.title) })
        let organisations = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        var versions: [IntelObjectView.Version] = []
        var title = id
        for collection in reachable {
            var query = IntelDesk.Query()
            query.ids = [id]
            query.versions = [.all]
            query.limit = 100
            let page = try await desk.objects(query, in: collection.record.id, root: collection.record.root, for: subject)
            for (record, body) in zip(page.records, page.bodies) {
                let value = try? JSONValue.decode(body)
                if let name = value?["name"]?.string { title = name }
                let marking = Self.marking(record.tlp)
                versions.append(
                    IntelObjectView.Version(
                        version: record.versionText, added: Date(timeIntervalSince1970: Double(record.dateAdded) / 1_000_000).display, marking: marking.label,
                        markingClass: marking.css, collection: collection.record.title, producer: organisations[record.producer] ?? "?",
                        source: record.source, json: Self.pretty(body)))
            }
        }
        guard !versions.isEmpty else { throw Problem(.notFound, "no such object") }
        versions.sort { $0.version > $1.version }
        let type = String(id.split(separator: "-").first ?? "")
        let related = rows(try await desk.search(id, for: subject).filter { $0.id != id }, names: names)
        var view = IntelObjectView(
            id: id, path: Self.objectHref(id), title: title, type: type, versions: versions, related: related, hasRelated: !related.isEmpty, isIndicator: type == "indicator",
            score: nil, active: false, reasons: [], excluded: nil, sightings: [], hasSightings: false, seen: 0, falsePositives: 0, organisations: 0,
            chart: "", message: request.uri.queryParameters["done"].map { $0 == "sighting" ? "Sighting recorded." : "Score changed." }, sightingForm: nil,
            scoreForm: nil, canClearScore: false)
        if type == "indicator" {
            if let standing = try await feed.standing(of: id) {
                view = view.with(standing: standing)
            }
            let sightings = try await desk.sightings(of: id, for: subject)
            let path = Self.objectHref(id)
            let sightingState = try await refusedForms.state(of: IntelObjectView.sightingFormName, request, context: context)
            let scoreState = try await refusedForms.state(of: IntelObjectView.scoreFormName, request, context: context)
            let analyst = subject.organisation.kind == .authority && subject.effectiveRoles.contains(where: { [.authorityAnalyst, .authorityAdmin].contains($0) })
            let overridden = try await store.intelScoreOverrides()[id] != nil
            view = view.with(
                sightings: sightings,
                sightingForm: FormView(
                    action: path + "/sightings", submit: "Report", fields: IntelObjectView.sightingFields(state: sightingState), state: sightingState,
                    id: "report-sighting"),
                scoreForm: analyst
                    ? FormView(
                        action: path + "/score", submit: "Set score", fields: IntelObjectView.scoreFields(state: scoreState), state: scoreState, id: "set-score")
                    : nil, canClearScore: analyst && overridden)
        }
        return render("intel-object", title, context, view)
    }

    static func pretty(_ body: [UInt8]) -> String {
        (try? JSONValue.decode(body).pretty()) ?? String(decoding: body, as: UTF8.self)
    }

    func reportSighting(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        var state = FormState(form: IntelObjectView.sightingFormName, fields: try await form(request, context))
        let path = Self.objectHref(id)
        do {
            guard let kind = IntelSighting.Kind(rawValue: state.value("kind")) else { throw QilaError.invalid("needs a choice", field: "kind") }
            let countText = state.value("count").trimmingCharacters(in: .whitespaces)
            guard let count = countText.isEmpty ? 1 : Int(countText) else { throw QilaError.invalid("must be a whole number", field: "count") }
            try await desk.report(kind, of: id, count: count, note: state.value("note"), by: subject, source: "page")
            return redirect(path + "?done=sighting")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: IntelObjectView.sightingFields(state: nil))
            return try await refusedForms.redirect(state, to: path, context: context, fragment: "report-sighting")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func setScore(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        var state = FormState(form: IntelObjectView.scoreFormName, fields: try await form(request, context))
        let path = Self.objectHref(id)
        do {
            if state.value("clear") == "1" {
                try await desk.overrideScore(id, score: nil, reason: "", by: subject)
            } else {
                guard let score = Int(state.value("score").trimmingCharacters(in: .whitespaces)) else {
                    throw QilaError.invalid("must be a whole number from 0 to 100", field: "score")
                }
                try await desk.overrideScore(id, score: score, reason: state.value("reason"), by: subject)
            }
            return redirect(path + "?done=score")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: IntelObjectView.scoreFields(state: nil))
            return try await refusedForms.redirect(state, to: path, context: context, fragment: "set-score")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        } catch let error as QilaError where error.code == .forbidden {
            throw Problem(.forbidden, error.message)
        }
    }

    // MARK: peers

    /// Peers are the authority administrators' (subscribing administers the national hub).
    func requirePeerAdministrator(_ subject: Subject, _ context: QilaRequestContext) async throws {
        guard subject.organisation.kind == .authority else { throw Problem(.forbidden, "peers are the authority's") }
        try await enforcement.require(
            subject, .administer, Resource(kind: .intelCollection, reference: "intel-peers"), source: context.sourceAddress)
    }

    func peersPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await requirePeerAdministrator(subject, context)
        try await desk.ensureCollections()
        let collections = try await store.intelCollections()
        let titles = Dictionary(uniqueKeysWithValues: collections.map { ($0.id, $0.title) })
        let rows = try await peers.peers().map { peer in
            IntelPeersView.Row(
                id: peer.id, name: peer.name, kind: IntelPeerDesk.Format(rawValue: peer.format)?.title ?? peer.format, url: peer.url, collection: titles[peer.localCollection] ?? "?", interval: Self.interval(peer.intervalSeconds),
                lastPoll: peer.polledAt?.display ?? "not yet", error: peer.lastError ?? "", objects: peer.objects, failing: peer.lastError != nil)
        }
        let state = try await refusedForms.state(of: IntelPeersView.addFormName, request, context: context)
        // The national collection first: where a foreign CERT's intelligence usually belongs.
        let shared = collections.filter { $0.kind != .organisation }.sorted { ($0.kind == .national ? 0 : 1, $0.title) < ($1.kind == .national ? 0 : 1, $1.title) }
            .map { (id: $0.id, title: $0.title) }
        let message: String? =
            switch request.uri.queryParameters["done"].map(String.init) {
            case "added"?: "Subscribed; the first poll starts within seconds."
            case "removed"?: "Subscription ended; the objects received stay."
            case "requested"?: "A poll starts within seconds; reload to see how it went."
            default: nil
            }
        let view = IntelPeersView(
            peers: rows, hasPeers: !rows.isEmpty, message: message, canChange: true,
            addForm: FormView(
                action: "/intel/peers", submit: "Subscribe", fields: IntelPeersView.addFields(collections: shared, state: state), state: state, id: "add-peer"))
        return render("intel-peers", "Intelligence peers", context, view)
    }

    static func interval(_ seconds: Int) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600) h" : seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
    }

    func addPeer(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await requirePeerAdministrator(subject, context)
        var state = FormState(form: IntelPeersView.addFormName, fields: try await form(request, context))
        let draft = IntelPeerDesk.Draft(
            name: state.value("name"), url: state.value("url"), format: state.value("format"), collection: state.value("collection"),
            username: state.value("username"),
            password: state.value("password"), interval: state.value("interval"), trust: state.value("trust"))
        do {
            _ = try await peers.subscribe(draft, account: subject.user, by: subject)
            return redirect("/intel/peers?done=added")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: IntelPeersView.addFields(collections: [], state: nil))
            // The peer's password is not kept with the refused form nor written back into the page.
            state.values["password"] = nil
            return try await refusedForms.redirect(state, to: "/intel/peers", context: context)
        }
    }

    func pollPeer(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await requirePeerAdministrator(subject, context)
        _ = try await form(request, context)
        guard let peer = try await peers.peers().first(where: { $0.id == (try? context.parameters.require("id")) }) else {
            throw Problem(.notFound, "no such peer")
        }
        try await peers.requestPoll(peer, by: subject)
        return redirect("/intel/peers?done=requested")
    }

    func removePeer(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        try await requirePeerAdministrator(subject, context)
        _ = try await form(request, context)
        guard let peer = try await peers.peers().first(where: { $0.id == (try? context.parameters.require("id")) }) else {
            throw Problem(.notFound, "no such peer")
        }
        try await peers.unsubscribe(peer, by: subject)
        return redirect("/intel/peers?done=removed")
    }

    // MARK: disclosures

    func disclosuresPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        guard try await !desk.collections(for: subject).filter(\.canWrite).isEmpty else { throw Problem(.forbidden, "this account shares no intelligence") }
        let organisations = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        var accounts: [UserID: String] = [:]
        let received = try await store.intelDisclosures(producer: subject.organisation.id, minimumTLP: TLP.amber.rank, limit: 1_000)
        for disclosure in received where accounts[disclosure.account] == nil {
            accounts[disclosure.account] = try await store.user(disclosure.account)?.username ?? "?"
        }
        let rows = received.map { disclosure in
            let marking = Self.marking(disclosure.tlp)
            return IntelDisclosuresView.Row(
                object: disclosure.id, href: Self.objectHref(disclosure.id),
                version: StixTimestamp(microseconds: disclosure.version).text, marking: marking.label, markingClass: marking.css,
                account: accounts[disclosure.account] ?? "?", organisation: organisations[disclosure.organisation] ?? "?", time: disclosure.time.display)
        }
        return render("intel-disclosures", "Who received our intelligence", context, IntelDisclosuresView(rows: rows, hasRows: !rows.isEmpty))
    }
}

extension IntelObjectView {
    func with(standing: IntelIndicatorFeed.Standing) -> IntelObjectView {
        IntelObjectView(
            id: id, path: path, title: title, type: type, versions: versions, related: related, hasRelated: hasRelated, isIndicator: isIndicator,
            score: String(standing.score.value), active: standing.score.active && standing.excluded == nil, reasons: standing.score.reasons,
            excluded: standing.excluded, sightings: sightings, hasSightings: hasSightings, seen: seen, falsePositives: falsePositives,
            organisations: organisations, chart: chart, message: message, sightingForm: sightingForm, scoreForm: scoreForm, canClearScore: canClearScore)
    }

    func with(sightings summary: IntelDesk.Sightings, sightingForm: FormView, scoreForm: FormView?, canClearScore: Bool, now: Date = Date()) -> IntelObjectView {
        let rows = summary.entries.map {
            Sighting(
                organisation: $0.organisation, kind: $0.kind.rawValue.replacingOccurrences(of: "-", with: " "), source: $0.source,
                lastSeen: $0.lastSeen.display, note: $0.note ?? "", count: $0.count)
        }
        // Sightings per day over the last 30 days, by what was found.
        let today = Int(now.timeIntervalSince1970 / 86_400)
        var perDay: [Int: [String: Int]] = [:]
        for entry in summary.entries where today - Int(entry.lastSeen.timeIntervalSince1970 / 86_400) < 30 {
            perDay[Int(entry.lastSeen.timeIntervalSince1970 / 86_400), default: [:]][entry.kind.rawValue.replacingOccurrences(of: "-", with: " "), default: 0] += entry.count
        }
        let series = ["seen", "false positive", "expired"]
        let chart =
            summary.entries.isEmpty
            ? ""
            : BarChart(
                bars: (today - 29...today).map { day in
                    BarChart.Bar(label: String(RFC3339.format(Date(timeIntervalSince1970: Double(day) * 86_400)).dropFirst(5).prefix(5)), values: perDay[day] ?? [:])
                }, series: series, title: "Sightings per day, last 30 days (UTC)", height: 150
            ).svg()
        return IntelObjectView(
            id: id, path: path, title: title, type: type, versions: versions, related: related, hasRelated: hasRelated, isIndicator: isIndicator, score: score,
            active: active, reasons: reasons, excluded: excluded, sightings: rows, hasSightings: !rows.isEmpty, seen: summary.seen,
            falsePositives: summary.falsePositives, organisations: summary.organisations, chart: chart, message: message, sightingForm: sightingForm,
            scoreForm: scoreForm, canClearScore: canClearScore)
    }
}

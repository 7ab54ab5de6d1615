public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Shared threat intelligence: collections derived from tenancy, STIX objects added to them with
/// their TLP marking, and every read filtered per object (docs/decisions/0019). TAXII, pages and
/// the command line are adapters over this desk.
public struct IntelDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let policy: PolicyDecisionPoint

    public init(store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint) {
        self.store = store
        self.audit = audit
        self.policy = policy
    }

    /// The largest page a reader gets, whatever `limit` asks.
    public static let maximumPage = 10_000
    public static let defaultPage = 1_000
    /// Objects in one request to add.
    public static let maximumObjectsPerRequest = 100_000
    /// A request to add more objects than this is answered before they are stored (pending).
    public var objectsAnsweredAtOnce = 2_000
    /// Objects of a pending request stored between two progress reports.
    public var pendingPart = 5_000

    // MARK: roots and collections

    /// A TAXII API root: the community a GREEN marking reaches.
    public struct Root: Sendable, Equatable {
        public var slug: String
        public var title: String
        public var description: String
    }

    public struct Collection: Sendable {
        public var record: IntelCollectionRecord
        public var canRead: Bool
        public var canWrite: Bool
    }

    /// Makes the collections tenancy implies, if missing: the national one, one per sector, one
    /// per organisation (not the authority's: it shares through the others).
    public func ensureCollections(now: Date = Date()) async throws {
        try await store.ensureIntelCollection(
            IntelCollectionRecord(
                root: "national", kind: .national, key: "national", title: "National sharing",
                description: "Shared by and with every organisation of the installation.", createdAt: now))
        let sectors = try await store.sectors()
        for sector in sectors {
            try await store.ensureIntelCollection(
                IntelCollectionRecord(
                    root: Self.sectorRoot(sector.id), kind: .sector, key: sector.id.rawValue, title: "\(sector.name) sector",
                    description: "Shared within the \(sector.name) sector, with its regulator and the authority.", sector: sector.id, createdAt: now))
        }
        for organisation in try await store.organisations() where organisation.keepsOwnRecords {
            try await store.ensureIntelCollection(
                IntelCollectionRecord(
                    root: Self.sectorRoot(organisation.sector), kind: .organisation, key: organisation.id.description, title: organisation.name,
                    description: "\(organisation.name)'s own intelligence, read by it and the authority.", organisation: organisation.id,
                    sector: organisation.sector, createdAt: now))
        }
    }

    static func sectorRoot(_ sector: SectorID) -> String { "sector-\(sector.rawValue)" }

    public static func resource(_ collection: IntelCollectionRecord) -> Resource {
        let reference = "intel-collection:\(collection.id)"
        switch collection.kind {
        case .national: return Resource(kind: .intelCollection, reference: reference)
        case .sector: return Resource(kind: .intelCollection, sector: collection.sector, reference: reference)
        case .organisation: return Resource(kind: .intelCollection, owner: collection.organisation, sector: collection.sector, reference: reference)
        case .group: return Resource(kind: .intelCollection, audience: Set(collection.audience), reference: reference)
        }
    }

    func judged(_ record: IntelCollectionRecord, _ subject: Subject) -> Collection {
        let resource = Self.resource(record)
        return Collection(
            record: record, canRead: policy.decide(subject, .read, resource).allowed, canWrite: policy.decide(subject, .create, resource).allowed)
    }

    /// The collections the subject may read or write, in every root.
    public func collections(for subject: Subject) async throws -> [Collection] {
        try await ensureCollections()
        return try await store.intelCollections().map { judged($0, subject) }.filter { $0.canRead || $0.canWrite }
    }

    /// The API roots where the subject reaches at least one collection.
    public func roots(for subject: Subject) async throws -> [Root] {
        let reachable = try await collections(for: subject)
        let sectors = Dictionary(uniqueKeysWithValues: try await store.sectors().map { ($0.id, $0.name) })
        var roots: [Root] = []
        for slug in Set(reachable.map(\.record.root)).sorted() {
            roots.append(Self.describe(slug, sectors: sectors, groups: reachable.map(\.record).filter { $0.kind == .group }))
        }
        return roots
    }

    static func describe(_ slug: String, sectors: [SectorID: String], groups: [IntelCollectionRecord]) -> Root {
        if slug == "national" { return Root(slug: slug, title: "National", description: "Intelligence shared across the installation.") }
        if slug.hasPrefix("sector-") {
            let name = sectors[SectorID(rawValue: String(slug.dropFirst(7)))] ?? String(slug.dropFirst(7))
            return Root(slug: slug, title: "\(name) sector", description: "Intelligence shared within the \(name) sector.")
        }
        let title = groups.first { $0.root == slug }?.title ?? slug
        return Root(slug: slug, title: title, description: "A trust group's shared intelligence.")
    }

    /// One collection of a root, if the subject may read or write it; otherwise it does not exist for them.
    public func collection(_ id: String, root: String, for subject: Subject) async throws -> Collection {
        guard let record = try await store.intelCollection(id: id), record.root == root else { throw QilaError(.notFound, "no such collection") }
        let judged = judged(record, subject)
        guard judged.canRead || judged.canWrite else { throw QilaError(.notFound, "no such collection") }
        return judged
    }

    func reader(_ subject: Subject) -> IntelReader {
        IntelReader(organisation: subject.organisation.id, person: subject.user.id, clearance: subject.user.clearance.rank)
    }

    // MARK: adding

    /// One object's result in a status resource.
    public struct Outcome: Sendable, Equatable {
        public var id: String
        public var version: String?
        public var message: String?
    }

    public struct Status: Sendable {
        public var id: String
        public var requestTimestamp: StixTimestamp
        public var successes: [Outcome]
        public var failures: [Outcome]
        /// Objects not yet stored (a large request answered at once).
        public var pending: Int = 0
        public var total: Int { successes.count + failures.count + pending }
    }

    /// Who may read an AMBER (organisations) or RED (people) object besides its producer.
    public struct Recipients: Sendable {
        public var organisations: [OrganisationID]
        public var people: [UserID]
        public init(organisations: [OrganisationID] = [], people: [UserID] = []) {
            self.organisations = organisations
            self.people = people
        }
    }

    /// Sets the organisations the subject's organisation shares its AMBER objects in a
    /// collection with when a request names none (as TAXII requests cannot).
    public func setDefaultRecipients(_ organisations: [OrganisationID], collection collectionID: String, root: String, by subject: Subject, now: Date = Date())
        async throws
    {
        let collection = try await collection(collectionID, root: root, for: subject)
        guard collection.canWrite else { throw QilaError(.forbidden, "this account does not share into the collection") }
        guard collection.record.kind != .organisation else {
            throw QilaError.invalid("are not chosen in an organisation's own collection: its AMBER objects go to it and the authority", field: "recipients")
        }
        let candidates = Set(try await recipientCandidates(collection.record, for: subject).map(\.id))
        var known: [OrganisationID] = []
        for id in organisations where id != subject.organisation.id && !known.contains(id) {
            guard try await store.organisation(id) != nil else { throw QilaError.invalid("names an organisation that does not exist", field: "recipients") }
            guard candidates.contains(id) else { throw QilaError.invalid("names an organisation that does not read this collection", field: "recipients") }
            known.append(id)
        }
        try await store.setIntelRecipients(collection: collectionID, producer: subject.organisation.id, recipients: known)
        try await audit.recordChange(
            by: subject, "intel.recipients.set", resource: "intel-collection:\(collectionID)", source: nil,
            details: ["recipients": known.map(\.description).joined(separator: " ")], now: now)
    }

    /// The organisations that read a collection (besides the subject's own), which its AMBER
    /// objects may name as recipients: every organisation for the national one, the sector's
    /// organisations and regulators for a sector's, the members for a trust group; the authority
    /// reads every collection.
    public func recipientCandidates(_ collection: IntelCollectionRecord, for subject: Subject) async throws -> [Organisation] {
        try await store.organisations().filter { organisation in
            guard organisation.id != subject.organisation.id else { return false }
            if organisation.kind == .authority { return true }
            switch collection.kind {
            case .national: return true
            case .sector: return organisation.sector == collection.sector
            case .group: return collection.audience.contains(organisation.id)
            case .organisation: return false
            }
        }.sorted { $0.name < $1.name }
    }

    /// The organisations the subject's organisation names by default for its AMBER objects in a collection.
    public func defaultRecipients(collection collectionID: String, for subject: Subject) async throws -> [OrganisationID] {
        try await store.intelRecipients(collection: collectionID, producer: subject.organisation.id)
    }

    /// The marking an object without one takes: AMBER in an organisation's own collection,
    /// GREEN in a community's (whose purpose is sharing with that community).
    public static func defaultMarking(_ collection: IntelCollectionRecord) -> TLP {
        collection.kind == .organisation ? .amber : .green
    }

    /// Adds the objects of a TAXII envelope or STIX bundle (`objects`). Each object is checked on
    /// its own: the valid ones are stored, the others listed with the reason, all with one
    /// `date_added`. With `mayDefer` (TAXII, the upload page), a request of more than
    /// `objectsAnsweredAtOnce` objects is kept as it came and answered at once with a pending
    /// status, which whichever node claims the request completes (`finishPendingAdd`); the
    /// command line, which runs no job, leaves it off. The status is stored, so any node answers for it.
    /// `request`: the bytes `envelope` was read from, kept as they came for a pending request
    /// (encoding a hundred thousand objects again would delay the answer by seconds).
    public func add(
        _ envelope: JSONValue, request: [UInt8]? = nil, to collectionID: String, root: String, by subject: Subject, recipients given: Recipients? = nil,
        source: String? = nil, mayDefer: Bool = false, now: Date = Date()
    ) async throws -> Status {
        let collection = try await collection(collectionID, root: root, for: subject)
        guard collection.canWrite else {
            try await refuse(subject, .create, collection.record)
            throw QilaError(.forbidden, "this account may read the collection but not add to it")
        }
        // Named for this request, or the producer's default for the collection (TAXII has no way to name them).
        var recipients = given ?? Recipients()
        if given == nil { recipients.organisations = try await store.intelRecipients(collection: collectionID, producer: subject.organisation.id) }
        guard let objects = envelope["objects"]?.array else {
            throw QilaError(.invalidInput, "an envelope or bundle has an 'objects' list", at: "objects")
        }
        guard objects.count <= Self.maximumObjectsPerRequest else {
            throw QilaError(.invalidInput, "at most \(Self.maximumObjectsPerRequest) objects a request", at: "objects")
        }
        let id = UUID().uuidString.lowercased()
        guard !mayDefer || objects.count <= objectsAnsweredAtOnce else {
            let status = Status(id: id, requestTimestamp: StixTimestamp(now), successes: [], failures: [], pending: objects.count)
            try await store.queueIntelAdd(
                IntelPendingAdd(
                    status: id, collection: collection.record.id, account: subject.user.id, organisation: subject.organisation.id,
                    objects: try request ?? JSONValue.array(objects).encoded(), total: objects.count, recipientOrganisations: recipients.organisations,
                    recipientPeople: recipients.people, source: source, acceptedAt: now),
                statusBody: try Self.statusResource(status).encoded())
            try await audit.recordChange(
                by: subject, "intel.objects.accept", resource: "intel-collection:\(collection.record.id)", source: nil,
                details: ["status": id, "pending": String(objects.count)].merging(source.map { ["source": $0] } ?? [:]) { $1 }, now: now)
            return status
        }
        let (successes, failures) = try await store(
            objects, from: 0, into: collection.record, by: subject, recipients: recipients, source: source, added: StixTimestamp(now), now: now)
        let status = Status(id: id, requestTimestamp: StixTimestamp(now), successes: successes, failures: failures)
        try await store.saveIntelStatus(
            id: status.id, collection: collection.record.id, account: subject.user.id, organisation: subject.organisation.id,
            body: try Self.statusResource(status).encoded(), at: now)
        try await auditAdded(status, collection: collection.record.id, by: subject, source: source, now: now)
        return status
    }

    /// Stores a request's objects (`first` is the index of the first in the request, for the
    /// failures' names) and counts each STIX sighting of an indicator the account may see as its
    /// organisation's sighting.
    func store(
        _ objects: [JSONValue], from first: Int, into collection: IntelCollectionRecord, by subject: Subject, recipients: Recipients, source: String?,
        added: StixTimestamp, now: Date
    ) async throws -> (successes: [Outcome], failures: [Outcome]) {
        let (successes, failures, _) = try await ingest(
            objects, from: first, into: collection, producer: subject.organisation.id, addedBy: subject.user.id, recipients: recipients, source: source,
            added: added)
        let stored = Set(successes.map(\.id))
        for value in objects where value["type"]?.string == "sighting" && stored.contains(value["id"]?.string ?? "") {
            guard let indicator = value["sighting_of_ref"]?.string, indicator.hasPrefix("indicator--") else { continue }
            let count = value["count"]?.number.map { max(1, Int($0)) } ?? 1
            let seenAt = value["last_seen"]?.string.flatMap(StixTimestamp.init)?.date
            try? await report(.seen, of: indicator, count: min(count, 1_000_000), seenAt: seenAt.map { min($0, now) }, by: subject, source: "taxii", now: now)
        }
        return (successes, failures)
    }

    func auditAdded(_ status: Status, collection: String, by subject: Subject, source: String?, now: Date) async throws {
        try await audit.recordChange(
            by: subject, "intel.objects.add", resource: "intel-collection:\(collection)", source: nil,
            details: ["status": status.id, "added": String(status.successes.count), "refused": String(status.failures.count)]
                .merging(source.map { ["source": $0] } ?? [:]) { $1 }, now: now)
    }

    /// Checks each object on its own and stores the valid ones with one `date_added`; a version
    /// already in the collection is kept as it was. Returns the outcomes and how many versions were new.
    func ingest(
        _ objects: [JSONValue], from first: Int = 0, into collection: IntelCollectionRecord, producer: OrganisationID, addedBy: UserID, recipients: Recipients,
        source: String?, added: StixTimestamp
    ) async throws -> (successes: [Outcome], failures: [Outcome], new: Int) {
        var successes: [Outcome] = []
        var failures: [Outcome] = []
        var rows: [(record: IntelObjectRecord, organisations: [OrganisationID], people: [UserID])] = []
        var values: [String: [String]] = [:]
        let fallback = Self.defaultMarking(collection)
        for (index, value) in objects.enumerated() {
            do {
                let object = try StixObject(value, index: first + index)
                let version = object.version ?? added
                let tlp = object.tlp ?? fallback
                rows.append(
                    (
                        IntelObjectRecord(
                            collection: collection.id, id: object.id, version: version.microseconds, versionText: version.text, type: object.type,
                            specVersion: object.specVersion, dateAdded: added.microseconds, producer: producer, addedBy: addedBy, tlp: tlp.rank,
                            revoked: object.revoked, source: source, name: object.name.map { String($0.prefix(300)) }, body: try value.encoded(),
                            indicator: object.type == "indicator" && object.patternType == "stix"
                                ? object.pattern.map {
                                    IntelObjectRecord.IndicatorColumns(
                                        pattern: $0, validFrom: object.validFrom?.microseconds, validUntil: object.validUntil?.microseconds,
                                        confidence: value["confidence"]?.number.map { Int($0) })
                                } : nil),
                        tlp == .amber ? recipients.organisations : [], tlp == .red ? recipients.people : []
                    ))
                values["\(object.id)/\(version.microseconds)"] = object.searchValues
                successes.append(Outcome(id: object.id, version: version.text, message: nil))
            } catch let error as QilaError {
                failures.append(Outcome(id: value["id"]?.string ?? "objects[\(first + index)]", version: value["modified"]?.string, message: error.description))
            }
        }
        let stored = try await store.addIntelObjects(rows, values: values)
        return (successes, failures, stored.count)
    }

    /// The status resource of TAXII 2.1 (section 4.3.1).
    public static func statusResource(_ status: Status) -> JSONValue {
        func list(_ outcomes: [Outcome]) -> JSONValue {
            .array(
                outcomes.map { outcome in
                    var entry: [String: JSONValue] = ["id": .string(outcome.id)]
                    if let version = outcome.version { entry["version"] = .string(version) }
                    if let message = outcome.message { entry["message"] = .string(message) }
                    return .object(entry)
                })
        }
        var resource: [String: JSONValue] = [
            "id": .string(status.id), "status": .string(status.pending > 0 ? "pending" : "complete"),
            "request_timestamp": .string(status.requestTimestamp.text), "total_count": .number(Double(status.total)),
            "success_count": .number(Double(status.successes.count)), "failure_count": .number(Double(status.failures.count)),
            "failures": list(status.failures), "pending_count": .number(Double(status.pending)),
        ]
        // While pending, the counts say how far it has come; the successes are listed once complete.
        if status.pending == 0 {
            resource["successes"] = list(status.successes)
            resource["pendings"] = .array([])
        }
        return .object(resource)
    }

    /// A status resource, for the organisation whose account made the request.
    public func status(_ id: String, root: String, for subject: Subject) async throws -> [UInt8] {
        guard let found = try await store.intelStatus(id: id), found.organisation == subject.organisation.id,
            let collection = try await store.intelCollection(id: found.collection), collection.root == root
        else { throw QilaError(.notFound, "no such status") }
        return found.body
    }

    // MARK: reading

    /// A page of objects and where the next one starts.
    public struct Page: Sendable {
        public var records: [IntelObjectRecord]
        public var more: Bool
        public var next: String?
        /// Bodies as the reader may see them (granular markings above the reader's reach removed).
        public var bodies: [[UInt8]]
    }

    /// What a TAXII request asks for: filters and paging, already parsed.
    public struct Query: Sendable {
        public var addedAfter: StixTimestamp?
        public var next: String?
        public var limit: Int?
        public var ids: [String] = []
        public var types: [String] = []
        public var specVersions: [String] = []
        public var versions: [IntelObjectFilter.Version] = [.last]
        /// Whether the request named versions (a deletion without them deletes every version).
        public var versionsGiven = false
        public init() {}
    }

    func filter(_ query: Query, collection: String) throws -> IntelObjectFilter {
        var filter = IntelObjectFilter(collection: collection, limit: min(max(query.limit ?? Self.defaultPage, 1), Self.maximumPage))
        filter.addedAfter = query.addedAfter?.microseconds
        if let next = query.next {
            guard let cursor = Self.cursor(next) else { throw QilaError(.invalidInput, "is not a 'next' value this server gave", at: "next") }
            filter.after = cursor
        }
        filter.ids = query.ids
        filter.types = query.types
        filter.specVersions = query.specVersions
        filter.versions = query.versions
        return filter
    }

    static func cursor(_ text: String) -> (dateAdded: Int64, id: String, version: Int64)? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|", maxSplits: 2).map(String.init)
        guard parts.count == 3, let added = Int64(parts[0]), let version = Int64(parts[1]) else { return nil }
        return (added, parts[2], version)
    }

    static func token(_ record: IntelObjectRecord) -> String {
        Data("\(record.dateAdded)|\(record.version)|\(record.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The objects (or, with `bodies: false`, their manifest entries) the subject may see. Each
    /// object version received is recorded as a disclosure, and the response in the audit log.
    public func objects(_ query: Query, in collectionID: String, root: String, for subject: Subject, bodies: Bool = true, now: Date = Date()) async throws -> Page {
        let collection = try await collection(collectionID, root: root, for: subject)
        guard collection.canRead else {
            try await refuse(subject, .read, collection.record)
            throw QilaError(.forbidden, "this account may add to the collection but not read it")
        }
        let filter = try filter(query, collection: collectionID)
        let reader = reader(subject)
        var rows = try await store.intelObjects(filter, reader: reader, withBodies: bodies)
        let more = rows.count > filter.limit
        if more { rows.removeLast() }
        var shown: [[UInt8]] = []
        if bodies {
            for row in rows { shown.append(try await visibleBody(row, for: reader)) }
            try await disclose(rows, collection: collection.record, to: subject, now: now)
        }
        return Page(records: rows, more: more, next: more ? rows.last.map(Self.token) : nil, bodies: shown)
    }

    /// The body with the properties removed that granular markings restrict beyond the reader.
    func visibleBody(_ row: IntelObjectRecord, for reader: IntelReader) async throws -> [UInt8] {
        guard row.body.count > 20, String(decoding: row.body, as: UTF8.self).contains("\"granular_markings\""), var value = try? JSONValue.decode(row.body),
            let object = try? StixObject(value)
        else { return row.body }
        let recipients = try await store.intelRecipients(collection: row.collection, id: row.id, version: row.version)
        var removed: [String] = []
        var kept: [JSONValue] = []
        for entry in value["granular_markings"]?.array ?? [] {
            guard let ref = entry["marking_ref"]?.string, let tlp = StixObject.tlpMarkings[ref] else {
                kept.append(entry)
                continue
            }
            if Self.mayRead(tlp, producer: row.producer, addedBy: row.addedBy, recipients: recipients, reader: reader) {
                kept.append(entry)
            } else {
                removed += entry["selectors"]?.array?.compactMap(\.string) ?? []
            }
        }
        _ = object
        guard !removed.isEmpty, case .object(var properties) = value else { return row.body }
        for selector in removed where !selector.contains(".") { properties[selector] = nil }
        properties["granular_markings"] = kept.isEmpty ? nil : .array(kept)
        value = .object(properties)
        return try value.encoded()
    }

    /// The TLP rule of `IntelReader`'s SQL condition, for one marking.
    static func mayRead(_ tlp: TLP, producer: OrganisationID, addedBy: UserID, recipients: (organisations: [OrganisationID], people: [UserID]), reader: IntelReader) -> Bool {
        guard tlp.rank <= reader.clearance else { return false }
        switch tlp {
        case .clear, .green: return true
        case .amber: return producer == reader.organisation || recipients.organisations.contains(reader.organisation)
        case .amberStrict: return producer == reader.organisation
        case .red: return addedBy == reader.person || recipients.people.contains(reader.person)
        }
    }

    func disclose(_ rows: [IntelObjectRecord], collection: IntelCollectionRecord, to subject: Subject, now: Date) async throws {
        let others = rows.filter { $0.producer != subject.organisation.id }
        guard !others.isEmpty else { return }
        try await store.recordIntelDisclosures(
            others.map {
                IntelDisclosure(
                    collection: collection.id, id: $0.id, version: $0.version, producer: $0.producer, tlp: $0.tlp, account: subject.user.id,
                    organisation: subject.organisation.id, time: now)
            })
        var byMarking: [String: Int] = [:]
        for row in others { byMarking[TLP.allCases.first { $0.rank == row.tlp }?.slug ?? "?", default: 0] += 1 }
        try await audit.append(
            AuditEntry(
                time: now, actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "intel.disclose", outcome: .success,
                resource: "intel-collection:\(collection.id)",
                details: ["objects": String(others.count)].merging(byMarking.map { ("tlp-\($0.key)", String($0.value)) }) { $1 }))
    }

    /// Object versions naming a value (an address, a domain, a hash, a name, an id; exactly or
    /// as its start), across every collection the subject reads, newest first.
    public func search(_ text: String, for subject: Subject, limit: Int = 200) async throws -> [IntelObjectRecord] {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard value.utf8.count >= 2 else { throw QilaError.invalid("needs at least two characters", field: "q") }
        guard value.utf8.count <= 512 else { throw QilaError.invalid("must be at most 512 characters", field: "q") }
        let readable = try await collections(for: subject).filter(\.canRead).map(\.record.id)
        return try await store.searchIntelObjects(value, collections: readable, reader: reader(subject), limit: limit)
    }

    /// The versions of one object the subject may see, oldest added first.
    public func versions(of id: String, _ query: Query, in collectionID: String, root: String, for subject: Subject) async throws -> Page {
        var query = query
        query.ids = [id]
        query.versions = [.all]
        let page = try await objects(query, in: collectionID, root: root, for: subject, bodies: false)
        guard !page.records.isEmpty || query.next != nil || query.addedAfter != nil else { throw QilaError(.notFound, "no such object") }
        return page
    }

    /// Deletes versions of an object: its producer's organisation or the authority may.
    public func delete(_ id: String, versions: [IntelObjectFilter.Version], in collectionID: String, root: String, by subject: Subject, now: Date = Date()) async throws {
        let collection = try await collection(collectionID, root: root, for: subject)
        var filter = IntelObjectFilter(collection: collectionID, limit: 1)
        filter.ids = [id]
        filter.versions = versions
        let reader = reader(subject)
        guard try await !store.intelObjects(filter, reader: reader, withBodies: false).isEmpty else { throw QilaError(.notFound, "no such object") }
        let authority = subject.organisation.kind == .authority && policy.decide(subject, .update, Self.resource(collection.record)).allowed
        let deleted = try await store.deleteIntelObject(filter, reader: reader, producer: authority ? nil : subject.organisation.id)
        guard deleted > 0 else {
            try await refuse(subject, .delete, collection.record)
            throw QilaError(.forbidden, "only the organisation that shared an object, or the authority, deletes it")
        }
        try await audit.append(
            AuditEntry(
                time: now, actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "intel.objects.delete", outcome: .success,
                resource: "intel-collection:\(collection.record.id)", details: ["object": id, "versions": String(deleted)]))
    }

    func refuse(_ subject: Subject, _ action: Action, _ collection: IntelCollectionRecord) async throws {
        try await audit.append(
            AuditEntry(
                time: Date(), actor: subject.user.id.description, actorOrganisation: subject.organisation.id, action: "policy.deny", outcome: .denied,
                resource: "intel-collection:\(collection.id)", details: ["action": action.rawValue, "reason": "no-grant"]))
    }
}

// MARK: trust groups

extension IntelDesk {
    /// Makes a trust group: a collection of its own API root (`/taxii2/group-{slug}/`), read and
    /// written by the organisations named (a CERT community, foreign peers' counterparts) and the
    /// authority. `subject` is the authority's administrator on a page (nil: the operator at the
    /// server's shell).
    public func createGroup(title: String, slug: String, members: [OrganisationID], by subject: Subject?, now: Date = Date()) async throws
        -> IntelCollectionRecord
    {
        let title = title.trimmingCharacters(in: .whitespaces)
        guard !title.isEmpty, title.count <= 100 else { throw QilaError.invalid("needs 1 to 100 characters", field: "title") }
        let slug = slug.trimmingCharacters(in: .whitespaces)
        guard (2...40).contains(slug.utf8.count), slug.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }),
            !slug.hasPrefix("-"), !slug.hasSuffix("-")
        else { throw QilaError.invalid("must be 2 to 40 lower-case letters, digits and hyphens", field: "slug") }
        guard !members.isEmpty else { throw QilaError.invalid("needs at least one organisation", field: "members") }
        var known: [OrganisationID] = []
        for member in members where !known.contains(member) {
            guard try await store.organisation(member) != nil else { throw QilaError.invalid("names an organisation that does not exist", field: "members") }
            known.append(member)
        }
        let candidate = IntelCollectionRecord(
            root: "group-\(slug)", kind: .group, key: slug, title: title, description: "Shared within the trust group \(title).", audience: known,
            createdAt: now)
        if let subject {
            guard subject.organisation.kind == .authority, policy.decide(subject, .administer, Self.resource(candidate)).allowed else {
                try await refuse(subject, .administer, candidate)
                throw QilaError(.forbidden, "the authority's administrators define trust groups")
            }
        }
        let stored = try await store.ensureIntelCollection(candidate)
        guard stored.id == candidate.id else { throw QilaError.invalid("is taken by another trust group", field: "slug") }
        try await audit.append(
            AuditEntry(
                time: now, actor: subject?.user.id.description ?? "console", actorOrganisation: subject?.organisation.id, action: "intel.group.add",
                outcome: .success, resource: "intel-collection:\(stored.id)",
                details: ["title": title, "root": stored.root, "members": known.map(\.description).joined(separator: " ")]))
        return stored
    }
}

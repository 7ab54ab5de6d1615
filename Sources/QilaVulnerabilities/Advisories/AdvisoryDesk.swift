public import Crypto
public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Advisories: the authority writes one (Markdown, TLP 2.0, products, CVEs, CVSS vectors,
/// remediations, references), a second person reviews and publishes it, and each publication is a
/// revision kept for ever with its CSAF 2.1 document, hashes and OpenPGP signature. Readers get
/// what the marking allows: CLEAR everyone (the public pages too), GREEN every member, AMBER the
/// sectors and organisations it names, RED the organisations it names. Every step is audited.
public struct AdvisoryDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog
    let policy: PolicyDecisionPoint
    let publisher: CSAFDocument.Publisher
    let signer: OpenPGPSigner
    let trackingPrefix: String
    let generatorVersion: String

    public init(
        store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint, publisher: CSAFDocument.Publisher, signer: OpenPGPSigner, trackingPrefix: String = "QILA",
        generatorVersion: String = "1"
    ) {
        self.store = store
        self.audit = audit
        self.policy = policy
        self.publisher = publisher
        self.signer = signer
        self.trackingPrefix = trackingPrefix
        self.generatorVersion = generatorVersion
    }

    /// The installation's CSAF signing key: derived from the sealing key, its creation time fixed
    /// once in the database by the first node that needs it.
    public static func signer(store: SQLStore, sealingKey: SymmetricKey, userID: String, now: Date = Date()) async throws -> OpenPGPSigner {
        let created = try await store.settingOnce("csaf.openpgp.created", String(Int64(now.timeIntervalSince1970)))
        return OpenPGPSigner(sealingKey: sealingKey, created: UInt32(clamping: Int64(created) ?? 0), userID: userID)
    }

    public var publicKey: (fingerprint: String, armored: String) { (signer.fingerprint, signer.armoredPublicKey) }

    static let drafts = Resource(kind: .advisoryDraft, reference: "advisories")

    static func resource(_ revision: AdvisoryRevision) -> Resource {
        Resource(
            kind: .advisory, tlp: revision.tlp, audience: revision.tlp >= .amber ? Set(revision.audience.compactMap(OrganisationID.init)) : nil,
            reference: "advisory:\(revision.advisoryID)")
    }

    /// Times are kept to the millisecond, as the store keeps them, so that a record read back compares equal.
    static func stored(_ date: Date) -> Date { Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000) }

    // MARK: writing

    public func begin(_ input: AdvisoryInput, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRecord {
        try await gate.require(subject, .create, Self.drafts)
        let (title, tlp) = try Self.titleAndMarking(input)
        let draft = try Self.encode(input)
        let time = Self.stored(now)
        for _ in 0..<5 {
            if let record = try await store.createAdvisory(
                id: UUID().uuidString.lowercased(), prefix: trackingPrefix, year: CivilDay(time).components.year, title: title, tlp: tlp, draft: draft,
                by: subject.user.id.description, at: time)
            {
                try await audit.recordChange(by: subject, "advisory.create", resource: "advisory:\(record.id)", source: nil, details: ["tracking": record.trackingID], now: now)
                return record
            }
        }
        throw QilaError(.conflict, "another advisory took the next tracking number five times; try again")
    }

    /// The title and marking, which a draft needs before it can be saved at all.
    static func titleAndMarking(_ input: AdvisoryInput) throws -> (title: String, tlp: TLP) {
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw QilaError.invalid("is required", field: "title") }
        guard title.count <= 200 else { throw QilaError.invalid("is longer than 200 characters", field: "title") }
        guard let tlp = TLP(label: input.tlp) else { throw QilaError.invalid("must be a TLP 2.0 label", field: "tlp") }
        return (title, tlp)
    }

    /// Changes the working copy if nobody changed it since it was read here, and audits the change.
    private func change(
        _ id: String, _ action: String, by subject: Subject, gate: any AccessGate, now: Date, _ edit: (inout AdvisoryRecord) async throws -> Void
    ) async throws -> AdvisoryRecord {
        try await gate.require(subject, .update, Self.drafts)
        guard var record = try await store.advisory(id) else { throw QilaError(.notFound, "no advisory \(id)") }
        let (state, read) = (record.state, record.updatedAt)
        try await edit(&record)
        record.updatedBy = subject.user.id.description
        record.updatedAt = Self.stored(now)
        guard try await store.updateAdvisory(record, expecting: state, expectingUpdate: read) else {
            throw QilaError(.conflict, "the advisory was changed by someone else meanwhile; reload it and try again")
        }
        try await audit.recordChange(by: subject, action, resource: "advisory:\(id)", source: nil, details: ["tracking": record.trackingID], now: now)
        return record
    }

    /// Saves the draft as typed (only the title and marking must be sound); a published advisory
    /// becomes a draft of its next revision; an advisory under review goes back to its author.
    public func save(_ id: String, _ input: AdvisoryInput, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRecord {
        // Checked after the gate, in the change: who may not write learns nothing of the form.
        try await change(id, "advisory.save", by: subject, gate: gate, now: now) { record in
            let (title, tlp) = try Self.titleAndMarking(input)
            (record.title, record.tlp, record.draft, record.state) = (title, tlp, try Self.encode(input), .draft)
            (record.submittedBy, record.submittedAt) = (nil, nil)
        }
    }

    /// Sends the draft for review: it must read and check whole (the error names the field and line).
    public func submit(_ id: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRecord {
        try await change(id, "advisory.submit", by: subject, gate: gate, now: now) { record in
            guard record.state == .draft else {
                throw QilaError(.conflict, "The advisory is \(record.state.rawValue), not a draft: save a change to begin its next revision", at: "state")
            }
            _ = try await checkedContent(record)
            (record.state, record.submittedBy, record.submittedAt, record.reviewNote) = (.review, subject.user.id.description, Self.stored(now), nil)
        }
    }

    /// Returns an advisory under review to its author with a note saying what to change.
    public func returnToAuthor(_ id: String, note: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRecord {
        try await change(id, "advisory.return", by: subject, gate: gate, now: now) { record in
            let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
            guard record.state == .review else { throw QilaError(.conflict, "The advisory is not waiting for review", at: "state") }
            guard !text.isEmpty else { throw QilaError.invalid("say what the author should change", field: "note") }
            guard text.count <= 2_000 else { throw QilaError.invalid("is longer than 2000 characters", field: "note") }
            (record.state, record.reviewNote) = (.draft, text)
        }
    }

    /// Publishes the advisory under review as its next revision: someone other than the person who
    /// sent it for review publishes it (four eyes); the CSAF document is built, hashed and signed.
    public func publish(_ id: String, summary: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRevision {
        try await gate.require(subject, .update, Self.drafts)
        guard var record = try await store.advisory(id) else { throw QilaError(.notFound, "no advisory \(id)") }
        guard record.state == .review else { throw QilaError(.conflict, "The advisory must be sent for review before it is published", at: "state") }
        guard record.submittedBy != subject.user.id.description else {
            throw QilaError(.forbidden, "You sent this advisory for review: another analyst or administrator reviews and publishes it", at: "state")
        }
        if let linked = try await store.disclosureCase(advisoryID: id), linked.status == .open, let embargo = linked.embargoAt, embargo > now {
            throw QilaError(
                .conflict, "The advisory publishes \(linked.trackingID), under embargo until \(EmbargoInput.describe(embargo, zone: linked.embargoZone ?? "UTC"))",
                at: "state")
        }
        let number = record.publishedVersion + 1
        let change = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        let changeSummary = change.isEmpty ? (number == 1 ? "Initial publication." : "") : change
        guard !changeSummary.isEmpty else { throw QilaError.invalid("say what this revision changes", field: "summary") }
        guard changeSummary.count <= 500 else { throw QilaError.invalid("is longer than 500 characters", field: "summary") }
        let content = try await checkedContent(record)
        let audience = try await audience(of: content)
        let time = Self.stored(Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)))
        let earlier = try await store.advisoryRevisions(id)
        // A revision cannot change the marking's folder: CSAF keeps a document's path for ever.
        if let first = earlier.first, first.tlp != content.tlp {
            throw QilaError.invalid("was \(first.tlp.rawValue) when first published; publish a new advisory for another marking", field: "tlp")
        }
        var history = earlier.map { CSAFDocument.Revision(number: $0.number, date: $0.publishedAt, summary: $0.summary) }
        history.append(CSAFDocument.Revision(number: number, date: time, summary: changeSummary))
        let document = try CSAFDocument.build(
            content: content, trackingID: record.trackingID, revisions: history, publisher: publisher, generatorVersion: generatorVersion)
        let revision = AdvisoryRevision(
            advisoryID: id, number: number, title: content.title, tlp: content.tlp, audience: audience.map(\.description).sorted(),
            content: String(decoding: try JSONEncoder().encode(content), as: UTF8.self), summary: changeSummary,
            path: CSAFDocument.path(trackingID: record.trackingID, tlp: content.tlp, initialRelease: history[0].date), document: Array(document),
            sha256: SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined(),
            sha512: SHA512.hash(data: document).map { String(format: "%02x", $0) }.joined(), signature: signer.sign(document, at: time),
            publishedBy: subject.user.id.description, reviewedBy: subject.user.id.description, publishedAt: time)
        let read = record.updatedAt
        record.updatedBy = subject.user.id.description
        record.updatedAt = time
        guard try await store.publishAdvisoryRevision(revision, record: record, expectingUpdate: read) else {
            throw QilaError(.conflict, "the advisory was changed or published by someone else meanwhile; reload it")
        }
        try await audit.recordChange(
            by: subject, "advisory.publish", resource: "advisory:\(id)", source: nil,
            details: ["tracking": record.trackingID, "revision": String(number), "tlp": content.tlp.rawValue, "sha256": revision.sha256], now: now)
        try await DisclosureDesk.published(id, store: store, audit: audit, by: subject, now: now)
        return revision
    }

    /// The organisations a marking addresses: for AMBER those of the named sectors and the named
    /// organisations, for RED the named organisations; none for CLEAR and GREEN (everyone allowed).
    func audience(of content: AdvisoryContent) async throws -> Set<OrganisationID> {
        guard content.tlp >= .amber else { return [] }
        let all = try await store.organisations()
        var chosen = Set<OrganisationID>()
        for text in content.organisations {
            guard let organisation = all.first(where: { $0.id.description == text }) else { throw QilaError.invalid("has no organisation \(text)", field: "organisations") }
            chosen.insert(organisation.id)
        }
        let sectors = try await store.sectors()
        for text in content.sectors {
            guard let sector = sectors.first(where: { $0.id.description == text }) else { throw QilaError.invalid("has no sector \(text)", field: "sectors") }
            for organisation in all where organisation.sector == sector.id { chosen.insert(organisation.id) }
        }
        return chosen
    }

    func checkedContent(_ record: AdvisoryRecord) async throws -> AdvisoryContent {
        let content = try AdvisoryContent(try Self.decode(record.draft))
        _ = try await audience(of: content)
        return content
    }

    static func encode(_ input: AdvisoryInput) throws -> String { String(decoding: try JSONEncoder().encode(input), as: UTF8.self) }
    public static func decode(_ draft: String) throws -> AdvisoryInput { try JSONDecoder().decode(AdvisoryInput.self, from: Data(draft.utf8)) }

    // MARK: reading

    /// Every advisory with its working state, for the authority's list.
    public func workingCopies(for subject: Subject, gate: any AccessGate) async throws -> [AdvisoryRecord] {
        try await gate.require(subject, .read, Self.drafts)
        return try await store.advisories()
    }

    public func workingCopy(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> (record: AdvisoryRecord, input: AdvisoryInput) {
        try await gate.require(subject, .read, Self.drafts)
        guard let record = try await store.advisory(id) else { throw QilaError(.notFound, "no advisory \(id)") }
        return (record, try Self.decode(record.draft))
    }

    /// The latest revision of each advisory the reader may read (nil reader: the public, TLP:CLEAR only).
    public func published(for subject: Subject?) async throws -> [AdvisoryRevision] {
        try await store.latestAdvisoryRevisions().filter { may(subject, read: $0) }
    }

    /// One advisory's revisions, if the reader may read its latest; the latest's marking rules all.
    public func revisions(trackingID: String, for subject: Subject?) async throws -> (record: AdvisoryRecord, revisions: [AdvisoryRevision])? {
        guard let record = try await store.advisory(trackingID: trackingID), record.publishedVersion > 0 else { return nil }
        let revisions = try await store.advisoryRevisions(record.id)
        guard let latest = revisions.last, may(subject, read: latest) else { return nil }
        return (record, revisions)
    }

    /// Whether the reader may read a revision: the public only TLP:CLEAR; members by the policy.
    public func may(_ subject: Subject?, read revision: AdvisoryRevision) -> Bool {
        guard let subject else { return revision.tlp == .clear }
        return policy.decide(subject, .read, Self.resource(revision)).allowed
    }

    /// Records that an AMBER or RED advisory was read (who read what, when), as intelligence does.
    public func recordDisclosure(_ revision: AdvisoryRevision, to subject: Subject, via channel: String, now: Date = Date()) async throws {
        guard revision.tlp >= .amber else { return }
        try await audit.recordChange(
            by: subject, "advisory.read", resource: "advisory:\(revision.advisoryID)", source: nil,
            details: ["revision": String(revision.number), "tlp": revision.tlp.rawValue, "via": channel], now: now)
    }

    /// Every published revision, for `changes.csv` and the ROLIE feeds (the caller filters by marking).
    public func allRevisions() async throws -> [AdvisoryRevision] { try await store.allAdvisoryRevisions() }

    public var publisherName: String { publisher.name }
    public var namespace: String { publisher.namespace }
}

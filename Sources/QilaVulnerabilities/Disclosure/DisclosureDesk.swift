public import Foundation
public import Logging
public import QilaAccess
public import QilaCore
public import QilaStore
public import ServiceLifecycle

/// Coordinated vulnerability disclosure. A researcher reports a vulnerability on the public pages;
/// the authority opens a case for it with one or more vendor organisations, whose contacts get
/// accounts that reach only the cases they are vendors in; an embargo is agreed as an instant in a
/// named time zone (every vendor agrees it again when it changes); each vendor says where it stands
/// and what the advisory should say; the authority drafts the case's advisory, and a second person
/// approves its release, which happens when the embargo ends and not a moment before.
public struct DisclosureDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog
    let policy: PolicyDecisionPoint
    let directory: Directory
    let secrets: ServerSecrets
    let advisories: AdvisoryDesk
    /// Makes the one-time link with which a new vendor contact sets a password.
    let setupLink: @Sendable (User) async throws -> String
    let trackingPrefix: String

    public init(
        store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint, secrets: ServerSecrets, advisories: AdvisoryDesk,
        setupLink: @escaping @Sendable (User) async throws -> String, trackingPrefix: String = "CVD"
    ) {
        self.store = store
        self.audit = audit
        self.policy = policy
        self.directory = Directory(store: store, audit: audit)
        self.secrets = secrets
        self.advisories = advisories
        self.setupLink = setupLink
        self.trackingPrefix = trackingPrefix
    }

    /// The authority's own side: reports, opening cases. Cases themselves carry their vendors as audience.
    public static let desk = Resource(kind: .disclosureCase, reference: "disclosures")
    static let reports = Resource(kind: .vulnerabilityReport, reference: "vulnerability-reports")

    public static func resource(_ record: DisclosureCase, vendors: [DisclosureVendor]) -> Resource {
        Resource(kind: .disclosureCase, audience: Set(vendors.map(\.organisation)), reference: "disclosure:\(record.trackingID)")
    }

    public static func resource(vendor organisation: OrganisationID, in record: DisclosureCase) -> Resource {
        Resource(kind: .disclosureVendor, owner: organisation, reference: "disclosure:\(record.trackingID)/vendor:\(organisation)")
    }

    public typealias Contact = VulnerabilityReport.Contact

    // MARK: researchers' reports

    public func reports(_ status: VulnerabilityReport.Status?, for subject: Subject, gate: any AccessGate) async throws -> [VulnerabilityReport] {
        try await gate.require(subject, .read, Self.reports)
        return try await store.vulnerabilityReports(status: status)
    }

    public func report(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> VulnerabilityReport {
        try await gate.require(subject, .read, Self.reports)
        guard let report = try await store.vulnerabilityReport(id: id) else { throw QilaError(.notFound, "no vulnerability report \(id)") }
        return report
    }

    /// Unseals the researcher's contact details; every reading is audited.
    public func contact(of report: VulnerabilityReport, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Contact? {
        try await gate.require(subject, .update, Self.reports)
        guard let sealed = report.sealedContact else { return nil }
        let contact = try JSONDecoder().decode(Contact.self, from: Data(try secrets.open(sealed)))
        try await audit.recordChange(by: subject, "disclosure.report.contact", resource: "vulnerability-report:\(report.reference)", source: nil, now: now)
        return contact
    }

    /// Declines a new report with a note saying why (out of scope, a duplicate, not a vulnerability).
    public func decline(_ id: String, note: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await gate.require(subject, .update, Self.reports)
        let report = try await report(id, for: subject, gate: gate)
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw QilaError.invalid("say why the report is declined", field: "note") }
        guard text.count <= 2_000 else { throw QilaError.invalid("is longer than 2000 characters", field: "note") }
        guard try await store.decideVulnerabilityReport(id: report.id, status: .declined, caseID: nil, by: subject.user.id, at: now, note: text) else {
            throw QilaError(.conflict, "\(report.reference) was already \(report.status.rawValue)", at: "state")
        }
        try await audit.recordChange(by: subject, "disclosure.report.decline", resource: "vulnerability-report:\(report.reference)", source: nil, now: now)
    }

    // MARK: cases

    /// What opening a case asks: the title and summary vendors read, and the embargo if agreed yet.
    public struct Opening: Sendable, Equatable {
        public var title = ""
        public var summary = ""
        public var reportID = ""
        public var embargo = EmbargoInput()
        public init(title: String = "", summary: String = "", reportID: String = "", embargo: EmbargoInput = EmbargoInput()) {
            self.title = title
            self.summary = summary
            self.reportID = reportID
            self.embargo = embargo
        }
    }

    public func open(_ opening: Opening, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> DisclosureCase {
        try await gate.require(subject, .create, Self.desk)
        let title = opening.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw QilaError.invalid("is required", field: "title") }
        guard title.count <= 200 else { throw QilaError.invalid("is longer than 200 characters", field: "title") }
        let summary = opening.summary.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !summary.isEmpty else { throw QilaError.invalid("is required: what the vendors need to know", field: "summary") }
        guard summary.count <= 20_000 else { throw QilaError.invalid("is longer than 20000 characters", field: "summary") }
        let embargo = try opening.embargo.isEmpty ? nil : opening.embargo.resolved(after: now)
        var report: VulnerabilityReport?
        let reportID = opening.reportID.trimmingCharacters(in: .whitespaces)
        if !reportID.isEmpty {
            report = try await store.vulnerabilityReport(id: reportID)
            guard let report else { throw QilaError.invalid("has no report \(reportID)", field: "reportID") }
            guard report.status == .new else { throw QilaError.invalid("\(report.reference) was already \(report.status.rawValue)", field: "reportID") }
        }
        let time = AdvisoryDesk.stored(now)
        for _ in 0..<5 {
            guard
                let record = try await store.createDisclosureCase(
                    id: UUID().uuidString.lowercased(), prefix: trackingPrefix, year: CivilDay(time).components.year, title: title, summary: summary,
                    embargoAt: embargo?.instant, embargoZone: embargo?.zone, reportID: report?.id, by: subject.user.id.description, at: time)
            else { continue }
            if let report {
                _ = try await store.decideVulnerabilityReport(
                    id: report.id, status: .opened, caseID: record.id, by: subject.user.id, at: time, note: "Case \(record.trackingID)")
            }
            try await audit.recordChange(
                by: subject, "disclosure.open", resource: "disclosure:\(record.trackingID)", source: nil,
                details: ["report": report?.reference ?? "none", "embargo": record.embargoAt.map(RFC3339.format) ?? "none"], now: now)
            return record
        }
        throw QilaError(.conflict, "another case took the next tracking number five times; try again")
    }

    /// A case the subject may read, with its vendors and, for the authority, the report it came from.
    public struct Detail: Sendable {
        public var record: DisclosureCase
        public var vendors: [DisclosureVendor]
        public var report: VulnerabilityReport?
        public var advisory: AdvisoryRecord?
    }

    public func detail(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> Detail {
        guard let record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        let vendors = try await store.disclosureVendors(caseID: record.id)
        try await gate.require(subject, .read, Self.resource(record, vendors: vendors))
        var report = try await record.reportID.asyncMap { try await store.vulnerabilityReport(id: $0) } ?? nil
        // Vendors read the researcher's technical description, never the contact details.
        if !policy.decide(subject, .update, Self.desk).allowed { report?.sealedContact = nil }
        let advisory = try await record.advisoryID.asyncMap { try await store.advisory($0) } ?? nil
        return Detail(record: record, vendors: vendors, report: report, advisory: advisory)
    }

    /// The cases the subject may read: every case for the authority, a vendor's own otherwise.
    public func cases(for subject: Subject) async throws -> [(record: DisclosureCase, vendors: Int)] {
        if policy.decide(subject, .read, Self.desk).allowed { return try await store.disclosureCases() }
        guard subject.effectiveRoles.contains(.vendorContact) else { return [] }
        return try await store.disclosureCases(vendor: subject.organisation.id)
    }

    /// Changes a case if nobody changed it since it was read, and audits the change.
    @discardableResult
    func change(
        _ id: String, _ action: String, by subject: Subject, gate: any AccessGate, now: Date, details: [String: String] = [:],
        _ edit: (inout DisclosureCase) async throws -> [String: String]
    ) async throws -> DisclosureCase {
        try await gate.require(subject, .update, Self.desk)
        guard var record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        let read = record.updatedAt
        let extra = try await edit(&record)
        record.updatedAt = AdvisoryDesk.stored(now)
        guard try await store.updateDisclosureCase(record, expecting: read) else {
            throw QilaError(.conflict, "the case was changed by someone else meanwhile; reload it and try again")
        }
        try await audit.recordChange(
            by: subject, action, resource: "disclosure:\(record.trackingID)", source: nil, details: details.merging(extra) { $1 }, now: now)
        return record
    }

    static func requireOpen(_ record: DisclosureCase) throws {
        guard record.status == .open else { throw QilaError(.conflict, "\(record.trackingID) is \(record.status.rawValue)", at: "state") }
    }

    /// Sets or moves the embargo; the reason is kept in the audit log, and every vendor agrees anew.
    public func setEmbargo(_ id: String, _ input: EmbargoInput, reason: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws
        -> DisclosureCase
    {
        try await gate.require(subject, .update, Self.desk)
        let embargo = try input.resolved(after: now)
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard why.count <= 1_000 else { throw QilaError.invalid("is longer than 1000 characters", field: "reason") }
        let record = try await change(id, "disclosure.embargo", by: subject, gate: gate, now: now) { record in
            try Self.requireOpen(record)
            if record.embargoAt != nil, why.isEmpty { throw QilaError.invalid("say why the embargo moves: the vendors read it", field: "reason") }
            let before = record.embargoAt.map(RFC3339.format) ?? "none"
            (record.embargoAt, record.embargoZone) = (embargo.instant, embargo.zone)
            return ["from": before, "to": RFC3339.format(embargo.instant), "zone": embargo.zone, "reason": why]
        }
        try await store.clearDisclosureAgreements(caseID: record.id)
        return record
    }

    /// Adds existing vendor organisations to a case.
    public func addVendors(_ id: String, organisations: [String], by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Int {
        try await gate.require(subject, .update, Self.desk)
        guard let record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        try Self.requireOpen(record)
        guard !organisations.isEmpty else { throw QilaError.invalid("choose at least one vendor", field: "organisations") }
        var added = 0
        for text in organisations {
            guard let organisationID = OrganisationID(text), let organisation = try await store.organisation(organisationID), organisation.kind == .vendor else {
                throw QilaError.invalid("has no vendor organisation \(text)", field: "organisations")
            }
            if try await store.addDisclosureVendor(caseID: record.id, organisation: organisation.id, by: subject.user.id.description, at: AdvisoryDesk.stored(now)) {
                added += 1
                try await audit.recordChange(
                    by: subject, "disclosure.vendor.add", resource: "disclosure:\(record.trackingID)", source: nil,
                    details: ["organisation": organisation.id.description], now: now)
            }
        }
        return added
    }

    /// What inviting a new vendor asks: its name and the sector whose products it makes, and its contact.
    public struct Invitation: Sendable, Equatable {
        public var vendor = ""
        public var sector = ""
        public var contactName = ""
        public var contactEmail = ""
        public init(vendor: String = "", sector: String = "", contactName: String = "", contactEmail: String = "") {
            self.vendor = vendor
            self.sector = sector
            self.contactName = contactName
            self.contactEmail = contactEmail
        }
    }

    /// Registers a vendor (or finds the vendor of that name), gives its contact an account that
    /// reaches only its cases (the e-mail address is the user name), adds it to the case, and
    /// returns the one-time link with which the contact sets a password.
    public func invite(_ id: String, _ invitation: Invitation, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws
        -> (organisation: Organisation, user: User, link: String)
    {
        try await gate.require(subject, .update, Self.desk)
        guard let record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        try Self.requireOpen(record)
        let name = invitation.vendor.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw QilaError.invalid("is required", field: "vendor") }
        let contactName = invitation.contactName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !contactName.isEmpty else { throw QilaError.invalid("is required", field: "contactName") }
        let email = invitation.contactEmail.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !email.isEmpty else { throw QilaError.invalid("is required", field: "contactEmail") }
        do { _ = try Directory.email(email) } catch let error as QilaError { throw QilaError(error.code, error.message, at: "field contactEmail") }
        let existing = try await store.organisations().first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        if let existing, existing.kind != .vendor {
            throw QilaError.invalid("names \(existing.kind.title.lowercased()) '\(existing.name)', not a vendor; choose another name", field: "vendor")
        }
        let organisation: Organisation
        if let existing {
            organisation = existing
        } else {
            let sector = SectorID(rawValue: invitation.sector.trimmingCharacters(in: .whitespaces))
            guard try await store.sectors().contains(where: { $0.id == sector }) else {
                throw QilaError.invalid("choose the sector whose products the vendor makes", field: "sector")
            }
            do {
                organisation = try await directory.createOrganisation(.init(name: name, kind: .vendor, sector: sector), by: subject)
            } catch let error as QilaError where error.code == .invalidInput {
                throw QilaError(error.code, error.message, at: "field vendor")
            }
        }
        let user: User
        do {
            user = try await directory.createUser(
                Directory.UserInput(username: email, displayName: contactName, email: email, roles: [.vendorContact], clearance: .amber), in: organisation.id,
                by: nil)
        } catch let error as QilaError where error.code == .conflict || error.code == .invalidInput {
            let field = error.field == "displayName" ? "contactName" : "contactEmail"
            throw QilaError(error.code, error.code == .conflict ? "\(email) already has an account" : error.message, at: "field \(field)")
        }
        let link = try await setupLink(user)
        try await audit.recordChange(
            by: subject, "disclosure.vendor.invite", resource: "disclosure:\(record.trackingID)", source: nil,
            details: ["organisation": organisation.id.description, "user": user.id.description], now: now)
        _ = try await store.addDisclosureVendor(caseID: record.id, organisation: organisation.id, by: subject.user.id.description, at: AdvisoryDesk.stored(now))
        return (organisation, user, link)
    }

    /// What a vendor (or the authority on its behalf) says: its status, its statement for the
    /// advisory, and whether it agrees the embargo as it now stands.
    public struct VendorAnswer: Sendable, Equatable {
        public var status = ""
        public var statement = ""
        public var agreesEmbargo = false
        public init(status: String = "", statement: String = "", agreesEmbargo: Bool = false) {
            self.status = status
            self.statement = statement
            self.agreesEmbargo = agreesEmbargo
        }
    }

    public func answer(_ id: String, vendor organisationText: String, _ answer: VendorAnswer, by subject: Subject, gate: any AccessGate, now: Date = Date())
        async throws -> DisclosureVendor
    {
        guard let record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        let vendors = try await store.disclosureVendors(caseID: record.id)
        try await gate.require(subject, .read, Self.resource(record, vendors: vendors))
        guard let organisation = OrganisationID(organisationText), var vendor = vendors.first(where: { $0.organisation == organisation }) else {
            throw QilaError.invalid("choose one of the vendors of \(record.trackingID)", field: "organisation")
        }
        try await gate.require(subject, .update, Self.resource(vendor: organisation, in: record))
        try Self.requireOpen(record)
        guard let status = DisclosureVendor.Status(rawValue: answer.status) else { throw QilaError.invalid("choose one of the statuses", field: "status") }
        let statement = answer.statement.trimmingCharacters(in: .whitespacesAndNewlines)
        guard statement.count <= 4_000 else { throw QilaError.invalid("is longer than 4000 characters", field: "statement") }
        if [.affected, .fixReady, .notAffected].contains(status), statement.isEmpty {
            throw QilaError.invalid("say in a sentence or two what the advisory should say for \(vendor.organisationName)", field: "statement")
        }
        if answer.agreesEmbargo, record.embargoAt == nil { throw QilaError.invalid("there is no embargo to agree yet", field: "agreesEmbargo") }
        (vendor.status, vendor.statement, vendor.embargoAgreed) = (status, statement, answer.agreesEmbargo)
        (vendor.updatedBy, vendor.updatedAt) = (subject.user.id.description, AdvisoryDesk.stored(now))
        guard try await store.updateDisclosureVendor(vendor) else { throw QilaError(.notFound, "no such vendor in \(record.trackingID)") }
        try await audit.recordChange(
            by: subject, "disclosure.vendor.answer", resource: "disclosure:\(record.trackingID)", source: nil,
            details: ["organisation": organisation.description, "status": status.rawValue, "embargo": answer.agreesEmbargo ? "agreed" : "not agreed"], now: now)
        return vendor
    }

    // MARK: the advisory and its release

    /// Begins the case's advisory as a TLP:CLEAR draft: the title, the summary, a line per
    /// vendor that says it is affected, and each vendor's statement, for the author to finish.
    public func draftAdvisory(_ id: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> AdvisoryRecord {
        try await gate.require(subject, .update, Self.desk)
        guard let record = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        try Self.requireOpen(record)
        if let existing = try await record.advisoryID.asyncMap({ try await store.advisory($0) }) ?? nil { return existing }
        let vendors = try await store.disclosureVendors(caseID: record.id)
        let report = try await record.reportID.asyncMap { try await store.vulnerabilityReport(id: $0) } ?? nil
        let affected = vendors.filter { $0.status == .affected || $0.status == .fixReady }
        var products = affected.map { "\($0.organisationName) | \(report?.product ?? "product") | \(report.map { $0.version.isEmpty ? "" : $0.version } ?? "")" }
        if products.isEmpty, let report { products = ["\(report.vendor) | \(report.product) | \(report.version)"] }
        var details = record.summary
        let statements = vendors.filter { !$0.statement.isEmpty }.map { "- **\($0.organisationName)** (\($0.status.title.lowercased())): \($0.statement)" }
        if !statements.isEmpty { details += "\n\n## Vendors' statements\n\n" + statements.joined(separator: "\n") }
        if let credit = report?.credit, !credit.isEmpty { details += "\n\n## Acknowledgements\n\nReported by \(credit)." }
        let input = AdvisoryInput(
            title: record.title, tlp: TLP.clear.rawValue, summary: record.summary, details: details, products: products.joined(separator: "\n"),
            vulnerabilities: "| \(record.title)")
        let advisory = try await advisories.begin(input, by: subject, gate: gate, now: now)
        try await change(id, "disclosure.advisory", by: subject, gate: gate, now: now, details: ["advisory": advisory.trackingID]) { record in
            record.advisoryID = advisory.id
            return [:]
        }
        return advisory
    }

    /// What approving the release did.
    public enum Release: Sendable, Equatable {
        /// The embargo had ended: the advisory was published now.
        case published(AdvisoryRevision)
        /// It will be published when the embargo ends.
        case scheduled(Date)
    }

    /// Approves publishing the case's advisory, which waits for review: someone other than who
    /// sent it for review approves; it is published at once if the embargo has ended, else when it ends.
    public func approveRelease(_ id: String, summary: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Release {
        try await gate.require(subject, .update, Self.desk)
        try await gate.require(subject, .update, Resource(kind: .advisoryDraft, reference: "advisories"))
        guard let current = try await store.disclosureCase(id) else { throw QilaError(.notFound, "no disclosure case \(id)") }
        try Self.requireOpen(current)
        guard let advisoryID = current.advisoryID, let advisory = try await store.advisory(advisoryID) else {
            throw QilaError(.conflict, "draft the case's advisory first", at: "state")
        }
        guard advisory.state == .review else { throw QilaError(.conflict, "\(advisory.trackingID) must be sent for review before its release is approved", at: "state") }
        guard advisory.submittedBy != subject.user.id.description else {
            throw QilaError(.forbidden, "You sent \(advisory.trackingID) for review: another analyst or administrator approves its release", at: "state")
        }
        guard let embargo = current.embargoAt else { throw QilaError(.conflict, "agree an embargo before approving the release", at: "state") }
        if embargo <= now {
            let revision = try await advisories.publish(advisoryID, summary: summary, by: subject, gate: gate, now: now)
            return .published(revision)
        }
        let text = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 500 else { throw QilaError.invalid("is longer than 500 characters", field: "summary") }
        try await change(id, "disclosure.release.approve", by: subject, gate: gate, now: now, details: ["at": RFC3339.format(embargo)]) { record in
            (record.releaseBy, record.releaseSummary) = (subject.user.id.description, text)
            return [:]
        }
        return .scheduled(embargo)
    }

    /// Closes a case without an advisory; the reason is kept in the audit log.
    public func close(_ id: String, reason: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await gate.require(subject, .update, Self.desk)
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty else { throw QilaError.invalid("say why the case closes without an advisory", field: "reason") }
        guard why.count <= 1_000 else { throw QilaError.invalid("is longer than 1000 characters", field: "reason") }
        try await change(id, "disclosure.close", by: subject, gate: gate, now: now, details: ["reason": why]) { record in
            try Self.requireOpen(record)
            record.status = .closed
            return [:]
        }
    }

    /// Publishes the advisory of every case whose approved release has come: as the person who
    /// approved it, whose grant is asked again now. An advisory changed since the approval (no
    /// longer waiting for review) is not published; the approval is withdrawn and the reason audited.
    public func releaseDue(now: Date = Date()) async throws -> [String] {
        var released: [String] = []
        let gate = DecisionGate(policy: policy, audit: audit)
        for record in try await store.disclosureCasesDueForRelease(at: now) {
            guard let advisoryID = record.advisoryID, let approver = record.releaseBy.flatMap(UserID.init) else { continue }
            let advisory = try await store.advisory(advisoryID)
            guard let user = try await store.user(approver), let organisation = try await store.organisation(user.organisation), !user.disabled,
                advisory?.state == .review
            else {
                var withdrawn = record
                (withdrawn.releaseBy, withdrawn.releaseSummary, withdrawn.updatedAt) = (nil, nil, AdvisoryDesk.stored(now))
                if try await store.updateDisclosureCase(withdrawn, expecting: record.updatedAt) {
                    try await audit.recordChange(
                        by: nil, "disclosure.release.withdraw", resource: "disclosure:\(record.trackingID)", source: nil,
                        details: ["reason": advisory?.state != .review ? "the advisory changed after the approval" : "the approver's account is gone or disabled"],
                        now: now)
                }
                continue
            }
            let subject = Subject(user: user, organisation: organisation, method: .apiToken, authenticatedAt: now, mfaAt: nil)
            do {
                _ = try await advisories.publish(advisoryID, summary: record.releaseSummary ?? "", by: subject, gate: gate, now: now)
                released.append(record.trackingID)
            } catch let error as QilaError where error.code == .conflict {
                continue  // another node published it a moment ago
            }
        }
        return released
    }

    /// Called by the advisory desk after it publishes: the case the advisory belongs to is published.
    static func published(_ advisoryID: String, store: SQLStore, audit: AuditLog, by subject: Subject, now: Date) async throws {
        guard var record = try await store.disclosureCase(advisoryID: advisoryID), record.status == .open else { return }
        let read = record.updatedAt
        (record.status, record.updatedAt) = (.published, AdvisoryDesk.stored(now))
        if try await store.updateDisclosureCase(record, expecting: read) {
            try await audit.recordChange(by: subject, "disclosure.publish", resource: "disclosure:\(record.trackingID)", source: nil, now: now)
        }
    }
}

/// Publishes approved advisories when their embargo ends, on the node holding the lease.
public struct DisclosureReleaseService: Service {
    let desk: @Sendable () async throws -> DisclosureDesk
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(desk: @escaping @Sendable () async throws -> DisclosureDesk, lease: Lease, interval: Duration, logger: Logger) {
        self.desk = desk
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "the embargo release failed") {
            if let released = try await lease.ifHeld({ try await desk().releaseDue() }), !released.isEmpty {
                logger.info("embargoes ended: advisories published", metadata: ["cases": "\(released.joined(separator: ","))"])
            }
        }
        await lease.release()
    }
}

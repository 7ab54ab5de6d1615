import Crypto
public import Foundation
public import QilaAccess
public import QilaCases
public import QilaCore
public import QilaStore

/// Citizens' complaints of cybercrime: filed on the public pages without an account, each becomes
/// a case of the investigation agency the authority designates, under the `cybercrime-complaint`
/// regime. The citizen gets a tracking number and a secret to check its status; their contact
/// details are sealed and opened only for the agency's own staff, each opening audited.
public struct ComplaintDesk: Sendable {
    public static let agencyKey = "public.complaints.agency"
    public static let accountKey = "public.complaints.account"
    public static let regime = "cybercrime-complaint"

    let store: SQLStore
    let audit: AuditLog
    let secrets: ServerSecrets
    let cases: CaseDesk
    let directory: Directory
    let policy: PolicyDecisionPoint
    public let stamp: FormStamp
    public let limit: SubmissionLimit
    /// Wrong tracking numbers or secrets allowed an address in an hour before it waits.
    public let statusLimit: SubmissionLimit
    public static let maximumFiles = 5

    public init(
        store: SQLStore, audit: AuditLog, secrets: ServerSecrets, cases: CaseDesk, directory: Directory, policy: PolicyDecisionPoint, stamp: FormStamp,
        limit: SubmissionLimit = SubmissionLimit(perHour: 5), statusLimit: SubmissionLimit = SubmissionLimit(perHour: 20)
    ) {
        self.store = store
        self.audit = audit
        self.secrets = secrets
        self.cases = cases
        self.directory = directory
        self.policy = policy
        self.stamp = stamp
        self.limit = limit
        self.statusLimit = statusLimit
    }

    // MARK: the agency

    /// The organisation complaints go to, if the authority has designated one.
    public func agency() async throws -> Organisation? {
        guard let text = try await store.setting(Self.agencyKey), let id = OrganisationID(text) else { return nil }
        return try await store.organisation(id)
    }

    /// Makes `organisation` the agency that receives complaints: the authority's administrators
    /// only. The portal files complaints as a service account of that organisation ("Public
    /// portal"), created here, which has no password and cannot sign in.
    public func designate(_ organisationID: OrganisationID, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await designate(organisationID.description, by: subject, gate: gate, now: now)
    }

    /// As `designate(_:by:gate:now:)`, with the organisation's id as a form sends it.
    public func designate(_ text: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        try await gate.require(subject, .administer, Resource(kind: .publicContent))
        guard let organisationID = OrganisationID(text.trimmingCharacters(in: .whitespaces)), let organisation = try await store.organisation(organisationID),
            organisation.kind != .authority
        else {
            throw QilaError.invalid("choose the investigation agency's organisation (not the authority itself)", field: "agency")
        }
        let username = "public-portal-" + organisation.id.description.prefix(8).lowercased()
        var account = try await store.users(in: organisation.id).first { $0.username == username }
        if account == nil {
            account = try await directory.createUser(
                Directory.UserInput(
                    kind: .service, username: username, displayName: "Public portal", roles: [.organisationReporter], clearance: .red),
                in: organisation.id, by: subject)
        }
        guard let account else { throw QilaError(.storage, "the portal's account could not be created") }
        try await store.setSetting(Self.agencyKey, organisation.id.description)
        try await store.setSetting(Self.accountKey, account.id.description)
        try await audit.recordChange(by: subject, "public.agency.designate", resource: "organisation:\(organisation.id)", source: nil, now: now)
    }

    /// The portal's account as a subject of the agency, for filing.
    func portal() async throws(PublicRefusal) -> Subject {
        guard let agency = try? await agency(), let text = try? await store.setting(Self.accountKey), let id = UserID(text),
            let user = try? await store.user(id), user.organisation == agency.id, !user.disabled
        else {
            throw PublicRefusal(.unavailable, field: "form", key: "err_no_agency")
        }
        return Subject(user: user, organisation: agency, method: .apiToken, authenticatedAt: Date(), mfaAt: nil)
    }

    // MARK: filing

    /// What the complaint form sends.
    public struct Form: Sendable, Equatable {
        public var category = ""
        public var narrative = ""
        /// The day it happened, `YYYY-MM-DD`.
        public var occurredOn = ""
        /// Money lost in rupees; empty for none.
        public var moneyLost = ""
        public var name = ""
        public var phone = ""
        public var email = ""
        public var stamp = ""
        public var language: PublicLanguage = .english
        public init() {}
    }

    /// The contact details, as sealed.
    public struct Contact: Sendable, Codable, Equatable {
        public var name: String
        public var phone: String
        public var email: String
        public var isEmpty: Bool { name.isEmpty && phone.isEmpty && email.isEmpty }
        public init(name: String, phone: String, email: String) {
            self.name = name
            self.phone = phone
            self.email = email
        }
    }

    /// An evidence file as uploaded.
    public struct Evidence: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// What the citizen keeps: both are needed to check the status.
    public struct Receipt: Sendable, Equatable {
        public var tracking: String
        public var secret: String
    }

    /// Files a complaint. Every field is checked first and every problem reported at once; then
    /// the time check and the address's allowance; then the case is opened, the complaint stage
    /// submitted, the files attached and the receipt recorded. The receipt is given only after all
    /// of it is stored.
    public func file(_ form: Form, evidence: [Evidence], source: String?, now: Date = Date()) async throws -> Receipt {
        var problems: [PublicRefusal] = []
        let category = ComplaintCategory(rawValue: form.category)
        if category == nil { problems.append(PublicRefusal(field: "category", key: "err_category")) }
        let narrative = form.narrative.trimmingCharacters(in: .whitespacesAndNewlines)
        if narrative.count < 20 {
            problems.append(PublicRefusal(field: "narrative", key: "err_narrative_short"))
        } else if narrative.count > 8000 {
            problems.append(PublicRefusal(field: "narrative", key: "err_narrative_long"))
        }
        let occurred = form.occurredOn.trimmingCharacters(in: .whitespaces)
        if let day = Self.day(occurred) {
            if day > now.addingTimeInterval(24 * 3600) || day < Date(timeIntervalSince1970: 631_152_000) {
                problems.append(PublicRefusal(field: "occurredOn", key: "err_date_range"))
            }
        } else {
            problems.append(PublicRefusal(field: "occurredOn", key: "err_date"))
        }
        let moneyText = form.moneyLost.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        var money = 0.0
        if !moneyText.isEmpty {
            if let value = Double(moneyText), value.isFinite, value >= 0, value < 1e13 { money = value } else {
                problems.append(PublicRefusal(field: "moneyLost", key: "err_money"))
            }
        }
        let contact = Contact(
            name: form.name.trimmingCharacters(in: .whitespacesAndNewlines), phone: form.phone.trimmingCharacters(in: .whitespaces),
            email: form.email.trimmingCharacters(in: .whitespaces))
        if contact.name.count > 200 || contact.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            problems.append(PublicRefusal(field: "name", key: "err_name"))
        }
        if !contact.phone.isEmpty, !Self.isPhone(contact.phone) { problems.append(PublicRefusal(field: "phone", key: "err_phone")) }
        if !contact.email.isEmpty, !Self.isEmail(contact.email) { problems.append(PublicRefusal(field: "email", key: "err_email")) }
        let files = evidence.filter { !$0.bytes.isEmpty }
        if let category, !category.takesEvidenceFiles, !files.isEmpty {
            problems.append(PublicRefusal(field: "evidence", key: "err_evidence_forbidden"))
        } else if files.count > Self.maximumFiles {
            problems.append(PublicRefusal(field: "evidence", key: "err_evidence_count", values: ["count": String(Self.maximumFiles)]))
        } else {
            for file in files {
                do { _ = try cases.attachments.check(name: file.name, bytes: file.bytes) } catch {
                    problems.append(PublicRefusal(field: "evidence", key: "err_evidence_file", values: ["name": String(file.name.prefix(80))]))
                    break
                }
            }
        }
        if !problems.isEmpty { throw PublicRefusals(problems) }
        guard let category else { throw PublicRefusals(problems) }
        do { try stamp.check(form.stamp, form: "complaint", now: now) } catch { throw PublicRefusals([error]) }
        let subject: Subject
        do { subject = try await portal() } catch { throw PublicRefusals([error]) }
        do { try await limit.admit("complaint", from: source, store: store, now: now) } catch let refusal as PublicRefusal { throw PublicRefusals([refusal]) }

        let tracking = Self.tracking()
        let secret = Self.secret()
        let gate = DecisionGate(policy: policy, audit: audit)
        var opening = CaseDesk.Opening(
            organisation: subject.organisation.id.description, title: "Complaint \(tracking): \(Self.englishTitle(category))",
            awareness: RFC3339.format(now), regime: Self.regime, tlp: category.marking.rawValue, pap: "amber")
        opening.offences = category.offences.map { String($0.rawValue) }
        opening.fromPortal = true
        let incident = try await cases.open(opening, by: subject, gate: gate, now: now)
        _ = try await cases.submit(
            incident.id, regime: Self.regime, stage: "complaint",
            values: [
                "complaintCategory": category.rawValue, "narrative": narrative, "occurredOn": occurred,
                "moneyLost": money == money.rounded() ? String(Int64(money)) : String(money),
            ], by: subject, gate: gate, now: now)
        for file in files { _ = try await cases.attach(incident.id, name: file.name, bytes: file.bytes, by: subject, gate: gate, now: now) }
        let sealed = contact.isEmpty ? nil : try secrets.seal(Array(try JSONEncoder().encode(contact)))
        try await store.addComplaint(
            PublicComplaintRecord(
                tracking: tracking, secretHash: Self.hash(secret), category: category.rawValue, caseID: incident.id, sealedContact: sealed,
                language: form.language.rawValue, createdAt: now))
        _ = try await audit.append(
            AuditEntry(
                time: now, actor: "public", action: "public.complaint.file", outcome: .success, resource: "case:\(incident.id)", sourceAddress: source,
                details: ["tracking": tracking, "category": category.rawValue, "files": String(files.count), "contact": contact.isEmpty ? "none" : "sealed"]))
        return Receipt(tracking: tracking, secret: secret)
    }

    // MARK: status

    /// Where the complaint stands, as its complainant may know it.
    public struct Status: Sendable, Equatable {
        public enum State: String, Sendable {
            case received
            case verifying
            case inquiry
            case referred
            case closed
        }

        public var tracking: String
        public var category: ComplaintCategory
        public var filedAt: Date
        public var state: State
        /// The translation key of the outcome, once there is one.
        public var outcomeKey: String?
        /// What the agency chose to tell the complainant (its language, not translated).
        public var note: String?
        public var updatedAt: Date
    }

    /// The status for a tracking number and its secret. A wrong pair is counted against the
    /// address (so that secrets cannot be guessed) and refused without saying which was wrong.
    public func status(tracking trackingText: String, secret: String, source: String?, now: Date = Date()) async throws -> Status {
        let tracking = trackingText.trimmingCharacters(in: .whitespaces).uppercased()
        if let source, let held = try await store.signInsHeld(keys: ["public:status:\(source)"]), held > now {
            throw SubmissionLimit.refusal(until: held, now: now)
        }
        guard let record = try await store.complaint(tracking: tracking),
            constantTimeEqual(record.secretHash, Self.hash(secret.trimmingCharacters(in: .whitespaces).uppercased())),
            let category = ComplaintCategory(rawValue: record.category), let incident = try await store.incident(record.caseID)
        else {
            try await statusLimit.admit("status", from: source, store: store, now: now)
            throw PublicRefusal(field: "tracking", key: "err_tracking")
        }
        let stages = try await store.stages(of: record.caseID)
        func submitted(_ id: String) -> CaseStage? { stages.first { $0.regime == Self.regime && $0.stage == id && $0.isSubmitted } }
        var state: Status.State = .received
        var outcome: String?
        var note: String?
        if let verification = submitted("verification") {
            let value = verification.values["verificationOutcome"] ?? ""
            outcome = "outcome_" + value.replacingOccurrences(of: "-", with: "_")
            note = verification.values["complainantNote"]
            switch value {
            case "inquiry-opened": state = .inquiry
            case "referred": state = .referred
            default: state = .closed
            }
        } else if incident.status != .new && incident.status != .draft {
            state = .verifying
        }
        if let inquiry = submitted("inquiry") {
            state = .closed
            outcome = "outcome_" + (inquiry.values["inquiryOutcome"] ?? "").replacingOccurrences(of: "-", with: "_")
            note = inquiry.values["complainantNote"]
        }
        if incident.status == .closed || incident.status == .resolved { state = .closed }
        return Status(
            tracking: tracking, category: category, filedAt: record.createdAt, state: state, outcomeKey: outcome,
            note: note.flatMap { $0.isEmpty ? nil : $0 }, updatedAt: incident.updatedAt)
    }

    // MARK: the agency's side

    /// The portal's record of a case's complaint, and whether the subject may open the contact
    /// details; nil when the case did not come from the portal.
    public func complaint(of caseID: CaseID, for subject: Subject) async throws -> (record: PublicComplaintRecord, mayOpenContact: Bool)? {
        guard let record = try await store.complaint(caseID: caseID), let incident = try await store.incident(caseID) else { return nil }
        let may = policy.decide(subject, .read, Resource(kind: .complaintContact, owner: incident.organisation, sector: incident.sector)).allowed
        return (record, may && record.sealedContact != nil)
    }

    /// Opens the contact details of a complaint: only the agency's staff, and every opening is
    /// audited (the details themselves never are).
    public func contact(of caseID: CaseID, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> Contact? {
        guard let record = try await store.complaint(caseID: caseID), let incident = try await store.incident(caseID) else {
            throw QilaError(.notFound, "no complaint for this case")
        }
        try await gate.require(subject, .read, Resource(kind: .complaintContact, owner: incident.organisation, sector: incident.sector))
        guard let sealed = record.sealedContact else { return nil }
        let contact = try JSONDecoder().decode(Contact.self, from: Data(try secrets.open(sealed)))
        try await audit.recordChange(by: subject, "public.complaint.contact.read", resource: "case:\(caseID)", source: nil, details: ["tracking": record.tracking], now: now)
        return contact
    }

    // MARK: helpers

    static func englishTitle(_ category: ComplaintCategory) -> String { PublicText.shipped.text(category.textKey, .english) }

    /// A tracking number such as `QP-7K3M-9XQ2`: Crockford base 32, no look-alike letters.
    static func tracking() -> String {
        let code = randomCode(8)
        return "QP-" + code.prefix(4) + "-" + code.suffix(4)
    }

    /// A secret of 16 characters (80 bits), shown once.
    static func secret() -> String {
        let code = randomCode(16)
        return stride(from: 0, to: 16, by: 4).map { start in
            String(code[code.index(code.startIndex, offsetBy: start)..<code.index(code.startIndex, offsetBy: start + 4)])
        }.joined(separator: "-")
    }

    static func randomCode(_ count: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.replacingOccurrences(of: "-", with: "").utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
            calendar.component(.day, from: date) == day
        else { return nil }
        return date
    }

    static func isPhone(_ text: String) -> Bool {
        let digits = text.filter(\.isNumber)
        return text.count <= 30 && (7...15).contains(digits.count) && text.allSatisfy { $0.isASCII && ($0.isNumber || " +-()".contains($0)) }
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
    }

}

/// Several refusals of one submission, each beside its field.
public struct PublicRefusals: Error, Sendable, CustomStringConvertible {
    public var refusals: [PublicRefusal]
    public init(_ refusals: [PublicRefusal]) { self.refusals = refusals }
    public var description: String { refusals.map(\.description).joined(separator: "; ") }
}

public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Training and awareness records: courses and exercises (the authority's for everyone, or an
/// organisation's own), the people of each organisation enrolled and their completions with
/// certificates anyone can verify, phishing simulations imported from GoPhish with those who
/// clicked enrolled on a chosen course, and coverage per organisation and per sector.
public struct TrainingDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog
    let policy: PolicyDecisionPoint
    public let signer: TrainingCertificate.Signer
    /// The settings key shared with assessments: groups smaller than this are withheld.
    static let minimumGroupSetting = "assessments.minimum-group"

    public init(store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint, secrets: ServerSecrets) {
        self.store = store
        self.audit = audit
        self.policy = policy
        self.signer = TrainingCertificate.Signer(sealingKey: secrets.sealingKey)
    }

    static func courseResource(_ course: TrainingCourse) -> Resource {
        Resource(kind: .trainingCourse, owner: course.organisation, reference: "training-course:\(course.id)")
    }

    static func records(_ organisation: Organisation) -> Resource {
        Resource(kind: .trainingRecord, owner: organisation.id, sector: organisation.sector, reference: "training-record:\(organisation.id)")
    }

    // MARK: courses

    /// What a course form sends.
    public struct CourseInput: Sendable {
        /// Empty for a national course (the authority's).
        public var organisation = ""
        public var title = ""
        public var kind = "course"
        public var audience = ""
        public var durationMinutes = ""
        public var materials = ""
        public var passingMark = ""
        public init() {}
    }

    /// The courses the subject may see: the national ones and its organisation's (all of them for
    /// the authority), retired ones last.
    public func visibleCourses(for subject: Subject) async throws -> [TrainingCourse] {
        try await store.courses().filter { policy.decide(subject, .read, Self.courseResource($0)).allowed }
            .sorted { ($0.retiredAt == nil ? 0 : 1, $0.title) < ($1.retiredAt == nil ? 0 : 1, $1.title) }
    }

    public func course(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> TrainingCourse {
        guard let course = try await store.course(id) else { throw QilaError(.notFound, "no such course") }
        try await gate.require(subject, .read, Self.courseResource(course))
        return course
    }

    public func createCourse(_ input: CourseInput, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> TrainingCourse {
        let organisationText = input.organisation.trimmingCharacters(in: .whitespaces)
        var owner: OrganisationID?
        if !organisationText.isEmpty {
            guard let id = OrganisationID(organisationText), try await store.organisation(id) != nil else {
                throw QilaError.invalid("names no organisation", field: "organisation")
            }
            owner = id
        }
        var course = TrainingCourse(
            organisation: owner, title: "", kind: .course, audience: "", durationMinutes: 0, materials: "", passingMark: 0, createdBy: subject.user.id, createdAt: now)
        try await gate.require(subject, .create, Self.courseResource(course))
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= 200, !title.contains(where: \.isNewline) else {
            throw QilaError.invalid("needs one line of at most 200 characters", field: "title")
        }
        guard let kind = TrainingCourse.Kind(rawValue: input.kind) else { throw QilaError.invalid("must be a course or an exercise", field: "kind") }
        let audience = input.audience.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !audience.isEmpty, audience.count <= 200 else { throw QilaError.invalid("needs saying, in at most 200 characters (such as all staff)", field: "audience") }
        guard let minutes = Int(input.durationMinutes.trimmingCharacters(in: .whitespaces)), (1...10_000).contains(minutes) else {
            throw QilaError.invalid("must be a number of minutes from 1 to 10000", field: "durationMinutes")
        }
        let materials = input.materials.trimmingCharacters(in: .whitespacesAndNewlines)
        guard materials.count <= 20_000 else { throw QilaError.invalid("is longer than 20000 characters", field: "materials") }
        guard let mark = Int(input.passingMark.trimmingCharacters(in: .whitespaces)), (0...100).contains(mark) else {
            throw QilaError.invalid("must be a score from 0 to 100", field: "passingMark")
        }
        (course.title, course.kind, course.audience, course.durationMinutes, course.materials, course.passingMark) = (title, kind, audience, minutes, materials, mark)
        try await store.addCourse(course)
        try await audit.recordChange(
            by: subject, "training.course.create", resource: "training-course:\(course.id)", source: nil,
            details: ["organisation": owner?.description ?? "national", "kind": kind.rawValue], now: now)
        return course
    }

    public func retireCourse(_ id: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        guard let course = try await store.course(id) else { throw QilaError(.notFound, "no such course") }
        try await gate.require(subject, .update, Self.courseResource(course))
        try await store.retireCourse(id, at: now)
        try await audit.recordChange(by: subject, "training.course.retire", resource: "training-course:\(id)", source: nil, now: now)
    }

    // MARK: the organisation's records

    func organisation(_ text: String, field: String = "organisation") async throws -> Organisation {
        guard let id = OrganisationID(text.trimmingCharacters(in: .whitespaces)), let organisation = try await store.organisation(id),
            organisation.kind != .authority
        else { throw QilaError.invalid("choose an organisation", field: field) }
        return organisation
    }

    /// Sets how many staff an organisation has: the denominator of its coverage.
    public func setHeadcount(_ text: String, organisation organisationText: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let organisation = try await organisation(organisationText)
        try await gate.require(subject, .update, Self.records(organisation))
        guard let headcount = Int(text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")), (1...10_000_000).contains(headcount) else {
            throw QilaError.invalid("must be the number of staff, from 1 to 10,000,000", field: "headcount")
        }
        try await store.setHeadcount(headcount, of: organisation.id, by: subject.user.id, at: now)
        try await audit.recordChange(
            by: subject, "training.headcount", resource: "training-record:\(organisation.id)", source: nil, details: ["headcount": String(headcount)], now: now)
    }

    /// Enrols the people listed (one e-mail address a line, optionally `address, name`) on a
    /// course. Every bad line is named at once. Returns how many were newly enrolled.
    public func enrol(
        course courseID: String, organisation organisationText: String, people text: String, dueOn: String = "", by subject: Subject, gate: any AccessGate,
        now: Date = Date()
    ) async throws -> Int {
        let course = try await self.course(courseID, for: subject, gate: gate)
        let organisation = try await organisation(organisationText)
        try await gate.require(subject, .create, Self.records(organisation))
        guard course.retiredAt == nil else { throw QilaError.invalid("is retired; choose a current course", field: "course") }
        var people: [TrainingPerson] = []
        var problems: [String] = []
        for (index, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let parts = line.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let email = Self.email(parts[0]) else {
                problems.append("line \(index + 1): '\(parts[0].prefix(60))' is not an e-mail address")
                continue
            }
            people.append(TrainingPerson(organisation: organisation.id, email: email, name: parts.count > 1 ? String(parts[1].prefix(200)) : "", position: ""))
        }
        if !problems.isEmpty { throw QilaError.invalid(problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? " (and \(problems.count - 5) more)" : ""), field: "people") }
        guard !people.isEmpty else { throw QilaError.invalid("needs at least one e-mail address, one a line", field: "people") }
        guard people.count <= 10_000 else { throw QilaError.invalid("lists more than 10,000 people; enrol them in parts", field: "people") }
        let due = try Self.day(dueOn, field: "dueOn", after: now)
        let enrolments = people.map {
            TrainingEnrolment(course: course.id, organisation: organisation.id, email: $0.email, enrolledAt: now, enrolledBy: subject.user.id.description, reason: "enrolled", dueAt: due)
        }
        let added = try await store.enrol(enrolments, people: people, at: now)
        try await audit.recordChange(
            by: subject, "training.enrol", resource: "training-course:\(course.id)", source: nil,
            details: ["organisation": organisation.id.description, "people": String(people.count), "new": String(added)], now: now)
        return added
    }

    /// Records that someone completed a course with a score; a passing score earns a certificate.
    public func recordCompletion(
        course courseID: String, organisation organisationText: String, email emailText: String, name nameText: String, score scoreText: String,
        completedOn: String = "", by subject: Subject, gate: any AccessGate, now: Date = Date()
    ) async throws -> TrainingCompletion {
        let course = try await self.course(courseID, for: subject, gate: gate)
        let organisation = try await organisation(organisationText)
        try await gate.require(subject, .create, Self.records(organisation))
        guard let email = Self.email(emailText) else { throw QilaError.invalid("must be the person's e-mail address", field: "email") }
        let name = nameText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= 200, !name.contains(where: \.isNewline) else { throw QilaError.invalid("must be one line of at most 200 characters", field: "name") }
        guard let score = Int(scoreText.trimmingCharacters(in: .whitespaces)), (0...100).contains(score) else {
            throw QilaError.invalid("must be a score from 0 to 100", field: "score")
        }
        let when = try Self.day(completedOn, field: "completedOn", notAfter: now) ?? now
        let completion = TrainingCompletion(
            course: course.id, organisation: organisation.id, email: email, score: score, passed: score >= course.passingMark, completedAt: when,
            recordedBy: subject.user.id)
        try await store.addCompletion(completion, person: TrainingPerson(organisation: organisation.id, email: email, name: name, position: ""))
        try await audit.recordChange(
            by: subject, "training.complete", resource: "training-course:\(course.id)", source: nil,
            details: ["organisation": organisation.id.description, "completion": completion.id, "passed": String(completion.passed)], now: now)
        return completion
    }

    /// Withdraws a completion recorded in error: its certificate no longer verifies.
    public func revoke(_ completionID: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        guard let completion = try await store.completion(completionID), let organisation = try await store.organisation(completion.organisation) else {
            throw QilaError(.notFound, "no such completion")
        }
        try await gate.require(subject, .update, Self.records(organisation))
        guard try await store.revokeCompletion(completionID, at: now) else { throw QilaError(.conflict, "the completion was already revoked") }
        try await audit.recordChange(by: subject, "training.revoke", resource: "training-completion:\(completionID)", source: nil, now: now)
    }

    // MARK: certificates

    /// The certificate of a passed completion, signed.
    public func certificate(_ completionID: String, for subject: Subject, gate: any AccessGate) async throws -> (TrainingCertificate, String) {
        guard let completion = try await store.completion(completionID), let organisation = try await store.organisation(completion.organisation) else {
            throw QilaError(.notFound, "no such completion")
        }
        try await gate.require(subject, .read, Self.records(organisation))
        guard completion.passed, completion.revokedAt == nil, let certificate = try await certificate(of: completion) else {
            throw QilaError(.conflict, "only a passed, unrevoked completion has a certificate")
        }
        return (certificate, try signer.sign(certificate))
    }

    /// What a completion's certificate says, from the records.
    func certificate(of completion: TrainingCompletion) async throws -> TrainingCertificate? {
        guard let organisation = try await store.organisation(completion.organisation), let course = try await store.course(completion.course) else { return nil }
        let person = try await store.people(of: organisation.id).first { $0.email == completion.email }
        return TrainingCertificate(
            id: completion.id, name: person.map { $0.name.isEmpty ? completion.email : $0.name } ?? completion.email, email: completion.email,
            course: course.title, organisation: organisation.name, score: completion.score, completed: Self.format(completion.completedAt))
    }

    public enum Verification: Sendable, Equatable {
        case valid(TrainingCertificate)
        /// Signed by this installation, but the completion was withdrawn since.
        case revoked(TrainingCertificate)
        /// Not signed by this installation, or altered.
        case invalid
    }

    /// Checks a certificate's code: anyone may.
    public func verify(_ code: String) async throws -> Verification {
        guard let id = TrainingCertificate.Signer.id(of: code), let completion = try await store.completion(id), completion.passed,
            let certificate = try await certificate(of: completion), signer.verify(code, against: certificate)
        else { return .invalid }
        return completion.revokedAt == nil ? .valid(certificate) : .revoked(certificate)
    }

    // MARK: helpers

    static func email(_ text: String) -> String? {
        let address = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !address.contains(where: \.isWhitespace) else { return nil }
        return address
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Karachi")!
        return calendar
    }()

    static func format(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// A `YYYY-MM-DD` day (noon in Asia/Karachi), nil when empty.
    static func day(_ text: String, field: String, after: Date? = nil, notAfter: Date? = nil) throws -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        let parts = trimmed.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12)),
            calendar.component(.day, from: date) == parts[2]
        else { throw QilaError.invalid("'\(trimmed.prefix(20))' is not a day such as 2026-12-31", field: field) }
        if let after, date < after { throw QilaError.invalid("must be a day still to come", field: field) }
        if let notAfter, date > notAfter.addingTimeInterval(86_400) { throw QilaError.invalid("must not be in the future", field: field) }
        return date
    }
}

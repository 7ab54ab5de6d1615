public import Foundation
public import QilaCore

/// A course or an exercise: the authority's for every organisation (no organisation), or an
/// organisation's own.
public struct TrainingCourse: Sendable, Equatable, Identifiable {
    public enum Kind: String, Sendable, CaseIterable {
        case course
        /// A tabletop or live exercise.
        case exercise
    }

    public var id: String
    public var organisation: OrganisationID?
    public var title: String
    public var kind: Kind
    /// Who it is for, in words (all staff, system administrators, the board).
    public var audience: String
    public var durationMinutes: Int
    /// Links and notes, Markdown.
    public var materials: String
    /// The score out of 100 that passes.
    public var passingMark: Int
    public var createdBy: UserID
    public var createdAt: Date
    public var retiredAt: Date?

    public init(
        id: String = UUID().uuidString.lowercased(), organisation: OrganisationID?, title: String, kind: Kind, audience: String, durationMinutes: Int,
        materials: String, passingMark: Int, createdBy: UserID, createdAt: Date, retiredAt: Date? = nil
    ) {
        self.id = id
        self.organisation = organisation
        self.title = title
        self.kind = kind
        self.audience = audience
        self.durationMinutes = durationMinutes
        self.materials = materials
        self.passingMark = passingMark
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

/// Someone of an organisation enrolled on a course: by hand, or because they clicked in a
/// phishing simulation (`reason` names the campaign).
public struct TrainingEnrolment: Sendable, Equatable {
    public var course: String
    public var organisation: OrganisationID
    public var email: String
    public var enrolledAt: Date
    public var enrolledBy: String
    public var reason: String
    public var dueAt: Date?

    public init(course: String, organisation: OrganisationID, email: String, enrolledAt: Date, enrolledBy: String, reason: String, dueAt: Date?) {
        self.course = course
        self.organisation = organisation
        self.email = email
        self.enrolledAt = enrolledAt
        self.enrolledBy = enrolledBy
        self.reason = reason
        self.dueAt = dueAt
    }
}

public struct TrainingCompletion: Sendable, Equatable, Identifiable {
    public var id: String
    public var course: String
    public var organisation: OrganisationID
    public var email: String
    public var score: Int
    public var passed: Bool
    public var completedAt: Date
    public var recordedBy: UserID
    public var revokedAt: Date?

    public init(
        id: String = UUID().uuidString.lowercased(), course: String, organisation: OrganisationID, email: String, score: Int, passed: Bool, completedAt: Date,
        recordedBy: UserID, revokedAt: Date? = nil
    ) {
        self.id = id
        self.course = course
        self.organisation = organisation
        self.email = email
        self.score = score
        self.passed = passed
        self.completedAt = completedAt
        self.recordedBy = recordedBy
        self.revokedAt = revokedAt
    }
}

/// A person of an organisation as training knows them.
public struct TrainingPerson: Sendable, Equatable {
    public var organisation: OrganisationID
    public var email: String
    public var name: String
    public var position: String

    public init(organisation: OrganisationID, email: String, name: String, position: String) {
        self.organisation = organisation
        self.email = email
        self.name = name
        self.position = position
    }
}

/// A phishing simulation an organisation ran (in GoPhish or the like) and imported: its counts.
public struct PhishingCampaign: Sendable, Equatable, Identifiable {
    public var id: String
    public var organisation: OrganisationID
    public var name: String
    public var launchedAt: Date
    public var importedAt: Date
    public var importedBy: UserID
    public var sent, opened, clicked, submitted, reported: Int
    /// The course those who clicked were enrolled on.
    public var enrolledCourse: String?

    public init(
        id: String = UUID().uuidString.lowercased(), organisation: OrganisationID, name: String, launchedAt: Date, importedAt: Date, importedBy: UserID,
        sent: Int, opened: Int, clicked: Int, submitted: Int, reported: Int, enrolledCourse: String?
    ) {
        self.id = id
        self.organisation = organisation
        self.name = name
        self.launchedAt = launchedAt
        self.importedAt = importedAt
        self.importedBy = importedBy
        self.sent = sent
        self.opened = opened
        self.clicked = clicked
        self.submitted = submitted
        self.reported = reported
        self.enrolledCourse = enrolledCourse
    }
}

/// One recipient's outcome in a phishing simulation.
public struct PhishingResult: Sendable, Equatable {
    public var email: String
    public var status: String
    public var opened, clicked, submitted, reported: Bool

    public init(email: String, status: String, opened: Bool, clicked: Bool, submitted: Bool, reported: Bool) {
        self.email = email
        self.status = status
        self.opened = opened
        self.clicked = clicked
        self.submitted = submitted
        self.reported = reported
    }
}

extension SQLStore {
    // MARK: courses

    public func addCourse(_ course: TrainingCourse) async throws {
        try await database.execute(
            """
            INSERT INTO training_courses (id, organisation, title, kind, audience, duration_minutes, materials, passing_mark, created_by, created_at, retired_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            """,
            .text(course.id), SQLValue(course.organisation?.description), .text(course.title), .text(course.kind.rawValue), .text(course.audience),
            SQLValue(course.durationMinutes), .text(course.materials), SQLValue(course.passingMark), .text(course.createdBy.description), SQLValue(course.createdAt))
    }

    public func retireCourse(_ id: String, at time: Date) async throws {
        try await database.execute("UPDATE training_courses SET retired_at = ? WHERE id = ? AND retired_at IS NULL", SQLValue(time), .text(id))
    }

    public func courses() async throws -> [TrainingCourse] {
        try await database.query("SELECT * FROM training_courses ORDER BY created_at, id").map(Self.course)
    }

    public func course(_ id: String) async throws -> TrainingCourse? {
        try await database.query("SELECT * FROM training_courses WHERE id = ?", .text(id)).first.map(Self.course)
    }

    static func course(_ row: SQLRow) throws -> TrainingCourse {
        guard let kind = TrainingCourse.Kind(rawValue: try row.string("kind")), let creator = UserID(try row.string("created_by")) else {
            throw StoreError(.corruptRow, "a course's kind or author cannot be read")
        }
        return TrainingCourse(
            id: try row.string("id"), organisation: row.optionalString("organisation").flatMap(OrganisationID.init), title: try row.string("title"), kind: kind,
            audience: try row.string("audience"), durationMinutes: Int(try row.int("duration_minutes")), materials: try row.string("materials"),
            passingMark: Int(try row.int("passing_mark")), createdBy: creator, createdAt: try row.date("created_at"), retiredAt: row.optionalDate("retired_at"))
    }

    // MARK: people, headcount

    /// Adds people not yet known and keeps the names of those known (a name is filled in once).
    func personStatements(_ people: [TrainingPerson], at time: Date) -> [SQLStatement] {
        people.map { person in
            SQLStatement(
                """
                INSERT INTO training_people (organisation, email, name, position, added_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (organisation, email) DO UPDATE SET
                    name = CASE WHEN training_people.name = '' THEN excluded.name ELSE training_people.name END,
                    position = CASE WHEN training_people.position = '' THEN excluded.position ELSE training_people.position END
                """,
                [.text(person.organisation.description), .text(person.email), .text(person.name), .text(person.position), SQLValue(time)])
        }
    }

    public func addPeople(_ people: [TrainingPerson], at time: Date) async throws {
        guard !people.isEmpty else { return }
        try await database.batch(personStatements(people, at: time))
    }

    public func people(of organisation: OrganisationID) async throws -> [TrainingPerson] {
        try await database.query("SELECT * FROM training_people WHERE organisation = ? ORDER BY email", .text(organisation.description)).map { row in
            TrainingPerson(organisation: organisation, email: try row.string("email"), name: try row.string("name"), position: try row.string("position"))
        }
    }

    public func setHeadcount(_ headcount: Int, of organisation: OrganisationID, by user: UserID, at time: Date) async throws {
        try await database.execute(
            """
            INSERT INTO training_headcounts (organisation, headcount, updated_at, updated_by) VALUES (?, ?, ?, ?)
            ON CONFLICT (organisation) DO UPDATE SET headcount = excluded.headcount, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """,
            .text(organisation.description), SQLValue(headcount), SQLValue(time), .text(user.description))
    }

    /// Every organisation's declared headcount.
    public func headcounts() async throws -> [OrganisationID: Int] {
        var result: [OrganisationID: Int] = [:]
        for row in try await database.query("SELECT organisation, headcount FROM training_headcounts") {
            if let id = OrganisationID(try row.string("organisation")) { result[id] = Int(try row.int("headcount")) }
        }
        return result
    }

    /// How many people each organisation has on its training roster.
    public func rosterSizes() async throws -> [OrganisationID: Int] {
        var result: [OrganisationID: Int] = [:]
        for row in try await database.query("SELECT organisation, COUNT(*) AS n FROM training_people GROUP BY organisation") {
            if let id = OrganisationID(try row.string("organisation")) { result[id] = Int(try row.int("n")) }
        }
        return result
    }

    // MARK: enrolments, completions

    /// Enrols people (added to the roster too); someone already enrolled on the course stays as
    /// first enrolled. Returns how many were new.
    public func enrol(_ enrolments: [TrainingEnrolment], people: [TrainingPerson], at time: Date) async throws -> Int {
        guard !enrolments.isEmpty else { return 0 }
        var statements = personStatements(people, at: time)
        statements += enrolments.map(Self.enrolmentStatement)
        let before = try await enrolmentCount(course: enrolments[0].course)
        try await database.batch(statements)
        return try await enrolmentCount(course: enrolments[0].course) - before
    }

    func enrolmentCount(course: String) async throws -> Int {
        Int(try await database.query("SELECT COUNT(*) AS n FROM training_enrolments WHERE course = ?", .text(course)).first?.int("n") ?? 0)
    }

    /// Enrols one person; someone already enrolled on the course stays as first enrolled.
    static func enrolmentStatement(_ enrolment: TrainingEnrolment) -> SQLStatement {
        SQLStatement(
            """
            INSERT INTO training_enrolments (course, organisation, email, enrolled_at, enrolled_by, reason, due_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (course, organisation, email) DO NOTHING
            """,
            [
                .text(enrolment.course), .text(enrolment.organisation.description), .text(enrolment.email), SQLValue(enrolment.enrolledAt),
                .text(enrolment.enrolledBy), .text(enrolment.reason), SQLValue(enrolment.dueAt),
            ])
    }

    public func enrolments(course: String? = nil, organisation: OrganisationID? = nil) async throws -> [TrainingEnrolment] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let course {
            conditions.append("course = ?")
            binds.append(.text(course))
        }
        if let organisation {
            conditions.append("organisation = ?")
            binds.append(.text(organisation.description))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query("SELECT * FROM training_enrolments\(filter) ORDER BY enrolled_at, email", binds).map { row in
            guard let organisation = OrganisationID(try row.string("organisation")) else { throw StoreError(.corruptRow, "an enrolment's organisation cannot be read") }
            return TrainingEnrolment(
                course: try row.string("course"), organisation: organisation, email: try row.string("email"), enrolledAt: try row.date("enrolled_at"),
                enrolledBy: try row.string("enrolled_by"), reason: try row.string("reason"), dueAt: row.optionalDate("due_at"))
        }
    }

    public func addCompletion(_ completion: TrainingCompletion, person: TrainingPerson) async throws {
        try await database.batch(
            personStatements([person], at: completion.completedAt) + [
                SQLStatement(
                    """
                    INSERT INTO training_completions (id, course, organisation, email, score, passed, completed_at, recorded_by, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                    [
                        .text(completion.id), .text(completion.course), .text(completion.organisation.description), .text(completion.email),
                        SQLValue(completion.score), SQLValue(completion.passed ? 1 : 0), SQLValue(completion.completedAt), .text(completion.recordedBy.description),
                    ])
            ])
    }

    public func revokeCompletion(_ id: String, at time: Date) async throws -> Bool {
        !(try await database.writeReturning(
            "UPDATE training_completions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id", [SQLValue(time), .text(id)])).isEmpty
    }

    public func completion(_ id: String) async throws -> TrainingCompletion? {
        try await database.query("SELECT * FROM training_completions WHERE id = ?", .text(id)).first.map(Self.completion)
    }

    /// Completions, newest first, of a course or an organisation or both, since a time.
    public func completions(course: String? = nil, organisation: OrganisationID? = nil, since: Date? = nil) async throws -> [TrainingCompletion] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let course {
            conditions.append("course = ?")
            binds.append(.text(course))
        }
        if let organisation {
            conditions.append("organisation = ?")
            binds.append(.text(organisation.description))
        }
        if let since {
            conditions.append("completed_at >= ?")
            binds.append(SQLValue(since))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try await database.query("SELECT * FROM training_completions\(filter) ORDER BY completed_at DESC, id", binds).map(Self.completion)
    }

    static func completion(_ row: SQLRow) throws -> TrainingCompletion {
        guard let organisation = OrganisationID(try row.string("organisation")), let recorder = UserID(try row.string("recorded_by")) else {
            throw StoreError(.corruptRow, "a completion's organisation or recorder cannot be read")
        }
        return TrainingCompletion(
            id: try row.string("id"), course: try row.string("course"), organisation: organisation, email: try row.string("email"),
            score: Int(try row.int("score")), passed: try row.bool("passed"), completedAt: try row.date("completed_at"), recordedBy: recorder,
            revokedAt: row.optionalDate("revoked_at"))
    }

    // MARK: phishing simulations

    /// Stores a campaign, its results, the people it names and the enrolments of those who
    /// clicked, in one transaction.
    public func addPhishingCampaign(
        _ campaign: PhishingCampaign, results: [PhishingResult], people: [TrainingPerson], enrolments: [TrainingEnrolment]
    ) async throws {
        var statements = personStatements(people, at: campaign.importedAt)
        statements.append(
            SQLStatement(
                """
                INSERT INTO phishing_campaigns (id, organisation, name, launched_at, imported_at, imported_by, sent, opened, clicked, submitted, reported, enrolled_course)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(campaign.id), .text(campaign.organisation.description), .text(campaign.name), SQLValue(campaign.launchedAt), SQLValue(campaign.importedAt),
                    .text(campaign.importedBy.description), SQLValue(campaign.sent), SQLValue(campaign.opened), SQLValue(campaign.clicked),
                    SQLValue(campaign.submitted), SQLValue(campaign.reported), SQLValue(campaign.enrolledCourse),
                ]))
        for result in results {
            statements.append(
                SQLStatement(
                    "INSERT INTO phishing_results (campaign, email, status, opened, clicked, submitted, reported) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(campaign.id), .text(result.email), .text(result.status), SQLValue(result.opened ? 1 : 0), SQLValue(result.clicked ? 1 : 0),
                        SQLValue(result.submitted ? 1 : 0), SQLValue(result.reported ? 1 : 0),
                    ]))
        }
        statements += enrolments.map(Self.enrolmentStatement)
        try await database.batch(statements)
    }

    public func phishingCampaigns(organisation: OrganisationID? = nil) async throws -> [PhishingCampaign] {
        let rows: [SQLRow]
        if let organisation {
            rows = try await database.query("SELECT * FROM phishing_campaigns WHERE organisation = ? ORDER BY launched_at, id", .text(organisation.description))
        } else {
            rows = try await database.query("SELECT * FROM phishing_campaigns ORDER BY launched_at, id")
        }
        return try rows.map(Self.phishingCampaign)
    }

    public func phishingCampaign(_ id: String) async throws -> PhishingCampaign? {
        try await database.query("SELECT * FROM phishing_campaigns WHERE id = ?", .text(id)).first.map(Self.phishingCampaign)
    }

    public func phishingResults(_ campaign: String) async throws -> [PhishingResult] {
        try await database.query("SELECT * FROM phishing_results WHERE campaign = ? ORDER BY email", .text(campaign)).map { row in
            PhishingResult(
                email: try row.string("email"), status: try row.string("status"), opened: try row.bool("opened"), clicked: try row.bool("clicked"),
                submitted: try row.bool("submitted"), reported: try row.bool("reported"))
        }
    }

    static func phishingCampaign(_ row: SQLRow) throws -> PhishingCampaign {
        guard let organisation = OrganisationID(try row.string("organisation")), let importer = UserID(try row.string("imported_by")) else {
            throw StoreError(.corruptRow, "a phishing campaign's organisation or importer cannot be read")
        }
        return PhishingCampaign(
            id: try row.string("id"), organisation: organisation, name: try row.string("name"), launchedAt: try row.date("launched_at"),
            importedAt: try row.date("imported_at"), importedBy: importer, sent: Int(try row.int("sent")), opened: Int(try row.int("opened")),
            clicked: Int(try row.int("clicked")), submitted: Int(try row.int("submitted")), reported: Int(try row.int("reported")),
            enrolledCourse: row.optionalString("enrolled_course"))
    }
}

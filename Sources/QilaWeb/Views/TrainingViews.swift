import Foundation
import QilaCore
import QilaStore
import QilaTraining

/// The training page: an organisation's coverage, its phishing simulations over time, the
/// courses it may use, the forms it may fill, and the sector roll-up for those who see it.
struct TrainingView: Sendable {
    struct Course: Sendable {
        var id, title, kind, audience, duration, owner, passing: String
        var retired: Bool
    }

    struct Simulation: Sendable {
        var id, name, launched, sent, clicked, reported, clickRate, reportRate: String
    }

    struct Group: Sendable {
        var name, organisations, coverage, clickRate, reportRate: String
        var withheld: Bool
    }

    struct Choice: Sendable {
        var value, label: String
        var selected: Bool
    }

    let organisationName: String?
    let organisationID: String
    let organisations: [Choice]
    let choosesOrganisation: Bool
    let year: Int
    let coverage: String?
    let trained: String
    let headcount: String
    let headcountNote: String
    let outstanding: String
    let courses: [Course]
    let hasCourses: Bool
    let simulations: [Simulation]
    let hasSimulations: Bool
    let chart: String?
    let groups: [Group]
    let hasGroups: Bool
    let minimum: Int
    let courseForm: FormView?
    let headcountForm: FormView?
    let importForm: FormView?
    let message: String?

    static let courseName = "training.course"
    static let headcountName = "training.headcount"
    static let importName = "training.import"
    static let doneName = "training.done"

    static func courseFields(organisations: [(String, String)], state: FormState?) -> [FieldView] {
        [
            FieldView("title", label: "Title", required: true, state: state, id: "course-title"),
            FieldView(
                "organisation", label: "For", control: .select(organisations.map { .init(value: $0.0, label: $0.1) }), state: state,
                initial: organisations.first?.0 ?? "", id: "course-organisation"),
            FieldView(
                "kind", label: "Kind", control: .select([.init(value: "course", label: "Course"), .init(value: "exercise", label: "Exercise (tabletop or live)")]),
                state: state, initial: "course", id: "course-kind"),
            FieldView("audience", label: "Audience", hint: "Such as all staff, system administrators, the board.", required: true, state: state, id: "course-audience"),
            FieldView("durationMinutes", label: "Duration (minutes)", control: .text(type: "number"), required: true, state: state, id: "course-duration"),
            FieldView("passingMark", label: "Passing mark (of 100)", control: .text(type: "number"), required: true, state: state, initial: "70", id: "course-mark"),
            FieldView("materials", label: "Materials", control: .textarea(rows: 4), hint: "Links and notes; Markdown.", state: state, id: "course-materials"),
        ]
    }

    static func headcountFields(state: FormState?, current: String) -> [FieldView] {
        [FieldView("headcount", label: "Staff", control: .text(type: "number"), hint: "Everyone who should be trained this year.", required: true, state: state, initial: current)]
    }

    static func importFields(courses: [TrainingCourse], state: FormState?) -> [FieldView] {
        [
            FieldView("file", label: "GoPhish results (CSV or JSON)", control: .text(type: "file"), required: true, state: state, id: "import-file"),
            FieldView("name", label: "Simulation", hint: "Its name; GoPhish's JSON carries one, its CSV does not.", state: state, id: "import-name"),
            FieldView(
                "enrolCourse", label: "Enrol those who clicked on",
                control: .select([.init(value: "", label: "No course")] + courses.map { .init(value: $0.id, label: $0.title) }), state: state,
                initial: courses.first?.id ?? "", id: "import-course"),
        ]
    }
}

/// A course: what it is, who is enrolled and who completed, and the forms to enrol and record.
struct TrainingCourseView: Sendable {
    struct Person: Sendable {
        var email, name, enrolled, reason, due, state: String
        var completionID: String?
        var certificate: Bool
    }

    let id, title, kind, audience, duration, passing, owner: String
    let materials: String
    let retired: Bool
    let organisationName: String?
    let people: [Person]
    let hasPeople: Bool
    let enrolForm: FormView?
    let completeForm: FormView?
    let mayRetire: Bool
    let message: String?

    static let enrolName = "training.enrol"
    static let completeName = "training.complete"

    static func enrolFields(state: FormState?) -> [FieldView] {
        [
            FieldView(
                "people", label: "People", control: .textarea(rows: 5), hint: "One e-mail address a line, optionally followed by a comma and the name.",
                required: true, state: state, id: "enrol-people"),
            FieldView("dueOn", label: "Due by", control: .text(type: "date"), state: state, id: "enrol-due"),
        ]
    }

    static func completeFields(state: FormState?) -> [FieldView] {
        [
            FieldView("email", label: "E-mail address", control: .text(type: "email"), required: true, state: state, id: "complete-email"),
            FieldView("name", label: "Name (as on the certificate)", state: state, id: "complete-name"),
            FieldView("score", label: "Score (of 100)", control: .text(type: "number"), required: true, state: state, id: "complete-score"),
            FieldView("completedOn", label: "Completed on", control: .text(type: "date"), hint: "Today when empty.", state: state, id: "complete-date"),
        ]
    }
}

struct PhishingCampaignView: Sendable {
    struct Row: Sendable {
        var email, status: String
        var clicked, reported, submitted: Bool
    }

    let name, organisation, launched, sent, clicked, reported, submitted, clickRate, reportRate: String
    let enrolledCourse: String?
    let enrolledCourseHref: String
    let rows: [Row]
}

struct CertificateView: Sendable {
    let name, course, organisation, score, completed, verifyURL, token, qr: String
}

import Foundation
import HTTPTypes
import Hummingbird
import QilaAccess
import QilaCore
import QilaPublic
import QilaStore
import QilaTraining

/// Training and awareness (`/training`): an organisation's coverage and phishing simulations, the
/// courses, enrolments and completions, certificates; the sector roll-up for the authority,
/// regulators and the oversight committee.
struct TrainingPages: PageCollection {
    let kit: PageKit
    let desk: TrainingDesk
    static let navigation = [
        NavigationEntry(title: "Training", path: "/training", order: 55) { subject, enforcement in
            enforcement.permits(subject, .read, Resource(kind: .trainingRecord, owner: subject.organisation.id, sector: subject.organisation.sector))
                || enforcement.permits(subject, .read, Resource(kind: .trainingStatistics))
                || enforcement.permits(subject, .read, Resource(kind: .trainingStatistics, sector: subject.organisation.sector))
        }
    ]

    func routes() -> RouteCollection<QilaRequestContext> {
        let routes = RouteCollection(context: QilaRequestContext.self)
        routes.get("/training", use: overview)
        routes.post("/training/courses", use: createCourse)
        routes.get("/training/courses/:id", use: coursePage)
        routes.post("/training/courses/:id/enrol", use: enrol)
        routes.post("/training/courses/:id/complete", use: complete)
        routes.post("/training/courses/:id/retire", use: retire)
        routes.post("/training/headcount", use: headcount)
        routes.post("/training/phishing", use: importPhishing)
        routes.get("/training/phishing/:id", use: phishingPage)
        routes.get("/training/completions/:id/certificate", use: certificatePage)
        routes.post("/training/completions/:id/revoke", use: revoke)
        routes.get("/public/certificates/verify", use: verifyPage)
        return routes
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "withheld" }

    /// The organisation the page is about: the `organisation` parameter for those who may read
    /// others' records, else the subject's own.
    func chosenOrganisation(_ request: Request, _ subject: Subject) async throws -> (Organisation?, [Organisation]) {
        let readable = try await store.organisations().filter {
            $0.keepsOwnRecords && enforcement.permits(subject, .read, Resource(kind: .trainingRecord, owner: $0.id, sector: $0.sector))
        }
        if let text = request.uri.queryParameters["organisation"].map(String.init), let found = readable.first(where: { $0.id.description == text }) {
            return (found, readable)
        }
        return (readable.first { $0.id == subject.organisation.id } ?? (readable.count == 1 ? readable.first : nil), readable)
    }

    func done(_ message: String, to path: String, _ context: QilaRequestContext) async throws -> Response {
        try await refusedForms.redirect(FormState(form: TrainingView.doneName, values: ["message": [message]]), to: path, context: context, fragment: "main")
    }

    // MARK: the overview

    func overview(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let (organisation, readable) = try await chosenOrganisation(request, subject)
        let year = request.uri.queryParameters["year"].flatMap { Int(String($0)) }.flatMap { (2000...2100).contains($0) ? $0 : nil }
            ?? TrainingDesk.year(of: Date())
        let seesStatistics = enforcement.permits(subject, .read, Resource(kind: .trainingStatistics))
            || enforcement.permits(subject, .read, Resource(kind: .trainingStatistics, sector: subject.organisation.sector))
        guard organisation != nil || seesStatistics || !readable.isEmpty else {
            try await enforcement.require(subject, .read, Resource(kind: .trainingStatistics), source: context.sourceAddress)
            throw Problem(.forbidden, "training records are read by their organisation, its auditor, its regulator and the authority")
        }
        let kept = try await refusedForms.kept(request, context: context)
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let courses = try await desk.visibleCourses(for: subject)
        var coverage: TrainingDesk.Coverage?
        if let organisation { coverage = try await desk.coverage(of: organisation.id, year: year, for: subject, gate: gate(context)) }
        var groups: [TrainingView.Group] = []
        var minimum = 5
        if seesStatistics {
            let figures = try await desk.figures(year: year, for: subject, gate: gate(context))
            minimum = figures.minimum
            groups = figures.groups.map {
                TrainingView.Group(
                    name: $0.name, organisations: String($0.organisations), coverage: Self.percent($0.coverage),
                    clickRate: $0.withheld ? "withheld" : $0.clickRate.map { Self.percent($0) } ?? "no simulations",
                    reportRate: $0.withheld ? "withheld" : $0.reportRate.map { Self.percent($0) } ?? "no simulations", withheld: $0.withheld)
            }
        }
        let zone = DisplayZone.current
        let simulations = coverage?.simulations ?? []
        let mayUpdate = organisation.map { enforcement.permits(subject, .create, Resource(kind: .trainingRecord, owner: $0.id, sector: $0.sector)) } ?? false
        var owners: [(String, String)] = []
        if enforcement.permits(subject, .create, Resource(kind: .trainingCourse)) { owners.append(("", "Every organisation (a national course)")) }
        for candidate in readable where enforcement.permits(subject, .create, Resource(kind: .trainingCourse, owner: candidate.id)) {
            owners.append((candidate.id.description, candidate.name))
        }
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        let current = courses.filter { $0.retiredAt == nil }
        let view = TrainingView(
            organisationName: organisation?.name, organisationID: organisation?.id.description ?? "",
            organisations: readable.map { .init(value: $0.id.description, label: $0.name, selected: $0.id == organisation?.id) },
            choosesOrganisation: readable.count > 1, year: year, coverage: coverage.map { Self.percent($0.share) },
            trained: coverage.map { String($0.trained) } ?? "", headcount: coverage.map { String($0.headcount) } ?? "",
            headcountNote: coverage.map { $0.declared ? "declared" : "people on the roster; no headcount declared" } ?? "",
            outstanding: coverage.map { String($0.outstanding) } ?? "",
            courses: courses.map {
                .init(
                    id: $0.id, title: $0.title, kind: $0.kind.rawValue, audience: $0.audience, duration: "\($0.durationMinutes) min",
                    owner: $0.organisation.flatMap { names[$0] } ?? "National", passing: "\($0.passingMark)", retired: $0.retiredAt != nil)
            },
            hasCourses: !courses.isEmpty,
            simulations: simulations.map {
                .init(
                    id: $0.id, name: $0.name, launched: zone.format($0.launchedAt), sent: String($0.sent), clicked: String($0.clicked),
                    reported: String($0.reported), clickRate: Self.percent($0.clickRate), reportRate: Self.percent($0.reportRate))
            },
            hasSimulations: !simulations.isEmpty,
            chart: simulations.isEmpty
                ? nil
                : TimeSeriesChart(
                    points: simulations.map { .init(label: PublicPages.day($0.launchedAt), values: ["clicked": $0.clickRate * 100, "reported": $0.reportRate * 100]) },
                    series: ["clicked", "reported"], title: "Phishing simulations: share who clicked and who reported (%)", unit: "%"
                ).svg(),
            groups: groups, hasGroups: !groups.isEmpty, minimum: minimum,
            courseForm: owners.isEmpty
                ? nil
                : FormView(
                    action: "/training/courses", submit: "Add the course", fields: TrainingView.courseFields(organisations: owners, state: refused(TrainingView.courseName)),
                    state: refused(TrainingView.courseName), id: "add-course"),
            headcountForm: mayUpdate
                ? FormView(
                    action: "/training/headcount?organisation=\(organisation!.id)", submit: "Save",
                    fields: TrainingView.headcountFields(state: refused(TrainingView.headcountName), current: coverage?.declared == true ? coverage!.headcount.description : ""),
                    state: refused(TrainingView.headcountName), id: "headcount-form")
                : nil,
            importForm: mayUpdate
                ? FormView(
                    action: "/training/phishing?organisation=\(organisation!.id)", submit: "Import",
                    fields: TrainingView.importFields(courses: current, state: refused(TrainingView.importName)), state: refused(TrainingView.importName),
                    enctype: "multipart/form-data", id: "import")
                : nil,
            message: kept?.form == TrainingView.doneName ? kept?.value("message") : nil)
        return render("training", "Training", context, view)
    }

    func createCourse(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        var state = FormState(form: TrainingView.courseName, fields: fields)
        var input = TrainingDesk.CourseInput()
        input.organisation = fields["organisation"] ?? ""
        input.title = fields["title"] ?? ""
        input.kind = fields["kind"] ?? "course"
        input.audience = fields["audience"] ?? ""
        input.durationMinutes = fields["durationMinutes"] ?? ""
        input.passingMark = fields["passingMark"] ?? ""
        input.materials = fields["materials"] ?? ""
        do {
            let course = try await desk.createCourse(input, by: subject, gate: gate(context))
            return redirect("/training/courses/\(course.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: TrainingView.courseFields(organisations: [], state: nil))
            return try await refusedForms.redirect(state, to: "/training", context: context, fragment: "add-course")
        }
    }

    func headcount(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let fields = try await form(request, context)
        let organisation = request.uri.queryParameters["organisation"].map(String.init) ?? ""
        let back = "/training?organisation=\(organisation)"
        var state = FormState(form: TrainingView.headcountName, fields: fields)
        do {
            try await desk.setHeadcount(fields["headcount"] ?? "", organisation: organisation, by: subject, gate: gate(context))
            return try await done("Headcount saved.", to: back, context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: TrainingView.headcountFields(state: nil, current: ""))
            return try await refusedForms.redirect(state, to: back, context: context, fragment: "headcount-form")
        }
    }

    func importPhishing(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let parts = try await multipartForm(request, context, sending: "the GoPhish results")
        let organisation = request.uri.queryParameters["organisation"].map(String.init) ?? ""
        let back = "/training?organisation=\(organisation)"
        var state = FormState(form: TrainingView.importName, values: ["name": [parts["name"] ?? ""], "enrolCourse": [parts["enrolCourse"] ?? ""]])
        do {
            let campaign = try await desk.importPhishing(
                parts.file("file")?.bytes ?? [], name: parts["name"] ?? "", organisation: organisation, enrolCourse: parts["enrolCourse"] ?? "", by: subject,
                gate: gate(context))
            return redirect("/training/phishing/\(campaign.id)")
        } catch let error as QilaError where error.code == .invalidInput {
            // A problem inside the file names the file field, with its place in the message.
            let named = error.field == nil ? QilaError.invalid("\(error.message) (\(error.location ?? "file"))", field: "file") : error
            state.refuse(named, fields: TrainingView.importFields(courses: [], state: nil))
            return try await refusedForms.redirect(state, to: back, context: context, fragment: "import")
        }
    }

    // MARK: a course

    func coursePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let course: TrainingCourse
        do { course = try await desk.course(try context.parameters.require("id"), for: subject, gate: gate(context)) } catch let error as QilaError
            where error.code == .notFound
        { throw Problem(.notFound, error.message) }
        let (organisation, _) = try await chosenOrganisation(request, subject)
        let kept = try await refusedForms.kept(request, context: context)
        func refused(_ name: String) -> FormState? { kept?.form == name ? kept : nil }
        let zone = DisplayZone.current
        var people: [TrainingCourseView.Person] = []
        var mayRecord = false
        if let organisation {
            mayRecord = enforcement.permits(subject, .create, Resource(kind: .trainingRecord, owner: organisation.id, sector: organisation.sector))
            let enrolments = try await store.enrolments(course: course.id, organisation: organisation.id)
            let completions = try await store.completions(course: course.id, organisation: organisation.id)
            let names = Dictionary(try await store.people(of: organisation.id).map { ($0.email, $0.name) }, uniquingKeysWith: { a, _ in a })
            var emails = enrolments.map(\.email)
            for completion in completions where !emails.contains(completion.email) { emails.append(completion.email) }
            people = emails.map { email in
                let enrolment = enrolments.first { $0.email == email }
                let best = completions.filter { $0.email == email && $0.revokedAt == nil }.max { ($0.passed ? 1 : 0, $0.score) < ($1.passed ? 1 : 0, $1.score) }
                let state = best.map { $0.passed ? "passed (\($0.score))" : "not passed (\($0.score))" } ?? "enrolled"
                return TrainingCourseView.Person(
                    email: email, name: names[email] ?? "", enrolled: enrolment.map { zone.format($0.enrolledAt) } ?? "—", reason: enrolment?.reason ?? "",
                    due: enrolment?.dueAt.map(zone.format) ?? "", state: state, completionID: best?.id, certificate: best?.passed == true)
            }
        }
        let organisationQuery = organisation.map { "?organisation=\($0.id)" } ?? ""
        let view = TrainingCourseView(
            id: course.id, title: course.title, kind: course.kind.rawValue, audience: course.audience, duration: "\(course.durationMinutes) minutes",
            passing: "\(course.passingMark) of 100", owner: course.organisation == nil ? "National (the authority's)" : "Own course",
            materials: SafeMarkdown.html(course.materials), retired: course.retiredAt != nil, organisationName: organisation?.name, people: people,
            hasPeople: !people.isEmpty,
            enrolForm: mayRecord && course.retiredAt == nil
                ? FormView(
                    action: "/training/courses/\(course.id)/enrol\(organisationQuery)", submit: "Enrol",
                    fields: TrainingCourseView.enrolFields(state: refused(TrainingCourseView.enrolName)), state: refused(TrainingCourseView.enrolName), id: "enrol")
                : nil,
            completeForm: mayRecord
                ? FormView(
                    action: "/training/courses/\(course.id)/complete\(organisationQuery)", submit: "Record",
                    fields: TrainingCourseView.completeFields(state: refused(TrainingCourseView.completeName)), state: refused(TrainingCourseView.completeName),
                    id: "complete")
                : nil,
            mayRetire: course.retiredAt == nil && enforcement.permits(subject, .update, Resource(kind: .trainingCourse, owner: course.organisation)),
            message: kept?.form == TrainingView.doneName ? kept?.value("message") : nil)
        return render("training-course", course.title, context, view)
    }

    func enrol(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let fields = try await form(request, context)
        let organisation = request.uri.queryParameters["organisation"].map(String.init) ?? subject.organisation.id.description
        let back = "/training/courses/\(id)?organisation=\(organisation)"
        var state = FormState(form: TrainingCourseView.enrolName, fields: fields)
        do {
            let added = try await desk.enrol(course: id, organisation: organisation, people: fields["people"] ?? "", dueOn: fields["dueOn"] ?? "", by: subject, gate: gate(context))
            return try await done("\(added) enrolled.", to: back, context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: TrainingCourseView.enrolFields(state: nil))
            return try await refusedForms.redirect(state, to: back, context: context, fragment: "enrol")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func complete(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        let fields = try await form(request, context)
        let organisation = request.uri.queryParameters["organisation"].map(String.init) ?? subject.organisation.id.description
        let back = "/training/courses/\(id)?organisation=\(organisation)"
        var state = FormState(form: TrainingCourseView.completeName, fields: fields)
        do {
            let completion = try await desk.recordCompletion(
                course: id, organisation: organisation, email: fields["email"] ?? "", name: fields["name"] ?? "", score: fields["score"] ?? "",
                completedOn: fields["completedOn"] ?? "", by: subject, gate: gate(context))
            return try await done(completion.passed ? "Recorded: passed. Its certificate is linked below." : "Recorded: not passed.", to: back, context)
        } catch let error as QilaError where error.code == .invalidInput {
            state.refuse(error, fields: TrainingCourseView.completeFields(state: nil))
            return try await refusedForms.redirect(state, to: back, context: context, fragment: "complete")
        } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
    }

    func retire(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let id = try context.parameters.require("id")
        _ = try await form(request, context)
        do { try await desk.retireCourse(id, by: subject, gate: gate(context)) } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return try await done("The course is retired: no new enrolments.", to: "/training/courses/\(id)", context)
    }

    // MARK: phishing simulations, certificates

    func phishingPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let campaign: PhishingCampaign
        let results: [PhishingResult]
        do { (campaign, results) = try await desk.phishingCampaign(try context.parameters.require("id"), for: subject, gate: gate(context)) } catch let error
            as QilaError where error.code == .notFound
        { throw Problem(.notFound, error.message) }
        let organisation = try await store.organisation(campaign.organisation)
        let course = try await campaign.enrolledCourse.asyncMap { try await store.course($0) } ?? nil
        let rate = { (part: Int) in Self.percent(campaign.sent == 0 ? 0 : Double(part) / Double(campaign.sent)) }
        let view = PhishingCampaignView(
            name: campaign.name, organisation: organisation?.name ?? "", launched: DisplayZone.current.format(campaign.launchedAt), sent: String(campaign.sent),
            clicked: String(campaign.clicked), reported: String(campaign.reported), submitted: String(campaign.submitted), clickRate: rate(campaign.clicked),
            reportRate: rate(campaign.reported), enrolledCourse: course?.title,
            enrolledCourseHref: "/training/courses/\(campaign.enrolledCourse ?? "")?organisation=\(campaign.organisation)",
            rows: results.map { .init(email: $0.email, status: $0.status, clicked: $0.clicked, reported: $0.reported, submitted: $0.submitted) })
        return render("training-phishing", campaign.name, context, view)
    }

    func certificatePage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        let certificate: TrainingCertificate
        let token: String
        do { (certificate, token) = try await desk.certificate(try context.parameters.require("id"), for: subject, gate: gate(context)) } catch let error
            as QilaError where error.code == .notFound || error.code == .conflict
        { throw Problem(.notFound, error.message) }
        let url = absolute("/public/certificates/verify?c=\(token)", request)
        let view = CertificateView(
            name: certificate.name, course: certificate.course, organisation: certificate.organisation, score: String(certificate.score),
            completed: certificate.completed, verifyURL: url, token: token, qr: try QRCode(url).svg(title: "QR code to verify this certificate"))
        return render("training-certificate", "Certificate: \(certificate.course)", context, view)
    }

    func revoke(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let subject = try subject(context)
        _ = try await form(request, context)
        let id = try context.parameters.require("id")
        do { try await desk.revoke(id, by: subject, gate: gate(context)) } catch let error as QilaError where error.code == .notFound {
            throw Problem(.notFound, error.message)
        }
        return try await done("The completion is revoked: its certificate no longer verifies.", to: "/training", context)
    }

    /// Anyone checks a certificate: the page says whether this installation signed it, unaltered
    /// and not revoked, and what it certifies.
    func verifyPage(_ request: Request, context: QilaRequestContext) async throws -> Response {
        let language = PublicLanguage.negotiate(
            choice: request.uri.queryParameters["lang"].map(String.init) ?? request.cookies[PublicPages.languageCookie]?.value,
            acceptLanguage: request.headers[.acceptLanguage])
        let t = Translations(text: .shipped, language: language)
        let token = request.uri.queryParameters["c"].map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var view = PublicCertificateView(token: token, checked: !token.isEmpty)
        if !token.isEmpty {
            switch try await desk.verify(String(token.prefix(12_000))) {
            case .valid(let certificate):
                view.valid = true
                view.fill(certificate)
            case .revoked(let certificate):
                view.revoked = true
                view.fill(certificate)
            case .invalid:
                view.invalid = true
            }
        }
        let path = "/public/certificates/verify" + (token.isEmpty ? "" : "?c=\(token)")
        return renderer.publicPage(
            "public-certificate", title: t["cert_title"], language: language, path: path, view: view,
            status: view.invalid ? .unprocessableContent : .ok)
    }
}

/// The public verify page's view.
struct PublicCertificateView: Sendable {
    var token: String
    var checked: Bool
    var valid = false
    var revoked = false
    var invalid = false
    var name = "", course = "", organisation = "", score = "", completed = ""

    mutating func fill(_ certificate: TrainingCertificate) {
        (name, course, organisation, score, completed) = (certificate.name, certificate.course, certificate.organisation, String(certificate.score), certificate.completed)
    }
}

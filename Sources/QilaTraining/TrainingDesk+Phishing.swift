public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

extension TrainingDesk {
    /// Imports a phishing simulation's results (GoPhish CSV or JSON) for an organisation: the
    /// campaign with its counts, each recipient's outcome, the recipients added to the roster,
    /// and, when a course is chosen, everyone who clicked enrolled on it (due in `dueDays`), all
    /// in one transaction. A name the file does not carry must be given.
    public func importPhishing(
        _ bytes: [UInt8], name nameText: String, organisation organisationText: String, enrolCourse: String = "", dueDays: Int = 30, by subject: Subject,
        gate: any AccessGate, now: Date = Date()
    ) async throws -> PhishingCampaign {
        let organisation = try await organisation(organisationText)
        try await gate.require(subject, .create, Self.records(organisation))
        guard !bytes.isEmpty else { throw QilaError.invalid("choose the results file exported from GoPhish (CSV or JSON)", field: "file") }
        let results: PhishingResults
        do { results = try PhishingResults.parse(bytes) } catch { throw QilaError(.invalidInput, error.message, at: "file, \(error.location)") }
        guard !results.recipients.isEmpty else { throw QilaError.invalid("lists no recipients", field: "file") }
        let name = nameText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? (results.name ?? "") : nameText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, !name.contains(where: \.isNewline) else {
            throw QilaError.invalid("needs a name (the CSV export carries none), one line of at most 200 characters", field: "name")
        }
        var course: TrainingCourse?
        if !enrolCourse.trimmingCharacters(in: .whitespaces).isEmpty {
            let chosen = try await self.course(enrolCourse.trimmingCharacters(in: .whitespaces), for: subject, gate: gate)
            guard chosen.retiredAt == nil else { throw QilaError.invalid("is retired; choose a current course", field: "enrolCourse") }
            course = chosen
        }
        // One outcome per address: a recipient listed twice counts once, at their furthest step.
        var byEmail: [String: PhishingResults.Recipient] = [:]
        for recipient in results.recipients {
            if let known = byEmail[recipient.email] {
                var merged = known.clicked || !recipient.clicked ? known : recipient
                merged.reported = known.reported || recipient.reported
                byEmail[recipient.email] = merged
            } else {
                byEmail[recipient.email] = recipient
            }
        }
        let recipients = byEmail.values.sorted { $0.email < $1.email }
        let sent = recipients.filter(\.sent)
        let campaign = PhishingCampaign(
            organisation: organisation.id, name: name, launchedAt: results.launchedAt ?? now, importedAt: now, importedBy: subject.user.id, sent: sent.count,
            opened: sent.filter(\.opened).count, clicked: sent.filter(\.clicked).count, submitted: sent.filter(\.submitted).count,
            reported: sent.filter(\.reported).count, enrolledCourse: course?.id)
        let people = recipients.map {
            TrainingPerson(
                organisation: organisation.id, email: $0.email, name: [$0.firstName, $0.lastName].filter { !$0.isEmpty }.joined(separator: " "), position: $0.position)
        }
        let enrolments = course.map { course in
            sent.filter(\.clicked).map {
                TrainingEnrolment(
                    course: course.id, organisation: organisation.id, email: $0.email, enrolledAt: now, enrolledBy: subject.user.id.description,
                    reason: "clicked in \(name)", dueAt: now.addingTimeInterval(Double(max(1, dueDays)) * 86_400))
            }
        } ?? []
        try await store.addPhishingCampaign(
            campaign,
            results: recipients.map {
                PhishingResult(email: $0.email, status: $0.status, opened: $0.opened, clicked: $0.clicked, submitted: $0.submitted, reported: $0.reported)
            },
            people: people, enrolments: enrolments)
        try await audit.recordChange(
            by: subject, "training.phishing.import", resource: "training-record:\(organisation.id)", source: nil,
            details: [
                "campaign": campaign.id, "sent": String(campaign.sent), "clicked": String(campaign.clicked), "reported": String(campaign.reported),
                "enrolled": String(enrolments.count),
            ], now: now)
        return campaign
    }

    /// A campaign and its per-person results, for those who may read the organisation's records.
    public func phishingCampaign(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> (PhishingCampaign, [PhishingResult]) {
        guard let campaign = try await store.phishingCampaign(id), let organisation = try await store.organisation(campaign.organisation) else {
            throw QilaError(.notFound, "no such phishing simulation")
        }
        try await gate.require(subject, .read, Self.records(organisation))
        return (campaign, try await store.phishingResults(id))
    }
}

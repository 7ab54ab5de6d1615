public import Foundation
public import QilaAccess
import QilaCases
public import QilaCore
public import QilaIntel
public import QilaStore

/// Suspicious messages and websites reported by the public, as the UK NCSC's reporting service
/// takes them: the report reaches the authority's analysts' queue; one they confirm has its
/// addresses, links and senders shared as indicators into an intelligence collection, from where
/// detection and the sectors pick them up.
public struct SuspiciousReportDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog
    let intel: IntelDesk
    public let stamp: FormStamp
    public let limit: SubmissionLimit

    public init(store: SQLStore, audit: AuditLog, intel: IntelDesk, stamp: FormStamp, limit: SubmissionLimit = SubmissionLimit(perHour: 10)) {
        self.store = store
        self.audit = audit
        self.intel = intel
        self.stamp = stamp
        self.limit = limit
    }

    /// What the form sends.
    public struct Form: Sendable, Equatable {
        public var kind = ""
        public var url = ""
        public var sender = ""
        public var headers = ""
        public var description = ""
        public var stamp = ""
        public var language: PublicLanguage = .english
        public init() {}
    }

    /// Takes a report; gives back its reference. A website needs its address; a message needs at
    /// least one of the link, the sender or the headers.
    public func report(_ form: Form, source: String?, now: Date = Date()) async throws -> String {
        var problems: [PublicRefusal] = []
        let kind = SuspiciousReport.Kind(rawValue: form.kind)
        if kind == nil { problems.append(PublicRefusal(field: "kind", key: "err_suspicious_kind")) }
        let url = form.url.trimmingCharacters(in: .whitespacesAndNewlines)
        let sender = form.sender.trimmingCharacters(in: .whitespacesAndNewlines)
        let headers = form.headers.trimmingCharacters(in: .whitespacesAndNewlines)
        let description = form.description.trimmingCharacters(in: .whitespacesAndNewlines)
        if !url.isEmpty, !Self.isLink(url) {
            problems.append(PublicRefusal(field: "url", key: "err_url"))
        } else if kind == .website, url.isEmpty {
            problems.append(PublicRefusal(field: "url", key: "err_url_needed"))
        }
        if kind == .message, url.isEmpty, sender.isEmpty, headers.isEmpty { problems.append(PublicRefusal(field: "sender", key: "err_message_needs")) }
        if sender.count > 320 || sender.contains("\n") { problems.append(PublicRefusal(field: "sender", key: "err_sender")) }
        if headers.utf8.count > 32_000 { problems.append(PublicRefusal(field: "headers", key: "err_headers_long")) }
        if description.count > 4000 { problems.append(PublicRefusal(field: "description", key: "err_description_long")) }
        if !problems.isEmpty { throw PublicRefusals(problems) }
        guard let kind else { throw PublicRefusals(problems) }
        do { try stamp.check(form.stamp, form: "suspicious", now: now) } catch { throw PublicRefusals([error]) }
        do { try await limit.admit("suspicious", from: source, store: store, now: now) } catch let refusal as PublicRefusal { throw PublicRefusals([refusal]) }
        let reference = "SR-" + ComplaintDesk.randomCode(8)
        try await store.addSuspiciousReport(
            SuspiciousReport(
                reference: reference, kind: kind, url: url, sender: sender, headers: headers, description: description, language: form.language.rawValue,
                createdAt: now))
        _ = try await audit.append(
            AuditEntry(
                time: now, actor: "public", action: "public.suspicious.report", outcome: .success, resource: "suspicious-report:\(reference)",
                sourceAddress: source, details: ["kind": kind.rawValue]))
        return reference
    }

    /// The queue, newest first: the new ones, or those in `status`.
    public func reports(_ status: SuspiciousReport.Status?, for subject: Subject, gate: any AccessGate) async throws -> [SuspiciousReport] {
        try await gate.require(subject, .read, Resource(kind: .suspiciousReport))
        return try await store.suspiciousReports(status: status)
    }

    public func report(_ id: String, for subject: Subject, gate: any AccessGate) async throws -> SuspiciousReport {
        try await gate.require(subject, .read, Resource(kind: .suspiciousReport))
        guard let report = try await store.suspiciousReport(id: id) else { throw QilaError(.notFound, "no such report") }
        return report
    }

    /// The indicators a report yields: its link, the link's host, the sender's address, and links
    /// and addresses found in the headers.
    public static func observables(of report: SuspiciousReport) -> [Observable] {
        let text = [report.url, report.sender, report.headers].joined(separator: "\n")
        var found: [Observable] = []
        for token in text.split(whereSeparator: { $0.isWhitespace || "<>\"',;()".contains($0) }) {
            var candidate = String(token)
            if candidate.lowercased().hasPrefix("mailto:") { candidate = String(candidate.dropFirst(7)) }
            if candidate.hasSuffix(".") { candidate.removeLast() }
            let looksLikeOne = candidate.lowercased().hasPrefix("http://") || candidate.lowercased().hasPrefix("https://") || candidate.contains("@")
            guard looksLikeOne else { continue }
            for observable in ObservableParser.parse(candidate).observables where !found.contains(observable) { found.append(observable) }
        }
        if let host = URL(string: report.url)?.host, !host.isEmpty {
            for observable in ObservableParser.parse(host).observables where !found.contains(observable) { found.append(observable) }
        }
        return found
    }

    /// An analyst's decision. Confirming shares the report's indicators into `collection` under
    /// `marking`; dismissing needs a note saying why. A report is decided once.
    public func decide(
        _ id: String, confirm: Bool, note: String, collection: String, marking: String, by subject: Subject, gate: any AccessGate, now: Date = Date()
    ) async throws -> SuspiciousReport {
        try await gate.require(subject, .update, Resource(kind: .suspiciousReport))
        guard var report = try await store.suspiciousReport(id: id) else { throw QilaError(.notFound, "no such report") }
        guard report.status == .new else { throw QilaError(.conflict, "\(report.reference) was already \(report.status.rawValue)") }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.count <= 2000 else { throw QilaError.invalid("is longer than 2000 characters", field: "note") }
        var shared: String?
        if confirm {
            let observables = Self.observables(of: report)
            guard !observables.isEmpty else {
                throw QilaError.invalid("has no link, address or sender to share; dismiss it with a note instead", field: "collection")
            }
            let material = IntelDesk.CaseMaterial(
                id: report.id, number: report.reference, title: "Reported by the public: \(report.kind.rawValue)", summary: report.description,
                tlp: .clear, organisation: subject.organisation.id, created: report.createdAt, observables: observables)
            let (status, _) = try await intel.share(material, as: "indicators", marking: marking, into: collection, by: subject, now: now)
            shared = status.successes.first?.id
        } else if note.isEmpty {
            throw QilaError.invalid("needs a note saying why the report is dismissed", field: "note")
        }
        let status: SuspiciousReport.Status = confirm ? .confirmed : .dismissed
        guard try await store.decideSuspiciousReport(id: id, status: status, by: subject.user.id, at: now, note: note, intelObject: shared) else {
            throw QilaError(.conflict, "\(report.reference) was decided a moment ago by someone else")
        }
        try await audit.recordChange(
            by: subject, "public.suspicious.\(confirm ? "confirm" : "dismiss")", resource: "suspicious-report:\(report.reference)", source: nil,
            details: confirm ? ["collection": collection, "marking": marking] : [:], now: now)
        report.status = status
        report.decidedBy = subject.user.id
        report.decidedAt = now
        report.note = note
        report.intelObject = shared
        return report
    }

    static func isLink(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard text.count <= 2048, lower.hasPrefix("http://") || lower.hasPrefix("https://"), !text.contains(where: \.isWhitespace),
            let host = URL(string: text)?.host, !host.isEmpty
        else { return false }
        return true
    }
}

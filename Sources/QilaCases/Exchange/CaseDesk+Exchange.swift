public import Foundation
public import QilaAccess
public import QilaCore
import QilaStore

/// Exports of a case (STIX 2.1, MISP) and import of a MISP event as a case.
extension CaseDesk {
    public enum ExportFormat: String, Sendable {
        case stix
        case misp
    }

    /// The case in `format`, for someone who may read it; every export is in the audit log.
    public func export(_ id: CaseID, as format: ExportFormat, for subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> [UInt8] {
        let incident = try await incident(id, for: subject, gate: gate)
        guard let organisation = try await store.organisation(incident.organisation) else { throw QilaError(.notFound, "the organisation is gone") }
        let authority = try await store.organisations().first { $0.kind == .authority }
        // The first summary the reporter submitted, in stage order.
        let stages = try await store.stages(of: id).filter(\.isSubmitted).sorted { ($0.submittedAt ?? .distantPast) < ($1.submittedAt ?? .distantPast) }
        let material = CaseExchange.Material(
            incident: incident, organisation: organisation, authority: authority, summary: stages.lazy.compactMap { $0.values["summary"] }.first,
            observables: try await store.observables(of: id), now: now)
        let bytes = format == .stix ? try CaseExchange.stixBundle(material) : try CaseExchange.mispEvent(material)
        try await record(subject, "case.export.\(format.rawValue)", incident, ["bytes": String(bytes.count)])
        return bytes
    }

    /// What sharing a case with an intelligence community reads: the case (for someone who
    /// may read it and is not a draft's only reader), the reporter's first summary and the observables.
    public func shareable(_ id: CaseID, for subject: Subject, gate: any AccessGate) async throws
        -> (incident: IncidentCase, summary: String?, observables: [Observable])
    {
        let incident = try await incident(id, for: subject, gate: gate)
        guard incident.status != .draft else { throw QilaError.invalid("is a draft: submit a stage before sharing it", field: "what") }
        let stages = try await store.stages(of: id).filter(\.isSubmitted).sorted { ($0.submittedAt ?? .distantPast) < ($1.submittedAt ?? .distantPast) }
        return (incident, stages.lazy.compactMap { $0.values["summary"] }.first, try await store.observables(of: id))
    }

    /// Notes on the case's timeline (shared with the reporter) that it was shared, and audits it.
    public func recordShared(_ id: CaseID, _ text: String, details: [String: String], by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws {
        let incident = try await incident(id, for: subject, gate: gate)
        try await store.addEntries([
            CaseEntry(caseID: id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .exchange, text: text, shared: true)
        ])
        try await record(subject, "case.share", incident, details)
    }

    /// Opens a case from a MISP event, for the organisation it concerns: the authority learnt of
    /// an incident from intelligence and puts it in the queue. The organisation's deadlines run
    /// from the import.
    public func importMISP(_ bytes: [UInt8], organisation organisationText: String, by subject: Subject, gate: any AccessGate, now: Date = Date()) async throws
        -> (incident: IncidentCase, skipped: [String])
    {
        guard let organisationID = OrganisationID(organisationText.trimmingCharacters(in: .whitespaces)),
            let organisation = try await store.organisation(organisationID), organisation.kind != .authority
        else { throw QilaError.invalid("choose the organisation the event concerns", field: "organisation") }
        guard bytes.count <= 8 * 1024 * 1024 else { throw QilaError.invalid("the event is larger than 8 MiB", field: "file") }
        let event = try CaseExchange.readMISPEvent(bytes)
        guard let regime = regimes.defaultRegime(for: organisation.sector) else { throw QilaError(.configuration, "no reporting regime is configured") }
        let tlp = min(event.tlp ?? .amber, subject.user.clearance)
        var incident = IncidentCase(
            organisation: organisation.id, sector: organisation.sector, title: event.title, awareness: now, regimes: [regime.id], tlp: tlp,
            pap: event.pap ?? PAP.amber.rawValue, classification: event.classification, offences: try Self.offences(event.offences).map(\.rawValue),
            severity: event.severity, status: .new, reportedBy: subject.user.id, onBehalf: true, createdAt: now, submittedAt: now)
        try await gate.require(subject, .create, Self.resource(incident))
        try await gate.require(subject, .update, Self.internalResource(incident))
        let text = "Imported from MISP event \(event.uuid ?? "without uuid")\(event.date.map { " dated \($0)" } ?? ""): \(event.observables.count) observables"
            + (event.skipped.isEmpty ? "" : "; \(event.skipped.count) attributes of other types not taken (\(Set(event.skipped).sorted().prefix(5).joined(separator: ", ")))")
        incident = try await store.createCase(
            incident,
            entries: [CaseEntry(caseID: incident.id, time: now, actor: subject.user.id, actorOrganisation: subject.organisation.id, kind: .exchange, text: text, shared: true)])
        _ = try await store.addObservables(event.observables, to: incident.id, by: subject.user.id, at: now)
        try await record(subject, "case.import.misp", incident, ["observables": String(event.observables.count), "skipped": String(event.skipped.count)])
        return (incident, event.skipped)
    }
}

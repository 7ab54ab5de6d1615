public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore
import QilaDetect

/// Intelligence that starts outside TAXII: a file an analyst uploads (a STIX 2.1 bundle or a
/// MISP event) and a case's observables shared with a community.
extension IntelDesk {
    /// The largest file an analyst may upload.
    public static let maximumFile = 64 << 20

    /// What an uploaded file gave.
    public struct Imported: Sendable {
        /// `STIX 2.1` or `MISP event`.
        public var format: String
        public var status: Status
        /// MISP attributes not read as indicators.
        public var skipped: Int
    }

    /// Adds the objects of a STIX 2.1 bundle (or TAXII envelope) or of a MISP event (read as
    /// `MispEvents` reads a feed's) to a collection the subject may add to. `mayDefer`: a large
    /// file is accepted and stored by a job (a page); without it, stored before this returns (the
    /// command line, which runs no job).
    public func importFile(
        _ bytes: [UInt8], named name: String, into collectionID: String, by subject: Subject, source: String? = nil, mayDefer: Bool = false,
        now: Date = Date()
    ) async throws -> Imported {
        guard let record = try await store.intelCollection(id: collectionID) else { throw QilaError.invalid("names no collection", field: "collection") }
        guard !bytes.isEmpty else { throw QilaError.invalid("is empty: choose a STIX bundle or a MISP event (JSON)", field: "file") }
        guard bytes.count <= Self.maximumFile else { throw QilaError.invalid("is larger than \(Self.maximumFile >> 20) MiB", field: "file") }
        guard let value = try? JSONValue.decode(bytes), case .object = value else {
            throw QilaError.invalid("is not a JSON object (a STIX bundle or a MISP event)", field: "file")
        }
        let label = String(name.prefix(100))
        if value["objects"] != nil {
            let status = try await add(
                value, request: bytes, to: collectionID, root: record.root, by: subject, source: source ?? "file:\(label)", mayDefer: mayDefer, now: now)
            return Imported(format: "STIX 2.1", status: status, skipped: 0)
        }
        guard value["Event"] != nil || value["response"] != nil || value["Attribute"] != nil else {
            throw QilaError.invalid("is neither a STIX bundle (with 'objects') nor a MISP event (with 'Event')", field: "file")
        }
        let converted: MispEvents.Converted
        do {
            converted = try MispEvents.stix(value, file: label)
        } catch {
            throw QilaError.invalid("is not a MISP event this server reads: \(error.message) (\(error.location ?? label))", field: "file")
        }
        let status = try await add(
            .object(["objects": .array(converted.objects)]), to: collectionID, root: record.root, by: subject, source: source ?? "misp:\(label)",
            mayDefer: mayDefer, now: now)
        return Imported(format: "MISP event", status: status, skipped: converted.skipped.values.reduce(0, +))
    }

    /// The collection of one organisation (read by it and the authority), made if missing.
    public func collection(of organisation: OrganisationID) async throws -> IntelCollectionRecord? {
        try await ensureCollections()
        return try await store.intelCollections().first { $0.kind == .organisation && $0.organisation == organisation }
    }

    // MARK: from cases

    /// What of a case is shared: its observables as indicators, or those with a report that
    /// tells the case (title and the reporter's summary).
    public enum CaseShareKind: String, Sendable, CaseIterable {
        case indicators
        case report

        public var title: String {
            switch self {
            case .indicators: "Its observables, as indicators"
            case .report: "Indicators and a report (title and summary)"
            }
        }
    }

    /// A case as sharing sees it. The case desk decides who may read the case; this desk who
    /// may add to the collection and under which marking.
    public struct CaseMaterial: Sendable {
        public var id: String
        public var number: String
        public var title: String
        public var summary: String?
        public var tlp: TLP
        /// The organisation that reported it: only it may share under a lighter marking.
        public var organisation: OrganisationID
        public var created: Date
        public var observables: [Observable]

        public init(id: String, number: String, title: String, summary: String?, tlp: TLP, organisation: OrganisationID, created: Date, observables: [Observable]) {
            self.id = id
            self.number = number
            self.title = title
            self.summary = summary
            self.tlp = tlp
            self.organisation = organisation
            self.created = created
            self.observables = observables
        }
    }

    /// Shares a case into a collection under `marking`. Indicators have identifiers derived
    /// from the case and the value, so sharing again gives new versions, not copies. Host names
    /// and accounts have no STIX pattern detection reads and are counted, not shared.
    public func share(_ material: CaseMaterial, as kindText: String, marking markingText: String, into collectionID: String, by subject: Subject, now: Date = Date())
        async throws -> (status: Status, left: Int)
    {
        guard let kind = CaseShareKind(rawValue: kindText) else { throw QilaError.invalid("needs a choice", field: "what") }
        guard let tlp = TLP(label: markingText), tlp != .red else {
            throw QilaError.invalid("must be TLP:CLEAR, GREEN, AMBER or AMBER+STRICT (RED goes to named people, not to a collection)", field: "marking")
        }
        guard tlp >= material.tlp || subject.organisation.id == material.organisation else {
            throw QilaError.invalid("must be \(material.tlp.rawValue) or stricter: the reporter marked the case so", field: "marking")
        }
        guard let record = try await store.intelCollection(id: collectionID) else { throw QilaError.invalid("names no collection", field: "collection") }
        let markingRef = JSONValue.array([.string(StixObject.marking(tlp))])
        let created = StixTimestamp(min(material.created, now))
        let modified = StixTimestamp(now)
        var objects: [JSONValue] = []
        var left = 0
        for observable in material.observables.sorted() {
            guard let pattern = Self.pattern(observable) else {
                left += 1
                continue
            }
            objects.append(
                .object([
                    "type": .string("indicator"), "spec_version": .string("2.1"),
                    "id": .string("indicator--" + Self.derivedUUID("case-share|\(material.id)|\(observable.kind.rawValue)|\(observable.value)")),
                    "created": .string(created.text), "modified": .string(modified.text),
                    "name": .string(String("\(observable.kind.title) \(observable.value) (\(material.number))".prefix(300))),
                    "pattern": .string(pattern), "pattern_type": .string("stix"), "valid_from": .string(created.text),
                    "indicator_types": .array([.string("malicious-activity")]), "object_marking_refs": markingRef,
                    "external_references": .array([.object(["source_name": .string("qila-case"), "external_id": .string(material.number)])]),
                ]))
        }
        guard !objects.isEmpty else {
            throw QilaError.invalid("has nothing to share: no addresses, domains, URLs, hashes or e-mail addresses", field: "what")
        }
        if kind == .report {
            var report: [String: JSONValue] = [
                "type": .string("report"), "spec_version": .string("2.1"), "id": .string("report--" + Self.derivedUUID("case-report|\(material.id)")),
                "created": .string(created.text), "modified": .string(modified.text), "name": .string(String(material.title.prefix(300))),
                "report_types": .array([.string("threat-report")]), "published": .string(modified.text),
                "object_refs": .array(objects.compactMap { $0["id"] }), "object_marking_refs": markingRef,
                "external_references": .array([.object(["source_name": .string("qila-case"), "external_id": .string(material.number)])]),
            ]
            if let summary = material.summary?.trimmingCharacters(in: .whitespacesAndNewlines), !summary.isEmpty {
                report["description"] = .string(String(summary.prefix(20_000)))
            }
            objects.append(.object(report))
        }
        let status = try await add(.object(["objects": .array(objects)]), to: collectionID, root: record.root, by: subject, source: "case:\(material.number)", now: now)
        return (status, left)
    }

    /// The STIX pattern that names one observable, or nil for host names and accounts.
    public static func pattern(_ observable: Observable) -> String? {
        let path: String
        switch observable.kind {
        case .ipv4: path = "ipv4-addr:value"
        case .ipv6: path = "ipv6-addr:value"
        case .domain: path = "domain-name:value"
        case .url: path = "url:value"
        case .email: path = "email-addr:value"
        case .md5: path = "file:hashes.MD5"
        case .sha1: path = "file:hashes.'SHA-1'"
        case .sha256: path = "file:hashes.'SHA-256'"
        case .account, .host: return nil
        }
        let text = "[\(path) = \(quoted(observable.value))]"
        return (try? StixPattern.parse(text)) == nil ? nil : text
    }

    /// A string literal of the STIX patterning language: quotes and backslashes escaped.
    static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

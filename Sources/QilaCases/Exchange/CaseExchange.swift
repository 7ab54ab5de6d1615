public import Foundation
public import QilaCore

/// A case as other tools read it: a STIX 2.1 bundle whose incident carries the Incident Core
/// extension, and a MISP event with TLP, PAP, RSIT and PECA tags; and a MISP event read back as
/// a case. Only what the reporter shared leaves: no internal comments, no drafts, no tasks.
public enum CaseExchange {
    /// What an export is made of.
    public struct Material: Sendable {
        public var incident: IncidentCase
        public var organisation: Organisation
        public var authority: Organisation?
        /// The first summary the reporter submitted, if any.
        public var summary: String?
        public var observables: [Observable]
        public var now: Date

        public init(incident: IncidentCase, organisation: Organisation, authority: Organisation?, summary: String?, observables: [Observable], now: Date) {
            self.incident = incident
            self.organisation = organisation
            self.authority = authority
            self.summary = summary
            self.observables = observables
            self.now = now
        }
    }

    // MARK: STIX 2.1

    /// The Incident Core extension published by the OASIS CTI TC.
    public static let incidentExtension = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
    /// The TLP 2.0 marking extension and its published marking definitions.
    public static let tlpExtension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
    public static let tlpMarkings: [TLP: String] = [
        .clear: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        .green: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        .amber: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        .amberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        .red: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ]
    /// The namespace STIX 2.1 gives for deterministic identifiers of cyber-observables.
    static let observableNamespace = UUID(uuidString: "00abedb4-aa42-466c-9c01-fed23315a9b7")!

    static func timestamp(_ date: Date) -> String {
        // STIX timestamps are UTC with millisecond precision.
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return RFC3339.format(millis: millis)
    }

    /// A name-based UUID (RFC 9562 version 5, SHA-1).
    static func uuid5(_ namespace: UUID, _ name: String) -> UUID { UUID.nameBased(name, in: namespace) }

    /// The cyber-observable for an observable, with its deterministic id (from its ID contributing
    /// properties, serialised as canonical JSON).
    /// STIX 2.1 has no cyber-observable for a bare host name; hosts are left out of bundles.
    static func observableObject(_ observable: Observable) -> [String: Any]? {
        let type: String
        var contributing: [String: Any]
        switch observable.kind {
        case .ipv4: type = "ipv4-addr"; contributing = ["value": observable.value]
        case .ipv6: type = "ipv6-addr"; contributing = ["value": observable.value]
        case .domain: type = "domain-name"; contributing = ["value": observable.value]
        case .url: type = "url"; contributing = ["value": observable.value]
        case .email: type = "email-addr"; contributing = ["value": observable.value]
        case .md5: type = "file"; contributing = ["hashes": ["MD5": observable.value]]
        case .sha1: type = "file"; contributing = ["hashes": ["SHA-1": observable.value]]
        case .sha256: type = "file"; contributing = ["hashes": ["SHA-256": observable.value]]
        case .account: type = "user-account"; contributing = ["user_id": observable.value]
        case .host: return nil
        }
        let canonical = (try? JSONSerialization.data(withJSONObject: contributing, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? ""
        var object = contributing
        object["type"] = type
        object["spec_version"] = "2.1"
        object["id"] = "\(type)--\(uuid5(observableNamespace, canonical).uuidString.lowercased())"
        return object
    }

    static func identity(_ organisation: Organisation, created: Date) -> [String: Any] {
        let sectors: [String: String] = [
            "telecom": "telecommunications", "banking-finance": "financial-services", "energy": "energy", "health": "healthcare",
            "government": "government", "transport": "transportation", "water": "utilities", "it-services": "technology",
        ]
        var object: [String: Any] = [
            "type": "identity", "spec_version": "2.1", "id": "identity--\(organisation.id)", "created": timestamp(created), "modified": timestamp(created),
            "name": organisation.name, "identity_class": "organization",
        ]
        if let sector = sectors[organisation.sector.rawValue] { object["sectors"] = [sector] }
        return object
    }

    /// The case as a STIX 2.1 bundle (JSON, UTF-8).
    public static func stixBundle(_ material: Material) throws -> [UInt8] {
        let incident = material.incident
        let created = incident.createdAt
        let modified = max(incident.updatedAt, created)
        guard let marking = tlpMarkings[incident.tlp] else { throw QilaError(.invalidInput, "no TLP marking") }
        var objects: [[String: Any]] = []
        objects.append([
            "type": "marking-definition", "spec_version": "2.1", "id": marking, "created": "2022-10-01T00:00:00.000Z",
            "name": incident.tlp.rawValue,
            "extensions": [tlpExtension: ["extension_type": "property-extension", "tlp_2_0": incident.tlp.slug.replacingOccurrences(of: "-", with: "+")]],
        ])
        let producer = material.authority ?? material.organisation
        objects.append(identity(producer, created: producer.createdAt))
        if material.authority?.id != material.organisation.id { objects.append(identity(material.organisation, created: material.organisation.createdAt)) }
        let determination: String
        switch incident.status {
        case .draft, .new, .triaged: determination = "suspected"
        default: determination = "confirmed"
        }
        let investigation: String
        switch incident.status {
        case .draft, .new: investigation = "new"
        case .closed, .resolved: investigation = "closed"
        default: investigation = "open"
        }
        var labels = [incident.pap]
        if let classification = incident.classification.flatMap(RSITClassification.init(parsing:)) { labels.append(classification.machineTag) }
        labels += incident.offences.compactMap(PECAOffence.init(rawValue:)).map(\.tag)
        if incident.personalData { labels.append("personal-data-breach") }
        var extensionBody: [String: Any] = ["extension_type": "property-extension", "determination": determination, "investigation_status": investigation]
        if let severity = incident.severity {
            extensionBody["criticality"] = ["low": 25, "medium": 50, "high": 75, "critical": 100][severity.rawValue]
        }
        let incidentID = "incident--\(incident.id)"
        var incidentObject: [String: Any] = [
            "type": "incident", "spec_version": "2.1", "id": incidentID, "created": timestamp(created), "modified": timestamp(modified),
            "name": "\(incident.number): \(incident.title)", "created_by_ref": "identity--\(producer.id)", "object_marking_refs": [marking],
            "labels": labels, "external_references": [["source_name": "qila", "external_id": incident.number]],
            "extensions": [incidentExtension: extensionBody],
        ]
        if let summary = material.summary, !summary.isEmpty { incidentObject["description"] = summary }
        objects.append(incidentObject)
        if material.authority?.id != material.organisation.id {
            objects.append(relationship(incidentID, "related-to", "identity--\(material.organisation.id)", producer: producer, created: created, marking: marking,
                                        description: "the organisation affected"))
        }
        var seen: Set<String> = []
        for observable in material.observables {
            guard let object = observableObject(observable) else { continue }
            guard let id = object["id"] as? String, seen.insert(id).inserted else { continue }
            objects.append(object)
            objects.append(relationship(incidentID, "related-to", id, producer: producer, created: created, marking: marking, description: "observed in the incident"))
        }
        let bundle: [String: Any] = ["type": "bundle", "id": "bundle--\(UUID().uuidString.lowercased())", "objects": objects]
        return Array(try JSONSerialization.data(withJSONObject: bundle, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
    }

    static func relationship(_ source: String, _ type: String, _ target: String, producer: Organisation, created: Date, marking: String, description: String) -> [String: Any] {
        [
            "type": "relationship", "spec_version": "2.1", "id": "relationship--\(uuid5(observableNamespace, source + type + target).uuidString.lowercased())",
            "created": timestamp(created), "modified": timestamp(created), "relationship_type": type, "source_ref": source, "target_ref": target,
            "created_by_ref": "identity--\(producer.id)", "object_marking_refs": [marking], "description": description,
        ]
    }

    // MARK: MISP

    /// MISP's TLP taxonomy tag for a marking.
    static func mispTLP(_ tlp: TLP) -> String { "tlp:\(tlp.slug.replacingOccurrences(of: "-", with: "+"))" }

    static func mispAttribute(_ observable: Observable) -> (type: String, category: String) {
        switch observable.kind {
        case .ipv4, .ipv6: ("ip-dst", "Network activity")
        case .domain: ("domain", "Network activity")
        case .url: ("url", "Network activity")
        case .md5: ("md5", "Payload delivery")
        case .sha1: ("sha1", "Payload delivery")
        case .sha256: ("sha256", "Payload delivery")
        case .email: ("email-src", "Payload delivery")
        case .account: ("target-user", "Targeting data")
        case .host: ("hostname", "Network activity")
        }
    }

    /// The case as a MISP event (the JSON MISP's `events/add` and `events/view` use).
    public static func mispEvent(_ material: Material) throws -> [UInt8] {
        let incident = material.incident
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let day = calendar.dateComponents([.year, .month, .day], from: incident.awareness)
        var tags = [mispTLP(incident.tlp), incident.pap]
        if let classification = incident.classification.flatMap(RSITClassification.init(parsing:)) { tags.append(classification.machineTag) }
        tags += incident.offences.compactMap(PECAOffence.init(rawValue:)).map(\.tag)
        let threat: String
        switch incident.severity {
        case .critical?, .high?: threat = "1"
        case .medium?: threat = "2"
        case .low?: threat = "3"
        case nil: threat = "4"
        }
        let analysis: String
        switch incident.status {
        case .draft, .new: analysis = "0"
        case .resolved, .closed: analysis = "2"
        default: analysis = "1"
        }
        let producer = material.authority ?? material.organisation
        let attributes: [[String: Any]] = material.observables.map { observable in
            let (type, category) = mispAttribute(observable)
            return [
                "uuid": uuid5(observableNamespace, "\(incident.id)/\(observable.kind.rawValue)/\(observable.value)").uuidString.lowercased(),
                "type": type, "category": category, "value": observable.value, "to_ids": false, "distribution": "5", "comment": "reported in \(incident.number)",
            ]
        }
        var event: [String: Any] = [
            "uuid": incident.id.description, "info": "\(incident.number): \(incident.title)",
            "date": String(format: "%04d-%02d-%02d", day.year ?? 1970, day.month ?? 1, day.day ?? 1), "threat_level_id": threat, "analysis": analysis,
            "distribution": "0", "published": false, "timestamp": String(Int64(incident.updatedAt.timeIntervalSince1970)),
            "Orgc": ["name": producer.name, "uuid": producer.id.description], "Tag": tags.map { ["name": $0] }, "Attribute": attributes,
        ]
        if let summary = material.summary, !summary.isEmpty {
            event["Object"] = []
            event["Attribute"] = attributes + [["uuid": uuid5(observableNamespace, "\(incident.id)/summary").uuidString.lowercased(), "type": "text", "category": "Other",
                                                "value": summary, "to_ids": false, "distribution": "5", "comment": "summary as reported"]]
        }
        return Array(try JSONSerialization.data(withJSONObject: ["Event": event], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
    }

    /// What a MISP event says, read for a new case. Unknown attribute types are counted, not lost silently.
    public struct ImportedEvent: Sendable {
        public var uuid: String?
        public var title: String
        public var date: String?
        public var tlp: TLP?
        public var pap: String?
        public var classification: String?
        public var offences: [String]
        public var severity: IncidentCase.Severity?
        public var observables: [Observable]
        public var skipped: [String]
    }

    public static func readMISPEvent(_ bytes: [UInt8]) throws -> ImportedEvent {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw QilaError.invalid("is not a JSON object", field: "file")
        }
        let event = (root["Event"] as? [String: Any]) ?? (root["response"] as? [[String: Any]])?.first?["Event"] as? [String: Any] ?? root
        guard let info = event["info"] as? String, !info.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw QilaError.invalid("the MISP event has no info (its title)", field: "file")
        }
        var result = ImportedEvent(
            uuid: event["uuid"] as? String, title: String(info.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)), date: event["date"] as? String,
            tlp: nil, pap: nil, classification: nil, offences: [], severity: nil, observables: [], skipped: [])
        for tag in (event["Tag"] as? [[String: Any]] ?? []).compactMap({ $0["name"] as? String }) {
            let lower = tag.lowercased()
            if lower.hasPrefix("tlp:"), let tlp = TLP(label: String(tag.dropFirst(4))) { result.tlp = max(result.tlp ?? tlp, tlp) }
            else if lower.hasPrefix("pap:"), let pap = PAP(parsing: tag) { result.pap = pap.rawValue }
            else if lower.hasPrefix("rsit:"), let classification = RSITClassification(parsing: tag) { result.classification = classification.description }
            else if lower.hasPrefix("peca-2016:"), let offence = PECAOffence(parsing: tag) { result.offences.append(String(offence.rawValue)) }
        }
        switch event["threat_level_id"] as? String ?? (event["threat_level_id"] as? Int).map(String.init) {
        case "1": result.severity = .high
        case "2": result.severity = .medium
        case "3": result.severity = .low
        default: break
        }
        var attributes = event["Attribute"] as? [[String: Any]] ?? []
        for object in event["Object"] as? [[String: Any]] ?? [] { attributes += object["Attribute"] as? [[String: Any]] ?? [] }
        let kinds: [String: Observable.Kind?] = [
            "ip-src": nil, "ip-dst": nil, "domain": .domain, "hostname": .domain, "url": .url, "link": .url, "uri": .url, "md5": .md5, "sha1": .sha1,
            "sha256": .sha256, "email": .email, "email-src": .email, "email-dst": .email, "target-user": .account, "target-email": .email,
        ]
        for attribute in attributes {
            guard let type = attribute["type"] as? String, let value = attribute["value"] as? String else { continue }
            var text = value
            var lookup = type
            // Composite attributes: keep the first part when it is the address or the domain.
            if type.contains("|"), let first = type.split(separator: "|").first, let part = value.split(separator: "|").first {
                lookup = String(first)
                text = String(part)
            }
            guard let entry = kinds[lookup] else {
                if type != "text" && type != "comment" { result.skipped.append(type) }
                continue
            }
            let observable: Observable?
            if let kind = entry {
                observable = ObservableParser.normalise(kind, text)
            } else {
                observable = ObservableParser.normalise(.ipv4, text) ?? ObservableParser.normalise(.ipv6, text)
            }
            if let observable, !result.observables.contains(observable) { result.observables.append(observable) } else if observable == nil { result.skipped.append(type) }
        }
        return result
    }
}

public import Foundation
public import QilaCore
import QilaDetect

/// MISP events (the JSON of MISP's feeds and exports) read as STIX 2.1: each attribute MISP
/// marks for detection (`to_ids`) whose type names one value becomes an indicator with the
/// attribute's uuid, and the event a report that refers to them. Versions follow MISP's
/// timestamps, so an event read again adds only what changed; a deleted attribute becomes a
/// revoked version. The marking is the event's TLP tag, or an attribute's own if stricter.
public enum MispEvents {
    /// What one event gave.
    public struct Converted: Sendable {
        public var uuid: String
        public var title: String
        /// The event's last change, in seconds since 1970 (MISP's `timestamp`).
        public var timestamp: Int64
        public var objects: [JSONValue]
        public var indicators: Int
        /// Attributes left out, by reason (`not for detection`, `type hostname|port`, …).
        public var skipped: [String: Int]
        public var tlp: TLP?
    }

    /// The event in `root` (`{"Event": …}`, a REST answer `{"response": [{"Event": …}]}`, or the event itself).
    public static func event(in root: JSONValue) -> JSONValue {
        root["Event"] ?? root["response"]?.array?.first?["Event"] ?? root
    }

    /// Reads one event. `file` names it in errors (`{uuid}.json`, the uploaded file's name).
    public static func stix(_ root: JSONValue, file: String = "event") throws(QilaError) -> Converted {
        let event = event(in: root)
        guard case .object = event else { throw QilaError(.invalidInput, "is not a MISP event (a JSON object)", at: file) }
        guard let uuid = event["uuid"]?.string?.lowercased(), UUID(uuidString: uuid) != nil else {
            throw QilaError(.invalidInput, "needs a uuid", at: "\(file): Event.uuid")
        }
        guard let info = event["info"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines), !info.isEmpty else {
            throw QilaError(.invalidInput, "needs an info (the event's title)", at: "\(file): Event.info")
        }
        let day = event["date"]?.string.flatMap { StixTimestamp($0 + "T00:00:00Z") }
        guard let timestamp = seconds(event["timestamp"]) ?? day.map({ $0.microseconds / 1_000_000 }) else {
            throw QilaError(.invalidInput, "needs a timestamp or a date", at: "\(file): Event.timestamp")
        }
        let eventTLP = tlp(event["Tag"])
        var attributes = event["Attribute"]?.array ?? []
        for object in event["Object"]?.array ?? [] { attributes += object["Attribute"]?.array ?? [] }

        var converted = Converted(uuid: uuid, title: String(info.prefix(300)), timestamp: timestamp, objects: [], indicators: 0, skipped: [:], tlp: eventTLP)
        var references: [String] = []
        for attribute in attributes {
            guard let type = attribute["type"]?.string, let value = attribute["value"]?.string else {
                converted.skipped["without type or value", default: 0] += 1
                continue
            }
            guard flag(attribute["to_ids"]) else {
                converted.skipped["not for detection", default: 0] += 1
                continue
            }
            guard let pattern = pattern(type: type, value: value) else {
                converted.skipped["type \(type)", default: 0] += 1
                continue
            }
            let when = seconds(attribute["timestamp"]) ?? timestamp
            let modified = StixTimestamp(seconds: when)
            let id = "indicator--" + (attribute["uuid"]?.string.flatMap { UUID(uuidString: $0) }?.uuidString.lowercased() ?? IntelDesk.derivedUUID("misp|\(uuid)|\(type)|\(value)"))
            let marking = [eventTLP, tlp(attribute["Tag"])].compactMap { $0 }.max()
            let comment = attribute["comment"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            var indicator: [String: JSONValue] = [
                "type": .string("indicator"), "spec_version": .string("2.1"), "id": .string(id), "created": .string(modified.text),
                "modified": .string(modified.text), "name": .string(String((comment.isEmpty ? "\(type): \(value)" : comment).prefix(300))),
                "pattern": .string(pattern), "pattern_type": .string("stix"),
                "valid_from": .string((attribute["first_seen"]?.string.flatMap(StixTimestamp.init) ?? modified).text),
                "indicator_types": .array([.string("malicious-activity")]),
                "external_references": .array([.object(["source_name": .string("misp"), "external_id": .string(uuid), "description": .string(converted.title)])]),
            ]
            if let category = attribute["category"]?.string { indicator["description"] = .string("MISP \(category), \(type)") }
            if flag(attribute["deleted"]) { indicator["revoked"] = .bool(true) }
            if let marking { indicator["object_marking_refs"] = .array([.string(StixObject.marking(marking))]) }
            converted.objects.append(.object(indicator))
            references.append(id)
        }
        converted.indicators = references.count
        // A report needs at least one reference: an event with nothing to detect gives none.
        if !references.isEmpty {
            let modified = StixTimestamp(seconds: timestamp)
            let created = day.map { min($0, modified) } ?? modified
            var report: [String: JSONValue] = [
                "type": .string("report"), "spec_version": .string("2.1"), "id": .string("report--\(uuid)"), "created": .string(created.text),
                "modified": .string(modified.text), "name": .string(converted.title), "report_types": .array([.string("threat-report")]),
                "published": .string((seconds(event["publish_timestamp"]).map(StixTimestamp.init(seconds:)) ?? modified).text),
                "object_refs": .array(references.map(JSONValue.string)),
            ]
            if let organisation = event["Orgc"]?["name"]?.string { report["description"] = .string("MISP event by \(organisation.prefix(200))") }
            if let eventTLP { report["object_marking_refs"] = .array([.string(StixObject.marking(eventTLP))]) }
            converted.objects.append(.object(report))
        }
        return converted
    }

    /// A STIX pattern for one MISP attribute value, or nil when its type names no single value
    /// detection can match. Composite types (`ip-dst|port`, `filename|sha256`) give the part that
    /// is the address, domain or hash.
    static func pattern(type: String, value: String) -> String? {
        var type = type
        var value = value.trimmingCharacters(in: .whitespaces)
        if type.contains("|") {
            let types = type.split(separator: "|").map(String.init)
            let values = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard types.count == 2, values.count == 2 else { return nil }
            switch (types[0], types[1]) {
            case ("filename", let hash): (type, value) = (hash, values[1])
            case ("ip-src", "port"), ("ip-dst", "port"), ("domain", "ip"), ("hostname", "port"): (type, value) = (types[0], values[0])
            default: return nil
            }
        }
        guard !value.isEmpty, value.count <= 2_048, !value.contains(where: \.isNewline) else { return nil }
        let quoted = IntelDesk.quoted(value)
        let text: String
        switch type {
        case "ip-src", "ip-dst":
            let family = value.contains(":") ? "ipv6-addr" : "ipv4-addr"
            text = "[\(family):value \(value.contains("/") ? "ISSUBSET" : "=") \(quoted)]"
        case "domain", "hostname": text = "[domain-name:value = \(quoted.lowercased())]"
        case "url", "uri": text = "[url:value = \(quoted)]"
        case "md5": text = "[file:hashes.MD5 = \(quoted.lowercased())]"
        case "sha1": text = "[file:hashes.'SHA-1' = \(quoted.lowercased())]"
        case "sha256": text = "[file:hashes.'SHA-256' = \(quoted.lowercased())]"
        case "email", "email-src", "email-dst": text = "[email-addr:value = \(quoted.lowercased())]"
        default: return nil
        }
        // Only what detection can read is kept: a malformed address or hash is skipped, not stored.
        guard (try? StixPattern.parse(text)) != nil else { return nil }
        return text
    }

    static func tlp(_ tags: JSONValue?) -> TLP? {
        (tags?.array ?? []).compactMap { tag -> TLP? in
            guard let name = tag["name"]?.string, name.lowercased().hasPrefix("tlp:") else { return nil }
            return TLP(label: String(name.dropFirst(4)))
        }.max()
    }

    /// MISP writes booleans as `true`, `1` or `"1"`.
    static func flag(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(let flag): flag
        case .number(let number): number != 0
        case .string(let text): text == "1" || text.lowercased() == "true"
        default: false
        }
    }

    /// MISP writes seconds since 1970 as a string or a number.
    static func seconds(_ value: JSONValue?) -> Int64? {
        switch value {
        case .string(let text): Int64(text).flatMap { $0 >= 0 ? $0 : nil }
        case .number(let number) where number >= 0 && number < 1e12: Int64(number)
        default: nil
        }
    }
}

extension StixTimestamp {
    /// A whole second since 1970 (MISP keeps its times to the second).
    init(seconds: Int64) {
        self.init(microseconds: seconds * 1_000_000)
    }
}

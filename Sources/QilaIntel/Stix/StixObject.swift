public import Foundation
public import QilaCore
import QilaDetect

/// One STIX 2.1 object as Qila keeps it: the properties sharing and detection read, checked
/// against the specification's common rules (STIX 2.1, sections 3 and 7), and the object itself,
/// served as it came.
public struct StixObject: Sendable {
    public var id: String
    public var type: String
    public var specVersion: String
    /// The version: `modified`, else `created` (objects without `modified` are not versioned).
    public var version: StixTimestamp?
    public var created: StixTimestamp?
    public var revoked: Bool
    public var createdByRef: String?
    /// The TLP 2.0 (or 1.0) marking among `object_marking_refs`, the most restricted if several.
    public var tlp: TLP?
    /// Granular markings: a marking and the properties it covers.
    public var granularMarkings: [(marking: String, selectors: [String])]
    /// For indicators.
    public var pattern: String?
    public var patternType: String?
    public var validFrom: StixTimestamp?
    public var validUntil: StixTimestamp?
    public var name: String?
    public var body: JSONValue

    /// The object types STIX 2.1 defines as cyber-observable objects: they carry no `created`
    /// or `modified` and are identified by their content.
    public static let observableTypes: Set<String> = [
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr", "ipv6-addr",
        "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account", "windows-registry-key", "x509-certificate",
    ]

    /// The identifiers of the TLP marking definitions (TLP 2.0 from the OASIS TLP 2.0
    /// extension's objects, TLP 1.0 from STIX 2.1 section 7.2.1.4).
    public static let tlpMarkings: [String: TLP] = [
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": .clear,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": .green,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": .amber,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": .amberStrict,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": .red,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": .clear,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": .green,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": .amber,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": .red,
    ]

    public static func marking(_ tlp: TLP) -> String {
        tlpMarkings.first { $0.value == tlp && !["613f2e26", "34098fce", "f88d31f6", "5e57c739"].contains(where: $0.key.contains) }!.key
    }

    /// Reads one object; the error names the property and, through `index`, the object's place
    /// in the envelope or bundle.
    public init(_ value: JSONValue, index: Int? = nil) throws(QilaError) {
        let at = index.map { "objects[\($0)]" } ?? "object"
        func fail(_ message: String, _ property: String? = nil) -> QilaError {
            QilaError(.invalidInput, message, at: property.map { "\(at).\($0)" } ?? at)
        }
        guard let object = value.object else { throw fail("is not a JSON object") }
        guard let type = object["type"]?.string else { throw fail("is required (a string)", "type") }
        guard Self.isTypeName(type) else {
            throw fail("'\(type.prefix(80))' is not a STIX type name (3 to 250 lower-case letters, digits and hyphens)", "type")
        }
        guard let id = object["id"]?.string else { throw fail("is required", "id") }
        guard Self.isIdentifier(id, of: type) else { throw fail("'\(id.prefix(120))' is not '\(type)--' followed by a UUID", "id") }
        let observable = Self.observableTypes.contains(type)
        let spec = object["spec_version"]?.string
        if spec == nil && !observable { throw fail("is required (\"2.1\")", "spec_version") }
        if let spec, spec != "2.1" { throw fail("'\(spec.prefix(20))' is not 2.1, the version this server stores", "spec_version") }
        self.id = id
        self.type = type
        specVersion = spec ?? "2.1"
        func timestamp(_ property: String) throws(QilaError) -> StixTimestamp? {
            guard let raw = object[property] else { return nil }
            guard let text = raw.string, let parsed = StixTimestamp(text) else {
                throw fail("is not a timestamp such as 2026-01-31T12:00:00.000Z (RFC 3339, UTC)", property)
            }
            return parsed
        }
        created = try timestamp("created")
        let modified = try timestamp("modified")
        if !observable && type != "marking-definition" {
            guard created != nil else { throw fail("is required", "created") }
            guard modified != nil else { throw fail("is required", "modified") }
        }
        if type == "marking-definition", created == nil { throw fail("is required", "created") }
        if let created, let modified, modified < created { throw fail("is earlier than created", "modified") }
        version = modified ?? created
        if let raw = object["revoked"] {
            guard case .bool(let flag) = raw else { throw fail("must be true or false", "revoked") }
            revoked = flag
        } else {
            revoked = false
        }
        if let ref = object["created_by_ref"] {
            guard let text = ref.string, Self.isIdentifier(text, of: "identity") else { throw fail("must name an identity (identity--UUID)", "created_by_ref") }
            createdByRef = text
        }
        var marking: TLP?
        if let refs = object["object_marking_refs"] {
            guard let list = refs.array, !list.isEmpty else { throw fail("must be a non-empty list of marking-definition identifiers", "object_marking_refs") }
            for (position, ref) in list.enumerated() {
                guard let text = ref.string, Self.isIdentifier(text, of: "marking-definition") else {
                    throw fail("is not a marking-definition identifier", "object_marking_refs[\(position)]")
                }
                if let tlp = Self.tlpMarkings[text] { marking = max(marking ?? tlp, tlp) }
            }
        }
        tlp = marking
        var granular: [(String, [String])] = []
        if let raw = object["granular_markings"] {
            guard let list = raw.array, !list.isEmpty else { throw fail("must be a non-empty list", "granular_markings") }
            for (position, entry) in list.enumerated() {
                let place = "granular_markings[\(position)]"
                guard let selectors = entry["selectors"]?.array?.compactMap(\.string), !selectors.isEmpty else {
                    throw fail("needs a non-empty list of selectors", place + ".selectors")
                }
                for selector in selectors where !Self.selectorResolves(selector, in: value) {
                    throw fail("'\(selector.prefix(80))' names no property of the object", place + ".selectors")
                }
                if let ref = entry["marking_ref"]?.string {
                    guard Self.isIdentifier(ref, of: "marking-definition") else { throw fail("is not a marking-definition identifier", place + ".marking_ref") }
                    granular.append((ref, selectors))
                } else if entry["lang"]?.string == nil {
                    throw fail("needs marking_ref or lang", place)
                }
            }
        }
        granularMarkings = granular
        name = object["name"]?.string
        if type == "indicator" {
            guard let pattern = object["pattern"]?.string, !pattern.isEmpty else { throw fail("is required for an indicator", "pattern") }
            guard let patternType = object["pattern_type"]?.string, !patternType.isEmpty else { throw fail("is required for an indicator", "pattern_type") }
            guard let from = try timestamp("valid_from") else { throw fail("is required for an indicator", "valid_from") }
            let until = try timestamp("valid_until")
            if let until, until <= from { throw fail("must be later than valid_from", "valid_until") }
            self.pattern = pattern
            self.patternType = patternType
            validFrom = from
            validUntil = until
        }
        body = value
    }

    /// Whether Qila's detection can match the indicator's pattern, and if not why.
    public var detectable: Result<StixPattern, QilaError> {
        guard type == "indicator", let pattern else { return .failure(QilaError(.invalidInput, "is not an indicator")) }
        guard patternType == "stix" else { return .failure(QilaError(.invalidInput, "pattern type \(patternType ?? "") is not matched by Qila's detection")) }
        do {
            return .success(try StixPattern.parse(pattern))
        } catch {
            return .failure(QilaError(.invalidInput, error.description))
        }
    }

    static func isTypeName(_ text: String) -> Bool {
        (3...250).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && !text.hasPrefix("-") && !text.hasSuffix("-") && !text.contains("--")
    }

    static func isIdentifier(_ text: String, of type: String) -> Bool {
        guard text.hasPrefix(type + "--") else { return false }
        return UUID(uuidString: String(text.dropFirst(type.count + 2))) != nil
    }

    /// A granular marking's selector (`description`, `external_references.[1].url`) names a property.
    static func selectorResolves(_ selector: String, in value: JSONValue) -> Bool {
        var current: JSONValue? = value
        for step in selector.split(separator: ".", omittingEmptySubsequences: false) {
            if step.hasPrefix("["), step.hasSuffix("]"), let index = Int(step.dropFirst().dropLast()) {
                guard let list = current?.array, list.indices.contains(index) else { return false }
                current = list[index]
            } else {
                guard let next = current?[String(step)] else { return false }
                current = next
            }
        }
        return true
    }
}

/// A STIX timestamp: RFC 3339 in UTC (`Z`), with the fraction as written, compared to the microsecond.
public struct StixTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970.
    public var microseconds: Int64
    public var text: String

    public init?(_ text: String) {
        // YYYY-MM-DDTHH:MM:SS[.s+]Z
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 116,
            bytes[13] == 58, bytes[16] == 58
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var micros = 0
        if bytes.count > 20 {
            // The fraction as written, to the microsecond (more digits are allowed and ignored).
            guard bytes[19] == 46, bytes.count > 21 else { return nil }
            for position in 0..<6 {
                let index = 20 + position
                let digit = index < bytes.count - 1 ? bytes[index] : 48
                guard digit >= 48 && digit <= 57 else { return nil }
                micros = micros * 10 + Int(digit - 48)
            }
            guard bytes[20..<(bytes.count - 1)].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, min(second, 59))
        guard let date = components.date, Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date).day == day else {
            return nil
        }
        microseconds = Int64(date.timeIntervalSince1970.rounded()) * 1_000_000 + Int64(micros)
        self.text = text
    }

    /// A timestamp Qila makes: microsecond precision, as TAXII's `date_added`.
    public init(microseconds: Int64) {
        self.microseconds = microseconds
        let seconds = Date(timeIntervalSince1970: Double(microseconds.quotientAndRemainderFloor(1_000_000).quotient))
        let base = RFC3339.format(seconds).replacingOccurrences(of: "Z", with: "")
        let fraction = String(microseconds.quotientAndRemainderFloor(1_000_000).remainder).leftPadded(to: 6)
        text = "\(base.prefix(19)).\(fraction)Z"
    }

    public init(_ date: Date) {
        self.init(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
    public var description: String { text }
    public static func < (lhs: StixTimestamp, rhs: StixTimestamp) -> Bool { lhs.microseconds < rhs.microseconds }
    public static func == (lhs: StixTimestamp, rhs: StixTimestamp) -> Bool { lhs.microseconds == rhs.microseconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(microseconds) }
}

extension Int64 {
    func quotientAndRemainderFloor(_ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension StixObject {
    /// The values a search finds the object by, in lower case: its id and name, an observable's
    /// `value`, hashes, aliases, external ids (CVE-…, T…) and every value its pattern names.
    public var searchValues: [String] {
        var found: [String] = [id, name ?? "", body["value"]?.string ?? ""]
        found += body["hashes"]?.object?.values.compactMap(\.string) ?? []
        found += body["aliases"]?.array?.compactMap(\.string) ?? []
        found += body["external_references"]?.array?.compactMap { $0["external_id"]?.string } ?? []
        // The objects it points to, so that searching an id finds its relationships, sightings and reports.
        found += ["source_ref", "target_ref", "sighting_of_ref"].compactMap { body[$0]?.string }
        found += body["object_refs"]?.array?.compactMap(\.string) ?? []
        if case .success(let pattern) = detectable { found += pattern.values }
        var unique: [String] = []
        for value in found {
            let normal = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard !normal.isEmpty, normal.utf8.count <= 512, !unique.contains(normal) else { continue }
            unique.append(normal)
        }
        return unique
    }
}

extension StixPattern {
    /// The values the pattern compares with.
    public var values: [String] {
        switch self {
        case .equals(_, let value), .inNetwork(_, let value): [value]
        case .and(let parts), .or(let parts): parts.flatMap(\.values)
        }
    }
}

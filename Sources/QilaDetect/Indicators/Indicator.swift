import Foundation
public import QilaCore

/// One indicator of compromise: a STIX pattern, or a single value that stands for the pattern
/// `[kind:value = 'value']`, with where it came from.
public struct Indicator: Sendable {
    /// Whose events an indicator raises alerts for.
    public enum Reach: Sendable, Equatable {
        /// From the installation's own files: every organisation's events; matches are not reported back.
        case installation
        /// Shared intelligence: alerts for these organisations' events (nil: every organisation's);
        /// every match, wherever it happens, is reported back as a sighting.
        case shared(Set<OrganisationID>?)

        /// Whether a match in `organisation`'s events raises an alert there.
        public func alerts(_ organisation: OrganisationID) -> Bool {
            switch self {
            case .installation, .shared(nil): true
            case .shared(let organisations?): organisations.contains(organisation)
            }
        }
    }

    /// The STIX id (`indicator--…`) or, for listed values, `file:line`.
    public var id: String
    public var name: String?
    public var pattern: StixPattern
    /// The pattern or value as written.
    public var text: String
    public var reach: Reach

    public init(id: String, name: String? = nil, pattern: StixPattern, text: String, reach: Reach = .installation) {
        self.id = id
        self.name = name
        self.pattern = pattern
        self.text = text
        self.reach = reach
    }

    /// The pattern for one value of a kind, normalised; the error names what is wrong.
    public static func pattern(_ kind: ObservableKind, _ value: String) throws(SigmaError) -> StixPattern {
        let text = value.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .ipv4, .ipv6:
            guard let network = Network(addressOrCIDR: text), network.address.isIPv6 == (kind == .ipv6) else {
                throw SigmaError("'\(value)' is not an \(kind == .ipv4 ? "IPv4" : "IPv6") address or network")
            }
            return .inNetwork(kind, text)
        case .domain:
            guard let domain = Observable.domain(Substring(text)) else { throw SigmaError("'\(value)' is not a domain name") }
            return .equals(.domain, domain)
        case .url:
            guard let url = Observable.url(Substring(text)) else { throw SigmaError("'\(value)' is not a URL with a scheme and a host") }
            return .equals(.url, url)
        case .email:
            guard let email = Observable.email(Substring(text)) else { throw SigmaError("'\(value)' is not an e-mail address") }
            return .equals(.email, email)
        case .md5, .sha1, .sha256:
            guard let hash = Observable.hash(Substring(text), kind: kind) else {
                throw SigmaError("'\(value)' is not an \(kind.rawValue) hash (\(kind == .md5 ? 32 : kind == .sha1 ? 40 : 64) hexadecimal digits)")
            }
            return .equals(kind, hash)
        }
    }

    /// The pattern for one value of an indicator list: as `pattern`, except that a listed domain
    /// stands for itself and every name under it.
    public static func listed(_ kind: ObservableKind, _ value: String) throws(SigmaError) -> StixPattern {
        let pattern = try pattern(kind, value)
        if case .equals(.domain, let domain) = pattern { return .inNetwork(.domain, domain) }
        return pattern
    }

    /// The kind a bare value is, by its shape.
    public static func guessKind(_ value: String) -> ObservableKind? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if text.contains("://") { return .url }
        if text.contains("@") { return .email }
        let address = text.split(separator: "/").first.map(String.init) ?? text
        if let parsed = IPAddress(address) { return parsed.isIPv6 ? .ipv6 : .ipv4 }
        if text.utf8.allSatisfy(\.isHexDigit), let kind = Observable.hashKind(length: text.utf8.count) { return kind }
        if Observable.domain(Substring(text)) != nil { return .domain }
        return nil
    }
}

extension Network {
    /// The network of one address (/32 or /128).
    init(address: IPAddress) {
        self.init(address: address, prefix: address.isIPv6 ? 128 : 32)
    }

    /// `10.1.2.3` or `10.0.0.0/8`.
    init?(addressOrCIDR text: String) {
        if text.contains("/") {
            self.init(cidr: text)
        } else if let address = IPAddress(text) {
            self.init(address: address)
        } else {
            return nil
        }
    }
}

/// Reads indicator files: STIX 2.1 JSON (a bundle, one object or a list of objects; the
/// `indicator` objects with `pattern_type` `stix` are taken, revoked ones skipped), or text with
/// one indicator per line: a STIX pattern in brackets, `kind,value[,name]` (kinds such as
/// `ipv4-addr`, `cidr`, `domain`, `url`, `email`, `md5`, `sha1`, `sha256`), or a bare value
/// whose kind is read from its shape. Lines starting with `#` are comments. Every refusal
/// names the file, the line or STIX id, and the reason; the other indicators still load.
public struct IndicatorLoader: Sendable {
    public struct Report: Sendable {
        public var indicators: [Indicator] = []
        public var refusals: [SigmaError] = []
        public var revoked = 0
    }

    public init() {}

    public func load(_ paths: [String]) -> Report {
        var report = Report()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                report.refusals.append(SigmaError("cannot read the file", file: path))
                continue
            }
            let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") && Self.looksLikeJSON(data) {
                loadJSON(data, path: path, into: &report)
            } else {
                guard let text = String(data: data, encoding: .utf8) else {
                    report.refusals.append(SigmaError("not UTF-8 text", file: path))
                    continue
                }
                loadLines(text, path: path, into: &report)
            }
        }
        return report
    }

    /// A text file may start with a STIX pattern in brackets; JSON starts with `[{` or `[]`.
    private static func looksLikeJSON(_ data: Data) -> Bool {
        let significant = data.filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }.prefix(2)
        return significant.count < 2 || significant.last == UInt8(ascii: "{") || significant.last == UInt8(ascii: "]")
    }

    func loadJSON(_ data: Data, path: String, into report: inout Report) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            report.refusals.append(SigmaError("not valid JSON: \(error.localizedDescription)", file: path))
            return
        }
        let objects: [Any]
        if let bundle = root as? [String: Any], let list = bundle["objects"] as? [Any] {
            objects = list
        } else if let list = root as? [Any] {
            objects = list
        } else {
            objects = [root]
        }
        for (index, item) in objects.enumerated() {
            guard let object = item as? [String: Any], object["type"] as? String == "indicator" else { continue }
            let id = object["id"] as? String ?? "object \(index + 1)"
            if object["revoked"] as? Bool == true {
                report.revoked += 1
                continue
            }
            guard let pattern = object["pattern"] as? String else {
                report.refusals.append(SigmaError("\(id): an indicator needs a pattern", file: path))
                continue
            }
            let type = object["pattern_type"] as? String ?? "stix"
            guard type == "stix" else {
                report.refusals.append(SigmaError("\(id): pattern_type '\(type)' is not read by Qila (only stix)", file: path))
                continue
            }
            do throws(SigmaError) {
                report.indicators.append(Indicator(id: id, name: object["name"] as? String, pattern: try StixPattern.parse(pattern), text: pattern))
            } catch {
                report.refusals.append(SigmaError("\(id): \(error.message)", file: path))
            }
        }
    }

    func loadLines(_ text: String, path: String, into report: inout Report) {
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let id = "\((path as NSString).lastPathComponent):\(index + 1)"
            do throws(SigmaError) {
                if line.hasPrefix("[") || line.hasPrefix("(") {
                    report.indicators.append(Indicator(id: id, pattern: try StixPattern.parse(line), text: line))
                    continue
                }
                let fields = line.split(separator: line.contains("\t") ? "\t" : ",", maxSplits: 2, omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                if fields.count >= 2, let kind = ObservableKind(name: fields[0]) {
                    let name = fields.count > 2 && !fields[2].isEmpty ? fields[2] : nil
                    report.indicators.append(Indicator(id: id, name: name, pattern: try Indicator.listed(kind, fields[1]), text: fields[1]))
                } else if fields.count >= 2, fields[0].lowercased() == "type" {
                    continue  // a CSV header
                } else if fields.count == 1, let kind = Indicator.guessKind(line) {
                    report.indicators.append(Indicator(id: id, pattern: try Indicator.listed(kind, line), text: line))
                } else if fields.count >= 2 {
                    throw SigmaError("unknown kind '\(fields[0])'; use one of \(ObservableKind.allCases.map(\.rawValue).joined(separator: ", ")), cidr, domain, sha256…")
                } else {
                    throw SigmaError("'\(line)' is not an address, network, domain, URL, e-mail address or hash")
                }
            } catch {
                report.refusals.append(SigmaError(error.message, file: path, line: index + 1))
            }
        }
    }
}

/// Where indicators beyond the installation's files come from (shared intelligence): intake asks
/// for the version at an interval and loads the indicators again when it changes.
public protocol IndicatorSource: Sendable {
    /// A value that changes whenever the indicators may have.
    func version(now: Date) async throws -> String
    /// The indicators to match now.
    func activeIndicators(now: Date) async throws -> [Indicator]
}

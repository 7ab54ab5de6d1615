import Foundation

/// The kinds of value an indicator can name, with the STIX 2.1 object path each one is
/// written with in patterns.
public enum ObservableKind: String, Sendable, CaseIterable {
    case ipv4 = "ipv4-addr"
    case ipv6 = "ipv6-addr"
    case domain = "domain-name"
    case url
    case email = "email-addr"
    case md5 = "MD5"
    case sha1 = "SHA-1"
    case sha256 = "SHA-256"

    /// Reads the names used in indicator files: STIX object types and hash names, and the
    /// short forms analysts write (`ip`, `cidr`, `hostname`, `sha256`).
    init?(name: String) {
        switch name.lowercased() {
        case "ipv4-addr", "ipv4", "ip", "ip-src", "ip-dst", "cidr": self = .ipv4
        case "ipv6-addr", "ipv6": self = .ipv6
        case "domain-name", "domain", "hostname", "fqdn": self = .domain
        case "url", "uri", "link": self = .url
        case "email-addr", "email", "email-src", "email-dst": self = .email
        case "md5": self = .md5
        case "sha-1", "sha1": self = .sha1
        case "sha-256", "sha256": self = .sha256
        default: return nil
        }
    }

    var isAddress: Bool { self == .ipv4 || self == .ipv6 }
    var isHash: Bool { self == .md5 || self == .sha1 || self == .sha256 }
}

/// How indicator values and event values are brought to one form before they are compared:
/// the same domain, URL, address or hash written differently must meet.
enum Observable {
    /// `Evil.Example.COM.` → `evil.example.com`; nil when it is not a host name (labels of
    /// letters, digits, `-` and `_`, 1 to 63 bytes each, at most 253 in all, at least two labels,
    /// the last not numeric). Names in other scripts are compared as written in lower case
    /// (punycode `xn--` forms are compared as such).
    static func domain(_ text: Substring) -> String? {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })
            else { return nil }
        }
        guard let last = labels.last, !last.allSatisfy(\.isNumber) else { return nil }
        return name
    }

    /// `User@Example.ORG` → `user@example.org` (compared without regard to case, as mail
    /// systems do in practice); nil unless there is one `@` with a local part and a host name.
    static func email(_ text: Substring) -> String? {
        var value = text
        if value.lowercased().hasPrefix("mailto:") { value = value.dropFirst(7) }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64,
            !parts[0].contains(where: { $0.isWhitespace || "<>()[],;:\"".contains($0) }),
            let host = domain(parts[1])
        else { return nil }
        return parts[0].lowercased() + "@" + host
    }

    /// Lower-case hexadecimal of the length the kind needs (32, 40 or 64 digits).
    static func hash(_ text: Substring, kind: ObservableKind) -> String? {
        let length = kind == .md5 ? 32 : kind == .sha1 ? 40 : 64
        guard text.utf8.count == length, text.utf8.allSatisfy(\.isHexDigit) else { return nil }
        return text.lowercased()
    }

    /// The hash kind a run of hexadecimal digits can be, by its length.
    static func hashKind(length: Int) -> ObservableKind? {
        switch length {
        case 32: .md5
        case 40: .sha1
        case 64: .sha256
        default: nil
        }
    }

    /// A URL in the normal form of RFC 3986 section 6.2.2: scheme and host in lower case, the
    /// default port dropped, percent-escapes of unreserved characters decoded and the others
    /// in upper case, `.` and `..` segments removed, an empty path written `/`, no fragment.
    /// Nil when there is no `scheme://host`.
    static func url(_ text: Substring) -> String? {
        guard let separator = text.range(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard let first = scheme.first, first.isLetter,
            scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), scheme.allSatisfy(\.isASCII)
        else { return nil }
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var userinfo = ""
        if let at = authority.lastIndex(of: "@") {
            userinfo = String(authority[...at])
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        var port = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            port = String(authority[authority.index(after: close)...].dropFirst())
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = String(authority[authority.index(after: colon)...])
        }
        guard !host.isEmpty, port.allSatisfy(\.isNumber) else { return nil }
        var hostText = host.lowercased()
        if hostText.hasSuffix(".") { hostText.removeLast() }
        let defaults = ["http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"]
        if port.isEmpty || defaults[scheme] == port { port = "" } else { port = ":" + String(Int(port) ?? 0) }
        let pathAndQuery = rest[authorityEnd...]
        var path = pathAndQuery
        var query = Substring("")
        if let question = pathAndQuery.firstIndex(of: "?") {
            path = pathAndQuery[..<question]
            query = pathAndQuery[question...]
        }
        var normalPath = removeDotSegments(normalisePercent(path))
        if normalPath.isEmpty { normalPath = "/" }
        return scheme + "://" + normalisePercent(Substring(userinfo)) + hostText + port + normalPath + normalisePercent(query)
    }

    /// The host of a URL, as `domain` reads it (nil for addresses and odd hosts).
    static func urlHost(_ normal: String) -> Substring? {
        guard let separator = normal.range(of: "://") else { return nil }
        var authority = normal[separator.upperBound...].prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if let colon = authority.lastIndex(of: ":"), !authority.hasPrefix("[") { authority = authority[..<colon] }
        return authority
    }

    private static func normalisePercent(_ text: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = JSONText.hexValue(bytes[index + 1]),
                let low = JSONText.hexValue(bytes[index + 2])
            {
                let value = UInt8(high << 4 | low)
                let unreserved =
                    (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value) || (0x30...0x39).contains(value)
                    || value == UInt8(ascii: "-") || value == UInt8(ascii: ".") || value == UInt8(ascii: "_") || value == UInt8(ascii: "~")
                if unreserved {
                    out.append(value)
                } else {
                    out += Array("%\(String(format: "%02X", value))".utf8)
                }
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 section 5.2.4.
    private static func removeDotSegments(_ path: String) -> String {
        guard path.contains(".") else { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            if segment == "." {
                if last { output.append("") }
            } else if segment == ".." {
                if output.count > 1 { output.removeLast() }
                if last { output.append("") }
            } else {
                output.append(segment)
            }
        }
        let joined = output.joined(separator: "/")
        return path.hasPrefix("/") && !joined.hasPrefix("/") ? "/" + joined : joined
    }
}

extension UInt8 {
    var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}

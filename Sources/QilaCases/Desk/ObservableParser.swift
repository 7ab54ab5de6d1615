public import Foundation
public import QilaCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads observables from text, one per line, as people paste them: `kind:value` or a bare value
/// whose kind is recognised. Defanged forms (`hxxp`, `[.]`, `(.)`, `[@]`) are restored. Values are
/// put in a normal form so that the same thing reported by two organisations compares equal.
public enum ObservableParser {
    public struct LineError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let maximumLength = 2048

    public static func parse(_ text: String) -> (observables: [Observable], errors: [LineError]) {
        var found: [Observable] = []
        var seen: Set<Observable> = []
        var errors: [LineError] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            switch parseOne(line) {
            case .success(let observable):
                if seen.insert(observable).inserted { found.append(observable) }
            case .failure(let message):
                errors.append(LineError(line: index + 1, message: message.text))
            }
        }
        return (found, errors)
    }

    struct Message: Error { var text: String }

    static func parseOne(_ line: String) -> Result<Observable, Message> {
        guard line.count <= maximumLength else { return .failure(Message(text: "longer than \(maximumLength) characters")) }
        if let colon = line.firstIndex(of: ":") {
            let prefix = line[..<colon].lowercased()
            let rest = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            let kinds: [String: Observable.Kind] = [
                "ip": .ipv4, "ipv4": .ipv4, "ipv4-addr": .ipv4, "ipv6": .ipv6, "ipv6-addr": .ipv6, "domain": .domain, "domain-name": .domain,
                "url": .url, "md5": .md5, "sha1": .sha1, "sha-1": .sha1, "sha256": .sha256, "sha-256": .sha256, "email": .email,
                "email-addr": .email, "account": .account, "user-account": .account, "user": .account, "host": .host, "hostname": .host,
            ]
            if let kind = kinds[prefix] {
                if kind == .ipv4 || kind == .ipv6 {
                    guard let address = normalise(kind == .ipv4 ? .ipv4 : .ipv6, rest) ?? normalise(kind == .ipv4 ? .ipv6 : .ipv4, rest) else {
                        return .failure(Message(text: "'\(rest.prefix(60))' is not an IP address"))
                    }
                    return .success(address)
                }
                guard let observable = normalise(kind, rest) else {
                    return .failure(Message(text: "'\(rest.prefix(60))' is not a valid \(kind.title)"))
                }
                return .success(observable)
            }
        }
        for kind: Observable.Kind in [.url, .ipv4, .ipv6, .email, .md5, .sha1, .sha256, .domain] {
            if let observable = normalise(kind, line) { return .success(observable) }
        }
        return .failure(
            Message(text: "'\(line.prefix(60))' is not an address, domain, URL, e-mail address or MD5/SHA-1/SHA-256 hash; write kind:value (for example account:jdoe)"))
    }

    static func refang(_ text: String) -> String {
        var value = text
        for (from, to) in [("[.]", "."), ("(.)", "."), ("[dot]", "."), ("[:]", ":"), ("[@]", "@"), ("[at]", "@")] {
            value = value.replacingOccurrences(of: from, with: to, options: .caseInsensitive)
        }
        if value.lowercased().hasPrefix("hxxp") { value = "http" + value.dropFirst(4) }
        return value
    }

    /// The normal form of `text` as an observable of `kind`, or nil if it is not one.
    public static func normalise(_ kind: Observable.Kind, _ text: String) -> Observable? {
        let value = refang(text.trimmingCharacters(in: .whitespaces))
        guard !value.isEmpty else { return nil }
        switch kind {
        case .ipv4:
            var address = in_addr()
            guard value.utf8.allSatisfy({ $0 == 0x2E || (0x30...0x39).contains($0) }), inet_pton(AF_INET, value, &address) == 1 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return Observable(kind: .ipv4, value: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case .ipv6:
            var address = in6_addr()
            guard value.contains(":"), inet_pton(AF_INET6, value, &address) == 1 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            return Observable(kind: .ipv6, value: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case .domain:
            return domain(value).map { Observable(kind: .domain, value: $0) }
        case .url:
            guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
                ["http", "https", "ftp", "ftps", "ws", "wss"].contains(scheme), let host = components.host, !host.isEmpty
            else { return nil }
            var normal = components
            normal.scheme = scheme
            normal.host = host.lowercased()
            guard let text = normal.string else { return nil }
            return Observable(kind: .url, value: text)
        case .md5, .sha1, .sha256:
            let lengths: [Observable.Kind: Int] = [.md5: 32, .sha1: 40, .sha256: 64]
            let lower = value.lowercased()
            guard lower.utf8.count == lengths[kind], lower.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
            return Observable(kind: kind, value: lower)
        case .email:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, !parts[0].contains(where: { $0 == " " || $0 == "<" || $0 == ">" }),
                let host = domain(String(parts[1]))
            else { return nil }
            return Observable(kind: .email, value: "\(parts[0])@\(host)")
        case .account:
            guard value.count <= 256, !value.contains(where: { $0.isNewline }) else { return nil }
            return Observable(kind: .account, value: value)
        case .host:
            // RFC 1123 labels: letters, digits and hyphens, dot-separated; compared in lower case.
            let lower = value.lowercased()
            guard lower.utf8.count <= 253, !lower.hasPrefix("."), !lower.hasSuffix("."), !lower.contains(".."),
                lower.split(separator: ".").allSatisfy({ label in
                    (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                        && label.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D }
                })
            else { return nil }
            return Observable(kind: .host, value: lower)
        }
    }

    /// A host name of at least two labels with an alphabetic top level, in lower case.
    static func domain(_ text: String) -> String? {
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, name.utf8.count <= 253 else { return nil }
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F })
            else { return nil }
        }
        guard let top = labels.last, top.utf8.allSatisfy({ (0x61...0x7A).contains($0) }) || top.hasPrefix("xn--") else { return nil }
        return name
    }
}

/// The part of the STIX 2.1 patterning language that names observable values (section 9 of
/// the specification): observations in brackets joined by `AND` and `OR`, and inside them
/// comparisons with `=`, `IN` and `ISSUBSET`, joined by `AND` and `OR`, with parentheses.
///
///     [ipv4-addr:value ISSUBSET '198.51.100.0/24'] OR [domain-name:value = 'evil.example']
///     [file:hashes.'SHA-256' = 'ab…' OR file:hashes.MD5 = 'cd…']
///     [url:value IN ('http://a.example/x', 'http://b.example/y')]
///
/// Everything else (`!=`, `LIKE`, `MATCHES`, `NOT`, `FOLLOWEDBY`, qualifiers such as `WITHIN`,
/// other object paths) is refused with the reason, never silently dropped. An event matches
/// when the expression holds over the values it contains.
public indirect enum StixPattern: Sendable, Equatable {
    case equals(ObservableKind, String)
    /// An address inside a network (`ISSUBSET`), or an address equal to one (`= '10.1.2.3'`); for
    /// a domain listed in an indicator file, that domain and every name under it (STIX's own
    /// `domain-name:value =` is `equals`: that name only).
    case inNetwork(ObservableKind, String)
    case and([StixPattern])
    case or([StixPattern])

    public static func parse(_ text: String) throws(SigmaError) -> StixPattern {
        var parser = Parser(text: Array(text.unicodeScalars))
        let pattern = try parser.observations()
        parser.skipSpace()
        guard parser.position == parser.text.count else { throw parser.fail("unexpected text") }
        return pattern
    }

    struct Parser {
        let text: [Unicode.Scalar]
        var position = 0

        func fail(_ message: String) -> SigmaError {
            SigmaError("STIX pattern: \(message) at character \(position + 1)")
        }

        mutating func skipSpace() {
            while position < text.count, text[position].properties.isWhitespace { position += 1 }
        }

        mutating func word() -> String {
            skipSpace()
            let start = position
            while position < text.count, text[position].properties.isAlphabetic || text[position] == "_" { position += 1 }
            return String(String.UnicodeScalarView(text[start..<position]))
        }

        /// Consumes a keyword if it comes next.
        mutating func keyword(_ name: String) -> Bool {
            let saved = position
            if word().uppercased() == name { return true }
            position = saved
            return false
        }

        mutating func peek(_ scalar: Unicode.Scalar) -> Bool {
            skipSpace()
            return position < text.count && text[position] == scalar
        }

        // observations := conjunction ('OR' conjunction)*
        mutating func observations() throws(SigmaError) -> StixPattern {
            var parts = [try observationConjunction()]
            while keyword("OR") { parts.append(try observationConjunction()) }
            return parts.count == 1 ? parts[0] : .or(parts)
        }

        mutating func observationConjunction() throws(SigmaError) -> StixPattern {
            var parts = [try observation()]
            while true {
                if keyword("AND") {
                    parts.append(try observation())
                } else {
                    let saved = position
                    let next = word().uppercased()
                    position = saved
                    if ["FOLLOWEDBY", "WITHIN", "REPEATS", "START", "STOP"].contains(next) {
                        throw fail("\(next) is outside the supported subset (=, IN, ISSUBSET, AND, OR)")
                    }
                    break
                }
            }
            return parts.count == 1 ? parts[0] : .and(parts)
        }

        mutating func observation() throws(SigmaError) -> StixPattern {
            if peek("(") {
                position += 1
                let inner = try observations()
                guard peek(")") else { throw fail("expected ')'") }
                position += 1
                return inner
            }
            guard peek("[") else { throw fail("expected '[' to open an observation") }
            position += 1
            let inner = try comparisons()
            guard peek("]") else { throw fail("expected ']' to close the observation") }
            position += 1
            return inner
        }

        // comparisons := comparisonConjunction ('OR' comparisonConjunction)*
        mutating func comparisons() throws(SigmaError) -> StixPattern {
            var parts = [try comparisonConjunction()]
            while keyword("OR") { parts.append(try comparisonConjunction()) }
            return parts.count == 1 ? parts[0] : .or(parts)
        }

        mutating func comparisonConjunction() throws(SigmaError) -> StixPattern {
            var parts = [try comparison()]
            while keyword("AND") { parts.append(try comparison()) }
            return parts.count == 1 ? parts[0] : .and(parts)
        }

        mutating func comparison() throws(SigmaError) -> StixPattern {
            if peek("(") {
                position += 1
                let inner = try comparisons()
                guard peek(")") else { throw fail("expected ')'") }
                position += 1
                return inner
            }
            if keyword("NOT") { throw fail("NOT is outside the supported subset (=, IN, ISSUBSET, AND, OR)") }
            let kind = try objectPath()
            skipSpace()
            if peek("=") {
                position += 1
                return try value(kind, try string())
            }
            if peek("!") || peek("<") || peek(">") { throw fail("only =, IN and ISSUBSET are supported") }
            let saved = position
            let operation = word().uppercased()
            switch operation {
            case "IN":
                guard peek("(") else { throw fail("IN needs a list in parentheses") }
                position += 1
                var values = [try value(kind, try string())]
                while peek(",") {
                    position += 1
                    values.append(try value(kind, try string()))
                }
                guard peek(")") else { throw fail("expected ')' to close the IN list") }
                position += 1
                return values.count == 1 ? values[0] : .or(values)
            case "ISSUBSET":
                guard kind.isAddress else { throw fail("ISSUBSET applies to ipv4-addr and ipv6-addr values") }
                let network = try string()
                guard let parsed = Network(cidr: network), parsed.address.isIPv6 == (kind == .ipv6) else {
                    throw fail("'\(network)' is not an \(kind.rawValue) network")
                }
                return .inNetwork(kind, network)
            default:
                position = saved
                throw fail(operation.isEmpty ? "expected =, IN or ISSUBSET" : "\(operation) is outside the supported subset (=, IN, ISSUBSET)")
            }
        }

        /// A comparison's right side as the pattern of its kind, checked and normalised.
        func value(_ kind: ObservableKind, _ text: String) throws(SigmaError) -> StixPattern {
            do {
                return try Indicator.pattern(kind, text)
            } catch {
                throw fail(error.message)
            }
        }

        /// `ipv4-addr:value`, `file:hashes.'SHA-256'`, `network-traffic:dst_ref.value`, …
        mutating func objectPath() throws(SigmaError) -> ObservableKind {
            skipSpace()
            let start = position
            while position < text.count, !text[position].properties.isWhitespace, text[position] != "=", text[position] != "!",
                text[position] != "<", text[position] != ">"
            {
                position += 1
            }
            let path = String(String.UnicodeScalarView(text[start..<position])).replacingOccurrences(of: "'", with: "")
            switch path.lowercased() {
            case "ipv4-addr:value", "network-traffic:src_ref.value", "network-traffic:dst_ref.value": return .ipv4
            case "ipv6-addr:value": return .ipv6
            case "domain-name:value": return .domain
            case "url:value": return .url
            case "email-addr:value", "email-message:from_ref.value", "email-message:sender_ref.value": return .email
            case "file:hashes.md5": return .md5
            case "file:hashes.sha-1", "file:hashes.sha1": return .sha1
            case "file:hashes.sha-256", "file:hashes.sha256": return .sha256
            default:
                position = start
                throw fail("the object path '\(path)' is outside the supported subset (addresses, domains, URLs, e-mail addresses, MD5/SHA-1/SHA-256 file hashes)")
            }
        }

        /// A quoted string with `\'` and `\\` escapes.
        mutating func string() throws(SigmaError) -> String {
            guard peek("'") else { throw fail("expected a quoted string") }
            position += 1
            var value = String.UnicodeScalarView()
            while position < text.count {
                let scalar = text[position]
                position += 1
                if scalar == "'" { return String(value) }
                if scalar == "\\" {
                    guard position < text.count, text[position] == "'" || text[position] == "\\" else {
                        throw fail("only \\' and \\\\ may be escaped in a string")
                    }
                    value.append(text[position])
                    position += 1
                } else {
                    value.append(scalar)
                }
            }
            throw fail("the string is not closed")
        }
    }
}

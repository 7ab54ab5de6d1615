import Foundation
import QilaCore

/// The start or end of an address assignment: a RADIUS accounting start or stop (an address
/// handed to a subscriber's session), or a carrier-grade NAT port-block allocation or release
/// (a public address and a range of its ports lent to an internal address).
public struct AssignmentEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable { case start, stop }
    public enum Source: String, Sendable, Codable { case radius, cgnat }

    public var kind: Kind
    public var source: Source
    /// Milliseconds since 1970 (UTC).
    public var time: Int64
    /// The address flows carry: the framed address of a RADIUS session, or the public address of
    /// a NAT port block.
    public var address: FlowAddress
    /// The port block of a NAT allocation; nil for a whole address.
    public var ports: ClosedRange<UInt16>?
    /// NAT: the subscriber-side address the block was allocated to.
    public var internalAddress: FlowAddress?
    /// The subscriber identifier (RADIUS User-Name or Calling-Station-Id; some NAT logs carry one).
    public var subscriber: String?
    /// What pairs a stop with its start (RADIUS Acct-Session-Id).
    public var session: String?
    /// RADIUS stop: how long the session lasted, so that a stop whose start was lost still counts.
    public var duration: Int64?

    public init(
        kind: Kind, source: Source, time: Int64, address: FlowAddress, ports: ClosedRange<UInt16>? = nil,
        internalAddress: FlowAddress? = nil, subscriber: String? = nil, session: String? = nil, duration: Int64? = nil
    ) {
        self.kind = kind
        self.source = source
        self.time = time
        self.address = address
        self.ports = ports
        self.internalAddress = internalAddress
        self.subscriber = subscriber
        self.session = session
        self.duration = duration
    }

    /// Subscriber identifiers are printable text of at most 253 bytes (RADIUS's attribute limit).
    static func validSubscriber(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253 && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}

/// A line of assignment input Qila could not read, named by line number and what was wrong.
public struct AssignmentParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Reads carrier-grade NAT port-block logs, as CSV with a header or as syslog lines.
///
/// CSV: the first line names the columns, in any order: `time`, `event` and `address` are
/// required; `port_first`, `port_last`, `internal_address`, `subscriber` and `session` are
/// optional. Times are RFC 3339 or seconds since 1970; events are `allocate`/`start` or
/// `release`/`stop`.
///
/// Syslog (RFC 5424 or RFC 3164, with or without `<PRI>`): the time is the header's; the message
/// is read either in the arrow form routers print (`… PORT_BLOCK_ALLOC: 100.64.0.2 -> 203.0.113.7:2048-2175 …`,
/// `RELEASE` in the tag for a release) or as `key=value` pairs (`internal=`, `external=`,
/// `ports=first-last`, `event=`, `subscriber=`; `source-address`/`nat-source-address` also read).
public enum CGNATLogParser {
    public struct Result: Sendable {
        public var events: [AssignmentEvent] = []
        public var errors: [AssignmentParseError] = []
    }

    /// Parses a whole file, CSV if its first line is a CSV header, syslog otherwise. Bad lines are
    /// reported and skipped; good ones are kept.
    public static func parse(_ text: String, now: Date = Date()) -> Result {
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map { String($0) }
        guard let first = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return Result() }
        if first.lowercased().contains("time") && first.contains(",") && !first.hasPrefix("<") {
            return parseCSV(lines)
        }
        var result = Result()
        for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                if let event = try parseSyslog(line, now: now) { result.events.append(event) }
            } catch let error as AssignmentParseError {
                result.errors.append(AssignmentParseError(line: index + 1, message: error.message))
            } catch {
                result.errors.append(AssignmentParseError(line: index + 1, message: "\(error)"))
            }
        }
        return result
    }

    static func parseCSV(_ lines: [String]) -> Result {
        var result = Result()
        guard let headerIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return result }
        let header = lines[headerIndex].split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "-", with: "_")
        }
        var column: [String: Int] = [:]
        for (index, name) in header.enumerated() { column[name] = index }
        for required in ["time", "event", "address"] where column[required] == nil {
            result.errors.append(AssignmentParseError(line: headerIndex + 1, message: "the header has no '\(required)' column"))
        }
        guard result.errors.isEmpty else { return result }
        for index in (headerIndex + 1)..<lines.count {
            let line = lines[index]
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func field(_ name: String) -> String? {
                guard let at = column[name], at < fields.count, !fields[at].isEmpty else { return nil }
                return fields[at]
            }
            do {
                guard fields.count == header.count else {
                    throw AssignmentParseError(line: 0, message: "\(fields.count) fields where the header names \(header.count)")
                }
                let time = try parseTime(field("time") ?? "", column: "time")
                let kind = try parseKind(field("event") ?? "")
                let address = try parseAddress(field("address") ?? "", column: "address")
                var ports: ClosedRange<UInt16>?
                if let low = field("port_first") {
                    let first = try parsePort(low, column: "port_first")
                    let last = try parsePort(field("port_last") ?? low, column: "port_last")
                    guard first <= last else { throw AssignmentParseError(line: 0, message: "port_first \(first) is above port_last \(last)") }
                    ports = first...last
                }
                let inner = try field("internal_address").map { try parseAddress($0, column: "internal_address") }
                let subscriber = field("subscriber")
                if let subscriber, !AssignmentEvent.validSubscriber(subscriber) {
                    throw AssignmentParseError(line: 0, message: "column 'subscriber' must be printable text of at most 253 bytes")
                }
                guard inner != nil || subscriber != nil else {
                    throw AssignmentParseError(line: 0, message: "neither 'internal_address' nor 'subscriber' is given, so the block names nobody")
                }
                result.events.append(
                    AssignmentEvent(
                        kind: kind, source: .cgnat, time: time, address: address, ports: ports, internalAddress: inner,
                        subscriber: subscriber, session: field("session")))
            } catch let error as AssignmentParseError {
                result.errors.append(AssignmentParseError(line: index + 1, message: error.message))
            } catch {
                result.errors.append(AssignmentParseError(line: index + 1, message: "\(error)"))
            }
        }
        return result
    }

    /// One syslog line; nil for a message that is not about port blocks (other NAT chatter).
    /// The header is read by the intake's syslog parser; a line exported without `<PRI>` is read
    /// as if it had one.
    static func parseSyslog(_ line: String, now: Date) throws -> AssignmentEvent? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let parsed: SyslogMessage
        do {
            parsed = try SyslogParser.parse(Array((trimmed.hasPrefix("<") ? trimmed : "<13>" + trimmed).utf8), now: Int64(now.timeIntervalSince1970 * 1000))
        } catch {
            throw AssignmentParseError(line: 0, message: "not syslog: \(error.reason)")
        }
        guard let time = parsed.timestamp else { throw AssignmentParseError(line: 0, message: "the syslog header has no timestamp") }
        // The tag (RFC 3164) or APP-NAME and MSGID may carry the ALLOC/RELEASE word; structured data the key=value pairs.
        let message = ([parsed.appName, parsed.msgID].compactMap { $0 } + [parsed.message]).joined(separator: " ")
        let upper = message.uppercased()
        var pairs: [String: String] = [:]
        for element in parsed.structuredData {
            for parameter in element.parameters { pairs[parameter.name.lowercased()] = parameter.value }
        }
        for token in message.split(whereSeparator: { $0 == " " || $0 == "[" || $0 == "]" }) {
            guard let equals = token.firstIndex(of: "=") else { continue }
            let key = token[..<equals].lowercased()
            var value = String(token[token.index(after: equals)...])
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            pairs[key] = value
        }
        var kind: AssignmentEvent.Kind?
        if let event = pairs["event"] { kind = try parseKind(event) }
        else if upper.contains("RELEASE") { kind = .stop }
        else if upper.contains("ALLOC") || upper.contains("INTERIM") || upper.contains("ACTIVE") { kind = .start }
        var inner: FlowAddress?
        var external: FlowAddress?
        var ports: ClosedRange<UInt16>?
        if let arrow = message.range(of: " -> ") {
            let left = message[..<arrow.lowerBound].split(separator: " ").last.map(String.init) ?? ""
            let right = message[arrow.upperBound...].split(separator: " ").first.map(String.init) ?? ""
            inner = try parseAddress(left, column: "internal address")
            guard let colon = right.lastIndex(of: ":"), let dash = right.lastIndex(of: "-"), colon < dash else {
                throw AssignmentParseError(line: 0, message: "'\(right)' is not ADDRESS:FIRST-LAST")
            }
            external = try parseAddress(String(right[..<colon]), column: "public address")
            let first = try parsePort(String(right[right.index(after: colon)..<dash]), column: "first port")
            let last = try parsePort(String(right[right.index(after: dash)...]), column: "last port")
            guard first <= last else { throw AssignmentParseError(line: 0, message: "first port \(first) is above last port \(last)") }
            ports = first...last
        } else {
            if let text = pairs["internal"] ?? pairs["source-address"] ?? pairs["src"] { inner = try parseAddress(text, column: "internal") }
            if let text = pairs["external"] ?? pairs["nat-source-address"] ?? pairs["nat"] { external = try parseAddress(text, column: "external") }
            if let text = pairs["ports"] ?? pairs["port-range"] {
                let bounds = text.split(separator: "-")
                guard bounds.count == 2 else { throw AssignmentParseError(line: 0, message: "ports '\(text)' is not FIRST-LAST") }
                let first = try parsePort(String(bounds[0]), column: "ports")
                let last = try parsePort(String(bounds[1]), column: "ports")
                guard first <= last else { throw AssignmentParseError(line: 0, message: "ports '\(text)' run backwards") }
                ports = first...last
            }
        }
        guard let external else { return nil }
        guard let kind else { throw AssignmentParseError(line: 0, message: "a port block without ALLOC, RELEASE or event=") }
        let subscriber = pairs["subscriber"] ?? pairs["user"]
        if let subscriber, !AssignmentEvent.validSubscriber(subscriber) {
            throw AssignmentParseError(line: 0, message: "subscriber must be printable text of at most 253 bytes")
        }
        guard inner != nil || subscriber != nil else {
            throw AssignmentParseError(line: 0, message: "the block names neither an internal address nor a subscriber")
        }
        return AssignmentEvent(
            kind: kind, source: .cgnat, time: time, address: external, ports: ports, internalAddress: inner, subscriber: subscriber,
            session: pairs["session"])
    }

    static func parseKind(_ text: String) throws -> AssignmentEvent.Kind {
        switch text.lowercased() {
        case "start", "allocate", "alloc", "allocated", "open", "interim", "active": .start
        case "stop", "release", "released", "free", "close": .stop
        default: throw AssignmentParseError(line: 0, message: "event '\(text)' is not allocate/start or release/stop")
        }
    }

    static func parseAddress(_ text: String, column: String) throws -> FlowAddress {
        guard let address = FlowAddress(parsing: text) else {
            throw AssignmentParseError(line: 0, message: "\(column) '\(text.prefix(60))' is not an IPv4 or IPv6 address")
        }
        return address
    }

    static func parsePort(_ text: String, column: String) throws -> UInt16 {
        guard let port = UInt16(text) else { throw AssignmentParseError(line: 0, message: "\(column) '\(text.prefix(20))' is not a port (0 to 65535)") }
        return port
    }

    /// RFC 3339 (`2026-11-23T10:00:00Z`, fractions and offsets allowed) or seconds since 1970.
    static func parseTime(_ text: String, column: String) throws -> Int64 {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds < 1e11 {
            return Int64((seconds * 1000).rounded())
        }
        if let date = RFC3339.parse(text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        throw AssignmentParseError(line: 0, message: "\(column) '\(text.prefix(40))' is neither RFC 3339 nor seconds since 1970")
    }
}

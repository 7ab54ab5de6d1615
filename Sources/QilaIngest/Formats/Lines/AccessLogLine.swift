import QilaCore

/// Web servers' and proxies' access logs.
///
/// Common and combined log formats (Apache HTTP Server "Log Files"; nginx's default `combined`):
/// `%h %l %u %t "%r" %>s %b` and, combined, `"%{Referer}i" "%{User-agent}i"` after it. Fields are
/// named as the W3C extended log format names them (`c-ip`, `cs-method`, `cs-uri-stem`,
/// `cs-uri-query`, `sc-status`, `cs-user-agent`, ...), which Sigma's web rules use.
///
/// Squid's native format (Squid wiki, "Squid native access.log format"):
/// `time elapsed remotehost code/status bytes method URL rfc931 peerstatus/peerhost type`, written
/// with the proxy names Sigma's proxy rules use (`c-uri`, `cs-host`, `c-uri-extension`, ...).
enum AccessLogLine {
    static func parseCombined(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        let host = cursor.token()
        guard !host.isEmpty else { throw cursor.fail("the line begins with the client's address", at: 0) }
        cursor.skipSpaces()
        _ = cursor.token()  // ident (RFC 1413), nearly always "-"
        cursor.skipSpaces()
        let user = cursor.token()
        cursor.skipSpaces()
        guard cursor.take("["), let time = cursor.until(UInt8(ascii: "]")) else {
            throw cursor.fail("the time is written [10/Oct/2000:13:55:36 -0700] after the client, ident and user")
        }
        guard let milliseconds = accessLogTime(cursor.text(time)) else {
            throw cursor.fail("the time is not day/month/year:hour:minute:second zone", at: time.lowerBound)
        }
        cursor.skipSpaces()
        guard cursor.peek == UInt8(ascii: "\"") else { throw cursor.fail("the request is written in double quotes after the time") }
        let request = try KeyValueLine.quoted(&cursor, quote: UInt8(ascii: "\""), key: 0..<0)
        cursor.skipSpaces()
        let status = cursor.token()
        guard cursor.number(status) != nil else { throw cursor.fail("the status must be a number", at: status.lowerBound) }
        cursor.skipSpaces()
        let size = cursor.token()
        fields.string("c-ip", cursor[host])
        if !cursor.isAbsent(user) { fields.string("cs-username", cursor[user]) }
        fields.number("timestamp", milliseconds)
        var scratch: [UInt8] = []
        let line: [UInt8]
        if request.escaped {
            KeyValueLine.unescape(cursor[request.range], into: &scratch)
            line = scratch
        } else {
            line = Array(cursor[request.range])
        }
        // METHOD TARGET VERSION; a target with spaces in it (a probe's) keeps them.
        var parts = line.split(separator: 0x20, omittingEmptySubsequences: true)
        if parts.count > 3 {
            let hasVersion = parts.last!.starts(with: "HTTP/".utf8)
            let end = hasVersion ? parts.count - 1 : parts.count
            let target = Array(parts[1..<end].joined(separator: [0x20]))
            parts = [parts[0], target[...]] + (hasVersion ? [parts.last!] : [])
        }
        if parts.count >= 2 {
            fields.string("cs-method", parts[0])
            fields.string("cs-uri", parts[1])
            let target = Target(String(decoding: parts[1], as: UTF8.self))
            fields.string("cs-uri-stem", target.path)
            if let query = target.query { fields.string("cs-uri-query", query) }
            if let extensionName = target.pathExtension { fields.string("c-uri-extension", extensionName) }
            if parts.count == 3 { fields.string("cs-version", parts[2]) }
        } else {
            // Not a request line (a probe's raw bytes, say): kept whole.
            fields.string("cs-request", line)
        }
        fields.string("sc-status", cursor[status])
        if !cursor.isAbsent(size) { fields.string("sc-bytes", cursor[size]) }
        cursor.skipSpaces()
        if cursor.peek == UInt8(ascii: "\"") {
            let referer = try KeyValueLine.quoted(&cursor, quote: UInt8(ascii: "\""), key: 0..<0)
            if !cursor.isAbsent(referer.range) { fields.string("cs-referer", unescaped(cursor, referer, &scratch)) }
            cursor.skipSpaces()
            if cursor.peek == UInt8(ascii: "\"") {
                let agent = try KeyValueLine.quoted(&cursor, quote: UInt8(ascii: "\""), key: 0..<0)
                if !cursor.isAbsent(agent.range) { fields.string("cs-user-agent", unescaped(cursor, agent, &scratch)) }
            }
        }
    }

    static func parseSquid(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        var tokens: [Range<Int>] = []
        while tokens.count < 10 {
            cursor.skipSpaces()
            guard !cursor.atEnd else { break }
            tokens.append(cursor.token())
        }
        guard tokens.count >= 7 else {
            throw cursor.fail("Squid's native format has 10 fields (time elapsed client code/status bytes method URL user hierarchy/peer type); \(tokens.count) found")
        }
        guard let seconds = EventTimeText.seconds(cursor.text(tokens[0])) else {
            throw cursor.fail("the time must be seconds since 1970 (1286536308.779)", at: tokens[0].lowerBound)
        }
        guard let slash = cursor[tokens[3]].firstIndex(of: UInt8(ascii: "/")), cursor.number((slash + 1)..<tokens[3].upperBound) != nil else {
            throw cursor.fail("the fourth field is the result code and status (TCP_MISS/200)", at: tokens[3].lowerBound)
        }
        fields.number("timestamp", seconds)
        fields.string("time-taken", cursor[tokens[1]])
        fields.string("c-ip", cursor[tokens[2]])
        fields.string("squid-result", cursor[tokens[3].lowerBound..<slash])
        fields.string("sc-status", cursor[(slash + 1)..<tokens[3].upperBound])
        fields.string("sc-bytes", cursor[tokens[4]])
        fields.string("cs-method", cursor[tokens[5]])
        let url = cursor.text(tokens[6])
        fields.string("c-uri", url)
        let target = Target(url)
        if let host = target.host { fields.string("cs-host", host) }
        fields.string("c-uri-stem", target.path)
        if let query = target.query { fields.string("c-uri-query", query) }
        if let extensionName = target.pathExtension { fields.string("c-uri-extension", extensionName) }
        if tokens.count > 7, !cursor.isAbsent(tokens[7]) { fields.string("cs-username", cursor[tokens[7]]) }
        if tokens.count > 8, let slashPeer = cursor[tokens[8]].firstIndex(of: UInt8(ascii: "/")) {
            fields.string("hierarchy", cursor[tokens[8].lowerBound..<slashPeer])
            let peer = (slashPeer + 1)..<tokens[8].upperBound
            if !cursor.isAbsent(peer) { fields.string("dst_ip", cursor[peer]) }
        }
        if tokens.count > 9, !cursor.isAbsent(tokens[9]) { fields.string("content-type", cursor[tokens[9]]) }
    }

    static func unescaped(_ cursor: LineCursor, _ value: (range: Range<Int>, escaped: Bool), _ scratch: inout [UInt8]) -> [UInt8] {
        guard value.escaped else { return Array(cursor[value.range]) }
        KeyValueLine.unescape(cursor[value.range], into: &scratch)
        return scratch
    }

    /// A request target or proxy URL: `http://host:port/path?query`, `/path?query`, or CONNECT's `host:443`.
    struct Target {
        var host: String?
        var path: String
        var query: String?

        init(_ text: String) {
            var rest = Substring(text)
            if let scheme = rest.range(of: "://") {
                rest = rest[scheme.upperBound...]
                let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
                host = Self.hostName(rest[..<authorityEnd])
                rest = rest[authorityEnd...]
            } else if !rest.hasPrefix("/"), !rest.isEmpty, !rest.contains("/") {
                host = Self.hostName(rest)
                rest = ""
            }
            if let mark = rest.firstIndex(of: "?") {
                path = String(rest[..<mark])
                query = String(rest[rest.index(after: mark)...])
            } else {
                path = String(rest)
            }
        }

        /// `user@host:port` to `host` (brackets of an IPv6 address kept off).
        static func hostName(_ authority: Substring) -> String {
            var host = authority
            if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return String(host[host.index(after: host.startIndex)..<close]) }
            if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
            return String(host)
        }

        /// The last path segment's extension, as Sigma's `c-uri-extension` means it.
        var pathExtension: String? {
            let segment = path.split(separator: "/").last ?? ""
            guard let dot = segment.lastIndex(of: "."), dot != segment.startIndex else { return nil }
            let name = segment[segment.index(after: dot)...]
            return name.isEmpty ? nil : String(name)
        }
    }

    /// `10/Oct/2000:13:55:36 -0700` as milliseconds since 1970.
    static func accessLogTime(_ text: String) -> Int64? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == ":" || $0 == " " })
        guard parts.count == 7, let day = Int(parts[0]), let month = months.firstIndex(of: String(parts[1])), let year = Int(parts[2]),
            let hour = Int(parts[3]), let minute = Int(parts[4]), let second = Int(parts[5]), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let zone = parts[6]
        guard zone.count == 5, let sign = zone.first, sign == "+" || sign == "-", let hours = Int(zone.dropFirst().prefix(2)), let minutes = Int(zone.suffix(2))
        else { return nil }
        let offset = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        let days = CivilDay(year: year, month: month + 1, day: day).ordinal
        return (Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)) * 1000
    }
}

/// Small time readings the text formats share.
enum EventTimeText {
    /// `1286536308.779` (seconds, optional fraction) as milliseconds.
    static func seconds(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, parts[0].count <= 11 else { return nil }
        var milliseconds = whole * 1000
        if parts.count == 2 {
            let fraction = parts[1].prefix(3)
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber), let value = Int64(fraction) else { return nil }
            milliseconds += value * Int64([100, 10, 1][fraction.count - 1])
        }
        return milliseconds
    }
}

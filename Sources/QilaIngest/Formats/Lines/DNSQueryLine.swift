/// DNS resolvers' query logs, as their manuals describe them.
///
/// BIND 9 (Administrator Reference Manual, the `queries` logging category):
/// `[05-Dec-2026 07:56:17.123 queries: info: ]client [@0x7f3a...] 192.0.2.10#53211 (www.example.com): [view internal: ]query: www.example.com IN A +E(0)K (192.0.2.53)`.
///
/// Unbound (unbound.conf(5), `log-queries` and `log-replies`):
/// `[1733385377] unbound[1234:0] info: 192.0.2.10 www.example.com. A IN` and, for replies,
/// `... A IN NOERROR 0.000123 0 45` (rcode, seconds, from cache, size).
///
/// Both give `client_ip`, `query` (without the root's trailing dot), `record_type` and `query_class`.
enum DNSQueryLine {
    static func parseBIND(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        guard let client = cursor.find("client ", from: 0) else { throw cursor.fail("no 'client' in the line", at: 0) }
        cursor.at = client + 7
        if cursor.peek == UInt8(ascii: "@") {
            _ = cursor.token()
            cursor.skipSpaces()
        }
        let address = cursor.token()
        guard let hash = cursor[address].lastIndex(of: UInt8(ascii: "#")), hash > address.lowerBound else {
            throw cursor.fail("the client is written address#port", at: address.lowerBound)
        }
        var port = (hash + 1)..<address.upperBound
        if cursor[port].last == UInt8(ascii: ":") { port = port.lowerBound..<(port.upperBound - 1) }
        fields.string("client_ip", cursor[address.lowerBound..<hash])
        fields.string("client_port", cursor[port])
        guard let query = cursor.find("query: ", from: cursor.at) else { throw cursor.fail("no 'query:' after the client", at: cursor.at) }
        if let view = cursor.find("view ", from: cursor.at), view < query {
            cursor.at = view + 5
            if let name = cursor.until(UInt8(ascii: ":")) { fields.string("view", cursor[name]) }
        }
        cursor.at = query + 7
        let name = cursor.token()
        cursor.skipSpaces()
        let queryClass = cursor.token()
        cursor.skipSpaces()
        let type = cursor.token()
        guard !name.isEmpty, !queryClass.isEmpty, !type.isEmpty else {
            throw cursor.fail("the query is written name class type", at: query + 7)
        }
        writeName(cursor, name, into: &fields)
        fields.string("query_class", cursor[queryClass])
        fields.string("record_type", cursor[type])
        cursor.skipSpaces()
        let flags = cursor.token()
        if !flags.isEmpty, cursor[flags].first != UInt8(ascii: "(") {
            fields.string("flags", cursor[flags])
            cursor.skipSpaces()
        } else {
            cursor.at = flags.lowerBound
        }
        if cursor.peek == UInt8(ascii: "("), let server = cursor.firstIndex(of: UInt8(ascii: ")"), from: cursor.at) {
            fields.string("server_ip", cursor[(cursor.at + 1)..<server])
        }
        if client > 0 {
            // print-time: "05-Dec-2026 07:56:17.123 queries: info: " — kept as written (BIND writes local time).
            let prefix = cursor.text(cursor.trimmed(0..<client)).split(separator: " ")
            if prefix.count >= 2, prefix[0].first?.isNumber == true { fields.string("time", prefix[0] + " " + prefix[1]) }
        }
    }

    static func parseUnbound(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        if cursor.peek == UInt8(ascii: "["), let close = cursor.firstIndex(of: UInt8(ascii: "]"), from: 1), let seconds = cursor.number(1..<close) {
            fields.number("timestamp", seconds * 1000)
        }
        guard let info = cursor.find("info: ", from: 0) else { throw cursor.fail("no 'info:' in the line", at: 0) }
        cursor.at = info + 6
        var tokens: [Range<Int>] = []
        while !cursor.atEnd, tokens.count < 9 {
            cursor.skipSpaces()
            let token = cursor.token()
            if !token.isEmpty { tokens.append(token) }
        }
        guard tokens.count >= 4 else {
            throw cursor.fail("a query is written client name type class (\(tokens.count) of the 4 found)", at: info + 6)
        }
        fields.string("client_ip", cursor[tokens[0]])
        writeName(cursor, tokens[1], into: &fields)
        fields.string("record_type", cursor[tokens[2]])
        fields.string("query_class", cursor[tokens[3]])
        if tokens.count >= 8 {
            fields.string("rcode", cursor[tokens[4]])
            fields.string("duration", cursor[tokens[5]])
            fields.string("cached", cursor[tokens[6]])
            fields.string("size", cursor[tokens[7]])
        }
    }

    static func writeName(_ cursor: LineCursor, _ name: Range<Int>, into fields: inout EventFields) {
        var range = name
        if range.count > 1, cursor.bytes[range.upperBound - 1] == UInt8(ascii: ".") { range = range.lowerBound..<(range.upperBound - 1) }
        fields.string("query", cursor[range])
    }
}

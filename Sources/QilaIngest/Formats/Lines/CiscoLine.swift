/// Cisco ASA/FTD and IOS system messages: `%FACILITY-SEVERITY-MNEMONIC: text` (Cisco's "System Log
/// Message Format" for IOS, and the ASA "Syslog Messages" guide, where the mnemonic is the six-digit
/// message ID), after whatever sequence number and time stamp the device puts before it. Besides the
/// message's parts, the addresses, user and command of the messages that name them are written as
/// fields: ASA connection, deny and login messages, IOS configuration and login messages.
enum CiscoLine {
    static func parse(_ cursor: inout LineCursor, into fields: inout EventFields) throws(LineFormatError) {
        var search = 0
        while let percent = cursor.firstIndex(of: UInt8(ascii: "%"), from: search) {
            search = percent + 1
            cursor.at = percent + 1
            let facility = run(&cursor, isNameByte)
            guard !facility.isEmpty, cursor.take("-"), let severity = cursor.peek, (0x30...0x37).contains(severity) else { continue }
            cursor.at += 1
            guard cursor.take("-") else { continue }
            let mnemonic = run(&cursor, isNameByte)
            guard !mnemonic.isEmpty, cursor.take(":") else { continue }
            cursor.skipSpaces()
            let text = cursor.at..<cursor.bytes.count
            fields.string("facility", cursor[facility])
            fields.string("severity", cursor[(percent + facility.count + 2)..<(percent + facility.count + 3)])
            fields.string("mnemonic", cursor[mnemonic])
            let facilityName = cursor.text(facility)
            if ["ASA", "FTD", "PIX", "FWSM"].contains(facilityName) { fields.string("message_id", cursor[mnemonic]) }
            fields.string("message", cursor[text])
            details(cursor.text(text), facility: facilityName, mnemonic: cursor.text(mnemonic), into: &fields)
            return
        }
        throw cursor.fail("no '%FACILITY-SEVERITY-MNEMONIC:' message tag", at: 0)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || byte == UInt8(ascii: "_")
    }

    static func run(_ cursor: inout LineCursor, _ accept: (UInt8) -> Bool) -> Range<Int> {
        let start = cursor.at
        while let byte = cursor.peek, accept(byte) { cursor.at += 1 }
        return start..<cursor.at
    }

    /// The parts of the text the common messages name.
    static func details(_ text: String, facility: String, mnemonic: String, into fields: inout EventFields) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if ["ASA", "FTD", "PIX", "FWSM"].contains(facility), let first = words.first {
            let verb = first.lowercased()
            if ["built", "teardown", "deny", "denied", "permitted", "dropped", "discarded", "accessed", "failed"].contains(verb) { fields.string("action", verb) }
            if words.count > 1, ["tcp", "udp", "icmp"].contains(words[1].lowercased()) { fields.string("protocol", words[1].lowercased()) }
            if words.count > 2, ["tcp", "udp", "icmp"].contains(words[2].lowercased()) { fields.string("protocol", words[2].lowercased()) }
        }
        // "src outside:198.51.100.7/5123 dst inside:10.0.0.5/22", "for outside:A/P (..) to inside:B/Q (..)",
        // "from outside:A/P to inside:B/Q".
        // In "Built outbound" the first address is the far (outside) end, which the inside host called.
        let outbound = text.hasPrefix("Built outbound")
        for (index, word) in words.enumerated() where index + 1 < words.count {
            switch word {
            case "src", "from": endpoint(words[index + 1], "src", into: &fields)
            case "dst": endpoint(words[index + 1], "dst", into: &fields)
            case "for": endpoint(words[index + 1], outbound ? "dst" : "src", into: &fields)
            case "to": endpoint(words[index + 1], outbound ? "src" : "dst", into: &fields)
            case "access-group": fields.string("acl", String(words[index + 1]).trimmingQuotes)
            default: break
            }
        }
        if let user = user(in: text, mnemonic: mnemonic) { fields.string("user", user) }
        if let command = command(in: text) { fields.string("command", command) }
        // IOS: "Configured from console by admin on vty0 (10.1.1.1)", "[Source: 10.1.1.1]".
        if let open = text.range(of: "[Source: ") {
            let rest = text[open.upperBound...]
            if let close = rest.firstIndex(of: "]") { fields.string("src_ip", String(rest[..<close])) }
        } else if mnemonic == "CONFIG_I", let open = text.lastIndex(of: "("), let close = text.lastIndex(of: ")"), open < close {
            fields.string("src_ip", String(text[text.index(after: open)..<close]))
        }
    }

    /// `outside:198.51.100.7/5123` (interface, address, port) into `src_interface`, `src_ip`, `src_port`.
    static func endpoint(_ word: Substring, _ side: StaticString, into fields: inout EventFields) {
        guard let colon = word.firstIndex(of: ":"), let slash = word.lastIndex(of: "/"), colon < slash else { return }
        let interface = word[..<colon]
        let address = word[word.index(after: colon)..<slash]
        let port = word[word.index(after: slash)...].prefix { $0.isNumber }
        guard !interface.isEmpty, address.contains(where: { $0 == "." || $0 == ":" }), !port.isEmpty else { return }
        let prefix = "\(side)"
        fields.string(prefix + "_interface", String(interface))
        fields.string(prefix + "_ip", String(address))
        fields.string(prefix + "_port", String(port))
    }

    static func user(in text: String, mnemonic: String) -> String? {
        // "by" names the user only in IOS's "Configured from console by admin".
        let markers = ["user = ", "Username = ", "user \"", "User \"", "user '", "User '", "User:", "[user: "] + (mnemonic == "CONFIG_I" ? [" by "] : [])
        for marker in markers {
            guard let found = text.range(of: marker) else { continue }
            var rest = text[found.upperBound...]
            if marker.hasSuffix("\"") || marker.hasSuffix("'") {
                guard let close = rest.firstIndex(of: marker.last!) else { continue }
                return String(rest[..<close])
            }
            rest = rest.drop { $0 == " " }
            let name = rest.prefix { $0 != " " && $0 != "]" && $0 != "," }
            if !name.isEmpty { return String(name) }
        }
        return nil
    }

    static func command(in text: String) -> String? {
        if let found = text.range(of: "logged command:") {
            return String(text[found.upperBound...]).trimmingCharacters(in: " ")
        }
        if let found = text.range(of: "executed the '") ?? text.range(of: "executed '") {
            let rest = text[found.upperBound...]
            if let close = rest.lastIndex(of: "'") { return String(rest[..<close]) }
        }
        return nil
    }
}

extension String {
    fileprivate var trimmingQuotes: String { trimmingCharacters(in: "\"'") }

    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = self[...]
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}

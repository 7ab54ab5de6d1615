public import QilaCore

extension LineFormat {
    /// The event of one line of a text format: the format's fields, then the syslog header's
    /// (`host`, `app`, `procid`, `msgid`, `facility`, `severity`, `timestamp`) where the format did not
    /// name them, and the whole body as `message` where it did not either.
    ///
    /// `line` is the whole record; the format reads the header's message, except CEF, LEEF, Cisco
    /// and event XML, which find their own marker in the whole line (a relay's tag can swallow
    /// `CEF:`).
    static func event(
        line: UnsafeBufferPointer<UInt8>, header: SyslogMessage?, format: Sensor.Format, into fields: inout EventFields
    ) throws(LineFormatError) {
        let findsMarker = format == .cef || format == .leef || format == .cisco || format == .eventXML
        let body = header.map { findsMarker ? line : UnsafeBufferPointer(rebasing: line[$0.messageRange]) } ?? line
        fields.begin()
        try parse(body, as: format, into: &fields)
        if let header {
            if let host = header.hostname { fields.string("host", host) }
            if let app = header.appName { fields.string("app", app) }
            if let procID = header.procID { fields.string("procid", procID) }
            if let msgID = header.msgID { fields.string("msgid", msgID) }
            fields.number("facility", Int64(header.facility))
            fields.number("severity", Int64(header.severity))
            if let timestamp = header.timestamp { fields.number("timestamp", timestamp) }
        }
        fields.string("message", body)
        fields.end()
    }

    /// A line's syslog header, when the format may carry one and the line begins with one:
    /// `<PRI>` (RFC 5424 or 3164), or a BSD time stamp (`Dec  5 07:56:17 host app[pid]: ...`) as
    /// syslog servers write their files, read as if it came with `<13>` (user, notice).
    /// The message's range is within `line`.
    static func syslogHeader(_ line: UnsafeBufferPointer<UInt8>, format: Sensor.Format, now: Int64, scratch: inout [UInt8]) -> SyslogMessage? {
        guard format.mayCarrySyslogHeader, let first = line.first else { return nil }
        if first == UInt8(ascii: "<") {
            return try? SyslogParser.parse(line, now: now, text: format == .text)
        }
        guard line.count > 16, startsWithMonth(line), line[3] == 0x20 else { return nil }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: "<13>".utf8)
        scratch.append(contentsOf: line)
        let parsed = scratch.withUnsafeBufferPointer { try? SyslogParser.parse($0, now: now, text: format == .text) }
        guard var message = parsed, message.messageRange.lowerBound >= 4 else { return nil }
        message.messageRange = (message.messageRange.lowerBound - 4)..<(message.messageRange.upperBound - 4)
        return message
    }

    static func startsWithMonth(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return months.contains { line.prefix(3).elementsEqual($0.utf8) }
    }
}

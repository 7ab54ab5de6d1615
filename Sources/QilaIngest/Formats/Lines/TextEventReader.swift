public import QilaCore

/// Lines of a sensor's text format read into JSON events exactly as HTTP intake reads them: a
/// syslog header when the format may carry one, then the format's fields (plain `text` lines become
/// the syslog event, or `{"message": ...}` without a header). Intake's pipeline and `qila detect
/// --format` share it, so a file gives the same alerts offline as through a sensor.
public struct TextEventReader {
    public let format: Sensor.Format
    private var fields = EventFields()
    private var textEvent: [UInt8] = []
    private var scratch: [UInt8] = []

    public init(format: Sensor.Format) {
        self.format = format
    }

    /// The event of one line; `now` (milliseconds) fixes the year of a BSD time stamp. The bytes
    /// passed to `body` are valid until the next call.
    public mutating func withEvent<Result>(
        _ line: UnsafeBufferPointer<UInt8>, now: Int64, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) throws -> Result {
        let header = LineFormat.syslogHeader(line, format: format, now: now, scratch: &scratch)
        if format == .text, let header {
            SyslogEventWriter.write(header, into: &textEvent)
            return try textEvent.withUnsafeBufferPointer(body)
        }
        try LineFormat.event(line: line, header: header, format: format, into: &fields)
        return try fields.bytes.withUnsafeBufferPointer(body)
    }

    /// Whether the line reads, and why not.
    public mutating func check(_ line: UnsafeBufferPointer<UInt8>, now: Int64) throws(LineFormatError) {
        do {
            try withEvent(line, now: now) { _ in }
        } catch let error as LineFormatError {
            throw error
        } catch {
            // withEvent's body here cannot throw; only the format's own error reaches this point.
        }
    }
}

import Foundation
import Testing

@testable import QilaCore
@testable import QilaIngest

@Suite("Syslog: RFC 5424 and RFC 3164 messages, RFC 6587 framing")
struct SyslogTests {
    /// 2026-11-23T10:00:00Z.
    static let now: Int64 = 1_795_428_000_000

    func parse(_ text: String) throws -> SyslogMessage {
        try SyslogParser.parse(Array(text.utf8), now: Self.now)
    }

    @Test("The examples of RFC 5424 section 6.5 read as the RFC says")
    func rfc5424Examples() throws {
        let first = try parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{FEFF}'su root' failed for lonvick on /dev/pts/8")
        #expect(first.format == .rfc5424 && first.facility == 4 && first.severity == 2)
        #expect(first.timestamp == 1_065_910_455_003)
        #expect(first.hostname == "mymachine.example.com" && first.appName == "su" && first.procID == nil && first.msgID == "ID47")
        #expect(first.message == "'su root' failed for lonvick on /dev/pts/8")

        let second = try parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.")
        #expect(second.facility == 20 && second.severity == 5)
        #expect(second.timestamp == 1_061_727_255_000)
        #expect(second.procID == "8710" && second.msgID == nil && second.message == "%% It's time to make the do-nuts.")

        let third = try parse(
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event"#)
        #expect(third.structuredData.count == 2)
        #expect(third.structuredData[0].id == "exampleSDID@32473")
        #expect(third.structuredData[0].parameters.map(\.name) == ["iut", "eventSource", "eventID"])
        #expect(third.structuredData[0].parameters.map(\.value) == ["3", "Application", "1011"])
        #expect(third.structuredData[1].parameters.first?.value == "high")
        #expect(third.message == "An application event")

        let escaped = try parse(#"<14>1 - host app - - [meta x="a \"quoted\" \] \\ value"]"#)
        #expect(escaped.timestamp == nil && escaped.message == "")
        #expect(escaped.structuredData[0].parameters[0].value == #"a "quoted" ] \ value"#)
    }

    @Test("RFC 3164 messages: header, tag and PID; the year is the latest not in the future; headerless text kept")
    func rfc3164() throws {
        let message = try parse("<34>Oct 11 22:14:15 mymachine su[1234]: 'su root' failed for lonvick on /dev/pts/8")
        #expect(message.format == .rfc3164 && message.facility == 4 && message.severity == 2)
        #expect(message.hostname == "mymachine" && message.appName == "su" && message.procID == "1234")
        #expect(message.message == "'su root' failed for lonvick on /dev/pts/8")
        #expect(message.timestamp == 1_791_756_855_000)  // 2026-10-11T22:14:15Z
        // December seen in January is last year's December.
        let january: Int64 = 1_767_268_800_000  // 2026-01-01T12:00:00Z
        let december = try SyslogParser.parse(Array("<13>Dec 31 23:59:00 host app: late".utf8), now: january)
        #expect(december.timestamp == 1_767_225_540_000)  // 2025-12-31T23:59:00Z
        let single = try parse("<13>Nov  3 01:02:03 host cron: run")
        #expect(single.timestamp == 1_793_667_723_000 && single.appName == "cron")
        let bare = try parse("<13>just some text")
        #expect(bare.timestamp == nil && bare.hostname == nil && bare.message == "just some text")
    }

    @Test("Malformed messages are refused with the byte and the reason")
    func refusals() {
        func reason(_ text: String) -> String {
            do {
                _ = try SyslogParser.parse(Array(text.utf8), now: Self.now)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(reason("no priority") == "expected '<' and a priority (byte 0)")
        #expect(reason("<192>1 - - - - - -") == "the priority must be 0 to 191 (byte 4)")
        #expect(reason("<13>1 2026-13-01T00:00:00Z h a - - -").hasPrefix("the timestamp is not a real date and time"))
        #expect(reason("<13>1 2026-11-01T00:00:00 h a - - -").hasPrefix("the timestamp ends with Z or an offset"))
        #expect(reason(#"<13>1 - h a - - [id x="open"#).hasPrefix("the value of x is not closed"))
        #expect(reason("<13>1 - h a - - nodata").hasPrefix("STRUCTURED-DATA is '-' or [elements]"))
        #expect(reason("<13>1 - " + String(repeating: "h", count: 300) + " a - - -").hasPrefix("HOSTNAME is longer than 255 bytes"))
    }

    @Test("Framing: octet counting and line ends mixed on one stream, whatever the chunking")
    func framing() {
        let one = "<13>1 - h a - - - first"
        let stream = Array("\(one.utf8.count) \(one)<13>second line\r\n\n<13>third\n".utf8)
        var reference = SyslogFramer()
        reference.append(stream)
        var expected: [SyslogFramer.Frame] = []
        while let frame = reference.next() { expected.append(frame) }
        #expect(expected == [.message(Array(one.utf8)), .message(Array("<13>second line".utf8)), .message(Array("<13>third".utf8))])
        // Every split into two chunks, and byte by byte, gives the same frames.
        for cut in 0...stream.count {
            var framer = SyslogFramer()
            var frames: [SyslogFramer.Frame] = []
            framer.append(stream[..<cut])
            while let frame = framer.next() { frames.append(frame) }
            framer.append(stream[cut...])
            while let frame = framer.next() { frames.append(frame) }
            #expect(frames == expected, "split at \(cut)")
        }
        var slow = SyslogFramer()
        var frames: [SyslogFramer.Frame] = []
        for byte in stream {
            slow.append([byte])
            while let frame = slow.next() { frames.append(frame) }
        }
        #expect(frames == expected)
    }

    @Test("Oversized frames are refused and skipped; the stream goes on")
    func oversized() {
        var framer = SyslogFramer(maximum: 16)
        framer.append(Array("40 \(String(repeating: "x", count: 40))<13>ok\n".utf8))
        framer.append(Array("\(String(repeating: "y", count: 30))\n<13>after\n".utf8))
        var frames: [SyslogFramer.Frame] = []
        while let frame = framer.next() { frames.append(frame) }
        #expect(frames.count == 4)
        #expect(frames[0] == .refused("a message of 40 bytes is over the limit of 16"))
        #expect(frames[1] == .message(Array("<13>ok".utf8)))
        if case .refused = frames[2] {} else { Issue.record("the long line was not refused") }
        #expect(frames[3] == .message(Array("<13>after".utf8)))
        // A line that never ends is dropped as it grows, not held in memory.
        var endless = SyslogFramer(maximum: 16)
        endless.append([UInt8](repeating: 0x61, count: 100))
        #expect(endless.next() != nil)
        endless.append([UInt8](repeating: 0x61, count: 100))
        #expect(endless.next() == nil)
        #expect(endless.pending < 200)
        endless.append(Array("\n<13>back\n".utf8))
        #expect(endless.next() == .message(Array("<13>back".utf8)))
    }

    @Test("Random bytes never crash the framer or the parser, and the framer always consumes its input")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("<>0123456789 -[]=\"\\:TZ.+\n\r1abcOct".utf8) + [0x00, 0xEF, 0xBB, 0xBF, 0xFF]
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<200, using: &generator)
            let bytes = (0..<length).map { _ in Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator) }
            var framer = SyslogFramer(maximum: 64)
            framer.append(bytes)
            framer.append([0x0A])
            var count = 0
            while let frame = framer.next() {
                count += 1
                if case .message(let message) = frame { _ = try? SyslogParser.parse(message, now: Self.now) }
                if count > 1_000 { Issue.record("the framer does not progress"); break }
            }
            _ = try? SyslogParser.parse(bytes, now: Self.now)
            #expect(framer.pending <= 64 + 12)
        }
    }
}

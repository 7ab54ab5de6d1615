public import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import QilaCore

/// How Qila reaches the mail server (RFC 5321), from `smtp:` in qila.yaml.
public struct SMTPSettings: Sendable {
    public enum Security: String, Sendable {
        /// Plain SMTP: only to a relay on the same host or a trusted network.
        case none
        /// SMTP, then STARTTLS (RFC 3207) before anything else; refused if the server does not offer it.
        case startTLS = "starttls"
        /// TLS from the first byte (port 465).
        case tls
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    public var from: String
    /// The name Qila gives in EHLO.
    public var hello: String

    public init(host: String, port: Int = 587, security: Security = .startTLS, username: String? = nil, password: String? = nil, from: String, hello: String = "qila") {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.hello = hello
    }
}

/// Sends plain-text e-mail through one SMTP server: EHLO, STARTTLS when configured, AUTH PLAIN
/// when a user is set, then MAIL, RCPT, DATA with dot-stuffing. Each reply is checked; a refusal
/// names the command and the server's words (never the password).
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings
    public var timeout: TimeAmount = .seconds(20)

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public func send(to recipients: [String], subject: String, body: String, date: Date = Date()) async throws {
        guard !recipients.isEmpty else { return }
        for address in recipients + [settings.from] where address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) || !address.contains("@") {
            throw Failure(description: "'\(address.prefix(60))' is not an e-mail address")
        }
        let tlsContext = try NIOSSLContext(configuration: .makeClientConfiguration())
        let host = settings.host
        let implicitTLS = settings.security == .tls
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: host))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var reader = ReplyReader(iterator: inbound.makeAsyncIterator())
            func command(_ line: String?, expect codes: Set<Int>, _ what: String) async throws -> [String] {
                if let line { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                let (code, lines) = try await reader.reply()
                guard codes.contains(code) else {
                    throw Failure(description: "the mail server refused \(what): \(code) \(lines.last ?? "")")
                }
                return lines
            }
            _ = try await command(nil, expect: [220], "the connection")
            var features = try await command("EHLO \(settings.hello)", expect: [250], "EHLO")
            if settings.security == .startTLS {
                guard features.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw Failure(description: "the mail server does not offer STARTTLS; set smtp.security to tls or none")
                }
                _ = try await command("STARTTLS", expect: [220], "STARTTLS")
                try await channel.channel.pipeline.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: host), position: .first)
                features = try await command("EHLO \(settings.hello)", expect: [250], "EHLO after STARTTLS")
            }
            if let username = settings.username, let password = settings.password {
                guard features.contains(where: { $0.uppercased().hasPrefix("AUTH") && $0.uppercased().contains("PLAIN") }) else {
                    throw Failure(description: "the mail server does not offer AUTH PLAIN")
                }
                let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
                _ = try await command("AUTH PLAIN \(token)", expect: [235], "the user name and password")
            }
            _ = try await command("MAIL FROM:<\(settings.from)>", expect: [250], "the sender")
            for recipient in recipients { _ = try await command("RCPT TO:<\(recipient)>", expect: [250, 251], "the recipient") }
            _ = try await command("DATA", expect: [354], "DATA")
            try await outbound.write(ByteBuffer(string: Self.message(from: settings.from, to: recipients, subject: subject, body: body, date: date)))
            _ = try await command(".", expect: [250], "the message")
            _ = try? await command("QUIT", expect: [221], "QUIT")
        }
    }

    /// The message (RFC 5322), lines ending CRLF, dot-stuffed, subject encoded when not ASCII.
    static func message(from: String, to: [String], subject: String, body: String, date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let cleanSubject = subject.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let encodedSubject = cleanSubject.allSatisfy(\.isASCII) ? cleanSubject : "=?UTF-8?B?\(Data(cleanSubject.utf8).base64EncodedString())?="
        var lines = [
            "From: Qila <\(from)>", "To: \(to.joined(separator: ", "))", "Subject: \(encodedSubject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(from.split(separator: "@").last ?? "qila")>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
        ]
        for line in body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lines.append(line.hasPrefix(".") ? "." + line : String(line))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Reads multi-line replies (`250-...` then `250 ...`) from the byte stream.
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending: [UInt8] = []

        mutating func line() async throws -> String {
            while true {
                if let end = pending.firstIndex(of: 0x0A) {
                    var bytes = Array(pending[..<end])
                    pending.removeFirst(end + 1)
                    if bytes.last == 0x0D { bytes.removeLast() }
                    return String(decoding: bytes, as: UTF8.self)
                }
                guard pending.count < 8192, let buffer = try await iterator.next() else {
                    throw Failure(description: "the mail server closed the connection")
                }
                pending += buffer.readableBytesView
            }
        }

        mutating func reply() async throws -> (Int, [String]) {
            var lines: [String] = []
            while true {
                let text = try await line()
                guard text.utf8.count >= 3, let code = Int(text.prefix(3)) else { throw Failure(description: "the mail server said '\(text.prefix(60))'") }
                lines.append(String(text.dropFirst(4)))
                if text.utf8.count == 3 || text[text.index(text.startIndex, offsetBy: 3)] == " " { return (code, lines) }
            }
        }
    }
}

import Crypto
import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import QilaCases

/// A TCP server on loopback that answers each connection with `serve`, on its own thread.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let socket: Int32
    private let lock = NSLock()
    private var received: [String] = []

    init(serve: @escaping @Sendable (Int32) -> String) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else { throw TestError("cannot listen on loopback") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        socket = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                let transcript = serve(client)
                close(client)
                self?.record(transcript)
            }
        }
    }

    func record(_ text: String) {
        lock.lock()
        received.append(text)
        lock.unlock()
    }

    var transcripts: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    deinit { shutdown(socket, Int32(SHUT_RDWR)); close(socket) }

    static func readLine(_ client: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(client, &byte, 1) == 1 {
            if byte == 0x0A { return String(decoding: bytes.last == 0x0D ? bytes.dropLast() : bytes[...], as: UTF8.self) }
            bytes.append(byte)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    static func write(_ client: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(client, $0.baseAddress, $0.count) }
    }

    /// An HTTP receiver that records the request head and body and answers 200.
    static func http() throws -> LoopbackServer {
        try LoopbackServer { client in
            var head: [String] = []
            while let line = readLine(client), !line.isEmpty { head.append(line) }
            let length = head.first { $0.lowercased().hasPrefix("content-length:") }.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            var body = [UInt8](repeating: 0, count: length)
            var got = 0
            while got < length {
                let n = body.withUnsafeMutableBytes { read(client, $0.baseAddress! + got, length - got) }
                if n <= 0 { break }
                got += n
            }
            write(client, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return head.joined(separator: "\n") + "\n\n" + String(decoding: body, as: UTF8.self)
        }
    }

    /// An SMTP sink (RFC 5321): accepts every message and records the conversation.
    static func smtp() throws -> LoopbackServer {
        try LoopbackServer { client in
            var transcript: [String] = []
            write(client, "220 sink.test ESMTP\r\n")
            var inData = false
            while let line = readLine(client) {
                transcript.append(line)
                if inData {
                    if line == "." { inData = false; write(client, "250 2.0.0 queued\r\n") }
                    continue
                }
                let verb = line.prefix(4).uppercased()
                switch verb {
                case "EHLO": write(client, "250-sink.test\r\n250 8BITMIME\r\n")
                case "DATA": inData = true; write(client, "354 go ahead\r\n")
                case "QUIT": write(client, "221 bye\r\n"); return transcript.joined(separator: "\n")
                default: write(client, "250 ok\r\n")
                }
            }
            return transcript.joined(separator: "\n")
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("Case notifications: signed webhooks and e-mail through SMTP")
struct NotificationTests {
    @Test("Events reach the organisation's webhook, signed, and the right people by e-mail; failures are retried later")
    func delivery() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let installation = world.installation
        let store = installation.store
        for (name, email) in [("a-admin", "ciso@operator-a.example"), ("analyst", "soc@authority.example"), ("b-admin", "ciso@operator-b.example"), ("regulator", "desk@regulator.example")] {
            var user = world.users[name]!
            user.email = email
            try await store.updateUser(user)
        }
        let receiver = try LoopbackServer.http()
        let sink = try LoopbackServer.smtp()
        let secret = Array("a webhook secret of 32 bytes....".utf8)
        try await store.createWebhook(
            Webhook(organisation: world.operatorA.id, url: "http://127.0.0.1:\(receiver.port)/qila", sealedSecret: try installation.secrets.seal(secret), events: [],
                    createdAt: Date(), createdBy: world.users["a-admin"]!.id))
        // A webhook of Operator B hears nothing of A's cases; a dead one fails and is retried.
        try await store.createWebhook(
            Webhook(organisation: world.operatorB.id, url: "http://127.0.0.1:\(receiver.port)/b", sealedSecret: try installation.secrets.seal(secret), events: [],
                    createdAt: Date(), createdBy: world.users["b-admin"]!.id))
        try await store.createWebhook(
            Webhook(organisation: nil, url: "http://127.0.0.1:1/down", sealedSecret: try installation.secrets.seal(secret), events: ["case.submitted"],
                    createdAt: Date(), createdBy: world.users["admin"]!.id))
        let notifier = OutboxNotifier(store: store, logger: .init(label: "test"), emailEnabled: true, baseURL: "https://qila.example")
        let desk = CaseDesk(
            store: store, audit: installation.audit, regimes: try RegimeBook.load(folder: nil),
            attachments: AttachmentStore(store: installation.store), notifier: notifier, policy: installation.policy)
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let reporter = world.subject("a-admin")
        let incident = try await desk.open(.init(organisation: "", title: "Outage", awareness: RFC3339.format(Date().addingTimeInterval(-3600)), tlp: "green"), by: reporter, gate: gate)
        _ = try await desk.submit(incident.id, regime: "telecom", stage: "early-warning", values: CaseDeskTests.earlyWarning(), by: reporter, gate: gate)
        try await desk.requestInformation(incident.id, question: "Which sites?", dueDays: "2", by: world.subject("analyst"), gate: gate)

        let sender = NotificationSender(
            store: store, secrets: installation.secrets, smtp: SMTPSettings(host: "127.0.0.1", port: Int(sink.port), security: .none, from: "qila@authority.example"),
            logger: .init(label: "test"))
        // Deliveries are due from the moment they were queued (real time); only that order matters.
        let now = Date()
        let delivered = try await sender.deliverDue(now: now)
        // Webhook of A: 2 events; e-mail: submitted → analyst and regulator; request → A's admin. The dead hook fails.
        #expect(delivered == 5)
        try await Task.sleep(for: .milliseconds(200))
        let calls = receiver.transcripts
        #expect(calls.count == 2)
        #expect(!calls.contains { $0.contains("POST /b") })
        for call in calls {
            let parts = call.components(separatedBy: "\n\n")
            let head = parts[0].lowercased(), body = parts.dropFirst().joined(separator: "\n\n")
            let header = try #require(parts[0].split(separator: "\n").first { $0.lowercased().hasPrefix("qila-signature:") })
            let value = header.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            let stamp = value.split(separator: ",")[0].dropFirst(2)
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(stamp).\(body)".utf8), using: SymmetricKey(data: secret))
            #expect(value == "t=\(stamp),v1=\(Hex.encode(mac))")
            #expect(head.contains("qila-event: case."))
            #expect(body.contains(incident.number))
        }
        let mails = sink.transcripts
        #expect(mails.count == 3)
        let all = mails.joined(separator: "\n")
        #expect(all.contains("RCPT TO:<soc@authority.example>") && all.contains("RCPT TO:<desk@regulator.example>") && all.contains("RCPT TO:<ciso@operator-a.example>"))
        #expect(!all.contains("operator-b"))
        #expect(all.contains("Subject: [TLP:GREEN] \(incident.number)"))
        #expect(all.contains("https://qila.example/cases/\(incident.id)"))
        // The report's content never travels by e-mail.
        #expect(!all.contains("Ransomware on billing servers"))

        let outbox = try await store.outbox()
        let failed = try #require(outbox.first { $0.target != "" && $0.lastError != nil })
        #expect(failed.attempts == 1 && failed.deliveredAt == nil)
        #expect(failed.nextAttemptAt > now.addingTimeInterval(29))
        #expect(try await sender.deliverDue(now: now.addingTimeInterval(10)) == 0)
        #expect(try await sender.deliverDue(now: now.addingTimeInterval(31)) == 0)
        #expect(try await store.outbox().first { $0.id == failed.id }?.attempts == 2)
    }

    @Test("SMTP messages are dot-stuffed, CRLF, with an encoded subject when it is not ASCII")
    func messageFormat() {
        let text = SMTPClient.message(from: "qila@a.example", to: ["x@b.example"], subject: "Notice — late", body: "line\n.hidden\nend", date: Date(timeIntervalSince1970: 0))
        #expect(text.contains("Subject: =?UTF-8?B?"))
        #expect(text.contains("\r\n..hidden\r\n"))
        #expect(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
    }
}

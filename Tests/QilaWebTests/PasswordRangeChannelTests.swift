import Foundation
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import QilaAccess
import QilaPublic
import QilaTestSupport
import Testing
@testable import QilaWeb

@Suite("The password range API answered on the event loop: only what the router would answer alike, in order")
struct PasswordRangeChannelTests {
    static let range = PasswordRange(words: ["password", "qwerty"], breached: nil)
    static let password = PasswordRange.sha1("password")

    static func request(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: "127.0.0.1", path: path, headerFields: headers)
    }

    @Test("A GET of a good prefix is answered here, with the security headers, and never reaches the router")
    func answeredHere() throws {
        let channel = EmbeddedChannel(handler: PasswordRangeChannelHandler(range: Self.range, hsts: true))
        try channel.writeInbound(HTTPRequestPart.head(Self.request("/api/v1/public/passwords/range/" + Self.password.prefix(5).lowercased())))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self),
            case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self),
            case .end = try channel.readOutbound(as: HTTPResponsePart.self)
        else { Issue.record("no answer written"); return }
        #expect(head.status == .ok)
        #expect(String(buffer: body) == Self.password.dropFirst(5) + ":1\r\n")
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        #expect(head.headerFields[.contentSecurityPolicy] == SecurityHeaderValues.contentSecurityPolicy)
        #expect(head.headerFields[.strictTransportSecurity] != nil && head.headerFields[.cacheControl] == "public, max-age=3600")
        #expect(head.headerFields[.date].map { $0.hasSuffix(" GMT") && $0.count == 29 } == true)
        _ = try channel.finish()
    }

    @Test("Passed on: a bad prefix, another method, a closing connection, and anything while an earlier answer is pending", arguments: [
        ("/api/v1/public/passwords/range/5BAA", HTTPRequest.Method.get, false),
        ("/api/v1/public/passwords/range/5BAAG", .get, false),
        ("/api/v1/public/passwords/range/5BAA6", .head, false),
        ("/api/v1/public/passwords/range/5BAA6", .post, false),
        ("/api/v1/public/passwords/range/5BAA6", .get, true),
        ("/public/", .get, false),
    ])
    func passedOn(path: String, method: HTTPRequest.Method, closing: Bool) throws {
        let channel = EmbeddedChannel(handler: PasswordRangeChannelHandler(range: Self.range, hsts: false))
        let headers: HTTPFields = closing ? [.connection: "close"] : [:]
        try channel.writeInbound(HTTPRequestPart.head(Self.request(path, method: method, headers: headers)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        guard case .head(let passed) = try channel.readInbound(as: HTTPRequestPart.self) else { Issue.record("not passed on"); return }
        #expect(passed.path == path)
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
        _ = try channel.finish()
    }

    @Test("While the router still answers an earlier request, a range request waits its turn with the router")
    func pipelined() throws {
        let channel = EmbeddedChannel(handler: PasswordRangeChannelHandler(range: Self.range, hsts: false))
        let good = "/api/v1/public/passwords/range/" + Self.password.prefix(5)
        try channel.writeInbound(HTTPRequestPart.head(Self.request("/healthz")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeInbound(HTTPRequestPart.head(Self.request(good)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        // Both went to the router, in order.
        var paths: [String] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) { if case .head(let request) = part { paths.append(request.path ?? "") } }
        #expect(paths == ["/healthz", good])
        // Once the router's two answers have ended, the next one is answered here.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        try channel.writeInbound(HTTPRequestPart.head(Self.request(good)))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "a body sent with a GET is dropped")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else { Issue.record("not answered here"); return }
        #expect(head.status == .ok)
        _ = try channel.finish()
    }

    /// The responses of an HTTP/1.1 exchange, one after another by their Content-Length.
    static func responses(_ text: String) -> [(status: String, head: String, body: String)] {
        var bytes = Substring(text).utf8[...]
        var result: [(status: String, head: String, body: String)] = []
        while let end = String(Substring(bytes)).range(of: "\r\n\r\n") {
            let all = String(Substring(bytes))
            let head = String(all[..<end.lowerBound])
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            let rest = all[end.upperBound...].utf8
            let body = String(decoding: rest.prefix(length), as: UTF8.self)
            result.append((head.components(separatedBy: "\r\n").first ?? "", head, body))
            bytes = Substring(rest.dropFirst(length)).utf8[...]
        }
        return result
    }

    @Test("On a live socket, pipelined requests get their answers in order, the range ones alike from either path")
    func liveSocket() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let live = try await LiveServer.start(world.installation)
        let prefix = String(Self.password.prefix(5))
        func get(_ path: String, closing: Bool = false) -> String {
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (closing ? "Connection: close\r\n" : "") + "\r\n"
        }
        let connection = try LoopbackConnection(port: live.port)
        // One write: the router's health check first, so the range requests behind it are pipelined.
        connection.write(
            get("/healthz") + get("/api/v1/public/passwords/range/\(prefix)") + get("/api/v1/public/passwords/range/ZZZZZ")
                + get("/api/v1/public/passwords/range/\(prefix)") + get("/api/v1/public/passwords/range/\(prefix.lowercased())", closing: true))
        let answers = await connection.readUntilClosed()
        let responses = Self.responses(answers)
        #expect(responses.map(\.status) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
        let line = String(Self.password.dropFirst(5)) + ":1\r\n"
        #expect(responses.map(\.body) == ["ok\n", line, responses[2].body, line, line])
        #expect(responses[2].body.contains("five hexadecimal digits"))
        #expect(responses.allSatisfy { $0.head.contains("Content-Security-Policy: ") && $0.head.contains("Date: ") })

        // And a keep-alive connection asking only the range API, answered on the event loop.
        let keepAlive = try LoopbackConnection(port: live.port)
        keepAlive.write(get("/api/v1/public/passwords/range/\(prefix)") + get("/api/v1/public/passwords/range/\(prefix)", closing: true))
        let both = Self.responses(await keepAlive.readUntilClosed())
        #expect(both.map(\.status) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"] && both.map(\.body) == [line, line])
        await live.stop()
    }
}

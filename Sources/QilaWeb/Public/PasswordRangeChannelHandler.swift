import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import QilaPublic

/// Hummingbird's HTTP/1.1 channel with the password range handler placed just before the requests
/// are handed to the router's tasks: after the connection-state handler, which then sees every
/// request and answer and keeps its idle timeout and graceful shutdown right.
struct RangeAnsweringHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let range: PasswordRange
    let hsts: Bool

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let state = try operations.handler(type: HTTPConnectionStateHandler.self)
            try operations.addHandler(PasswordRangeChannelHandler(range: range, hsts: hsts), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Answers the password range API on the connection's own event loop, before the request reaches
/// Hummingbird's router: the range API is what a crowd checking passwords after a national alert
/// hits, and passing each of its requests to a task on the cooperative pool and back cost more
/// than writing the answer (decision 0027).
///
/// Only what the router would answer identically is taken here: a GET of a well-formed prefix on
/// a connection that stays open, with no earlier request still being answered by the router (so a
/// pipelining client gets its answers in order). Everything else, including a bad prefix's 400,
/// goes on to the router, whose `PortalFastPath` answers the same way.
final class PasswordRangeChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let range: PasswordRange
    /// Requests passed on to the router whose answers have not ended yet.
    private var passedOn = 0
    /// The answer to write once the request taken here has ended.
    private var answer: (HTTPFields, ByteBuffer)?
    /// The Date header's value and the second it names, formatted again when the second changes.
    private var date: (second: Int, text: String) = (-1, "")

    /// The answers' headers but their length and date, made once for the connection.
    private let unpaddedHeaders: HTTPFields
    private let paddedHeaders: HTTPFields

    init(range: PasswordRange, hsts: Bool) {
        self.range = range
        unpaddedHeaders = Self.headers(padding: false, hsts: hsts)
        paddedHeaders = Self.headers(padding: true, hsts: hsts)
    }

    private static func headers(padding: Bool, hsts: Bool) -> HTTPFields {
        var headers = PasswordRangeRoutes.headers(padding: padding)
        SecurityHeaderValues.apply(to: &headers, hsts: hsts)
        headers[.server] = "qila"
        return headers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if passedOn == 0, answer == nil, let prefix = Self.prefix(request) {
                PortalFastPath.served.increment()
                let padding = request.headerFields[PasswordRangeRoutes.addPadding]?.lowercased() == "true"
                let body = PasswordRangeRoutes.body(range, prefix: prefix, padding: padding)
                var headers = padding ? paddedHeaders : unpaddedHeaders
                headers[.contentLength] = String(body.readableBytes)
                headers[.date] = currentDate()
                answer = (headers, body)
                return
            }
            passedOn += 1
            context.fireChannelRead(data)
        case .body:
            // A body sent with a GET taken here is read and dropped.
            if answer == nil { context.fireChannelRead(data) }
        case .end:
            guard let (headers, body) = answer else { return context.fireChannelRead(data) }
            answer = nil
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedOn = max(0, passedOn - 1) }
        context.write(data, promise: promise)
    }

    private func currentDate() -> String {
        let second = time(nil)
        if second != date.second { date = (second, HTTPDate.format(second)) }
        return date.text
    }

    /// The checked prefix when the request is one this handler answers.
    static func prefix(_ request: HTTPRequest) -> String? {
        guard request.method == .get, let path = request.path, path.hasPrefix(PortalFastPath.rangePrefix),
            !(request.headerFields[.connection]?.lowercased().contains("close") ?? false)
        else { return nil }
        let rest = path.dropFirst(PortalFastPath.rangePrefix.count)
        return PasswordRange.prefix(String(rest.prefix { $0 != "?" }))
    }
}

/// The Date header's value: RFC 9110's IMF-fixdate, such as `Sat, 05 Dec 2026 00:31:59 GMT`.
enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ second: Int) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

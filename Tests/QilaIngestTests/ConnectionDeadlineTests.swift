import NIOCore
import NIOEmbedded
import QilaIngest
import Testing

@Suite("Connection deadlines")
struct ConnectionDeadlineTests {
    enum Request { case head, body, end }
    enum Reply { case head, end }

    func channel() throws -> EmbeddedChannel {
        let deadline = ConnectionDeadline<Request, Reply>(
            limiter: ConnectionLimiter(perSource: 4), deadline: .seconds(5),
            progress: { part in
                if case .head = part { return .met }
                return .none
            },
            replied: { part in
                if case .end = part { return .rearm }
                return .none
            })
        let channel = EmbeddedChannel(handler: deadline)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    @Test("A head that does not arrive in time closes the connection")
    func slowHead() throws {
        let channel = try channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test("A request the server takes longer than the deadline to answer is not cut; the wait for the next head starts at the reply's end")
    func slowAnswer() throws {
        let channel = try channel()
        try channel.writeInbound(Request.head)
        try channel.writeInbound(Request.body)
        try channel.writeInbound(Request.end)
        // The server works for a minute: the connection stays open.
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        try channel.writeOutbound(Reply.head)
        try channel.writeOutbound(Reply.end)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }
}

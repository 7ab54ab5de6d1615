public import NIOCore
import Synchronization

/// Counts open connections per source address across one listener (or the web server), so that
/// one address cannot take every connection slot: a slow or stuck sender holds at most
/// `perSource` of them, and only until its deadline.
public final class ConnectionLimiter: Sendable {
    public let perSource: Int
    private let open = Mutex<[String: Int]>([:])

    /// `perSource` 0 means no limit.
    public init(perSource: Int) { self.perSource = perSource }

    /// Takes a slot for `source`; false when it already holds `perSource`.
    func admit(_ source: String) -> Bool {
        open.withLock { counts in
            let held = counts[source, default: 0]
            guard perSource == 0 || held < perSource else { return false }
            counts[source] = held + 1
            return true
        }
    }

    func release(_ source: String) {
        open.withLock { counts in
            let held = counts[source, default: 0] - 1
            counts[source] = held > 0 ? held : nil
        }
    }

    /// Connections held by `source` now (for tests and health).
    public func held(by source: String) -> Int { open.withLock { $0[source, default: 0] } }
}

/// In a connection's pipeline: takes a slot from the limiter or closes at once, and closes the
/// connection when its deadline passes with no progress. What counts as progress is told by
/// `progress` for each part read: a request head (HTTP, where slow headers are the attack), or any
/// bytes (syslog, where the deadline is an idle timeout). The slot is given back at the close.
public final class ConnectionDeadline<Part>: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = Part
    public typealias InboundOut = Part

    public enum Progress: Sendable {
        /// Nothing that ends the wait.
        case none
        /// The awaited part came: no deadline until `rearm`.
        case met
        /// Start the deadline again.
        case rearm
    }

    private let limiter: ConnectionLimiter
    private let deadline: TimeAmount?
    private let progress: @Sendable (Part) -> Progress
    private var source: String?
    private var timer: Scheduled<Void>?

    /// `deadline` nil: only the limit applies.
    public init(limiter: ConnectionLimiter, deadline: TimeAmount?, progress: @escaping @Sendable (Part) -> Progress) {
        self.limiter = limiter
        self.deadline = deadline
        self.progress = progress
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        if source == nil { start(context) }
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard source == nil else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.admit(address) else {
            source = ""
            context.close(promise: nil)
            return
        }
        source = address
        arm(context)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        guard let deadline else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch progress(unwrapInboundIn(data)) {
        case .none: break
        case .met:
            timer?.cancel()
            timer = nil
        case .rearm: arm(context)
        }
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if let source, !source.isEmpty { limiter.release(source) }
        source = ""
        context.fireChannelInactive()
    }
}

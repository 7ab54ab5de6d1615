import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Receives RADIUS accounting (RFC 2866) over UDP from registered network access servers and
/// records the address assignments they report. A request is answered only after its
/// assignment is on disk: a server that gets no answer sends again, so nothing acknowledged is
/// lost. Requests from unknown clients or with a wrong authenticator are counted and dropped.
public final class RadiusListener: @unchecked Sendable {
    public struct Client: Sendable, Hashable {
        public var address: FlowAddress
        public var secret: [UInt8]
        public var organisation: String

        public init(address: FlowAddress, secret: [UInt8], organisation: String) {
            self.address = address
            self.secret = secret
            self.organisation = organisation
        }
    }

    public struct Counters: Sendable, Hashable {
        public var requests = 0
        public var recorded = 0
        /// Accounting-on/off and sessions without an address: answered, nothing to record.
        public var ignored = 0
        public var malformed = 0
        public var badAuthenticator = 0
        /// Not answered because the assignment could not be stored (the server will resend).
        public var unstored = 0
        public var lastSeen: Int64?
        public var lastError: String?
    }

    public let registry: SubscriberRegistry
    private let lock = NSLock()
    private var clients: [FlowAddress: Client]
    private var counters: [FlowAddress: Counters] = [:]
    private var unknown: [FlowAddress: Int] = [:]
    /// Bound sockets and their ports (guarded by `lock`).
    private var sockets: [(fd: Int32, port: UInt16)] = []
    /// Receiving threads still running (guarded by `finished`).
    private var threads = 0
    private let finished = NSCondition()

    public init(registry: SubscriberRegistry, clients: [Client]) {
        self.registry = registry
        self.clients = Dictionary(clients.map { ($0.address, $0) }, uniquingKeysWith: { $1 })
    }

    public func replaceClients(_ clients: [Client]) {
        lock.lock()
        self.clients = Dictionary(clients.map { ($0.address, $0) }, uniquingKeysWith: { $1 })
        lock.unlock()
    }

    public var currentCounters: (clients: [FlowAddress: Counters], unknown: [FlowAddress: Int]) {
        lock.lock()
        defer { lock.unlock() }
        return (counters, unknown)
    }

    /// The UDP ports the listener receives on.
    public var boundPorts: [UInt16] {
        lock.lock()
        defer { lock.unlock() }
        return sockets.map(\.port)
    }

    @discardableResult
    public func listen(host: String, port: UInt16) throws -> UInt16 {
        let (fd, bound) = try UDPSocket.bind(host: host, port: port, receiveBuffer: 4 << 20)
        lock.lock()
        sockets.append((fd, bound))
        lock.unlock()
        finished.lock()
        threads += 1
        finished.unlock()
        let thread = Thread { [self] in receive(fd) }
        thread.name = "qila-radius-receive"
        thread.start()
        return bound
    }

    /// Stops receiving and waits for the receiving threads to end: each socket is shut down for
    /// reading, which wakes its thread.
    public func stop() {
        lock.lock()
        for socket in sockets { _ = shutdown(socket.fd, Int32(SHUT_RD)) }
        sockets.removeAll()
        lock.unlock()
        finished.lock()
        while threads > 0 { finished.wait() }
        finished.unlock()
    }

    private func receive(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var name = sockaddr_storage()
        while true {
            var nameLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &name) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, 4096, 0, $0, &nameLength) } }
            }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                break
            }
            // After shutdown(SHUT_RD) the kernel answers at once with no datagram and no sender.
            if n == 0 && nameLength == 0 { break }
            let from = withUnsafePointer(to: &name) { UDPSocket.address($0) }
            lock.lock()
            let client = clients[from]
            if client == nil { unknown[from, default: 0] += 1 }
            lock.unlock()
            guard let client else { continue }
            let now = FlowCollector.now()
            var update = Counters()
            update.requests = 1
            do {
                let request = try RadiusAccounting.decode(Array(buffer[0..<n]), secret: client.secret)
                if let event = request.event(received: now) {
                    do {
                        try registry.record([event], organisation: client.organisation)
                        update.recorded = 1
                    } catch {
                        update.unstored = 1
                        update.lastError = "\(error)"
                        record(update, for: from, at: now)
                        continue
                    }
                } else {
                    update.ignored = 1
                }
                let response = RadiusAccounting.response(to: request, secret: client.secret)
                _ = response.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &name) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, nameLength) } }
                }
            } catch .badAuthenticator {
                update.badAuthenticator = 1
            } catch {
                update.malformed = 1
                update.lastError = error.description
            }
            record(update, for: from, at: now)
        }
        close(fd)
        finished.lock()
        threads -= 1
        finished.signal()
        finished.unlock()
    }

    private func record(_ update: Counters, for client: FlowAddress, at now: Int64) {
        lock.lock()
        var current = counters[client] ?? Counters()
        current.requests += update.requests
        current.recorded += update.recorded
        current.ignored += update.ignored
        current.malformed += update.malformed
        current.badAuthenticator += update.badAuthenticator
        current.unstored += update.unstored
        current.lastSeen = now
        if let error = update.lastError { current.lastError = error }
        counters[client] = current
        lock.unlock()
    }
}

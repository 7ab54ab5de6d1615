import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The socket calls the UDP listeners share (flow collection, RADIUS accounting).
enum UDPSocket {
    /// Opens a UDP socket bound to `host:port` (an IPv4 or IPv6 literal), with a receive buffer of
    /// `receiveBuffer` bytes and, when given, a receive timeout in microseconds (a receive that
    /// waited that long fails with EAGAIN). Returns the descriptor and the bound port (useful
    /// with port 0). Receiving threads are stopped by shutting the socket down for reading.
    static func bind(host: String, port: UInt16, receiveBuffer: Int32, timeout: Int? = nil) throws(FlowSegment.Failure) -> (fd: Int32, port: UInt16) {
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io("cannot open a socket for", path: "\(host):\(port)", errno: errno) }
        var size = receiveBuffer
        // SO_RCVBUF is capped at net.core.rmem_max (4 MiB by default); SO_RCVBUFFORCE is not, but
        // needs CAP_NET_ADMIN. Forced last: the other, set after it, would cut it back to the cap.
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        if let timeout {
            var interval = timeval(tv_sec: timeout / 1_000_000, tv_usec: timeout % 1_000_000)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        }
        do {
            let bound = v6
                ? try bind(fd, sockaddr_in6(), host, port) { $0.sin6_family = sa_family_t(AF_INET6); $0.sin6_port = port.bigEndian; return inet_pton(AF_INET6, host, &$0.sin6_addr) == 1 } port: { UInt16(bigEndian: $0.sin6_port) }
                : try bind(fd, sockaddr_in(), host, port) { $0.sin_family = sa_family_t(AF_INET); $0.sin_port = port.bigEndian; return inet_pton(AF_INET, host, &$0.sin_addr) == 1 } port: { UInt16(bigEndian: $0.sin_port) }
            return (fd, bound)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Fills in a socket address of either family, binds `fd` to it and returns the bound port.
    private static func bind<Address>(
        _ fd: Int32, _ empty: Address, _ host: String, _ port: UInt16, fill: (inout Address) -> Bool, port boundPort: (Address) -> UInt16
    ) throws(FlowSegment.Failure) -> UInt16 {
        var address = empty
        guard fill(&address) else { throw .damaged("not an IP address", path: host) }
        var length = socklen_t(MemoryLayout<Address>.size)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
        guard result == 0 else { throw .io("cannot bind", path: "\(host):\(port)", errno: errno) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return boundPort(address)
    }

    /// The receive queue the kernel granted `fd`, in bytes of payload: the kernel reports twice
    /// what was asked, the other half being its bookkeeping for each datagram.
    static func receiveQueue(_ fd: Int32) -> Int {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length) == 0 else { return 0 }
        return Int(size) / 2
    }

    static func address(_ storage: UnsafePointer<sockaddr_storage>) -> FlowAddress {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            return storage.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { FlowAddress(ipv4: UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
        case AF_INET6:
            return storage.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { raw in
                    var high: UInt64 = 0
                    var low: UInt64 = 0
                    for i in 0..<8 { high = high << 8 | UInt64(raw[i]) }
                    for i in 8..<16 { low = low << 8 | UInt64(raw[i]) }
                    return FlowAddress(high: high, low: low)
                }
            }
        default:
            return .zero
        }
    }
}

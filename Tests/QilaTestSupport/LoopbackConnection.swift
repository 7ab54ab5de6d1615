import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public struct LoopbackError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A plain TCP connection from a chosen loopback address, for tests that hold connections open.
public final class LoopbackConnection: @unchecked Sendable {
    public let descriptor: Int32

    /// Connects from `source` (any 127.x address is this machine) to 127.0.0.1:`port`.
    public init(port: Int, from source: String = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackError("no socket") }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LoopbackError("cannot bind to \(source)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw LoopbackError("cannot connect to port \(port)") }
    }

    deinit { close(descriptor) }

    /// Writes `bytes` until done, or until the peer has not read for `seconds`.
    public func writeAll(_ bytes: [UInt8], giveUpAfter seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            offset += sent
        }
    }

    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes (or the 120-second safety bound passes); on its own thread, so
    /// that waiting does not hold up the server's tasks.
    public func readUntilClosed() async -> String {
        await read().text
    }

    /// What was read, and whether the peer closed (false: the safety bound passed first).
    public func read() async -> (text: String, closedByPeer: Bool) {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                var answer: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                var closed = false
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count == 0 || (count < 0 && errno == ECONNRESET) { closed = true }
                    if count <= 0 { break }
                    answer.append(contentsOf: buffer[0..<count])
                }
                continuation.resume(returning: (String(decoding: answer, as: UTF8.self), closed))
            }.start()
        }
    }
}

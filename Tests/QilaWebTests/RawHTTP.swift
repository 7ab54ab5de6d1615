import Foundation
import QilaTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Sends bytes to a live test server over a plain socket and reads the answer until the server
/// closes: for what a well-behaved client cannot send (a forged Host, chunked framing).
enum RawHTTP {
    /// On a thread of its own: blocking the test's cooperative thread would starve the server
    /// under test, whose handlers run on the same small pool.
    static func exchange(port: Int, _ request: [UInt8]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try blockingExchange(port: port, request) }) }
            thread.start()
        }
    }

    static func blockingExchange(port: Int, _ request: [UInt8]) throws -> String {
        let connection = try LoopbackConnection(port: port)
        // The server may answer 413 and stop reading before the body ends: stop writing then.
        connection.writeAll(request, giveUpAfter: 10)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !isComplete(answer) {
            let count = recv(connection.descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// Whether `answer` holds a whole response: the head, and as many body bytes as it announces.
    static func isComplete(_ answer: [UInt8]) -> Bool {
        let text = String(decoding: answer, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }

    /// A request with `Connection: close`, so that the server closes after answering.
    static func request(_ method: String, _ path: String, host: String, headers: [String] = [], body: [UInt8] = []) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// A body in chunked framing, in pieces of `size` bytes.
    static func chunked(_ body: [UInt8], size: Int = 65_536) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < body.count {
            let piece = body[index..<min(body.count, index + size)]
            out += Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + Array("\r\n".utf8)
            index += size
        }
        return out + Array("0\r\n\r\n".utf8)
    }
}

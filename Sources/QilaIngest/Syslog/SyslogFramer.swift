#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Splits a syslog TCP stream into messages (RFC 6587): octet counting (`LEN SP MSG`) when a frame
/// starts with a digit, otherwise non-transparent framing ending at LF (a trailing CR is dropped).
/// Senders mix both on one connection, so the choice is made per frame. A message over `maximum`
/// bytes is reported and skipped whole, and the stream goes on with the next frame.
public struct SyslogFramer: Sendable {
    public enum Frame: Sendable, Hashable {
        case message([UInt8])
        /// A frame that was refused, and why; the stream continues after it.
        case refused(String)
    }

    public let maximum: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes still to drop of an oversized message.
    private var skipping = 0
    /// Dropping an oversized newline-framed message up to its LF.
    private var skippingLine = false

    public init(maximum: Int = 64 * 1024) {
        self.maximum = maximum
    }

    /// Bytes held waiting for the rest of a frame.
    public var pending: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Where a frame is, for readers that copy it straight on (the listeners): a range into
    /// `bytes`, valid until the next call.
    public enum Located: Sendable, Hashable {
        case message(Range<Int>)
        case refused(String)
    }

    /// The buffered bytes `Located.message` ranges point into.
    public var bytes: [UInt8] { buffer }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> Frame? {
        switch nextLocated() {
        case .message(let range)?: .message(Array(buffer[range]))
        case .refused(let reason)?: .refused(reason)
        case nil: nil
        }
    }

    /// The first line end at or after `from`, found with memchr.
    private func lineEnd(from: Int) -> Int? {
        guard from < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { all -> Int? in
            guard let found = memchr(all.baseAddress! + from, 0x0A, all.count - from) else { return nil }
            return all.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// As `next()`, without copying the message.
    public mutating func nextLocated() -> Located? {
        while true {
            if skipping > 0 {
                let drop = min(skipping, buffer.count - start)
                start += drop
                skipping -= drop
                if skipping > 0 { compact(); return nil }
            }
            if skippingLine {
                guard let newline = lineEnd(from: start) else { start = buffer.count; compact(); return nil }
                start = newline + 1
                skippingLine = false
            }
            // Blank lines between frames mean nothing.
            while start < buffer.count, buffer[start] == 0x0A || buffer[start] == 0x0D || buffer[start] == 0x00 { start += 1 }
            guard start < buffer.count else { compact(); return nil }
            if (0x31...0x39).contains(buffer[start]) {
                var length = 0
                var index = start
                while index < buffer.count, (0x30...0x39).contains(buffer[index]), index - start < 10 {
                    length = length * 10 + Int(buffer[index] - 0x30)
                    index += 1
                }
                guard index < buffer.count else {
                    if index - start >= 10 { return refuseLine("an octet count of more than 9 digits") }
                    return nil
                }
                guard buffer[index] == 0x20 else { return refuseLine("an octet count must be followed by a space") }
                let body = index + 1
                if length > maximum {
                    start = body
                    skipping = length
                    return .refused("a message of \(length) bytes is over the limit of \(maximum)")
                }
                guard buffer.count - body >= length else { compact(); return nil }
                start = body + length
                return .message(body..<(body + length))
            }
            guard let newline = lineEnd(from: start) else {
                if buffer.count - start > maximum {
                    start = buffer.count
                    skippingLine = true
                    compact()
                    return .refused("a line of more than \(maximum) bytes is over the limit")
                }
                compact()
                return nil
            }
            var end = newline
            if end > start && buffer[end - 1] == 0x0D { end -= 1 }
            let length = end - start
            let message = start..<end
            start = newline + 1
            if length > maximum { return .refused("a line of \(length) bytes is over the limit of \(maximum)") }
            return .message(message)
        }
    }

    private mutating func refuseLine(_ reason: String) -> Located {
        // Resynchronise at the next line end.
        if let newline = lineEnd(from: start) {
            start = newline + 1
        } else {
            start = buffer.count
            skippingLine = true
        }
        compact()
        return .refused(reason)
    }

    private mutating func compact() {
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
    }
}

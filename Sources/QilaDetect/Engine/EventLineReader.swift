import CompressNIO
import Foundation
import NIOCore

/// Reads a file of JSON lines, plain or gzip-compressed (recognised by its first bytes), in
/// fixed-size chunks: memory stays bounded whatever the file's size, and a line longer than
/// the limit is reported and skipped without being held.
public final class EventLineReader {
    public let path: String
    public let maximumLineLength: Int
    /// Bytes of the file read so far and its size, for progress.
    public private(set) var fileBytesRead = 0
    public let fileSize: Int

    private let handle: FileHandle
    private let chunkSize = 1 << 20

    public init(path: String, maximumLineLength: Int = 1 << 20) throws {
        self.path = path
        self.maximumLineLength = maximumLineLength
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SigmaError("cannot open the file for reading", file: path)
        }
        self.handle = handle
        fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    deinit { try? handle.close() }

    /// Calls `body` with each non-empty line's number (from 1) and its bytes without the line
    /// ending, or the reason it cannot be read.
    public func forEachLine(_ body: (Int, Result<UnsafeBufferPointer<UInt8>, EventError>) throws -> Void) throws {
        var pending: [UInt8] = []
        pending.reserveCapacity(chunkSize * 2)
        var number = 0
        var skippingLongLine = false

        func consume(_ chunk: UnsafeBufferPointer<UInt8>, final: Bool) throws {
            var start = 0
            while start < chunk.count || (final && !pending.isEmpty) {
                var newline: Int? = nil
                if start < chunk.count, let base = chunk.baseAddress, let found = memchr(base + start, 0x0A, chunk.count - start) {
                    newline = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                }
                guard let end = newline ?? (final ? chunk.count : nil) else {
                    // No end of line in this chunk: keep the rest, unless the line is already too long.
                    if !skippingLongLine {
                        pending.append(contentsOf: chunk[start...])
                        if pending.count > maximumLineLength {
                            number += 1
                            skippingLongLine = true
                            pending.removeAll(keepingCapacity: true)
                            try body(number, .failure(tooLong()))
                        }
                    }
                    return
                }
                if skippingLongLine {
                    skippingLongLine = false
                } else {
                    number += 1
                    if pending.isEmpty {
                        try emit(UnsafeBufferPointer(rebasing: chunk[start..<end]))
                    } else {
                        pending.append(contentsOf: chunk[start..<end])
                        let line = pending
                        pending.removeAll(keepingCapacity: true)
                        try line.withUnsafeBufferPointer { try emit($0) }
                    }
                }
                start = end + 1
                if newline == nil { break }
            }
        }

        func emit(_ raw: UnsafeBufferPointer<UInt8>) throws {
            var line = raw
            if let last = line.last, last == UInt8(ascii: "\r") { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                return
            }
            if line.count > maximumLineLength {
                try body(number, .failure(tooLong()))
            } else {
                try body(number, .success(line))
            }
        }

        // One buffer for the whole file, filled by read(2): no allocation (and no fresh pages
        // for the kernel to clear) per chunk.
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        defer { buffer.deallocate() }
        var filled = try fill(buffer)
        if filled >= 2, buffer[0] == 0x1F, buffer[1] == 0x8B {
            let decompressor = CompressionAlgorithm.gzip().decompressor
            try decompressor.startStream()
            var input = ByteBuffer(bytes: UnsafeBufferPointer(rebasing: buffer[..<filled]))
            var output = ByteBuffer()
            output.reserveCapacity(chunkSize)
            var truncated = false
            while true {
                var streamEnded = false
                do {
                    try decompressor.streamInflate(from: &input, to: &output)
                    streamEnded = true
                    truncated = false
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    truncated = false  // output full: hand it on and go on
                } catch let error as CompressNIOError where error == .inputBufferOverflow {
                    truncated = true  // needs more input
                } catch {
                    throw SigmaError("not a valid gzip stream after line \(number): \(error)", file: path)
                }
                try output.withUnsafeReadableBytes { try consume($0.bindMemory(to: UInt8.self), final: false) }
                output.clear()
                if streamEnded, input.readableBytes > 0 {
                    // Concatenated members, as `cat a.gz b.gz` makes.
                    try decompressor.resetStream()
                    continue
                }
                if input.readableBytes == 0 {
                    filled = try fill(buffer)
                    guard filled > 0 else { break }
                    input.discardReadBytes()
                    input.writeBytes(UnsafeBufferPointer(rebasing: buffer[..<filled]))
                }
            }
            if !truncated {
                // An ended stream answers a further byte with "stream end" and leaves it unread;
                // one that was cut short takes it (or fails).
                var probe = ByteBuffer(bytes: [0])
                var scratch = ByteBuffer()
                scratch.reserveCapacity(64)
                do {
                    try decompressor.streamInflate(from: &probe, to: &scratch)
                    truncated = probe.readableBytes != 1
                } catch {
                    truncated = true
                }
            }
            try decompressor.finishStream()
            if truncated {
                try consume(UnsafeBufferPointer(start: nil, count: 0), final: true)
                throw SigmaError("the gzip stream ends early (truncated file?) after line \(number)", file: path)
            }
        } else {
            while filled > 0 {
                try consume(UnsafeBufferPointer(rebasing: buffer[..<filled]), final: false)
                filled = try fill(buffer)
            }
        }
        try consume(UnsafeBufferPointer(start: nil, count: 0), final: true)
    }

    /// Reads up to the buffer's size (less only at the end of the file); 0 at the end.
    private func fill(_ buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        var total = 0
        while total < buffer.count {
            let count = read(handle.fileDescriptor, buffer.baseAddress! + total, buffer.count - total)
            if count < 0 {
                if errno == EINTR { continue }
                throw SigmaError("cannot read the file: \(String(cString: strerror(errno)))", file: path)
            }
            if count == 0 { break }
            total += count
        }
        fileBytesRead += total
        return total
    }

    private func tooLong() -> EventError {
        EventError(kind: .tooLarge, offset: maximumLineLength, detail: "a line may have at most \(maximumLineLength) bytes")
    }

    /// Every line as a string (small files and tests).
    public func lines() throws -> [String] {
        var lines: [String] = []
        try forEachLine { _, line in
            if case .success(let bytes) = line { lines.append(String(decoding: bytes, as: UTF8.self)) }
        }
        return lines
    }
}

import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The intake journal: every entry intake accepts is appended here and made durable (written
/// and `fdatasync`ed) before it is acknowledged or processed, so that a crash at any moment loses
/// nothing that was acknowledged; after a restart the entries not yet committed by the pipeline
/// are read again.
///
/// Entries go to segment files (`<start position>.journal`) in one directory; a position is the
/// byte offset across all segments. Appends are collected by one writer thread and written
/// together with one sync (group commit), so a busy journal syncs no more often than a quiet one.
/// After a sync, the entries are handed in order to the consumer (the pipeline), whose waiting
/// when it is full is what slows intake down.
public final class IntakeJournal: @unchecked Sendable {
    /// An entry as stored: where it starts and where the next one begins.
    public struct Stored: Sendable {
        public var start: Int64
        public var end: Int64
        public var entry: JournalEntry
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Identifies this journal (and so the node's checkpoint) across restarts.
    public let identifier: String
    public let directory: String
    public let segmentSize: Int64

    private struct Pending {
        var entry: JournalEntry
        var bytes: Int
        var completion: @Sendable (Result<Stored, Failure>) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var pendingBytes = 0
        var stopping = false
        var stopped = false
        var segments: [Int64] = []
    }

    private let condition = NSCondition()
    private var state = State()
    private var descriptor: Int32 = -1
    private var segmentStart: Int64 = 0
    private var segmentLength: Int64 = 0
    private var consumer: (@Sendable (Stored) -> Void)?
    private var thread: Thread?
    private let syncs = Atomic<Int64>(0)

    /// Bytes accepted but not yet handed to the consumer: what back-pressure looks at.
    public var pendingBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.pendingBytes
    }

    /// The position after the last entry.
    public var endPosition: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return segmentStart + segmentLength
    }

    /// Syncs made so far.
    public var syncCount: Int64 { syncs.load(ordering: .relaxed) }

    /// Opens (or creates) the journal in `directory`. A torn entry at the end of the last
    /// segment (a write cut short by a crash, never acknowledged) is cut off.
    public init(directory: String, segmentSize: Int64 = 64 << 20) throws(Failure) {
        self.directory = directory
        self.segmentSize = segmentSize
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create the intake journal directory \(directory): \(error.localizedDescription)")
        }
        let idFile = directory + "/journal.id"
        if let text = try? String(contentsOfFile: idFile, encoding: .utf8), !text.isEmpty {
            identifier = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            identifier = UUID().uuidString.lowercased()
            try Self.writeDurably(Array(identifier.utf8), to: idFile, directory: directory)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        state.segments = names.compactMap { $0.hasSuffix(".journal") ? Int64($0.dropLast(8)) : nil }.sorted()
        if state.segments.isEmpty { state.segments = [0] }
        segmentStart = state.segments.last!
        let path = segmentPath(segmentStart)
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        // Find the end of the whole entries of the last segment.
        let bytes = try Self.contents(of: descriptor, path: path)
        var offset = 0
        scan: while offset < bytes.count {
            switch Self.step(bytes, at: offset) {
            case .entry(_, let size), .damaged(_, let size): offset += size
            case .end: break scan
            }
        }
        if offset < bytes.count {
            guard ftruncate(descriptor, off_t(offset)) == 0, fsync(descriptor) == 0 else {
                throw Failure(description: "cannot cut the torn end off \(path): \(String(cString: strerror(errno)))")
            }
        }
        segmentLength = Int64(offset)
        lseek(descriptor, off_t(offset), SEEK_SET)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    private func segmentPath(_ start: Int64) -> String {
        directory + "/" + String(format: "%020lld", start) + ".journal"
    }

    private static func contents(of descriptor: Int32, path: String) throws(Failure) -> [UInt8] {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            guard n > 0 else { throw Failure(description: "cannot read \(path): \(n == 0 ? "unexpected end" : String(cString: strerror(errno)))") }
            done += n
        }
        return bytes
    }

    static func writeDurably(_ bytes: [UInt8], to path: String, directory: String) throws(Failure) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    // MARK: reading

    private enum Step {
        case entry(JournalEntry, Int)
        /// A damaged entry with a whole entry after it: skipped, the rest kept.
        case damaged(String, Int)
        /// The end, or a torn or damaged last entry.
        case end
    }

    /// The entry at `offset`. A damaged entry is skipped only when the length it claims leads to
    /// a whole entry; otherwise it is taken for a torn write and everything from it is the end.
    private static func step(_ bytes: [UInt8], at offset: Int) -> Step {
        func decode(_ at: Int) -> JournalEntry.DecodeOutcome {
            bytes.withUnsafeBytes { JournalEntry.decode(UnsafeRawBufferPointer(rebasing: $0[at...])) }
        }
        switch decode(offset) {
        case .entry(let entry, let size): return .entry(entry, size)
        case .incomplete: return .end
        case .corrupt(let reason, let size):
            guard let size, offset + size < bytes.count, case .entry = decode(offset + size) else { return .end }
            return .damaged(reason, size)
        }
    }

    /// Damaged entries skipped while reading (each with its file and byte), for the operator.
    public private(set) var damaged: [String] = []

    /// Calls `body` with every entry from `position` on, in order (for replay before intake starts).
    public func read(from position: Int64, _ body: (Stored) throws -> Void) throws {
        condition.lock()
        let segments = state.segments
        condition.unlock()
        for (index, start) in segments.enumerated() {
            let next = index + 1 < segments.count ? segments[index + 1] : Int64.max
            guard next > position else { continue }
            let path = segmentPath(start)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let bytes = try Self.contents(of: fd, path: path)
            var offset = max(0, Int(position - start))
            while offset < bytes.count {
                switch Self.step(bytes, at: offset) {
                case .entry(let entry, let size):
                    try body(Stored(start: start + Int64(offset), end: start + Int64(offset + size), entry: entry))
                    offset += size
                case .damaged(let reason, let size):
                    damaged.append("\(path) at byte \(offset): \(reason)")
                    offset += size
                case .end:
                    offset = bytes.count
                }
            }
        }
    }

    /// Deletes the segments that end at or before `position` (all processed), never the one being written.
    public func trim(before position: Int64) {
        condition.lock()
        var removable: [Int64] = []
        while state.segments.count > 1, state.segments[1] <= position {
            removable.append(state.segments.removeFirst())
        }
        condition.unlock()
        for start in removable { unlink(segmentPath(start)) }
        if !removable.isEmpty { Self.syncDirectory(directory) }
    }

    // MARK: writing

    /// Starts the writer thread; `consumer` receives every entry after it is durable, in order, on that thread.
    public func start(consumer: @escaping @Sendable (Stored) -> Void) {
        self.consumer = consumer
        let thread = Thread { [self] in self.run() }
        thread.name = "qila-journal"
        self.thread = thread
        thread.start()
    }

    /// Queues an entry; `completion` is called (on the writer thread) once it is durable and
    /// handed to the consumer, or with the reason it could not be written.
    public func append(_ entry: JournalEntry, completion: @escaping @Sendable (Result<Stored, Failure>) -> Void) {
        let bytes = entry.payload.count + 4 * entry.count + JournalEntry.headerSize + JournalEntry.prefixSize
        condition.lock()
        if state.stopping {
            condition.unlock()
            completion(.failure(Failure(description: "the intake journal is shutting down")))
            return
        }
        state.pending.append(Pending(entry: entry, bytes: bytes, completion: completion))
        state.pendingBytes += bytes
        condition.signal()
        condition.unlock()
    }

    /// Appends and waits until the entry is durable.
    public func append(_ entry: JournalEntry) async throws(Failure) -> Stored {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Stored, Failure>, Never>) in
            append(entry) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Writes what is queued, then stops the writer thread. Entries queued after this are refused.
    public func stop() {
        condition.lock()
        state.stopping = true
        condition.signal()
        while !state.stopped && thread != nil { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var buffer: [UInt8] = []
        while true {
            condition.lock()
            while state.pending.isEmpty && !state.stopping { condition.wait() }
            if state.pending.isEmpty && state.stopping {
                state.stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = state.pending
            state.pending.removeAll(keepingCapacity: true)
            condition.unlock()

            var stored: [Stored] = []
            stored.reserveCapacity(batch.count)
            var failure: Failure?
            do throws(Failure) {
                // One write per segment touched, one sync each.
                var index = 0
                while index < batch.count {
                    if segmentLength > 0 && segmentLength + Int64(batch[index].bytes) > segmentSize { try rotate() }
                    buffer.removeAll(keepingCapacity: true)
                    var position = segmentStart + segmentLength
                    while index < batch.count && (buffer.isEmpty || segmentLength + Int64(buffer.count + batch[index].bytes) <= segmentSize) {
                        let before = buffer.count
                        batch[index].entry.encode(into: &buffer)
                        stored.append(Stored(start: position, end: position + Int64(buffer.count - before), entry: batch[index].entry))
                        position += Int64(buffer.count - before)
                        index += 1
                    }
                    try writeAll(buffer)
                    guard fdatasync(descriptor) == 0 else { throw Failure(description: "cannot sync the intake journal: \(String(cString: strerror(errno)))") }
                    syncs.add(1, ordering: .relaxed)
                    segmentLength += Int64(buffer.count)
                }
            } catch {
                failure = error
            }
            for (offset, item) in batch.enumerated() {
                if offset < stored.count {
                    consumer?(stored[offset])
                    item.completion(.success(stored[offset]))
                } else {
                    item.completion(.failure(failure ?? Failure(description: "not written")))
                }
                condition.lock()
                state.pendingBytes -= item.bytes
                condition.unlock()
            }
            if failure != nil {
                // What was written of the failed batch may be partial: cut back to the last whole entry.
                _ = ftruncate(descriptor, off_t(segmentLength))
                lseek(descriptor, off_t(segmentLength), SEEK_SET)
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot write the intake journal: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    private func rotate() throws(Failure) {
        guard fsync(descriptor) == 0 else { throw Failure(description: "cannot sync the intake journal: \(String(cString: strerror(errno)))") }
        close(descriptor)
        let start = segmentStart + segmentLength
        let path = segmentPath(start)
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            descriptor = open(segmentPath(segmentStart), O_RDWR | O_APPEND | O_CLOEXEC)
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        Self.syncDirectory(directory)
        descriptor = fd
        condition.lock()
        segmentStart = start
        segmentLength = 0
        state.segments.append(start)
        condition.unlock()
    }
}

import QilaCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A segment file: one organisation's flows of one time partition, as a header and a sequence of
/// records (`u32 length, u32 CRC-32C, kind, payload`). Blocks are appended and made durable at
/// every interval while the segment is open (`NAME.open`); sealing appends the address filter, a
/// footer with the block directory and a trailer, renames the file to `NAME.seg` and makes it
/// read-only. A sealed segment never changes again; its SHA-256 enters the store's signed chain.
public enum FlowSegment {
    static let magic: [UInt8] = Array("QILAFLW1".utf8)
    static let trailerMagic: [UInt8] = Array("QFSEALED".utf8)
    static let openSuffix = ".open"
    static let sealedSuffix = ".seg"

    enum RecordKind: UInt8 { case block = 1, filter = 2, footer = 3 }

    public struct BlockEntry: Sendable, Codable, Hashable {
        public var offset: Int
        public var length: Int
        public var statistics: FlowBlock.Statistics
    }

    /// What a sealed segment's footer says about it.
    public struct Footer: Sendable, Codable, Hashable {
        public var organisation: String
        public var partition: Int64
        public var blocks: [BlockEntry]
        public var statistics: FlowBlock.Statistics
        public var filterOffset: Int
        public var filterLength: Int
        /// SHA-256 of the bytes before the filter record.
        public var contentSHA256: String
    }

    public struct Header: Sendable, Codable, Hashable {
        public var organisation: String
        public var partition: Int64
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case io(String, path: String, errno: Int32)
        case damaged(String, path: String)
        case diskFull(path: String)

        public var description: String {
            switch self {
            case .io(let what, let path, let code): "\(what) \(path): \(String(cString: strerror(code)))"
            case .damaged(let what, let path): "\(path): \(what)"
            case .diskFull(let path): "no space left to write \(path)"
            }
        }
    }

    static func record(_ kind: RecordKind, _ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(payload.count + 9)
        let length = UInt32(payload.count + 1)
        withUnsafeBytes(of: length.littleEndian) { out.append(contentsOf: $0) }
        var body = [kind.rawValue]
        body.reserveCapacity(payload.count + 1)
        body.append(contentsOf: payload)
        let crc = CRC32C.checksum(body)
        withUnsafeBytes(of: crc.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: body)
        return out
    }

    static func headerBytes(_ header: Header) -> [UInt8] {
        let json = (try? JSONEncoder().encode(header)) ?? Data()
        var out = magic
        let length = UInt32(json.count)
        withUnsafeBytes(of: length.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return out
    }
}

/// Appends blocks to an open segment and seals it. Not thread-safe: one writer per segment, on
/// the collector's writing thread.
public final class FlowSegmentWriter {
    public let path: String
    public let header: FlowSegment.Header
    public private(set) var blocks: [FlowSegment.BlockEntry] = []
    public private(set) var statistics = FlowBlock.Statistics.empty
    /// Bytes of the file known to be complete and durable.
    public private(set) var length: Int
    private var descriptor: Int32
    private var hasher = SHA256()
    private var addressesV4 = IPv4Set()
    private var addressesV6 = Set<FlowAddress>()

    /// Creates a new open segment at `path` (which must end in `.open` and not exist).
    public init(creating path: String, header: FlowSegment.Header) throws(FlowSegment.Failure) {
        self.path = path
        self.header = header
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .io("cannot create", path: path, errno: errno) }
        length = 0
        let bytes = FlowSegment.headerBytes(header)
        try write(bytes)
        try sync()
        try FlowSegmentWriter.syncDirectory(of: path)
    }

    /// Reopens an open segment after a stop or a crash: keeps every complete, intact block and
    /// cuts the file after the last of them. `discarded` tells how many bytes were cut.
    public init(resuming path: String) throws(FlowSegment.Failure) {
        self.path = path
        let scan = try FlowSegmentScan(path: path)
        header = scan.header
        blocks = scan.blocks
        for block in blocks { statistics.merge(block.statistics) }
        length = scan.validLength
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io("cannot open", path: path, errno: errno) }
        if scan.fileLength > scan.validLength {
            guard ftruncate(descriptor, off_t(scan.validLength)) == 0 else { throw .io("cannot cut", path: path, errno: errno) }
            try sync()
        }
        guard lseek(descriptor, off_t(length), SEEK_SET) >= 0 else { throw .io("cannot seek", path: path, errno: errno) }
        discarded = scan.fileLength - scan.validLength
        hasher = scan.hasher
        addressesV4 = scan.addressesV4
        addressesV6 = scan.addressesV6
    }

    public private(set) var discarded = 0

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Encodes `batch` as one block, appends it and makes it durable. On a write failure the file
    /// is cut back to its last complete block and the error is thrown; nothing already written
    /// is lost or damaged.
    @discardableResult
    public func append(_ batch: FlowBatch) throws(FlowSegment.Failure) -> FlowSegment.BlockEntry {
        let encoded = FlowBlock.encode(batch)
        return try append(encoded: encoded)
    }

    public func append(encoded: FlowBlock.Encoded) throws(FlowSegment.Failure) -> FlowSegment.BlockEntry {
        let record = FlowSegment.record(.block, encoded.bytes)
        let offset = length
        do {
            try write(record)
            try sync()
        } catch {
            // Leave the file as it was before this block.
            _ = ftruncate(descriptor, off_t(offset))
            _ = lseek(descriptor, off_t(offset), SEEK_SET)
            length = offset
            throw error
        }
        // The block is durable and this writer never reads it back: its pages leave the page
        // cache now, and the next block is written into pages just freed instead of fresh ones
        // (on a virtual machine a page the host has reclaimed costs ten times the copy:
        // docs/decisions/0014, item 11). Queries read sealed segments from disk as they would
        // an hour later; the collector no longer pushes everything else out of the cache.
        _ = posix_fadvise(descriptor, off_t(offset), off_t(record.count), POSIX_FADV_DONTNEED)
        let entry = FlowSegment.BlockEntry(offset: offset + 9, length: encoded.bytes.count, statistics: encoded.statistics)
        blocks.append(entry)
        statistics.merge(encoded.statistics)
        for v4 in encoded.addressesV4 { addressesV4.insert(UInt32(truncatingIfNeeded: v4)) }
        for v6 in encoded.addressesV6 { addressesV6.insert(v6) }
        return entry
    }

    /// Seals the segment: writes the address filter, the footer and the trailer, syncs, makes
    /// the file read-only and renames it to `.seg`. Returns the sealed path and the file's SHA-256.
    public func seal() throws(FlowSegment.Failure) -> (path: String, sha256: [UInt8], footer: FlowSegment.Footer) {
        let content = Array(hasher.finalize())
        var filter = AddressFilter(expected: addressesV4.count + addressesV6.count)
        for v4 in addressesV4 { filter.insert(FlowAddress(ipv4: v4)) }
        for v6 in addressesV6 { filter.insert(v6) }
        var filterBytes: [UInt8] = []
        filterBytes.reserveCapacity(filter.words.count * 8)
        for word in filter.words { withUnsafeBytes(of: word.littleEndian) { filterBytes.append(contentsOf: $0) } }
        let filterOffset = length + 9
        try write(FlowSegment.record(.filter, filterBytes))
        let footer = FlowSegment.Footer(
            organisation: header.organisation, partition: header.partition, blocks: blocks, statistics: statistics,
            filterOffset: filterOffset, filterLength: filterBytes.count, contentSHA256: Hex.encode(content))
        let footerOffset = length
        let json = (try? JSONEncoder().encode(footer)) ?? Data()
        try write(FlowSegment.record(.footer, Array(json)))
        var trailer: [UInt8] = []
        withUnsafeBytes(of: UInt64(footerOffset).littleEndian) { trailer.append(contentsOf: $0) }
        trailer += FlowSegment.trailerMagic
        try write(trailer)
        try sync()
        let digest = Array(hasher.finalize())
        _ = fchmod(descriptor, 0o440)
        close(descriptor)
        descriptor = -1
        let sealedPath = String(path.dropLast(FlowSegment.openSuffix.count)) + FlowSegment.sealedSuffix
        guard rename(path, sealedPath) == 0 else { throw .io("cannot rename", path: path, errno: errno) }
        try FlowSegmentWriter.syncDirectory(of: sealedPath)
        return (sealedPath, digest, footer)
    }

    private func write(_ bytes: [UInt8]) throws(FlowSegment.Failure) {
        var failure: FlowSegment.Failure?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    failure = code == ENOSPC || code == EDQUOT || code == EFBIG ? .diskFull(path: path) : .io("cannot write", path: path, errno: code)
                    return
                }
                done += n
            }
        }
        if let failure { throw failure }
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        length += bytes.count
    }

    private func sync() throws(FlowSegment.Failure) {
        guard fdatasync(descriptor) == 0 else {
            let code = errno
            throw code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io("cannot sync", path: path, errno: code)
        }
    }

    static func syncDirectory(of path: String) throws(FlowSegment.Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open directory", path: directory, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io("cannot sync directory", path: directory, errno: errno) }
    }
}

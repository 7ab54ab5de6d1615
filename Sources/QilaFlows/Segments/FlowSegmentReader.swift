import QilaCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A segment file mapped into memory for reading.
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let path: String

    init(path: String) throws(FlowSegment.Failure) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot stat", path: path, errno: errno) }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw .io("cannot map", path: path, errno: errno)
        }
        // Queries touch a few frames of each block: map only the pages touched, not their neighbours.
        _ = madvise(address, size, MADV_RANDOM)
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// Walks an open segment's records from the start, stopping at the first incomplete or damaged
/// one: what a crash can leave at the end of the file.
struct FlowSegmentScan {
    var header: FlowSegment.Header
    var blocks: [FlowSegment.BlockEntry] = []
    var validLength: Int
    var fileLength: Int
    var hasher = SHA256()
    var addressesV4 = IPv4Set()
    var addressesV6 = Set<FlowAddress>()
    /// Why the scan stopped before the end of the file, if it did.
    var stopped: String?

    /// `thorough` checks every record's checksum and collects the addresses (to resume writing);
    /// otherwise only the record structure is walked, as a reader beside the writer needs.
    init(path: String, thorough: Bool = true) throws(FlowSegment.Failure) {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        fileLength = bytes.count
        let (header, headerLength) = try FlowSegmentScan.header(bytes, path: path)
        self.header = header
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[0..<headerLength]))
        var offset = headerLength
        validLength = offset
        while offset < bytes.count {
            guard bytes.count - offset >= 9 else { stopped = "incomplete record at byte \(offset)"; break }
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            let crc = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
            guard length >= 1, offset + 8 + length <= bytes.count else { stopped = "incomplete record at byte \(offset)"; break }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + 8 + length)])
            guard !thorough || CRC32C.checksum(body) == crc else { stopped = "checksum mismatch at byte \(offset)"; break }
            guard body[0] == FlowSegment.RecordKind.block.rawValue else { stopped = "a \(body[0]) record in an open segment at byte \(offset)"; break }
            let payload = UnsafeRawBufferPointer(rebasing: body[1...])
            guard let reader = try? FlowBlockReader(payload) else { stopped = "undecodable block at byte \(offset)"; break }
            blocks.append(FlowSegment.BlockEntry(offset: offset + 9, length: payload.count, statistics: reader.statistics))
            if thorough, let addresses = try? reader.addresses() {
                for address in addresses {
                    if let v4 = address.ipv4 { addressesV4.insert(v4) } else { addressesV6.insert(address) }
                }
            }
            if thorough { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 8 + length)])) }
            offset += 8 + length
            validLength = offset
        }
    }

    static func header(_ bytes: UnsafeRawBufferPointer, path: String) throws(FlowSegment.Failure) -> (FlowSegment.Header, Int) {
        guard bytes.count >= 12, Array(bytes[0..<8]) == FlowSegment.magic else { throw .damaged("not a Qila flow segment", path: path) }
        let length = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        guard length < 1 << 20, 12 + length <= bytes.count,
            let header = try? JSONDecoder().decode(FlowSegment.Header.self, from: Data(bytes[12..<(12 + length)]))
        else { throw .damaged("unreadable segment header", path: path) }
        return (header, 12 + length)
    }
}

/// Reads a segment, sealed or open, for queries and verification.
public final class FlowSegmentReader: @unchecked Sendable {
    public let path: String
    public let header: FlowSegment.Header
    public let blocks: [FlowSegment.BlockEntry]
    public let statistics: FlowBlock.Statistics
    public let sealed: Bool
    private let file: MappedFile
    private let filter: AddressFilter?
    let footer: FlowSegment.Footer?

    public init(path: String) throws(FlowSegment.Failure) {
        self.path = path
        if path.hasSuffix(FlowSegment.sealedSuffix) {
            file = try MappedFile(path: path)
            let bytes = file.bytes
            (header, _) = try FlowSegmentScan.header(bytes, path: path)
            guard bytes.count >= 16, Array(bytes[(bytes.count - 8)...]) == FlowSegment.trailerMagic else {
                throw .damaged("sealed segment without its trailer", path: path)
            }
            let footerOffset = Int(bytes.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt64.self).littleEndian)
            guard footerOffset + 9 <= bytes.count - 16 else { throw .damaged("footer offset out of range", path: path) }
            let length = Int(bytes.loadUnaligned(fromByteOffset: footerOffset, as: UInt32.self).littleEndian)
            guard length >= 1, footerOffset + 8 + length == bytes.count - 16 else { throw .damaged("footer length", path: path) }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(footerOffset + 8)..<(footerOffset + 8 + length)])
            guard CRC32C.checksum(body) == bytes.loadUnaligned(fromByteOffset: footerOffset + 4, as: UInt32.self).littleEndian,
                body[0] == FlowSegment.RecordKind.footer.rawValue,
                let footer = try? JSONDecoder().decode(FlowSegment.Footer.self, from: Data(body[1...]))
            else { throw .damaged("unreadable footer", path: path) }
            self.footer = footer
            blocks = footer.blocks
            statistics = footer.statistics
            sealed = true
            guard footer.filterOffset >= 0, footer.filterOffset + footer.filterLength <= footerOffset, footer.filterLength % 8 == 0 else {
                throw .damaged("address filter out of range", path: path)
            }
            var words = [UInt64](repeating: 0, count: footer.filterLength / 8)
            for i in words.indices {
                words[i] = bytes.loadUnaligned(fromByteOffset: footer.filterOffset + i * 8, as: UInt64.self).littleEndian
            }
            filter = AddressFilter(words: words)
            for block in blocks where block.offset < 0 || block.offset + block.length > footer.filterOffset {
                throw .damaged("block at \(block.offset) out of range", path: path)
            }
        } else {
            let scan = try FlowSegmentScan(path: path, thorough: false)
            let mapped = try MappedFile(path: path)
            file = mapped
            header = scan.header
            blocks = scan.blocks.filter { $0.offset + $0.length <= mapped.bytes.count }
            var statistics = FlowBlock.Statistics.empty
            for block in blocks { statistics.merge(block.statistics) }
            self.statistics = statistics
            sealed = false
            filter = nil
            footer = nil
        }
    }

    /// False when the segment certainly holds no flow of `address`.
    public func mightContain(_ address: FlowAddress) -> Bool {
        filter?.mightContain(address) ?? true
    }

    /// Runs `body` with a reader of block `index`.
    public func withBlock<T>(_ index: Int, _ body: (FlowBlockReader) throws -> T) throws -> T {
        let entry = blocks[index]
        let reader = try FlowBlockReader(UnsafeRawBufferPointer(rebasing: file.bytes[entry.offset..<(entry.offset + entry.length)]))
        return try body(reader)
    }

    /// SHA-256 of the whole file, and whether every block record's checksum holds.
    public func digest() -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: file.bytes)
        return Array(hasher.finalize())
    }

    /// Checks every record's checksum and every block's structure; the problems found.
    public func check() -> [String] {
        var problems: [String] = []
        let bytes = file.bytes
        for (index, block) in blocks.enumerated() {
            let start = block.offset - 9
            guard start >= 0 else { problems.append("block \(index): bad offset"); continue }
            let length = Int(bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self).littleEndian)
            guard length == block.length + 1 else { problems.append("block \(index): length differs from the directory"); continue }
            let body = UnsafeRawBufferPointer(rebasing: bytes[(start + 8)..<(start + 8 + length)])
            if CRC32C.checksum(body) != bytes.loadUnaligned(fromByteOffset: start + 4, as: UInt32.self).littleEndian {
                problems.append("block \(index): checksum mismatch")
                continue
            }
            do {
                let reader = try FlowBlockReader(UnsafeRawBufferPointer(rebasing: body[1...]))
                if reader.statistics != block.statistics { problems.append("block \(index): statistics differ from the directory") }
            } catch {
                problems.append("block \(index): \(error)")
            }
        }
        if let footer {
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[0..<(footer.filterOffset - 9)]))
            if Hex.encode(hasher.finalize()) != footer.contentSHA256 { problems.append("content hash differs from the footer") }
        }
        return problems
    }
}

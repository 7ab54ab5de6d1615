import Crypto
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Pwned Passwords file (`SHA1HEX:COUNT` per line, sorted by hash), mapped into memory read-only
/// and searched by bisection: the 40-odd gigabyte full list costs address space, not memory, and
/// the kernel keeps in its page cache what the searches touch.
///
/// The mapping is of the file as it was when Qila started: replace the file by renaming a new one
/// over it and restart. Writing into the file in place while Qila runs would make reads of the
/// changed part fail.
public struct BreachedPasswordFile: Sendable {
    public let path: String
    private let mapped: MappedFile

    public init(path: String) throws {
        self.path = path
        mapped = try MappedFile(path: path)
        // Check the format on the first line, so a wrong file is refused at start, not at sign-up.
        let bytes = mapped.bytes
        let head = bytes.prefix(128)
        let firstLine = String(decoding: head.prefix { $0 != 0x0A }, as: UTF8.self)
        guard bytes.isEmpty || Self.parse(firstLine) != nil else {
            throw BlocklistError(
                message: "\(path) line 1 is not in the Pwned Passwords format 'SHA1HEX:COUNT' (40 hexadecimal digits, a colon, a number)"
            )
        }
    }

    static func parse(_ line: String) -> (hash: String, count: Int)? {
        let parts = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 2, parts[0].count == 40, parts[0].allSatisfy(\.isHexDigit), let count = Int(parts[1]) else {
            return nil
        }
        return (parts[0].uppercased(), count)
    }

    /// How often the password appears in the file, or nil if it does not.
    public func occurrences(of password: String) -> Int? {
        occurrences(hash: Insecure.SHA1.hash(data: Data(password.utf8)).map { String(format: "%02X", $0) }.joined())
    }

    /// How often the SHA-1 (40 hexadecimal digits) appears in the file, or nil if it does not.
    public func occurrences(hash: String) -> Int? {
        let target = Array(hash.uppercased().utf8)
        guard target.count == 40, let line = mapped.line(from: lowerBound(target)), let entry = mapped.entry(line),
            entry.prefix.elementsEqual(target[0..<5]), entry.suffix.utf8.elementsEqual(target[5...])
        else { return nil }
        return entry.count
    }

    /// Every hash of the file that begins with `prefix` (hexadecimal digits, upper case), as the
    /// rest of the hash and its count, in the file's order: a Pwned Passwords range query.
    public func range(prefix: String) -> [(suffix: String, count: Int)] {
        let span = span(prefix)
        var result: [(suffix: String, count: Int)] = []
        var at = span.lowerBound
        while at < span.upperBound, let line = mapped.line(from: at) {
            if let entry = mapped.entry(line), entry.prefix.elementsEqual(prefix.utf8) { result.append((entry.suffix, entry.count)) }
            at = line.upperBound + 1
        }
        return result
    }

    /// The range answer for `prefix` (five upper-case hexadecimal digits) as a span of the file,
    /// to be written out by `RangeSpan.write(into:)` without a string or an array per request.
    public func rangeSpan(prefix: String) -> RangeSpan {
        RangeSpan(mapped: mapped, bounds: span(prefix), prefix: Array(prefix.utf8))
    }

    /// The range answer's body as bytes (`SUFFIX:COUNT` and CRLF per hash of the prefix).
    public func rangeBody(prefix: String) -> [UInt8] {
        let span = rangeSpan(prefix: prefix)
        return [UInt8](unsafeUninitializedCapacity: span.capacity) { buffer, count in
            count = span.write(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// The bytes of the lines whose hash begins with `prefix`: from the first line at or after the
    /// prefix to the first at or after the next prefix, both found by bisection.
    private func span(_ prefix: String) -> Range<Int> {
        let digits = Array(prefix.uppercased().utf8)
        let start = lowerBound(digits)
        guard let next = Self.successor(digits) else { return start..<max(start, mapped.bytes.count) }
        return start..<max(start, lowerBound(next))
    }

    /// The hexadecimal number after `digits` with as many digits, or nil after FFFFF.
    static func successor(_ digits: [UInt8]) -> [UInt8]? {
        var next = digits
        for index in next.indices.reversed() {
            switch next[index] {
            case UInt8(ascii: "9"): next[index] = UInt8(ascii: "A"); return next
            case UInt8(ascii: "F"): next[index] = UInt8(ascii: "0")
            default: next[index] += 1; return next
            }
        }
        return nil
    }

    static func upper(_ byte: UInt8) -> UInt8 { (0x61...0x66).contains(byte) ? byte - 0x20 : byte }

    /// Where the first line whose hash sorts at or after `target` (upper-case digits, at most 40)
    /// begins, or the file's size.
    func lowerBound(_ target: [UInt8]) -> Int {
        let bytes = mapped.bytes
        var low = 0
        var high = bytes.count
        // Invariant: any line starting at an offset >= high sorts at or after the target, and
        // every line before `low` sorts before it. Compared as bytes, upper-cased.
        while low < high {
            let middle = low + (high - low) / 2
            // A stray line (empty, cut short) does not sort: the next line in form decides.
            var found = mapped.line(from: middle)
            for _ in 0..<8 {
                guard let line = found, line.count < 41 || bytes[line.lowerBound + 40] != UInt8(ascii: ":") else { break }
                found = line.upperBound < bytes.count ? mapped.line(from: line.upperBound + 1) : nil
            }
            guard let line = found, line.count >= 41, bytes[line.lowerBound + 40] == UInt8(ascii: ":") else {
                high = middle
                continue
            }
            if Self.precedes(bytes, line.lowerBound, target) {
                low = line.upperBound + 1
            } else {
                high = middle
            }
        }
        // Past the last line when the file does not end in a line feed.
        return min(low, bytes.count)
    }

    /// Whether the 40-digit hash at `start` sorts before `target` (which no longer hash can equal).
    private static func precedes(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ target: [UInt8]) -> Bool {
        for index in 0..<min(40, target.count) {
            let byte = upper(bytes[start + index])
            if byte != target[index] { return byte < target[index] }
        }
        return false
    }
}

/// The lines of one prefix in the mapped file, written as the range answer.
public struct RangeSpan: Sendable {
    fileprivate let mapped: MappedFile
    fileprivate let bounds: Range<Int>
    fileprivate let prefix: [UInt8]

    /// At least as many bytes as `write(into:)` writes: every line loses its five-digit prefix and
    /// gains at most a carriage return.
    public var capacity: Int { bounds.count + bounds.count / 40 + 2 }

    /// Writes `SUFFIX:COUNT` and CRLF for each hash of the prefix into `target` (at least
    /// `capacity` bytes) and answers how many bytes it wrote. The first answer for a prefix checks
    /// every line (40 hexadecimal digits, a colon, a count) and leaves out or raises to upper case
    /// what is not in Pwned Passwords' form; a prefix whose lines all were is remembered, and its
    /// later answers copy each line's rest as it stands, as a static file server would send it.
    public func write(into target: UnsafeMutableRawBufferPointer) -> Int {
        precondition(target.count >= capacity, "the range answer needs \(capacity) bytes")
        let index = prefix.reduce(0) { $0 << 4 | Int(Self.value($1)) }
        if mapped.isClean(index) { return copy(into: target) }
        let (written, clean) = check(into: target)
        if clean { mapped.markClean(index) }
        return written
    }

    private static func value(_ digit: UInt8) -> UInt8 { digit <= 0x39 ? digit - 0x30 : digit - 0x41 + 10 }

    private func copy(into target: UnsafeMutableRawBufferPointer) -> Int {
        let bytes = mapped.bytes
        var written = 0
        var at = bounds.lowerBound
        let source = bytes.baseAddress!
        let destination = target.baseAddress!
        while at < bounds.upperBound {
            // A line in form has its count's digits from byte 41 on, then CR LF or LF (or the end).
            var newline = at + 42
            while newline < bounds.upperBound, bytes[newline] != 0x0A { newline += 1 }
            let end = bytes[newline - 1] == 0x0D ? newline - 1 : newline
            let length = end - at - 5
            // Lines are 37 to 54 bytes: copied 16 at a time, the last 16 overlapping, instead of a
            // call to memmove for each (which was a fifth of the answer's time).
            var offset = 0
            while offset + 16 < length {
                destination.storeBytes(
                    of: source.loadUnaligned(fromByteOffset: at + 5 + offset, as: SIMD16<UInt8>.self), toByteOffset: written + offset, as: SIMD16<UInt8>.self)
                offset += 16
            }
            destination.storeBytes(
                of: source.loadUnaligned(fromByteOffset: at + 5 + length - 16, as: SIMD16<UInt8>.self), toByteOffset: written + length - 16,
                as: SIMD16<UInt8>.self)
            target[written + length] = 0x0D
            target[written + length + 1] = 0x0A
            written += length + 2
            at = newline + 1
        }
        return written
    }

    /// Writes the lines that are in Pwned Passwords' form, upper-cased; answers whether every line
    /// already was (upper case, one count of 1 to 18 digits, CRLF or LF, nothing else).
    private func check(into target: UnsafeMutableRawBufferPointer) -> (Int, Bool) {
        let bytes = mapped.bytes
        var written = 0
        var clean = true
        var at = bounds.lowerBound
        lines: while at < bounds.upperBound {
            let newline = mapped.newline(from: at, before: bounds.upperBound) ?? bounds.upperBound
            defer { at = newline + 1 }
            var end = newline
            while end > at, bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
            if end != newline && !(end == newline - 1 && bytes[end] == 0x0D) { clean = false }
            guard end - at >= 42, end - at <= 59, bytes[at + 40] == UInt8(ascii: ":") else { clean = false; continue }
            for offset in 0..<5 where BreachedPasswordFile.upper(bytes[at + offset]) != prefix[offset] { clean = false; continue lines }
            var lower = false
            for offset in 0..<40 {
                switch bytes[at + offset] {
                case 0x30...0x39, 0x41...0x46: continue
                case 0x61...0x66: lower = true
                default: clean = false; continue lines
                }
            }
            for offset in (at + 41)..<end where !(0x30...0x39).contains(bytes[offset]) { clean = false; continue lines }
            if lower { clean = false }
            for offset in (at + 5)..<end {
                target[written] = BreachedPasswordFile.upper(bytes[offset])
                written += 1
            }
            target[written] = 0x0D
            target[written + 1] = 0x0A
            written += 2
        }
        return (written, clean)
    }
}

/// A file mapped read-only for the life of the process, with the prefixes whose lines have been
/// checked and found in form (one bit for each of the 16^5 prefixes, shared by every request).
final class MappedFile: @unchecked Sendable {
    // The mapping is never written and lives until deinit: reading it from any thread is safe.
    let bytes: UnsafeRawBufferPointer
    private let clean = Mutex<[UInt64]>(Array(repeating: 0, count: (1 << 20) / 64))

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BlocklistError(message: "cannot read the breached-password file at \(path)") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw BlocklistError(message: "cannot read the breached-password file at \(path): not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), base != MAP_FAILED else {
            throw BlocklistError(message: "cannot map the breached-password file at \(path) into memory")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }

    func isClean(_ prefix: Int) -> Bool { clean.withLock { $0[prefix >> 6] & (1 << UInt64(prefix & 63)) != 0 } }
    func markClean(_ prefix: Int) { clean.withLock { $0[prefix >> 6] |= 1 << UInt64(prefix & 63) } }

    /// The offset of the next line feed at or after `start` and before `limit`.
    func newline(from start: Int, before limit: Int) -> Int? {
        guard start < limit, let base = bytes.baseAddress, let found = memchr(base + start, 0x0A, limit - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The first whole line starting at or after `offset` (or at 0), without its line feed, read
    /// no further than 128 bytes.
    func line(from offset: Int) -> Range<Int>? {
        var start = offset
        if offset > 0 {
            guard let newline = newline(from: offset - 1, before: min(bytes.count, offset - 1 + 128)) else { return nil }
            start = newline + 1
        }
        guard start < bytes.count else { return nil }
        let limit = min(bytes.count, start + 128)
        return start..<(newline(from: start, before: limit) ?? limit)
    }

    /// A line `HASH:COUNT`: the hash's first five digits and the other 35 (upper case), and the
    /// count; nil for anything else.
    func entry(_ line: Range<Int>) -> (prefix: ArraySlice<UInt8>, suffix: String, count: Int)? {
        var end = line.upperBound
        while end > line.lowerBound, bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
        let start = line.lowerBound
        guard end - start >= 42, bytes[start + 40] == UInt8(ascii: ":") else { return nil }
        var upper = [UInt8](repeating: 0, count: 40)
        for index in 0..<40 {
            let byte = bytes[start + index]
            switch byte {
            case 0x30...0x39, 0x41...0x46: upper[index] = byte
            case 0x61...0x66: upper[index] = byte - 0x20
            default: return nil
            }
        }
        var count = 0
        for index in (start + 41)..<end {
            let byte = bytes[index]
            guard (0x30...0x39).contains(byte), count < Int.max / 10 - 9 else { return nil }
            count = count * 10 + Int(byte - 0x30)
        }
        return (upper[0..<5], String(decoding: upper[5..<40], as: UTF8.self), count)
    }
}

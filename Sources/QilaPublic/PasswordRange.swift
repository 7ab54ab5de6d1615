import Crypto
public import Foundation
public import QilaAccess

/// The k-anonymity range API over the installation's breached-password file and Qila's shipped
/// blocklist, as Have I Been Pwned's Pwned Passwords range API answers: the client sends the first
/// five hexadecimal digits of a password's SHA-1 and receives every known hash with that prefix,
/// as `SUFFIX:COUNT` lines, and compares locally; the server never learns which one was meant.
///
/// A word of the shipped blocklist that the breached file does not count is answered with count 1
/// (listed, with no count of breaches behind it).
public struct PasswordRange: Sendable {
    /// The shipped list's hashes by their five-digit prefix: suffix → 1.
    private let listed: [String: [String]]
    private let breached: BreachedPasswordFile?
    /// By prefix, the `SUFFIX:1` lines of listed words the breached file does not count, worked
    /// out once: a word of the list is answered even when the file lacks it.
    private let unlisted: [String: [UInt8]]

    public init(blocklist: PasswordBlocklist) {
        self.init(words: blocklist.words, breached: blocklist.breachedFile)
    }

    public init(words: [String], breached: BreachedPasswordFile?) {
        var listed: [String: [String]] = [:]
        for word in Set(words) {
            let hash = Self.sha1(word)
            listed[String(hash.prefix(5)), default: []].append(String(hash.dropFirst(5)))
        }
        self.listed = listed
        self.breached = breached
        var unlisted: [String: [UInt8]] = [:]
        for (prefix, suffixes) in listed {
            let missing = suffixes.sorted().filter { breached?.occurrences(hash: prefix + $0) == nil }
            if !missing.isEmpty { unlisted[prefix] = Array(missing.map { $0 + ":1\r\n" }.joined().utf8) }
        }
        self.unlisted = unlisted
    }

    /// SHA-1 of the UTF-8 bytes, 40 upper-case hexadecimal digits.
    public static func sha1(_ text: String) -> String {
        Insecure.SHA1.hash(data: Data(text.utf8)).map { String(format: "%02X", $0) }.joined()
    }

    /// The prefix in upper case, or nil unless it is exactly five hexadecimal digits.
    public static func prefix(_ text: String) -> String? {
        guard text.utf8.count == 5, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }) else {
            return nil
        }
        return text.uppercased()
    }

    /// The hashes beginning with `prefix` (already checked by `prefix(_:)`): suffix and count,
    /// sorted by suffix, the breached file's count where it has one.
    public func range(_ prefix: String) -> [(suffix: String, count: Int)] {
        let fromFile = breached?.range(prefix: prefix) ?? []
        guard let extra = listed[prefix], !extra.isEmpty else { return fromFile }
        // Few listed words share a prefix: add those the file does not count, keep the order.
        let counted = Set(fromFile.map(\.suffix))
        return (fromFile + extra.filter { !counted.contains($0) }.map { ($0, 1) }).sorted { $0.suffix < $1.suffix }
    }

    /// The unpadded answer for a checked prefix, to be written into the response's buffer: the
    /// breached file's lines of the prefix, then the listed words the file does not count.
    public func answer(_ prefix: String) -> Answer {
        Answer(span: breached?.rangeSpan(prefix: prefix), unlisted: unlisted[prefix] ?? [])
    }

    /// The answer's body as bytes: `answer(_:)` written out, or `body(_:padding:random:)` when padded.
    public func bodyBytes(_ prefix: String, padding: Bool, random: inout some RandomNumberGenerator) -> [UInt8] {
        guard !padding else { return Array(body(prefix, padding: padding, random: &random).utf8) }
        let answer = answer(prefix)
        return [UInt8](unsafeUninitializedCapacity: answer.capacity) { buffer, count in
            count = answer.write(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// An unpadded range answer: at most `capacity` bytes, written by `write(into:)`.
    public struct Answer: Sendable {
        let span: RangeSpan?
        let unlisted: [UInt8]

        public var capacity: Int { (span?.capacity ?? 0) + unlisted.count }

        /// Writes the answer into `target` (at least `capacity` bytes); answers how many bytes it wrote.
        public func write(into target: UnsafeMutableRawBufferPointer) -> Int {
            let written = span?.write(into: target) ?? 0
            unlisted.withUnsafeBytes { target.baseAddress!.advanced(by: written).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return written + unlisted.count
        }
    }

    /// The answer's body: `SUFFIX:COUNT` lines ending in CRLF. With `padding`, hashes that do not
    /// exist are mixed in with count 0 until the answer has between 800 and 1,000 lines, so that
    /// its size does not tell an observer of the encrypted traffic which prefix was asked.
    public func body(_ prefix: String, padding: Bool, random: inout some RandomNumberGenerator) -> String {
        var entries = range(prefix)
        if padding {
            let target = Int.random(in: 800...1000, using: &random)
            var taken = Set(entries.map(\.suffix))
            let digits = Array("0123456789ABCDEF")
            while entries.count < target {
                let suffix = String((0..<35).map { _ in digits[Int.random(in: 0..<16, using: &random)] })
                if taken.insert(suffix).inserted { entries.append((suffix, 0)) }
            }
            entries.sort { $0.suffix < $1.suffix }
        }
        var text = ""
        text.reserveCapacity(entries.count * 42)
        for entry in entries {
            text += entry.suffix
            text += ":"
            text += String(entry.count)
            text += "\r\n"
        }
        return text
    }
}

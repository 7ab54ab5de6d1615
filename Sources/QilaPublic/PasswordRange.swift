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

    /// The answer's body as bytes: taken straight from the breached-password file when nothing
    /// needs merging or padding (the usual case, and a thousand lines), else as `body(_:padding:random:)`.
    public func bodyBytes(_ prefix: String, padding: Bool, random: inout some RandomNumberGenerator) -> [UInt8] {
        guard !padding, let breached else { return Array(body(prefix, padding: padding, random: &random).utf8) }
        var bytes = breached.rangeBody(prefix: prefix)
        // A listed word the file does not count is added at the end (clients look a suffix up;
        // the order carries nothing).
        for suffix in listed[prefix] ?? [] where !Self.contains(bytes, suffix: suffix) {
            bytes += Array((suffix + ":1\r\n").utf8)
        }
        return bytes
    }

    static func contains(_ body: [UInt8], suffix: String) -> Bool {
        let wanted = Array(suffix.utf8)
        var start = 0
        while start + wanted.count <= body.count {
            if body[start..<(start + wanted.count)].elementsEqual(wanted) { return true }
            guard let newline = body[start...].firstIndex(of: 0x0A) else { return false }
            start = newline + 1
        }
        return false
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

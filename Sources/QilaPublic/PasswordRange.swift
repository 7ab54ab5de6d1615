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
        var counts: [String: Int] = [:]
        for suffix in listed[prefix] ?? [] { counts[suffix] = 1 }
        for (suffix, count) in breached?.range(prefix: prefix) ?? [] { counts[suffix] = count }
        return counts.map { ($0.key, $0.value) }.sorted { $0.suffix < $1.suffix }
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

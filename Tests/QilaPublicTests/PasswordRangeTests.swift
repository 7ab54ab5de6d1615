import Foundation
import QilaAccess
import QilaPublic
import QilaTestSupport
import Testing

@Suite("Password range API: k-anonymity over the breached-password file and the shipped blocklist")
struct PasswordRangeTests {
    /// A breached-password file in the Pwned Passwords format, sorted by hash, with `extra`
    /// random hashes around the known ones.
    static func breachedFile(_ known: [String: Int], extra: Int, seed: UInt64) throws -> String {
        var random = SeededRandom(seed: seed)
        var lines = known.map { (PasswordRange.sha1($0.key), $0.value) }
        let digits = Array("0123456789ABCDEF")
        for _ in 0..<extra { lines.append((String((0..<40).map { _ in digits[Int.random(in: 0..<16, using: &random)] }), Int.random(in: 1...9999, using: &random))) }
        lines.sort { $0.0 < $1.0 }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("breached-\(UUID().uuidString).txt").path
        try lines.map { "\($0.0):\($0.1)" }.joined(separator: "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("A prefix is exactly five hexadecimal digits, either case", arguments: [
        ("21bd1", "21BD1"), ("ABCDE", "ABCDE"), ("0000f", "0000F"), ("21BD", nil), ("21BD12", nil), ("21BG1", nil), ("", nil), ("٢١bd1", nil), ("21 D1", nil),
    ] as [(String, String?)])
    func prefixes(text: String, expected: String?) {
        #expect(PasswordRange.prefix(text) == expected)
    }

    @Test("The answer lists every hash of the prefix with its count; the shipped list counts 1 unless the file counts it")
    func range() throws {
        let path = try Self.breachedFile(["correct horse battery staple": 373, "password": 10_434_004], extra: 20_000, seed: 7)
        let range = PasswordRange(words: ["password", "qwerty"], breached: try BreachedPasswordFile(path: path))
        for (password, count) in [("password", 10_434_004), ("qwerty", 1), ("correct horse battery staple", 373)] {
            let hash = PasswordRange.sha1(password)
            let entries = range.range(String(hash.prefix(5)))
            #expect(entries.first { $0.suffix == String(hash.dropFirst(5)) }?.count == count, "\(password)")
            #expect(entries.allSatisfy { $0.suffix.count == 35 } && entries.map(\.suffix) == entries.map(\.suffix).sorted())
        }
        #expect(range.range("FFFFF").isEmpty || range.range("FFFFF").allSatisfy { $0.suffix.count == 35 })
        // The bytes answered from the file carry the same lines, the listed word's among them.
        var random = SeededRandom(seed: 1)
        for password in ["password", "qwerty", "correct horse battery staple"] {
            let hash = PasswordRange.sha1(password)
            let answered = String(decoding: range.bodyBytes(String(hash.prefix(5)), padding: false, random: &random), as: UTF8.self)
            let expected = range.range(String(hash.prefix(5))).map { "\($0.suffix):\($0.count)" }
            #expect(Set(answered.split(separator: "\r\n").map(String.init)) == Set(expected), "\(password)")
        }
    }

    @Test("Property: for 300 random hashes in a 50,000-line file, the range of each prefix is exactly the file's lines with that prefix")
    func rangeMatchesFile() throws {
        let path = try Self.breachedFile([:], extra: 50_000, seed: 11)
        let file = try BreachedPasswordFile(path: path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\r\n").map(String.init)
        var byPrefix: [String: [String]] = [:]
        for line in lines { byPrefix[String(line.prefix(5)), default: []].append(String(line.dropFirst(5))) }
        var random = SeededRandom(seed: 3)
        for _ in 0..<300 {
            let line = lines[Int.random(in: 0..<lines.count, using: &random)]
            let prefix = String(line.prefix(5))
            #expect(file.range(prefix: prefix).map { "\($0.suffix):\($0.count)" } == byPrefix[prefix], "prefix \(prefix)")
        }
        // The bytes answered straight from the file are the same lines.
        for line in lines.prefix(200) + lines.suffix(3) {
            let prefix = String(line.prefix(5))
            let range = PasswordRange(words: [], breached: file)
            var random = SeededRandom(seed: 5)
            #expect(String(decoding: range.bodyBytes(prefix, padding: false, random: &random), as: UTF8.self) == range.body(prefix, padding: false, random: &random))
        }
        // The first and the last prefix of the file, and one before all of them.
        for line in [lines.first!, lines.last!] {
            #expect(file.range(prefix: String(line.prefix(5))).map { "\($0.suffix):\($0.count)" } == byPrefix[String(line.prefix(5))])
        }
        #expect(file.range(prefix: "00000").count == (byPrefix["00000"]?.count ?? 0))
    }

    @Test("A file written in lower case is answered in upper case, as Pwned Passwords answers")
    func lowerCaseFile() throws {
        let hash = PasswordRange.sha1("correct horse battery staple")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("breached-lower-\(UUID().uuidString).txt").path
        try "\(hash.lowercased()):42\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        let range = PasswordRange(words: [], breached: try BreachedPasswordFile(path: path))
        var random = SeededRandom(seed: 8)
        #expect(String(decoding: range.bodyBytes(String(hash.prefix(5)).lowercased().uppercased(), padding: false, random: &random), as: UTF8.self)
            == String(hash.dropFirst(5)) + ":42\r\n")
    }

    @Test("Property: untidy files (LF or CRLF, lower case, spaces, stray lines, no final newline) answer the same lines on every request")
    func untidyFiles() throws {
        var random = SeededRandom(seed: 23)
        let digits = Array("0123456789ABCDEF")
        for round in 0..<40 {
            // Few prefixes, many lines each, so that answers come from the checked and the remembered path.
            let prefixes = (0..<3).map { _ in String((0..<5).map { _ in digits[Int.random(in: 0..<16, using: &random)] }) }
            var hashes: [String] = []
            for _ in 0..<120 {
                hashes.append(prefixes.randomElement(using: &random)! + String((0..<35).map { _ in digits[Int.random(in: 0..<16, using: &random)] }))
            }
            hashes.sort()
            var text = ""
            for (index, hash) in hashes.enumerated() {
                var line = "\(hash):\(Int.random(in: 1...99_999, using: &random))"
                // The first line stays in form: a file that begins otherwise is refused at start.
                switch index == 0 ? -1 : Int.random(in: 0..<40, using: &random) {
                case 0: line = line.lowercased()
                case 1: line += "  "
                case 2: line = String(line.prefix(30))
                case 3: line = ""
                default: break
                }
                text += line + (round % 2 == 0 ? "\r\n" : "\n")
            }
            if round % 3 == 0 { text.removeLast(round % 2 == 0 ? 2 : 1) }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("breached-untidy-\(UUID().uuidString).txt").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let file = try BreachedPasswordFile(path: path)
            let range = PasswordRange(words: [], breached: file)
            for prefix in prefixes {
                // Worked out here from the text written, apart from the file's bisection.
                let expected = text.utf8.split(separator: 0x0A).compactMap { raw -> String? in
                    let line = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \r")).uppercased()
                    let parts = line.split(separator: ":")
                    guard parts.count == 2, parts[0].count == 40, parts[0].allSatisfy(\.isHexDigit), parts[1].allSatisfy(\.isNumber),
                        line.hasPrefix(prefix) else { return nil }
                    return String(line.dropFirst(5)) + "\r\n"
                }.joined()
                #expect(file.range(prefix: prefix).map { "\($0.suffix):\($0.count)\r\n" }.joined() == expected)
                for _ in 0..<3 {
                    #expect(String(decoding: range.bodyBytes(prefix, padding: false, random: &random), as: UTF8.self) == expected, "round \(round) prefix \(prefix)")
                }
            }
        }
    }

    @Test("Padding mixes in hashes of count 0 up to 800-1,000 lines, sorted, and keeps every real one")
    func padding() throws {
        let range = PasswordRange(words: ["password"], breached: nil)
        let hash = PasswordRange.sha1("password")
        var random = SeededRandom(seed: 99)
        let body = range.body(String(hash.prefix(5)), padding: true, random: &random)
        #expect(body.hasSuffix("\r\n"))
        let lines = body.split(separator: "\r\n").map(String.init)
        #expect((800...1000).contains(lines.count))
        #expect(lines.contains(String(hash.dropFirst(5)) + ":1"))
        #expect(lines.filter { $0.hasSuffix(":0") }.count == lines.count - 1)
        #expect(lines == lines.sorted() && Set(lines).count == lines.count)
        let plain = range.body(String(hash.prefix(5)), padding: false, random: &random)
        #expect(plain == String(hash.dropFirst(5)) + ":1\r\n")
    }

    @Test("The shipped blocklist is answered: every listed word is found through its prefix")
    func shippedBlocklist() throws {
        let blocklist = try PasswordBlocklist.shipped()
        let range = PasswordRange(blocklist: blocklist)
        for word in blocklist.words.sorted().prefix(50) {
            let hash = PasswordRange.sha1(word)
            #expect(range.range(String(hash.prefix(5))).contains { $0.suffix == String(hash.dropFirst(5)) }, "\(word)")
        }
    }
}

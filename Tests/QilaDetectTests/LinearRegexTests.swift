import Foundation
import QilaDetect
import QilaTestSupport
import Testing

@Suite("Sigma: linear-time regular expressions")
struct LinearRegexTests {
    @Test("syntax and semantics", arguments: [
        ("abc", "xxabcxx", true), ("^abc", "xabc", false), ("abc$", "abc\n", true), ("a.c", "a\nc", false),
        ("a|b|c", "zzc", true), ("(ab)+c", "ababc", true), ("(?:ab){2}c", "abc", false), ("a{2,3}", "aa", true),
        ("^a{2,3}$", "aaaa", false), ("[a-c]+x", "bbx", true), ("[^a-c]", "abc", false), ("\\d{3}-\\d{4}", "555-1234", true),
        ("\\bcmd\\b", "xcmd", false), ("\\bcmd\\b", "run cmd now", true), ("\\.exe$", "a.exe", true), ("\\.exe$", "aXexe", false),
        ("a\\*b", "a*b", true), ("[.]", "x", false), ("\\x41", "A", true), ("colou?r", "color", true), ("a{,2}", "a{,2}", true),
        ("(a|)+b", "b", true), ("(a*)*$", "aaaa", true), ("\\s+-enc", "x  -enc", true), ("[\\w.]+@", "a.b@", true),
    ])
    func cases(_ pattern: String, _ text: String, _ expected: Bool) throws {
        #expect(try LinearRegex(pattern).matches(text) == expected, "\(pattern) on \(text.debugDescription)")
    }

    @Test("flags i, m and s, also inline")
    func flags() throws {
        #expect(try LinearRegex("CMD", options: .caseInsensitive).matches("cmd.exe"))
        #expect(try LinearRegex("(?i)[A-C]md").matches("bMD"))
        #expect(try LinearRegex("^b", options: .multiline).matches("a\nb"))
        #expect(!(try LinearRegex("^b").matches("a\nb")))
        #expect(try LinearRegex("a.b", options: .dotAll).matches("a\nb"))
    }

    @Test("what no automaton can match is refused with the reason", arguments: [
        ("(a)\\1", "back-references"), ("a(?=b)", "look-around"), ("a(?<!b)", "look-around"), ("(ab", "not closed"),
        ("ab)", "unbalanced"), ("*a", "nothing to repeat"), ("a{5,2}", "counts down"), ("[a-", "not closed"),
    ])
    func refused(_ pattern: String, _ reason: String) {
        do {
            _ = try LinearRegex(pattern)
            Issue.record("\(pattern) should be refused")
        } catch let error as SigmaError {
            #expect(error.message.contains(reason), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("catastrophic patterns finish quickly")
    func noBacktracking() throws {
        let input = String(repeating: "a", count: 5_000) + "!"
        #expect(!(try LinearRegex("^(a+)+$").matches(input)))
        #expect(!(try LinearRegex("(a|aa)*b").matches(input)))
        #expect(!(try LinearRegex("(.*a){12}b").matches(input)))
    }

    @Test("agrees with NSRegularExpression on SigmaHQ's patterns and generated inputs (needs ../shared)")
    func differential() throws {
        guard let root = SharedCorpus.url("corpora/sigma/rules", unchecked: "the linear matcher is not compared with NSRegularExpression on SigmaHQ's patterns")
        else { return }
        var patterns: [String] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "yml", let text = try? String(contentsOf: url, encoding: .utf8), text.contains("|re") else { continue }
            for case .success(let rule) in SigmaRuleParser().parse(yaml: text) {
                for case .maps(let maps) in rule.detection.searches.values {
                    for item in maps.joined() where item.modifiers == [.re] {
                        for case .string(let value) in item.values { if let source = value.source { patterns.append(source) } }
                    }
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        var compared = 0, disagreements: [String] = []
        for pattern in patterns {
            guard let ours = try? LinearRegex(pattern), let theirs = try? NSRegularExpression(pattern: pattern) else { continue }
            let alphabet = Array(Set(pattern.filter { $0.isASCII && !$0.isNewline }) .union("aZ09 -/\\.")).map(String.init)
            for _ in 0..<40 {
                let text = (0..<Int.random(in: 0..<24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
                let expected = theirs.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                compared += 1
                if ours.matches(text) != expected { disagreements.append("\(pattern) on \(text.debugDescription): ours \(!expected)") }
            }
        }
        print("regular expressions: \(patterns.count) SigmaHQ patterns, \(compared) comparisons, \(disagreements.count) disagreements")
        #expect(patterns.count > 50)
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}

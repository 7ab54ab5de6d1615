import Foundation
import QilaTestSupport
import Testing

@testable import QilaDetect


@Suite("Detection engine: bytes, JSON, files, hot reload")
struct EngineTests {
    static func scan(_ json: String, paths: [[String]] = [["a"]], depth: Int = 64) throws(EventError) -> ScannedEvent {
        var tree = FieldTree()
        for path in paths { _ = tree.slot(for: path) }
        var event = ScannedEvent()
        let bytes = Array(json.utf8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(EventError) in
            try EventScanner(tree: tree, maximumDepth: depth).scan(buffer, into: &event)
        }
        return event
    }

    static func refusal(_ json: String, depth: Int = 64) -> EventError? {
        do throws(EventError) {
            _ = try scan(json, depth: depth)
            return nil
        } catch {
            return error
        }
    }

    @Test("malformed JSON is refused with the byte where it goes wrong")
    func malformed() {
        let cases: [(String, Int, String)] = [
            (#"{"a": 1"#, 7, "not closed"),
            (#"{"a" 1}"#, 6, "':'"),
            (#"{"a": tru}"#, 7, "'true'"),
            (#"{"a": "x\q"}"#, 10, "invalid escape"),
            (#"{"a": 01}"#, 7, "cannot start with 0"),
            (#"{"a": -}"#, 7, "needs digits"),
            (#"{"a": 1,}"#, 9, "member name"),
            (#"[1, 2]"#, 1, "JSON object"),
            (#"{"a": 1} x"#, 10, "after the event"),
            ("{\"a\": \"x\u{01}\"}", 9, "control character"),
            (#"{"a": "\u12"}"#, 8, "four hexadecimal"),
        ]
        for (json, byte, words) in cases {
            let error = Self.refusal(json)
            #expect(error?.kind == .malformedJSON, "\(json)")
            #expect(error.map { $0.offset + 1 } == byte, "\(json): \(String(describing: error))")
            #expect(error?.description.contains(words) == true, "\(json): \(String(describing: error))")
        }
    }

    @Test("non-UTF-8 bytes and deep nesting are refused and say so")
    func notUTF8AndDeep() throws {
        var tree = FieldTree()
        _ = tree.slot(for: ["a"])
        var event = ScannedEvent()
        let bad: [UInt8] = Array(#"{"a": "caf"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: EventError.self) {
            try bad.withUnsafeBufferPointer { (buffer) throws(EventError) in try EventScanner(tree: tree).scan(buffer, into: &event) }
        }
        do throws(EventError) {
            try bad.withUnsafeBufferPointer { (buffer) throws(EventError) in try EventScanner(tree: tree).scan(buffer, into: &event) }
        } catch {
            #expect(error.kind == .notUTF8)
            #expect(error.offset == 10)
        }
        let deep = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
        #expect(Self.refusal(deep)?.kind == .tooDeep)
        #expect(Self.refusal(deep, depth: 100) == nil)
    }

    @Test("values at kept paths: strings, escapes, numbers, arrays, null; the rest skipped")
    func keptValues() throws {
        let event = try Self.scan(
            #"{"x": {"a": [1]}, "a": ["p\"q", 2.5, true, null], "b": {"c": "\u00e9\ud83d\ude00"}}"#, paths: [["a"], ["b", "c"]])
        var kinds: [ScannedValue.Kind] = []
        var index = event.first[0]
        while index >= 0 {
            kinds.append(event.values[Int(index)].kind)
            index = event.values[Int(index)].next
        }
        #expect(kinds == [.array, .escapedString, .number, .true, .null])
        let nested = event.values[Int(event.first[1])]
        #expect(nested.kind == .escapedString)
        let json = Array(#"{"x": {"a": [1]}, "a": ["p\"q", 2.5, true, null], "b": {"c": "\u00e9\ud83d\ude00"}}"#.utf8)
        let text = json.withUnsafeBufferPointer { buffer in
            JSONText.unescape(UnsafeBufferPointer(rebasing: buffer[Int(nested.start)..<Int(nested.end)]))
        }
        #expect(String(decoding: text, as: UTF8.self) == "é😀")
    }

    @Test("fuzz: mutated events never crash the scanner, and valid ones read as JSONSerialization reads them")
    func fuzz() throws {
        var random = SplitMix(state: 7)
        let seeds = [
            #"{"Image":"C:\\Windows\\cmd.exe","EventID":1,"Tags":["a","b\n"],"Nested":{"k":[{"x":null}],"f":-1.5e3}}"#,
            #"{"CommandLine":"powershell -enc \u0041\u00e9","Count":0,"ok":false}"#,
        ]
        var tree = FieldTree()
        for path in [["Image"], ["EventID"], ["Tags"], ["Nested", "f"], ["CommandLine"], ["Count"]] { _ = tree.slot(for: path) }
        let scanner = EventScanner(tree: tree, collectLeaves: true)
        var event = ScannedEvent()
        var accepted = 0
        for iteration in 0..<20_000 {
            var bytes = Array(seeds[iteration % seeds.count].utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(Array(#"{}[]",:\0e-"#.utf8).randomElement(using: &random)!, at: position)
                default: bytes = Array(bytes[..<position])
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            let scanned: Bool
            do throws(EventError) {
                try bytes.withUnsafeBufferPointer { (buffer) throws(EventError) in try scanner.scan(buffer, into: &event) }
                scanned = true
            } catch {
                #expect(error.offset >= 0 && error.offset < max(bytes.count, 1))
                scanned = false
            }
            // The scanner accepts what Foundation's parser accepts as an object and the other way round,
            // with two known differences: lone surrogate escapes, which the scanner reads as U+FFFD,
            // and trailing commas, which Foundation tolerates and RFC 8259 (and the scanner) do not.
            let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any]
                && String(bytes: bytes, encoding: .utf8) != nil
            let text = String(decoding: bytes, as: UTF8.self)
            let trailingComma = text.replacingOccurrences(of: " ", with: "").contains(",]") || text.replacingOccurrences(of: " ", with: "").contains(",}")
            #expect(
                scanned == foundation || (scanned && text.lowercased().contains("\\ud")) || (!scanned && trailingComma),
                "\(text)")
            if scanned { accepted += 1 }
        }
        #expect(accepted > 100)
    }

    @Test("Aho-Corasick finds exactly the occurrences a naive search finds")
    func ahoCorasick() {
        var random = SplitMix(state: 11)
        for _ in 0..<200 {
            let alphabet = Array("abc\\.".utf8)
            let patterns = (0..<Int.random(in: 1...12, using: &random)).map { _ in
                (0..<Int.random(in: 1...4, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            }
            let text = (0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let automaton = AhoCorasick(patterns: patterns)
            var found: Set<[Int]> = []
            text.withUnsafeBufferPointer { buffer in automaton.scan(buffer) { found.insert([$0, $1]) } }
            var expected: Set<[Int]> = []
            for (index, pattern) in patterns.enumerated() where pattern.count <= text.count {
                for end in pattern.count...text.count where Array(text[(end - pattern.count)..<end]) == pattern {
                    expected.insert([index, end])
                }
            }
            #expect(found == expected)
        }
    }

    @Test("multi-pattern search through windows or byte pairs finds exactly the naive occurrences")
    func windowedPatterns() {
        var random = SplitMix(state: 23)
        for round in 0..<450 {
            // A small alphabet makes windows shared by many patterns and occurrences overlap.
            let alphabet = Array((round % 2 == 0 ? "ab\\" : "abcdefgh0123=").utf8)
            // Rounds 300 and later: few patterns of two bytes or more, found through byte pairs.
            let pairs = round >= 300
            let patterns = (0..<Int.random(in: 1...(pairs ? MultiPattern.pairLimit : 400), using: &random)).map { _ in
                (0..<Int.random(in: (pairs ? 2 : 1)...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            }
            var text = (0..<Int.random(in: 0...300, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            // Plant some patterns so that long ones occur too.
            for _ in 0..<3 where !patterns.isEmpty {
                let pattern = patterns.randomElement(using: &random)!
                text.insert(contentsOf: pattern, at: Int.random(in: 0...text.count, using: &random))
            }
            // Every other round with the long patterns in the window index whatever their number.
            let matcher = MultiPattern(patterns: patterns, automatonBudget: round % 4 < 2 ? 0 : MultiPattern.automatonBudget)
            var found: Set<[Int]> = []
            text.withUnsafeBufferPointer { buffer in matcher.scan(buffer) { found.insert([$0, $1]) } }
            var expected: Set<[Int]> = []
            for (index, pattern) in patterns.enumerated() where pattern.count <= text.count {
                for end in pattern.count...text.count where Array(text[(end - pattern.count)..<end]) == pattern {
                    expected.insert([index, end])
                }
            }
            #expect(found == expected, "round \(round)")
        }
    }

    @Test("lowercasing eight bytes at a time agrees with Unicode lowercasing, every ASCII byte at every position")
    func lowercasing() {
        var random = SplitMix(state: 11)
        for round in 0..<3000 {
            var bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...127, using: &random) }
            if round < 128 { bytes = Array(repeating: UInt8(ascii: "x"), count: round % 17) + [UInt8(round)] + Array(repeating: UInt8(ascii: "Q"), count: 9) }
            var text = String(decoding: bytes, as: UTF8.self)
            if round % 5 == 0 { text += ["É", "ǅ", "İ", "Σ", "ß"][round % 25 / 5] + "ABC" }
            let expected = Array(text.lowercased().utf8)
            var out: [UInt8] = [1, 2, 3]
            Array(text.utf8).withUnsafeBufferPointer { Bytes.lowercase($0, into: &out) }
            #expect(Array(out.dropFirst(3)) == expected, "\(bytes)")
        }
    }

    @Test("byte wildcard patterns agree with the reference matcher")
    func bytePatterns() {
        var random = SplitMix(state: 5)
        let pieces = ["a", "b", "é", "*", "?", "\\*", "ab", "–"]
        for _ in 0..<3000 {
            let pattern = SigmaString(parsing: (0..<Int.random(in: 0...5, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined())
            let text = (0..<Int.random(in: 0...6, using: &random)).map { _ in ["a", "B", "é", "*", "–", "x"].randomElement(using: &random)! }.joined()
            let reference = WildcardMatcher(pattern).matches(text)
            let bytes = BytePattern(pattern, lowercase: true)
            let lowered = Array(text.lowercased().utf8)
            #expect(lowered.withUnsafeBufferPointer { bytes.matches($0) } == reference, "\(pattern) on \(text)")
        }
    }

    @Test("line reader: plain and gzip, CRLF, blank lines, a line over the limit, concatenated members")
    func lineReader() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qila-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let long = String(repeating: "x", count: 3000)
        let text = "{\"a\":1}\r\n\n{\"a\":2}\n{\"a\":\"\(long)\"}\n{\"a\":3}"
        let plain = folder.appendingPathComponent("events.jsonl")
        try text.write(to: plain, atomically: true, encoding: .utf8)
        func read(_ url: URL) throws -> [(Int, String)] {
            var lines: [(Int, String)] = []
            try EventLineReader(path: url.path, maximumLineLength: 1000).forEachLine { number, line in
                switch line {
                case .success(let bytes): lines.append((number, String(decoding: bytes, as: UTF8.self)))
                case .failure(let error): lines.append((number, "refused: \(error.kind)"))
                }
            }
            return lines
        }
        let expected = [(1, "{\"a\":1}"), (3, "{\"a\":2}"), (4, "refused: tooLarge"), (5, "{\"a\":3}")]
        #expect(try read(plain).map { "\($0.0) \($0.1)" } == expected.map { "\($0.0) \($0.1)" })
        // gzip(1) output, twice concatenated (as `cat a.gz b.gz` makes).
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(plain.path)' > '\(plain.path).gz' && cat '\(plain.path).gz' '\(plain.path).gz' > '\(plain.path).2.gz'"]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(try read(URL(fileURLWithPath: plain.path + ".gz")).map(\.1) == expected.map(\.1))
        // The first copy's last line has no newline, so it runs on into the second copy's first.
        let twice = try read(URL(fileURLWithPath: plain.path + ".2.gz"))
        #expect(twice.map(\.1) == expected.map(\.1).dropLast() + ["{\"a\":3}{\"a\":1}"] + expected.map(\.1).dropFirst())
        // A truncated archive reads what was complete, then says it was cut short.
        let whole = try Data(contentsOf: URL(fileURLWithPath: plain.path + ".gz"))
        let cut = folder.appendingPathComponent("cut.gz")
        try whole.prefix(whole.count - 12).write(to: cut)
        #expect(throws: SigmaError.self) { try read(cut) }
    }

    @Test("hot reload: events keep flowing while the rule set is replaced, none dropped")
    func hotReload() async throws {
        let first = CompiledRuleSetTests.rules(
            """
            title: old
            logsource: {product: test}
            detection: {a: {x: 'one'}, condition: a}
            """)
        let second = CompiledRuleSetTests.rules(
            """
            title: new
            logsource: {product: test}
            detection: {a: {x: 'one'}, condition: a}
            """)
        let engine = DetectionEngine(CompiledRuleSet(rules: first, mapping: .flat))
        let event = Array(#"{"x":"one"}"#.utf8)
        let counts = try await withThrowingTaskGroup(of: [String: Int].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var session = engine.makeSession()
                    var titles: [String: Int] = [:]
                    for _ in 0..<20_000 {
                        let alerts = try session.process(event)
                        #expect(alerts.count == 1)
                        for alert in alerts { titles[alert.title, default: 0] += 1 }
                    }
                    return titles
                }
            }
            group.addTask {
                for index in 0..<50 {
                    engine.replace(with: CompiledRuleSet(rules: index % 2 == 0 ? second : first, mapping: .flat))
                    try await Task.sleep(for: .milliseconds(1))
                }
                engine.replace(with: CompiledRuleSet(rules: second, mapping: .flat))
                return [:]
            }
            var total: [String: Int] = [:]
            for try await part in group { total.merge(part, uniquingKeysWith: +) }
            return total
        }
        #expect(counts.values.reduce(0, +) == 40_000)
        var session = engine.makeSession()
        #expect(try session.process(event).map(\.title) == ["new"])
        #expect(engine.version == 52)
    }

    @Test("shipped mappings load by name; an unknown name lists the shipped ones")
    func shippedMappings() throws {
        #expect(Set(FieldMapping.shippedNames).isSuperset(of: ["windows-flat", "windows-evtx-nested", "ecs-windows", "aws-cloudtrail"]))
        for name in FieldMapping.shippedNames {
            let mapping = try FieldMapping.named(name)
            #expect(mapping.logSources?.isEmpty == false, "\(name)")
        }
        #expect(try FieldMapping.named("aws-cloudtrail").paths(for: "userIdentity.type").contains(["userIdentity", "type"]))
        #expect(throws: SigmaError.self) { try FieldMapping.named("no-such-format") }
    }

    @Test("windows-flat covers Security 4688 as process creation; windows-flat-sysmon extends it with Sysmon's taxonomy only")
    func sysmonOnlyMapping() throws {
        let rule = """
            title: whoami
            logsource: {product: windows, category: process_creation}
            detection:
              selection: {Image|endswith: '\\whoami.exe'}
              condition: selection
            """
        let audit = #"{"Channel":"Security","EventID":4688,"NewProcessName":"C:\\Windows\\System32\\whoami.exe"}"#
        let sysmon = #"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Image":"C:\\Windows\\System32\\whoami.exe"}"#
        let rules = try SigmaRuleParser().parse(yaml: rule, file: "whoami.yml").map { try $0.get() }
        let both = try CompiledRuleSet(rules: rules, mapping: .named("windows-flat"))
        let sysmonOnly = try CompiledRuleSet(rules: rules, mapping: .named("windows-flat-sysmon"))
        var matcher = RuleMatcher(both)
        #expect(try matcher.match(audit).count == 1)
        #expect(try matcher.match(sysmon).count == 1)
        matcher = RuleMatcher(sysmonOnly)
        #expect(try matcher.match(audit).isEmpty)
        #expect(try matcher.match(sysmon).count == 1)
        let extended = try FieldMapping.named("windows-flat-sysmon")
        #expect(extended.paths(for: "Image") == (try FieldMapping.named("windows-flat")).paths(for: "Image"))
    }

    @Test("a mapping that extends itself is refused with the file named")
    func mappingCycle() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qila-mapping-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: a\nextends: b\n".write(to: folder.appendingPathComponent("a.yml"), atomically: true, encoding: .utf8)
        try "name: b\nextends: a\n".write(to: folder.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        #expect {
            try FieldMapping(contentsOf: folder.appendingPathComponent("a.yml"))
        } throws: { error in
            "\(error)".contains("cycle")
        }
    }
}

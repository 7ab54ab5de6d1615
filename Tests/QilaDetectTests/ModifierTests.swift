import Foundation
import QilaDetect
import Testing

/// Each modifier of the specification on small events, with the edge cases that trip engines.
@Suite("Sigma: modifiers")
struct ModifierTests {
    struct Case: Sendable, CustomStringConvertible {
        var selection: String
        var event: String
        var matches: Bool
        var description: String { "\(selection) on \(event)" }
    }

    static let cases: [Case] = [
        Case(selection: "Image: 'C:\\Windows\\cmd.exe'", event: #"{"Image":"c:\\windows\\CMD.exe"}"#, matches: true),
        Case(selection: "Image|cased: 'C:\\Windows\\cmd.exe'", event: #"{"Image":"c:\\windows\\CMD.exe"}"#, matches: false),
        Case(selection: "Image: 'cmd.exe'", event: #"{"Image":"C:\\cmd.exe"}"#, matches: false),
        Case(selection: "CommandLine|contains: 'whoami'", event: #"{"CommandLine":"cmd /c WHOAMI /all"}"#, matches: true),
        Case(selection: "CommandLine|startswith: 'cmd'", event: #"{"CommandLine":"xcmd"}"#, matches: false),
        Case(selection: "Image|endswith: '\\cmd.exe'", event: #"{"Image":"C:\\x\\cmd.exe"}"#, matches: true),
        Case(selection: "CommandLine|contains|all: ['a', 'b']", event: #"{"CommandLine":"xa"}"#, matches: false),
        Case(selection: "CommandLine|contains|all: ['a', 'b']", event: #"{"CommandLine":"ab"}"#, matches: true),
        Case(selection: "CommandLine|contains: ['a', 'b']", event: #"{"CommandLine":"xb"}"#, matches: true),
        Case(selection: "User|exists: true", event: #"{"User":"x"}"#, matches: true),
        Case(selection: "User|exists: false", event: #"{"Other":"x"}"#, matches: true),
        Case(selection: "User|exists: true", event: #"{"User":null}"#, matches: false),
        Case(selection: "User: null", event: #"{"Other":1}"#, matches: true),
        Case(selection: "User: null", event: #"{"User":"x"}"#, matches: false),
        Case(selection: "User|neq: 'SYSTEM'", event: #"{"User":"system"}"#, matches: false),
        Case(selection: "User|neq: 'SYSTEM'", event: #"{"User":"bob"}"#, matches: true),
        Case(selection: "CommandLine|windash|contains: ' -enc '", event: #"{"CommandLine":"powershell /enc AAA"}"#, matches: true),
        Case(selection: "CommandLine|windash|contains: ' -enc '", event: #"{"CommandLine":"powershell \u2013enc AAA"}"#, matches: true),
        Case(selection: "CommandLine|windash|contains: 'a-b'", event: #"{"CommandLine":"a/b"}"#, matches: false),
        Case(selection: "CommandLine|re: '^cmd\\.exe /c [a-z]+$'", event: #"{"CommandLine":"cmd.exe /c dir"}"#, matches: true),
        Case(selection: "CommandLine|re: '^CMD'", event: #"{"CommandLine":"cmd.exe"}"#, matches: false),
        Case(selection: "CommandLine|re|i: '^CMD'", event: #"{"CommandLine":"cmd.exe"}"#, matches: true),
        Case(selection: "CommandLine|re: 'a\\*b'", event: #"{"CommandLine":"a*b"}"#, matches: true),
        Case(selection: "CommandLine|base64: 'http://'", event: #"{"CommandLine":"aHR0cDovLw=="}"#, matches: true),
        Case(selection: "CommandLine|base64offset|contains: 'http://'", event: #"{"CommandLine":"xx aHR0cDovL yy"}"#, matches: true),
        Case(selection: "CommandLine|base64offset|contains: 'http://'", event: #"{"CommandLine":"xx odHRwOi8v yy"}"#, matches: true),
        Case(selection: "CommandLine|base64offset|contains: 'http://'", event: #"{"CommandLine":"xx h0dHA6Ly yy"}"#, matches: true),
        Case(selection: "CommandLine|base64offset|contains: 'http://'", event: #"{"CommandLine":"http://"}"#, matches: false),
        Case(selection: "CommandLine|wide|base64offset|contains: 'ping'", event: #"{"CommandLine":"-e cABpAG4AZwA"}"#, matches: true),
        Case(selection: "Port|lt: 1024", event: #"{"Port":443}"#, matches: true),
        Case(selection: "Port|gte: 1024", event: #"{"Port":"443"}"#, matches: false),
        Case(selection: "Port|gt: 10", event: #"{"Port":"not a number"}"#, matches: false),
        Case(selection: "SourceIp|cidr: '10.0.0.0/8'", event: #"{"SourceIp":"10.200.1.2"}"#, matches: true),
        Case(selection: "SourceIp|cidr: '10.0.0.0/8'", event: #"{"SourceIp":"11.0.0.1"}"#, matches: false),
        Case(selection: "SourceIp|cidr: '2001:db8::/32'", event: #"{"SourceIp":"2001:db8:1::5"}"#, matches: true),
        Case(selection: "SourceIp|cidr: '10.0.0.0/8'", event: #"{"SourceIp":"::ffff:1.2.3.4"}"#, matches: false),
        Case(selection: "ParentUser|fieldref: User", event: #"{"User":"Bob","ParentUser":"bob"}"#, matches: true),
        Case(selection: "ParentUser|fieldref|neq: User", event: #"{"User":"Bob","ParentUser":"bob"}"#, matches: false),
        Case(selection: "EventID: 4688", event: #"{"EventID":4688}"#, matches: true),
        Case(selection: "EventID: 4688", event: #"{"EventID":"4688"}"#, matches: true),
        Case(selection: "EventID: [1, 4688]", event: #"{"EventID":1}"#, matches: true),
        Case(selection: "Enabled: true", event: #"{"Enabled":true}"#, matches: true),
        Case(selection: "Image: '*\\cmd.???'", event: #"{"Image":"C:\\cmd.exe"}"#, matches: true),
        Case(selection: "Image: 'a\\*b'", event: #"{"Image":"aXb"}"#, matches: false),
        Case(selection: "Tags|contains: 'x'", event: #"{"Tags":["a","box"]}"#, matches: true),
        Case(selection: "Empty: ''", event: #"{"Empty":""}"#, matches: true),
        // Time parts read the date as written, without time-zone conversion.
        Case(selection: "EventTime|hour: 22", event: #"{"EventTime":"2024-03-05T22:10:00+05:00"}"#, matches: true),
        Case(selection: "EventTime|hour: 17", event: #"{"EventTime":"2024-03-05T22:10:00+05:00"}"#, matches: false),
        Case(selection: "EventTime|hour|gte: 22", event: #"{"EventTime":"2024-03-05 23:59:59.999"}"#, matches: true),
        Case(selection: "EventTime|hour|lt: 6", event: #"{"EventTime":"2024-03-05 06:00:00"}"#, matches: false),
        Case(selection: "EventTime|minute: [0, 30]", event: #"{"EventTime":"2024-03-05T10:30:00Z"}"#, matches: true),
        Case(selection: "EventTime|day: 29", event: #"{"EventTime":"2024-02-29"}"#, matches: true),
        Case(selection: "EventTime|day: 29", event: #"{"EventTime":"2023-02-29"}"#, matches: false),
        Case(selection: "EventTime|month: 12", event: #"{"EventTime":"2024-12-31T00:00:00Z"}"#, matches: true),
        Case(selection: "EventTime|year|lt: 2000", event: #"{"EventTime":"1999-12-31T23:59:59Z"}"#, matches: true),
        Case(selection: "EventTime|week: 1", event: #"{"EventTime":"2024-12-30"}"#, matches: true),
        Case(selection: "EventTime|week: 53", event: #"{"EventTime":"2021-01-03"}"#, matches: true),
        Case(selection: "EventTime|hour: 0", event: #"{"EventTime":"2024-03-05"}"#, matches: false),
        Case(selection: "EventTime|hour: 13", event: #"{"EventTime":1700053200}"#, matches: true),
        Case(selection: "EventTime|minute: 20", event: #"{"EventTime":"1700054400123"}"#, matches: true),
        Case(selection: "EventTime|hour|neq: 3", event: #"{"EventTime":"2024-03-05T03:00:00Z"}"#, matches: false),
        Case(selection: "EventTime|hour: 3", event: #"{"EventTime":"yesterday at 3"}"#, matches: false),
    ]

    static func rule(_ selection: String) throws -> SigmaRule {
        let yaml = "title: t\ndetection:\n  sel:\n    \(selection)\n  condition: sel\n"
        return try SigmaRuleParser().parse(yaml: yaml)[0].get()
    }

    @Test("modifier semantics, in the reference interpreter and the compiled rule set", arguments: cases)
    func modifier(_ test: Case) throws {
        let rule = try Self.rule(test.selection)
        let evaluator = try SigmaEvaluator(rule: rule)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(test.event.utf8)) as? [String: Any])
        #expect(evaluator.matches(event) == test.matches)
        var compiled = RuleMatcher(CompiledRuleSet(rules: [rule], mapping: .flat))
        #expect(try compiled.match(test.event).isEmpty != test.matches)
    }

    @Test("expand replaces %name% placeholders by their configured values, in every combination")
    func expand() throws {
        let placeholders = SigmaPlaceholders(values: ["dcs": ["dc01", "dc02*"], "dir": ["C:\\a", "C:\\b"], "tool": ["x.exe"]])
        let parser = SigmaRuleParser(placeholders: placeholders)
        let yaml = """
            title: t
            detection:
              sel:
                Host|expand: '%dcs%'
              path:
                Image|expand|endswith: '%dir%\\%tool%'
              condition: sel and path
            """
        let rule = try parser.parse(yaml: yaml)[0].get()
        let evaluator = try SigmaEvaluator(rule: rule)
        var compiled = RuleMatcher(CompiledRuleSet(rules: [rule], mapping: .flat))
        for (event, expected) in [
            (#"{"Host":"DC01","Image":"D:\\C:\\b\\x.exe"}"#, true),
            (#"{"Host":"dc02.example","Image":"C:\\a\\x.exe"}"#, true),
            (#"{"Host":"dc03","Image":"C:\\a\\x.exe"}"#, false),
            (#"{"Host":"dc01","Image":"C:\\c\\x.exe"}"#, false),
        ] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any])
            #expect(evaluator.matches(object) == expected, "\(event)")
            #expect(try compiled.match(event).isEmpty != expected, "\(event)")
        }
        // A placeholder without values refuses the rule and names it; a lone % is literal.
        let missing = SigmaRuleParser().parse(yaml: yaml)[0]
        #expect(throws: SigmaError.self) { try missing.get() }
        if case .failure(let error) = missing {
            #expect(error.message.contains("%dcs%") && error.line == 4)
        }
        #expect(try placeholders.expand("100% %tool% %%") == ["100% x.exe %%"])
        #expect(try placeholders.expand("%tool%%tool%") == ["x.exex.exe"])
        #expect(throws: SigmaPlaceholders.MissingPlaceholder.self) { try placeholders.expand("%nope%") }
    }

    @Test("placeholder files: values as text or lists; errors name the file and line")
    func placeholderFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qila-placeholders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.yml")
        try "known_cdcs: [dc01, 10.1.2.3]\nadmins: 'PAW-*'\n".write(to: good, atomically: true, encoding: .utf8)
        #expect(try SigmaPlaceholders(contentsOf: good).values == ["known_cdcs": ["dc01", "10.1.2.3"], "admins": ["PAW-*"]])
        let bad = folder.appendingPathComponent("bad.yml")
        try "known_cdcs: [dc01]\nnested: {a: b}\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect {
            try SigmaPlaceholders(contentsOf: bad)
        } throws: { error in
            let error = error as? SigmaError
            return error?.file == "bad.yml" && error?.line == 2 && error?.message.contains("nested") == true
        }
    }

    @Test("dates for the time modifiers: civil days and ISO weeks agree with Foundation's calendar")
    func civilDates() throws {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let seconds = Int.random(in: -2_000_000_000...4_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekOfYear], from: date)
            let text = String(format: "%04d-%02d-%02dT%02d:%02d:00Z", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!)
            for (modifier, expected) in [("year", parts.year!), ("month", parts.month!), ("day", parts.day!), ("hour", parts.hour!), ("minute", parts.minute!), ("week", parts.weekOfYear!)] {
                let evaluator = try SigmaEvaluator(rule: Self.rule("T|\(modifier): \(expected)"))
                #expect(evaluator.matches(["T": text]), "\(modifier) of \(text)")
                if seconds >= 0 { #expect(evaluator.matches(["T": seconds]), "\(modifier) of \(seconds)") }
            }
        }
    }

    @Test("keywords search every value of the event")
    func keywords() throws {
        let yaml = "title: t\ndetection:\n  words:\n    - 'mimikatz'\n    - 'sekurlsa::'\n  condition: words\n"
        let evaluator = try SigmaEvaluator(rule: SigmaRuleParser().parse(yaml: yaml)[0].get())
        #expect(evaluator.matches(["a": ["b": "run MIMIKATZ now"]]))
        #expect(evaluator.matches(["x": ["sekurlsa::logonpasswords"]]))
        #expect(!evaluator.matches(["a": "benign"]))
    }

    @Test("values that cannot hold are refused, with the field named")
    func refused() throws {
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("Path|expand: '%folder%'")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("T|hour: 24")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("T|hour: 'night'")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("T|hour|minute: 3")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("T|hour|contains: 3")) }
        #expect(try SigmaEvaluator(rule: Self.rule("T|hour|lt: 24")).matches(["T": "2024-01-01T23:00"]))
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("Port|lt: 'abc'")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("Ip|cidr: '10.0.0.0/99'")) }
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("X|wide|contains: 'a'")) }
        do {
            _ = try SigmaEvaluator(rule: Self.rule("Ip|cidr: 'nonsense'"))
        } catch let error as SigmaError {
            #expect(error.message.contains("field 'Ip'"))
            #expect(error.line == 4)
        }
    }
}

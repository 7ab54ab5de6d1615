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
    ]

    static func rule(_ selection: String) throws -> SigmaRule {
        let yaml = "title: t\ndetection:\n  sel:\n    \(selection)\n  condition: sel\n"
        return try SigmaRuleParser().parse(yaml: yaml)[0].get()
    }

    @Test("modifier semantics", arguments: cases)
    func modifier(_ test: Case) throws {
        let evaluator = try SigmaEvaluator(rule: Self.rule(test.selection))
        let event = try #require(try JSONSerialization.jsonObject(with: Data(test.event.utf8)) as? [String: Any])
        #expect(evaluator.matches(event) == test.matches)
    }

    @Test("keywords search every value of the event")
    func keywords() throws {
        let yaml = "title: t\ndetection:\n  words:\n    - 'mimikatz'\n    - 'sekurlsa::'\n  condition: words\n"
        let evaluator = try SigmaEvaluator(rule: SigmaRuleParser().parse(yaml: yaml)[0].get())
        #expect(evaluator.matches(["a": ["b": "run MIMIKATZ now"]]))
        #expect(evaluator.matches(["x": ["sekurlsa::logonpasswords"]]))
        #expect(!evaluator.matches(["a": "benign"]))
    }

    @Test("what cannot be evaluated yet is refused, with the field named")
    func refused() throws {
        #expect(throws: SigmaError.self) { try SigmaEvaluator(rule: Self.rule("Path|expand: '%folder%'")) }
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

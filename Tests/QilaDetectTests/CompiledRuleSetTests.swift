import Foundation
import QilaDetect
import QilaTestSupport
import Testing

/// The compiled rule set must find exactly what the reference interpreter finds.
@Suite("Detection: compiled rule set agrees with the reference interpreter")
struct CompiledRuleSetTests {
    static let nestedMapping = RegressionDataTests.repository.appendingPathComponent("mappings/windows-evtx-nested.yml")

    static func rules(_ yaml: String) -> [SigmaRule] {
        SigmaRuleParser().parse(yaml: yaml, file: "test.yml").compactMap { try? $0.get() }
    }

    static func sigmaRules() -> [SigmaRule] {
        ["rules", "rules-emerging-threats", "rules-threat-hunting"].flatMap { folder in
            RuleSetLoader().load([RegressionDataTests.corpus.appendingPathComponent(folder).path]).rules
        }
    }

    /// Compares, event by event, the rules each side finds; returns the number of events checked.
    static func compare(_ rules: [SigmaRule], _ mapping: FieldMapping, events: [String]) throws -> (checked: Int, matches: Int, differences: [String]) {
        let set = CompiledRuleSet(rules: rules, mapping: mapping)
        let evaluators = try set.rules.map { try SigmaEvaluator(rule: $0, mapping: mapping) }
        var matcher = RuleMatcher(set)
        var differences: [String] = []
        var matches = 0
        for (number, line) in events.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let expected = Set(evaluators.indices.filter { evaluators[$0].detects(object) })
            let found = Set(try matcher.match(line).map(\.rule))
            matches += found.count
            if expected != found {
                let missing = expected.subtracting(found).map { set.rules[$0].title }
                let extra = found.subtracting(expected).map { set.rules[$0].title }
                differences.append("event \(number + 1): missing \(missing), extra \(extra)")
            }
        }
        return (events.count, matches, differences)
    }

    @Test("hand-written rules: modifiers, null, exists, fieldref, keywords, negation")
    func handWritten() throws {
        let rules = Self.rules(
            """
            title: contains and prefix
            logsource: {product: test}
            detection:
              a: {CommandLine|contains: ['-enc ', 'bypass'], Image|endswith: '\\\\powershell.exe'}
              condition: a
            ---
            title: null and not
            logsource: {product: test}
            detection:
              a: {User: null}
              b: {Image|startswith: 'C:\\\\Windows\\\\'}
              condition: b and not a
            ---
            title: exists
            logsource: {product: test}
            detection:
              a: {ParentImage|exists: false}
              condition: a
            ---
            title: fieldref
            logsource: {product: test}
            detection:
              a: {Image|fieldref: ParentImage}
              condition: a
            ---
            title: keywords
            logsource: {product: test}
            detection:
              k: ['mimikatz', 'sekurlsa']
              condition: k
            ---
            title: all and cased
            logsource: {product: test}
            detection:
              a: {CommandLine|contains|all: ['net', 'user']}
              b: {CommandLine|cased: 'NET USER'}
              condition: 1 of them
            ---
            title: re and wildcard
            logsource: {product: test}
            detection:
              a: {CommandLine|re: '(?i)invoke-[a-z]+shell'}
              b: {Image: 'C:\\\\*\\\\cmd.e?e'}
              condition: a or b
            ---
            title: numbers and cidr
            logsource: {product: test}
            detection:
              a: {EventID: 4625, Count|gte: 10}
              b: {DestinationIp|cidr: '10.0.0.0/8'}
              condition: a or b
            ---
            title: windash base64offset
            logsource: {product: test}
            detection:
              a: {CommandLine|windash|contains: ' -exec '}
              b: {Payload|base64offset|contains: 'http://'}
              condition: a or b
            """)
        #expect(rules.count == 9)
        let events = [
            #"{"CommandLine":"powershell -enc AAAA","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","User":"x","ParentImage":"C:\\Windows\\explorer.exe"}"#,
            #"{"CommandLine":"NET USER admin","Image":"C:\\Windows\\System32\\cmd.exe","User":null,"ParentImage":"c:\\windows\\system32\\CMD.exe"}"#,
            #"{"CommandLine":"net user","Image":"C:\\Tools\\x.exe","Message":["a","run MIMIKATZ now"]}"#,
            #"{"CommandLine":"Invoke-PowerShell \u2013exec x","EventID":4625,"Count":"12","DestinationIp":"10.1.2.3"}"#,
            #"{"CommandLine":"p \u2014exec","EventID":4625.0,"Count":9,"DestinationIp":"11.1.2.3","Payload":"aHR0cDovL2V2aWw="}"#,
            #"{"Image":"C:\\Windows\\a.exe","User":"","ParentImage":null}"#,
        ]
        let result = try Self.compare(rules, .flat, events: events)
        #expect(result.differences.isEmpty, "\(result.differences)")
        var matcher = RuleMatcher(CompiledRuleSet(rules: rules, mapping: .flat))
        let titles = try events.map { try matcher.match($0).map { matcher.ruleSet.rules[$0.rule].title } }
        #expect(titles[0] == ["contains and prefix", "null and not"])
        #expect(titles[1].contains("fieldref") && titles[1].contains("all and cased") && !titles[1].contains("null and not"))
        #expect(titles[2].contains("keywords") && titles[2].contains("exists"))
        #expect(titles[3].contains("re and wildcard") && titles[3].contains("numbers and cidr") && titles[3].contains("windash base64offset"))
        #expect(titles[4] == ["exists", "windash base64offset"])
        #expect(titles[5].contains("exists") && titles[5].contains("null and not"))
        let alert = try matcher.match(events[0]).first!
        #expect(alert.fields.map(\.name) == ["CommandLine", "Image"])
        #expect(alert.fields[0].value == "powershell -enc AAAA")
    }

    @Test("every SigmaHQ rule on every regression event: same rules as the reference (needs ../shared)")
    func regressionEvents() throws {
        guard SharedCorpus.url("corpora/sigma", unchecked: "the differential test checks nothing") != nil else { return }
        var events: [String] = []
        let enumerator = FileManager.default.enumerator(
            at: RegressionDataTests.corpus.appendingPathComponent("regression_data"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "json" else { continue }
            for object in RegressionDataTests.objects(in: try String(contentsOf: url, encoding: .utf8)) {
                events.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
            }
        }
        let mapping = try FieldMapping(contentsOf: Self.nestedMapping)
        let result = try Self.compare(Self.sigmaRules(), mapping, events: events)
        print("compiled vs reference: \(result.checked) regression events, \(result.matches) matches, \(result.differences.count) differ")
        #expect(result.checked > 100)
        #expect(result.matches > 100)
        #expect(result.differences.isEmpty, "\(result.differences.prefix(10))")
    }

    @Test("every SigmaHQ rule on a sample of EVTX attack samples, nested form (needs ../shared)")
    func attackSamples() throws {
        guard let file = SharedCorpus.url("corpora/events/evtx-attack-samples.nested.jsonl.gz", unchecked: "the differential test checks nothing")
        else { return }
        let lines = try EventLineReader(path: file.path).lines()
        // Every 8th event keeps the test quick; the benchmark cross-check covers everything.
        let sample = lines.enumerated().filter { $0.offset % 8 == 0 }.map(\.element)
        let mapping = try FieldMapping(contentsOf: Self.nestedMapping)
        let result = try Self.compare(Self.sigmaRules(), mapping, events: sample)
        print("compiled vs reference: \(result.checked) attack-sample events, \(result.matches) matches, \(result.differences.count) differ")
        #expect(result.checked > 900)
        #expect(result.matches > 100)
        #expect(result.differences.isEmpty, "\(result.differences.prefix(10))")
    }
}

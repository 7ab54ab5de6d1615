import Foundation
import QilaDetect
import Testing

@Suite("Sigma: log sources from the mapping")
struct LogSourceTests {
    static let mapping: FieldMapping = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("mappings/windows-evtx-nested.yml")
        return try! FieldMapping(contentsOf: url)
    }()

    static func rule(_ logsource: String) throws -> SigmaRule {
        let yaml = "title: t\nlogsource:\n\(logsource)\ndetection:\n  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel\n"
        return try SigmaRuleParser().parse(yaml: yaml)[0].get()
    }

    static func event(channel: String, id: Int) -> [String: Any] {
        ["Event": ["System": ["Channel": channel, "EventID": id], "EventData": ["Image": "C:\\Windows\\System32\\whoami.exe"]]]
    }

    @Test("process creation covers Sysmon 1 and Security 4688, nothing else")
    func processCreation() throws {
        let evaluator = try SigmaEvaluator(rule: Self.rule("  product: windows\n  category: process_creation"), mapping: Self.mapping)
        #expect(evaluator.detects(Self.event(channel: "Microsoft-Windows-Sysmon/Operational", id: 1)))
        #expect(evaluator.detects(Self.event(channel: "Security", id: 4688)))
        #expect(!evaluator.detects(Self.event(channel: "Microsoft-Windows-Sysmon/Operational", id: 11)))
        #expect(!evaluator.detects(Self.event(channel: "System", id: 1)))
        #expect(evaluator.matches(Self.event(channel: "System", id: 1)), "the detection alone still holds")
    }

    @Test("a logsource the mapping does not know applies to no event; the flat mapping applies to all")
    func unknown() throws {
        let rule = try Self.rule("  product: linux\n  category: process_creation")
        #expect(!(try SigmaEvaluator(rule: rule, mapping: Self.mapping)).detects(Self.event(channel: "Security", id: 4688)))
        #expect(try SigmaEvaluator(rule: rule).detects(["Image": "C:\\x\\whoami.exe"]))
    }
}

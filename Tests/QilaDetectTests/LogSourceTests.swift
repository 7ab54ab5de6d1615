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

    /// WMI-Activity 5858 as an EVTX-to-JSON converter writes it: the fields under UserData, inside
    /// an element named by the event's schema.
    static let wmiFailure = #"""
        {"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-WMI-Activity"}},"EventID":5858,"Channel":"Microsoft-Windows-WMI-Activity/Operational","Computer":"ws01.corp.example"},"UserData":{"Operation_ClientFailure":{"#attributes":{"xmlns":"http://manifests.microsoft.com/win/2006/windows/WMI"},"Id":"{00000000-0000-0000-0000-000000000000}","ClientMachine":"WS01","User":"CORP\\alice","ClientProcessId":"4242","Component":"Unknown","Operation":"Start IWbemServices::ExecQuery - root\\cimv2 : SELECT * FROM Win32_ShadowCopy","ResultCode":"0x80041032","PossibleCause":"Unknown"}}}}
        """#

    @Test("UserData fields are found whatever the element holding them is called, by the interpreter and the compiled set alike")
    func userData() throws {
        let rules = CompiledRuleSetTests.rules(
            """
            title: shadow copies listed through WMI, refused
            logsource: {product: windows, service: wmi}
            detection:
              selection: {EventID: 5858, Operation|contains: 'Win32_ShadowCopy', ResultCode: '0x80041032'}
              condition: selection
            ---
            title: another client process
            logsource: {product: windows, service: wmi}
            detection:
              selection: {EventID: 5858, ClientProcessId: '1'}
              condition: selection
            """)
        let object = try JSONSerialization.jsonObject(with: Data(Self.wmiFailure.utf8)) as! [String: Any]
        #expect(try SigmaEvaluator(rule: rules[0], mapping: Self.mapping).detects(object))
        #expect(!(try SigmaEvaluator(rule: rules[1], mapping: Self.mapping)).detects(object))
        var matcher = RuleMatcher(CompiledRuleSet(rules: rules, mapping: Self.mapping))
        #expect(try matcher.match(Self.wmiFailure).map(\.rule) == [0])
        // The interpreter and the compiled set agree on it.
        let both = try CompiledRuleSetTests.compare(rules, Self.mapping, events: [Self.wmiFailure])
        #expect(both.differences.isEmpty && both.matches == 1)
    }
}

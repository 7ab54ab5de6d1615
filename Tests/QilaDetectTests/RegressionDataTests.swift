import Foundation
import QilaDetect
import QilaTestSupport
import Testing
import Yams

/// SigmaHQ's regression data: each test names a rule and events it must match `match_count`
/// times. Log-source filtering is not involved (the events were recorded for that rule); this
/// checks the detection logic and the nested EVTX field mapping.
@Suite("Sigma: SigmaHQ regression data")
struct RegressionDataTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let corpus = SharedCorpus.root.appendingPathComponent("corpora/sigma")

    /// Splits concatenated JSON objects (`{...}{...}` or one per line).
    static func objects(in text: String) -> [[String: Any]] {
        var result: [[String: Any]] = []
        var depth = 0, inString = false, escaped = false
        var start: String.Index?
        for index in text.indices {
            let character = text[index]
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"": inString = true
            case "{":
                if depth == 0 { start = index }
                depth += 1
            case "}":
                depth -= 1
                if depth == 0, let begin = start,
                    let object = try? JSONSerialization.jsonObject(with: Data(text[begin...index].utf8)) as? [String: Any]
                {
                    result.append(object)
                }
            default: break
            }
        }
        return result
    }

    /// Counts in the shared data that the rule as written cannot give, with why.
    static let knownDataErrors: [String: String] = [
        "Cred Dump Tools Dropped Files":
            "the events hold three Sysmon file creations named procdump.exe, procdump64.exe and procdump64a.exe; all three end with a listed name, so the rule matches 3, not the recorded 1 (the EVTX holds the same six events)",
    ]

    @Test("every regression test gives exactly its match count, log source included (needs ../shared)")
    func regression() throws {
        guard SharedCorpus.url("corpora/sigma", unchecked: "the regression test checks nothing") != nil else { return }
        let mapping = try FieldMapping(contentsOf: Self.repository.appendingPathComponent("mappings/windows-evtx-nested.yml"))
        var rules: [String: SigmaRule] = [:]
        for folder in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
            let enumerator = FileManager.default.enumerator(at: Self.corpus.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "yml" else { continue }
                for case .success(let rule) in SigmaRuleParser().parse(yaml: try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent) {
                    if let id = rule.id { rules[id] = rule }
                }
            }
        }
        var checked = 0
        var failures: [String] = []
        let enumerator = FileManager.default.enumerator(at: Self.corpus.appendingPathComponent("regression_data"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.lastPathComponent == "info.yml", let info = try Yams.load(yaml: try String(contentsOf: url, encoding: .utf8)) as? [String: Any],
                let ruleID = (info["rule_metadata"] as? [[String: Any]])?.first?["id"] as? String,
                let tests = info["regression_tests_info"] as? [[String: Any]]
            else { continue }
            guard let rule = rules[ruleID] else {
                failures.append("\(url.deletingLastPathComponent().lastPathComponent): rule \(ruleID) is not in the corpus")
                continue
            }
            let evaluator: SigmaEvaluator
            do {
                evaluator = try SigmaEvaluator(rule: rule, mapping: mapping)
            } catch {
                failures.append("\(rule.title): refused: \(error)")
                continue
            }
            for test in tests {
                guard let path = test["path"] as? String else { continue }
                let json = Self.corpus.appendingPathComponent(path).deletingPathExtension().appendingPathExtension("json")
                let events = Self.objects(in: try String(contentsOf: json, encoding: .utf8))
                let matches = events.filter(evaluator.detects).count
                let expected = test["match_count"] as? Int
                checked += 1
                if let expected, matches != expected, Self.knownDataErrors[rule.title] == nil {
                    failures.append("\(rule.title): \(matches) matches of \(events.count) events, expected \(expected)")
                } else if expected == nil, matches == 0 {
                    failures.append("\(rule.title): no match in \(events.count) events")
                }
            }
        }
        print("SigmaHQ regression data: \(checked) tests checked, \(failures.count) failed")
        for (title, why) in Self.knownDataErrors { print("  known data error, \(title): \(why)") }
        for failure in failures { print("  \(failure)") }
        #expect(checked >= 100)
        #expect(failures.isEmpty)
    }
}

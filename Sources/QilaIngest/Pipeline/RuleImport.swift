import Crypto
import Foundation
public import QilaCore
import QilaDetect

/// Sigma rule files as stored detection rules: id, title and level read from the first
/// document, lint findings for the mappings in use recorded with them.
public enum RuleImport {
    /// A stored rule for `yaml`, named by `file`. Its id is the rule's own `id`, or a hash of the
    /// text when it has none, so importing the same rule again replaces it.
    /// `lint`, when the caller already has it, saves linting twice.
    public static func rule(
        yaml: String, file: String, by user: UserID?, sets: DetectionSets, mappings: Set<String>, lint given: RuleLint? = nil, now: Date = Date()
    ) -> DetectionRule {
        var id: String?
        var title: String?
        var level: String?
        for result in SigmaRuleParser().parseDocuments(yaml: yaml, file: file) {
            switch result {
            case .success(.rule(let rule)):
                id = id ?? rule.id
                title = title ?? rule.title
                level = level ?? rule.level?.rawValue
            case .success(.correlation(let correlation)):
                id = id ?? correlation.id
                title = title ?? correlation.title
                level = level ?? correlation.level?.rawValue
            case .failure:
                break
            }
        }
        let digest = SHA256.hash(data: Data(yaml.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return DetectionRule(
            id: id ?? "sha256-\(digest)", title: title ?? file, level: level, file: file, yaml: yaml, enabled: true,
            problems: (given ?? sets.lint(yaml, file: file, mappings: mappings)).all, uploadedAt: now, uploadedBy: user)
    }

    /// Every `.yml`/`.yaml` file under `paths`, in a stable order, as stored rules. `progress` is
    /// told how many files are read, of how many, after each.
    public static func rules(
        paths: [String], by user: UserID?, sets: DetectionSets, mappings: Set<String>, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [DetectionRule] {
        let (files, missing) = RuleSetLoader.ruleFiles(paths)
        if let first = missing.first { throw QilaError.invalid("\(first)", field: "paths") }
        var rules: [DetectionRule] = []
        rules.reserveCapacity(files.count)
        for file in files {
            rules.append(rule(yaml: try String(contentsOf: file, encoding: .utf8), file: file.lastPathComponent, by: user, sets: sets, mappings: mappings))
            progress(rules.count, files.count)
        }
        return rules
    }
}

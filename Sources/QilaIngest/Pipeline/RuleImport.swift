import Crypto
import Foundation
public import QilaCore
import QilaDetect

/// Sigma rule files as stored detection rules: id, title and level read from the first
/// document, lint findings for the mappings in use recorded with them.
public enum RuleImport {
    /// A stored rule for `yaml`, named by `file`. Its id is the rule's own `id`, or a hash of the
    /// text when it has none, so importing the same rule again replaces it.
    public static func rule(yaml: String, file: String, by user: UserID?, sets: DetectionSets, mappings: Set<String>, now: Date = Date()) -> DetectionRule {
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
            problems: sets.lint(yaml, file: file, mappings: mappings), uploadedAt: now, uploadedBy: user)
    }

    /// Every `.yml`/`.yaml` file under `paths`, in a stable order, as stored rules.
    public static func rules(paths: [String], by user: UserID?, sets: DetectionSets, mappings: Set<String>) throws -> [DetectionRule] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw QilaError.invalid("no such file or directory: \(path)", field: "paths")
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: path)
                while let relative = enumerator?.nextObject() as? String {
                    if relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") { files.append(path + "/" + relative) }
                }
            } else {
                files.append(path)
            }
        }
        return try files.sorted().map { file in
            let text = try String(contentsOfFile: file, encoding: .utf8)
            return rule(yaml: text, file: (file as NSString).lastPathComponent, by: user, sets: sets, mappings: mappings)
        }
    }
}

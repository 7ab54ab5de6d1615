import Foundation

/// Loads every rule under some directories, keeping each refusal with its reason, so that one
/// broken rule never stops the others.
public struct RuleSetLoader: Sendable {
    public struct Report: Sendable {
        public var rules: [SigmaRule] = []
        /// Correlation rules as read; their references are resolved when the set is compiled
        /// (`CorrelationSet`).
        public var correlations: [SigmaCorrelation] = []
        public var refusals: [SigmaError] = []
        public var files = 0
    }

    public var mapping: FieldMapping
    public var placeholders: SigmaPlaceholders

    public init(mapping: FieldMapping = .flat, placeholders: SigmaPlaceholders = .none) {
        self.mapping = mapping
        self.placeholders = placeholders
    }

    /// Reads `.yml` and `.yaml` files below each path (or the files themselves), in a stable order.
    /// A rule is loaded only if it also compiles for evaluation.
    public func load(_ paths: [String]) -> Report {
        var report = Report()
        let (files, missing) = Self.ruleFiles(paths)
        report.refusals = missing
        let parser = SigmaRuleParser(placeholders: placeholders)
        for url in files {
            report.files += 1
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                report.refusals.append(SigmaError("not readable as UTF-8 text", file: url.path))
                continue
            }
            for result in parser.parseDocuments(yaml: text, file: url.path) {
                switch result {
                case .success(.correlation(let correlation)):
                    report.correlations.append(correlation)
                case .success(.rule(let rule)):
                    let (usable, refused) = Self.evaluable([rule], mapping: mapping)
                    report.rules += usable
                    report.refusals += refused
                case .failure(let error):
                    report.refusals.append(error)
                }
            }
        }
        return report
    }

    /// The `.yml` and `.yaml` files below each path (or the files themselves), sorted; a path
    /// that does not exist is a refusal.
    public static func ruleFiles(_ paths: [String]) -> (files: [URL], refusals: [SigmaError]) {
        var files: [URL] = []
        var refusals: [SigmaError] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                refusals.append(SigmaError("no such file or directory", file: path))
                continue
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: nil)
                while let url = enumerator?.nextObject() as? URL {
                    if ["yml", "yaml"].contains(url.pathExtension) { files.append(url) }
                }
            } else {
                files.append(URL(fileURLWithPath: path))
            }
        }
        return (files.sorted { $0.path < $1.path }, refusals)
    }

    /// The rules that can be evaluated under `mapping`, and a refusal (with the rule's file) for each other.
    public static func evaluable(_ rules: [SigmaRule], mapping: FieldMapping) -> (rules: [SigmaRule], refusals: [SigmaError]) {
        var usable: [SigmaRule] = []
        var refusals: [SigmaError] = []
        for rule in rules {
            do {
                _ = try SigmaEvaluator(rule: rule, mapping: mapping)
                usable.append(rule)
            } catch {
                var refusal = error as? SigmaError ?? SigmaError("\(error)")
                refusal.file = refusal.file ?? rule.file
                refusals.append(refusal)
            }
        }
        return (usable, refusals)
    }
}

import ArgumentParser
import Foundation
import QilaDetect

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with Sigma detection rules.", subcommands: [Lint.self])

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load Sigma rules and list every rule that is refused, with file, line and reason.",
            discussion: "Exit status 1 if any rule is refused.")

        @Argument(help: "Rule files or directories (searched for .yml and .yaml).")
        var paths: [String]

        @Option(help: "A shipped mapping's name or a mapping file; the default takes field names as they are.")
        var mapping: String?

        @Option(help: "A YAML file of values for the %name% placeholders of the expand modifier.")
        var placeholders: String?

        func run() throws {
            let fieldMapping = try mapping.map { try FieldMapping.named($0) } ?? .flat
            let report = RuleSetLoader(mapping: fieldMapping, placeholders: try SigmaPlaceholders.load(placeholders)).load(paths)
            // Correlations are checked against the rules that loaded: every reference must resolve.
            let correlations = CorrelationSet(correlations: report.correlations, rules: report.rules, mapping: fieldMapping)
            let refusals = report.refusals + correlations.refusals
            for refusal in refusals { print(refusal) }
            let loaded = report.rules.count + correlations.correlations.count
            let total = loaded + refusals.count
            let share = total == 0 ? 0 : Double(loaded) / Double(total) * 100
            var summary = "\(report.files) files, \(total) rules: \(loaded) loaded (\(String(format: "%.2f", share))%), \(refusals.count) refused"
            if !report.correlations.isEmpty {
                summary += "; of them \(report.correlations.count) correlation rules, \(correlations.correlations.count) loaded"
            }
            print(summary)
            if !refusals.isEmpty { throw ExitCode(1) }
        }
    }
}

extension SigmaPlaceholders {
    /// The placeholders file given on the command line, or none.
    static func load(_ path: String?) throws -> SigmaPlaceholders {
        guard let path else { return .none }
        do {
            return try SigmaPlaceholders(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("--placeholders: \(error)")
        }
    }
}

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
            for refusal in report.refusals { print(refusal) }
            let total = report.rules.count + report.refusals.count
            let share = total == 0 ? 0 : Double(report.rules.count) / Double(total) * 100
            print("\(report.files) files, \(total) rules: \(report.rules.count) loaded (\(String(format: "%.2f", share))%), \(report.refusals.count) refused")
            if !report.refusals.isEmpty { throw ExitCode(1) }
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

import ArgumentParser
import Foundation
import QilaCore
import QilaDetect
import QilaIngest
import QilaStore

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with Sigma detection rules.", subcommands: [Lint.self, Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store Sigma rules for intake to run (a rule already stored, by id, is replaced).",
            discussion: "Each rule is linted against the mappings of the registered sensors (or windows-flat and aws-cloudtrail when none); running servers pick the rules up within seconds.")

        @OptionGroup var storage: StorageOptions

        @Argument(help: "Rule files or directories (searched for .yml and .yaml).")
        var paths: [String]

        @Flag(help: "Store the rules disabled.")
        var disabled = false

        func run() async throws {
            let installation = try await storage.open()
            let desk = RuleDesk(store: installation.store, audit: installation.audit)
            let mappings = try await desk.mappings()
            var rules: [DetectionRule]
            let terminal = isatty(STDERR_FILENO) == 1
            do {
                rules = try RuleImport.rules(paths: paths, by: nil, sets: desk.sets, mappings: mappings) { read, files in
                    // On a terminal, one line rewritten every hundred files.
                    if terminal && (read % 100 == 0 || read == files) {
                        FileHandle.standardError.write(Data("\rread and linted \(read) of \(files) files".utf8))
                    }
                }
                if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            } catch {
                throw ValidationError("\(error)")
            }
            if disabled { rules = rules.map { var rule = $0; rule.enabled = false; return rule } }
            let total = rules.count
            try await desk.importRules(rules) { stored in
                if terminal { FileHandle.standardError.write(Data("\rstored \(stored) of \(total) rules".utf8)) }
            }
            if terminal && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
            let withProblems = rules.filter { !$0.problems.isEmpty }
            for rule in withProblems.prefix(50) { print("\(rule.file): \(rule.problems.joined(separator: "; "))") }
            print("\(rules.count) rules stored, \(withProblems.count) with lint findings (mappings: \(mappings.sorted().joined(separator: ", ")))")
        }
    }

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

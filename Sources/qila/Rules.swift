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
            let feeds = try await desk.feeds(of: rules)
            let unfed = feeds.values.filter { !$0.isFed }.count
            if unfed > 0 {
                print("\(feeds.count - unfed) of the \(feeds.count) enabled rules can be fed by those mappings; \(unfed) read log sources none of them reads (the rules page lists them; `qila rules lint --mapping shipped` says which shipped mapping would)")
            }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load Sigma rules and list every rule that is refused, with file, line and reason.",
            discussion: """
                With --mapping (repeatable; `shipped` for every shipped mapping), also says of each rule whether one of those \
                mappings can feed it: whether one declares the rule's log source and compiles it, and if none does, which log \
                source is missing and which shipped mapping would read it. --by-product adds the share that can fire per product. \
                Exit status 1 if any rule is refused.
                """)

        @Argument(help: "Rule files or directories (searched for .yml and .yaml).")
        var paths: [String]

        @Option(help: "A shipped mapping's name or a mapping file, repeatable; `shipped` for all shipped mappings. Without it field names are taken as they are.")
        var mapping: [String] = []

        @Flag(help: "With --mapping: how many rules of each product can fire.")
        var byProduct = false

        @Flag(help: "With --mapping: do not list each rule that cannot fire, only the totals.")
        var quiet = false

        @Option(help: "A YAML file of values for the %name% placeholders of the expand modifier.")
        var placeholders: String?

        func run() throws {
            let names = mapping.flatMap { $0 == "shipped" ? FieldMapping.shippedNames : [$0] }
            let mappings = try names.map { try FieldMapping.named($0) }
            let fieldMapping = mappings.count == 1 ? mappings[0] : .flat
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
            if !mappings.isEmpty { printCoverage(report.rules, refused: report.refusals.count, mappings: mappings) }
            if !refusals.isEmpty { throw ExitCode(1) }
        }

        /// Each rule that cannot fire on the mappings, the totals, and the shares by product.
        func printCoverage(_ rules: [SigmaRule], refused: Int, mappings: [FieldMapping]) {
            let coverage = RuleCoverage(mappings: mappings)
            var products: [String: (rules: Int, fire: Int)] = [:]
            var fire = 0
            var unfed = 0
            for rule in rules {
                let verdict = coverage.verdict(for: rule)
                let product = rule.logSource.product ?? rule.logSource.category.map { "(\($0))" } ?? "(none)"
                products[product, default: (0, 0)].rules += 1
                switch verdict {
                case .fed:
                    fire += 1
                    products[product, default: (0, 0)].fire += 1
                case .unevaluable(let reasons):
                    if !quiet { print("\(rule.file ?? rule.title): cannot fire: \(reasons.joined(separator: "; "))") }
                case .unfed(let logSource, let shipped):
                    unfed += 1
                    if !quiet { print("\(rule.file ?? rule.title): cannot fire: \(RuleCoverage.unfedFinding(logSource, shipped: shipped))") }
                }
            }
            // Refused rules cannot fire either: the share is of every rule read.
            let total = rules.count + refused
            let share = total == 0 ? 0 : Double(fire) / Double(total) * 100
            print(
                "\(fire) of \(total) rules can fire on \(mappings.count == 1 ? "mapping \(mappings[0].name)" : "\(mappings.count) mappings") (\(String(format: "%.2f", share))%); "
                    + "\(unfed) read by none of them, \(rules.count - fire - unfed) read but not compiled, \(refused) refused")
            guard byProduct else { return }
            print("product\trules\tcan fire\tshare")
            for (product, counts) in products.sorted(by: { ($0.value.rules, $1.key) > ($1.value.rules, $0.key) }) {
                print("\(product)\t\(counts.rules)\t\(counts.fire)\t\(String(format: "%.1f", Double(counts.fire) / Double(counts.rules) * 100))%")
            }
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

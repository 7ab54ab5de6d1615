import ArgumentParser
import Foundation
import QilaAssess

struct Frameworks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assessment frameworks: those shipped with Qila, checked and exported.",
        subcommands: [List.self, Lint.self, Export.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The frameworks shipped: id, name, version and how many requirements are answered.")

        func run() throws {
            let library = try FrameworkLibrary.shipped()
            let rows = library.frameworks.map { [$0.id, $0.name, $0.version, String($0.answered.count)] }
            let header = ["ID", "NAME", "VERSION", "REQUIREMENTS"]
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = row.enumerated().map { $0 == row.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                print(cells.joined(separator: "  "))
            }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check framework files; every problem is printed with its file, line and key.",
            discussion: "Mappings to a shipped framework are checked against its requirements. Exits 1 when a file has a problem.")
        @Argument(help: "Framework YAML files.") var files: [String]

        func run() throws {
            let shipped = try FrameworkLibrary.shipped().frameworks
            var failed = false
            for file in files {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    print("\(file): cannot be read as UTF-8 text")
                    failed = true
                    continue
                }
                var problems = FrameworkParser.lint(text, file: file)
                if problems.isEmpty, let framework = try? FrameworkParser.parse(text, file: file) {
                    do {
                        _ = try FrameworkLibrary(shipped.filter { $0.id != framework.id } + [framework])
                    } catch {
                        problems = error.problems.map { FrameworkProblem(message: $0.message, file: file, line: nil, key: $0.key) }
                    }
                    if problems.isEmpty { print("\(file): \(framework.id) \(framework.version), \(framework.answered.count) requirements answered, no problem") }
                }
                for problem in problems { print(problem) }
                failed = failed || !problems.isEmpty
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a framework as CSV, YAML or an OSCAL catalog (JSON).")
        @Argument(help: "A shipped framework's id (see `qila frameworks list`), or a framework YAML file.") var framework: String
        @Option(help: "csv, yaml or oscal.") var format: FrameworkExport.Format = .yaml
        @Option(help: "A file to write; standard output when left out.") var output: String?

        func run() throws {
            let chosen: Framework
            if framework.hasSuffix(".yaml") || framework.hasSuffix(".yml") {
                guard let text = try? String(contentsOfFile: framework, encoding: .utf8) else { throw ValidationError("\(framework) cannot be read as UTF-8 text") }
                do {
                    chosen = try FrameworkParser.parse(text, file: framework)
                } catch {
                    throw ValidationError("\(error.description)\n(`qila frameworks lint \(framework)` lists the problems)")
                }
            } else {
                guard let shipped = try FrameworkLibrary.shipped().framework(framework) else {
                    throw ValidationError("no framework '\(framework)'; `qila frameworks list` shows them")
                }
                chosen = shipped
            }
            let text = try FrameworkExport.render(chosen, as: format)
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

extension FrameworkExport.Format: ExpressibleByArgument {}

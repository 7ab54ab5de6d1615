import ArgumentParser
import Foundation
import QilaAccess
import QilaAssess
import QilaCore

struct Frameworks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Assessment frameworks: those shipped with Qila and those the authority adds; check files, export, add.",
        subcommands: [List.self, Lint.self, Export.self, Add.self])

    /// Shipped frameworks, and those the installation added when one is named (flags, `QILA_DATA`
    /// or `QILA_DATABASE`, a `qila.yaml`) or a `qila-data` directory is here.
    static func library(_ storage: StorageOptions) async throws -> FrameworkLibrary {
        let environment = ProcessInfo.processInfo.environment
        let named = storage.data != nil || storage.database != nil || storage.config != nil || environment["QILA_DATA"] != nil
            || environment["QILA_DATABASE"] != nil
        let here = FileManager.default.fileExists(atPath: "qila-data") || FileManager.default.fileExists(atPath: "qila.yaml")
        guard named || here else { return try FrameworkLibrary.shipped() }
        let installation = try await storage.open()
        return try await FrameworkDesk(store: installation.store, audit: installation.audit).library()
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The frameworks: id, name, version and how many requirements are answered.",
            discussion: "Those shipped, and those the installation's authority added (their latest versions) when an installation is named or ./qila-data exists.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let library = try await Frameworks.library(storage)
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

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a framework as CSV, YAML or an OSCAL catalog (JSON).")
        @Argument(help: "A shipped framework's id (see `qila frameworks list`), or a framework YAML file.") var framework: String
        @Option(help: "csv, yaml or oscal.") var format: FrameworkExport.Format = .yaml
        @Option(help: "A file to write; standard output when left out.") var output: String?
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let chosen: Framework
            if framework.hasSuffix(".yaml") || framework.hasSuffix(".yml") {
                guard let text = try? String(contentsOfFile: framework, encoding: .utf8) else { throw ValidationError("\(framework) cannot be read as UTF-8 text") }
                do {
                    chosen = try FrameworkParser.parse(text, file: framework)
                } catch {
                    throw ValidationError("\(error.description)\n(`qila frameworks lint \(framework)` lists the problems)")
                }
            } else {
                guard let known = try await Frameworks.library(storage).framework(framework) else {
                    throw ValidationError("no framework '\(framework)'; `qila frameworks list` shows them")
                }
                chosen = known
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

extension Frameworks {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a framework (YAML, or an OSCAL catalog with --oscal-id) to the installation, in an authority account's name.",
            discussion: "The file is checked whole: every problem is printed with its line and key and nothing is stored. A version once added does not change; a revision needs a new version.")
        @OptionGroup var storage: StorageOptions
        @Option(name: .customLong("as"), help: "The authority account adding it (an administrator or analyst).") var account: String
        @Option(help: "Read FILE as an OSCAL catalog (JSON) and give the framework this id (lower case, for example nist-sp800-53-r5).")
        var oscalId: String?
        @Argument(help: "A framework YAML file, or an OSCAL catalog with --oscal-id.") var file: String

        func run() async throws {
            let installation = try await storage.open()
            let subject = try await installation.shellSubject(account: account)
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file) cannot be read") }
            var yaml = String(decoding: data, as: UTF8.self)
            if let oscalId {
                do {
                    let document = try JSONDecoder().decode(OSCALCatalogDocument.self, from: data)
                    yaml = try FrameworkExport.yaml(try OSCALCatalog.framework(from: document, id: oscalId))
                } catch let refused as FrameworkRefused {
                    throw ValidationError("\(file): \(refused.description)")
                } catch {
                    throw ValidationError("\(file) is not an OSCAL catalog this reads: \(error)")
                }
            }
            let desk = FrameworkDesk(store: installation.store, audit: installation.audit)
            do {
                let framework = try await desk.add(
                    yaml: yaml, named: URL(fileURLWithPath: file).lastPathComponent, by: subject,
                    gate: DecisionGate(policy: installation.policy, audit: installation.audit), now: subject.authenticatedAt)
                print("\(framework.id) \(framework.version) added: \(framework.name), \(framework.answered.count) requirements answered")
            } catch let error as QilaError {
                throw ValidationError(error.message)
            }
        }
    }
}

extension FrameworkExport.Format: ExpressibleByArgument {}

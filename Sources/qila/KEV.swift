import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaVulnerabilities

/// `qila kev`: the national catalogue of known exploited vulnerabilities.
struct KEV: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kev",
        abstract: "The national catalogue of known exploited vulnerabilities: import CISA's, export the published one.",
        subcommands: [Import.self, Export.self])
}

extension KEV {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import CISA's Known Exploited Vulnerabilities catalogue (the JSON file downloaded from CISA), in an authority account's name.",
            discussion: """
                The file is checked whole and imported whole or not at all. Entries of an earlier import that this catalogue no longer \
                lists are recorded as removed; entries the authority removed stay removed.
                """)
        @OptionGroup var storage: StorageOptions
        @Option(name: .customLong("as"), help: "The authority account importing it (an administrator or analyst).") var account: String
        @Argument(help: "known_exploited_vulnerabilities.json as CISA publishes it.") var file: String

        func run() async throws {
            let installation = try await storage.open()
            let subject = try await installation.shellSubject(account: account)
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file) cannot be read") }
            let desk = KEVDesk(store: installation.store, audit: installation.audit)
            do {
                let summary = try await desk.importCISA(
                    data, file: URL(fileURLWithPath: file).lastPathComponent, by: subject, gate: DecisionGate(policy: installation.policy, audit: installation.audit),
                    now: subject.authenticatedAt)
                print(
                    "catalogue \(summary.catalogVersion): \(summary.added) added, \(summary.updated) updated, \(summary.unchanged) unchanged, "
                        + "\(summary.dropped.count) no longer listed (recorded as removed)")
                if !summary.keptRemoved.isEmpty { print("left removed as the authority decided: \(summary.keptRemoved.joined(separator: ", "))") }
            } catch let error as QilaError {
                throw ValidationError(error.description)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the published catalogue (TLP:CLEAR entries not removed) in CISA's JSON form, or every TLP:CLEAR entry as NDJSON with removals.")
        @OptionGroup var storage: StorageOptions
        @Flag(help: "One entry a line, removed entries included with their date and reason.") var ndjson = false
        @Option(help: "Write to FILE instead of standard output.") var output: String?

        func run() async throws {
            let installation = try await storage.open()
            let desk = KEVDesk(store: installation.store, audit: installation.audit)
            let data = ndjson ? try await desk.publishedStream() : try await desk.published(title: KEVDesk.defaultTitle).json()
            if let output {
                try data.write(to: URL(fileURLWithPath: output))
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}

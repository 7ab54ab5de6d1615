import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaVulnerabilities

/// `qila assets`: an organisation's inventories of what it runs.
struct Assets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assets", abstract: "Import an organisation's inventory (a CycloneDX 1.5/1.6 JSON SBOM, or CSV).", subcommands: [Import.self])

    static func organisation(_ text: String, in installation: Installation) async throws -> Organisation {
        let all = try await installation.store.organisations()
        guard let found = all.first(where: { $0.id.description == text || $0.name == text }) else { throw ValidationError("--organisation: no organisation '\(text)'") }
        return found
    }
}

extension Assets {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an inventory file for an organisation, replacing its inventory of the same name, and print its exposure count.",
            discussion: """
                CycloneDX JSON (components and nested components: name, version, publisher or supplier or group, cpe, purl) or CSV with a \
                header naming vendor, product, version, cpe and purl columns. The file is checked whole; a problem is named with its JSON \
                place or CSV line.
                """)
        @OptionGroup var storage: StorageOptions
        @Option(help: "The organisation's id or exact name.") var organisation: String
        @Option(name: .customLong("as"), help: "The account importing it (of the organisation, with the right to keep its inventory).") var account: String
        @Option(help: "The inventory's name (a system, a product line); the file's name if left out.") var name: String?
        @Argument(help: "The SBOM or CSV file.") var file: String

        func run() async throws {
            let installation = try await storage.open()
            let subject = try await installation.shellSubject(account: account)
            let target = try await Assets.organisation(organisation, in: installation)
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file) cannot be read") }
            let desk = ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
            do {
                let summary = try await desk.importInventory(
                    data, file: URL(fileURLWithPath: file).lastPathComponent, name: name ?? URL(fileURLWithPath: file).lastPathComponent, organisation: target,
                    by: subject, gate: DecisionGate(policy: installation.policy, audit: installation.audit), now: subject.authenticatedAt)
                print("\(target.name): inventory '\(summary.inventory.name)' (\(summary.inventory.format)), \(summary.inventory.components) components; \(summary.exposures) exposures")
            } catch let error as QilaError {
                throw ValidationError(error.description)
            }
        }
    }
}

/// `qila exposure --organisation ORG`: what an organisation runs that a KEV entry or an advisory names.
struct ExposureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exposure",
        abstract: "List an organisation's exposure: each KEV entry or advisory matched to a component, its due date and status (tab-separated, or JSON lines).")
    @OptionGroup var storage: StorageOptions
    @Option(help: "The organisation's id or exact name.") var organisation: String
    @Option(name: .customLong("as"), help: "The account reading it (of the organisation, its regulator, its auditor or the authority).") var account: String
    @Flag(help: "One JSON object a line instead of a table.") var json = false

    func run() async throws {
        let installation = try await storage.open()
        let subject = try await installation.shellSubject(account: account)
        let target = try await Assets.organisation(organisation, in: installation)
        let desk = ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        let exposures = try await desk.exposure(of: target, for: subject, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
        let today = CivilDay(Date())
        if !json { print(["reference", "cve", "component", "version", "due", "status", "match"].joined(separator: "\t")) }
        for exposure in exposures {
            let match = exposure.approximate ? "approximate (\(exposure.basis))" : exposure.basis
            let due = exposure.due?.description ?? ""
            let status = exposure.isOverdue(on: today) ? "overdue" : exposure.status.rawValue
            if json {
                let object: [String: Any] = [
                    "reference": exposure.target.reference, "kind": exposure.target.kind.rawValue, "cve": exposure.target.cve ?? "",
                    "vendor": exposure.component.vendor, "component": exposure.component.name, "version": exposure.component.version, "due": due,
                    "status": exposure.status.rawValue, "overdue": exposure.isOverdue(on: today), "approximate": exposure.approximate, "basis": exposure.basis,
                    "justification": exposure.statement?.justification ?? "",
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(
                    [exposure.target.reference, exposure.target.cve ?? "", "\(exposure.component.vendor) \(exposure.component.name)".trimmingCharacters(in: .whitespaces),
                     exposure.component.version, due, status, match].joined(separator: "\t"))
            }
        }
    }
}

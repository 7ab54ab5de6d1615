import ArgumentParser
import Foundation
import QilaAccess
import QilaStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "The installation key file: make one, move a single node's keys into the database, rotate it.",
        discussion: """
            Every node of one installation is given the same key file (--key-file or QILA_KEY_FILE, mode \
            0600). It seals the installation's secrets, which live in the database: the password pepper, \
            the sealing key, the internal CA's key and the audit signing keys. With no key file given, the \
            first start makes DATA/installation.key and says so.
            """,
        subcommands: [Generate.self, Show.self, Migrate.self, Rotate.self, FinishRotation.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key file (mode 0600) for a new installation; give it to every node before the first start.")
        @Option(help: "Where to write it; an existing file is never replaced.") var out: String

        func run() throws {
            let key = InstallationKey.generate()
            do { try key.write(to: out) } catch let error as KeyFileError { throw fail(error.description) }
            print("wrote key \(key.identifier) to \(out)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say which key this node uses and under which keys the database holds the secrets.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            let identifiers = try await installation.store.installationKeyIdentifiers()
            print("key file: \(installation.opening.keyFile) (key \(installation.opening.keyIdentifier))")
            print("secrets sealed under: \(identifiers.joined(separator: ", "))")
            if identifiers.count > 1 {
                print("a rotation is under way: once every node runs with the new key file, run qila keys finish-rotation with it")
            }
            try await installation.close()
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a single node's keys (DATA/secrets, DATA/pki/ca-key.pem) into the database, sealed under the key file.",
            discussion: """
                Run it once, with the node stopped, before starting further nodes on the same database. \
                `qila serve` does the same at its first start on a version that keeps keys in the database. \
                The old files are moved to DATA/secrets.moved-to-database; delete them once backups of the \
                database and the key file are checked.
                """)
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            let opening = installation.opening
            if opening.keyFileCreated { print("made the key file \(opening.keyFile) (key \(opening.keyIdentifier)): give this same file to every node") }
            switch opening.secrets {
            case .migrated(let directory): print("moved the keys of \(directory) into the database, sealed under key \(opening.keyIdentifier)")
            case .created: print("there were no keys to move: new ones were made, sealed under key \(opening.keyIdentifier)")
            case .opened: print("the database already holds the installation's keys (sealed under key \(opening.keyIdentifier)): nothing to move")
            }
            try await installation.close()
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal the secrets under a new key file as well, for a rolling restart.",
            discussion: """
                Makes NEW and seals every secret under it beside the current copies, so nodes may be \
                restarted with NEW one at a time while the others keep running on the old file. When all \
                run on NEW, run `qila keys finish-rotation --key-file NEW` to remove the old copies, then \
                destroy the old file. The secrets themselves do not change: passwords, TOTP enrolments, \
                certificates and the audit log stay valid.
                """)
        @OptionGroup var storage: StorageOptions
        @Option(help: "Where to write the new key file (mode 0600); an existing file is never replaced.") var out: String

        func run() async throws {
            let installation = try await storage.open()
            let next = InstallationKey.generate()
            do { try next.write(to: out) } catch let error as KeyFileError { throw fail(error.description) }
            do {
                let current = try InstallationKey.load(path: installation.opening.keyFile)
                let count = try await InstallationVault(store: installation.store).rotate(from: current, to: next)
                try await installation.audit.recordChange(
                    by: nil, "installation.key.rotate", resource: "installation", source: nil,
                    details: ["from": current.identifier, "to": next.identifier])
                print("sealed \(count) secrets under key \(next.identifier) (\(out)) beside key \(current.identifier)")
                print("restart each node with --key-file \(out), then run: qila keys finish-rotation --key-file \(out)")
            } catch let error as SecretsError {
                try? FileManager.default.removeItem(atPath: out)
                throw fail(error.message)
            }
            try await installation.close()
        }
    }

    struct FinishRotation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "finish-rotation",
            abstract: "Remove the copies of the secrets sealed under any key but this node's (run with the new key file).")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            do {
                let kept = try InstallationKey.load(path: installation.opening.keyFile)
                let removed = try await InstallationVault(store: installation.store).finishRotation(keeping: kept)
                try await installation.audit.recordChange(
                    by: nil, "installation.key.finish-rotation", resource: "installation", source: nil,
                    details: ["kept": kept.identifier, "removed": String(removed)])
                print("removed \(removed) copies sealed under older keys; the secrets are now sealed under key \(kept.identifier) alone")
                print("a node still started with an older key file will now refuse to start: destroy those files")
            } catch let error as SecretsError {
                throw fail(error.message)
            }
            try await installation.close()
        }
    }
}

import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaStore

struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue and revoke client certificates from Qila's internal CA (mutual TLS for sensors and API clients).",
        subcommands: [Issue.self, Revoke.self, List.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a client certificate for an account; writes NAME.pem, NAME-key.pem and ca.pem.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The account (usually a service account) the certificate authenticates as.") var username: String
        @Option(help: "Validity in days (1 to 825). Default: 365.") var days = 365
        @Option(help: "Directory to write the files to. Default: the current directory.") var out = "."

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: username) else { throw fail("no user '\(username)'") }
            do {
                let issued = try await installation.issueCertificate(for: user, validityDays: days, by: nil)
                let base = (out as NSString).appendingPathComponent(user.username)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: base + "-key.pem", contents: Data(issued.keyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw fail("cannot write \(base)-key.pem")
                }
                try issued.certificatePEM.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
                try installation.certificateAuthority().certificatePEM.write(
                    toFile: (out as NSString).appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
                print("issued certificate \(issued.serial) for \(user.username), valid \(days) days")
                print("  certificate: \(base).pem\n  private key: \(base)-key.pem\n  CA:          \((out as NSString).appendingPathComponent("ca.pem"))")
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a client certificate; it is refused from the next request on.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Serial number in hexadecimal, as `qila certs list` shows it.") var serial: String
        @Option(help: "Why, for the audit log: key-compromise, superseded, cessation-of-operation, ...") var reason = "unspecified"

        func run() async throws {
            let installation = try await storage.open()
            do {
                try await installation.revokeCertificate(serial: serial, reason: reason, by: nil)
                print("revoked certificate \(serial.lowercased())")
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List issued client certificates.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            for certificate in try await installation.store.certificates() {
                let state = certificate.revokedAt.map { "revoked \($0) (\(certificate.revocationReason ?? ""))" } ?? "valid until \(certificate.notAfter)"
                print("\(certificate.serial)  \(certificate.commonName)  \(state)")
            }
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the tamper-evident audit log.",
        subcommands: [Verify.self, ProveInclusion.self, ProveConsistency.self, PublicKeys.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash every entry and check it against every signed tree head; exit 1 if anything was changed.",
            discussion: """
                By default the public keys are the installation's own (opened with the key file). Someone who does not trust the \
                operators should pass the keys they recorded earlier (`qila audit keys` prints them).
                """)
        @OptionGroup var storage: StorageOptions
        @Option(help: "The Ed25519 public key, base64.") var ed25519Key: String?
        @Option(help: "The ML-DSA-65 public key, base64.") var mldsa65Key: String?

        func run() async throws {
            if let ed25519Key, let mldsa65Key {
                // With both published keys given, no key file is needed: anyone holding a copy of the
                // database can check it.
                guard let ed = Data(base64Encoded: ed25519Key).flatMap({ try? AuditPublicKeys.ed25519($0) }) else {
                    throw ValidationError("--ed25519-key is not a base64 Ed25519 public key")
                }
                guard let ml = Data(base64Encoded: mldsa65Key).flatMap({ try? AuditPublicKeys.mldsa65($0) }) else {
                    throw ValidationError("--mldsa65-key is not a base64 ML-DSA-65 public key")
                }
                let options = try await storage.installationOptions()
                let store: SQLStore
                do { store = try await SQLStore.open(options.database ?? options.dataDirectory + "/qila.sqlite") } catch let error as StoreError { throw fail(error.message) }
                try await report(AuditVerifier(store: store, ed25519: ed, mldsa65: ml))
                return
            }
            let installation = try await storage.open()
            var verifier = installation.verifier()
            if let ed25519Key {
                guard let data = Data(base64Encoded: ed25519Key), let key = try? AuditPublicKeys.ed25519(data) else {
                    throw ValidationError("--ed25519-key is not a base64 Ed25519 public key")
                }
                verifier = AuditVerifier(store: installation.store, ed25519: key, mldsa65: verifier.mldsa65)
            }
            if let mldsa65Key {
                guard let data = Data(base64Encoded: mldsa65Key), let key = try? AuditPublicKeys.mldsa65(data) else {
                    throw ValidationError("--mldsa65-key is not a base64 ML-DSA-65 public key")
                }
                verifier = AuditVerifier(store: installation.store, ed25519: verifier.ed25519, mldsa65: key)
            }
            try await report(verifier)
        }

        func report(_ verifier: AuditVerifier) async throws {
            let report = try await verifier.verify { done, total in
                FileHandle.standardError.write(Data("\rchecked \(done) of \(total) entries".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print(report)
            if !report.isIntact { throw ExitCode(1) }
        }
    }

    struct ProveInclusion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print and check an RFC 9162 inclusion proof for one entry.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The entry's index.") var index: Int64
        @Option(help: "Tree size (default: the latest signed head).") var treeSize: Int64?

        func run() async throws {
            let installation = try await storage.open()
            guard let head = try await installation.store.latestTreeHead() else { throw fail("no tree head has been signed yet") }
            let size = treeSize ?? head.treeSize
            do {
                let proof = try await AuditVerifier.inclusionProof(store: installation.store, index: index, treeSize: size)
                let ok = MerkleTree.verifyInclusion(index: index, treeSize: size, leafHash: proof.leaf, proof: proof.proof, root: proof.root)
                print("entry \(index) in the tree of \(size) entries, root \(Hex.encode(proof.root))")
                for hash in proof.proof { print("  \(Hex.encode(hash))") }
                if size == head.treeSize { print(Hex.encode(proof.root) == head.rootHash ? "matches the signed head" : "DOES NOT match the signed head") }
                print(ok ? "the proof verifies" : "the proof does NOT verify")
                if !ok { throw ExitCode(1) }
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct ProveConsistency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print and check an RFC 9162 consistency proof between two tree sizes.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The older tree size.") var from: Int64
        @Option(help: "The newer tree size.") var to: Int64

        func run() async throws {
            let installation = try await storage.open()
            do {
                let proof = try await AuditVerifier.consistencyProof(store: installation.store, from: from, to: to)
                let ok = MerkleTree.verifyConsistency(firstSize: from, secondSize: to, firstRoot: proof.fromRoot, secondRoot: proof.toRoot, proof: proof.proof)
                print("tree \(from): \(Hex.encode(proof.fromRoot))\ntree \(to): \(Hex.encode(proof.toRoot))")
                for hash in proof.proof { print("  \(Hex.encode(hash))") }
                print(ok ? "the proof verifies" : "the proof does NOT verify")
                if !ok { throw ExitCode(1) }
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct PublicKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keys", abstract: "Print the public keys that verify the signed tree heads.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            print("ed25519: \(installation.audit.ed25519PublicKey.rawRepresentation.base64EncodedString())")
            print("ml-dsa-65: \(installation.audit.mldsa65PublicKey.rawRepresentation.base64EncodedString())")
        }
    }
}

import Crypto

/// Parses the public keys an independent verifier pinned (`qila audit keys` prints them).
enum AuditPublicKeys {
    static func ed25519(_ data: Data) throws -> Curve25519.Signing.PublicKey { try .init(rawRepresentation: data) }
    static func mldsa65(_ data: Data) throws -> MLDSA65.PublicKey { try .init(rawRepresentation: data) }
}

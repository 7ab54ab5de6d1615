public import Foundation
public import QilaStore

/// Opens the installation's secrets with the installation key, creating them at the first start.
///
/// The secrets are rows of `installation_secrets`, each sealed with AES-256-GCM under the key and
/// labelled with the key's identifier. During a rotation they are stored under two keys at once,
/// so nodes restarted with the new key file and nodes still on the old one run side by side.
public struct InstallationVault: Sendable {
    let store: SQLStore

    public init(store: SQLStore) {
        self.store = store
    }

    /// What opening found, for the operator.
    public enum Outcome: Sendable, Equatable {
        /// The secrets were in the database and the key opened them.
        case opened
        /// The database had none: new ones were made and sealed.
        case created
        /// The database had none: those of an older single-node data directory were moved in.
        case migrated(from: String)
    }

    /// The secrets sealed under `key`, made (or moved from `legacyDirectory`, the data directory of
    /// a version that kept them as files) when the database has none yet.
    public func open(with key: InstallationKey, legacyDirectory: String?, now: Date = Date()) async throws -> (ServerSecrets, Outcome) {
        var outcome = Outcome.opened
        var proposed: [String: [UInt8]]?
        if try await store.installationKeyIdentifiers().isEmpty {
            let material: [String: [UInt8]]
            if let legacyDirectory, let legacy = try LegacySecrets.read(dataDirectory: legacyDirectory) {
                material = legacy
                outcome = .migrated(from: legacyDirectory)
            } else {
                material = try ServerSecrets.generateMaterial()
                outcome = .created
            }
            proposed = material
            var sealed: [String: [UInt8]] = [:]
            for (name, value) in material { sealed[name] = try key.seal(value, name: name) }
            // Nodes starting together on an empty database: the first to commit wins, the rest read its secrets.
            try await store.storeInstallationSecrets(keyIdentifier: key.identifier, sealed, at: now)
        }
        let stored = try await store.installationSecrets(keyIdentifier: key.identifier)
        guard !stored.isEmpty else {
            let identifiers = try await store.installationKeyIdentifiers()
            throw SecretsError(
                message: "the key file given (key \(key.identifier)) is not this installation's: its secrets are sealed under key \(identifiers.joined(separator: " and ")). "
                    + "Start every node with the same key file (--key-file or QILA_KEY_FILE)")
        }
        var material: [String: [UInt8]] = [:]
        for (name, sealed) in stored {
            do {
                material[name] = try key.open(sealed, name: name)
            } catch {
                throw SecretsError(message: "the installation's secret \(name) does not open with key \(key.identifier): the row was altered or damaged")
            }
        }
        let secrets = try ServerSecrets(material: material)
        if let proposed, proposed[ServerSecrets.Name.pepper.rawValue] != material[ServerSecrets.Name.pepper.rawValue] {
            // Another node stored its secrets first: ours were not used.
            outcome = .opened
        } else if case .migrated(let directory) = outcome {
            try LegacySecrets.setAside(dataDirectory: directory)
        }
        return (secrets, outcome)
    }

    /// Seals the secrets that `current` opens under `next` as well, so nodes may be restarted with
    /// the new key file one at a time. Returns how many secrets were sealed.
    public func rotate(from current: InstallationKey, to next: InstallationKey, now: Date = Date()) async throws -> Int {
        guard current.identifier != next.identifier else {
            throw SecretsError(message: "the new key is the current key")
        }
        let stored = try await store.installationSecrets(keyIdentifier: current.identifier)
        guard !stored.isEmpty else {
            throw SecretsError(message: "the current key file (key \(current.identifier)) opens none of this installation's secrets")
        }
        var sealed: [String: [UInt8]] = [:]
        for (name, value) in stored {
            let plaintext: [UInt8]
            do { plaintext = try current.open(value, name: name) } catch {
                throw SecretsError(message: "the installation's secret \(name) does not open with key \(current.identifier)")
            }
            sealed[name] = try next.seal(plaintext, name: name)
        }
        try await store.storeInstallationSecrets(keyIdentifier: next.identifier, sealed, at: now)
        return sealed.count
    }

    /// Ends a rotation: removes the copies sealed under any key but `kept`, after checking that
    /// `kept` opens every secret. Returns how many copies were removed.
    public func finishRotation(keeping kept: InstallationKey) async throws -> Int {
        let stored = try await store.installationSecrets(keyIdentifier: kept.identifier)
        var material: [String: [UInt8]] = [:]
        for (name, value) in stored {
            guard let plaintext = try? kept.open(value, name: name) else {
                throw SecretsError(message: "the installation's secret \(name) does not open with key \(kept.identifier): nothing was removed")
            }
            material[name] = plaintext
        }
        _ = try ServerSecrets(material: material)
        return try await store.removeInstallationSecrets(except: kept.identifier)
    }
}

/// The files in which versions before 0.10 kept a node's secrets: `secrets/` and `pki/ca*.pem`.
enum LegacySecrets {
    static func read(dataDirectory: String) throws -> [String: [UInt8]]? {
        let secrets = dataDirectory + "/secrets/"
        guard FileManager.default.fileExists(atPath: secrets + "password-pepper") else { return nil }
        func file(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SecretsError(message: "\(path) is missing: the data directory's keys cannot be moved into the database without it")
            }
            return Array(data)
        }
        var material: [String: [UInt8]] = [
            ServerSecrets.Name.pepper.rawValue: try file(secrets + "password-pepper"),
            ServerSecrets.Name.sealingKey.rawValue: try file(secrets + "sealing-key"),
            ServerSecrets.Name.auditEd25519.rawValue: try file(secrets + "audit-ed25519.key"),
            ServerSecrets.Name.auditMLDSA65Seed.rawValue: try file(secrets + "audit-mldsa65.seed"),
        ]
        let pki = dataDirectory + "/pki/"
        if FileManager.default.fileExists(atPath: pki + "ca-key.pem") {
            material[ServerSecrets.Name.certificateAuthority.rawValue] = try file(pki + "ca.pem") + Array("\n".utf8) + file(pki + "ca-key.pem")
        } else {
            let (certificate, key) = try CertificateAuthority.makeRoot(name: "Qila internal CA")
            material[ServerSecrets.Name.certificateAuthority.rawValue] = try ServerSecrets.authorityMaterial(certificate: certificate, key: key)
        }
        return material
    }

    /// Moves the files aside once the database holds their contents, so that no node reads them
    /// again and an operator can see they were moved (and delete them once backups are checked).
    static func setAside(dataDirectory: String) throws {
        let moved = dataDirectory + "/secrets.moved-to-database"
        try FileManager.default.moveItem(atPath: dataDirectory + "/secrets", toPath: moved)
        if FileManager.default.fileExists(atPath: dataDirectory + "/pki/ca-key.pem") {
            try FileManager.default.moveItem(atPath: dataDirectory + "/pki/ca-key.pem", toPath: moved + "/ca-key.pem")
        }
    }
}

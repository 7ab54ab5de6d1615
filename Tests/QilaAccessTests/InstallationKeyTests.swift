import Crypto
import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

/// Several nodes are one installation only if they share its secrets: one key file opens them all,
/// any other key file is refused by name, and a single node needs no set-up.
@Suite("Installation key and shared secrets")
struct InstallationKeyTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qila-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A first node on a new database, with the database's location for further nodes.
    func firstNode(_ backend: TestBackend) async throws -> (Installation, String) {
        let (location, directory) = try await backend.makeDatabaseLocation()
        var options = Installation.Options(dataDirectory: directory, database: location)
        options.passwordIterations = 1_000
        return (try await Installation.open(options), location)
    }

    /// A further node's options: its own data directory, the database at `location`.
    func secondNode(_ location: String, keyFile: String?) throws -> Installation.Options {
        var options = Installation.Options(dataDirectory: try temporaryDirectory(), database: location)
        options.keyFile = keyFile
        options.passwordIterations = 1_000
        return options
    }

    func fingerprint(_ installation: Installation) -> [String] {
        [
            installation.secrets.pepper.withUnsafeBytes { Hex.encode(Array($0)) },
            installation.secrets.sealingKey.withUnsafeBytes { Hex.encode(Array($0)) },
            Hex.encode(Array(installation.audit.ed25519PublicKey.rawRepresentation)),
            Hex.encode(Array(installation.audit.mldsa65PublicKey.rawRepresentation)),
            installation.secrets.caCertificate.description,
        ]
    }

    @Test("a key file is written owner-only and read back; a file others can read, a wrong file or an existing path is refused by name")
    func keyFile() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/k.key"
        let key = InstallationKey.generate()
        try key.write(to: path)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try InstallationKey.load(path: path).identifier == key.identifier)
        #expect(key.identifier.count == 16)

        #expect(throws: KeyFileError(path: path, problem: .exists)) { try InstallationKey.generate().write(to: path) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: KeyFileError(path: path, problem: .readableByOthers(mode: 0o644))) { try InstallationKey.load(path: path) }
        let error = try #require(throws: KeyFileError.self) { try InstallationKey.load(path: path) }
        #expect(error.description.contains("chmod 600 \(path)"))

        let garbage = directory + "/garbage.key"
        FileManager.default.createFile(atPath: garbage, contents: Data("qila-installation-key-v1 c2hvcnQ=\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: KeyFileError(path: garbage, problem: .notAKeyFile)) { try InstallationKey.load(path: garbage) }
        #expect(throws: KeyFileError(path: directory + "/none.key", problem: .missing)) { try InstallationKey.load(path: directory + "/none.key") }
    }

    @Test("one key file opens the same secrets on a second node; no key file or another key file is refused", arguments: TestBackend.available)
    func sharedSecrets(_ backend: TestBackend) async throws {
        let (first, location) = try await firstNode(backend)
        #expect(first.opening.keyFileCreated)
        #expect(first.opening.keyFile == first.dataDirectory + "/installation.key")
        #expect(first.opening.secrets == .created)
        #expect(!FileManager.default.fileExists(atPath: first.dataDirectory + "/secrets"))

        let second = try await Installation.open(try secondNode(location, keyFile: first.opening.keyFile))
        #expect(second.opening.secrets == .opened)
        #expect(fingerprint(second) == fingerprint(first))
        // What one node seals, another opens; a password set through one verifies on the other.
        #expect(try second.secrets.open(try first.secrets.seal([1, 2, 3])) == [1, 2, 3])
        #expect(try first.secrets.certificateAuthority(directory: try temporaryDirectory()).signed(
            try second.certificateAuthority().issue(commonName: "n2", organisation: "Qila", validityDays: 1, usage: .server(hostnames: ["n2"])).certificate))

        await #expect(throws: SecretsError.self) { try await Installation.open(try secondNode(location, keyFile: nil)) }
        let other = try temporaryDirectory() + "/other.key"
        try InstallationKey.generate().write(to: other)
        let refused = try await #require(throws: SecretsError.self) {
            try await Installation.open(try secondNode(location, keyFile: other))
        }
        #expect(refused.message.contains("is not this installation's"))
        #expect(refused.message.contains(first.opening.keyIdentifier))
    }

    @Test("nodes starting together on an empty database end with one set of secrets", arguments: TestBackend.available)
    func startingTogether(_ backend: TestBackend) async throws {
        let (location, _) = try await backend.makeDatabaseLocation()
        let keyFile = try temporaryDirectory() + "/shared.key"
        try InstallationKey.generate().write(to: keyFile)
        let opened = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                let directory = try temporaryDirectory()
                group.addTask {
                    var options = Installation.Options(dataDirectory: directory, database: location)
                    options.keyFile = keyFile
                    let installation = try await Installation.open(options)
                    return self.fingerprint(installation)
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(Set(opened).count == 1)
    }

    @Test("a single node's key files move into the database unchanged and are set aside", arguments: TestBackend.available)
    func migration(_ backend: TestBackend) async throws {
        let (location, directory) = try await backend.makeDatabaseLocation()
        try FileManager.default.createDirectory(atPath: directory + "/secrets", withIntermediateDirectories: true)
        var files: [String: [UInt8]] = [:]
        for name in ["password-pepper", "sealing-key", "audit-ed25519.key", "audit-mldsa65.seed"] {
            files[name] = Array(SHA256.hash(data: Array(name.utf8)))
            FileManager.default.createFile(atPath: directory + "/secrets/" + name, contents: Data(files[name]!), attributes: [.posixPermissions: 0o600])
        }
        var options = Installation.Options(dataDirectory: directory, database: backend == .sqlite ? nil : location)
        options.passwordIterations = 1_000
        let installation = try await Installation.open(options)
        #expect(installation.opening.secrets == .migrated(from: directory))
        #expect(installation.secrets.pepper.withUnsafeBytes { Array($0) } == files["password-pepper"])
        #expect(installation.secrets.sealingKey.withUnsafeBytes { Array($0) } == files["sealing-key"])
        #expect(Array(installation.secrets.auditEd25519.rawRepresentation) == files["audit-ed25519.key"])
        #expect(!FileManager.default.fileExists(atPath: directory + "/secrets"))
        #expect(FileManager.default.fileExists(atPath: directory + "/secrets.moved-to-database/password-pepper"))
        // The next start opens them from the database.
        let again = try await Installation.open(options)
        #expect(again.opening.secrets == .opened)
        #expect(fingerprint(again) == fingerprint(installation))
    }

    @Test("a rotation seals the same secrets under a new key; old and new open them until it is finished", arguments: TestBackend.available)
    func rotation(_ backend: TestBackend) async throws {
        let (first, location) = try await firstNode(backend)
        let old = try InstallationKey.load(path: first.opening.keyFile)
        let newFile = try temporaryDirectory() + "/new.key"
        let new = InstallationKey.generate()
        try new.write(to: newFile)
        let vault = InstallationVault(store: first.store)
        #expect(try await vault.rotate(from: old, to: new) == 5)
        #expect(Set(try await first.store.installationKeyIdentifiers()) == [old.identifier, new.identifier])

        let onNew = try await Installation.open(try secondNode(location, keyFile: newFile))
        let onOld = try await Installation.open(try secondNode(location, keyFile: first.opening.keyFile))
        #expect(fingerprint(onNew) == fingerprint(first))
        #expect(fingerprint(onOld) == fingerprint(first))

        #expect(try await vault.finishRotation(keeping: new) == 5)
        #expect(try await first.store.installationKeyIdentifiers() == [new.identifier])
        await #expect(throws: SecretsError.self) {
            try await Installation.open(try self.secondNode(location, keyFile: first.opening.keyFile))
        }
        #expect(fingerprint(try await Installation.open(try secondNode(location, keyFile: newFile))) == fingerprint(first))
    }
}

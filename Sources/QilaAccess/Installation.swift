public import Foundation
public import Logging
public import QilaCore
public import QilaStore

/// Everything access control needs, opened from a data directory and a database location.
///
/// The data directory holds the SQLite file (by default), the installation key file unless one is
/// given (`installation.key`), and `pki/` (the CA certificate and this node's server certificate).
/// The installation's secrets are in the database, sealed under the key.
public struct Installation: Sendable {
    public let dataDirectory: String
    public let store: SQLStore
    public let secrets: ServerSecrets
    public let audit: AuditLog
    public let authenticator: Authenticator
    public let directory: Directory
    public let policy: PolicyDecisionPoint
    /// How the secrets were opened: which key file, whether it or the secrets were made just now.
    public let opening: Opening
    /// This node among the installation's nodes.
    public let node: NodeIdentity

    public struct Opening: Sendable {
        public var keyFile: String
        public var keyIdentifier: String
        /// True when this start made the key file (no key file was given and none was in the data directory).
        public var keyFileCreated: Bool
        public var secrets: InstallationVault.Outcome
    }

    public struct Options: Sendable {
        public var dataDirectory: String
        /// A `postgres://` URL, or nil for SQLite at `<data>/qila.sqlite`.
        public var database: String?
        public var breachedPasswordFile: String?
        /// The installation key file; nil: `<data>/installation.key`, made at the first start.
        public var keyFile: String?
        /// This node's name on the nodes page; nil: the host's name and the node's identifier.
        public var nodeName: String?
        /// Lower only in tests: PBKDF2 iterations.
        public var passwordIterations: Int = PasswordHasher.defaultIterations
        public var sessionLimits = SessionLimits()

        public init(dataDirectory: String, database: String? = nil, breachedPasswordFile: String? = nil) {
            self.dataDirectory = dataDirectory
            self.database = database
            self.breachedPasswordFile = breachedPasswordFile
        }
    }

    public static func open(_ options: Options, logger: Logger = Logger(label: "qila")) async throws -> Installation {
        let data = (options.dataDirectory as NSString).standardizingPath
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let store = try await SQLStore.open(options.database ?? data + "/qila.sqlite", logger: logger)
        let (key, keyFile, keyFileCreated) = try await openKey(options: options, dataDirectory: data, store: store)
        let (secrets, outcome) = try await InstallationVault(store: store).open(with: key, legacyDirectory: data)
        let audit = AuditLog(store: store, ed25519: secrets.auditEd25519, mldsa65: secrets.auditMLDSA65)
        let blocklist = try PasswordBlocklist.shipped(breachedFile: options.breachedPasswordFile)
        let authenticator = Authenticator(
            store: store, secrets: secrets, hasher: PasswordHasher(pepper: secrets.pepper, iterations: options.passwordIterations),
            passwordPolicy: PasswordPolicy(blocklist: blocklist), audit: audit, limits: options.sessionLimits)
        return Installation(
            dataDirectory: data, store: store, secrets: secrets, audit: audit, authenticator: authenticator,
            directory: Directory(store: store, audit: audit), policy: PolicyDecisionPoint(),
            opening: Opening(keyFile: keyFile, keyIdentifier: key.identifier, keyFileCreated: keyFileCreated, secrets: outcome),
            node: try NodeIdentity.load(dataDirectory: data, name: options.nodeName))
    }

    /// The key file given, or the one in the data directory; made there when neither exists and
    /// the database holds no secrets yet (a single node needs no set-up).
    static func openKey(options: Options, dataDirectory: String, store: SQLStore) async throws -> (InstallationKey, String, Bool) {
        if let given = options.keyFile {
            return (try InstallationKey.load(path: given), given, false)
        }
        let path = dataDirectory + "/installation.key"
        if FileManager.default.fileExists(atPath: path) {
            return (try InstallationKey.load(path: path), path, false)
        }
        guard try await store.installationKeyIdentifiers().isEmpty else {
            throw SecretsError(
                message: "the database holds this installation's secrets, and this node was given no key file: "
                    + "start it with --key-file (or QILA_KEY_FILE) naming the file the other nodes were given")
        }
        let key = InstallationKey.generate()
        try key.write(to: path)
        return (key, path, true)
    }

    public var pkiDirectory: String { dataDirectory + "/pki" }

    public func certificateAuthority() throws -> CertificateAuthority {
        try secrets.certificateAuthority(directory: pkiDirectory)
    }

    /// The authority's organisation, if set up.
    public func authority() async throws -> Organisation? {
        try await store.organisations().first { $0.kind == .authority }
    }

    /// True until the first authority administrator exists.
    public func needsFirstRun() async throws -> Bool {
        try await store.userCount() == 0
    }

    /// Issues a client certificate for a user (usually a service account) and records it.
    public func issueCertificate(for user: User, validityDays: Int, by actor: Subject?) async throws -> CertificateAuthority.Issued {
        guard let organisation = try await store.organisation(user.organisation) else {
            throw QilaError(.notFound, "the user's organisation is missing")
        }
        guard (1...825).contains(validityDays) else {
            throw QilaError.invalid("must be from 1 to 825 days", field: "days")
        }
        let issued = try certificateAuthority().issue(
            commonName: user.username, organisation: organisation.name, validityDays: validityDays,
            usage: .client(identity: "urn:qila:user:\(user.id)"))
        try await store.recordCertificate(
            DeviceCertificate(
                serial: issued.serial, user: user.id, commonName: user.username, fingerprint: issued.fingerprint,
                notBefore: issued.certificate.notValidBefore, notAfter: issued.certificate.notValidAfter))
        try await audit.append(
            AuditEntry(
                time: Date(), actor: actor?.user.id.description ?? "system", actorOrganisation: actor?.organisation.id,
                action: "certificate.issue", outcome: .success, resource: "certificate:\(issued.serial)",
                details: ["user": user.id.description]))
        return issued
    }

    public func revokeCertificate(serial: String, reason: String, by actor: Subject?) async throws {
        guard let certificate = try await store.certificate(serial: serial.lowercased()) else {
            throw QilaError(.notFound, "no certificate with serial \(serial)")
        }
        guard certificate.revokedAt == nil else {
            throw QilaError(.conflict, "certificate \(serial) was already revoked")
        }
        try await store.revokeCertificate(serial: certificate.serial, at: Date(), reason: reason)
        try await audit.append(
            AuditEntry(
                time: Date(), actor: actor?.user.id.description ?? "system", actorOrganisation: actor?.organisation.id,
                action: "certificate.revoke", outcome: .success, resource: "certificate:\(certificate.serial)",
                details: ["reason": reason]))
    }

    public func verifier() -> AuditVerifier {
        AuditVerifier(store: store, ed25519: secrets.auditEd25519.publicKey, mldsa65: secrets.auditMLDSA65.publicKey)
    }

    public func close() async throws {
        try await store.close()
    }
}

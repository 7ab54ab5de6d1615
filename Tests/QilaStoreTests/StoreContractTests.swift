import Foundation
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

/// One suite, run against every backend: what SQLite accepts, PostgreSQL must too, and the same
/// reads must come back.
@Suite("Store contract")
struct StoreContractTests {
    @Test("CI runs the PostgreSQL half of the contract")
    func postgresIsConfiguredInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(TestBackend.postgresURL != nil, "CI=true but QILA_TEST_POSTGRES_URL is not set")
        }
    }

    func openStore(_ backend: TestBackend) async throws -> SQLStore {
        let (location, _) = try await backend.makeDatabaseLocation()
        return try await SQLStore.open(location)
    }

    @Test("migrations apply once and record their versions", arguments: TestBackend.available)
    func migrations(_ backend: TestBackend) async throws {
        let (location, _) = try await backend.makeDatabaseLocation()
        let store = try await SQLStore.open(location)
        let applied = try await Migrator().appliedVersions(in: store.database)
        #expect(applied == Set(Schema.migrations.map(\.version)))
        try await store.close()
        // Opening again applies nothing and keeps the data.
        let again = try await SQLStore.open(location)
        #expect(try await Migrator().pending(in: again.database).isEmpty)
        #expect(try await again.sectors().count == Sector.defaults.count)
    }

    @Test("a schema newer than the binary is refused with a clear message", arguments: TestBackend.available)
    func newerSchema(_ backend: TestBackend) async throws {
        let store = try await openStore(backend)
        try await store.database.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
        await #expect(throws: StoreError.self) { try await Migrator().pending(in: store.database) }
        do {
            _ = try await Migrator().pending(in: store.database)
        } catch let error as StoreError {
            #expect(error.message.contains("999"))
            #expect(error.message.contains("upgrade qila"))
        }
    }

    @Test("organisations and sectors round-trip", arguments: TestBackend.available)
    func organisations(_ backend: TestBackend) async throws {
        let store = try await openStore(backend)
        #expect(try await store.sectors().map(\.id).contains("telecom"))
        try await store.createSector(Sector(id: "space", name: "Space"))
        let created = Date(timeIntervalSince1970: 1_700_000_000.123)
        let organisation = Organisation(
            name: "Operator Ü", kind: .licensee, sector: "telecom", registrationNumber: "LIC-42", createdAt: created)
        try await store.createOrganisation(organisation)
        let read = try #require(try await store.organisation(organisation.id))
        #expect(read == organisation)
        await #expect(throws: StoreError.self) {
            try await store.createOrganisation(Organisation(name: "operator ü", kind: .bank, sector: "telecom"))
        }
        var renamed = organisation
        renamed.name = "Operator Renamed"
        renamed.sector = "space"
        try await store.updateOrganisation(renamed)
        #expect(try await store.organisation(organisation.id) == renamed)
        #expect(try await store.organisations().map(\.id) == [organisation.id])
    }

    @Test("users, credentials and TOTP replay protection", arguments: TestBackend.available)
    func users(_ backend: TestBackend) async throws {
        let store = try await openStore(backend)
        let organisation = Organisation(name: "Bank", kind: .bank, sector: "banking-finance")
        try await store.createOrganisation(organisation)
        let user = User(
            organisation: organisation.id, username: "Ayesha.Khan", displayName: "Ayesha Khan", email: "a@example.org",
            roles: [.organisationAdmin, .auditor], clearance: .amberStrict, auditedOrganisations: [organisation.id],
            createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        try await store.createUser(user, credentials: UserCredentials(passwordHash: "$x", recoveryCodeHashes: ["a", "b"]))
        #expect(try await store.user(user.id) == user)
        #expect(try await store.user(username: "ayesha.khan")?.id == user.id, "usernames match without regard to case")
        await #expect(throws: StoreError.self) {
            try await store.createUser(
                User(organisation: organisation.id, username: "AYESHA.KHAN", displayName: "x", roles: []),
                credentials: UserCredentials())
        }
        #expect(try await store.claimTOTPStep(100, for: user.id))
        #expect(try await !store.claimTOTPStep(100, for: user.id), "the same step twice is a replay")
        #expect(try await !store.claimTOTPStep(99, for: user.id), "an earlier step is a replay too")
        #expect(try await store.claimTOTPStep(101, for: user.id))
        #expect(try await store.consumeRecoveryCode("a", for: user.id))
        #expect(try await !store.consumeRecoveryCode("a", for: user.id))
        #expect(try await store.credentials(of: user.id)?.recoveryCodeHashes == ["b"])
        var changed = user
        changed.disabled = true
        changed.roles = [.organisationReporter]
        try await store.updateUser(changed)
        #expect(try await store.user(user.id) == changed)
        #expect(try await store.users(in: organisation.id).count == 1)
    }

    @Test("sessions, tokens, certificates and one-time links", arguments: TestBackend.available)
    func sessionsAndTokens(_ backend: TestBackend) async throws {
        let store = try await openStore(backend)
        let organisation = Organisation(name: "Gov", kind: .governmentBody, sector: "government")
        try await store.createOrganisation(organisation)
        let user = User(organisation: organisation.id, username: "u1", displayName: "U", roles: [])
        try await store.createUser(user, credentials: UserCredentials())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for n in 0..<3 {
            try await store.createSession(
                Session(
                    idHash: "h\(n)", user: user.id, method: .password, createdAt: now, lastSeenAt: now, authenticatedAt: now,
                    mfaAt: nil, csrfToken: "c", sourceAddress: "127.0.0.1", userAgent: nil))
        }
        #expect(try await store.session(idHash: "h1")?.user == user.id)
        #expect(try await store.deleteSessions(of: user.id, except: "h0") == 2)
        #expect(try await store.sessions(of: user.id).map(\.idHash) == ["h0"])

        let token = APIToken(
            user: user.id, name: "sensor", prefix: "qila_abc", secretHash: "th", scopes: [.ingest, .read], createdAt: now,
            expiresAt: now.addingTimeInterval(86_400))
        try await store.createToken(token)
        #expect(try await store.token(secretHash: "th") == token)
        try await store.revokeToken(token.id, at: now)
        #expect(try await store.token(token.id)?.isUsable(at: now) == false)

        let certificate = DeviceCertificate(
            serial: "0a", user: user.id, commonName: "u1", fingerprint: "ff", notBefore: now, notAfter: now.addingTimeInterval(10))
        try await store.recordCertificate(certificate)
        #expect(try await store.certificate(fingerprint: "ff") == certificate)
        try await store.revokeCertificate(serial: "0a", at: now, reason: "key compromise")
        #expect(try await store.certificate(serial: "0a")?.revocationReason == "key compromise")

        try await store.createLink(tokenHash: "l1", purpose: "first-run", user: nil, expiresAt: now.addingTimeInterval(60))
        #expect(try await store.linkIsValid(tokenHash: "l1", at: now))
        #expect(try await store.linkIsValid(tokenHash: "l1", at: now.addingTimeInterval(61)) == false, "expired a minute on")
        #expect(try await store.redeemLink(tokenHash: "l1", at: now)?.purpose == "first-run")
        #expect(try await store.redeemLink(tokenHash: "l1", at: now) == nil, "a link works once")
        try await store.setSetting("k", "v1")
        try await store.setSetting("k", "v2")
        #expect(try await store.setting("k") == "v2")
    }

    @Test("data committed before a kill is still there after reopening", arguments: [TestBackend.sqlite])
    func durability(_ backend: TestBackend) async throws {
        let (location, _) = try await backend.makeDatabaseLocation()
        let store = try await SQLStore.open(location)
        try await store.createSector(Sector(id: "durable", name: "Durable"))
        // No close: the file is reopened as a crashed process would leave it.
        let reopened = try await SQLStore.open(location)
        #expect(try await reopened.sectors().contains { $0.id == "durable" })
    }

    @Test("an unreachable PostgreSQL gives one clear message")
    func unreachablePostgres() async throws {
        do {
            _ = try await SQLStore.open("postgres://qila:x@127.0.0.1:1/qila")
            Issue.record("opening a database on port 1 should fail")
        } catch let error as StoreError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("127.0.0.1:1"))
            #expect(!error.message.contains(":x@"), "the password must not appear in the message")
        }
    }
}

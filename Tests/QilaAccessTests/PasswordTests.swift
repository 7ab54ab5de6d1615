import Crypto
import Foundation
import QilaAccess
import QilaTestSupport
import Testing

@Suite("Passwords (NIST SP 800-63B)")
struct PasswordTests {
    static let policy = PasswordPolicy(blocklist: try! PasswordBlocklist.shipped())

    @Test("length rules depend on whether MFA is on")
    func length() {
        #expect(Self.policy.check("violet hinge 42", mfaEnabled: false) == nil, "15 characters alone are enough")
        #expect(Self.policy.check("violet hinge4", mfaEnabled: false) == .tooShort(minimum: 15, actual: 13, mfa: false))
        #expect(Self.policy.check("hinge#42", mfaEnabled: true) == nil, "8 characters with MFA")
        #expect(Self.policy.check("hinge#4", mfaEnabled: true) == .tooShort(minimum: 8, actual: 7, mfa: true))
        let long = String(repeating: "river stone cloud ", count: 7).prefix(128)
        #expect(Self.policy.check(String(long), mfaEnabled: false) == nil, "at least 64 characters are allowed")
        #expect(Self.policy.check(String(repeating: "x", count: 64) + "yz" + String(repeating: "q", count: 63), mfaEnabled: false) == .tooLong(maximum: 128))
    }

    @Test("no composition rules: all lower-case letters and spaces is fine")
    func noComposition() {
        #expect(Self.policy.check("marble orchard lantern", mfaEnabled: false) == nil)
    }

    @Test("characters are counted after NFKC, so look-alike forms do not inflate length")
    func nfkc() {
        // U+FB01 (the "fi" ligature) normalises to two letters; full-width digits to ASCII.
        #expect(PasswordPolicy.normalise("ﬁ１２") == "fi12")
        #expect(Self.policy.check("ｃｏｒｒｅｃｔ ｍａｎｇｏ ｔｅｌｅ", mfaEnabled: false) == nil)
    }

    @Test("blocklisted passwords are refused with a reason", arguments: [
        ("qwertyuiopasdfghjkl", "keyboard"),
        ("1qaz2wsx3edc4rfv", "keyboard"),
        ("passwordpassword", "attackers try first"),
        ("P@ssw0rdP@ssw0rd", "look-alike"),
        ("cybersecurity2026!", "padded with digits, symbols or a year"),
        ("pakistan@1947pakistan", "name of this system or of an institution"),
        ("aaaaaaaaaaaaaaaaaa", "repeats"),
        ("abcabcabcabcabcabc", "repeats"),
        ("123456789012345678", "consecutive"),
        ("qilaqilaqilaqilaqila", "repeats"),
        ("sunshine sunshine 1", "repeated"),
    ])
    func blocklisted(_ password: String, _ expected: String) {
        guard case .blocklisted(let reason) = Self.policy.check(password, mfaEnabled: false) else {
            Issue.record("\(password) should be refused")
            return
        }
        #expect(reason.contains(expected), "\(password): \(reason)")
    }

    @Test("a password containing the username is refused")
    func accountName() {
        #expect(
            Self.policy.check("ayesha.khan is my name", mfaEnabled: false, context: ["username": "ayesha.khan"])
                == .containsAccountName("username"))
    }

    @Test("hashes verify, differ per salt, depend on the pepper, and record their cost")
    func hashing() throws {
        let hasher = PasswordHasher(pepper: SymmetricKey(size: .bits256), iterations: 2_000)
        let first = try hasher.hash("violet hinge 42x")
        let second = try hasher.hash("violet hinge 42x")
        #expect(first != second)
        #expect(first.hasPrefix("$pbkdf2-sha256$i=2000$"))
        #expect(hasher.verify("violet hinge 42x", against: first))
        #expect(!hasher.verify("violet hinge 42y", against: first))
        let otherPepper = PasswordHasher(pepper: SymmetricKey(size: .bits256), iterations: 2_000)
        #expect(!otherPepper.verify("violet hinge 42x", against: first), "without the pepper a hash is useless")
        #expect(!hasher.verify("x", against: "garbage"))
        #expect(PasswordHasher(pepper: SymmetricKey(size: .bits256), iterations: 4_000).needsRehash(first))
        // NFKC: the ligature form of a password verifies against the plain form.
        let ligature = try hasher.hash("ﬁsh and chips today")
        #expect(hasher.verify("fish and chips today", against: ligature))
    }

    @Test("a Pwned Passwords file is searched by hash, and a malformed one is refused")
    func breachedFile() throws {
        let known = ["river stone cloud 99", "hunter2hunter2hunter2", "another breached one"]
        var lines = known.enumerated().map { offset, password in
            Insecure.SHA1.hash(data: Data(password.utf8)).map { String(format: "%02X", $0) }.joined() + ":\(offset + 10)"
        }
        for n in 0..<2_000 {
            lines.append(Insecure.SHA1.hash(data: Data("filler \(n)".utf8)).map { String(format: "%02X", $0) }.joined() + ":1")
        }
        lines.sort()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pwned-\(UUID()).txt").path
        try (lines.joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        let file = try BreachedPasswordFile(path: path)
        for (offset, password) in known.enumerated() {
            #expect(file.occurrences(of: password) == offset + 10, "\(password)")
        }
        for n in stride(from: 0, to: 2_000, by: 97) {
            #expect(file.occurrences(of: "filler \(n)") == 1)
        }
        #expect(file.occurrences(of: "not in the file at all") == nil)
        let blocklist = try PasswordBlocklist.shipped(breachedFile: path)
        #expect(blocklist.reason(for: "river stone cloud 99")?.contains("breached") == true)

        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).txt").path
        try "password123\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: BlocklistError.self) { try BreachedPasswordFile(path: bad) }
    }

    @Test("a password built on a registered organisation's name is refused")
    func organisationNames() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        do {
            try await world.installation.authenticator.setPassword("FirstBank rocks 2026!", for: world.users["b-reporter"]!)
            Issue.record("a password containing 'First Bank' should be refused")
        } catch let refusal as PasswordPolicy.Refusal {
            #expect(refusal.description.contains("organisation registered in Qila"))
        }
    }
}

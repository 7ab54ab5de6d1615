public import Foundation
import Crypto
import CryptoExtras

/// Hashes passwords with PBKDF2-HMAC-SHA256, a per-password salt and a server-side pepper.
///
/// The pepper is a key kept outside the database (a file in the data directory), so a stolen
/// database alone cannot be attacked offline. The stored form names its parameters,
/// `$pbkdf2-sha256$i=600000$<salt>$<hash>` (base64), so the work factor can rise later and old
/// hashes still verify; `needsRehash` tells when to upgrade one at the next sign-in.
public struct PasswordHasher: Sendable {
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    public static let defaultIterations = 600_000

    private let pepper: SymmetricKey
    public let iterations: Int

    public init(pepper: SymmetricKey, iterations: Int = PasswordHasher.defaultIterations) {
        self.pepper = pepper
        self.iterations = iterations
    }

    public func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        let derived = try derive(password, salt: salt, iterations: iterations)
        return "$pbkdf2-sha256$i=\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Checks a password against a stored hash in constant time; false for any malformed hash.
    public func verify(_ password: String, against stored: String) -> Bool {
        guard let parsed = Self.parse(stored),
            let derived = try? derive(password, salt: parsed.salt, iterations: parsed.iterations),
            derived.count == parsed.hash.count
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(derived, parsed.hash) { difference |= a ^ b }
        return difference == 0
    }

    public func needsRehash(_ stored: String) -> Bool {
        (Self.parse(stored)?.iterations ?? 0) < iterations
    }

    /// Spends the time of a real verification, so that unknown usernames take as long as known ones.
    public func verifyDummy(_ password: String) {
        _ = try? derive(password, salt: [UInt8](repeating: 0, count: 16), iterations: iterations)
    }

    private func derive(_ password: String, salt: [UInt8], iterations: Int) throws -> [UInt8] {
        let normalised = PasswordPolicy.normalise(password)
        let peppered = HMAC<SHA256>.authenticationCode(for: Data(normalised.utf8), using: pepper)
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Data(peppered), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }

    static func parse(_ stored: String) -> (iterations: Int, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", parts[1].hasPrefix("i="),
            let iterations = Int(parts[1].dropFirst(2)), iterations > 0,
            let salt = Data(base64Encoded: String(parts[2])), let hash = Data(base64Encoded: String(parts[3]))
        else { return nil }
        return (iterations, Array(salt), Array(hash))
    }
}

public import Crypto
public import Foundation

/// The installation's own keys, kept as files in `<data>/secrets` (mode 0600), never in the
/// database: the password pepper, the key that seals TOTP secrets, and the audit signing keys.
/// A copy of the database alone therefore yields neither passwords nor second factors.
public struct ServerSecrets: Sendable {
    public let directory: String
    public let pepper: SymmetricKey
    public let sealingKey: SymmetricKey
    public let auditEd25519: Curve25519.Signing.PrivateKey
    public let auditMLDSA65: MLDSA65.PrivateKey

    /// Loads the keys, creating any that do not exist yet.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        pepper = SymmetricKey(data: try Self.loadOrCreate(directory, "password-pepper", count: 32))
        sealingKey = SymmetricKey(data: try Self.loadOrCreate(directory, "sealing-key", count: 32))
        auditEd25519 = try Curve25519.Signing.PrivateKey(
            rawRepresentation: try Self.loadOrCreate(directory, "audit-ed25519.key", count: 32))
        auditMLDSA65 = try MLDSA65.PrivateKey(
            seedRepresentation: try Self.loadOrCreate(directory, "audit-mldsa65.seed", count: 32), publicKey: nil)
    }

    static func loadOrCreate(_ directory: String, _ name: String, count: Int) throws -> [UInt8] {
        let path = directory + "/" + name
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == count else {
                throw SecretsError(message: "\(path) holds \(data.count) bytes where \(count) were expected: restore it from backup")
            }
            return Array(data)
        }
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw SecretsError(message: "cannot write \(path)")
        }
        return bytes
    }

    /// Encrypts a small secret (a TOTP key) with AES-GCM under the sealing key.
    public func seal(_ plaintext: [UInt8]) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: sealingKey).combined else {
            throw SecretsError(message: "AES-GCM sealing failed")
        }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: sealingKey))
    }
}

public struct SecretsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

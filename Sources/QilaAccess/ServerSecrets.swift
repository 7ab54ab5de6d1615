public import Crypto
public import Foundation
import QilaCore
import SwiftASN1
public import X509

/// The installation's own secrets: the password pepper, the key that seals TOTP secrets (and
/// webhook and RADIUS secrets, warrant scopes, subscriber identifiers), the audit signing keys and
/// the internal CA. Every node holds the same ones: they live in the database sealed under the
/// installation key (`InstallationVault`), so a copy of the database alone yields none of them.
public struct ServerSecrets: Sendable {
    public let pepper: SymmetricKey
    public let sealingKey: SymmetricKey
    public let auditEd25519: Curve25519.Signing.PrivateKey
    public let auditMLDSA65: MLDSA65.PrivateKey
    public let caCertificate: Certificate
    let caKey: Certificate.PrivateKey

    /// The names under which each secret is stored, with how it is written.
    enum Name: String, CaseIterable {
        case pepper = "password-pepper"
        case sealingKey = "sealing-key"
        case auditEd25519 = "audit-ed25519"
        case auditMLDSA65Seed = "audit-mldsa65-seed"
        /// The CA certificate and its private key, PEM, one after the other: stored as one, so
        /// that a certificate can never be paired with another node's key.
        case certificateAuthority = "certificate-authority"
    }

    /// Reads secrets from their stored form, naming the one that cannot be read.
    init(material: [String: [UInt8]]) throws {
        func bytes(_ name: Name, count: Int?) throws -> [UInt8] {
            guard let value = material[name.rawValue] else {
                throw SecretsError(message: "the installation's secret \(name.rawValue) is missing from the database")
            }
            if let count, value.count != count {
                throw SecretsError(message: "the installation's secret \(name.rawValue) holds \(value.count) bytes where \(count) were expected")
            }
            return value
        }
        pepper = SymmetricKey(data: try bytes(.pepper, count: 32))
        sealingKey = SymmetricKey(data: try bytes(.sealingKey, count: 32))
        auditEd25519 = try Curve25519.Signing.PrivateKey(rawRepresentation: try bytes(.auditEd25519, count: 32))
        auditMLDSA65 = try MLDSA65.PrivateKey(seedRepresentation: try bytes(.auditMLDSA65Seed, count: 32), publicKey: nil)
        let authority = String(decoding: try bytes(.certificateAuthority, count: nil), as: UTF8.self)
        do {
            let documents = try PEMDocument.parseMultiple(pemString: authority)
            guard let certificate = documents.first(where: { $0.discriminator == "CERTIFICATE" }),
                let key = documents.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") })
            else { throw SecretsError(message: "the stored CA lacks its certificate or its key") }
            caCertificate = try Certificate(pemDocument: certificate)
            caKey = try Certificate.PrivateKey(pemDocument: key)
        } catch {
            throw SecretsError(message: "the installation's internal CA cannot be read: \(error)")
        }
        guard caKey.publicKey == caCertificate.publicKey else {
            throw SecretsError(message: "the installation's internal CA key does not match its certificate")
        }
    }

    /// New secrets for a new installation.
    static func generateMaterial(caName: String = "Qila internal CA") throws -> [String: [UInt8]] {
        func random(_ count: Int) -> [UInt8] { SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) } }
        let (certificate, key) = try CertificateAuthority.makeRoot(name: caName)
        return [
            Name.pepper.rawValue: random(32), Name.sealingKey.rawValue: random(32), Name.auditEd25519.rawValue: random(32),
            Name.auditMLDSA65Seed.rawValue: random(32),
            Name.certificateAuthority.rawValue: try authorityMaterial(certificate: certificate, key: key),
        ]
    }

    static func authorityMaterial(certificate: Certificate, key: Certificate.PrivateKey) throws -> [UInt8] {
        Array((try certificate.serializeAsPEM().pemString + "\n" + key.serializeAsPEM().pemString + "\n").utf8)
    }

    /// The internal CA, writing its certificate (public) and this node's server certificate under `directory`.
    public func certificateAuthority(directory: String) throws -> CertificateAuthority {
        try CertificateAuthority(directory: directory, certificate: caCertificate, key: caKey)
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

    public init(message: String) {
        self.message = message
    }
}

public import Crypto
public import Foundation

/// A certificate of a passed course that anyone can check: what it says, signed with Ed25519 under
/// a key derived from the installation's sealing key (the same on every node, never stored). The
/// certificate is `PAYLOAD.SIGNATURE`, both base64url; the payload is JSON. The verify page checks
/// the signature and that the completion was not revoked since.
public struct TrainingCertificate: Sendable, Equatable, Codable {
    /// The completion's id.
    public var id: String
    public var name: String
    public var email: String
    public var course: String
    public var organisation: String
    public var score: Int
    /// `YYYY-MM-DD`.
    public var completed: String

    public init(id: String, name: String, email: String, course: String, organisation: String, score: Int, completed: String) {
        self.id = id
        self.name = name
        self.email = email
        self.course = course
        self.organisation = organisation
        self.score = score
        self.completed = completed
    }

    /// Signs and checks certificates.
    public struct Signer: Sendable {
        private let key: Curve25519.Signing.PrivateKey

        public init(sealingKey: SymmetricKey) {
            let seed = HKDF<SHA256>.deriveKey(inputKeyMaterial: sealingKey, info: Data("qila training certificates v1".utf8), outputByteCount: 32)
            key = (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed.withUnsafeBytes { Data($0) })) ?? Curve25519.Signing.PrivateKey()
        }

        /// The public key, hexadecimal, for anyone who wants to check a certificate offline.
        public var publicKey: String { key.publicKey.rawRepresentation.map { String(format: "%02x", $0) }.joined() }

        public func sign(_ certificate: TrainingCertificate) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let payload = try encoder.encode(certificate)
            let signature = try key.signature(for: payload)
            return Self.base64url(payload) + "." + Self.base64url(signature)
        }

        /// The certificate if the text is one this installation signed, unaltered; nil otherwise.
        public func verify(_ text: String) -> TrainingCertificate? {
            let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
            guard parts.count == 2, parts[0].count <= 8192, let payload = Self.data(base64url: String(parts[0])),
                let signature = Self.data(base64url: String(parts[1])), key.publicKey.isValidSignature(signature, for: payload)
            else { return nil }
            return try? JSONDecoder().decode(TrainingCertificate.self, from: payload)
        }

        static func base64url(_ data: some DataProtocol) -> String {
            Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }

        static func data(base64url text: String) -> Data? {
            guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            return Data(base64Encoded: base64)
        }
    }
}

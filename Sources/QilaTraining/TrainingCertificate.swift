public import Crypto
public import Foundation

/// A certificate of a passed course that anyone can check: what it says, signed with Ed25519 under
/// a key derived from the installation's sealing key (the same on every node, never stored). Its
/// code is `COMPLETION-ID.SIGNATURE` (the signature base64url, over the certificate's JSON with
/// sorted keys), short enough for a QR code; the verify page rebuilds the certificate from the
/// record, checks the signature against it, and that the completion was not revoked since. An
/// altered code, or a record changed after signing, does not verify.
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

        /// The certificate's code: its id and the signature over its canonical JSON.
        public func sign(_ certificate: TrainingCertificate) throws -> String {
            certificate.id + "." + Self.base64url(try key.signature(for: try Self.canonical(certificate)))
        }

        /// The completion id a code names, if the code is well formed.
        public static func id(of code: String) -> String? {
            let parts = code.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
            guard parts.count == 2, (1...64).contains(parts[0].count),
                parts[0].allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }), parts[1].count <= 128
            else { return nil }
            return String(parts[0])
        }

        /// Whether `code` is this installation's signature over exactly `certificate`.
        public func verify(_ code: String, against certificate: TrainingCertificate) -> Bool {
            let parts = code.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
            guard parts.count == 2, String(parts[0]) == certificate.id, let signature = Self.data(base64url: String(parts[1])),
                let payload = try? Self.canonical(certificate)
            else { return false }
            return key.publicKey.isValidSignature(signature, for: payload)
        }

        static func canonical(_ certificate: TrainingCertificate) throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(certificate)
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

public import Foundation
import Crypto

/// Time-based one-time passwords (RFC 6238) over HOTP (RFC 4226).
///
/// Qila issues SHA-1, 6 digits, 30 seconds, which every authenticator app supports; SHA-256 and
/// SHA-512 are here for the RFC's test vectors and for apps that offer them.
public struct TOTP: Sendable {
    public enum Algorithm: String, Sendable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"
    }

    public let secret: [UInt8]
    public let digits: Int
    public let period: Int64
    public let algorithm: Algorithm

    public init(secret: [UInt8], digits: Int = 6, period: Int64 = 30, algorithm: Algorithm = .sha1) {
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// A new random 160-bit secret, the length RFC 4226 recommends.
    public static func generateSecret() -> [UInt8] {
        (0..<20).map { _ in UInt8.random(in: 0...255) }
    }

    public func step(at date: Date) -> Int64 {
        Int64(floor(date.timeIntervalSince1970)) / period
    }

    /// The code for a time step, zero-padded to `digits`.
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8]
        switch algorithm {
        case .sha1: mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: mac = Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at date: Date) -> String { code(step: step(at: date)) }

    /// The time step a code belongs to, looking one step either side of now (clock drift),
    /// or nil if it matches none. The caller must refuse steps already used.
    public func matchingStep(for candidate: String, at date: Date, window: Int64 = 1) -> Int64? {
        let trimmed = candidate.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let now = step(at: date)
        var found: Int64?
        // Compare every candidate step, so that timing does not tell which one matched.
        for step in (now - window)...(now + window) {
            let expected = Array(code(step: step).utf8)
            var difference: UInt8 = 0
            for (a, b) in zip(expected, Array(trimmed.utf8)) { difference |= a ^ b }
            if difference == 0 && found == nil { found = step }
        }
        return found
    }

    /// The `otpauth://` URI authenticator apps read from the enrolment QR code.
    public func provisioningURI(account: String, issuer: String) -> String {
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        components.path = "/\(issuer):\(account)"
        components.queryItems = [
            URLQueryItem(name: "secret", value: Base32.encode(secret)),
            URLQueryItem(name: "issuer", value: issuer),
            URLQueryItem(name: "algorithm", value: algorithm.rawValue),
            URLQueryItem(name: "digits", value: String(digits)),
            URLQueryItem(name: "period", value: String(period)),
        ]
        return components.string ?? ""
    }
}

import Crypto
import Foundation
import QilaCore

/// Random secrets handed to browsers and clients, and the hashes kept of them.
public enum RandomSecret {
    /// 32 random bytes in URL-safe base64 without padding (43 characters).
    public static func make(bytes count: Int = 32) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 in hexadecimal: what the store keeps of a session id, token or link.
    public static func hash(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }
}

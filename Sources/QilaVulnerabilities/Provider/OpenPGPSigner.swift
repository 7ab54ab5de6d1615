public import Crypto
public import Foundation

/// OpenPGP signatures for the CSAF provider (CSAF 2.1 section 7.1.19 asks for a detached,
/// ASCII-armoured OpenPGP signature beside every document, and 7.1.20 for the public key).
///
/// The key is a version 4 EdDSA key on Ed25519 (RFC 9580 section 5.5.5.5, "EdDSALegacy",
/// algorithm 22, which GnuPG 2.2 and every current OpenPGP implementation read), derived by HKDF
/// from the installation's sealing key: every node holds it, none stores it, and it signs nothing
/// but CSAF documents. Packets are written as RFC 9580 describes them (docs/decisions/0029).
public struct OpenPGPSigner: Sendable {
    private let key: Curve25519.Signing.PrivateKey
    /// When the key was made: part of its fingerprint, so fixed once for the installation.
    public let created: UInt32
    public let userID: String

    public init(sealingKey: SymmetricKey, created: UInt32, userID: String) {
        let seed = HKDF<SHA256>.deriveKey(inputKeyMaterial: sealingKey, info: Data("qila csaf openpgp v1".utf8), outputByteCount: 32)
        key = (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed.withUnsafeBytes { Data($0) })) ?? Curve25519.Signing.PrivateKey()
        self.created = created
        self.userID = userID
    }

    /// The public key packet's body: version, creation time, algorithm, the curve's OID, the point.
    var publicKeyBody: [UInt8] {
        // 1.3.6.1.4.1.11591.15.1, the Ed25519 curve in OpenPGP.
        let oid: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]
        return [4] + Self.bigEndian(created) + [22, UInt8(oid.count)] + oid + Self.mpi([0x40] + Array(key.publicKey.rawRepresentation))
    }

    /// The version 4 fingerprint: SHA-1 over 0x99, the body's length and the body (RFC 9580 section 5.5.4.2).
    public var fingerprint: String {
        let body = publicKeyBody
        let digest = Insecure.SHA1.hash(data: [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body)
        return digest.map { String(format: "%02X", $0) }.joined()
    }

    var fingerprintBytes: [UInt8] {
        let body = publicKeyBody
        return Array(Insecure.SHA1.hash(data: [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body))
    }

    /// The transferable public key, armoured: the key, its user ID and a positive certification of both.
    public var armoredPublicKey: String {
        let body = publicKeyBody
        let user = Array(userID.utf8)
        let prefix = [0x99, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body + [0xB4] + Self.bigEndian(UInt32(user.count)) + user
        // Key flags: certify and sign; the preferred hash: SHA-256.
        let certification = signature(type: 0x13, data: prefix, at: created, extra: [(27, [0x03]), (21, [8])])
        let packets = Self.packet(6, body) + Self.packet(13, user) + Self.packet(2, certification)
        return Self.armor(packets, kind: "PUBLIC KEY BLOCK")
    }

    /// A detached signature over the document's bytes (a binary document signature), armoured.
    public func sign(_ document: Data, at time: Date) -> String {
        let seconds = UInt32(clamping: max(Int64(time.timeIntervalSince1970), Int64(created)))
        return Self.armor(Self.packet(2, signature(type: 0x00, data: Array(document), at: seconds, extra: [])), kind: "SIGNATURE")
    }

    /// A version 4 signature packet's body (RFC 9580 section 5.2.3): the hashed subpackets (creation
    /// time, issuer fingerprint, any extra), the issuer's key ID unhashed, and the EdDSA values R and S
    /// over the SHA-256 digest of the data, the hashed part and the trailer.
    private func signature(type: UInt8, data: [UInt8], at seconds: UInt32, extra: [(UInt8, [UInt8])]) -> [UInt8] {
        let fingerprint = fingerprintBytes
        var hashed = Self.subpacket(2, Self.bigEndian(seconds)) + Self.subpacket(33, [4] + fingerprint)
        for (kind, value) in extra { hashed += Self.subpacket(kind, value) }
        let head: [UInt8] = [4, type, 22, 8, UInt8(hashed.count >> 8), UInt8(hashed.count & 0xFF)] + hashed
        let trailer: [UInt8] = [4, 0xFF] + Self.bigEndian(UInt32(head.count))
        let digest = Array(SHA256.hash(data: data + head + trailer))
        let signed = Array((try? key.signature(for: digest)) ?? Data(count: 64))
        let unhashed = Self.subpacket(16, Array(fingerprint.suffix(8)))
        return head + [UInt8(unhashed.count >> 8), UInt8(unhashed.count & 0xFF)] + unhashed + Array(digest.prefix(2))
            + Self.mpi(Array(signed.prefix(32))) + Self.mpi(Array(signed.suffix(32)))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// A multiprecision integer: its length in bits, then its bytes without leading zeros.
    static func mpi(_ bytes: [UInt8]) -> [UInt8] {
        let significant = Array(bytes.drop { $0 == 0 })
        guard let first = significant.first else { return [0, 0] }
        let bits = (significant.count - 1) * 8 + (8 - first.leadingZeroBitCount)
        return [UInt8(bits >> 8), UInt8(bits & 0xFF)] + significant
    }

    static func subpacket(_ kind: UInt8, _ value: [UInt8]) -> [UInt8] { [UInt8(value.count + 1), kind] + value }

    /// A packet with an OpenPGP (new-format) header.
    static func packet(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0xC0 | tag]
        switch body.count {
        case ..<192: header.append(UInt8(body.count))
        case ..<8384:
            let length = body.count - 192
            header += [UInt8(length >> 8) + 192, UInt8(length & 0xFF)]
        default: header += [0xFF] + bigEndian(UInt32(body.count))
        }
        return header + body
    }

    /// ASCII armour (RFC 9580 section 6.2) with the CRC-24 checksum line.
    static func armor(_ bytes: [UInt8], kind: String) -> String {
        let base64 = Data(bytes).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        var crc: UInt32 = 0xB704CE
        for byte in bytes {
            crc ^= UInt32(byte) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x1000000 != 0 { crc ^= 0x1864CFB }
            }
        }
        crc &= 0xFFFFFF
        let checksum = Data([UInt8(crc >> 16), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]).base64EncodedString()
        return "-----BEGIN PGP \(kind)-----\n\n\(base64)\n=\(checksum)\n-----END PGP \(kind)-----\n"
    }
}

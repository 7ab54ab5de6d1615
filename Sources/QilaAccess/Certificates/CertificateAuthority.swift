public import Crypto
public import Foundation
import QilaCore
import SwiftASN1
public import X509

/// Qila's internal certificate authority, one per installation.
///
/// It signs each node's HTTPS server certificate and the client certificates with which sensors,
/// API clients and other nodes authenticate (mutual TLS). Keys are ECDSA P-256. The CA's key is
/// one of the installation's secrets (in the database, sealed under the installation key); the
/// node's `pki` directory holds only the CA certificate (public) and this node's own server
/// certificate and key.
public struct CertificateAuthority: Sendable {
    public let directory: String
    public let certificate: Certificate
    private let key: Certificate.PrivateKey

    public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
    public var caFile: String { directory + "/ca.pem" }
    public var serverCertificateFile: String { directory + "/server.pem" }
    public var serverKeyFile: String { directory + "/server-key.pem" }

    /// The CA, with its certificate written to `directory/ca.pem` for TLS libraries and people to read.
    init(directory: String, certificate: Certificate, key: Certificate.PrivateKey) throws {
        self.directory = directory
        self.certificate = certificate
        self.key = key
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let pem = try certificate.serializeAsPEM().pemString
        if (try? String(contentsOfFile: caFile, encoding: .utf8)) != pem {
            try Self.write(pem, to: caFile, mode: 0o644)
        }
    }

    /// A new self-signed root, valid ten years.
    static func makeRoot(name: String) throws -> (Certificate, Certificate.PrivateKey) {
        let caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Qila")
            CommonName(name)
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: caKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caKey.publicKey)
            },
            issuerPrivateKey: caKey
        )
        return (certificate, caKey)
    }

    /// True when this CA signed `leaf`.
    public func signed(_ leaf: Certificate) -> Bool {
        leaf.issuer == certificate.subject && certificate.publicKey.isValidSignature(leaf.signature, for: leaf)
    }

    /// Makes sure this node has a server certificate for these names, issued by this CA (a node
    /// that once made its own CA gets a new one) and not about to expire.
    public func ensureServerCertificate(hostnames: [String]) throws {
        if let existing = try? String(contentsOfFile: serverCertificateFile, encoding: .utf8),
            let parsed = try? Certificate(pemEncoded: existing),
            signed(parsed),
            parsed.notValidAfter > Date().addingTimeInterval(30 * 86_400),
            let names = try? parsed.extensions.subjectAlternativeNames,
            Set(hostnames).isSubset(of: Set(names.compactMap { name -> String? in
                if case .dnsName(let dns) = name { return dns }
                return nil
            }).union(["127.0.0.1", "::1"]))
        {
            return
        }
        let issued = try issue(
            commonName: hostnames.first ?? "localhost", organisation: "Qila", validityDays: 397,
            usage: .server(hostnames: hostnames))
        try Self.write(issued.keyPEM, to: serverKeyFile, mode: 0o600)
        try Self.write(issued.certificatePEM, to: serverCertificateFile, mode: 0o644)
    }

    public enum Usage: Sendable {
        case server(hostnames: [String])
        case client(identity: String)
    }

    public var nodeCertificateFile: String { directory + "/node.pem" }
    public var nodeKeyFile: String { directory + "/node-key.pem" }

    /// Makes sure this node has a client certificate naming it (`urn:qila:node:<id>`), issued by
    /// this CA and not about to expire: what it presents when it calls another node.
    public func ensureNodeCertificate(node id: String) throws {
        if let existing = try? String(contentsOfFile: nodeCertificateFile, encoding: .utf8),
            let parsed = try? Certificate(pemEncoded: existing), signed(parsed),
            parsed.notValidAfter > Date().addingTimeInterval(30 * 86_400), Self.nodeIdentity(of: parsed) == id
        {
            return
        }
        let issued = try issue(commonName: id, organisation: "Qila nodes", validityDays: 397, usage: .client(identity: Self.nodePrefix + id))
        try Self.write(issued.keyPEM, to: nodeKeyFile, mode: 0o600)
        try Self.write(issued.certificatePEM, to: nodeCertificateFile, mode: 0o644)
    }

    static let nodePrefix = "urn:qila:node:"

    /// The node a client certificate names, if it names one (only this CA's are ever seen: the
    /// TLS handshake refuses others).
    public static func nodeIdentity(of certificate: Certificate) -> String? {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(nodePrefix) { return String(uri.dropFirst(nodePrefix.count)) }
        }
        return nil
    }

    public struct Issued: Sendable {
        public var certificate: Certificate
        public var certificatePEM: String
        public var keyPEM: String
        public var serial: String
        /// SHA-256 of the DER certificate, lower-case hexadecimal.
        public var fingerprint: String
    }

    public func issue(commonName: String, organisation: String, validityDays: Int, usage: Usage) throws -> Issued {
        let leafKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let now = Date()
        let subject = try DistinguishedName {
            OrganizationName(organisation)
            CommonName(commonName)
        }
        let extensions: Certificate.Extensions
        switch usage {
        case .server(let hostnames):
            var names: [GeneralName] = []
            for host in hostnames {
                if let bytes = Self.ipBytes(host) {
                    names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
                } else {
                    names.append(.dnsName(host))
                }
            }
            for loopback in ["127.0.0.1", "::1"] where !hostnames.contains(loopback) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(Self.ipBytes(loopback)!))))
            }
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            }
        case .client(let identity):
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectAlternativeNames([.uniformResourceIdentifier(identity)])
                AuthorityKeyIdentifier(keyIdentifier: try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            }
        }
        let issued = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: leafKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(Double(validityDays) * 86_400),
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: key
        )
        return Issued(
            certificate: issued,
            certificatePEM: try issued.serializeAsPEM().pemString,
            keyPEM: try leafKey.serializeAsPEM().pemString,
            serial: Self.serialText(issued.serialNumber),
            fingerprint: try Self.fingerprint(issued)
        )
    }

    public static func serialText(_ serial: Certificate.SerialNumber) -> String {
        Hex.encode(serial.bytes)
    }

    public static func fingerprint(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return Hex.encode(SHA256.hash(data: serializer.serializedBytes))
    }

    /// The identity (`urn:qila:user:<id>`) a client certificate names, if Qila issued it.
    public static func identity(of certificate: Certificate) -> String? {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("urn:qila:user:") { return uri }
        }
        return nil
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else { throw SecretsError(message: "cannot write \(path)") }
    }
}

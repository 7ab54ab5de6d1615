public import Foundation

/// A client certificate issued by Qila's internal CA to a sensor or API client.
public struct DeviceCertificate: Sendable, Hashable, Codable {
    /// Serial number in lower-case hexadecimal.
    public var serial: String
    /// The service account or person the certificate authenticates as.
    public var user: UserID
    public var commonName: String
    /// SHA-256 of the DER certificate, lower-case hexadecimal.
    public var fingerprint: String
    public var notBefore: Date
    public var notAfter: Date
    public var revokedAt: Date?
    public var revocationReason: String?

    public init(
        serial: String, user: UserID, commonName: String, fingerprint: String, notBefore: Date, notAfter: Date,
        revokedAt: Date? = nil, revocationReason: String? = nil
    ) {
        self.serial = serial
        self.user = user
        self.commonName = commonName
        self.fingerprint = fingerprint
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revokedAt = revokedAt
        self.revocationReason = revocationReason
    }
}

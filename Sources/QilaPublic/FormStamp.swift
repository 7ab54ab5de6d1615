import Crypto
public import Foundation

/// The time-based check on the public forms, which needs no script and no third party: each form
/// carries a stamp of when it was shown, authenticated with a key derived from the installation's
/// sealing key (so every node checks the stamps of every other). A form sent back sooner than a
/// person could have filled it in, or long after, is refused; a forged or altered stamp too.
public struct FormStamp: Sendable {
    private let key: SymmetricKey
    /// Fewer seconds than this between showing and sending: a script, not a person.
    public let minimumSeconds: Int
    /// More than this: the page was left open; it is shown again with a fresh stamp.
    public let maximumSeconds: Int

    public init(sealingKey: SymmetricKey, minimumSeconds: Int = 3, maximumSeconds: Int = 4 * 3600) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: sealingKey, info: Data("qila public form stamp v1".utf8), outputByteCount: 32)
        self.minimumSeconds = minimumSeconds
        self.maximumSeconds = maximumSeconds
    }

    /// The stamp for `form` shown at `now`: `seconds.mac`.
    public func issue(form: String, now: Date) -> String {
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        return "\(seconds).\(mac(form: form, seconds: seconds))"
    }

    /// Refuses a stamp that is missing, forged, for another form, too fresh or too old.
    public func check(_ stamp: String, form: String, now: Date) throws(PublicRefusal) {
        let parts = stamp.split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]), constantTimeEqual(String(parts[1]), mac(form: form, seconds: seconds)) else {
            throw PublicRefusal(.invalid, field: "stamp", key: "err_stamp_invalid")
        }
        let elapsed = Int64(now.timeIntervalSince1970.rounded(.down)) - seconds
        if elapsed < Int64(minimumSeconds) {
            throw PublicRefusal(.throttled, field: "stamp", key: "err_stamp_fast", values: ["seconds": String(minimumSeconds)])
        }
        if elapsed > Int64(maximumSeconds) { throw PublicRefusal(.invalid, field: "stamp", key: "err_stamp_expired") }
    }

    private func mac(form: String, seconds: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(form)|\(seconds)".utf8), using: key)
        return Data(code).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

}

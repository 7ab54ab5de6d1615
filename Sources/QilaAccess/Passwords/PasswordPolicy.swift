public import Foundation

/// NIST SP 800-63B password rules: length, not composition.
///
/// At least 15 characters when the password is the only factor, 8 when MFA is on; up to 128
/// accepted (more than the 64 the guideline asks for); compared after Unicode NFKC normalisation;
/// refused when it is on the blocklist or is built from the account's own names.
public struct PasswordPolicy: Sendable {
    public static let minimumSingleFactor = 15
    public static let minimumWithMFA = 8
    public static let maximum = 128

    public let blocklist: PasswordBlocklist

    public init(blocklist: PasswordBlocklist) {
        self.blocklist = blocklist
    }

    /// Why a password is refused, in words to show the person choosing it.
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case tooShort(minimum: Int, actual: Int, mfa: Bool)
        case tooLong(maximum: Int)
        case blocklisted(reason: String)
        case containsAccountName(String)
        case invalidCharacters

        public var description: String {
            switch self {
            case .tooShort(let minimum, let actual, let mfa):
                "The password has \(actual) characters; at least \(minimum) are needed"
                    + (mfa ? "." : " while it is the only factor (8 once two-factor sign-in is on).")
            case .tooLong(let maximum):
                "The password is longer than \(maximum) characters."
            case .blocklisted(let reason):
                "This password is too easy to guess: \(reason). Choose a longer phrase of unrelated words."
            case .containsAccountName(let what):
                "The password contains your \(what); choose one that does not."
            case .invalidCharacters:
                "The password contains control characters, which cannot be typed reliably."
            }
        }
    }

    /// Normalises as NIST asks (NFKC), so the same password typed on different keyboards matches.
    public static func normalise(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    /// Checks a new password; `context` holds the username, display name and organisation name.
    public func check(_ password: String, mfaEnabled: Bool, context: [String: String] = [:]) -> Refusal? {
        let normalised = Self.normalise(password)
        let length = normalised.count
        let minimum = mfaEnabled ? Self.minimumWithMFA : Self.minimumSingleFactor
        if normalised.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .invalidCharacters
        }
        if length < minimum { return .tooShort(minimum: minimum, actual: length, mfa: mfaEnabled) }
        if length > Self.maximum { return .tooLong(maximum: Self.maximum) }
        let folded = normalised.lowercased()
        for (what, value) in context.sorted(by: { $0.key < $1.key }) {
            let name = value.lowercased()
            if name.count >= 4, folded.contains(name) { return .containsAccountName(what) }
        }
        if let reason = blocklist.reason(for: normalised) { return .blocklisted(reason: reason) }
        return nil
    }
}

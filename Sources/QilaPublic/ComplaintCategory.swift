public import QilaCases
public import QilaCore

/// What a member of the public complains of, in their words, with the PECA 2016 sections the
/// agency will consider. The raw value is the complaint regime's `complaintCategory` option.
public enum ComplaintCategory: String, Sendable, CaseIterable, Hashable {
    case fraud
    case harassment
    case intimateImages = "intimate-images"
    case hackedAccount = "hacked-account"
    case identityTheft = "identity-theft"
    case simFraud = "sim-fraud"
    case childAbuseMaterial = "child-abuse-material"
    case malware
    case spamSpoofing = "spam-spoofing"
    case hateSpeech = "hate-speech"
    case other

    /// The sections of PECA 2016 the complaint points to.
    public var offences: [PECAOffence] {
        switch self {
        case .fraud: [.electronicFraud, .electronicForgery]
        case .harassment: [.dignity, .cyberStalking]
        case .intimateImages: [.modesty]
        case .hackedAccount: [.unauthorisedAccess, .unauthorisedCopying, .interference]
        case .identityTheft: [.identityInformation, .electronicForgery]
        case .simFraud: [.simIssuance]
        case .childAbuseMaterial: [.childPornography]
        case .malware: [.maliciousCode, .interference]
        case .spamSpoofing: [.spamming, .spoofing]
        case .hateSpeech: [.hateSpeech]
        case .other: []
        }
    }

    /// The translation key of its name.
    public var textKey: String { "category_" + rawValue.replacingOccurrences(of: "-", with: "_") }

    /// Material of child sexual abuse is never uploaded, not even to the agency: the person gives
    /// where it is, and the agency secures it under the law. Intimate images likewise stay out of
    /// the upload; their location is enough for removal.
    public var takesEvidenceFiles: Bool { self != .childAbuseMaterial && self != .intimateImages }

    /// The case's marking: RED where the material or the victim needs the narrowest circle.
    public var marking: TLP { self == .childAbuseMaterial || self == .intimateImages || self == .harassment ? .red : .amber }
}

/// Traffic Light Protocol 2.0 markings (FIRST, 2022), ordered from least to most restricted.
///
/// A user's clearance is the most restricted marking they may read: a user cleared for
/// `amber` reads `clear`, `green` and `amber`, but neither `amber+strict` nor `red`.
public enum TLP: String, Sendable, Codable, CaseIterable, Comparable {
    case clear = "TLP:CLEAR"
    case green = "TLP:GREEN"
    case amber = "TLP:AMBER"
    case amberStrict = "TLP:AMBER+STRICT"
    case red = "TLP:RED"

    public var rank: Int {
        switch self {
        case .clear: 0
        case .green: 1
        case .amber: 2
        case .amberStrict: 3
        case .red: 4
        }
    }

    public static func < (lhs: TLP, rhs: TLP) -> Bool { lhs.rank < rhs.rank }

    /// Accepts `TLP:AMBER+STRICT`, `amber+strict`, `amber-strict` and `amberStrict`, in any case.
    public init?(label: String) {
        let folded = label.uppercased()
            .replacingOccurrences(of: "TLP:", with: "")
            .replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "+")
        switch folded {
        case "CLEAR", "WHITE": self = .clear
        case "GREEN": self = .green
        case "AMBER": self = .amber
        case "AMBER+STRICT", "AMBERSTRICT": self = .amberStrict
        case "RED": self = .red
        default: return nil
        }
    }

    /// The short name used in forms and CSS classes: `clear`, `green`, `amber`, `amber-strict`, `red`.
    public var slug: String {
        switch self {
        case .clear: "clear"
        case .green: "green"
        case .amber: "amber"
        case .amberStrict: "amber-strict"
        case .red: "red"
        }
    }
}

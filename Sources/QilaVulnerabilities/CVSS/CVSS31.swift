public import Foundation

/// A CVSS 3.1 base vector and its base score, computed as the specification's section 7 says
/// (https://www.first.org/cvss/v3.1/specification-document). Advisories carry base metrics only:
/// temporal and environmental metrics belong to each organisation, so they are refused here.
public struct CVSS31: Sendable, Equatable {
    /// The vector in the specification's metric order.
    public let vector: String
    public let baseScore: Double
    public var severity: CVSSSeverity { CVSSSeverity(score: baseScore) }

    static let metrics: KeyValuePairs<String, [String]> = [
        "AV": ["N", "A", "L", "P"], "AC": ["L", "H"], "PR": ["N", "L", "H"], "UI": ["N", "R"], "S": ["U", "C"], "C": ["H", "L", "N"], "I": ["H", "L", "N"], "A": ["H", "L", "N"],
    ]
    static let temporalAndEnvironmental: Set = ["E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"]

    public init(_ text: String) throws(CVSSProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let other = trimmed.split(separator: "/").dropFirst().first(where: { Self.temporalAndEnvironmental.contains(String($0.prefix { $0 != ":" })) }) {
            throw CVSSProblem(message: "gives \(other.prefix { $0 != ":" }), a temporal or environmental metric: an advisory gives the base metrics only")
        }
        let parsed = try CVSSVector(trimmed, prefix: "CVSS:3.1", allowed: Self.metrics, required: Self.metrics.map(\.key))
        vector = parsed.canonical(prefix: "CVSS:3.1", order: Self.metrics)
        baseScore = Self.score(parsed.values)
    }

    static func score(_ v: [String: String]) -> Double {
        func weight(_ metric: String) -> Double {
            switch (metric, v[metric]) {
            case ("AV", "N"): 0.85
            case ("AV", "A"): 0.62
            case ("AV", "L"): 0.55
            case ("AV", "P"): 0.2
            case ("AC", "L"): 0.77
            case ("AC", "H"): 0.44
            case ("PR", "N"): 0.85
            case ("PR", "L"): v["S"] == "C" ? 0.68 : 0.62
            case ("PR", "H"): v["S"] == "C" ? 0.5 : 0.27
            case ("UI", "N"): 0.85
            case ("UI", "R"): 0.62
            case (_, "H"): 0.56
            case (_, "L"): 0.22
            default: 0
            }
        }
        let iss = 1 - (1 - weight("C")) * (1 - weight("I")) * (1 - weight("A"))
        let changed = v["S"] == "C"
        let impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss
        let exploitability = 8.22 * weight("AV") * weight("AC") * weight("PR") * weight("UI")
        guard impact > 0 else { return 0 }
        return roundUp(min((changed ? 1.08 : 1) * (impact + exploitability), 10))
    }

    /// The specification's Roundup (Appendix A): the smallest number with one decimal at or above the
    /// input, computed on integers so that floating-point error cannot add a tenth.
    static func roundUp(_ value: Double) -> Double {
        let scaled = Int((value * 100_000).rounded())
        return scaled % 10_000 == 0 ? Double(scaled) / 100_000 : Double(scaled / 10_000 + 1) / 10
    }
}

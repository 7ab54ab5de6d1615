public import Foundation

/// A CVSS 4.0 vector and its score, computed by the specification's section 8 method: the vector's
/// macrovector (six equivalence classes) gives a score from FIRST's table, lowered by the vector's
/// mean distance from the class's most severe vectors, measured against the next lower macrovectors.
/// Modified (environmental) metrics take the place of the base metrics they modify; unset threat and
/// requirement metrics count as their worst case (E:A, CR/IR/AR:H), as the specification says.
public struct CVSS40: Sendable, Equatable {
    /// The vector in the specification's metric order, metrics left at `X` omitted.
    public let vector: String
    public let score: Double
    public var severity: CVSSSeverity { CVSSSeverity(score: score) }

    static let metrics: KeyValuePairs<String, [String]> = [
        "AV": ["N", "A", "L", "P"], "AC": ["L", "H"], "AT": ["N", "P"], "PR": ["N", "L", "H"], "UI": ["N", "P", "A"], "VC": ["H", "L", "N"], "VI": ["H", "L", "N"], "VA": ["H", "L", "N"], "SC": ["H", "L", "N"], "SI": ["H", "L", "N"],
        "SA": ["H", "L", "N"], "E": ["X", "A", "P", "U"], "CR": ["X", "H", "M", "L"], "IR": ["X", "H", "M", "L"], "AR": ["X", "H", "M", "L"], "MAV": ["X", "N", "A", "L", "P"], "MAC": ["X", "L", "H"], "MAT": ["X", "N", "P"], "MPR": ["X", "N", "L", "H"],
        "MUI": ["X", "N", "P", "A"], "MVC": ["X", "H", "L", "N"], "MVI": ["X", "H", "L", "N"], "MVA": ["X", "H", "L", "N"], "MSC": ["X", "H", "L", "N"], "MSI": ["X", "S", "H", "L", "N"], "MSA": ["X", "S", "H", "L", "N"], "S": ["X", "N", "P"],
        "AU": ["X", "N", "Y"], "R": ["X", "A", "U", "I"], "V": ["X", "D", "C"], "RE": ["X", "L", "M", "H"], "U": ["X", "Clear", "Green", "Amber", "Red"],
    ]
    static let base = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"]

    public init(_ text: String) throws(CVSSProblem) {
        let parsed = try CVSSVector(text.trimmingCharacters(in: .whitespaces), prefix: "CVSS:4.0", allowed: Self.metrics, required: Self.base)
        vector = parsed.canonical(prefix: "CVSS:4.0", order: Self.metrics)
        score = Self.score(parsed.values)
    }

    /// The value that counts for a metric: the modified one where set, the worst case for unset threat and requirements.
    static func effective(_ metric: String, _ values: [String: String]) -> String {
        if let modified = values["M" + metric], modified != "X" { return modified }
        switch (metric, values[metric] ?? "X") {
        case ("E", "X"): return "A"
        case ("CR", "X"), ("IR", "X"), ("AR", "X"): return "H"
        case (_, let value): return value
        }
    }

    /// How far a value lies below its metric's most severe value, in tenths (section 8.2).
    static func level(_ metric: String, _ value: String) -> Double {
        let order: String
        switch metric {
        case "AV": order = "NALP"
        case "PR": order = "NLH"
        case "UI": order = "NPA"
        case "AC": order = "LH"
        case "AT": order = "NP"
        case "VC", "VI", "VA": order = "HLN"
        case "SC": order = "?HLN"
        case "SI", "SA": order = "SHLN"
        case "CR", "IR", "AR": order = "HML"
        default: return 0
        }
        return Double(value.first.flatMap { order.firstIndex(of: $0) }.map { order.distance(from: order.startIndex, to: $0) } ?? 0) / 10
    }

    static func score(_ values: [String: String]) -> Double {
        let m = { (metric: String) in effective(metric, values) }
        if ["VC", "VI", "VA", "SC", "SI", "SA"].allSatisfy({ m($0) == "N" }) { return 0 }

        let eq1 = m("AV") == "N" && m("PR") == "N" && m("UI") == "N" ? 0 : (m("AV") == "N" || m("PR") == "N" || m("UI") == "N") && m("AV") != "P" ? 1 : 2
        let eq2 = m("AC") == "L" && m("AT") == "N" ? 0 : 1
        let eq3 = m("VC") == "H" && m("VI") == "H" ? 0 : m("VC") == "H" || m("VI") == "H" || m("VA") == "H" ? 1 : 2
        let eq4 = m("SI") == "S" || m("SA") == "S" ? 0 : m("SC") == "H" || m("SI") == "H" || m("SA") == "H" ? 1 : 2
        let eq5 = m("E") == "A" ? 0 : m("E") == "P" ? 1 : 2
        let eq6 = (m("CR") == "H" && m("VC") == "H") || (m("IR") == "H" && m("VI") == "H") || (m("AR") == "H" && m("VA") == "H") ? 0 : 1

        func lookup(_ levels: (Int, Int, Int, Int, Int, Int)) -> Double? {
            macrovectorScores["\(levels.0)\(levels.1)\(levels.2)\(levels.3)\(levels.4)\(levels.5)"]
        }
        guard let value = lookup((eq1, eq2, eq3, eq4, eq5, eq6)) else { return 0 }

        // The score of the next lower macrovector along each class (nil where there is none).
        let lowerEQ1 = lookup((eq1 + 1, eq2, eq3, eq4, eq5, eq6))
        let lowerEQ2 = lookup((eq1, eq2 + 1, eq3, eq4, eq5, eq6))
        let lowerEQ3EQ6: Double?
        switch (eq3, eq6) {
        case (0, 0):
            // Two lower neighbours: the higher of them.
            let left = lookup((eq1, eq2, eq3, eq4, eq5, eq6 + 1))
            let right = lookup((eq1, eq2, eq3 + 1, eq4, eq5, eq6))
            lowerEQ3EQ6 = [left, right].compactMap { $0 }.max()
        case (1, 0): lowerEQ3EQ6 = lookup((eq1, eq2, eq3, eq4, eq5, eq6 + 1))
        default: lowerEQ3EQ6 = lookup((eq1, eq2, eq3 + 1, eq4, eq5, eq6))
        }
        let lowerEQ4 = lookup((eq1, eq2, eq3, eq4 + 1, eq5, eq6))
        let lowerEQ5 = lookup((eq1, eq2, eq3, eq4, eq5 + 1, eq6))

        // The first of the class's most severe vectors that the vector does not exceed in any metric.
        var candidates: [String] = []
        for a in highestEQ1[eq1] {
            for b in highestEQ2[eq2] {
                for c in highestEQ3EQ6[eq3]?[eq6] ?? [] {
                    for d in highestEQ4[eq4] {
                        for e in highestEQ5[eq5] { candidates.append(a + b + c + d + e) }
                    }
                }
            }
        }
        let measured = ["AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR"]
        var distance: [String: Double] = [:]
        for candidate in candidates {
            var highest: [String: String] = [:]
            for part in candidate.split(separator: "/") {
                let pair = part.split(separator: ":")
                highest[String(pair[0])] = String(pair[1])
            }
            let gaps = measured.map { ($0, level($0, m($0)) - level($0, highest[$0] ?? "X")) }
            if gaps.allSatisfy({ $0.1 >= 0 }) {
                distance = Dictionary(uniqueKeysWithValues: gaps)
                break
            }
        }
        func sum(_ metrics: [String]) -> Double { metrics.reduce(0) { $0 + (distance[$1] ?? 0) } }

        let step = 0.1
        let parts: [(lower: Double?, current: Double, depth: Double)] = [
            (lowerEQ1, sum(["AV", "PR", "UI"]), Double(depthEQ1[eq1]) * step),
            (lowerEQ2, sum(["AC", "AT"]), Double(depthEQ2[eq2]) * step),
            (lowerEQ3EQ6, sum(["VC", "VI", "VA", "CR", "IR", "AR"]), Double(depthEQ3EQ6[eq3]?[eq6] ?? 0) * step),
            (lowerEQ4, sum(["SC", "SI", "SA"]), Double(depthEQ4[eq4]) * step),
            // EQ5 has no distance within its class: it counts towards the mean with nothing.
            (lowerEQ5, 0, Double(depthEQ5[eq5]) * step),
        ]
        var total = 0.0
        var counted = 0
        for part in parts {
            guard let lower = part.lower else { continue }
            counted += 1
            total += (value - lower) * (part.depth > 0 ? part.current / part.depth : 0)
        }
        let lowered = counted == 0 ? value : value - total / Double(counted)
        // Half a tenth rounds up; a millionth is added first so that a difference such as 8.6 - 7.15,
        // 1.4499999999999993 in binary floating point, rounds as the decimal 1.45 does.
        return ((min(max(lowered, 0), 10) + 1e-6) * 10).rounded(.toNearestOrAwayFromZero) / 10
    }
}

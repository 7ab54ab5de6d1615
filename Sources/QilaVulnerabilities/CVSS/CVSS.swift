public import Foundation

/// What is wrong with a CVSS vector: a sentence naming the metric or part.
public struct CVSSProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The qualitative rating both CVSS 3.1 (section 5) and 4.0 (section 6) give a score.
public enum CVSSSeverity: String, Sendable, Codable {
    case none = "NONE", low = "LOW", medium = "MEDIUM", high = "HIGH", critical = "CRITICAL"

    public init(score: Double) {
        switch score {
        case ..<0.1: self = .none
        case ..<4.0: self = .low
        case ..<7.0: self = .medium
        case ..<9.0: self = .high
        default: self = .critical
        }
    }
}

/// A CVSS vector read into its metrics, checked against the version's metrics and values.
struct CVSSVector {
    var values: [String: String]

    /// Reads `PREFIX/M:V/M:V…`; every metric must be known, given once, with a value it allows.
    init(_ text: String, prefix: String, allowed: KeyValuePairs<String, [String]>, required: [String]) throws(CVSSProblem) {
        guard text.hasPrefix(prefix + "/") else { throw CVSSProblem(message: "must begin with \(prefix)/") }
        let known = Dictionary(uniqueKeysWithValues: allowed.map { ($0.key, $0.value) })
        values = [:]
        for part in text.dropFirst(prefix.count + 1).split(separator: "/", omittingEmptySubsequences: false) {
            let pair = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[1].isEmpty else {
                throw CVSSProblem(message: "'\(part)' is not written METRIC:VALUE")
            }
            let (metric, value) = (String(pair[0]), String(pair[1]))
            guard let choices = known[metric] else { throw CVSSProblem(message: "has no metric \(metric) in \(prefix)") }
            guard choices.contains(value) else {
                throw CVSSProblem(message: "\(metric):\(value) is not a value of \(metric) (one of \(choices.joined(separator: ", ")))")
            }
            guard values.updateValue(value, forKey: metric) == nil else { throw CVSSProblem(message: "gives \(metric) twice") }
        }
        let missing = required.filter { values[$0] == nil }
        guard missing.isEmpty else { throw CVSSProblem(message: "lacks the base metric\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))") }
    }

    /// The vector in the specification's order, leaving out metrics not defined (`X`).
    func canonical(prefix: String, order: KeyValuePairs<String, [String]>) -> String {
        var text = prefix
        for (metric, _) in order {
            guard let value = values[metric], value != "X" else { continue }
            text += "/\(metric):\(value)"
        }
        return text
    }
}

/// A vector of either version, scored: what an advisory stores for each CVSS vector it gives.
public struct CVSSScore: Sendable, Equatable {
    public enum Version: String, Sendable { case v31 = "3.1", v40 = "4.0" }
    public let version: Version
    public let vector: String
    public let score: Double
    public var severity: CVSSSeverity { CVSSSeverity(score: score) }

    public init(_ text: String) throws(CVSSProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("CVSS:3.1/") {
            let parsed = try CVSS31(trimmed)
            (version, vector, score) = (.v31, parsed.vector, parsed.baseScore)
        } else if trimmed.hasPrefix("CVSS:4.0/") {
            let parsed = try CVSS40(trimmed)
            (version, vector, score) = (.v40, parsed.vector, parsed.score)
        } else {
            throw CVSSProblem(message: "must begin with CVSS:3.1/ or CVSS:4.0/")
        }
    }
}

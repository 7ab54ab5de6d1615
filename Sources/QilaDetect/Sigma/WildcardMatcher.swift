/// Matches text against a `SigmaString` with wildcards in linear time (greedy `*` with
/// backtracking to the last star only, which is linear for glob patterns).
public struct WildcardMatcher: Sendable {
    let pattern: [SigmaString.Part]
    let caseSensitive: Bool

    public init(_ string: SigmaString, caseSensitive: Bool = false) {
        self.caseSensitive = caseSensitive
        pattern = caseSensitive ? string.parts : string.parts.map { part in
            switch part {
            case .literal(let text): .literal(text.lowercased())
            case .anyOf(let characters): .anyOf(characters.lowercased())
            default: part
            }
        }
    }

    public func matches(_ text: String) -> Bool {
        let subject = Array(caseSensitive ? text : text.lowercased())
        // Flatten the pattern into single-character steps.
        enum Step { case char(Character), one, run, set(String) }
        var steps: [Step] = []
        for part in pattern {
            switch part {
            case .literal(let literal): steps += literal.map { .char($0) }
            case .anyOne: steps.append(.one)
            case .anyRun: steps.append(.run)
            case .anyOf(let characters): steps.append(.set(characters))
            }
        }
        var s = 0, p = 0
        var starP = -1, starS = 0
        while s < subject.count {
            if p < steps.count {
                switch steps[p] {
                case .run:
                    starP = p
                    starS = s
                    p += 1
                    continue
                case .one:
                    s += 1
                    p += 1
                    continue
                case .char(let c) where c == subject[s]:
                    s += 1
                    p += 1
                    continue
                case .set(let characters) where characters.contains(subject[s]):
                    s += 1
                    p += 1
                    continue
                default:
                    break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starS += 1
            s = starS
        }
        while p < steps.count, case .run = steps[p] { p += 1 }
        return p == steps.count
    }
}

import QilaAssess
import Testing

@Suite("Scores: credits per requirement, weighted means per group, targets and ranked gaps")
struct ScoringTests {
    static let yaml = """
        id: telecom-regs
        name: Telecom security regulations
        version: "2026"
        scoring:
          kind: status
          levels:
            - {value: implemented, name: Implemented, credit: 1}
            - {value: partly, name: Partly, credit: 0.5}
            - {value: not, name: Not implemented, credit: 0}
        requirements:
          - id: P1
            description: Governance
            children:
              - {id: P1.1, text: "A security officer is named"}
              - {id: P1.2, text: "Risks are assessed yearly", weight: 2}
          - id: P2
            description: Networks
            children:
              - {id: P2.1, text: "Management interfaces are not reachable from the Internet"}
        """

    static func framework() throws -> Framework { try FrameworkParser.parse(yaml) }

    static func answers(_ pairs: [(String, String)]) -> [Answer] {
        pairs.map { Answer(requirement: $0.0, choice: $0.1 == "n/a" ? .notApplicable : .level($0.1)) }
    }

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }

    @Test("A group scores the weighted mean of its children; the whole, the mean of the groups")
    func weightedMeans() throws {
        let scores = try Self.framework().score(Self.answers([("P1.1", "implemented"), ("P1.2", "partly"), ("P2.1", "not")]))
        #expect(close(scores["P1"]?.score, 2.0 / 3))  // (1×1 + 0.5×2) / 3
        #expect(close(scores["P2"]?.score, 0))
        #expect(close(scores.overall.score, 1.0 / 3))
        #expect(scores.overall.asked == 3 && scores.overall.answered == 3 && scores.progress == 1)
    }

    @Test("Not applicable leaves the score; unanswered is missing, not zero, and shows in progress")
    func missingAndNotApplicable() throws {
        let framework = try Self.framework()
        let exempt = framework.score(Self.answers([("P1.1", "implemented"), ("P1.2", "partly"), ("P2.1", "n/a")]))
        #expect(exempt["P2"]?.score == nil && exempt["P2"]?.notApplicable == 1)
        #expect(close(exempt.overall.score, 2.0 / 3))
        let partial = framework.score(Self.answers([("P1.1", "implemented"), ("P2.1", "not")]))
        #expect(close(partial["P1"]?.score, 1))
        #expect(partial.overall.answered == 2 && close(partial.progress, 2.0 / 3))
        // A level the scheme does not have, or a requirement it does not ask, counts for nothing.
        let stray = framework.score(Self.answers([("P1.1", "excellent"), ("P9", "implemented")]))
        #expect(stray.overall.score == nil && stray.overall.answered == 0)
    }

    @Test("A profile asks part of the framework, with targets; gaps rank by distance times weight")
    func profileAndGaps() throws {
        let framework = try Self.framework()
        let profile = Profile(targets: ["P1.1": "partly"])
        let scores = framework.score(Self.answers([("P1.1", "implemented"), ("P1.2", "partly"), ("P2.1", "not")]), profile: profile)
        #expect(close(scores["P1.1"]?.target, 0.5) && close(scores["P1.2"]?.target, 1))
        let gaps = framework.gaps(scores)
        #expect(gaps.map(\.requirement) == ["P2.1", "P1.2"])  // P1.1 meets its target
        #expect(close(gaps[0].weighted, 0.5))  // 1 short × P2's half of the whole
        #expect(close(gaps[1].weighted, 0.5 * (0.5 * 2 / 3)))  // 0.5 short × P1's half × 2/3 of P1

        let governance = framework.score(Self.answers([("P1.1", "not"), ("P2.1", "not")]), profile: Profile(requirements: ["P1.1", "P1.2"]))
        #expect(governance["P2"] == nil && governance.overall.asked == 2)
        #expect(close(governance.overall.score, 0))
        #expect(framework.gaps(governance).map(\.requirement) == ["P1.1"], "P1.2 is unanswered: missing, not a gap")
    }

    @Test("CSF tiers earn a quarter each; the shipped framework scores end to end")
    func tiers() throws {
        let csf = try #require(try FrameworkLibrary.shipped().framework("nist-csf-2.0"))
        let answers = csf.answered.map { Answer(requirement: $0.id, choice: .level($0.id.hasPrefix("GV") ? "3" : "2")) }
        let scores = csf.score(answers)
        #expect(close(scores["GV.OC-01"]?.score, 0.75) && close(scores["GV"]?.score, 0.75) && close(scores["PR"]?.score, 0.5))
        #expect(close(scores.overall.score, (0.75 + 5 * 0.5) / 6))
        #expect(scores.overall.asked == 106 && scores.progress == 1)
    }
}

/// One organisation's answer to one requirement.
public struct Answer: Sendable, Equatable {
    public enum Choice: Sendable, Equatable {
        /// A level or status of the framework's scheme (its `value`).
        case level(String)
        /// The requirement does not apply to the organisation (it leaves the score).
        case notApplicable
    }

    public var requirement: String
    public var choice: Choice

    public init(requirement: String, choice: Choice) {
        self.requirement = requirement
        self.choice = choice
    }
}

/// The part of a framework a campaign asks about, and the level it expects of each
/// requirement; without a profile every requirement is asked, expecting full marks.
public struct Profile: Sendable, Equatable {
    /// Answered requirements asked (leaves); empty means all of them.
    public var requirements: Set<String>
    /// The level (a scheme `value`) expected per requirement; full marks where none is named.
    public var targets: [String: String]

    public init(requirements: Set<String> = [], targets: [String: String] = [:]) {
        self.requirements = requirements
        self.targets = targets
    }
}

/// Scores of one assessment: every node of the framework's tree that has a score, with how much
/// of it was answered. A leaf scores its level's credit; a group the weighted mean of its
/// children that have a score, so a number means the same at every depth (docs/decisions/0023).
public struct Scores: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        /// From 0 to 1; nil when nothing under it is answered (or all of it does not apply).
        public var score: Double?
        /// What the campaign expects here, on the same scale.
        public var target: Double?
        /// Leaves asked under it, answered, and answered as not applying.
        public var asked: Int
        public var answered: Int
        public var notApplicable: Int
    }

    public var nodes: [String: Node]
    /// The whole framework (the weighted mean of its top-level groups).
    public var overall: Node

    public subscript(_ id: String) -> Node? { nodes[id] }

    /// Share of the asked requirements answered (0 to 1).
    public var progress: Double { overall.asked == 0 ? 0 : Double(overall.answered) / Double(overall.asked) }
}

/// A requirement below its target, and by how much (in credits, times its weight in the tree).
public struct Gap: Sendable, Equatable {
    public var requirement: String
    public var achieved: Double
    public var target: Double
    /// `target - achieved` times the requirement's share of the whole framework's score.
    public var weighted: Double
}

extension Framework {
    /// Scores the answers; answers to requirements the profile does not ask, or with a level the
    /// scheme does not have, are ignored (the desk refuses them before they are stored).
    public func score(_ answers: [Answer], profile: Profile = Profile()) -> Scores {
        let given = Dictionary(answers.map { ($0.requirement, $0.choice) }) { _, last in last }
        let full = scoring.levels.map(\.credit).max() ?? 1
        var nodes: [String: Scores.Node] = [:]
        func asked(_ requirement: Requirement) -> Bool { profile.requirements.isEmpty || profile.requirements.contains(requirement.id) }
        func visit(_ requirement: Requirement) -> (node: Scores.Node, weight: Double)? {
            if requirement.isAnswered {
                guard asked(requirement) else { return nil }
                let target = profile.targets[requirement.id].flatMap(scoring.level).map(\.credit) ?? full
                var node = Scores.Node(score: nil, target: target, asked: 1, answered: 0, notApplicable: 0)
                switch given[requirement.id] {
                case .level(let value)?:
                    if let level = scoring.level(value) {
                        node.score = level.credit
                        node.answered = 1
                    }
                case .notApplicable?:
                    node.answered = 1
                    node.notApplicable = 1
                    node.target = nil
                case nil: break
                }
                nodes[requirement.id] = node
                return (node, requirement.weight)
            }
            let children = requirement.children.compactMap(visit)
            guard !children.isEmpty else { return nil }
            let node = Self.combine(children)
            nodes[requirement.id] = node
            return (node, requirement.weight)
        }
        let top = requirements.compactMap(visit)
        return Scores(nodes: nodes, overall: Self.combine(top))
    }

    static func combine(_ children: [(node: Scores.Node, weight: Double)]) -> Scores.Node {
        func mean(_ value: (Scores.Node) -> Double?) -> Double? {
            let scored = children.compactMap { child in value(child.node).map { ($0, child.weight) } }
            let total = scored.map(\.1).reduce(0, +)
            guard total > 0 else { return nil }
            return scored.map { $0.0 * $0.1 }.reduce(0, +) / total
        }
        return Scores.Node(
            score: mean(\.score), target: mean(\.target), asked: children.map(\.node.asked).reduce(0, +),
            answered: children.map(\.node.answered).reduce(0, +), notApplicable: children.map(\.node.notApplicable).reduce(0, +))
    }

    /// Requirements answered below their target, the largest weighted gap first (ties by the
    /// framework's order). An unanswered requirement is not a gap: it is missing, and shown so.
    public func gaps(_ scores: Scores) -> [Gap] {
        // Each leaf's share of the overall score: the product of its and its ancestors' shares among siblings.
        var share: [String: Double] = [:]
        func walk(_ list: [Requirement], _ parent: Double) {
            let present = list.filter { scores[$0.id]?.target != nil || scores[$0.id]?.score != nil }
            let total = present.map(\.weight).reduce(0, +)
            for requirement in present {
                let mine = total > 0 ? parent * requirement.weight / total : 0
                if requirement.isAnswered { share[requirement.id] = mine } else { walk(requirement.children, mine) }
            }
        }
        walk(requirements, 1)
        let order = Dictionary(uniqueKeysWithValues: answered.enumerated().map { ($1.id, $0) })
        return answered.compactMap { requirement -> Gap? in
            guard let node = scores[requirement.id], let achieved = node.score, let target = node.target, achieved < target else { return nil }
            return Gap(requirement: requirement.id, achieved: achieved, target: target, weighted: (target - achieved) * (share[requirement.id] ?? 0))
        }
        .sorted { ($0.weighted, order[$1.requirement] ?? 0) > ($1.weighted, order[$0.requirement] ?? 0) }
    }
}

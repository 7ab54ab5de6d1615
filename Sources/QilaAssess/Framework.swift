/// An assessment framework, read from YAML (docs/decisions/0023): a tree of requirements whose
/// leaves are answered, a scoring scheme, and mappings to other frameworks.
public struct Framework: Sendable, Equatable {
    /// Lower-case letters, digits, `.`, `-` and `_` (`nist-csf-2.0`).
    public var id: String
    public var name: String
    public var version: String
    public var publisher: String?
    /// Where the text comes from (a URL or a citation).
    public var source: String?
    /// What each depth of the tree is called (`function`, `category`, `subcategory`).
    public var levels: [String]
    public var scoring: Scoring
    public var requirements: [Requirement]
    public var mappings: [Mapping]

    public init(
        id: String, name: String, version: String, publisher: String? = nil, source: String? = nil, levels: [String] = [], scoring: Scoring,
        requirements: [Requirement], mappings: [Mapping] = []
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.publisher = publisher
        self.source = source
        self.levels = levels
        self.scoring = scoring
        self.requirements = requirements
        self.mappings = mappings
    }

    /// One node of the tree. A node with no children is answered; the others group.
    public struct Requirement: Sendable, Equatable {
        public var id: String
        public var title: String?
        /// What is required (a leaf's statement) or what the group is about.
        public var text: String
        public var guidance: String?
        public var examples: [String]
        /// Its share among its siblings in a score (1 unless the framework says otherwise).
        public var weight: Double
        public var children: [Requirement]

        public init(
            id: String, title: String? = nil, text: String, guidance: String? = nil, examples: [String] = [], weight: Double = 1,
            children: [Requirement] = []
        ) {
            self.id = id
            self.title = title
            self.text = text
            self.guidance = guidance
            self.examples = examples
            self.weight = weight
            self.children = children
        }

        public var isAnswered: Bool { children.isEmpty }
    }

    /// How an answer becomes a number between 0 and 1.
    public struct Scoring: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            /// Ordered levels (CSF tiers, maturity levels): the answer's value over the highest.
            case tiers, maturity
            /// Named statuses, each with its own weight (implemented 1, partly 0.5, not 0).
            case status
        }

        public struct Level: Sendable, Equatable {
            /// The level's number (tiers, maturity) or its key (status, as `implemented`).
            public var value: String
            public var name: String
            public var description: String?
            /// Its share of full marks, from 0 to 1.
            public var credit: Double

            public init(value: String, name: String, description: String? = nil, credit: Double) {
                self.value = value
                self.name = name
                self.description = description
                self.credit = credit
            }
        }

        public var kind: Kind
        public var levels: [Level]

        public init(kind: Kind, levels: [Level]) {
            self.kind = kind
            self.levels = levels
        }

        public func level(_ value: String) -> Level? { levels.first { $0.value == value } }
    }

    /// How requirements of this framework relate to those of another (as NIST's OLIR relations).
    public struct Mapping: Sendable, Equatable {
        public enum Relation: String, Sendable, CaseIterable {
            /// The two say the same.
            case equal
            /// This framework's requirement is part of the other's.
            case subset
            /// This framework's requirement covers the other's and more.
            case superset
            /// They overlap; neither covers the other.
            case intersect
        }

        public struct Link: Sendable, Equatable {
            public var from: String
            public var to: String
            public var relation: Relation

            public init(from: String, to: String, relation: Relation) {
                self.from = from
                self.to = to
                self.relation = relation
            }
        }

        public var target: String
        public var links: [Link]

        public init(target: String, links: [Link]) {
            self.target = target
            self.links = links
        }
    }

    /// Every node, depth first, with its depth (0 for the top).
    public var nodes: [(requirement: Requirement, depth: Int)] {
        var result: [(Requirement, Int)] = []
        func walk(_ list: [Requirement], _ depth: Int) {
            for requirement in list {
                result.append((requirement, depth))
                walk(requirement.children, depth + 1)
            }
        }
        walk(requirements, 0)
        return result
    }

    /// The requirements that are answered (the leaves), in order.
    public var answered: [Requirement] { nodes.map(\.requirement).filter(\.isAnswered) }

    public func requirement(_ id: String) -> Requirement? { nodes.first { $0.requirement.id == id }?.requirement }
}

/// The five-minute self-check for households and small businesses: ten questions or so, answered
/// yes, no or not sure, giving an action plan of what to do first. The questions and actions are
/// Qila's own words on the common public baselines (the UK NCSC's Cyber Aware actions and small
/// business guide, CISA's Secure Our World); their text is in the translation table under
/// `selfcheck_q_<id>`, `selfcheck_a_<id>` and `selfcheck_w_<id>` (why it matters).
public enum SelfCheck {
    public enum Audience: String, Sendable, CaseIterable {
        case household
        case business
    }

    public enum Answer: String, Sendable, CaseIterable {
        case yes
        case no
        case unsure = "not-sure"
    }

    public struct Question: Sendable, Hashable {
        public var id: String
        /// Who is asked: both when empty.
        public var audiences: Set<Audience>
        /// Higher first in the plan: how much harm the gap lets through, how common it is.
        public var priority: Int

        public var questionKey: String { "selfcheck_q_" + id }
        public var actionKey: String { "selfcheck_a_" + id }
        public var whyKey: String { "selfcheck_w_" + id }
    }

    public static let questions: [Question] = [
        Question(id: "email_mfa", audiences: [], priority: 100),
        Question(id: "otp", audiences: [], priority: 95),
        Question(id: "email_password", audiences: [], priority: 90),
        Question(id: "updates", audiences: [], priority: 85),
        Question(id: "backup", audiences: [], priority: 80),
        Question(id: "password_manager", audiences: [], priority: 70),
        Question(id: "screen_lock", audiences: [], priority: 60),
        Question(id: "router", audiences: [], priority: 50),
        Question(id: "staff_accounts", audiences: [.business], priority: 75),
        Question(id: "incident_plan", audiences: [.business], priority: 65),
        Question(id: "children", audiences: [.household], priority: 40),
    ]

    public static func questions(for audience: Audience) -> [Question] {
        questions.filter { $0.audiences.isEmpty || $0.audiences.contains(audience) }
    }

    /// One step of the plan: what to do and why, in the order to do it.
    public struct Step: Sendable, Hashable {
        public var question: Question
        /// Answered "not sure": the plan says how to find out first.
        public var unsure: Bool
    }

    /// The plan for a set of answers: every question not answered yes, most important first; an
    /// unanswered question counts as not sure. Empty when every answer is yes.
    public static func plan(_ answers: [String: Answer], audience: Audience) -> [Step] {
        questions(for: audience).compactMap { question -> Step? in
            switch answers[question.id] ?? .unsure {
            case .yes: nil
            case .no: Step(question: question, unsure: false)
            case .unsure: Step(question: question, unsure: true)
            }
        }.sorted { ($0.question.priority, $0.question.id) > ($1.question.priority, $1.question.id) }
    }
}

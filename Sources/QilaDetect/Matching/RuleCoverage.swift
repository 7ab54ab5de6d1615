/// Whether the mappings in use can feed a rule: some mapping must declare the rule's log source
/// (product, category, service) and compile the rule. A rule none can feed never fires; saying
/// which log source is missing, and which shipped mapping would read it, is what an analyst needs
/// to decide whether to connect that source or leave the rule off.
public struct RuleCoverage: Sendable {
    public let mappings: [FieldMapping]
    private let shipped: [FieldMapping]

    public enum Verdict: Sendable, Equatable {
        /// Fed by these mappings (names).
        case fed([String])
        /// Some mapping reads the log source, but none can evaluate the rule: why, per mapping.
        case unevaluable([String])
        /// No mapping in use reads the log source; the shipped mappings that would.
        case unfed(LogSource, shipped: [String])

        public var canFire: Bool {
            if case .fed = self { return true }
            return false
        }
    }

    /// `shipped` defaults to every mapping Qila ships, for naming the one that would feed a rule.
    public init(mappings: [FieldMapping], shipped: [FieldMapping]? = nil) {
        self.mappings = mappings
        self.shipped = shipped ?? FieldMapping.shippedNames.compactMap { try? FieldMapping.named($0) }
    }

    public func verdict(for rule: SigmaRule) -> Verdict {
        let covering = mappings.filter { $0.reads(rule.logSource) }
        guard !covering.isEmpty else {
            return .unfed(rule.logSource, shipped: shipped.filter { $0.reads(rule.logSource) }.map(\.name))
        }
        var fed: [String] = []
        var reasons: [String] = []
        for mapping in covering {
            do {
                _ = try SigmaEvaluator(rule: rule, mapping: mapping)
                fed.append(mapping.name)
            } catch {
                reasons.append("for mapping \(mapping.name): \(error)")
            }
        }
        return fed.isEmpty ? .unevaluable(reasons) : .fed(fed)
    }

    /// The shipped mappings that read the log source.
    public func shippedReaders(of logSource: LogSource) -> [String] {
        shipped.filter { $0.reads(logSource) }.map(\.name)
    }

    /// The finding lint records for a rule no mapping in use reads.
    public static func unfedFinding(_ logSource: LogSource, shipped: [String]) -> String {
        let wanted = "no mapping in use reads its log source (\(Self.describe(logSource)))"
        if shipped.isEmpty { return wanted + "; no shipped mapping does either" }
        return wanted + "; a sensor with the shipped mapping \(shipped.joined(separator: " or ")) would feed it"
    }

    /// `product linux, service auditd`.
    public static func describe(_ logSource: LogSource) -> String {
        let parts = [("product", logSource.product), ("category", logSource.category), ("service", logSource.service)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        return parts.isEmpty ? "no log source named" : parts.joined(separator: ", ")
    }
}

extension FieldMapping {
    /// True when the mapping declares the log source (or declares none, and so reads everything).
    public func reads(_ logSource: LogSource) -> Bool {
        guard let conditions = coverage(of: logSource) else { return true }
        return !conditions.isEmpty
    }
}

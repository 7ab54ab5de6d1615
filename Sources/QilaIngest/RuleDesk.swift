public import Foundation
public import QilaAccess
public import QilaCore
public import QilaDetect
public import QilaStore

/// Sigma detection rules as intake runs them: uploaded one at a time from the rules page, imported
/// in bulk from the command line, switched on and off one or many at a time. The one place their
/// rules live: a rule that does not parse is refused with lint's findings, one that parses is
/// stored with them; the policy decision point is asked; each change is audited and the rules'
/// version raised so that every node reloads them.
public struct RuleDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    public let sets: DetectionSets
    /// Most rules one bulk change may name.
    public static let maximumBulk = 1_000
    /// The mappings rules are linted against when no sensor is registered yet.
    public static let defaultMappings: Set<String> = ["windows-flat", "aws-cloudtrail"]

    public init(store: SQLStore, audit: AuditLog, sets: DetectionSets = DetectionSets()) {
        self.store = store
        self.audit = audit
        self.sets = sets
    }

    public static let resource = Resource(kind: .detectionRule, reference: "rules")

    /// The mappings of the registered sensors, which rules are linted against.
    public func mappings() async throws -> Set<String> {
        let mappings = Set(try await store.sensors().map(\.mapping))
        return mappings.isEmpty ? Self.defaultMappings : mappings
    }

    /// Whether the mappings in use can feed each enabled rule, by the rule's id: the mappings that
    /// read its log source, or the log source none reads and the shipped mappings that would.
    /// Worked out now, not at upload, so registering a sensor changes the answer at once.
    public func feeds(of rules: [DetectionRule]) async throws -> [String: RuleFeed] {
        let inUse = try await mappings().sorted().compactMap { try? FieldMapping.named($0) }
        var sources = sets.logSources
        let missing = rules.filter { $0.enabled && sources[$0.id] == nil }
        if !missing.isEmpty {
            // Intake is not running on this node: read the rules' log sources from their text.
            sources.merge(DetectionSets(rules: missing).logSources) { current, _ in current }
        }
        let coverage = RuleCoverage(mappings: inUse)
        var feeds: [String: RuleFeed] = [:]
        for rule in rules where rule.enabled {
            guard let source = sources[rule.id] else { continue }
            let readers = inUse.filter { $0.reads(source) }.map(\.name)
            feeds[rule.id] = RuleFeed(logSource: source, mappings: readers, shipped: readers.isEmpty ? coverage.shippedReaders(of: source) : [])
        }
        return feeds
    }

    /// Stores one rule pasted into the rules page. Refused, with lint's findings, if it does not parse.
    public func upload(yaml text: String, file fileText: String, by subject: Subject, gate: any AccessGate, source: String? = nil) async throws -> DetectionRule {
        try await gate.require(subject, .create, Self.resource)
        let yaml = text.replacingOccurrences(of: "\r\n", with: "\n")
        guard !yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw QilaError.invalid("is required: paste the rule", field: "yaml") }
        var file = fileText.trimmingCharacters(in: .whitespaces)
        if file.isEmpty { file = "uploaded.yml" }
        guard file.count <= 200, !file.contains("/"), !file.contains("\\") else {
            throw QilaError.invalid("is a file name of at most 200 characters, without a path", field: "file")
        }
        let mappings = try await mappings()
        let lint = sets.lint(yaml, file: file, mappings: mappings)
        guard lint.unreadable.isEmpty else {
            throw QilaError.invalid("was not stored: " + lint.all.joined(separator: "; "), field: "yaml")
        }
        let rule = RuleImport.rule(yaml: yaml, file: file, by: subject.user.id, sets: sets, mappings: mappings, lint: lint)
        try await store.saveRules([rule])
        try await store.bumpRulesVersion()
        try await log(subject, "rule.upload", "rule:\(rule.id)", source, [:])
        return rule
    }

    /// Stores many rules read from files (`qila rules import`), by the operator at the server's
    /// shell. `progress` is told how many are stored so far, after each batch.
    public func importRules(_ rules: [DetectionRule], progress: (Int) -> Void = { _ in }) async throws {
        var stored = 0
        for start in stride(from: 0, to: rules.count, by: 500) {
            let batch = Array(rules[start..<min(rules.count, start + 500)])
            try await store.saveRules(batch)
            stored += batch.count
            progress(stored)
        }
        try await store.bumpRulesVersion()
        try await audit.append(
            AuditEntry(
                time: Date(), actor: "system", action: "rule.import", outcome: .success, resource: "rules",
                details: ["rules": String(rules.count), "enabled": String(rules.filter(\.enabled).count)]))
    }

    /// Switches the rules named on or off. Every id must name a stored rule, or nothing changes.
    @discardableResult
    public func setEnabled(_ ids: [String], _ enabled: Bool, by subject: Subject, gate: any AccessGate, source: String? = nil) async throws -> Int {
        try await gate.require(subject, .update, Self.resource)
        let unique = Array(NSOrderedSet(array: ids).compactMap { $0 as? String })
        guard !unique.isEmpty else { throw QilaError.invalid("tick at least one rule", field: "rule") }
        guard unique.count <= Self.maximumBulk else { throw QilaError.invalid("at most \(Self.maximumBulk) rules at once", field: "rule") }
        for id in unique where try await store.detectionRule(id) == nil {
            throw QilaError(.notFound, "no rule has the id '\(id.prefix(80))'")
        }
        for id in unique { try await store.setRule(id, enabled: enabled) }
        try await store.bumpRulesVersion()
        for id in unique { try await log(subject, enabled ? "rule.enable" : "rule.disable", "rule:\(id)", source, [:]) }
        return unique.count
    }

    func log(_ subject: Subject, _ action: String, _ resource: String, _ source: String?, _ details: [String: String]) async throws {
        try await audit.recordChange(by: subject, action, resource: resource, source: source, details: details)
    }
}

/// Whether some mapping in use reads a rule's log source.
public struct RuleFeed: Sendable, Equatable {
    public var logSource: LogSource
    /// The mappings in use that read it; empty when none does.
    public var mappings: [String]
    /// When none does: the shipped mappings that would.
    public var shipped: [String]

    public init(logSource: LogSource, mappings: [String], shipped: [String]) {
        self.logSource = logSource
        self.mappings = mappings
        self.shipped = shipped
    }

    public var isFed: Bool { !mappings.isEmpty }

    public var description: String {
        isFed ? "fed by " + mappings.joined(separator: ", ") : RuleCoverage.unfedFinding(logSource, shipped: shipped)
    }
}

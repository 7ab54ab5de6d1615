public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// The frameworks of the installation: those shipped and those the authority adds (kept in the
/// database, so every node has them). Adding one checks the whole file, the policy and the
/// mappings, stores the version as given and audits it; a version once stored never changes.
public struct FrameworkDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog

    public init(store: SQLStore, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    public static let resource = Resource(kind: .framework, reference: "frameworks")
    /// The largest framework file taken, in bytes.
    public static let maximumFile = 4 << 20

    /// Shipped frameworks, then each added one's latest version.
    public func library() async throws -> FrameworkLibrary {
        let shipped = try FrameworkLibrary.shipped().frameworks
        var latest: [String: Framework] = [:]
        var order: [String] = []
        for stored in try await store.frameworks() {
            guard let framework = try? FrameworkParser.parse(stored.body, file: "\(stored.id)@\(stored.version)") else { continue }
            if latest[framework.id] == nil { order.append(framework.id) }
            latest[framework.id] = framework
        }
        return try FrameworkLibrary(shipped + order.compactMap { latest[$0] })
    }

    /// One version of a framework (the latest when `version` is nil).
    public func framework(_ id: String, version: String? = nil) async throws -> Framework? {
        if let version {
            if let shipped = try FrameworkLibrary.shipped().framework(id), shipped.version == version { return shipped }
            guard let stored = try await store.frameworks().first(where: { $0.id == id && $0.version == version }) else { return nil }
            return try FrameworkParser.parse(stored.body, file: "\(id)@\(version)")
        }
        return try await library().framework(id)
    }

    /// Adds a framework from its YAML. Refused with every problem in the file (field `file`), when
    /// its id is a shipped framework's, when that version is already stored, or when a mapping
    /// names a requirement its target lacks.
    public func add(yaml: String, named name: String, by subject: Subject, gate: any AccessGate, source: String? = nil, now: Date = Date()) async throws
        -> Framework
    {
        try await gate.require(subject, .create, Self.resource)
        guard yaml.utf8.count <= Self.maximumFile else { throw QilaError.invalid("is larger than \(Self.maximumFile >> 20) MiB", field: "file") }
        let framework: Framework
        do {
            framework = try FrameworkParser.parse(yaml, file: name)
        } catch {
            throw QilaError.invalid("has \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"):\n\(error.description)", field: "file")
        }
        let shipped = try FrameworkLibrary.shipped()
        if shipped.framework(framework.id) != nil {
            throw QilaError.invalid("must not reuse the id of a shipped framework ('\(framework.id)'); give the authority's own framework its own id", field: "file")
        }
        do {
            let others = try await library().frameworks.filter { $0.id != framework.id }
            _ = try FrameworkLibrary(others + [framework])
        } catch let refused as FrameworkRefused {
            throw QilaError.invalid("has mappings to requirements that do not exist:\n\(refused.description)", field: "file")
        }
        let stored = try await store.addFramework(
            StoredFramework(id: framework.id, version: framework.version, name: framework.name, body: yaml, addedBy: subject.user.id, addedAt: now))
        guard stored else {
            throw QilaError.invalid(
                "is version \(framework.version) of '\(framework.id)', which is already stored; a revision needs a new version", field: "file")
        }
        try await audit.recordChange(
            by: subject, "assessment.framework.add", resource: "framework:\(framework.id)@\(framework.version)", source: source,
            details: ["requirements": String(framework.answered.count)], now: now)
        return framework
    }
}

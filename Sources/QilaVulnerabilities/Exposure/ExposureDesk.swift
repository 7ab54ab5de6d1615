public import Foundation
public import QilaAccess
public import QilaCore
public import QilaStore

/// Inventories and exposure. An organisation imports what it runs (CycloneDX SBOMs, CSV); its
/// exposure is its components matched against the KEV catalogue's listed entries and the published
/// advisories its marking lets it read, each with the due date for its sector and the status it
/// stated (open, mitigated, patched, not affected with a VEX justification). Exposure is computed
/// when read, from the current catalogue, advisories and inventories, so it is never stale; only
/// the statements are stored, keyed by the component's vendor, name and version so that they
/// survive a re-import.
public struct ExposureDesk: Sendable {
    let store: SQLStore
    let audit: AuditLog
    let policy: PolicyDecisionPoint

    public init(store: SQLStore, audit: AuditLog, policy: PolicyDecisionPoint) {
        self.store = store
        self.audit = audit
        self.policy = policy
    }

    public enum Status: String, Sendable, CaseIterable {
        case open, mitigated, patched
        case notAffected = "not_affected"

        public var label: String {
            switch self {
            case .open: "open"
            case .mitigated: "mitigated"
            case .patched: "patched"
            case .notAffected: "not affected"
            }
        }
    }

    /// CSAF/VEX's justifications for "not affected" (the CISA VEX minimum requirements' list).
    public static let justifications: [(value: String, label: String)] = [
        ("component_not_present", "the vulnerable component is not present"),
        ("vulnerable_code_not_present", "the vulnerable code is not present"),
        ("vulnerable_code_not_in_execute_path", "the vulnerable code is never executed"),
        ("vulnerable_code_cannot_be_controlled_by_adversary", "an attacker cannot control the vulnerable code"),
        ("inline_mitigations_already_exist", "built-in protections prevent exploitation"),
    ]

    /// One exposure: a component of the organisation and what it is exposed to.
    public struct Exposure: Sendable, Equatable {
        public var organisation: OrganisationID
        public var componentKey: String
        public var component: InventoryComponentRecord
        public var target: ExposureTarget
        public var approximate: Bool
        public var basis: String
        /// The due date for the organisation (KEV entries; advisories naming a CVE in the catalogue).
        public var due: CivilDay?
        public var statement: ExposureStatement?
        public var status: Status { statement.flatMap { Status(rawValue: $0.status) } ?? .open }
        /// Days from the entry's publication to the statement that closed it (mitigated, patched, not affected).
        public var daysToClose: Double? {
            guard status != .open, let statement, let published = target.published else { return nil }
            return max(0, statement.statedAt.timeIntervalSince(published) / 86_400)
        }
        /// Still open past its due date (a mitigation or a patch answers the due date).
        public func isOverdue(on day: CivilDay) -> Bool { (status == .open) && (due.map { $0 < day } ?? false) }
    }

    public static func resource(_ organisation: Organisation) -> Resource {
        Resource(kind: .inventory, owner: organisation.id, sector: organisation.sector, reference: "inventory:\(organisation.id)")
    }

    /// A component's key: its vendor, name and version, folded.
    public static func key(_ component: InventoryComponentRecord) -> String {
        "\(ExposureMatcher.fold(component.vendor))|\(ExposureMatcher.fold(component.name))|\(component.version)"
    }

    // MARK: inventories

    public struct ImportSummary: Sendable, Equatable {
        public var inventory: InventoryRecord
        public var exposures: Int
    }

    /// Imports an inventory file for an organisation, replacing its inventory of the same name.
    public func importInventory(
        _ data: Data, file: String, name: String, organisation: Organisation, by subject: Subject, gate: any AccessGate, now: Date = Date()
    ) async throws -> ImportSummary {
        try await gate.require(subject, .create, Self.resource(organisation))
        let read: InventoryReader.Read
        do {
            read = try InventoryReader.read(data, file: file)
        } catch {
            // "The file is refused: components[1].cpe … is not a CPE 2.3 formatted string."
            throw QilaError.invalid("is refused: " + (error.place.isEmpty ? "it \(error.message)" : "\(error.place) \(error.message)"), field: "file")
        }
        let title = (name.trimmingCharacters(in: .whitespaces).isEmpty ? file : name).trimmingCharacters(in: .whitespaces)
        guard !title.isEmpty, title.count <= 200 else { throw QilaError.invalid("must be 1 to 200 characters", field: "name") }
        let inventory = InventoryRecord(
            id: UUID().uuidString.lowercased(), organisation: organisation.id.description, name: title, format: read.format, components: read.components.count,
            importedBy: subject.user.id.description, importedAt: now)
        let components = read.components.map { component in
            InventoryComponentRecord(
                id: UUID().uuidString.lowercased(), inventory: inventory.id, organisation: inventory.organisation, vendor: component.vendor, name: component.name,
                version: component.version, cpe: component.cpe, purl: component.purl)
        }
        try await store.replaceInventory(inventory, components: components)
        try await audit.recordChange(
            by: subject, "inventory.import", resource: "inventory:\(organisation.id)", source: nil,
            details: ["name": title, "format": read.format, "components": String(components.count)], now: now)
        return ImportSummary(inventory: inventory, exposures: try await computeExposure(of: organisation, now: now).count)
    }

    public func inventories(of organisation: Organisation, for subject: Subject, gate: any AccessGate) async throws -> [InventoryRecord] {
        try await gate.require(subject, .read, Self.resource(organisation))
        return try await store.inventories(organisation: organisation.id.description)
    }

    // MARK: exposure

    /// What can be matched: the listed KEV entries, and each product of each published advisory
    /// (with the organisations an AMBER or RED one is addressed to).
    public func targets() async throws -> (targets: [ExposureTarget], audiences: [String: Set<String>], kev: [String: KEVRecord]) {
        var targets: [ExposureTarget] = []
        var audiences: [String: Set<String>] = [:]
        var kev: [String: KEVRecord] = [:]
        for entry in try await store.kevEntries() where entry.removal == nil {
            kev[entry.cveID] = entry
            targets.append(
                ExposureTarget(
                    kind: .kev, reference: entry.cveID, cve: entry.cveID, title: entry.vulnerabilityName, vendor: entry.vendorProject, product: entry.product,
                    published: CivilDay(entry.dateAdded)?.start))
        }
        var firstPublished: [String: Date] = [:]
        for revision in try await store.allAdvisoryRevisions() { firstPublished[revision.advisoryID] = min(firstPublished[revision.advisoryID] ?? .distantFuture, revision.publishedAt) }
        for revision in try await store.latestAdvisoryRevisions() {
            guard let content = try? JSONDecoder().decode(AdvisoryContent.self, from: Data(revision.content.utf8)),
                let record = try await store.advisory(revision.advisoryID)
            else { continue }
            let cves = content.vulnerabilities.compactMap(\.cve)
            for (index, product) in content.products.enumerated() {
                let reference = "\(record.trackingID)#\(index + 1)"
                if revision.tlp >= .amber { audiences[reference] = Set(revision.audience) }
                let cpe = product.identifier.flatMap(CPEName.init).map { "\($0.vendor):\($0.product)" }
                let purl = product.identifier.flatMap(PackageURL.init)?.key
                targets.append(
                    ExposureTarget(
                        kind: .advisory, reference: reference, cve: cves.first, title: "\(record.trackingID): \(content.title)", vendor: product.vendor,
                        product: product.name, range: try? VersionRange(product.affected), cpe: cpe, purl: purl, published: firstPublished[revision.advisoryID]))
            }
        }
        return (targets, audiences, kev)
    }

    /// What every organisation's exposure is matched against, read and prepared once.
    struct Context: Sendable {
        var targets: [ExposureMatcher.Prepared]
        var audiences: [String: Set<String>]
        var kev: [String: KEVRecord]
        var rules: [KEVDeadline]
    }

    func context() async throws -> Context {
        let (targets, audiences, kev) = try await targets()
        return Context(targets: targets.map(ExposureMatcher.Prepared.init), audiences: audiences, kev: kev, rules: try await store.kevDeadlines())
    }

    /// The organisation's exposure, computed from its inventories now.
    func computeExposure(of organisation: Organisation, now: Date, context given: Context? = nil) async throws -> [Exposure] {
        let components = try await store.inventoryComponents(organisation: organisation.id.description)
        guard !components.isEmpty else { return [] }
        let context: Context
        if let given { context = given } else { context = try await self.context() }
        let (audiences, kev, rules) = (context.audiences, context.kev, context.rules)
        let byID = Dictionary(uniqueKeysWithValues: components.map { ($0.id, $0) })
        let matcher = ExposureMatcher(
            assets: components.map {
                ExposureAsset(
                    id: $0.id, organisation: $0.organisation, component: InventoryComponent(vendor: $0.vendor, name: $0.name, version: $0.version, cpe: $0.cpe, purl: $0.purl))
            })
        let statements = Dictionary(
            try await store.exposureStatements(organisation: organisation.id.description).map { ("\($0.component)\u{1}\($0.kind)\u{1}\($0.reference)", $0) },
            uniquingKeysWith: { a, _ in a })
        var exposures: [Exposure] = []
        var seen = Set<String>()
        for prepared in context.targets {
            let target = prepared.target
            if let audience = audiences[target.reference], !audience.contains(organisation.id.description) { continue }
            for match in matcher.matches(prepared) {
                guard let component = byID[match.asset] else { continue }
                let key = Self.key(component)
                // The same component listed twice (two inventories) is one exposure.
                guard seen.insert("\(key)\u{1}\(target.kind.rawValue)\u{1}\(target.reference)").inserted else { continue }
                let entry = target.cve.flatMap { kev[$0] }
                exposures.append(
                    Exposure(
                        organisation: organisation.id, componentKey: key, component: component, target: target, approximate: match.approximate,
                        basis: match.basis, due: entry.flatMap { KEVDesk.dueDate(of: $0, for: organisation, rules: rules) },
                        statement: statements["\(key)\u{1}\(target.kind.rawValue)\u{1}\(target.reference)"]))
            }
        }
        return exposures.sorted { ($0.due?.ordinal ?? .max, $0.target.reference, $0.componentKey) < ($1.due?.ordinal ?? .max, $1.target.reference, $1.componentKey) }
    }

    public func exposure(of organisation: Organisation, for subject: Subject, gate: any AccessGate, now: Date = Date()) async throws -> [Exposure] {
        try await gate.require(subject, .read, Self.resource(organisation))
        return try await computeExposure(of: organisation, now: now)
    }

    /// Several organisations' exposure (a regulator's sector, the authority's table), the catalogue
    /// and advisories read once for all of them.
    public func exposure(of organisations: [Organisation], for subject: Subject, gate: any AccessGate, now: Date = Date()) async throws
        -> [(organisation: Organisation, exposures: [Exposure])]
    {
        for organisation in organisations { try await gate.require(subject, .read, Self.resource(organisation)) }
        let context = try await context()
        var result: [(organisation: Organisation, exposures: [Exposure])] = []
        for organisation in organisations { result.append((organisation, try await computeExposure(of: organisation, now: now, context: context))) }
        return result
    }

    /// States the status of one exposure: `not_affected` needs one of VEX's justifications.
    public func state(
        organisation: Organisation, component: String, kind: String, reference: String, status: String, justification: String, note: String, by subject: Subject,
        gate: any AccessGate, now: Date = Date()
    ) async throws -> ExposureStatement {
        try await gate.require(subject, .update, Self.resource(organisation))
        guard let chosen = Status(rawValue: status) else { throw QilaError.invalid("must be open, mitigated, patched or not affected", field: "status") }
        let reason = justification.trimmingCharacters(in: .whitespaces)
        if chosen == .notAffected {
            guard Self.justifications.contains(where: { $0.value == reason }) else {
                throw QilaError.invalid("choose why it is not affected, as VEX asks", field: "justification")
            }
        }
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 2_000 else { throw QilaError.invalid("is longer than 2000 characters", field: "note") }
        if chosen == .mitigated, text.isEmpty { throw QilaError.invalid("say what mitigates it", field: "note") }
        let current = try await computeExposure(of: organisation, now: now)
        guard current.contains(where: { $0.componentKey == component && $0.target.kind.rawValue == kind && $0.target.reference == reference }) else {
            throw QilaError(.notFound, "no such exposure of \(organisation.name): its inventory or the catalogue changed meanwhile")
        }
        let statement = ExposureStatement(
            organisation: organisation.id.description, component: component, kind: kind, reference: reference, status: chosen.rawValue,
            justification: chosen == .notAffected ? reason : nil, note: text, statedBy: subject.user.id.description, statedAt: now)
        try await store.saveExposureStatement(statement)
        try await audit.recordChange(
            by: subject, "exposure.state", resource: "inventory:\(organisation.id)", source: nil,
            details: ["reference": reference, "component": component, "status": chosen.rawValue], now: now)
        return statement
    }
}

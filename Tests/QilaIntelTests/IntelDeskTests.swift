import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore
import QilaTestSupport
import Testing

/// Builds STIX objects for the tests.
enum Stix {
    static func indicator(
        _ uuid: String, modified: String = "2026-11-01T10:00:00.000Z", marking: TLP? = nil, pattern: String = "[ipv4-addr:value = '198.51.100.7']",
        extra: [String: JSONValue] = [:]
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "type": .string("indicator"), "spec_version": .string("2.1"), "id": .string("indicator--\(uuid)"),
            "created": .string("2026-11-01T10:00:00.000Z"), "modified": .string(modified), "name": .string("Bad address \(uuid.prefix(4))"),
            "pattern": .string(pattern), "pattern_type": .string("stix"), "valid_from": .string("2026-11-01T10:00:00Z"),
        ]
        if let marking { object["object_marking_refs"] = .array([.string(StixObject.marking(marking))]) }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    static func envelope(_ objects: [JSONValue]) -> JSONValue { .object(["objects": .array(objects)]) }

    static func uuid(_ n: Int) -> String { String(format: "00000000-0000-4000-8000-%012d", n) }
}

@Suite("Threat-intelligence sharing: collections, TLP per object, paging, versions")
struct IntelDeskTests {
    struct Setup {
        var world: TenantWorld
        var desk: IntelDesk
        var national: String
    }

    static func setup(backend: TestBackend = .sqlite) async throws -> Setup {
        var world = try await TenantWorld.make(on: backend)
        let directory = world.installation.directory
        // People cleared for RED in two operators.
        for (name, organisation) in [("a-red", world.operatorA), ("b-red", world.operatorB)] {
            world.users[name] = try await directory.createUser(
                .init(kind: .person, username: name, displayName: name, roles: [.organisationAdmin], clearance: .red), in: organisation.id, by: nil)
        }
        let desk = IntelDesk(store: world.installation.store, audit: world.installation.audit, policy: world.installation.policy)
        try await desk.ensureCollections()
        let national = try #require(try await desk.collections(for: world.subject("a-admin")).first { $0.record.kind == .national }).record.id
        return Setup(world: world, desk: desk, national: national)
    }

    func seen(_ setup: Setup, _ name: String, limit: Int? = nil) async throws -> [String] {
        var query = IntelDesk.Query()
        query.limit = limit
        var ids: [String] = []
        while true {
            let page = try await setup.desk.objects(query, in: setup.national, root: "national", for: setup.world.subject(name))
            ids += page.records.map(\.id)
            guard page.more, let next = page.next else { break }
            query.next = next
        }
        return ids
    }

    @Test("Collections come from tenancy and each account reaches those the policy allows")
    func collections() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        func reached(_ name: String) async throws -> Set<String> {
            Set(try await setup.desk.collections(for: world.subject(name)).map(\.record.title))
        }
        let telecom: Set = ["National sharing", "Telecommunications sector", "Operator A"]
        #expect(try await reached("a-admin") == telecom)
        #expect(try await reached("b-admin") == ["National sharing", "Telecommunications sector", "Operator B"])
        #expect(try await reached("regulator") == ["National sharing", "Telecommunications sector", "Operator A", "Operator B", "Telecom Regulator"])
        #expect(try await reached("analyst").isSuperset(of: telecom.union(["Operator B", "First Bank", "Banking and finance sector"])))
        #expect(try await reached("investigator").isEmpty)
        // Another operator's collection does not exist for them.
        let a = try #require(try await setup.desk.collections(for: world.subject("a-admin")).first { $0.record.title == "Operator A" })
        await #expect(throws: QilaError.self) { _ = try await setup.desk.collection(a.record.id, root: a.record.root, for: world.subject("b-admin")) }
        #expect(try await setup.desk.roots(for: world.subject("a-admin")).map(\.slug) == ["national", "sector-telecom"])
        // Nodes deriving the collections again agree on one set.
        let before = try await world.installation.store.intelCollections().count
        try await setup.desk.ensureCollections()
        #expect(try await world.installation.store.intelCollections().count == before)
    }

    @Test("Each object is seen by exactly whom its TLP marking allows; counts and pages never show the others")
    func tlpPerObject() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let objects: [JSONValue] = [
            Stix.indicator(Stix.uuid(1), marking: .clear), Stix.indicator(Stix.uuid(2), marking: .green),
            Stix.indicator(Stix.uuid(3), marking: .amber), Stix.indicator(Stix.uuid(4), marking: .amberStrict),
            Stix.indicator(Stix.uuid(5), marking: .red), Stix.indicator(Stix.uuid(6)),
        ]
        let status = try await setup.desk.add(
            Stix.envelope(objects), to: setup.national, root: "national", by: world.subject("a-red"),
            recipients: .init(organisations: [world.operatorB.id], people: [world.users["b-red"]!.id]))
        #expect(status.successes.count == 6 && status.failures.isEmpty)
        let ids = (1...6).map { "indicator--\(Stix.uuid($0))" }
        #expect(try await seen(setup, "a-red") == ids)
        #expect(try await seen(setup, "b-red") == [ids[0], ids[1], ids[2], ids[4], ids[5]])
        #expect(try await seen(setup, "b-admin") == [ids[0], ids[1], ids[2], ids[5]])  // cleared for AMBER only
        #expect(try await seen(setup, "bank-admin") == [ids[0], ids[1], ids[5]])
        #expect(try await seen(setup, "a-reporter") == [ids[0], ids[1], ids[5]])  // cleared for GREEN
        #expect(try await seen(setup, "analyst") == [ids[0], ids[1], ids[5]])  // AMBER was not shared with the authority
        // Default recipients: a later AMBER object without named recipients goes to those the producer set.
        try await setup.desk.setDefaultRecipients([world.bank.id], collection: setup.national, root: "national", by: world.subject("a-red"))
        _ = try await setup.desk.add(Stix.envelope([Stix.indicator(Stix.uuid(7), marking: .amber)]), to: setup.national, root: "national", by: world.subject("a-red"))
        #expect(try await seen(setup, "bank-admin").contains("indicator--\(Stix.uuid(7))"))
        #expect(try await !seen(setup, "b-admin").contains("indicator--\(Stix.uuid(7))"))
        await #expect(throws: QilaError.self) {
            try await setup.desk.setDefaultRecipients([OrganisationID()], collection: setup.national, root: "national", by: world.subject("a-red"))
        }
        // Pages of two: the same objects, and `more` says false on the last page, not "there were hidden ones".
        #expect(try await seen(setup, "bank-admin", limit: 2) == [ids[0], ids[1], ids[5], "indicator--\(Stix.uuid(7))"])
        var query = IntelDesk.Query()
        query.limit = 4
        let page = try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject("bank-admin"))
        #expect(page.records.count == 4 && !page.more && page.next == nil)

        // Disclosures: who received the AMBER and RED objects, for the producer.
        let received = try await world.installation.store.intelDisclosures(producer: world.operatorA.id, minimumTLP: TLP.amber.rank, limit: 100)
        #expect(Set(received.map { "\($0.id) \($0.account)" }) == [
            "\(ids[2]) \(world.users["b-red"]!.id)", "\(ids[4]) \(world.users["b-red"]!.id)", "\(ids[2]) \(world.users["b-admin"]!.id)",
            "indicator--\(Stix.uuid(7)) \(world.users["bank-admin"]!.id)",
        ])
        let audited = try await world.installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "intel.")
        #expect(audited.first?.action == "intel.objects.add" && audited.first?.details["added"] == "6")
        #expect(audited.filter { $0.action == "intel.disclose" }.count >= 5)
    }

    @Test("A thousand objects added at one instant page out in any page size: none lost, none twice")
    func pagingSharedDateAdded() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let many = (0..<1000).map { Stix.indicator(Stix.uuid(1000 + $0), marking: $0 % 10 == 3 ? .amberStrict : .green) }
        _ = try await setup.desk.add(Stix.envelope(many), to: setup.national, root: "national", by: world.subject("a-admin"))
        for size in [7, 100, 1000] {
            let ids = try await seen(setup, "bank-admin", limit: size)
            #expect(ids.count == 900 && Set(ids).count == 900, "page size \(size)")
        }
        // All share one date_added: added_after that instant gives nothing; just before it gives them all.
        var query = IntelDesk.Query()
        query.limit = 1
        let first = try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject("bank-admin"))
        let added = try #require(first.records.first).dateAdded
        query.addedAfter = StixTimestamp(microseconds: added)
        #expect(try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject("bank-admin")).records.isEmpty)
        query.addedAfter = StixTimestamp(microseconds: added - 1)
        query.limit = 10_000
        #expect(try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject("bank-admin")).records.count == 900)
        // A `next` this server did not give is refused with the parameter named.
        query.next = "not-a-cursor"
        await #expect(throws: QilaError.self) { _ = try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject("bank-admin")) }
    }

    @Test("Versions: the last the reader may see is its latest; first, all and a given version as asked")
    func versions() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let id = Stix.uuid(77)
        let versions = [
            Stix.indicator(id, modified: "2026-11-02T10:00:00.000Z", marking: .green),
            Stix.indicator(id, modified: "2026-11-03T10:00:00.000Z", marking: .green),
            Stix.indicator(id, modified: "2026-11-04T10:00:00.000Z", marking: .red),
        ]
        _ = try await setup.desk.add(Stix.envelope(versions), to: setup.national, root: "national", by: world.subject("a-red"))
        func fetch(_ name: String, _ match: [IntelObjectFilter.Version]) async throws -> [String] {
            var query = IntelDesk.Query()
            query.versions = match
            return try await setup.desk.objects(query, in: setup.national, root: "national", for: world.subject(name)).records.map(\.versionText)
        }
        #expect(try await fetch("bank-admin", [.last]) == ["2026-11-03T10:00:00.000Z"])
        #expect(try await fetch("a-red", [.last]) == ["2026-11-04T10:00:00.000Z"])
        #expect(try await fetch("bank-admin", [.first]) == ["2026-11-02T10:00:00.000Z"])
        #expect(try await fetch("bank-admin", [.all]).count == 2)
        #expect(try await fetch("bank-admin", [.first, .last]).count == 2)
        #expect(try await fetch("bank-admin", [.at(StixTimestamp("2026-11-04T10:00:00.000Z")!.microseconds)]).isEmpty)
        let listed = try await setup.desk.versions(of: "indicator--\(id)", IntelDesk.Query(), in: setup.national, root: "national", for: world.subject("bank-admin"))
        #expect(listed.records.map(\.versionText) == ["2026-11-02T10:00:00.000Z", "2026-11-03T10:00:00.000Z"])
        // Adding a version again changes nothing.
        _ = try await setup.desk.add(Stix.envelope([versions[0]]), to: setup.national, root: "national", by: world.subject("a-red"))
        #expect(try await fetch("a-red", [.all]).count == 3)
    }

    @Test("Invalid objects are listed with the property named; the valid ones are stored")
    func refusedObjects() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        var badCreated = Stix.indicator(Stix.uuid(2))
        if case .object(var properties) = badCreated {
            properties["created"] = .string("yesterday")
            badCreated = .object(properties)
        }
        var noPattern = Stix.indicator(Stix.uuid(3))
        if case .object(var properties) = noPattern {
            properties["pattern"] = nil
            noPattern = .object(properties)
        }
        let badID: JSONValue = .object(["type": .string("indicator"), "id": .string("indicator--nope"), "spec_version": .string("2.1")])
        let later = Stix.indicator(Stix.uuid(4), modified: "2026-10-01T00:00:00.000Z")  // modified before created
        let status = try await setup.desk.add(
            Stix.envelope([Stix.indicator(Stix.uuid(1)), badCreated, noPattern, badID, later, .string("x")]), to: setup.national, root: "national",
            by: world.subject("a-admin"))
        #expect(status.successes.map(\.id) == ["indicator--\(Stix.uuid(1))"])
        #expect(status.failures.map(\.message) == [
            "is not a timestamp such as 2026-01-31T12:00:00.000Z (RFC 3339, UTC) (objects[1].created)",
            "is required for an indicator (objects[2].pattern)",
            "'indicator--nope' is not 'indicator--' followed by a UUID (objects[3].id)",
            "is earlier than created (objects[4].modified)",
            "is not a JSON object (objects[5])",
        ])
        await #expect(throws: QilaError.self) {
            _ = try await setup.desk.add(.object(["things": .array([])]), to: setup.national, root: "national", by: world.subject("a-admin"))
        }
    }

    @Test("Granular markings: a property marked beyond the reader is removed with its marking")
    func granularMarkings() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        let object = Stix.indicator(
            Stix.uuid(9), marking: .green,
            extra: [
                "description": .string("Seen at the ministry's gateway"),
                "granular_markings": .array([.object(["marking_ref": .string(StixObject.marking(.red)), "selectors": .array([.string("description")])])]),
            ])
        _ = try await setup.desk.add(Stix.envelope([object]), to: setup.national, root: "national", by: world.subject("a-red"))
        func body(_ name: String) async throws -> JSONValue {
            let page = try await setup.desk.objects(IntelDesk.Query(), in: setup.national, root: "national", for: world.subject(name))
            return try JSONValue.decode(try #require(page.bodies.first))
        }
        #expect(try await body("a-red")["description"]?.string == "Seen at the ministry's gateway")
        let redacted = try await body("bank-admin")
        #expect(redacted["description"] == nil && redacted["granular_markings"] == nil && redacted["pattern"] != nil)
        // A selector naming no property is refused.
        let wrong = Stix.indicator(
            Stix.uuid(10),
            extra: ["granular_markings": .array([.object(["marking_ref": .string(StixObject.marking(.red)), "selectors": .array([.string("nothing")])])])])
        let status = try await setup.desk.add(Stix.envelope([wrong]), to: setup.national, root: "national", by: world.subject("a-red"))
        #expect(status.failures.first?.message?.contains("names no property") == true)
    }

    @Test("Only the producer's organisation or the authority deletes an object; others do not learn of hidden ones")
    func deletion() async throws {
        let setup = try await Self.setup()
        let world = setup.world
        _ = try await setup.desk.add(
            Stix.envelope([Stix.indicator(Stix.uuid(1), marking: .green), Stix.indicator(Stix.uuid(2), marking: .amberStrict)]), to: setup.national,
            root: "national", by: world.subject("a-admin"))
        let green = "indicator--\(Stix.uuid(1))", strict = "indicator--\(Stix.uuid(2))"
        await #expect(throws: QilaError(.forbidden, "only the organisation that shared an object, or the authority, deletes it")) {
            try await setup.desk.delete(green, versions: [.all], in: setup.national, root: "national", by: world.subject("b-admin"))
        }
        await #expect(throws: QilaError(.notFound, "no such object")) {
            try await setup.desk.delete(strict, versions: [.all], in: setup.national, root: "national", by: world.subject("b-admin"))
        }
        try await setup.desk.delete(green, versions: [.all], in: setup.national, root: "national", by: world.subject("a-admin"))
        #expect(try await seen(setup, "bank-admin").isEmpty)
    }

    @Test("STIX timestamps: RFC 3339 in UTC, compared to the microsecond")
    func timestamps() {
        #expect(StixTimestamp("2026-11-01T10:00:00Z")!.microseconds == 1_793_527_200_000_000)
        #expect(StixTimestamp("2026-11-01T10:00:00.5Z")!.microseconds == 1_793_527_200_500_000)
        #expect(StixTimestamp("2026-11-01T10:00:00.123456789Z")!.microseconds == 1_793_527_200_123_456)
        for bad in ["2026-11-01 10:00:00Z", "2026-11-01T10:00:00+05:00", "2026-02-30T10:00:00Z", "2026-11-01T10:00:00.Z", "x"] {
            #expect(StixTimestamp(bad) == nil, "\(bad)")
        }
        #expect(StixTimestamp(microseconds: 1_793_527_200_000_001).text == "2026-11-01T10:00:00.000001Z")
    }
}

@Suite("Trust groups")
struct TrustGroupTests {
    @Test("A trust group is a collection of its own API root, reached by its members and the authority only")
    func group() async throws {
        let setup = try await IntelDeskTests.setup()
        let world = setup.world
        let group = try await setup.desk.createGroup(
            title: "Regional CERTs", slug: "regional", members: [world.operatorA.id, world.bank.id], by: world.subject("admin"))
        #expect(group.root == "group-regional" && group.kind == .group)
        #expect(try await setup.desk.roots(for: world.subject("a-admin")).map(\.slug).contains("group-regional"))
        #expect(try await setup.desk.roots(for: world.subject("a-admin")).first { $0.slug == "group-regional" }?.title == "Regional CERTs")
        #expect(try await setup.desk.collections(for: world.subject("bank-admin")).contains { $0.record.id == group.id && $0.canWrite })
        #expect(try await !setup.desk.collections(for: world.subject("b-admin")).contains { $0.record.id == group.id })
        #expect(try await setup.desk.collections(for: world.subject("analyst")).contains { $0.record.id == group.id })
        // Refusals: a taken slug, a bad slug, no members, an organisation's administrator.
        func field(_ body: () async throws -> IntelCollectionRecord) async -> String? {
            do {
                _ = try await body()
                return nil
            } catch let error as QilaError {
                return error.field ?? error.code.rawValue
            } catch {
                return "\(error)"
            }
        }
        #expect(await field { try await setup.desk.createGroup(title: "Again", slug: "regional", members: [world.bank.id], by: nil) } == "slug")
        #expect(await field { try await setup.desk.createGroup(title: "Bad", slug: "Bad Slug", members: [world.bank.id], by: nil) } == "slug")
        #expect(await field { try await setup.desk.createGroup(title: "Empty", slug: "empty", members: [], by: nil) } == "members")
        #expect(await field { try await setup.desk.createGroup(title: "Mine", slug: "mine", members: [world.bank.id], by: world.subject("a-admin")) } == "forbidden")
    }
}

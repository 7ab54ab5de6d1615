import Foundation
import QilaAccess
import QilaCore
import QilaTestSupport
import Testing

@Suite("Policy decision point")
struct PolicyTests {
    let pdp = PolicyDecisionPoint()

    func world() async throws -> TenantWorld { try await TenantWorld.make(on: .sqlite) }

    @Test("who may read which organisation: tenancy, sector and audit reach")
    func organisationReads() async throws {
        let world = try await world()
        let all = [world.authority, world.regulator, world.operatorA, world.operatorB, world.bank, world.auditFirm]
        let expected: [String: Set<String>] = [
            "admin": Set(all.map(\.name)),
            "analyst": Set(all.map(\.name)),
            "overseer": Set(all.map(\.name)),
            "investigator": Set(all.map(\.name)),
            "regulator": ["Telecom Regulator", "Operator A", "Operator B"],
            "a-admin": ["Operator A"],
            "a-reporter": ["Operator A"],
            "b-admin": ["Operator B"],
            "bank-admin": ["First Bank"],
            "auditor": ["Audit Firm", "Operator A"],
        ]
        for (name, readable) in expected {
            let subject = world.subject(name)
            for organisation in all {
                let decision = pdp.decide(subject, .read, .organisation(organisation))
                #expect(decision.allowed == readable.contains(organisation.name), "\(name) reading \(organisation.name): \(decision.reason)")
            }
        }
    }

    @Test("who may change organisations and accounts")
    func changes() async throws {
        let world = try await world()
        let operatorAUser = Resource.user(world.users["a-reporter"]!, in: world.operatorA)
        let operatorBUser = Resource.user(world.users["b-reporter"]!, in: world.operatorB)
        let cases: [(String, Action, Resource, Bool)] = [
            ("admin", .update, .organisation(world.operatorB), true),
            ("a-admin", .update, .organisation(world.operatorA), true),
            ("a-admin", .update, .organisation(world.operatorB), false),
            ("a-reporter", .update, .organisation(world.operatorA), false),
            ("regulator", .update, .organisation(world.operatorA), false),
            ("analyst", .update, .organisation(world.operatorA), false),
            ("admin", .create, operatorBUser, true),
            ("a-admin", .create, operatorAUser, true),
            ("a-admin", .create, operatorBUser, false),
            ("a-admin", .administer, operatorAUser, true),
            ("a-reporter", .create, operatorAUser, false),
            ("auditor", .update, operatorAUser, false),
            ("regulator", .read, operatorAUser, true),
            ("regulator", .update, operatorAUser, false),
            ("bank-admin", .read, operatorAUser, false),
            ("overseer", .read, Resource(kind: .auditLog), true),
            ("admin", .read, Resource(kind: .auditLog), true),
            ("analyst", .read, Resource(kind: .auditLog), false),
            ("a-admin", .read, Resource(kind: .auditLog), false),
        ]
        for (name, action, resource, allowed) in cases {
            let decision = pdp.decide(world.subject(name), action, resource)
            #expect(decision.allowed == allowed, "\(name) \(action) \(resource): \(decision.reason)")
        }
    }

    @Test("TLP clearance caps what may be read", arguments: TLP.allCases)
    func clearance(_ marking: TLP) async throws {
        let world = try await world()
        for name in ["admin", "analyst", "a-admin", "a-reporter"] {
            let subject = world.subject(name)
            let resource = Resource(kind: .organisation, owner: world.operatorA.id, sector: "telecom", tlp: marking, reference: "doc")
            let decision = pdp.decide(subject, .read, resource)
            #expect(decision.allowed == (marking <= subject.user.clearance), "\(name) (\(subject.user.clearance)) reading \(marking)")
            if !decision.allowed { #expect(decision.denial == .clearance) }
        }
    }

    @Test("API token scopes limit what a token may do")
    func scopes() async throws {
        let world = try await world()
        var subject = world.subject("a-admin")
        subject.method = .apiToken
        subject.tokenScopes = [.read]
        #expect(pdp.decide(subject, .read, .organisation(world.operatorA)).allowed)
        #expect(pdp.decide(subject, .update, .organisation(world.operatorA)).denial == .tokenScope)
        subject.tokenScopes = [.read, .write]
        #expect(pdp.decide(subject, .update, .organisation(world.operatorA)).allowed)
        let user = Resource.user(world.users["a-reporter"]!, in: world.operatorA)
        #expect(pdp.decide(subject, .administer, user).denial == .tokenScope)
    }

    @Test("administering needs a second factor checked in the last 15 minutes")
    func freshMFA() async throws {
        let world = try await world()
        let user = Resource.user(world.users["a-reporter"]!, in: world.operatorA)
        let now = FixedInstant.thursdayAfternoon.date
        var subject = world.subject("a-admin", now: now.addingTimeInterval(-20 * 60))
        #expect(pdp.decide(subject, .administer, user, at: now).denial == .staleMFA)
        subject.mfaAt = now.addingTimeInterval(-60)
        #expect(pdp.decide(subject, .administer, user, at: now).allowed)
        subject.method = .password
        subject.mfaAt = nil
        #expect(pdp.decide(subject, .administer, user, at: now).denial == .staleMFA)
        #expect(pdp.decide(subject, .read, user, at: now).allowed, "reading does not need MFA")
    }

    @Test("authority roles held outside the authority have no effect, and disabled accounts nothing")
    func misgranted() async throws {
        let world = try await world()
        var subject = world.subject("a-admin")
        subject.user.roles.insert(.authorityAdmin)
        #expect(!pdp.decide(subject, .read, .organisation(world.operatorB)).allowed)
        var disabled = world.subject("admin")
        disabled.user.disabled = true
        #expect(pdp.decide(disabled, .read, .organisation(world.authority)).denial == .disabled)
    }

    @Test("the policy renders as a table for auditors")
    func readable() {
        let table = Policy.markdown()
        #expect(table.contains("| authority-admin | organisation | read, create, update | all |"))
        #expect(table.contains("TLP"))
    }
}

@Suite("Policy documentation")
struct PolicyDocumentationTests {
    @Test("docs/policy.md is the policy the code enforces (regenerate with `qila policy`)")
    func documentMatchesCode() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/policy.md"), encoding: .utf8)
        #expect(document.contains(Policy.markdown()), "docs/policy.md is stale: run `qila policy` and paste the table")
    }
}

import Foundation
import HTTPTypes
import HummingbirdTesting
import QilaAccess
import QilaCore
import QilaTestSupport
import Testing
@testable import QilaWeb

/// For every endpoint of the API, which accounts may use it on Operator A's data. Everyone
/// else must get 403 or 404, never the data. The expectations are written out by hand from
/// the programme's rules, not derived from the policy table, so a mistake in either shows.
@Suite("Cross-tenant access matrix")
struct AccessMatrixTests {
    static let everyone = [
        "admin", "analyst", "overseer", "investigator", "regulator", "a-admin", "a-reporter", "a-sensor", "b-admin", "b-reporter",
        "bank-admin", "auditor",
    ]

    struct Endpoint: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: @Sendable (WebHarness) -> String
        var body: String?
        var allowed: Set<String>
        var name: String
        var description: String { name }
    }

    static let endpoints: [Endpoint] = [
        Endpoint(method: .get, path: { "/api/v1/organisations/\($0.world.operatorA.id)" }, allowed: ["admin", "analyst", "overseer", "investigator", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"], name: "read organisation"),
        Endpoint(method: .put, path: { "/api/v1/organisations/\($0.world.operatorA.id)" }, body: #"{"name":"Operator A","kind":"licensee","sector":"telecom","registrationNumber":"L-1"}"#, allowed: ["admin", "a-admin"], name: "update organisation"),
        Endpoint(method: .get, path: { "/api/v1/organisations/\($0.world.operatorA.id)/users" }, allowed: ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor"], name: "list users"),
        Endpoint(method: .post, path: { "/api/v1/organisations/\($0.world.operatorA.id)/users" }, body: #"{"username":"new-{caller}","displayName":"New Person","roles":["organisation-reporter"]}"#, allowed: ["admin", "a-admin"], name: "create user"),
        Endpoint(method: .get, path: { "/api/v1/users/\($0.world.users["a-reporter"]!.id)" }, allowed: ["admin", "analyst", "regulator", "a-admin", "a-reporter", "a-sensor"], name: "read user"),
        Endpoint(method: .patch, path: { "/api/v1/users/\($0.world.users["a-reporter"]!.id)" }, body: #"{"displayName":"Renamed Reporter"}"#, allowed: ["admin", "a-admin"], name: "update user"),
        Endpoint(method: .patch, path: { "/api/v1/users/\($0.world.users["a-reporter"]!.id)" }, body: #"{"roles":["organisation-reporter"],"clearance":"TLP:GREEN"}"#, allowed: ["admin", "a-admin"], name: "grant roles"),
        Endpoint(method: .get, path: { "/api/v1/users/\($0.world.users["a-reporter"]!.id)/tokens" }, allowed: ["admin", "a-admin", "a-reporter"], name: "list tokens"),
        Endpoint(method: .post, path: { "/api/v1/users/\($0.world.users["a-sensor"]!.id)/tokens" }, body: #"{"name":"sensor","scopes":["ingest"]}"#, allowed: ["admin", "a-admin"], name: "issue service token"),
        Endpoint(method: .post, path: { _ in "/api/v1/organisations" }, body: #"{"name":"Org of {caller}","kind":"bank","sector":"banking-finance"}"#, allowed: ["admin"], name: "create organisation"),
        Endpoint(method: .post, path: { _ in "/api/v1/sectors" }, body: #"{"id":"sector-{caller}","name":"New sector"}"#, allowed: ["admin"], name: "create sector"),
        Endpoint(method: .get, path: { _ in "/api/v1/audit/entries" }, allowed: ["admin", "overseer"], name: "read audit entries"),
        Endpoint(method: .get, path: { _ in "/api/v1/audit/tree-head" }, allowed: ["admin", "overseer"], name: "read tree head"),
        Endpoint(method: .get, path: { _ in "/api/v1/audit/proofs/inclusion?index=0&treeSize=1" }, allowed: ["admin", "overseer"], name: "inclusion proof"),
        Endpoint(method: .get, path: { _ in "/api/v1/audit/proofs/consistency?from=1&to=2" }, allowed: ["admin", "overseer"], name: "consistency proof"),
        Endpoint(method: .get, path: { _ in "/metrics" }, allowed: ["admin"], name: "metrics"),
        Endpoint(method: .get, path: { _ in "/api/v1/sectors" }, allowed: Set(everyone), name: "list sectors"),
        Endpoint(method: .get, path: { _ in "/api/v1/me" }, allowed: Set(everyone), name: "me"),
    ]

    @Test("each endpoint admits exactly the accounts it should", arguments: endpoints)
    func matrix(_ endpoint: Endpoint) async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            for name in Self.everyone {
                let body = endpoint.body?.replacingOccurrences(of: "{caller}", with: name)
                let response = try await client.call(endpoint.method, endpoint.path(harness), as: harness.tokens[name]!, json: body)
                let code = Int(response.status.code)
                if endpoint.allowed.contains(name) {
                    #expect((200..<300).contains(code), "\(name) should be able to \(endpoint.name), got \(code): \(String(buffer: response.body))")
                } else {
                    #expect(code == 403 || code == 404, "\(name) must not \(endpoint.name), got \(code)")
                    if response.headers[.contentType] == "application/problem+json" {
                        #expect(!String(buffer: response.body).contains("Operator A"), "a denial must not reveal the other tenant's data")
                    }
                }
            }
        }
    }

    @Test("listing organisations shows only what each account may see")
    func listing() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let expectations: [String: Set<String>] = [
                "b-admin": ["Operator B"], "bank-admin": ["First Bank"], "auditor": ["Audit Firm", "Operator A"],
                "regulator": ["Telecom Regulator", "Operator A", "Operator B"],
            ]
            for (name, visible) in expectations {
                let response = try await client.call(.get, "/api/v1/organisations", as: harness.tokens[name]!)
                let names = try JSONDecoder().decode([[String: String?]].self, from: Data(buffer: response.body)).compactMap { $0["name"] ?? nil }
                #expect(Set(names) == visible, "\(name) sees \(names)")
            }
        }
    }

    @Test("every denial is recorded in the audit log")
    func denialsAudited() async throws {
        let harness = try await WebHarness.make()
        let before = try await harness.world.installation.store.auditEntryCount()
        try await harness.run { client in
            _ = try await client.call(.get, "/api/v1/organisations/\(harness.world.operatorA.id)", as: harness.tokens["b-admin"]!)
        }
        let entries = try await harness.world.installation.store.auditEntries(from: before, limit: 10, actionPrefix: "policy.deny")
        #expect(entries.contains { $0.actor == harness.world.users["b-admin"]!.id.description && $0.resource == "organisation:\(harness.world.operatorA.id)" })
    }

    @Test("cross-tenant reads by the authority are recorded")
    func crossTenantReadsAudited() async throws {
        let harness = try await WebHarness.make()
        let before = try await harness.world.installation.store.auditEntryCount()
        try await harness.run { client in
            _ = try await client.call(.get, "/api/v1/organisations/\(harness.world.operatorA.id)", as: harness.tokens["analyst"]!)
        }
        let entries = try await harness.world.installation.store.auditEntries(from: before, limit: 10, actionPrefix: "data.read")
        #expect(entries.contains { $0.actor == harness.world.users["analyst"]!.id.description })
    }

    @Test("pages enforce the same rules as the API")
    func pages() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let a = harness.world.operatorA.id
            let reporter = harness.world.users["a-reporter"]!.id
            let cases: [(String, String, Bool)] = [
                ("b-admin", "/admin/organisations/\(a)", false),
                ("a-admin", "/admin/organisations/\(a)", true),
                ("auditor", "/admin/organisations/\(a)", true),
                ("b-admin", "/admin/users/\(reporter)", false),
                ("a-admin", "/admin/users/\(reporter)", true),
                ("a-admin", "/admin/audit", false),
                ("overseer", "/admin/audit", true),
                ("a-admin", "/flows", true),
                ("admin", "/flows", true),
                ("a-reporter", "/flows", false),
                ("investigator", "/warrants", true),
                ("a-reporter", "/warrants", false),
                ("overseer", "/warrants/oversight", true),
                ("admin", "/warrants/oversight", true),
                ("a-admin", "/warrants/oversight", false),
                ("investigator", "/warrants/oversight", false),
                ("a-reporter", "/cases", true),
                ("auditor", "/cases", true),
                ("regulator", "/cases", true),
                ("investigator", "/cases", false),
                ("overseer", "/cases/reports", true),
                ("bank-admin", "/cases/reports", true),
                ("investigator", "/cases/reports", false),
                ("regulator", "/cases/campaigns", true),
                ("a-admin", "/cases/campaigns", false),
                ("a-admin", "/admin/webhooks", true),
                ("admin", "/admin/webhooks", true),
                ("a-reporter", "/admin/webhooks", false),
                ("analyst", "/admin/webhooks", false),
                ("a-admin", "/sensors", true),
                ("analyst", "/sensors", true),
                ("regulator", "/sensors", true),
                ("a-reporter", "/sensors", false),
                ("investigator", "/sensors", false),
                ("a-reporter", "/alerts", true),
                ("analyst", "/alerts", true),
                ("regulator", "/alerts", true),
                ("investigator", "/alerts", false),
                ("overseer", "/alerts", false),
                ("analyst", "/rules", true),
                ("admin", "/rules", true),
                ("a-admin", "/rules", false),
                ("regulator", "/rules", false),
            ]
            for (name, path, allowed) in cases {
                let (cookie, _) = try await client.signIn(name)
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: cookie, .accept: "text/html"])
                if allowed {
                    // Admitted: the page, or first a step up to a fresh second factor (the warrant
                    // form asks for it before it is shown).
                    let location = response.headers[.location] ?? ""
                    let stepUp = response.status == .seeOther && (location.hasPrefix("/profile/totp?reason=") || location.hasPrefix("/reauthenticate?next="))
                    #expect(response.status == .ok || stepUp, "\(name) \(path): \(response.status)")
                } else {
                    #expect(response.status == .forbidden || response.status == .notFound, "\(name) \(path): \(response.status)")
                    #expect(!String(buffer: response.body).contains("a-reporter"))
                }
            }
        }
    }
}

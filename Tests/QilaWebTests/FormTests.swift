import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaCore
import QilaIngest
import QilaAccess
import QilaStore
import QilaTestSupport
import Testing
@testable import QilaWeb

@Suite("Forms: refused submissions come back whole")
struct FormTests {
    @Test("A desk's message is worded with the field's label", arguments: [
        ("Court", "is required", "Court is required."),
        ("Expires", "must be after the issuing date", "Expires must be after the issuing date."),
        ("Provider", "choose the provider the warrant is addressed to", "Choose the provider the warrant is addressed to."),
        ("Addresses in scope", "'10.0.0.300' is not a single IPv4 or IPv6 address", "'10.0.0.300' is not a single IPv4 or IPv6 address."),
    ])
    func sentence(_ label: String, _ message: String, _ expected: String) {
        #expect(FormState.sentence(label: label, message) == expected)
    }

    static func form(_ fields: [(String, String)]) -> String {
        fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
    }

    @Test("A refused warrant comes back with every value, the provider still chosen, and the error beside its field; fixed, it names that provider")
    func refusedWarrant() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        try await harness.run { client in
            let (cookie, csrf, _) = try await client.signInWithSecondFactor("investigator", in: world)
            let headers: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let fresh = String(buffer: try await client.execute(uri: "/warrants", method: .get, headers: [.cookie: cookie]).body)
            // No provider is chosen for the investigator: the first in the list is not a default.
            #expect(fresh.contains(#"<option value="">Choose…</option>"#))
            #expect(!fresh.contains(" selected>"))

            // Operator B is not first in the list; the expiry is before the issue date.
            var fields = [
                ("provider", world.operatorB.id.description), ("court", "Sessions Court Lahore"), ("number", "W-2026-17"),
                ("issuedAt", "2026-11-20T10:00"), ("expiresAt", "2026-11-19T10:00"), ("agency", "FIA Cyber Crime Wing"),
                ("addresses", "198.51.100.7\n2001:db8::7"), ("subscribers", ""), ("disclosesSubscribers", "1"),
                ("windowStart", "2026-11-01T00:00"), ("windowEnd", "2026-11-10T00:00"),
            ]
            let refused = try await client.execute(
                uri: "/warrants", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + Self.form(fields)))
            // Post-redirect-get: a reload of the page that follows submits nothing.
            #expect(refused.status == .seeOther)
            let location = try #require(refused.headers[.location])
            #expect(location.hasPrefix("/warrants?form=") && location.hasSuffix("#error-summary"))
            let page = String(location.prefix { $0 != "#" })
            let html = String(buffer: try await client.execute(uri: page, method: .get, headers: [.cookie: cookie]).body)
            #expect(html.contains(#"<option value="\#(world.operatorB.id)" selected>Operator B</option>"#))
            #expect(!html.contains(#"<option value="\#(world.operatorA.id)" selected>"#))
            for value in ["Sessions Court Lahore", "W-2026-17", "2026-11-20T10:00", "2026-11-19T10:00", "FIA Cyber Crime Wing", "2026-11-10T00:00"] {
                #expect(html.contains(#"value="\#(value)""#), "\(value) is shown again")
            }
            #expect(html.contains("198.51.100.7\n2001:db8::7</textarea>"))
            #expect(html.contains(#"name="disclosesSubscribers" value="1" checked"#))
            // The error sits beside the field, worded with its label, and the summary links to it.
            #expect(html.contains(#"<p class="field-error" id="expiresAt-error"><span class="visually-hidden">Error: </span>Expires must be after the issuing date.</p>"#))
            #expect(html.contains(#"id="expiresAt" name="expiresAt" type="text" value="2026-11-19T10:00" required aria-invalid="true" aria-describedby="expiresAt-hint expiresAt-error""#))
            #expect(html.contains(##"<a href="#expiresAt">Expires must be after the issuing date.</a>"##))
            #expect(!html.contains("(field expiresAt)"))
            // A reload shows the same form.
            #expect(String(buffer: try await client.execute(uri: page, method: .get, headers: [.cookie: cookie]).body).contains("W-2026-17"))

            // Kept sealed (what is typed can name people), and for this session only.
            let formID = String(page.dropFirst("/warrants?form=".count))
            let store = world.installation.store
            let rows = try await store.database.query("SELECT session_hash, sealed FROM refused_forms WHERE id = ?", .text(formID))
            let sealed = try #require(rows.first?.optionalBytes("sealed"))
            #expect(!String(decoding: sealed, as: UTF8.self).contains("Sessions Court"))
            #expect(try await store.refusedForm(id: formID, sessionHash: "another session", notBefore: .distantPast) == nil)

            // Only the date is fixed: the warrant is addressed to the provider chosen the first time.
            fields[4] = ("expiresAt", "2026-12-20T10:00")
            let accepted = try await client.execute(
                uri: "/warrants", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + Self.form(fields)))
            #expect(accepted.status == .seeOther)
            let path = try #require(accepted.headers[.location])
            let id = try #require(WarrantID(String(path.dropFirst("/warrants/".count))))
            let warrant = try #require(try await world.installation.store.warrant(id)).warrant
            #expect(warrant.provider == world.operatorB.id && warrant.number == "W-2026-17")
        }
    }

    @Test("A refused account keeps its roles and clearance; an added one shows its set-up link once the browser is redirected")
    func refusedAccount() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        try await harness.run { client in
            let (cookie, csrf, _) = try await client.signInWithSecondFactor("a-admin", in: world)
            let headers: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let path = "/admin/organisations/\(world.operatorA.id)"
            var fields = [
                ("username", "a-reporter"), ("displayName", "Sana Malik"), ("email", "sana@example.test"), ("kind", "person"),
                ("role", "organisation-reporter"), ("role", "auditor"), ("clearance", "TLP:AMBER"),
            ]
            let refused = try await client.execute(uri: path + "/users", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + Self.form(fields)))
            let back = String(try #require(refused.headers[.location], "\(refused.status) \(String(buffer: refused.body).prefix(400))").prefix { $0 != "#" })
            let html = String(buffer: try await client.execute(uri: back, method: .get, headers: [.cookie: cookie]).body)
            #expect(html.contains(#"id="username-error""#) && html.contains("is taken"))
            #expect(html.contains(#"value="organisation-reporter" checked"#) && html.contains(#"value="auditor" checked"#))
            // Only the roles the administrator may grant are offered.
            #expect(!html.contains(#"value="legal-officer""#) && !html.contains(#"value="authority-admin""#))
            #expect(!html.contains(#"value="organisation-admin" checked"#))
            #expect(html.contains(#"<option value="TLP:AMBER" selected>"#))
            #expect(html.contains(#"value="Sana Malik""#))
            fields[0] = ("username", "s-malik")
            let added = try await client.execute(uri: path + "/users", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + Self.form(fields)))
            let location = try #require(added.headers[.location])
            #expect(location.hasSuffix("#account-added"))
            let page = String(buffer: try await client.execute(uri: String(location.prefix { $0 != "#" }), method: .get, headers: [.cookie: cookie]).body)
            #expect(page.contains("Account s-malik added.") && page.contains("/setup/"))
            let user = try #require(try await world.installation.store.user(username: "s-malik"))
            #expect(user.roles == [.organisationReporter, .auditor] && user.clearance == .amber)
        }
    }

    @Test("An investigator without two-factor sign-in is sent to turn it on before the warrant form, not after it")
    func secondFactorFirst() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (cookie, _) = try await client.signIn("investigator")
            let page = try await client.execute(uri: "/warrants", method: .get, headers: [.cookie: cookie])
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/profile/totp?reason=warrants")
            let enrol = String(buffer: try await client.execute(uri: "/profile/totp?reason=warrants", method: .get, headers: [.cookie: cookie]).body)
            #expect(enrol.contains("Warrants and the traffic data they release need two-factor sign-in."))
        }
    }
}

@Suite("The API's enumerations")
struct APIEnumerationTests {
    @Test("Every role, organisation kind and clearance Qila has is a value the API describes")
    func domainValuesInTheAPI() {
        // A value missing from openapi.yaml made the conversion to the API's type trap, and a
        // user list holding a legal officer crashed the server.
        for role in Role.allCases { #expect(Components.Schemas.Role(rawValue: role.rawValue) != nil, "role \(role.rawValue)") }
        for kind in Organisation.Kind.allCases { #expect(Components.Schemas.OrganisationKind(rawValue: kind.rawValue) != nil, "kind \(kind.rawValue)") }
        for tlp in TLP.allCases { #expect(Components.Schemas.Tlp(rawValue: tlp.rawValue) != nil, "clearance \(tlp.rawValue)") }
    }
}

@Suite("Sensors: one desk for the page and the command line")
struct SensorDeskTests {
    @Test("A refused sensor comes back as typed, with the error beside the account; fixed, it is registered and audited")
    func refusedSensor() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("a-admin")
            let headers: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            var fields = [
                ("organisation", world.operatorA.id.description), ("name", "billing-http"), ("transport", "http"), ("format", "json"),
                ("mapping", "windows-flat"), ("addresses", ""), ("account", world.users["a-reporter"]!.id.description), ("rate", "250"),
            ]
            let refused = try await client.execute(uri: "/sensors", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + FormTests.form(fields)))
            #expect(refused.status == .seeOther)
            let page = String(try #require(refused.headers[.location]).prefix { $0 != "#" })
            let html = String(buffer: try await client.execute(uri: page, method: .get, headers: [.cookie: cookie]).body)
            #expect(html.contains(#"id="account-error"><span class="visually-hidden">Error: </span>HTTP and TLS sensors send as an enabled service account of Operator A: choose one.</p>"#))
            #expect(html.contains(#"value="billing-http""#) && html.contains(#"value="250""#))
            #expect(html.contains(#"<option value="http" selected>"#))
            // The service account, and it is registered.
            fields[6] = ("account", world.users["a-sensor"]!.id.description)
            let accepted = try await client.execute(uri: "/sensors", method: .post, headers: headers, body: ByteBuffer(string: "_csrf=\(csrf)&" + FormTests.form(fields)))
            let location = try #require(accepted.headers[.location])
            #expect(location.hasPrefix("/sensors?registered="))
            let done = String(buffer: try await client.execute(uri: location, method: .get, headers: [.cookie: cookie]).body)
            #expect(done.contains("Sensor billing-http registered for Operator A."))
            let sensor = try #require(try await world.installation.store.sensors().first { $0.name == "billing-http" })
            #expect(sensor.account == world.users["a-sensor"]!.id && sensor.rateLimit == 250)
            let audit = try await world.installation.store.auditEntries(from: 0, limit: 500, actionPrefix: "sensor.create")
            #expect(audit.contains { $0.resource == "sensor:\(sensor.id)" && $0.actor == world.users["a-admin"]!.id.description })
        }
    }

    @Test("The command line's operator is held to the page's checks", arguments: [
        ("name", String(repeating: "n", count: 81), "name"),
        ("account", "a-reporter", "account"),
        ("addresses", "", "addresses"),
        ("transport", "carrier-pigeon", "transport"),
        ("rate", "-1", "rate"),
    ])
    func commandLineChecks(_ field: String, _ value: String, _ named: String) async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let desk = SensorDesk(store: world.installation.store, audit: world.installation.audit)
        var draft = SensorDesk.Draft(
            organisation: "Operator A", name: "dc-logs", transport: field == "account" ? "http" : "syslog", format: "json", mapping: "windows-flat",
            addresses: "192.0.2.10", account: "", rate: "0")
        switch field {
        case "name": draft.name = value
        case "account": draft.account = value
        case "addresses": draft.addresses = value
        case "transport": draft.transport = value
        default: draft.rate = value
        }
        let gate = DecisionGate(policy: world.installation.policy, audit: world.installation.audit)
        do {
            _ = try await desk.register(draft, by: nil, gate: gate)
            Issue.record("\(field) = '\(value)' was accepted")
        } catch let error as QilaError {
            #expect(error.code == .invalidInput && error.field == named, "\(error)")
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QilaAccess
import QilaCore
import QilaTestSupport
import Testing
@testable import QilaWeb

/// The findings of the outside security test (issue 17), each as the tester found it.
@Suite("Security findings of the outside test")
struct SecurityFindingsTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test("F1: a password-only session cannot mint an admin token, and an admin token administers only within 15 minutes of the second factor it was minted under")
    func adminTokenNeedsSecondFactor() async throws {
        let harness = try await WebHarness.make()
        let admin = harness.world.users["a-admin"]!
        let reporter = harness.world.users["a-reporter"]!
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("a-admin")
            let headers: HTTPFields = [.cookie: cookie, HTTPField.Name("X-CSRF-Token")!: csrf]
            let minted = try await client.call(
                .post, "/api/v1/users/\(admin.id)/tokens", as: nil, json: #"{"name":"escalate","scopes":["read","write","admin"]}"#, headers: headers)
            #expect(minted.status == .forbidden)
            #expect(String(buffer: minted.body).contains("field scopes"))
            #expect(String(buffer: minted.body).contains("second factor"))
            let plain = try await client.call(
                .post, "/api/v1/users/\(admin.id)/tokens", as: nil, json: #"{"name":"scripts","scopes":["read","write"]}"#, headers: headers)
            #expect(plain.status == .created, "read and write tokens need no second factor")
            let secret = try #require(String(buffer: plain.body).split(separator: "\"").first { $0.hasPrefix("qila_") })
            let escalate = try await client.call(.patch, "/api/v1/users/\(reporter.id)", as: String(secret), json: #"{"roles":["organisation-admin"]}"#)
            #expect(escalate.status == .forbidden)
        }

        // Through the desk: the token carries the minting check, not the minting time.
        let world = harness.world
        let authenticator = world.installation.authenticator
        let policy = world.installation.policy
        let t0 = FixedInstant.thursdayAfternoon.date
        let target = Resource.user(reporter, in: world.operatorA)
        var stale = world.subject("a-admin", now: t0.addingTimeInterval(-16 * 60))
        await #expect(throws: QilaError.self) {
            try await authenticator.issueToken(for: admin, name: "late", scopes: [.admin, .write], days: 1, by: stale, now: t0)
        }
        stale.mfaAt = t0.addingTimeInterval(-60)
        let issued = try await authenticator.issueToken(for: admin, name: "fresh", scopes: [.admin, .write, .read], days: 30, by: stale, now: t0)
        #expect(issued.token.secondFactorAt == t0.addingTimeInterval(-60))
        let principal = try #require(try await authenticator.authenticate(bearer: issued.secret, source: nil, now: t0))
        let bearer = principal.subject(at: t0)
        #expect(policy.decide(bearer, .administer, target, at: t0.addingTimeInterval(13 * 60)).allowed)
        #expect(policy.decide(bearer, .administer, target, at: t0.addingTimeInterval(15 * 60)).denial == .staleMFA)
        #expect(policy.decide(bearer, .update, target, at: t0.addingTimeInterval(20 * 86_400)).allowed, "it still writes, for its whole life")
        // A token minted with that token carries no more freshness than it has.
        let second = try await authenticator.issueToken(for: admin, name: "copy", scopes: [.admin], days: 1, by: bearer, now: t0.addingTimeInterval(10 * 60))
        #expect(second.token.secondFactorAt == t0.addingTimeInterval(-60))
        // Only administrators may mint admin tokens at all, whatever their second factor.
        var reporterSubject = world.subject("a-reporter", now: t0)
        reporterSubject.mfaAt = t0
        await #expect(throws: QilaError.self) {
            try await authenticator.issueToken(for: reporter, name: "x", scopes: [.admin], days: 1, by: reporterSubject, now: t0)
        }
        // The stored token keeps the instant, on both backends' schema.
        #expect(try await world.installation.store.token(issued.token.id)?.secondFactorAt == t0.addingTimeInterval(-60))
    }

    @Test("F2: re-authentication is throttled like sign-in, and the throttle is shared through the database")
    func reauthenticationThrottled() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("a-admin")
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<8 {
                let response = try await client.execute(
                    uri: "/reauthenticate", method: .post, headers: Self.form + [.cookie: cookie],
                    body: ByteBuffer(string: "_csrf=\(csrf)&next=/&password=wrong+password+guess"))
                statuses.append(response.status)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            let right = try await client.execute(
                uri: "/reauthenticate", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "_csrf=\(csrf)&next=/&password=\(TenantWorld.password.replacingOccurrences(of: " ", with: "+"))"))
            #expect(right.status == .tooManyRequests, "the right password waits too")
            #expect(right.headers[.retryAfter] != nil)
            #expect(String(buffer: right.body).contains("Too many failed attempts"))
        }
        // Another node (another authenticator over the same database) sees the same hold.
        let other = Authenticator(
            store: harness.world.installation.store, secrets: harness.world.installation.secrets, hasher: harness.world.installation.authenticator.hasher,
            passwordPolicy: harness.world.installation.authenticator.passwordPolicy, audit: harness.world.installation.audit)
        guard case .throttled = try await other.signIn(username: "a-admin", password: TenantWorld.password, source: nil, userAgent: nil) else {
            Issue.record("a second node must see the account held back")
            return
        }
    }

    @Test("F3: bodies over the limit answer 413 with a problem document, chunked or not", arguments: [
        ("/api/v1/cases", 2 << 20), ("/api/v1/intake", 33 << 20),
    ])
    func chunkedBodiesOverTheLimit(_ path: String, _ size: Int) async throws {
        let harness = try await WebHarness.make()
        let token = harness.tokens["a-admin"]!
        try await harness.application.test(.live) { client in
            let port = try #require(client.port)
            let chunked = try await RawHTTP.exchange(
                port: port,
                RawHTTP.request(
                    "POST", path, host: "127.0.0.1:\(port)",
                    headers: ["Authorization: Bearer \(token)", "Content-Type: application/json", "Transfer-Encoding: chunked"],
                    body: RawHTTP.chunked([UInt8](repeating: UInt8(ascii: " "), count: size))))
            #expect(chunked.hasPrefix("HTTP/1.1 413"), "\(chunked.prefix(200))")
            #expect(chunked.lowercased().contains("content-type: application/problem+json"))
            let announced = try await RawHTTP.exchange(
                port: port,
                RawHTTP.request(
                    "POST", path, host: "127.0.0.1:\(port)",
                    headers: ["Authorization: Bearer \(token)", "Content-Type: application/json", "Content-Length: \(size)"],
                    body: [UInt8](repeating: UInt8(ascii: " "), count: size)))
            #expect(announced.hasPrefix("HTTP/1.1 413"), "\(announced.prefix(200))")
        }
    }

    @Test("F4: re-authentication sends back only to paths of this origin", arguments: [
        ("/alerts?status=new", "/alerts?status=new"), ("/\\evil.example/phish", "/"), ("/\t/evil.example", "/"), ("//evil.example", "/"),
        ("https://evil.example", "/"), ("/\\\\evil.example", "/"), ("/ok/\u{0}x", "/"), ("", "/"),
    ])
    func localRedirects(_ next: String, _ expected: String) async throws {
        #expect((LocalRedirect.path(next) ?? "/") == expected)
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("a-admin")
            let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let response = try await client.execute(
                uri: "/reauthenticate", method: .post, headers: Self.form + [.cookie: cookie],
                body: ByteBuffer(string: "_csrf=\(csrf)&next=\(encoded)&password=\(TenantWorld.password.replacingOccurrences(of: " ", with: "+"))"))
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == expected)
        }
    }

    @Test("F5: another tenant's objects answer exactly as absent ones do")
    func noExistenceOracle() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        let token = harness.tokens["b-reporter"]!
        let realUser = world.users["a-reporter"]!.id
        try await harness.run { client in
            let pairs: [(HTTPRequest.Method, String, String, String?)] = [
                (.put, "/api/v1/organisations/\(world.operatorA.id)", "/api/v1/organisations/\(UUID())", #"{"name":"Renamed","kind":"licensee","sector":"telecom"}"#),
                (.post, "/api/v1/organisations/\(world.operatorA.id)/users", "/api/v1/organisations/\(UUID())/users",
                 #"{"username":"intruder","displayName":"Intruder","roles":[]}"#),
                (.patch, "/api/v1/users/\(realUser)", "/api/v1/users/\(UUID())", #"{"disabled":true}"#),
            ]
            for (method, real, random, body) in pairs {
                let a = try await client.call(method, real, as: token, json: body)
                let b = try await client.call(method, random, as: token, json: body)
                #expect(a.status == .notFound, "\(method) \(real): \(String(buffer: a.body))")
                #expect(a.status == b.status, "\(method) \(real)")
                #expect(Self.detail(a) == Self.detail(b), "\(method) \(real): \(Self.detail(a)) vs \(Self.detail(b))")
            }
        }
    }

    static func detail(_ response: TestResponse) -> String {
        let text = String(buffer: response.body)
        guard let range = text.range(of: #""detail":""#) else { return text }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test("F6: set-up links come from the configured address, never from the Host header")
    func setupLinksIgnoreHost() throws {
        var configuration = WebConfiguration()
        configuration.port = 8443
        #expect(PublicOrigin.link("/setup/s", configuration: configuration, requestAuthority: "evil.example") == "https://127.0.0.1:8443/setup/s")
        #expect(PublicOrigin.link("/setup/s", configuration: configuration, requestAuthority: "evil.example:8443") == "https://127.0.0.1:8443/setup/s")
        #expect(PublicOrigin.link("/setup/s", configuration: configuration, requestAuthority: "localhost:8443") == "https://localhost:8443/setup/s")
        #expect(PublicOrigin.link("/setup/s", configuration: configuration, requestAuthority: nil) == "https://127.0.0.1:8443/setup/s")
        configuration.publicURL = "https://qila.authority.example/"
        #expect(PublicOrigin.link("/setup/s", configuration: configuration, requestAuthority: "localhost:8443") == "https://qila.authority.example/setup/s")
        #expect(!WebConfiguration.isUsablePublicURL("qila.authority.example"))
    }

    @Test("F6: a request with a forged Host does not get a set-up link to that host")
    func setupLinkPage() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        // Adding a person is administering: the organisation's administrator signs in with a second factor.
        let admin = world.users["b-admin"]!
        let authenticator = world.installation.authenticator
        let totp = try await authenticator.beginTOTPEnrolment(for: admin)
        let now = Date()
        #expect(try await authenticator.confirmTOTPEnrolment(for: admin, code: totp.code(at: now), now: now) != nil)
        try await harness.application.test(.live) { client in
            let port = try #require(client.port)
            let host = "127.0.0.1:\(port)"
            func post(_ path: String, host: String, cookie: String?, _ body: String) async throws -> String {
                let bytes = Array(body.utf8)
                return try await RawHTTP.exchange(
                    port: port,
                    RawHTTP.request(
                        "POST", path, host: host,
                        headers: ["Content-Type: application/x-www-form-urlencoded", "Content-Length: \(bytes.count)"] + (cookie.map { ["Cookie: \($0)"] } ?? []),
                        body: bytes))
            }
            func cookie(_ answer: String) throws -> String {
                try #require(answer.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }?.dropFirst(11).split(separator: ";").first)
                    .trimmingCharacters(in: .whitespaces)
            }
            let pending = try cookie(try await post("/sign-in", host: host, cookie: nil, String(decoding: Self.credentials("b-admin"), as: UTF8.self)))
            let page = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/sign-in/totp", host: host, headers: ["Cookie: \(pending)"]))
            let pendingCSRF = try #require(page.range(of: #"name="_csrf" value=""#).map { String(page[$0.upperBound...].prefix { $0 != "\"" }) })
            let signedIn = try cookie(
                try await post("/sign-in/totp", host: host, cookie: pending, "_csrf=\(pendingCSRF)&code=\(totp.code(step: totp.step(at: now) + 1))"))
            let profile = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/profile", host: host, headers: ["Cookie: \(signedIn)"]))
            let csrf = try #require(profile.range(of: #"name="_csrf" value=""#).map { String(profile[$0.upperBound...].prefix { $0 != "\"" }) })
            let created = try await post(
                "/admin/organisations/\(world.operatorB.id)/users", host: "evil.example", cookie: signedIn,
                "_csrf=\(csrf)&username=new-person&displayName=New+Person&clearance=green")
            // Post-redirect-get: the link is on the page the browser is sent to (a local path).
            let location = try #require(created.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }?.dropFirst(9))
                .trimmingCharacters(in: .whitespaces)
            #expect(location.hasPrefix("/admin/organisations/"), "\(created.prefix(300))")
            let shown = try await RawHTTP.exchange(
                port: port, RawHTTP.request("GET", String(location.prefix { $0 != "#" }), host: "evil.example", headers: ["Cookie: \(signedIn)"]))
            #expect(shown.contains("/setup/"), "\(shown.prefix(300))")
            #expect(!created.contains("evil.example") && !shown.contains("evil.example/setup"))
            #expect(shown.contains("http://127.0.0.1:8443/setup/"), "the listening address of the configuration")
        }
    }

    static func credentials(_ username: String) -> [UInt8] {
        Array("username=\(username)&password=\(TenantWorld.password.replacingOccurrences(of: " ", with: "+"))".utf8)
    }

    @Test("F7: Origin must name this server's scheme, host and port exactly")
    func exactOrigin() async throws {
        let harness = try await WebHarness.make()
        try await harness.application.test(.live) { client in
            let port = try #require(client.port)
            let cases: [(String, Bool)] = [
                ("http://127.0.0.1:\(port)", true), ("null", true), ("http://127", false), ("http://127.0.0.1", false), ("http://127.0.0.1:9999", false),
                ("https://127.0.0.1:\(port)", false), ("http://127.0.0.1:\(port).evil.example", false), ("http://evil.example", false),
            ]
            for (origin, allowed) in cases {
                let body = Array("username=a-admin&password=wrong".utf8)
                let answer = try await RawHTTP.exchange(
                    port: port,
                    RawHTTP.request(
                        "POST", "/sign-in", host: "127.0.0.1:\(port)",
                        headers: ["Origin: \(origin)", "Content-Type: application/x-www-form-urlencoded", "Content-Length: \(body.count)"], body: body))
                #expect(answer.hasPrefix(allowed ? "HTTP/1.1 401" : "HTTP/1.1 403"), "\(origin): \(answer.prefix(40))")
            }
        }
    }

    @Test("F8: the session id changes when the second factor is accepted and at re-authentication")
    func sessionRotation() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let authenticator = world.installation.authenticator
        let user = world.users["b-reporter"]!
        let now = FixedInstant.thursdayAfternoon.date
        let totp = try await authenticator.beginTOTPEnrolment(for: user)
        #expect(try await authenticator.confirmTOTPEnrolment(for: user, code: totp.code(at: now), now: now) != nil)
        guard case .needsSecondFactor(let pending, _) = try await authenticator.signIn(
            username: "b-reporter", password: TenantWorld.password, source: nil, userAgent: nil, now: now)
        else { Issue.record("sign-in should wait for the second factor"); return }
        guard case .verified(let renewed) = try await authenticator.verifySecondFactor(
            sessionSecret: pending, code: totp.code(step: totp.step(at: now) + 1), source: nil, now: now)
        else { Issue.record("the code should be accepted"); return }
        #expect(renewed != pending)
        guard case .unknown = try await authenticator.session(secret: pending, now: now) else {
            Issue.record("the pre-factor session id must be worthless"); return
        }
        guard case .active(let principal) = try await authenticator.session(secret: renewed, now: now) else {
            Issue.record("the new session id works"); return
        }
        let later = now.addingTimeInterval(120)
        guard case .verified(let again) = try await authenticator.reauthenticate(
            session: principal.session!, password: TenantWorld.password, code: totp.code(step: totp.step(at: later)), source: nil, now: later)
        else { Issue.record("re-authentication should succeed"); return }
        #expect(again != renewed)
        guard case .unknown = try await authenticator.session(secret: renewed, now: later) else {
            Issue.record("the session id before re-authentication must be worthless"); return
        }
        guard case .active(let after) = try await authenticator.session(secret: again, now: later) else {
            Issue.record("the re-authenticated session works"); return
        }
        #expect(after.session?.mfaAt == later)
        #expect(after.session?.csrfToken != principal.session?.csrfToken, "a new CSRF token with the new id")
    }

    @Test("F10: the API keeps to its description: scopes refuse outright, control characters, TRACE, and limits out of range")
    func contract() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        let ingest = try await world.installation.authenticator.issueToken(for: world.users["a-sensor"]!, name: "sensor", scopes: [.ingest], days: 1, by: nil)
        let token = harness.tokens["a-admin"]!
        try await harness.run { client in
            for path in ["/api/v1/cases", "/api/v1/compliance", "/api/v1/alerts", "/api/v1/me"] {
                let refused = try await client.call(.get, path, as: ingest.secret)
                #expect(refused.status == .forbidden, "\(path) with an ingest-only token")
                #expect(String(buffer: refused.body).contains("lacks the read scope"))
            }
            let nul = try await client.call(
                .post, "/api/v1/cases", as: token, json: #"{"title":"Outage\u0000here","awareness":"2026-12-01T08:00:00Z","tlp":"green"}"#)
            #expect(nul.status == .badRequest)
            #expect(String(buffer: nul.body).contains("field title"))
            let trace = try await client.execute(uri: "/api/v1/cases", method: .trace, headers: [.authorization: "Bearer \(token)"])
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow]?.contains("GET") == true)
            let admin = harness.tokens["admin"]!
            let tooMany = try await client.call(.get, "/api/v1/audit/entries?limit=1001", as: admin)
            #expect(tooMany.status == .badRequest)
            #expect(String(buffer: tooMany.body).contains("query limit"))
            #expect(try await client.call(.get, "/api/v1/audit/entries?limit=1000", as: admin).status == .ok)
            #expect(try await client.call(.get, "/api/v1/alerts?limit=1001", as: harness.tokens["analyst"]!).status == .badRequest)
            // null is allowed nowhere in the schema, so nowhere in the server: it is named, not taken for "absent".
            let user = world.users["a-admin"]!
            let null = try await client.call(
                .post, "/api/v1/users/\(user.id)/tokens", as: token, json: #"{"name":"n","scopes":["read"],"expiresInDays":null}"#)
            #expect(null.status == .badRequest)
            #expect(String(buffer: null.body).contains("field expiresInDays"))
            let nested = try await client.call(.patch, "/api/v1/users/\(world.users["a-reporter"]!.id)", as: token, json: #"{"roles":[null]}"#)
            #expect(String(buffer: nested.body).contains("field roles[0]"))
        }
    }
}

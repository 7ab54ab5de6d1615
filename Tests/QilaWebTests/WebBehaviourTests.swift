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

@Suite("Web behaviour")
struct WebBehaviourTests {
    @Test("bad requests get RFC 9457 problems that name what was wrong")
    func problems() async throws {
        let harness = try await WebHarness.make()
        let token = harness.tokens["admin"]!
        try await harness.run { client in
            let malformed = try await client.call(.post, "/api/v1/organisations", as: token, json: "{\"name\": ")
            #expect(malformed.status == .badRequest)
            #expect(malformed.headers[.contentType] == "application/problem+json")
            let missing = try await client.call(.post, "/api/v1/organisations", as: token, json: #"{"name":"X Org","kind":"bank"}"#)
            #expect(missing.status == .badRequest)
            #expect(String(buffer: missing.body).contains("sector"))
            let unknownSector = try await client.call(.post, "/api/v1/organisations", as: token, json: #"{"name":"X Org","kind":"bank","sector":"nowhere"}"#)
            #expect(unknownSector.status == .badRequest)
            #expect(String(buffer: unknownSector.body).contains("field sector"))
            let badID = try await client.call(.get, "/api/v1/organisations/not-a-uuid", as: token)
            #expect(badID.status == .badRequest)
            #expect(String(buffer: badID.body).contains("not-a-uuid"))
            let wrongType = try await client.execute(
                uri: "/api/v1/organisations", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "text/plain"], body: ByteBuffer(string: "hello"))
            #expect(wrongType.status.code >= 400 && wrongType.status.code < 500)
            var invalidUTF8 = ByteBuffer(string: #"{"name":""#)
            invalidUTF8.writeBytes([0xC3, 0x28, 0xFF])
            invalidUTF8.writeString(#"","kind":"bank","sector":"telecom"}"#)
            let garbled = try await client.execute(
                uri: "/api/v1/organisations", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: invalidUTF8)
            #expect(garbled.status == .badRequest)
            let huge = try await client.execute(
                uri: "/api/v1/organisations", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: 2 << 20))
            #expect(huge.status == .contentTooLarge, "\(String(buffer: huge.body))")
            let weak = try await client.call(
                .post, "/api/v1/organisations/\(harness.world.operatorA.id)/users", as: token,
                json: #"{"username":"weak-one","displayName":"Weak","roles":[],"password":"passwordpassword"}"#)
            #expect(weak.status == .badRequest)
            #expect(String(buffer: weak.body).contains("too easy to guess"))
        }
    }

    @Test("anonymous, unknown-token and revoked-token requests are refused")
    func unauthenticated() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            #expect(try await client.call(.get, "/api/v1/me", as: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", as: "qila_forged").status == .unauthorized)
            let basic = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Basic Zm9vOmJhcg=="])
            #expect(basic.status == .unauthorized)
            let admin = harness.world.users["admin"]!
            let issued = try await harness.world.installation.authenticator.issueToken(for: admin, name: "short", scopes: [.read], days: 1, by: nil)
            #expect(try await client.call(.get, "/api/v1/me", as: issued.secret).status == .ok)
            try await harness.world.installation.store.revokeToken(issued.token.id, at: Date())
            #expect(try await client.call(.get, "/api/v1/me", as: issued.secret).status == .unauthorized)
            let page = try await client.execute(uri: "/admin/organisations", method: .get, headers: [.accept: "text/html"])
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/sign-in")
        }
    }

    @Test("every answer carries the security headers; health and the API description are public")
    func headers() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            for path in ["/healthz", "/readyz", "/openapi.yaml", "/sign-in", "/api/v1/me"] {
                let response = try await client.execute(uri: path, method: .get)
                let csp = response.headers[.contentSecurityPolicy] ?? ""
                #expect(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(path)")
                #expect(!csp.contains("unsafe-inline"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let spec = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(String(buffer: spec.body).contains("openapi: 3.1.0"))
            let page = try await client.execute(uri: "/sign-in", method: .get)
            #expect(!String(buffer: page.body).contains("<script>"), "no inline scripts")
            // Every page names its icon, and the icon is there for anyone (it was a 404 on every page).
            #expect(String(buffer: page.body).contains(#"<link rel="icon" href="/assets/favicon.svg""#))
            let icon = try await client.execute(uri: "/assets/favicon.svg", method: .get)
            #expect(icon.status == .ok && icon.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
        }
    }

    @Test("a session needs its CSRF token for changes, and sign-out ends it")
    func csrfAndSignOut() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("a-admin")
            let form: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let forged = try await client.execute(uri: "/profile/sessions/end-others", method: .post, headers: form, body: ByteBuffer(string: "x=1"))
            #expect(forged.status == .forbidden)
            let crossSite = try await client.execute(
                uri: "/profile/sessions/end-others", method: .post,
                headers: form + [HTTPField(name: HTTPField.Name("Sec-Fetch-Site")!, value: "cross-site")],
                body: ByteBuffer(string: "_csrf=\(csrf)"))
            #expect(crossSite.status == .forbidden)
            let good = try await client.execute(uri: "/profile/sessions/end-others", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(csrf)"))
            #expect(good.status == .seeOther)
            let location = try #require(good.headers[.location])
            #expect(location.hasPrefix("/profile?form="))
            let shown = try await client.execute(uri: String(location.prefix { $0 != "#" }), method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: shown.body).contains("other sessions signed out") || String(buffer: shown.body).contains("other session signed out"))
            let out = try await client.execute(uri: "/sign-out", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(csrf)"))
            #expect(out.status == .seeOther)
            let after = try await client.execute(uri: "/profile", method: .get, headers: [.cookie: cookie])
            #expect(after.status == .seeOther, "the old cookie no longer works")
        }
    }

    @Test("wrong passwords are throttled per account")
    func throttling() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<7 {
                let response = try await client.execute(
                    uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "username=a-admin&password=wrong+password+guess"))
                statuses.append(response.status)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            // Even the right password waits now.
            let right = try await client.execute(
                uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "username=a-admin&password=\(TenantWorld.password.replacingOccurrences(of: " ", with: "+"))"))
            #expect(right.status == .tooManyRequests)
            #expect(right.headers[.retryAfter] != nil)
        }
    }

    @Test("TOTP enrolment through the pages, then sign-in needs the code, once")
    func totpFlow() async throws {
        let harness = try await WebHarness.make()
        let installation = harness.world.installation
        let user = harness.world.users["b-reporter"]!
        try await harness.run { client in
            let (cookie, csrf) = try await client.signIn("b-reporter")
            let enrol = try await client.execute(uri: "/profile/totp", method: .get, headers: [.cookie: cookie])
            let html = String(buffer: enrol.body)
            #expect(html.contains("<svg"), "the QR code is drawn inline")
            let totp = try #require(try await installation.authenticator.pendingTOTP(for: user))
            let form: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
            let wrong = try await client.execute(uri: "/profile/totp", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(csrf)&code=000000"))
            #expect(wrong.status == .badRequest)
            let now = Date()
            let confirm = try await client.execute(
                uri: "/profile/totp", method: .post, headers: form, body: ByteBuffer(string: "_csrf=\(csrf)&code=\(totp.code(at: now))"))
            #expect(confirm.status == .ok)
            #expect(String(buffer: confirm.body).contains("Recovery codes"))

            // A fresh sign-in now stops at the second factor.
            let password = TenantWorld.password.replacingOccurrences(of: " ", with: "+")
            let signIn = try await client.execute(
                uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "username=b-reporter&password=\(password)"))
            #expect(signIn.headers[.location] == "/sign-in/totp")
            let pending = String(signIn.headers[.setCookie]!.split(separator: ";")[0])
            let blocked = try await client.execute(uri: "/profile", method: .get, headers: [.cookie: pending])
            #expect(blocked.status == .seeOther, "nothing but the code page before the second factor")
            let page = String(buffer: try await client.execute(uri: "/sign-in/totp", method: .get, headers: [.cookie: pending]).body)
            let pendingCSRF = String(page[page.range(of: #"name="_csrf" value=""#)!.upperBound...].prefix { $0 != "\"" })
            let pendingForm: HTTPFields = [.cookie: pending, .contentType: "application/x-www-form-urlencoded"]
            // The code used for enrolment was consumed: it cannot be replayed.
            let replay = try await client.execute(
                uri: "/sign-in/totp", method: .post, headers: pendingForm, body: ByteBuffer(string: "_csrf=\(pendingCSRF)&code=\(totp.code(at: now))"))
            #expect(replay.status == .unauthorized)
            let next = totp.code(step: totp.step(at: now) + 1)
            let ok = try await client.execute(
                uri: "/sign-in/totp", method: .post, headers: pendingForm, body: ByteBuffer(string: "_csrf=\(pendingCSRF)&code=\(next)"))
            #expect(ok.headers[.location] == "/")
            // A new session id once the second factor is in: the one seen before it is worth nothing.
            let renewed = String(try #require(ok.headers[.setCookie]).split(separator: ";")[0])
            #expect(renewed != pending)
            #expect(try await client.execute(uri: "/profile", method: .get, headers: [.cookie: renewed]).status == .ok)
            #expect(try await client.execute(uri: "/profile", method: .get, headers: [.cookie: pending]).status == .seeOther)
        }
    }

    @Test("sessions end after an hour idle and twelve hours in all")
    func sessionTimeouts() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let authenticator = world.installation.authenticator
        let start = Date()
        guard case .signedIn(let secret, _) = try await authenticator.signIn(
            username: "a-admin", password: TenantWorld.password, source: nil, userAgent: nil, now: start)
        else { Issue.record("sign-in failed"); return }
        guard case .active = try await authenticator.session(secret: secret, now: start.addingTimeInterval(50 * 60)) else {
            Issue.record("50 minutes idle is still fine"); return
        }
        guard case .expired = try await authenticator.session(secret: secret, now: start.addingTimeInterval(50 * 60 + 3601)) else {
            Issue.record("over an hour idle must expire"); return
        }
        guard case .signedIn(let busy, _) = try await authenticator.signIn(
            username: "a-admin", password: TenantWorld.password, source: nil, userAgent: nil, now: start)
        else { return }
        var now = start
        while now < start.addingTimeInterval(12 * 3600 - 1800) {
            now = now.addingTimeInterval(1800)
            guard case .active = try await authenticator.session(secret: busy, now: now) else { Issue.record("active use keeps it alive"); return }
        }
        guard case .expired = try await authenticator.session(secret: busy, now: start.addingTimeInterval(12 * 3600 + 1)) else {
            Issue.record("twelve hours is the absolute limit"); return
        }
    }

    @Test("first-run set-up creates the authority and its administrator, once")
    func firstRun() async throws {
        let installation = try await TestBackend.sqlite.makeInstallation()
        var configuration = WebConfiguration()
        configuration.tls = false
        let application = Application(router: try await QilaServer(installation: installation, configuration: configuration).router())
        let secret = try await installation.authenticator.createOneTimeLink(purpose: "first-run", user: nil, validFor: .seconds(600))
        try await application.test(.router) { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let weak = try await client.execute(
                uri: "/setup/\(secret)", method: .post, headers: form,
                body: ByteBuffer(string: "organisation=NCA&displayName=First+Admin&username=first&password=qwertyuiopasdfghjkl"))
            #expect(weak.status == .badRequest)
            #expect(String(buffer: weak.body).contains("keyboard"))
            #expect(try await installation.needsFirstRun(), "a refused password leaves nothing behind")
            let good = try await client.execute(
                uri: "/setup/\(secret)", method: .post, headers: form,
                body: ByteBuffer(string: "organisation=NCA&displayName=First+Admin&username=first&password=lantern+orchard+velvet+nine"))
            #expect(good.status == .seeOther)
            #expect(try await installation.store.user(username: "first")?.roles == [.authorityAdmin])
            let again = try await client.execute(uri: "/setup/\(secret)", method: .get)
            #expect(again.status == .notFound, "the link works once")
        }
    }
}

private func + (lhs: HTTPFields, rhs: [HTTPField]) -> HTTPFields {
    var fields = lhs
    fields.append(contentsOf: rhs)
    return fields
}

import Foundation
import Testing
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QilaAccess
import QilaCore
import QilaIngest
import Logging
import QilaTestSupport
@testable import QilaWeb

/// The tenant world behind a real router, with an API token for every person and service.
struct WebHarness: Sendable {
    let world: TenantWorld
    let tokens: [String: String]
    let application: Application<RouterResponder<QilaRequestContext>>
    /// The router's routes as `METHOD /path/{parameter}` (Hummingbird's own list).
    let routeList: [String]
    /// Intake's runtime, not prepared: HTTP intake answers 503 until a test prepares it.
    let intake: IntakeRuntime

    static func make(on backend: TestBackend = .sqlite) async throws -> WebHarness {
        let world = try await TenantWorld.make(on: backend)
        var tokens: [String: String] = [:]
        for (name, user) in world.users {
            tokens[name] = try await world.installation.authenticator.issueToken(
                for: user, name: "test", scopes: [.read, .write, .admin], days: 1, by: nil
            ).secret
        }
        var configuration = WebConfiguration()
        configuration.tls = false
        // Intake's runtime without its listeners: the pages and the intake endpoint use its sensors and journal.
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("qila-web-journal-\(UUID().uuidString)").path
        let intake = try IntakeRuntime(store: world.installation.store, settings: .init(journalDirectory: journal), logger: Logger(label: "test.intake"))
        let server = try QilaServer(installation: world.installation, configuration: configuration, intake: intake)
        // Port 0: tests that need a real socket (`.live`) get a free port; router tests ignore it.
        let router = try await server.router()
        let routeList = router.routes.map { "\($0.method) \($0.path)" }
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return WebHarness(world: world, tokens: tokens, application: application, routeList: routeList, intake: intake)
    }

    func run<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await application.test(.router, body)
    }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, as token: String?, json: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        headers[.accept] = headers[.accept] ?? "application/json"
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Signs in through the form and returns the session cookie and CSRF token.
    func signIn(_ username: String, password: String = TenantWorld.password) async throws -> (cookie: String, csrf: String) {
        let response = try await execute(
            uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "username=\(username)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"))
        guard let setCookie = response.headers[.setCookie], let cookie = setCookie.split(separator: ";").first else {
            throw TestFailure("sign-in of \(username) set no cookie (status \(response.status))")
        }
        let page = try await execute(uri: "/profile", method: .get, headers: [.cookie: String(cookie)])
        let html = String(buffer: page.body)
        guard let range = html.range(of: #"name="_csrf" value=""#) else { throw TestFailure("no CSRF token on the profile page") }
        let csrf = html[range.upperBound...].prefix { $0 != "\"" }
        return (String(cookie), String(csrf))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Turns on TOTP for `username` and signs in with password and code: a session whose second
    /// factor is fresh, as warrants and administering need. Returns the cookie and CSRF token.
    func signInWithSecondFactor(
        _ username: String, in world: TenantWorld, now: Date = Date()
    ) async throws -> (cookie: String, csrf: String, totp: TOTP) {
        let authenticator = world.installation.authenticator
        let user = try #require(world.users[username])
        let totp = try await authenticator.beginTOTPEnrolment(for: user)
        _ = try await authenticator.confirmTOTPEnrolment(for: user, code: totp.code(at: now), now: now)
        let password = TenantWorld.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let first = try await execute(
            uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "username=\(username)&password=\(password)"))
        let pending = String(try #require(first.headers[.setCookie]).split(separator: ";")[0])
        let page = String(buffer: try await execute(uri: "/sign-in/totp", method: .get, headers: [.cookie: pending]).body)
        let token = String(page[try #require(page.range(of: #"name="_csrf" value=""#)).upperBound...].prefix { $0 != "\"" })
        let next = totp.code(step: totp.step(at: now) + 1)
        let second = try await execute(
            uri: "/sign-in/totp", method: .post, headers: [.cookie: pending, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "_csrf=\(token)&code=\(next)"))
        let cookie = String(try #require(second.headers[.setCookie]).split(separator: ";")[0])
        let profile = String(buffer: try await execute(uri: "/profile", method: .get, headers: [.cookie: cookie]).body)
        let csrf = String(profile[try #require(profile.range(of: #"name="_csrf" value=""#)).upperBound...].prefix { $0 != "\"" })
        return (cookie, csrf, totp)
    }
}

import Foundation
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
        let application = Application(router: try await server.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return WebHarness(world: world, tokens: tokens, application: application)
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

import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing
@testable import QilaWeb

/// Every route the router has × every account (and no account), on Operator A's things: who is
/// let through, written out by hand from the programme's rules. The routes come from the
/// router's own list, so a route added without an expectation here fails the test.
///
/// "Let through" means the route answered as it does for someone it serves: anything but 401,
/// 403, 404 or a redirect to sign in. A refusal of the input itself (400, 409, a refused form
/// sent back) counts as let through: the person reached the rules of the thing. Requests carry
/// valid input, so that a handler checking input before policy cannot pass for one that checks
/// policy. Set `QILA_ROUTE_MATRIX_PRINT=1` to print what was observed instead of checking it.
@Suite("Every route × every account")
struct RouteMatrixTests {
    static let accounts = AccessMatrixTests.everyone + ["a-legal", "anonymous"]
    static let everyone: Set<String> = Set(accounts).subtracting(["anonymous"])
    static let people: Set<String> = everyone.subtracting(["a-sensor"])

    /// One request: a page form (with the session's CSRF token) or API JSON (with the token).
    struct Call: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var form: [(String, String)]? = nil
        var json: String? = nil
        var multipart: (boundary: String, body: String)? = nil
        /// A body sent as it is, with its content type.
        var raw: (type: String, body: String)? = nil
        /// A session of its own (sign-out ends it), else the account's usual one.
        var freshSession = false
        /// A token to send instead of the account's usual one (an ingest token for intake).
        var bearer: String? = nil
    }

    /// Operator A's things the routes name, made once before the accounts go through.
    struct Scenario: Sendable {
        var caseID, alertID, sensorID, attachmentID, requestID, noticeID, taskID, mispEvent: String
        var warrantID, queryID, flowSourceID, webhookID, ruleID, setupToken, reporterTokenID: String
        /// The national intelligence collection, a GREEN indicator Operator A shared in it, and the status of that request.
        var nationalCollection, intelObject, intelStatus: String
        /// The telecom regulator's assessment campaign, in which Operator A submitted with one evidence file.
        var campaignID, evidenceSHA: String
        /// The public portal: a guide, an alert, one to withdraw, a CLEAR directive, a suspicious
        /// report, and a complaint filed with Operator B designated as the agency.
        var guideID, guideSlug, withdrawnID, alertSlug, publicDirective, suspiciousID, complaintCase: String
        /// Training: a national course, two passed completions of Operator A's (one to revoke), its phishing simulation.
        var courseID, completionID, revokedCompletionID, phishingID: String
        /// Advisories: a published CLEAR one, a published AMBER one addressed to Operator A, the year
        /// folder they are in, the AMBER one's file name, and the CSAF key's fingerprint.
        var clearAdvisory, amberAdvisory, advisoryYear, amberFile, csafKey: String
        /// Coordinated disclosure: a researcher's new report and an open case.
        var vulnerabilityReport, disclosureCase: String
    }

    typealias Builder = @Sendable (Scenario, String, Context) async throws -> Call

    /// What a builder may use to make a fresh target for each account.
    struct Context: Sendable {
        let harness: WebHarness
        let client: any TestClientProtocol
        let sessions: [String: (cookie: String, csrf: String)]
    }

    struct Expectation: Sendable {
        var route: String
        var allowed: Set<String>
        var call: Builder
        /// Whether an answer (status, Location) lets the caller through, where the route's own
        /// answers differ from the rule below (sign-in answers 401 to wrong credentials).
        var judge: (@Sendable (Int, String) -> Bool)? = nil

        init(route: String, allowed: Set<String>, judge: (@Sendable (Int, String) -> Bool)? = nil, call: @escaping Builder) {
            self.route = route
            self.allowed = allowed
            self.judge = judge
            self.call = call
        }
    }

    /// The rule: anything but 401, 403, 404 or a redirect to the sign-in page.
    static func letThrough(_ status: Int, _ location: String) -> Bool {
        ![401, 403, 404].contains(status) && location != "/sign-in" && !location.hasPrefix("/sign-in?")
    }

    static func get(_ route: String, _ allowed: Set<String>, _ uri: @escaping @Sendable (Scenario) -> String) -> Expectation {
        Expectation(route: "GET " + route, allowed: allowed) { scenario, _, _ in Call(method: .get, uri: uri(scenario)) }
    }

    static func post(_ route: String, _ allowed: Set<String>, _ uri: @escaping @Sendable (Scenario) -> String, _ form: [(String, String)] = []) -> Expectation {
        Expectation(route: "POST " + route, allowed: allowed) { scenario, _, _ in Call(method: .post, uri: uri(scenario), form: form) }
    }

    static func api(_ method: HTTPRequest.Method, _ route: String, _ allowed: Set<String>, _ uri: @escaping @Sendable (Scenario) -> String, json: String? = nil) -> Expectation {
        Expectation(route: "\(method) " + route, allowed: allowed) { scenario, caller, _ in
            Call(method: method, uri: uri(scenario), json: json?.replacingOccurrences(of: "{caller}", with: caller))
        }
    }

    static let expectations: [Expectation] = ExpectationTable.all

    @Test("Every route of the router has an expectation, and no expectation names a route that is gone")
    func everyRouteListed() async throws {
        let harness = try await WebHarness.make()
        let routes = Set(harness.routeList)
        let expected = Set(Self.expectations.map(\.route))
        #expect(routes.subtracting(expected).sorted() == [], "routes without an expectation")
        #expect(expected.subtracting(routes).sorted() == [], "expectations for no route")
        #expect(Self.expectations.count == expected.count, "one expectation per route")
    }

    @Test("Each route lets through exactly the accounts it should", arguments: ExpectationTable.chunks)
    func matrix(_ chunk: ExpectationTable.Chunk) async throws {
        let harness = try await WebHarness.make()
        let printing = ProcessInfo.processInfo.environment["QILA_ROUTE_MATRIX_PRINT"] == "1"
        try await harness.run { client in
            var sessions: [String: (cookie: String, csrf: String)] = [:]
            for name in Self.people.sorted() {
                let signedIn = try await client.signInWithSecondFactor(name, in: harness.world)
                sessions[name] = (signedIn.cookie, signedIn.csrf)
            }
            let context = Context(harness: harness, client: client, sessions: sessions)
            let scenario = try await ExpectationTable.scenario(context)
            for expectation in chunk.expectations {
                var through: Set<String> = []
                var statuses: [String] = []
                for caller in Self.accounts {
                    let call = try await expectation.call(scenario, caller, context)
                    let response = try await Self.send(call, as: caller, context)
                    let status = Int(response.status.code)
                    let location = response.headers[.location] ?? ""
                    let refused = !(expectation.judge ?? Self.letThrough)(status, location)
                    if !refused { through.insert(caller) }
                    statuses.append("\(caller)=\(status)")
                    if !printing, !refused, !expectation.allowed.contains(caller) {
                        #expect(!String(buffer: response.body).contains("Operator A's secret"), "a refusal reveals nothing")
                    }
                }
                if printing {
                    print("ROUTE \(expectation.route) -> \(through.sorted())")
                    print("STATUS \(expectation.route) -> \(statuses.joined(separator: " "))")
                } else {
                    #expect(through == expectation.allowed, "\(expectation.route): let through \(through.subtracting(expectation.allowed).sorted()) it should not, refused \(expectation.allowed.subtracting(through).sorted()) it should not")
                }
            }
        }
    }

    /// `{A}` names Operator A, `{name}` the account of that name.
    static func substitute(_ text: String, _ world: TenantWorld) -> String {
        var text = text.replacingOccurrences(of: "{A}", with: world.operatorA.id.description)
        for (name, user) in world.users { text = text.replacingOccurrences(of: "{\(name)}", with: user.id.description) }
        return text
    }

    static func send(_ call: Call, as caller: String, _ context: Context) async throws -> TestResponse {
        var call = call
        let world = context.harness.world
        call.uri = substitute(call.uri, world)
        call.form = call.form?.map { ($0.0, substitute($0.1, world)) }
        call.json = call.json.map { substitute($0, world) }
        call.multipart = call.multipart.map { ($0.boundary, substitute($0.body, world)) }
        var headers = HTTPFields()
        let client = context.client
        let isTAXII = call.uri.hasPrefix("/taxii2")
        let isAPI = call.uri.hasPrefix("/api/") || call.uri == "/metrics" || isTAXII
        var session: (cookie: String, csrf: String)? = context.sessions[caller]
        if call.freshSession, caller != "anonymous", caller != "a-sensor" {
            // Signed in with the password only: the session waits for the second factor.
            let password = TenantWorld.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let first = try await client.execute(
                uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "username=\(caller)&password=\(password)"))
            let cookie = String(try #require(first.headers[.setCookie]).split(separator: ";")[0])
            let page = String(buffer: try await client.execute(uri: "/sign-in/totp", method: .get, headers: [.cookie: cookie]).body)
            let csrf = String(page[try #require(page.range(of: #"name="_csrf" value=""#)).upperBound...].prefix { $0 != "\"" })
            session = (cookie, csrf)
        }
        if caller == "anonymous" {
            session = nil
        } else if isAPI || session == nil {
            headers[.authorization] = "Bearer \(call.bearer ?? context.harness.tokens[caller]!)"
            session = nil
        } else if let session {
            headers[.cookie] = session.cookie
        }
        headers[.accept] = isTAXII ? TaxiiRoutes.mediaType : isAPI ? "application/json" : "text/html"
        var body: ByteBuffer?
        if let form = call.form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            var fields = form
            if let session { fields.insert(("_csrf", session.csrf), at: 0) }
            body = ByteBuffer(string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
        } else if let json = call.json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        } else if let raw = call.raw, isTAXII {
            headers[.contentType] = raw.type
            body = ByteBuffer(string: substitute(raw.body, world))
        } else if let raw = call.raw {
            headers[.contentType] = raw.type
            body = ByteBuffer(string: raw.body)
        } else if let multipart = call.multipart {
            headers[.contentType] = "multipart/form-data; boundary=\(multipart.boundary)"
            var text = multipart.body
            if let session {
                text = "--\(multipart.boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(session.csrf)\r\n" + text
            }
            body = ByteBuffer(string: text)
        }
        return try await client.execute(uri: call.uri, method: call.method, headers: headers, body: body)
    }
}

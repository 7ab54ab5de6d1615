import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaCore
import QilaTestSupport
import Testing

@testable import QilaWeb

@Suite("API problems: documented kinds, no Swift internals")
struct ProblemTests {
    /// The kinds `openapi.yaml` lists for a problem's `type`.
    static func documentedKinds() throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/QilaWeb/openapi.yaml")
        let spec = try String(contentsOf: url, encoding: .utf8)
        let start = try #require(spec.range(of: "enum: [/problems/"))
        let list = spec[start.upperBound...].prefix { $0 != "]" }
        return ("/problems/" + list).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    @Test("every kind Qila answers with is listed in openapi.yaml, and every listed kind has its page")
    func documented() async throws {
        #expect(try Self.documentedKinds() == ProblemType.allCases.map(\.uri))
        let harness = try await WebHarness.make()
        try await harness.run { client in
            for kind in ProblemType.allCases {
                let page = try await client.execute(uri: kind.uri, method: .get)
                #expect(page.status == .ok, "\(kind.uri)")
                #expect(String(buffer: page.body).contains(kind.explanation.prefix(40).replacingOccurrences(of: "'", with: "&#39;")) || String(buffer: page.body).contains(kind.title))
            }
            #expect(try await client.execute(uri: "/problems/made-up", method: .get).status == .notFound)
        }
    }

    @Test("malformed API requests are answered in the API's own terms, with a documented kind")
    func noInternals() async throws {
        let harness = try await WebHarness.make()
        let alert = try await AlertAccessTests.seed(harness).a.id
        let token = harness.tokens["analyst"]!
        let kinds = Set(try Self.documentedKinds())
        try await harness.run { client in
            let cases: [(HTTPRequest.Method, String, String?, String)] = [
                (.post, "/api/v1/alerts/\(alert)/triage", #"{"action":"explode"}"#, "'explode' is not one of the values it allows"),
                (.post, "/api/v1/alerts/\(alert)/triage", #"{"action":7}"#, "field action should be a string"),
                (.post, "/api/v1/alerts/\(alert)/triage", #"{"reason":"x"}"#, "lacks the required field 'action'"),
                (.post, "/api/v1/alerts/\(alert)/triage", #"{"action":"#, "not valid JSON"),
                (.get, "/api/v1/alerts?limit=0", nil, "limit must be from 1"),
                (.get, "/api/v1/alerts?limit=many", nil, ""),
                (.get, "/api/v1/alerts/not-an-id", nil, ""),
            ]
            for (method, uri, body, wanted) in cases {
                var headers: HTTPFields = [.authorization: "Bearer \(token)"]
                if body != nil { headers[.contentType] = "application/json" }
                let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                let text = String(buffer: answer.body)
                #expect(answer.status.code >= 400 && answer.status.code < 500, "\(uri) \(body ?? ""): \(answer.status)")
                for leak in ["Swift", "Payload", "Operations.", "Components.", "CodingKeys", "init(", "Cannot initialize"] {
                    #expect(!text.contains(leak), "\(uri) \(body ?? ""): \(text)")
                }
                if !wanted.isEmpty { #expect(text.contains(wanted), "\(uri) \(body ?? ""): \(text)") }
                let problem = try JSONDecoder().decode(Problem.self, from: Data(text.utf8))
                #expect(kinds.contains(problem.type), "\(problem.type)")
            }
        }
    }
}

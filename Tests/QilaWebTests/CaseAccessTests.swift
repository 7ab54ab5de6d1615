import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaAccess
import QilaCore
import QilaTestSupport
import Testing
@testable import QilaWeb

/// Who may do what with Operator A's case, through the API and the pages. Written out by hand
/// from the programme's rules: the authority's analysts and the telecom regulator see it, the
/// operator and its auditor report it, nobody else learns it exists.
@Suite("Cases across tenants")
struct CaseAccessTests {
    static let readers: Set<String> = ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor", "auditor"]

    /// Operator A's submitted case, opened through the API by its administrator.
    static func makeCase(_ harness: WebHarness, _ client: any TestClientProtocol) async throws -> (id: String, number: String) {
        let opened = try await client.call(
            .post, "/api/v1/cases", as: harness.tokens["a-admin"]!,
            json: #"{"title":"Ransomware in billing","awareness":"2026-11-23T06:00Z","tlp":"green","classification":"malicious-code/infected-system","offences":["5"],"observables":["203.0.113.50"]}"#)
        #expect(opened.status == .created, "\(String(buffer: opened.body))")
        let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: opened.body))
        guard case .string(let id) = body["id"], case .string(let number) = body["number"] else { throw TestFailure("no case id") }
        let bad = try await client.call(.post, "/api/v1/cases/\(id)/stages/telecom/early-warning", as: harness.tokens["a-admin"]!, json: #"{"summary":"x"}"#)
        #expect(bad.status == .badRequest)
        let problem = String(buffer: bad.body)
        #expect(problem.contains("servicesAffected") && problem.contains("usersAffected"), "\(problem)")
        let submitted = try await client.call(
            .post, "/api/v1/cases/\(id)/stages/telecom/early-warning", as: harness.tokens["a-admin"]!,
            json: #"{"summary":"Billing encrypted","servicesAffected":"billing","usersAffected":"1200","geographicArea":"Lahore","suspectedMalicious":"yes"}"#)
        #expect(submitted.status == .ok, "\(String(buffer: submitted.body))")
        return (id, number)
    }

    @Test("API: reading, triaging and commenting on a case, for every account")
    func apiMatrix() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (id, number) = try await Self.makeCase(harness, client)
            for name in AccessMatrixTests.everyone {
                let token = harness.tokens[name]!
                let read = try await client.call(.get, "/api/v1/cases/\(id)", as: token)
                let list = String(buffer: try await client.call(.get, "/api/v1/cases", as: token).body)
                if Self.readers.contains(name) {
                    #expect(read.status == .ok, "\(name) should read the case, got \(read.status)")
                    #expect(list.contains(number), "\(name) should find the case in the list")
                } else {
                    #expect(read.status == .forbidden || read.status == .notFound, "\(name) must not read the case, got \(read.status)")
                    #expect(!String(buffer: read.body).contains("Ransomware"), "a refusal must not reveal the case")
                    #expect(!list.contains(number), "\(name) must not find the case in a list")
                }
                let triage = try await client.call(.post, "/api/v1/cases/\(id)/triage", as: token, json: #"{"severity":"high"}"#)
                #expect((triage.status == .ok) == (name == "analyst"), "\(name) triage: \(triage.status)")
                let comment = try await client.call(.post, "/api/v1/cases/\(id)/comments", as: token, json: #"{"text":"from \#(name)"}"#)
                #expect((comment.status == .noContent) == Self.readers.contains(name), "\(name) comment: \(comment.status)")
            }
            // Internal comments never reach the reporting side.
            let asReporter = String(buffer: try await client.call(.get, "/api/v1/cases/\(id)", as: harness.tokens["a-reporter"]!).body)
            let asAnalyst = String(buffer: try await client.call(.get, "/api/v1/cases/\(id)", as: harness.tokens["analyst"]!).body)
            #expect(asAnalyst.contains("from regulator") && asAnalyst.contains("from analyst"))
            #expect(!asReporter.contains("from regulator") && !asReporter.contains("from analyst"))
            #expect(asReporter.contains("from auditor"))
            // Compliance: the authority sees Operator A, Operator B sees nothing.
            let mine = try await client.call(.get, "/api/v1/compliance", as: harness.tokens["b-admin"]!)
            #expect(try JSONDecoder().decode([[String: JSONValue]].self, from: Data(buffer: mine.body)).isEmpty, "\(String(buffer: mine.body))")
            let national = String(buffer: try await client.call(.get, "/api/v1/compliance", as: harness.tokens["analyst"]!).body)
            #expect(national.contains(harness.world.operatorA.id.description))
        }
    }

    @Test("API: attachments are checked by content; pages: the case page and its upload form enforce the same rules")
    func attachmentsAndPages() async throws {
        let harness = try await WebHarness.make()
        try await harness.run { client in
            let (id, number) = try await Self.makeCase(harness, client)
            let pdf = "%PDF-1.7\n%%EOF\n"
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(harness.tokens["auditor"]!)"
            headers[.contentType] = "application/octet-stream"
            let stored = try await client.execute(uri: "/api/v1/cases/\(id)/attachments?name=report.pdf", method: .post, headers: headers, body: ByteBuffer(string: pdf))
            #expect(stored.status == .created, "\(String(buffer: stored.body))")
            let mismatch = try await client.execute(uri: "/api/v1/cases/\(id)/attachments?name=photo.png", method: .post, headers: headers, body: ByteBuffer(string: pdf))
            #expect(mismatch.status == .badRequest)
            #expect(String(buffer: mismatch.body).contains("field file"))
            headers[.authorization] = "Bearer \(harness.tokens["b-admin"]!)"
            let foreign = try await client.execute(uri: "/api/v1/cases/\(id)/attachments?name=report.pdf", method: .post, headers: headers, body: ByteBuffer(string: pdf))
            #expect(foreign.status == .forbidden || foreign.status == .notFound)

            for name in AccessMatrixTests.everyone where name != "a-sensor" {
                let (cookie, _) = try await client.signIn(name)
                let page = try await client.execute(uri: "/cases/\(id)", method: .get, headers: [.cookie: cookie, .accept: "text/html"])
                if Self.readers.contains(name) {
                    #expect(page.status == .ok, "\(name) /cases/\(id): \(page.status)")
                    #expect(String(buffer: page.body).contains(number))
                } else {
                    #expect(page.status == .forbidden || page.status == .notFound, "\(name) /cases/\(id): \(page.status)")
                    #expect(!String(buffer: page.body).contains("Ransomware"))
                }
            }
            // The multipart upload form, with its CSRF token inside the form.
            let (cookie, csrf) = try await client.signIn("a-admin")
            let boundary = "qila-test-boundary"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(csrf)\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nfirst seen at 06:00\r\n--\(boundary)--\r\n"
            let upload = try await client.execute(
                uri: "/cases/\(id)/attachments", method: .post,
                headers: [.cookie: cookie, .contentType: "multipart/form-data; boundary=\(boundary)", .accept: "text/html"], body: ByteBuffer(string: body))
            #expect(upload.status == .seeOther, "\(String(buffer: upload.body).prefix(300))")
            let location = try #require(upload.headers[.location])
            let shown = try await client.execute(uri: String(location.prefix { $0 != "#" }), method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: shown.body).contains("Attached notes.txt"))
            #expect(String(buffer: shown.body).contains("notes.txt</a>"))
            let forged = body.replacingOccurrences(of: csrf, with: "forged")
            let refused = try await client.execute(
                uri: "/cases/\(id)/attachments", method: .post,
                headers: [.cookie: cookie, .contentType: "multipart/form-data; boundary=\(boundary)", .accept: "text/html"], body: ByteBuffer(string: forged))
            #expect(refused.status == .forbidden)
            // The CSV export lists the case for its readers only.
            let csv = try await client.execute(uri: "/cases.csv", method: .get, headers: [.cookie: cookie])
            #expect(String(buffer: csv.body).contains(number))
            let (other, _) = try await client.signIn("b-admin")
            #expect(!String(buffer: try await client.execute(uri: "/cases.csv", method: .get, headers: [.cookie: other]).body).contains(number))
        }
    }
}

/// Just enough JSON to read an id back.
enum JSONValue: Decodable {
    case string(String)
    case other

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) { self = .string(text) } else { self = .other }
    }
}

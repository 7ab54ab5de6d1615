import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import QilaCore
import QilaTestSupport
import Testing

@testable import QilaWeb

@Suite("Assessments API: a GRC tool issues, acknowledges, answers and submits over JSON")
struct AssessmentAPITests {
    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    @Test("A directive through the API: issued, refused before acknowledgement, acknowledged, answered, submitted; refusals name the field")
    func directive() async throws {
        let harness = try await WebHarness.make()
        let world = harness.world
        try await harness.run { client in
            let analyst = harness.tokens["analyst"]!, operatorA = harness.tokens["a-admin"]!
            let bad = try await client.call(
                .post, "/api/v1/assessments/directives", as: analyst,
                json: #"{"reference":"NCA-D-1","title":"KEV","body":"Apply the KEV list.","requirements":["Patch\nand report"],"tlp":"green","audience":{"sector":"telecom"},"dueAt":"2099-01-01T00:00:00Z"}"#)
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("requirements[0]"))
            let issued = try await client.call(
                .post, "/api/v1/assessments/directives", as: analyst,
                json: #"{"reference":"NCA-D-1","title":"Known exploited vulnerabilities","body":"Apply the KEV list within 14 days.","requirements":["Patch every KEV entry","Report exceptions"],"tlp":"green","audience":{"sector":"telecom"},"dueAt":"2099-01-01T00:00:00Z"}"#)
            #expect(issued.status == .created, "\(String(buffer: issued.body))")
            let campaign = try #require(try Self.json(issued)["id"] as? String)
            let base = "/api/v1/assessments/campaigns/\(campaign)/organisations/\(world.operatorA.id)"
            let saved = try await client.call(
                .put, base + "/answers", as: operatorA, json: #"{"answers":[{"requirement":"R1","choice":"complied"},{"requirement":"R2","choice":"partly","comment":"Two exceptions"}]}"#)
            let savedBody = try Self.json(saved)
            #expect(saved.status == .ok && (savedBody["answered"] as? Int) == 2)
            let wrong = try await client.call(.put, base + "/answers", as: operatorA, json: #"{"answers":[{"requirement":"R3","choice":"complied"}]}"#)
            #expect(wrong.status == .badRequest && String(buffer: wrong.body).contains("R3"))
            let early = try await client.call(.post, base + "/submission", as: operatorA)
            #expect(early.status == .badRequest && String(buffer: early.body).contains("acknowledge NCA-D-1"))
            #expect(try await client.call(.post, base + "/acknowledgement", as: operatorA).status == .noContent)
            #expect(try await client.call(.post, base + "/acknowledgement", as: operatorA).status == .conflict)
            let evidence = try await client.execute(
                uri: base + "/evidence?requirement=R1&name=change.txt", method: .post,
                headers: [.authorization: "Bearer \(operatorA)", .contentType: "application/octet-stream"], body: ByteBuffer(string: "change 4411"))
            #expect(evidence.status == .created)
            let submitted = try await client.call(.post, base + "/submission", as: operatorA)
            let submittedBody = try Self.json(submitted)
            #expect(submitted.status == .ok && (submittedBody["submittedAt"] as? String) != nil)
            let read = try Self.json(try await client.call(.get, base, as: analyst))
            let answers = try #require(read["answers"] as? [[String: Any]])
            #expect(answers.count == 2 && ((answers[0]["evidence"] as? [[String: Any]])?.first?["name"] as? String) == "change.txt")
            #expect((read["selfDeclared"] as? Double) == 0.75)
        }
    }
}

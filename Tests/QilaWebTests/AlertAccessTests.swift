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

/// Alerts and sensors through the API, for every account: written out by hand from the
/// programme's rules (an organisation and the authority see its alerts, the sector's regulator
/// reads them, the organisation's administrators and the authority's analysts triage them).
@Suite("Alerts and sensors across tenants")
struct AlertAccessTests {
    static let readers: Set<String> = ["analyst", "regulator", "a-admin", "a-reporter", "a-sensor"]
    static let triagers: Set<String> = ["analyst", "a-admin"]
    static let sensorReaders: Set<String> = ["admin", "analyst", "regulator", "a-admin"]

    static func seed(_ harness: WebHarness) async throws -> (a: SecurityAlert, b: SecurityAlert, sensor: Sensor) {
        let world = harness.world
        let store = world.installation.store
        let sensor = Sensor(
            organisation: world.operatorA.id, name: "dc-logs", transport: .syslog, format: .json, mapping: "windows-flat", addresses: ["127.0.0.1"],
            rateLimit: 0, createdBy: world.users["admin"]!.id)
        try await store.createSensor(sensor)
        // The pages show these alerts relative to the real present; no hour or weekday matters.
        let now = Date()
        func alert(_ organisation: Organisation, _ title: String) -> SecurityAlert {
            SecurityAlert(
                organisation: organisation.id, sensor: organisation.id == world.operatorA.id ? sensor.id : nil, kind: .rule, rule: "r-\(title)",
                title: title, severity: .high, groupKey: UUID().uuidString, host: "ws-01", firstAt: now, lastAt: now, count: 2,
                fields: [AlertField(name: "Image", value: #"C:\Windows\whoami.exe"#)])
        }
        let a = alert(world.operatorA, "Whoami at Operator A")
        let b = alert(world.operatorB, "Whoami at Operator B")
        try await store.commitIntake(
            IntakeCommit(
                newAlerts: [a, b],
                evidence: [AlertEvidence(alert: a.id, sequence: 0, receivedAt: now, event: #"{"Image":"whoami.exe"}"#, fields: a.fields)],
                volumes: [.init(sensor: sensor.id, hour: Int64(now.timeIntervalSince1970) / 3600, type: "Microsoft-Windows-Sysmon/Operational/1", events: 42)]))
        return (a, b, sensor)
    }

    @Test("API: listing, reading and triaging alerts, and reading sensors, for every account")
    func apiMatrix() async throws {
        let harness = try await WebHarness.make()
        let (a, b, sensor) = try await Self.seed(harness)
        try await harness.run { client in
            for name in AccessMatrixTests.everyone {
                let token = harness.tokens[name]!
                let list = String(buffer: try await client.call(.get, "/api/v1/alerts", as: token).body)
                let read = try await client.call(.get, "/api/v1/alerts/\(a.id)", as: token)
                if Self.readers.contains(name) {
                    #expect(list.contains(a.title), "\(name) should find Operator A's alert")
                    #expect(read.status == .ok, "\(name) should read the alert, got \(read.status)")
                    #expect(String(buffer: read.body).contains("whoami.exe"), "the evidence is in the detail")
                } else {
                    #expect(!list.contains(a.title), "\(name) must not find Operator A's alert")
                    #expect(read.status == .forbidden || read.status == .notFound, "\(name) must not read the alert, got \(read.status)")
                    #expect(!String(buffer: read.body).contains("whoami"))
                }
                // The regulator reads both telecom operators; Operator A's people never see B's.
                #expect(list.contains(b.title) == ["analyst", "regulator", "b-admin", "b-reporter"].contains(name), "\(name) and Operator B's alert")
                let sensors = try await client.call(.get, "/api/v1/sensors", as: token)
                #expect(String(buffer: sensors.body).contains("dc-logs") == Self.sensorReaders.contains(name), "\(name) sensors: \(sensors.status)")
                let volumes = try await client.call(.get, "/api/v1/sensors/\(sensor.id)/volumes", as: token)
                #expect((volumes.status == .ok) == Self.sensorReaders.contains(name), "\(name) volumes: \(volumes.status)")
                if volumes.status == .ok { #expect(String(buffer: volumes.body).filter { !$0.isWhitespace }.contains(#""events":42"#)) }
            }
            // Triage: refused to those who may not, a dismissal needs a reason, and it names the field.
            for name in AccessMatrixTests.everyone where !Self.triagers.contains(name) {
                let refused = try await client.call(.post, "/api/v1/alerts/\(a.id)/triage", as: harness.tokens[name]!, json: #"{"action":"acknowledge"}"#)
                #expect(refused.status == .forbidden || refused.status == .notFound, "\(name) must not triage, got \(refused.status)")
            }
            let noReason = try await client.call(.post, "/api/v1/alerts/\(a.id)/triage", as: harness.tokens["a-admin"]!, json: #"{"action":"dismiss"}"#)
            #expect(noReason.status == .badRequest)
            #expect(String(buffer: noReason.body).contains("reason"))
            let dismissed = try await client.call(
                .post, "/api/v1/alerts/\(a.id)/triage", as: harness.tokens["a-admin"]!, json: #"{"action":"dismiss","reason":"our red team"}"#)
            #expect(dismissed.status == .ok)
            #expect(String(buffer: dismissed.body).filter { !$0.isWhitespace }.contains(#""status":"dismissed""#))
            // A dismissed alert leaves the default queue and comes back with status=all.
            let queue = String(buffer: try await client.call(.get, "/api/v1/alerts", as: harness.tokens["analyst"]!).body)
            #expect(!queue.contains(a.title) && queue.contains(b.title))
            let all = String(buffer: try await client.call(.get, "/api/v1/alerts?status=all", as: harness.tokens["analyst"]!).body)
            #expect(all.contains(a.title))
            let badStatus = try await client.call(.get, "/api/v1/alerts?status=closed", as: harness.tokens["analyst"]!)
            #expect(badStatus.status == .badRequest && String(buffer: badStatus.body).contains("status"))
            // The analyst promotes B's alert to a case of Operator B.
            let promoted = try await client.call(.post, "/api/v1/alerts/\(b.id)/triage", as: harness.tokens["analyst"]!, json: #"{"action":"promote"}"#)
            #expect(promoted.status == .ok, "\(String(buffer: promoted.body))")
            let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: promoted.body))
            guard case .string(let caseID) = body["caseId"] else { throw TestFailure("no case id in \(String(buffer: promoted.body))") }
            let id = try #require(CaseID(caseID))
            let incident = try #require(try await harness.world.installation.store.incident(id))
            #expect(incident.organisation == harness.world.operatorB.id && incident.title == "Alert: \(b.title)")
            // The authority's promotion is in its own queue on the operator's behalf, not a draft only the operator could see.
            #expect(incident.status == .new && incident.onBehalf)
            let read = try await client.call(.get, "/api/v1/cases/\(caseID)", as: harness.tokens["analyst"]!)
            #expect(read.status == .ok)
            let again = try await client.call(.post, "/api/v1/alerts/\(b.id)/triage", as: harness.tokens["analyst"]!, json: #"{"action":"acknowledge"}"#)
            #expect(again.status == .conflict)
        }
    }
}

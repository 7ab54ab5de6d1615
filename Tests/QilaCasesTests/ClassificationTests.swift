import Foundation
import Testing

@testable import QilaCases

@Suite("Classification and stage submissions")
struct ClassificationTests {
    @Test("RSIT, PAP and PECA 2016 tags read and write as they are exchanged")
    func taxonomies() {
        let phishing = RSITClassification(parsing: #"rsit:fraud="phishing""#)
        #expect(phishing?.machineTag == #"rsit:fraud="phishing""# && phishing?.title == "Fraud: Phishing")
        #expect(RSITClassification(parsing: "availability/ddos")?.type == "ddos")
        #expect(RSITClassification(parsing: "fraud/ddos") == nil, "a type of another class is refused")
        #expect(RSIT.classes.count == 11 && RSIT.classes.allSatisfy { !$0.types.isEmpty })
        #expect(PAP(parsing: "pap:white") == .clear && PAP(parsing: "PAP:AMBER") == .amber && PAP(parsing: "PAP:PINK") == nil)
        #expect(PAP.red > PAP.green, "red is the most restrictive")
        #expect(PECAOffence(parsing: "peca-2016:section-14") == .electronicFraud && PECAOffence(parsing: "s.99") == nil)
        #expect(PECAOffence.allCases.map(\.rawValue) == Array(3...26))
    }

    @Test("A stage submission is checked field by field; every problem names its field")
    func submissions() throws {
        let telecom = try #require(try RegimeParser.presets().first { $0.id == "telecom" })
        let good = [
            "summary": "Core router failure after a malicious configuration push", "severity": "high", "usersAffected": "120000",
            "durationMinutes": "95", "geographicArea": "Lahore, Kasur", "servicesAffected": "mobile data, voice", "networkElements": "core",
            "indicators": "203.0.113.9",
        ]
        guard case .success(let values) = telecom.check(stage: "notification", values: good) else { Issue.record("refused"); return }
        #expect(values["usersAffected"] == .number(120_000) && values["severity"] == .text("high"))
        var bad = good
        bad["usersAffected"] = "-5"
        bad["severity"] = "apocalyptic"
        bad["durationMinutes"] = "ninety"
        bad["summary"] = " "
        bad["colour"] = "red"
        guard case .failure(let failure) = telecom.check(stage: "notification", values: bad) else { Issue.record("accepted"); return }
        #expect(failure.problems.map(\.field).sorted() == ["colour", "durationMinutes", "severity", "summary", "usersAffected"])
        #expect(failure.description.contains("Users affected is at least 0 (field usersAffected)"))
        #expect(failure.description.contains("Severity is one of low, medium, high, critical (field severity)"))
        // Times as people type them and browsers send them, in minutes, are read as UTC.
        let certIn = try #require(try RegimeParser.presets().first { $0.id == "cert-in" })
        let report = ["summary": "Defacement", "incidentTime": "2026-11-23T10:00Z", "affectedSystems": "web", "indicators": "198.51.100.7", "contact": "SOC"]
        guard case .success(let reported) = certIn.check(stage: "report", values: report) else { Issue.record("refused"); return }
        #expect(reported["incidentTime"] == .dateTime(Date(timeIntervalSince1970: 1_795_428_000)))
        guard case .failure(let unknown) = telecom.check(stage: "epilogue", values: [:]) else { Issue.record("accepted"); return }
        #expect(unknown.problems.first?.field == "stage")
    }
}

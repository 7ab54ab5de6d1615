import Foundation
import QilaCore
import QilaStore
import Testing

@testable import QilaVulnerabilities

@Suite("CSAF documents and provider files keep their exact bytes")
struct CSAFGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden")

    /// Compares with the stored file; `QILA_RECORD_GOLDEN=1` writes it instead (then review the diff).
    func expectGolden(_ data: Data, _ name: String) throws {
        let file = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["QILA_RECORD_GOLDEN"] == "1" {
            try data.write(to: file)
            return
        }
        let stored = try Data(contentsOf: file)
        #expect(String(decoding: data, as: UTF8.self) == String(decoding: stored, as: UTF8.self), "\(name) differs from the golden file")
    }

    @Test("A security advisory with two products, a fixed version, CVSS 3.1 and 4.0 and two revisions")
    func advisory() throws {
        var input = AdvisoryTests.input()
        input.vulnerabilities += "\n| A second flaw without a CVE | CWE-79"
        let content = try AdvisoryContent(input)
        let revisions = [
            CSAFDocument.Revision(number: 1, date: AdvisoryTests.t0, summary: "Initial publication."),
            CSAFDocument.Revision(number: 2, date: AdvisoryTests.t0.addingTimeInterval(86_400), summary: "Added the proxy workaround."),
        ]
        let document = try CSAFDocument.build(
            content: content, trackingID: "QILA-2026-0001", revisions: revisions,
            publisher: CSAFDocument.Publisher(name: "National Authority", namespace: "https://qila.test/", contact: "csirt@qila.test"), generatorVersion: "1.0")
        try expectGolden(document, "csaf-advisory.json")
    }

    static func revision(_ id: String, _ number: Int, _ tlp: TLP, _ tracking: String, at offset: TimeInterval) -> AdvisoryRevision {
        AdvisoryRevision(
            advisoryID: id, number: number, title: "Advisory \(tracking)", tlp: tlp, audience: [], content: "{}", summary: "Revision \(number).",
            path: CSAFDocument.path(trackingID: tracking, tlp: tlp, initialRelease: AdvisoryTests.t0), document: [], sha256: "", sha512: "", signature: "",
            publishedBy: "u", reviewedBy: "u", publishedAt: AdvisoryTests.t0.addingTimeInterval(offset))
    }

    @Test("Provider metadata and a ROLIE feed")
    func provider() throws {
        let provider = CSAFProvider(origin: "https://qila.test", publisherName: "National Authority", namespace: "https://qila.test")
        let revisions = [
            Self.revision("a", 1, .clear, "QILA-2026-0001", at: 0), Self.revision("a", 2, .clear, "QILA-2026-0001", at: 3_600),
            Self.revision("b", 1, .amber, "QILA-2026-0002", at: 7_200), Self.revision("c", 1, .clear, "QILA-2026-0003", at: 10_800),
        ]
        try expectGolden(try provider.metadata(revisions: revisions, keyFingerprint: "0123456789ABCDEF0123456789ABCDEF01234567"), "provider-metadata.json")
        let latest = [revisions[3], revisions[1]]
        let feed = try provider.feed(.clear, latest: latest) { revision in
            revisions.filter { $0.advisoryID == revision.advisoryID }.map(\.publishedAt).min() ?? revision.publishedAt
        }
        try expectGolden(feed, "feed-tlp-clear.json")
    }
}

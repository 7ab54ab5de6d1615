import Crypto
import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaVulnerabilities

@Suite("Advisories: written, reviewed by a second person, published as signed CSAF revisions to the readers the marking allows")
struct AdvisoryTests {
    /// 2026-11-20 10:00 UTC.
    static let t0 = Date(timeIntervalSince1970: 1_795_168_800)

    struct Fixture {
        var world: TenantWorld
        var desk: AdvisoryDesk
        var gate: DecisionGate
    }

    static func fixture(_ backend: TestBackend) async throws -> Fixture {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let signer = try await AdvisoryDesk.signer(store: installation.store, sealingKey: installation.secrets.sealingKey, userID: "Test <csaf@test>", now: t0)
        let desk = AdvisoryDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy,
            publisher: CSAFDocument.Publisher(name: "National Authority", namespace: "https://qila.test"), signer: signer)
        return Fixture(world: world, desk: desk, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
    }

    static func input(_ tlp: TLP = .clear, organisations: [String] = [], sectors: [String] = []) -> AdvisoryInput {
        AdvisoryInput(
            title: "Remote code execution in Acme Gateway", tlp: tlp.rawValue, summary: "Update **Acme Gateway** to 2.4.60.",
            details: "A crafted request runs code as root.",
            products: "Acme | Gateway | >=2.4.0, <2.4.60 | 2.4.60 | cpe:2.3:a:acme:gateway:*:*:*:*:*:*:*:*\nAcme | Agent | 1.2.3",
            vulnerabilities:
                "CVE-2026-10001 | Request smuggling to code execution | CWE-444 | CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H | CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            remediations: "vendor fix | Update to 2.4.60 | https://acme.example/security\nworkaround | Block /cgi-bin at the proxy",
            references: "https://acme.example/security/2026-1 | Acme's notice", sectors: sectors, organisations: organisations)
    }

    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as QilaError {
            return "\(error.field ?? "-"): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    @Test("What is wrong in the form is named with its field and line")
    func refusals() {
        var bad = Self.input()
        bad.products = "Acme | Gateway | >=2.4.0, <2.4.60 | 2.4.60\nAcme | Gateway | <= "
        #expect(message { _ = try AdvisoryContent(bad) } == "products: line 2: affected versions: '<=' is not a version constraint such as <2.4.60 or >=1.0")
        bad = Self.input()
        bad.products = "Acme | Gateway | <2.4.60 | 2.4.1"
        #expect(message { _ = try AdvisoryContent(bad) } == "products: line 1: fixed in: 2.4.1 lies in the affected versions")
        bad = Self.input()
        bad.vulnerabilities = "\r\n# the CVE is pending\r\nCVE-26-1 | Overflow"
        #expect(message { _ = try AdvisoryContent(bad) } == "vulnerabilities: line 3: 'CVE-26-1' is not a CVE identifier such as CVE-2024-3400")
        bad = Self.input()
        bad.vulnerabilities = "CVE-2026-10001 | Overflow | CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"
        #expect(message { _ = try AdvisoryContent(bad) } == "vulnerabilities: line 1: the vector lacks the base metric A")
        bad = Self.input()
        bad.remediations = "patch it | now"
        #expect(message { _ = try AdvisoryContent(bad) }?.hasPrefix("remediations: line 1: 'patch it' is not a category: vendor fix, workaround") == true)
        bad = Self.input(.amber)
        #expect(message { _ = try AdvisoryContent(bad) } == "organisations: choose the sectors or organisations that receive a TLP:AMBER advisory")
        bad = Self.input(.red, sectors: ["telecom"])
        #expect(message { _ = try AdvisoryContent(bad) } == "sectors: a TLP:RED advisory goes to named organisations, not to sectors")
        bad = Self.input()
        bad.references = "acme.example | notice"
        #expect(message { _ = try AdvisoryContent(bad) } == "references: line 1: must be written https://address | what it is")
        bad = Self.input()
        bad.products = "Acme | Gateway | <2.4.60"
        #expect(message { _ = try AdvisoryContent(bad) } == "remediations: give a vendor fix only when a product line names the version it is fixed in")
        // A sound form reads whole, vectors stored in the specification's order with their scores.
        let content = try? AdvisoryContent(Self.input())
        #expect(content?.products.first?.affected == "vers:generic/>=2.4.0|<2.4.60")
        #expect(content?.vulnerabilities.first?.cvss31Score == 9.8 && content?.vulnerabilities.first?.cvss40Score == 9.3)
        #expect(content?.highestScore == 9.8)
    }

    @Test("Draft, review and publication: four eyes, revisions kept, the CSAF document hashed and signed", arguments: TestBackend.available)
    func publication(backend: TestBackend) async throws {
        let f = try await Self.fixture(backend)
        let analyst = f.world.subject("analyst", now: Self.t0)
        let admin = f.world.subject("admin", now: Self.t0)
        // Only the authority writes.
        await #expect(throws: (any Error).self) { _ = try await f.desk.begin(Self.input(), by: f.world.subject("a-admin"), gate: f.gate, now: Self.t0) }
        let begun = try await f.desk.begin(AdvisoryInput(title: "Acme Gateway", tlp: "clear"), by: analyst, gate: f.gate, now: Self.t0)
        #expect(begun.trackingID == "QILA-2026-0001" && begun.state == .draft)
        // An unfinished draft is saved but not sent for review.
        await #expect(throws: QilaError.self) { _ = try await f.desk.submit(begun.id, by: analyst, gate: f.gate, now: Self.t0) }
        _ = try await f.desk.save(begun.id, Self.input(), by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(60))
        _ = try await f.desk.submit(begun.id, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(120))
        // The person who sent it for review does not publish it.
        await #expect(throws: QilaError.self) { _ = try await f.desk.publish(begun.id, summary: "", by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(180)) }
        let returned = try await f.desk.returnToAuthor(begun.id, note: "Name the proxy rule.", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(200))
        #expect(returned.state == .draft && returned.reviewNote == "Name the proxy rule.")
        _ = try await f.desk.submit(begun.id, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(240))
        let first = try await f.desk.publish(begun.id, summary: "", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(300))
        #expect(first.number == 1 && first.summary == "Initial publication." && first.path == "clear/2026/qila-2026-0001.json")
        #expect(first.sha256 == SHA256.hash(data: first.document).map { String(format: "%02x", $0) }.joined())
        #expect(first.signature.hasPrefix("-----BEGIN PGP SIGNATURE-----"))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(first.document)) as? [String: Any])
        let tracking = try #require((document["document"] as? [String: Any])?["tracking"] as? [String: Any])
        #expect(tracking["id"] as? String == "QILA-2026-0001" && tracking["version"] as? String == "1" && tracking["status"] as? String == "final")
        // The public reads it; a second revision keeps the first and its date.
        #expect(try await f.desk.published(for: nil).map(\.number) == [1])
        _ = try await f.desk.save(begun.id, Self.input(), by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(400))
        _ = try await f.desk.submit(begun.id, by: analyst, gate: f.gate, now: Self.t0.addingTimeInterval(460))
        await #expect(throws: QilaError.self) { _ = try await f.desk.publish(begun.id, summary: "  ", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(500)) }
        let second = try await f.desk.publish(begun.id, summary: "Added the proxy workaround.", by: admin, gate: f.gate, now: Self.t0.addingTimeInterval(520))
        #expect(second.number == 2 && second.path == first.path)
        let history = try #require(
            ((try JSONSerialization.jsonObject(with: Data(second.document)) as? [String: Any])?["document"] as? [String: Any])?["tracking"] as? [String: Any])
        #expect((history["revision_history"] as? [[String: Any]])?.map { $0["number"] as? String } == ["1", "2"])
        #expect(history["initial_release_date"] as? String == "2026-11-20T10:05:00Z" && history["current_release_date"] as? String == "2026-11-20T10:08:40Z")
        let found = try #require(try await f.desk.revisions(trackingID: "QILA-2026-0001", for: nil))
        #expect(found.revisions.map(\.number) == [1, 2])
        // Every step is in the audit log.
        let actions = try await f.world.installation.store.auditEntries(from: 0, limit: 1000, actionPrefix: "advisory.").map(\.action)
        for action in ["advisory.create", "advisory.save", "advisory.submit", "advisory.return", "advisory.publish"] { #expect(actions.contains(action), "\(action)") }
    }

    @Test("Readers get what the marking allows: CLEAR the public, GREEN members, AMBER the chosen organisations cleared for it", arguments: TestBackend.available)
    func readers(backend: TestBackend) async throws {
        let f = try await Self.fixture(backend)
        func publish(_ input: AdvisoryInput) async throws -> AdvisoryRevision {
            let record = try await f.desk.begin(input, by: f.world.subject("analyst"), gate: f.gate, now: Self.t0)
            _ = try await f.desk.submit(record.id, by: f.world.subject("analyst"), gate: f.gate, now: Self.t0)
            return try await f.desk.publish(record.id, summary: "", by: f.world.subject("admin"), gate: f.gate, now: Self.t0)
        }
        let clear = try await publish(Self.input())
        let green = try await publish(Self.input(.green))
        let amber = try await publish(Self.input(.amber, organisations: [f.world.operatorA.id.description]))
        #expect(amber.audience == [f.world.operatorA.id.description] && amber.path.hasPrefix("amber/2026/"))
        func seen(_ name: String?) async throws -> Set<Int> {
            Set(try await f.desk.published(for: name.map { f.world.subject($0) }).map { [clear.advisoryID: 1, green.advisoryID: 2, amber.advisoryID: 3][$0.advisoryID]! })
        }
        #expect(try await seen(nil) == [1])
        #expect(try await seen("a-admin") == [1, 2, 3])
        #expect(try await seen("a-reporter") == [1, 2], "cleared for GREEN only")
        #expect(try await seen("b-admin") == [1, 2], "not addressed")
        #expect(try await seen("regulator") == [1, 2])
        #expect(try await seen("admin") == [1, 2, 3])
        #expect(try await f.desk.revisions(trackingID: "QILA-2026-0003", for: f.world.subject("b-admin")) == nil)
        // A revision cannot move an advisory to another marking's folder.
        let record = try #require(try await f.world.installation.store.advisory(clear.advisoryID))
        _ = try await f.desk.save(record.id, Self.input(.green), by: f.world.subject("analyst"), gate: f.gate, now: Self.t0.addingTimeInterval(60))
        _ = try await f.desk.submit(record.id, by: f.world.subject("analyst"), gate: f.gate, now: Self.t0.addingTimeInterval(60))
        #expect(throws: QilaError.self) {
            _ = try AdvisoryContent(Self.input(.red, sectors: ["x"]))
        }
        do {
            _ = try await f.desk.publish(record.id, summary: "Remarked", by: f.world.subject("admin"), gate: f.gate, now: Self.t0.addingTimeInterval(90))
            Issue.record("a revision to another marking was published")
        } catch let error as QilaError {
            #expect(error.field == "tlp")
        }
    }

    @Test("CSAF file names follow the specification's rule", arguments: [
        ("QILA-2026-0001", "qila-2026-0001.json"), ("Example Company - 2019-YH3234", "example_company_-_2019-yh3234.json"), ("RHBA-2019:0024", "rhba-2019_0024.json"),
        ("cisco-sa-20190513-secureboot", "cisco-sa-20190513-secureboot.json"),
    ])
    func fileNames(tracking: String, file: String) {
        #expect(CSAFDocument.fileName(trackingID: tracking) == file)
    }

    @Test("Version ranges: vers notation, intervals, exclusions, pre-releases", arguments: [
        ("<2.4.60", "2.4.59", true), ("<2.4.60", "2.4.60", false), ("<2.4.60", "2.4.60-rc1", true), (">=2.4.0|<2.4.60", "2.3.9", false),
        (">=2.4.0|<2.4.60", "2.4.0", true), ("vers:generic/>=1.0|<2.0|!=1.5", "1.5", false), ("vers:generic/>=1.0|<2.0|!=1.5", "1.5.1", true),
        ("1.2.3", "1.2.3.0", true), ("1.2.3", "1.2.4", false), ("*", "9", true), (">=1.0|<=1.4|>=2.0|<3.0", "1.7", false),
        (">=1.0|<=1.4|>=2.0|<3.0", "2.5", true), ("<1.10", "1.9", true), ("<1.10", "1.10.0", false),
    ])
    func ranges(range: String, version: String, inside: Bool) throws {
        #expect(try VersionRange(range).contains(try #require(ProductVersion(version))) == inside)
    }
}

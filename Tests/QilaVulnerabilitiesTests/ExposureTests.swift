import Foundation
import QilaAccess
import QilaCore
import QilaStore
import QilaTestSupport
import Testing

@testable import QilaVulnerabilities

@Suite("Inventories and exposure: CycloneDX and CSV read, matched by CPE, package URL and (approximately) by name")
struct ExposureTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_168_800)

    /// A CycloneDX 1.6 SBOM written for this test from the specification's field names.
    static func sbom(gateway: String = "5.4.1", agent: String = "3.1") -> String {
        """
        {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "version": 1,
         "metadata": {"component": {"type": "application", "name": "Core network", "version": "2026.1"}},
         "components": [
           {"type": "application", "publisher": "Example Telecom Systems", "name": "Subscriber Gateway", "version": "\(gateway)",
            "cpe": "cpe:2.3:a:example_telecom:subscriber_gateway:\(gateway):*:*:*:*:*:*:*"},
           {"type": "library", "group": "example-telecom", "name": "provisioning-agent", "version": "\(agent)",
            "purl": "pkg:generic/example-telecom/provisioning-agent@\(agent)",
            "components": [{"type": "library", "name": "log4j-core", "group": "org.apache.logging.log4j", "version": "2.14.1",
                            "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}]},
           {"type": "operating-system", "supplier": {"name": "Palo Alto Networks"}, "name": "PAN-OS", "version": "10.2.9"}
         ]}
        """
    }

    @Test("CycloneDX components, nested ones too, and CSV columns found by name")
    func reading() throws {
        let read = try InventoryReader.read(Data(Self.sbom().utf8), file: "core.cdx.json")
        #expect(read.format == "CycloneDX 1.6")
        #expect(read.components.map(\.name) == ["Subscriber Gateway", "provisioning-agent", "log4j-core", "PAN-OS", "Core network"])
        #expect(read.components[3].vendor == "Palo Alto Networks" && read.components[2].vendor == "org.apache.logging.log4j")
        let csv = try InventoryReader.read(Data("Product,Version,Vendor,CPE\r\nFortiOS,7.2.4,Fortinet,\r\n,,,\r\nExchange Server,2019 CU12,Microsoft,\r\n".utf8), file: "list.csv")
        #expect(csv.components.map(\.name) == ["FortiOS", "Exchange Server"] && csv.components[0].vendor == "Fortinet")
        func problem(_ text: String, _ file: String = "x.json") -> String? {
            do {
                _ = try InventoryReader.read(Data(text.utf8), file: file)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem(#"{"bomFormat": "SPDX"}"#) == "x.json: bomFormat must be \"CycloneDX\"")
        #expect(problem(#"{"bomFormat": "CycloneDX", "specVersion": "1.2"}"#) == "x.json: specVersion '1.2' is not read here: CycloneDX 1.4, 1.5 and 1.6 are")
        #expect(problem(#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a"}, {"version": "1"}]}"#) == "x.json: components[1].name is missing")
        #expect(
            problem(#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": "a", "components": [{"name": "b", "cpe": "cpe:/a:x:y"}]}]}"#)
                == "x.json: components[0].components[0].cpe 'cpe:/a:x:y' is not a CPE 2.3 formatted string")
        #expect(problem("vendor,version\nAcme,1\n", "x.csv") == "x.csv: line 1 has no product (or name) column: the header names vendor, product, version, cpe, purl")
        #expect(problem("product,purl\nlog4j,maven/log4j\n", "x.csv") == "x.csv: line 2 'maven/log4j' is not a package URL")
    }

    @Test("Any bytes given as an inventory are read or refused with a problem, never a crash")
    func arbitraryBytes() {
        var random = SeededRandom(seed: 23)
        let pieces = [#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":["#, #"{"name":"#, #""x""#, "}", "]", ",", "\"", "\n", "product,version\n", "cpe:2.3:a", "pkg:", "@", "[", "{", "1.6", "\u{0}", "é"]
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<12, using: &random) { text += pieces[Int.random(in: 0..<pieces.count, using: &random)] }
            _ = try? InventoryReader.read(Data(text.utf8), file: "fuzz")
        }
    }

    @Test("Identifiers with version ranges match exactly; names match approximately; versions outside the range do not", arguments: [
        ("5.4.1", "3.0", Set(["ADV#1", "ADV#2"])), ("5.4.2", "3.0", Set(["ADV#2"])), ("4.9", "3.1", Set<String>()), ("5.0", "2.9.9", Set(["ADV#1", "ADV#2"])),
    ])
    func matching(gateway: String, agent: String, expected: Set<String>) throws {
        let read = try InventoryReader.read(Data(Self.sbom(gateway: gateway, agent: agent).utf8), file: "core.json")
        let matcher = ExposureMatcher(assets: read.components.enumerated().map { ExposureAsset(id: "c\($0.offset)", organisation: "A", component: $0.element) })
        let targets = [
            ExposureTarget(
                kind: .advisory, reference: "ADV#1", cve: "CVE-2026-10001", title: "", vendor: "Example Telecom Systems", product: "Subscriber Gateway",
                range: try VersionRange(">=5.0, <5.4.2"), cpe: "example_telecom:subscriber_gateway"),
            ExposureTarget(
                kind: .advisory, reference: "ADV#2", cve: "CVE-2026-10002", title: "", vendor: "Example Telecom Systems", product: "Provisioning Agent",
                range: try VersionRange("<3.1"), purl: "generic/example-telecom/provisioning-agent"),
        ]
        let found = matcher.matches(targets)
        #expect(Set(found.map(\.reference)) == expected)
        #expect(found.allSatisfy { !$0.approximate })
        // KEV names vendor and product only: matched by name, said to be approximate.
        let kev = ExposureTarget(kind: .kev, reference: "CVE-2024-3400", cve: "CVE-2024-3400", title: "", vendor: "Palo Alto Networks", product: "PAN-OS")
        let byName = matcher.matches(kev)
        #expect(byName.count == 1 && byName[0].approximate && byName[0].basis == "name" && byName[0].asset == "c3")
        // Another vendor's product of the same name is not matched.
        #expect(matcher.matches(ExposureTarget(kind: .kev, reference: "X", cve: nil, title: "", vendor: "Other Vendor", product: "PAN-OS")).isEmpty)
        // A package by purl, in its range.
        let log4j = ExposureTarget(
            kind: .advisory, reference: "L#1", cve: "CVE-2021-44228", title: "", vendor: "Apache", product: "Log4j", range: try VersionRange(">=2.0, <2.15.0"),
            purl: "maven/org.apache.logging.log4j/log4j-core")
        #expect(matcher.matches(log4j).map(\.asset) == ["c2"])
    }

    @Test("An organisation's exposure: KEV due date for its sector, statements kept across a re-import, AMBER advisories for their audience", arguments: TestBackend.available)
    func exposure(backend: TestBackend) async throws {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let kev = KEVDesk(store: installation.store, audit: installation.audit)
        _ = try await kev.importCISA(Data(KEVTests.cisa().utf8), file: "kev.json", by: world.subject("analyst"), gate: gate, now: Self.t0)
        _ = try await kev.setDeadline(cve: "", scope: "sector", value: "telecom", days: "7", dueDate: "", by: world.subject("analyst"), gate: gate, now: Self.t0)
        let desk = ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        // Only the organisation's own people import its inventory.
        await #expect(throws: (any Error).self) {
            _ = try await desk.importInventory(Data(Self.sbom().utf8), file: "core.json", name: "Core", organisation: world.operatorA, by: world.subject("b-admin"), gate: gate)
        }
        let summary = try await desk.importInventory(
            Data(Self.sbom().utf8), file: "core.json", name: "Core", organisation: world.operatorA, by: world.subject("a-admin"), gate: gate, now: Self.t0)
        #expect(summary.inventory.components == 5 && summary.exposures == 1)
        var exposure = try await desk.exposure(of: world.operatorA, for: world.subject("a-admin"), gate: gate, now: Self.t0)
        let panos = try #require(exposure.first { $0.target.reference == "CVE-2024-3400" })
        #expect(panos.due?.description == "2024-04-19" && panos.approximate && panos.isOverdue(on: CivilDay(Self.t0)))
        // Refused without a justification; stated not affected with one; kept across a re-import.
        await #expect(throws: QilaError.self) {
            _ = try await desk.state(
                organisation: world.operatorA, component: panos.componentKey, kind: "kev", reference: "CVE-2024-3400", status: "not_affected", justification: "",
                note: "", by: world.subject("a-admin"), gate: gate, now: Self.t0)
        }
        _ = try await desk.state(
            organisation: world.operatorA, component: panos.componentKey, kind: "kev", reference: "CVE-2024-3400", status: "not_affected",
            justification: "vulnerable_code_not_in_execute_path", note: "GlobalProtect is not enabled.", by: world.subject("a-admin"), gate: gate, now: Self.t0)
        _ = try await desk.importInventory(
            Data(Self.sbom().utf8), file: "core.json", name: "Core", organisation: world.operatorA, by: world.subject("a-admin"), gate: gate, now: Self.t0)
        exposure = try await desk.exposure(of: world.operatorA, for: world.subject("regulator"), gate: gate, now: Self.t0)
        #expect(exposure.first { $0.target.reference == "CVE-2024-3400" }?.status == .notAffected)
        #expect(exposure.first?.isOverdue(on: CivilDay(Self.t0)) == false)
        // Another operator's people do not read it; the regulator of its sector and the authority do.
        await #expect(throws: (any Error).self) { _ = try await desk.exposure(of: world.operatorA, for: world.subject("b-admin"), gate: gate) }
        _ = try await desk.exposure(of: world.operatorA, for: world.subject("analyst"), gate: gate)

        // An AMBER advisory addressed to Operator B only does not show in Operator A's exposure.
        let signer = try await AdvisoryDesk.signer(store: installation.store, sealingKey: installation.secrets.sealingKey, userID: "t", now: Self.t0)
        let advisories = AdvisoryDesk(
            store: installation.store, audit: installation.audit, policy: installation.policy,
            publisher: CSAFDocument.Publisher(name: "A", namespace: "https://qila.test"), signer: signer)
        func publish(_ tlp: TLP, to organisations: [String]) async throws {
            var input = AdvisoryTests.input(tlp, organisations: organisations)
            input.products = "Example Telecom Systems | Subscriber Gateway | >=5.0, <5.4.2 | 5.4.2 | cpe:2.3:a:example_telecom:subscriber_gateway:*:*:*:*:*:*:*:*"
            let record = try await advisories.begin(input, by: world.subject("analyst"), gate: gate, now: Self.t0)
            _ = try await advisories.submit(record.id, by: world.subject("analyst"), gate: gate, now: Self.t0)
            _ = try await advisories.publish(record.id, summary: "", by: world.subject("admin"), gate: gate, now: Self.t0)
        }
        try await publish(.amber, to: [world.operatorB.id.description])
        #expect(try await desk.exposure(of: world.operatorA, for: world.subject("a-admin"), gate: gate, now: Self.t0).count == 1)
        try await publish(.green, to: [])
        let after = try await desk.exposure(of: world.operatorA, for: world.subject("a-admin"), gate: gate, now: Self.t0)
        #expect(after.count == 2 && after.contains { $0.target.kind == .advisory && !$0.approximate && $0.target.reference == "QILA-2026-0002#1" })
    }

    actor Heard: ExposureNotifier {
        var events: [ExposureEvent] = []
        func notify(_ event: ExposureEvent) async { events.append(event) }
    }

    @Test("Overdue items escalate once, to the organisation and the authority; items falling due are reminded once", arguments: TestBackend.available)
    func escalation(backend: TestBackend) async throws {
        let world = try await TenantWorld.make(on: backend)
        let installation = world.installation
        let gate = DecisionGate(policy: installation.policy, audit: installation.audit)
        let kev = KEVDesk(store: installation.store, audit: installation.audit)
        _ = try await kev.importCISA(Data(KEVTests.cisa().utf8), file: "kev.json", by: world.subject("analyst"), gate: gate, now: Self.t0)
        // PAN-OS falls due in three days; FortiOS (CISA's due date, 2022-05-03) is long overdue.
        _ = try await kev.setDeadline(
            cve: "CVE-2024-3400", scope: "sector", value: "telecom", days: "", dueDate: "2026-11-23", by: world.subject("analyst"), gate: gate, now: Self.t0)
        let desk = ExposureDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
        _ = try await desk.importInventory(
            Data(Self.sbom().utf8), file: "core.json", name: "Core", organisation: world.operatorA, by: world.subject("a-admin"), gate: gate, now: Self.t0)
        _ = try await desk.importInventory(
            Data("vendor,product,version\nFortinet,FortiOS,6.0.4\n".utf8), file: "edge.csv", name: "Edge", organisation: world.operatorA,
            by: world.subject("a-admin"), gate: gate, now: Self.t0)
        let heard = Heard()
        let first = try await desk.sweep(notifier: heard, now: Self.t0)
        #expect(first.reminders == 1 && first.escalations == 1, "\(first)")
        #expect(try await desk.sweep(notifier: heard, now: Self.t0.addingTimeInterval(3600)) == ExposureDesk.SweepResult(), "claimed once")
        let events = await heard.events
        #expect(events.map(\.kind) == [.reminder, .overdue])
        #expect(events[1].references.first?.hasPrefix("CVE-2018-13379 (Fortinet FortiOS 6.0.4), due 2022-05-03") == true)
        // Once PAN-OS is overdue it escalates too; a patched item does not.
        let panos = try #require(try await desk.exposure(of: world.operatorA, for: world.subject("a-admin"), gate: gate, now: Self.t0).first { $0.target.reference == "CVE-2024-3400" })
        let later = Self.t0.addingTimeInterval(5 * 86_400)
        #expect(try await desk.sweep(notifier: heard, now: later).escalations == 1)
        _ = try await desk.state(
            organisation: world.operatorA, component: panos.componentKey, kind: "kev", reference: "CVE-2024-3400", status: "patched", justification: "", note: "",
            by: world.subject("a-admin"), gate: gate, now: later)
        #expect(try await installation.store.auditEntries(from: 0, limit: 100, actionPrefix: "exposure.overdue").count == 2)
        // The national figure: one organisation, FortiOS still overdue, PAN-OS closed when stated, counted from CISA's listing on 2024-04-12.
        let national = try await desk.national(now: later)
        #expect(national.organisations == 1 && national.overdue == 1 && national.closed == 1 && national.organisationsOverdue == 1)
        #expect(national.medianDaysToClose.map { Int($0) } == Int(later.timeIntervalSince(CivilDay("2024-04-12")!.start) / 86_400))
    }
}

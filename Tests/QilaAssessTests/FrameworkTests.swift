import Foundation
import QilaAssess
import Testing

@Suite("Frameworks as data: the shipped CSF 2.0, files refused with file, line and key, exports")
struct FrameworkTests {
    /// NIST CSWP 29, Appendix A: the 106 subcategories of CSF 2.0, listed here independently of the YAML.
    static let csfSubcategories: [String] = {
        let counts: [(String, [Int])] = [
            ("GV.OC", Array(1...5)), ("GV.RM", Array(1...7)), ("GV.RR", Array(1...4)), ("GV.PO", Array(1...2)), ("GV.OV", Array(1...3)),
            ("GV.SC", Array(1...10)), ("ID.AM", [1, 2, 3, 4, 5, 7, 8]), ("ID.RA", Array(1...10)), ("ID.IM", Array(1...4)),
            ("PR.AA", Array(1...6)), ("PR.AT", Array(1...2)), ("PR.DS", [1, 2, 10, 11]), ("PR.PS", Array(1...6)), ("PR.IR", Array(1...4)),
            ("DE.CM", [1, 2, 3, 6, 9]), ("DE.AE", [2, 3, 4, 6, 7, 8]), ("RS.MA", Array(1...5)), ("RS.AN", [3, 6, 7, 8]), ("RS.CO", [2, 3]),
            ("RS.MI", [1, 2]), ("RC.RP", Array(1...6)), ("RC.CO", [3, 4]),
        ]
        return counts.flatMap { category, numbers in numbers.map { String(format: "%@-%02d", category, $0) } }
    }()

    @Test("The shipped CSF 2.0 has its 6 functions, 22 categories and exactly its 106 subcategories, with the four tiers")
    func shippedCSF() throws {
        let library = try FrameworkLibrary.shipped()
        let csf = try #require(library.framework("nist-csf-2.0"))
        #expect(Self.csfSubcategories.count == 106)
        #expect(csf.requirements.map(\.id) == ["GV", "ID", "PR", "DE", "RS", "RC"])
        #expect(csf.nodes.filter { $0.depth == 1 }.count == 22)
        #expect(csf.answered.map(\.id) == Self.csfSubcategories)
        #expect(csf.nodes.allSatisfy { $0.depth < 3 })
        #expect(csf.scoring.kind == .tiers && csf.scoring.levels.map(\.name) == ["Partial", "Risk Informed", "Repeatable", "Adaptive"])
        #expect(csf.scoring.levels.map(\.credit) == [0.25, 0.5, 0.75, 1])
        #expect(csf.requirement("GV.SC-04")?.text == "Suppliers are known and prioritized by criticality")
    }

    @Test("The shipped CPG 2.0 has its 34 goals under the six functions, scored by status, mapped to CSF 2.0 subcategories")
    func shippedCPG() throws {
        let library = try FrameworkLibrary.shipped()
        let cpg = try #require(library.framework("cisa-cpg-2.0"))
        let csf = try #require(library.framework("nist-csf-2.0"))
        #expect(cpg.requirements.map(\.title) == ["Govern", "Identify", "Protect", "Detect", "Respond", "Recover"])
        #expect(cpg.requirements.map(\.children.count) == [5, 5, 19, 2, 2, 1])
        let letters = Array("ABCDEFGHIJKLMNOPQRS")
        for (number, function) in cpg.requirements.enumerated() {
            #expect(function.children.map(\.id) == (0..<function.children.count).map { "\(number + 1).\(letters[$0])" })
        }
        #expect(cpg.scoring.kind == .status && cpg.scoring.levels.map(\.credit) == [1, 0.5, 0])
        let mapping = try #require(cpg.mappings.first { $0.target == "nist-csf-2.0" })
        // Every goal maps to at least one subcategory (a leaf), so CPG answers can be read on the CSF tree.
        let subcategories = Set(csf.answered.map(\.id))
        #expect(Set(mapping.links.map(\.from)) == Set(cpg.answered.map(\.id)))
        #expect(mapping.links.allSatisfy { subcategories.contains($0.to) })
        #expect(cpg.requirement("3.F")?.title == "Implement Multifactor Authentication (MFA)")
    }

    static let good = """
        id: telecom-regs
        name: Telecom security regulations
        version: "2026"
        levels: [part, regulation]
        scoring:
          kind: status
          levels:
            - {value: implemented, name: Implemented, credit: 1}
            - {value: not, name: Not implemented, credit: 0}
        requirements:
          - id: P1
            title: Governance
            description: The licensee governs security
            children:
              - {id: P1.1, text: "A security officer is named, reporting to the board"}
              - {id: P1.2, text: "Risks are assessed yearly", weight: 2}

        """

    /// Each case: a change to the good file, and the problem expected (line, key, words of the message).
    static let refusals: [(String, String, Int?, String?, String)] = [
        ("empty", "", nil, nil, "the file is empty"),
        ("not YAML", "id: [unclosed\nname: x\n", 2, nil, "is not valid YAML"),
        ("a list, not a mapping", "- id: x\n", 1, "(document)", "must be a mapping"),
        ("unknown key", good + "colour: red\n", 17, "colour", "is not a key here"),
        ("no id", good.replacingOccurrences(of: "id: telecom-regs\n", with: ""), 1, "id", "is required"),
        ("id in capitals", good.replacingOccurrences(of: "id: telecom-regs", with: "id: Telecom Regs"), 1, "id", "must be lower-case letters"),
        ("no requirements", String(good.prefix(upTo: good.range(of: "requirements:")!.lowerBound)), 1, "requirements", "is required"),
        ("requirement twice", good.replacingOccurrences(of: "id: P1.2", with: "id: P1.1"), 16, "requirements[0].children[1].id", "already the id of the requirement on line 15"),
        ("weight zero", good.replacingOccurrences(of: "weight: 2", with: "weight: 0"), 16, "requirements[0].children[1].weight", "above 0"),
        ("status without credit", good.replacingOccurrences(of: ", credit: 0}", with: "}"), 9, "scoring.levels[1].credit", "number from 0 to 1"),
        ("no full marks", good.replacingOccurrences(of: "credit: 1}", with: "credit: 0.9}"), 8, "scoring.levels", "full marks"),
        ("unknown scoring kind", good.replacingOccurrences(of: "kind: status", with: "kind: stars"), 6, "scoring.kind", "is not tiers, maturity or status"),
        (
            "tiers out of order",
            good.replacingOccurrences(of: "kind: status", with: "kind: maturity").replacingOccurrences(of: "value: implemented", with: "value: 3")
                .replacingOccurrences(of: "value: not", with: "value: 2").replacingOccurrences(of: ", credit: 1}", with: "}")
                .replacingOccurrences(of: ", credit: 0}", with: "}"),
            9, "scoring.levels[1].value", "must be above the level before it (3)"
        ),
        ("leaf without text", good.replacingOccurrences(of: ", text: \"A security officer is named, reporting to the board\"", with: ""), 15, "requirements[0].children[0].text", "is required"),
        ("deeper than the levels", good.replacingOccurrences(of: "levels: [part, regulation]", with: "levels: [part]"), 15, "requirements[0].children[0]", "is deeper than the levels"),
        ("empty children", good.replacingOccurrences(of: "description: The licensee governs security\n", with: "description: The licensee governs security\n    children: []\n  - id: P9\n    text: t\n"), 14, "requirements[0].children", "non-empty list"),
        ("mapping from nowhere", good + "mappings:\n  - target: nist-csf-2.0\n    links:\n      - {from: P7, to: GV.OC-01, relation: subset}\n", 20, "mappings[0].links[0].from", "'P7' is not a requirement of this framework"),
        ("unknown relation", good + "mappings:\n  - target: nist-csf-2.0\n    links:\n      - {from: P1.1, to: GV.RR-02, relation: similar}\n", 20, "mappings[0].links[0].relation", "is not equal, subset, superset or intersect"),
    ]

    @Test("A malformed framework is refused with the file, line and key of the problem", arguments: 0..<refusals.count)
    func refused(_ index: Int) throws {
        let (name, yaml, line, key, words) = Self.refusals[index]
        let problems = FrameworkParser.lint(yaml, file: "regs.yaml")
        let problem = try #require(problems.first, "\(name): no problem found")
        #expect(problem.file == "regs.yaml", "\(name)")
        #expect(problem.line == line, "\(name): \(problem)")
        #expect(problem.key == key, "\(name): \(problem)")
        #expect(problem.message.contains(words), "\(name): \(problem)")
        #expect(throws: FrameworkRefused.self) { try FrameworkParser.parse(yaml) }
    }

    @Test("Lint lists every problem of a file, not only the first")
    func everyProblem() {
        let yaml = Self.good.replacingOccurrences(of: "weight: 2", with: "weight: -1").replacingOccurrences(of: "kind: status", with: "kind: stars") + "colour: red\n"
        let keys = FrameworkParser.lint(yaml).compactMap(\.key)
        #expect(Set(keys).isSuperset(of: ["colour", "scoring.kind", "requirements[0].children[1].weight"]), "\(keys)")
        #expect(FrameworkParser.lint(Self.good).isEmpty)
    }

    @Test("A mapping to a known framework must name that framework's requirements")
    func mappingsAcrossFrameworks() throws {
        let csf = try #require(try FrameworkLibrary.shipped().framework("nist-csf-2.0"))
        let good = try FrameworkParser.parse(Self.good + "mappings:\n  - target: nist-csf-2.0\n    links:\n      - {from: P1.1, to: GV.RR-02, relation: subset}\n")
        #expect(try FrameworkLibrary([csf, good]).frameworks.count == 2)
        let bad = try FrameworkParser.parse(Self.good + "mappings:\n  - target: nist-csf-2.0\n    links:\n      - {from: P1.1, to: GV.RR-99, relation: subset}\n")
        #expect(throws: FrameworkRefused.self) { try FrameworkLibrary([csf, bad]) }
        #expect(throws: FrameworkRefused.self) { try FrameworkLibrary([csf, csf]) }
    }

    @Test("Exported as YAML, a framework reads back the same; as CSV, one quoted row per requirement")
    func yamlAndCSV() throws {
        let csf = try #require(try FrameworkLibrary.shipped().framework("nist-csf-2.0"))
        for framework in [csf, try FrameworkParser.parse(Self.good)] {
            let yaml = try FrameworkExport.yaml(framework)
            #expect(try FrameworkParser.parse(yaml) == framework)
        }
        let csv = FrameworkExport.csv(csf)
        let rows = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 1 + 6 + 22 + 106)
        #expect(rows.contains("GV.SC-04,GV.SC,subcategory,,Suppliers are known and prioritized by criticality,,1,"))
        #expect(rows.contains { $0.hasPrefix("GV.OC-02,GV.OC,subcategory,,\"Internal and external stakeholders are understood, and") })
    }

    @Test("As an OSCAL catalog and back: the same requirements; ids that are not OSCAL tokens keep their label")
    func oscal() throws {
        let csf = try #require(try FrameworkLibrary.shipped().framework("nist-csf-2.0"))
        let instant = Date(timeIntervalSince1970: 1_795_000_000)
        let text = try FrameworkExport.oscal(csf, at: instant)
        let document = try JSONDecoder().decode(OSCALCatalogDocument.self, from: Data(text.utf8))
        #expect(document.catalog.metadata.oscalVersion == "1.1.2" && document.catalog.metadata.lastModified == "2026-11-18T11:06:40Z")
        #expect(document.catalog.uuid == OSCALCatalog.export(csf, at: Date()).catalog.uuid, "one version, one uuid")
        #expect(document.catalog.uuid.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12] && document.catalog.uuid.dropFirst(14).first == "5")
        let back = try OSCALCatalog.framework(from: document, id: "csf-again")
        #expect(back.answered.map(\.id) == csf.answered.map(\.id))
        #expect(back.answered.map(\.text) == csf.answered.map(\.text))
        #expect(back.nodes.filter { $0.depth == 1 }.map(\.requirement.text) == csf.nodes.filter { $0.depth == 1 }.map(\.requirement.text))

        let numbered = try FrameworkParser.parse(Self.good.replacingOccurrences(of: "id: P1.1", with: "id: 1.A"))
        let exported = OSCALCatalog.export(numbered, at: instant)
        let first = try #require(exported.catalog.groups?.first?.controls?.first)
        #expect(first.id == "r-1.A" && first.props?.first { $0.name == "label" }?.value == "1.A")
        #expect(try OSCALCatalog.framework(from: exported, id: "again").answered.map(\.id) == ["1.A", "P1.2"])
    }

    @Test("An OSCAL catalog's withdrawn controls are left out and a statement's items are joined into its text")
    func oscalImport() throws {
        let json = """
            {"catalog": {"uuid": "9a1b6f43-0c6e-4d52-8a77-1b2c3d4e5f60", "metadata": {"title": "Sample catalog", "last-modified": "2026-01-01T00:00:00Z",
              "version": "1", "oscal-version": "1.1.2"},
              "groups": [{"id": "ac", "class": "family", "title": "Access Control", "controls": [
                {"id": "ac-1", "title": "Policy and Procedures", "props": [{"name": "label", "value": "AC-1"}],
                 "parts": [{"id": "ac-1_smt", "name": "statement", "parts": [
                    {"id": "ac-1_smt.a", "name": "item", "props": [{"name": "label", "value": "a."}], "prose": "Develop a policy;"},
                    {"id": "ac-1_smt.b", "name": "item", "props": [{"name": "label", "value": "b."}], "prose": "Review it yearly."}]},
                   {"id": "ac-1_gdn", "name": "guidance", "prose": "Policies set direction."}]},
                {"id": "ac-2", "title": "Withdrawn", "props": [{"name": "status", "value": "withdrawn"}]}]}]}}
            """
        let document = try JSONDecoder().decode(OSCALCatalogDocument.self, from: Data(json.utf8))
        let framework = try OSCALCatalog.framework(from: document, id: "sample")
        #expect(framework.answered.map(\.id) == ["AC-1"])
        #expect(framework.answered.first?.text == "a. Develop a policy; b. Review it yearly.")
        #expect(framework.answered.first?.guidance == "Policies set direction.")
        #expect(framework.scoring == .implementation)
        // Read back through YAML, as an authority would keep it.
        #expect(try FrameworkParser.parse(try FrameworkExport.yaml(framework)) == framework)
    }
}

import Foundation
import QilaPublic
import Testing

/// Every string of the public pages exists in English and in Urdu, and every key the pages and the
/// portal use is in the table.
@Suite("Public pages: the translation table is complete for English and Urdu")
struct TranslationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The public templates, by name.
    static func templates() throws -> [(String, String)] {
        let folder = root.appendingPathComponent("Sources/QilaWeb/Templates")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("public") && $0.hasSuffix(".mustache") }.sorted()
            .map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Every key a template names as `{{t.key}}`, and every key the code names: refusals
    /// (`key: "…"`), categories, states, outcomes, the self-check, incident classes.
    static func usedKeys() throws -> Set<String> {
        var keys: Set<String> = []
        let pattern = try Regex(#"\{\{\s*t\.([a-z0-9_]+)\s*\}\}"#)
        for (_, text) in try templates() {
            for match in text.matches(of: pattern) { keys.insert(String(match.output[1].substring ?? "")) }
        }
        let code = try Regex(#"key: "([a-z0-9_]+)""#)
        for folder in ["Sources/QilaPublic", "Sources/QilaWeb/Public"] {
            let url = root.appendingPathComponent(folder)
            for file in try FileManager.default.contentsOfDirectory(atPath: url.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: code) { keys.insert(String(match.output[1].substring ?? "")) }
            }
        }
        keys.formUnion(ComplaintCategory.allCases.map(\.textKey))
        keys.formUnion(["received", "verifying", "inquiry", "referred", "closed"].map { "state_" + $0 })
        for options in [["inquiry-opened", "referred", "not-cognisable", "insufficient-information"], ["case-registered", "resolved", "no-offence", "insufficient-evidence"]] {
            keys.formUnion(options.map { "outcome_" + $0.replacingOccurrences(of: "-", with: "_") })
        }
        for question in SelfCheck.questions { keys.formUnion([question.questionKey, question.actionKey, question.whyKey]) }
        keys.formUnion(["abusive-content", "malicious-code", "information-gathering", "intrusion-attempts", "intrusions", "availability",
            "information-content-security", "fraud", "vulnerable", "other", "test", "unclassified"].map { "rsit_" + $0.replacingOccurrences(of: "-", with: "_") })
        return keys
    }

    @Test("The shipped table has English and Urdu for every key, and every key in use")
    func complete() throws {
        let table = try PublicText.load()
        #expect(table.entries.count > 150)
        let gaps = table.gaps(used: try Self.usedKeys())
        #expect(gaps.isEmpty, "\(gaps.prefix(20).map(\.description).joined(separator: "; "))")
    }

    @Test("A missing Urdu string, or a key used but not listed, is a gap the test reports")
    func missingUrduFails() throws {
        var entries = try PublicText.load().entries
        entries["report_title"]?[.urdu] = nil
        let table = PublicText(entries: entries)
        #expect(table.gaps(used: try Self.usedKeys() + ["not_in_the_table"]) == [
            .init(key: "not_in_the_table", language: .english), .init(key: "not_in_the_table", language: .urdu), .init(key: "report_title", language: .urdu),
        ])
        #expect(table.text("report_title", .urdu) == "Report a cybercrime", "a page falls back to English rather than show a key")
    }

    @Test("Urdu text is in Arabic script, not English left in the Urdu column")
    func urduIsUrdu() throws {
        let table = try PublicText.load()
        let latinOnly = table.entries.filter { key, texts in
            guard key != "lang_switch", let urdu = texts[.urdu] else { return false }
            return !urdu.unicodeScalars.contains { (0x0600...0x06FF).contains($0.value) }
        }.keys.sorted()
        #expect(latinOnly.isEmpty, "no Urdu script in: \(latinOnly.joined(separator: ", "))")
    }

    @Test("Public templates carry no text of their own: every word comes from the table or the view")
    func templatesHaveNoText() throws {
        for (name, text) in try Self.templates() {
            var stripped = text.replacing(try Regex(#"\{\{\{?[^}]*\}?\}\}"#), with: " ")
            stripped = stripped.replacing(try Regex(#"<[^>]*>"#), with: " ")
            stripped = stripped.replacing(try Regex(#"&[a-z]+;"#), with: " ")
            let words = stripped.split(whereSeparator: { !$0.isLetter }).filter { !$0.isEmpty }
            #expect(words.isEmpty, "\(name) has text outside the table: \(words.prefix(8).joined(separator: " "))")
        }
    }

    @Test(
        "Language: an explicit choice wins, then Accept-Language by weight, else English",
        arguments: [
            (nil, nil, PublicLanguage.english), ("ur", nil, .urdu), ("UR", "en", .urdu), ("fr", "ur", .urdu), (nil, "ur-PK,en;q=0.8", .urdu),
            (nil, "en-GB,ur;q=0.9", .english), (nil, "en;q=0.4, ur;q=0.7", .urdu), (nil, "ur;q=0, en", .english), (nil, "de, fr", .english),
            (nil, "*", .english),
        ] as [(String?, String?, PublicLanguage)])
    func negotiation(choice: String?, header: String?, expected: PublicLanguage) {
        #expect(PublicLanguage.negotiate(choice: choice, acceptLanguage: header) == expected)
    }
}

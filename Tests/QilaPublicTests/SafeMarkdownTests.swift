import Foundation
import QilaPublic
import QilaTestSupport
import Testing

@Suite("Guides and alerts: Markdown turned into HTML that cannot carry a script")
struct SafeMarkdownTests {
    @Test("Headings, lists, emphasis, code and safe links become their elements")
    func golden() {
        let source = """
            # Phishing calls claiming to be banks

            Criminals call and ask for the **one-time code**. *Never* share it; see [our guide](/public/guides/otp) or [the bank](https://bank.example/help).

            - Hang up
            - Call the number on your card
            1. Report it

            > Banks never ask.

            ```
            <script>alert(1)</script>
            ```
            """
        #expect(SafeMarkdown.html(source) == """
            <h2>Phishing calls claiming to be banks</h2>
            <p>Criminals call and ask for the <strong>one-time code</strong>. <em>Never</em> share it; see <a href="/public/guides/otp">our guide</a> or <a href="https://bank.example/help">the bank</a>.</p>
            <ul><li>Hang up</li><li>Call the number on your card</li></ul>
            <ol><li>Report it</li></ol>
            <blockquote><p>Banks never ask.</p></blockquote>
            <pre><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></pre>

            """)
    }

    @Test(
        "Raw HTML, script links and attribute tricks stay text",
        arguments: [
            "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "[x](//evil.example)",
            "[x](https://a.example\" onmouseover=\"alert(1))", "<a href=\"https://x\">x</a>", "**<b>bold</b>**", "`<iframe>`",
        ])
    func hostile(source: String) {
        Self.checkSafe(SafeMarkdown.html(source), from: source)
    }

    /// Only the elements the renderer makes, only `href` as an attribute, with a safe scheme.
    static func checkSafe(_ html: String, from source: String) {
        let allowed: Set<String> = ["p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "a"]
        var index = html.startIndex
        while let open = html[index...].firstIndex(of: "<") {
            guard let close = html[open...].firstIndex(of: ">") else {
                Issue.record("an unclosed tag in the output of \(source.debugDescription)")
                return
            }
            let tag = html[html.index(after: open)..<close]
            let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }
            #expect(allowed.contains(String(name)), "element \(name) from \(source.debugDescription)")
            let attributes = tag.drop { $0 == "/" }.dropFirst(name.count)
            if !attributes.isEmpty {
                #expect(name == "a", "attributes on \(name) from \(source.debugDescription)")
                let value = attributes.trimmingCharacters(in: .whitespaces)
                #expect(value.hasPrefix("href=\"") && value.hasSuffix("\"") && value.dropFirst(6).dropLast().allSatisfy { $0 != "\"" && $0 != "<" && $0 != ">" })
                let target = value.dropFirst(6).dropLast().lowercased()
                #expect(target.hasPrefix("https://") || target.hasPrefix("http://") || target.hasPrefix("mailto:") || (target.hasPrefix("/") && !target.hasPrefix("//")))
            }
            index = html.index(after: close)
        }
    }

    @Test("Property: ten thousand random texts of Markdown and HTML pieces never yield an element or attribute outside the list")
    func randomTexts() {
        var random = SeededRandom(seed: 0x51_4C_41)
        let pieces = [
            "<", ">", "\"", "'", "&", "*", "**", "_", "`", "```", "[", "]", "(", ")", "#", "# ", "- ", "1. ", "> ", "\n", "\n\n", " ", "script", "img",
            "onerror=", "javascript:", "https://x.example", "/path", "//evil", "mailto:a@b", "a", "اردو", "=", "href", "\t", "  ",
        ]
        for _ in 0..<10_000 {
            let source = (0..<Int.random(in: 1...30, using: &random)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &random)] }.joined()
            Self.checkSafe(SafeMarkdown.html(source), from: source)
        }
    }
}


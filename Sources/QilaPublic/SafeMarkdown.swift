/// Markdown as the authority writes guides and alerts, turned into HTML that cannot carry a
/// script: every character of the text is escaped, and only the elements below are produced.
///
/// Blocks: headings (`#` to `###`, shown one level down, since the page's title is its `h1`),
/// paragraphs, `-`/`*` and numbered lists, `>` quotes and fenced code. Inline: `**strong**`,
/// `*emphasis*`/`_emphasis_`, `` `code` `` and `[text](link)` where the link is `https:`, `http:`,
/// `mailto:` or a path on this site; any other link is shown as text. Raw HTML in the source is
/// shown as text, never interpreted.
public enum SafeMarkdown {
    public static func html(_ source: String) -> String {
        var output = ""
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [String])?
        var quote: [String] = []
        var code: [String]?

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            output += "<p>" + inline(paragraph.joined(separator: " ")) + "</p>\n"
            paragraph = []
        }
        func flushList() {
            guard let current = list else { return }
            let tag = current.ordered ? "ol" : "ul"
            output += "<\(tag)>" + current.items.map { "<li>" + inline($0) + "</li>" }.joined() + "</\(tag)>\n"
            list = nil
        }
        func flushQuote() {
            guard !quote.isEmpty else { return }
            output += "<blockquote><p>" + inline(quote.joined(separator: " ")) + "</p></blockquote>\n"
            quote = []
        }
        func flushAll() {
            flushParagraph()
            flushList()
            flushQuote()
        }

        for rawLine in source.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var lines = code {
                if trimmed.hasPrefix("```") {
                    output += "<pre><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>\n"
                    code = nil
                } else {
                    lines.append(line)
                    code = lines
                }
                continue
            }
            if trimmed.hasPrefix("```") {
                flushAll()
                code = []
                continue
            }
            if trimmed.isEmpty {
                flushAll()
                continue
            }
            if let (level, text) = heading(trimmed) {
                flushAll()
                output += "<h\(level + 1)>" + inline(text) + "</h\(level + 1)>\n"
                continue
            }
            if trimmed.hasPrefix(">") {
                flushParagraph()
                flushList()
                quote.append(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                continue
            }
            if let (ordered, text) = listItem(trimmed) {
                flushParagraph()
                flushQuote()
                if list?.ordered != ordered { flushList() }
                list = (ordered, (list?.items ?? []) + [text])
                continue
            }
            if list != nil, line.hasPrefix("  "), var current = list, let last = current.items.popLast() {
                // A continuation line of the last item.
                current.items.append(last + " " + trimmed)
                list = current
                continue
            }
            flushList()
            flushQuote()
            paragraph.append(trimmed)
        }
        if let lines = code { output += "<pre><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>\n" }
        flushAll()
        return output
    }

    /// The text without any Markdown, for a summary line.
    public static func plain(_ source: String, limit: Int = 200) -> String {
        var text = ""
        for line in source.split(separator: "\n") {
            var part = line.trimmingCharacters(in: .whitespaces)
            while let first = part.first, "#>-*`".contains(first) { part = String(part.dropFirst()).trimmingCharacters(in: .whitespaces) }
            if !part.isEmpty { text += (text.isEmpty ? "" : " ") + part }
            if text.count > limit { break }
        }
        text = text.replacingOccurrences(of: "**", with: "").replacingOccurrences(of: "`", with: "")
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    static func heading(_ line: String) -> (Int, String)? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...3).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return (hashes, String(line.dropFirst(hashes + 1)).trimmingCharacters(in: .whitespaces))
    }

    static func listItem(_ line: String) -> (Bool, String)? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return (false, String(line.dropFirst(2))) }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 3, line.dropFirst(digits.count).hasPrefix(". ") {
            return (true, String(line.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Inline spans. The text is escaped piece by piece as it is copied; markers that do not
    /// close are kept as the characters they are.
    static func inline(_ text: String) -> String {
        let characters = Array(text)
        var output = ""
        var index = 0
        func find(_ marker: [Character], from start: Int) -> Int? {
            var position = start
            while position + marker.count <= characters.count {
                if Array(characters[position..<position + marker.count]) == marker { return position }
                position += 1
            }
            return nil
        }
        while index < characters.count {
            let character = characters[index]
            if character == "`", let end = find(["`"], from: index + 1) {
                output += "<code>" + escape(String(characters[index + 1..<end])) + "</code>"
                index = end + 1
                continue
            }
            if character == "*", index + 1 < characters.count, characters[index + 1] == "*", let end = find(["*", "*"], from: index + 2), end > index + 2 {
                output += "<strong>" + inline(String(characters[index + 2..<end])) + "</strong>"
                index = end + 2
                continue
            }
            if character == "*" || character == "_", let end = find([character], from: index + 1), end > index + 1,
                characters[index + 1] != " "
            {
                output += "<em>" + inline(String(characters[index + 1..<end])) + "</em>"
                index = end + 1
                continue
            }
            if character == "[", let close = find(["]"], from: index + 1), close + 1 < characters.count, characters[close + 1] == "(",
                let end = find([")"], from: close + 2)
            {
                let label = String(characters[index + 1..<close])
                let target = String(characters[close + 2..<end]).trimmingCharacters(in: .whitespaces)
                if let safe = safeLink(target) {
                    output += "<a href=\"" + escape(safe) + "\">" + inline(label) + "</a>"
                } else {
                    output += inline(label) + " (" + escape(target) + ")"
                }
                index = end + 1
                continue
            }
            output += escape(String(character))
            index += 1
        }
        return output
    }

    /// The link if it may be followed from a public page.
    static func safeLink(_ target: String) -> String? {
        guard !target.isEmpty, !target.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" }) else { return nil }
        let lower = target.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") || lower.hasPrefix("mailto:") { return target }
        if target.hasPrefix("/"), !target.hasPrefix("//") { return target }
        return nil
    }

    /// HTML escaping of text and attribute values.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}

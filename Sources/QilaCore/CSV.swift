/// CSV for people who open it in a spreadsheet.
public enum CSV {
    /// One field, quoted as RFC 4180 says; a leading `=`, `+`, `-`, `@`, tab or carriage return is
    /// prefixed with `'` so that spreadsheets do not run it as a formula.
    public static func field(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}

/// Where a page may send a person back to after signing in again: a path on this origin and
/// nothing that a browser could read as another host.
enum LocalRedirect {
    /// `candidate` if it is a plain absolute path of this origin, else nil. Refused: anything not
    /// starting with one `/`, scheme-relative forms (`//host`, `/\host`), any backslash (browsers
    /// read it as `/`), and control characters or spaces (browsers strip tabs and newlines, so
    /// `/\t/host` would become `//host`).
    static func path(_ candidate: String) -> String? {
        let scalars = candidate.unicodeScalars
        guard let first = scalars.first, first == "/" else { return nil }
        guard scalars.count < 2048 else { return nil }
        for scalar in scalars {
            if scalar == "\\" || scalar.value < 0x21 || scalar.value == 0x7F { return nil }
            if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace { return nil }
        }
        let rest = scalars.dropFirst()
        if let second = rest.first, second == "/" { return nil }
        return candidate
    }
}

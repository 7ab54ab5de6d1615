import Foundation

/// The fields of an `application/x-www-form-urlencoded` body. Repeated names (checkboxes)
/// keep every value.
struct FormFields: Sendable {
    private(set) var values: [String: [String]] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[name, default: []].append(value)
        }
    }

    static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }

    subscript(_ name: String) -> String? { values[name]?.first }

    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The trimmed value, or an error naming the field when it is missing or empty.
    func required(_ name: String, label: String? = nil) throws -> String {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw Problem(.badRequest, "\(label ?? name) is required", location: "field \(name)")
        }
        return value
    }
}

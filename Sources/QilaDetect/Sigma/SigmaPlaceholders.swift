import Foundation
import Yams

/// Values for the `%name%` placeholders that the `expand` modifier replaces, kept by each
/// deployment in a YAML file: each key a placeholder name, each value a text or a list of texts.
///
///     known_cdcs: [dc01.example.org, dc02.example.org, 10.1.2.3]
///     admin_workstations: 'PAW-*'
///
/// A value may hold Sigma wildcards. A value with placeholders becomes one value per combination
/// of their values, so `'%dir%\%tool%'` with two directories and three tools gives six values.
public struct SigmaPlaceholders: Sendable, Equatable {
    public var values: [String: [String]]

    public static let none = SigmaPlaceholders(values: [:])

    public init(values: [String: [String]]) {
        self.values = values
    }

    /// Reads a placeholders file; errors name the file, line and placeholder.
    public init(contentsOf url: URL) throws {
        let file = url.lastPathComponent
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw SigmaError("not readable as UTF-8 text", file: file)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SigmaRuleParser.yamlError(error, file: file)
        }
        guard let mapping = root?.mapping else {
            throw SigmaError("a placeholders file maps each placeholder name to a text or a list of texts", file: file)
        }
        var values: [String: [String]] = [:]
        for (key, node) in mapping {
            guard let name = key.string, !name.isEmpty, !name.contains("%") else {
                throw SigmaError("a placeholder name is text without %", file: file, line: key.mark?.line)
            }
            if let scalar = node.scalar {
                values[name] = [scalar.string]
            } else if let list = node.sequence {
                values[name] = try list.map { item in
                    guard let scalar = item.scalar else {
                        throw SigmaError("placeholder '\(name)': each value is a text", file: file, line: item.mark?.line)
                    }
                    return scalar.string
                }
            } else {
                throw SigmaError("placeholder '\(name)' needs a text or a list of texts", file: file, line: node.mark?.line)
            }
        }
        self.values = values
    }

    /// The texts a value with placeholders stands for. A placeholder is `%name%` with a name of
    /// letters, digits, `_`, `-` and `.`; any other `%` stays as written (`100%`).
    public func expand(_ text: String) throws(MissingPlaceholder) -> [String] {
        var results = [""]
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "%") {
            let afterOpen = rest.index(after: open)
            let name = rest[afterOpen...].prefix { $0.isLetter || $0.isNumber || "_-.".contains($0) }
            guard !name.isEmpty, name.endIndex < rest.endIndex, rest[name.endIndex] == "%" else {
                literal += rest[...open]
                rest = rest[afterOpen...]
                continue
            }
            guard let options = values[String(name)], !options.isEmpty else { throw MissingPlaceholder(name: String(name)) }
            literal += rest[..<open]
            results = results.flatMap { start in options.map { start + literal + $0 } }
            literal = ""
            rest = rest[rest.index(after: name.endIndex)...]
        }
        return results.map { $0 + literal + rest }
    }

    /// A placeholder that a rule uses and the configuration gives no values for.
    public struct MissingPlaceholder: Error, Sendable {
        public var name: String
    }
}

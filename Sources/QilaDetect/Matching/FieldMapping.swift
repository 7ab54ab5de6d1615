import Foundation
import Yams

/// How Sigma field names map onto one event format: for each field, the JSON paths to try in
/// order. Mappings are data (`mappings/*.yml`), so a new format needs no code.
public struct FieldMapping: Sendable {
    public var name: String
    /// Paths per Sigma field name, each a list of object keys.
    public var fields: [String: [[String]]]
    /// Path templates for fields not listed; `{field}` is replaced by the field name.
    public var defaultPaths: [String]
    /// Which events each log source covers; nil when the mapping does not say (everything applies).
    public var logSources: [LogSourceCondition]?
    /// Where an event's time is, in the order to try (`timestamp:` in the file); correlations
    /// place events in time by it.
    public var timestampPaths: [[String]]
    /// What intake keeps from every event besides what rules read (`entity:` in the file).
    public var entity: Entity?

    /// Sigma field names (looked up through the mapping) whose values make an event's type
    /// (joined by `/`, for volume baselines), name its host and its account (for grouping alerts).
    public struct Entity: Sendable, Equatable {
        public var type: [String]
        public var host: [String]
        public var account: [String]
    }

    /// Where events of unknown formats usually keep their time.
    public static let commonTimestampPaths = [["@timestamp"], ["timestamp"], ["time"], ["eventTime"], ["TimeCreated"], ["UtcTime"], ["EventTime"]]

    /// `match` is a rule's logsource; an event is covered when, for every field under `where`,
    /// it holds one of the listed values (compared without regard to case; `*` is any value).
    public struct LogSourceCondition: Sendable {
        public var match: LogSource
        public var requirements: [(field: String, paths: [[String]], values: Set<String>)]

        /// True when one of the texts is an accepted value (lowercased texts).
        static func accepts(_ values: Set<String>, _ text: String) -> Bool {
            values.contains(text) || values.contains("*")
        }
    }

    /// The identity mapping: field names are top-level keys or dotted paths.
    public static let flat = FieldMapping(name: "flat", fields: [:], defaultPaths: ["{field}"])

    public init(
        name: String, fields: [String: [[String]]], defaultPaths: [String], logSources: [LogSourceCondition]? = nil,
        timestampPaths: [[String]] = FieldMapping.commonTimestampPaths
    ) {
        self.name = name
        self.fields = fields
        self.defaultPaths = defaultPaths
        self.logSources = logSources
        self.timestampPaths = timestampPaths
    }

    /// The mappings shipped with Qila (`mappings/*.yml`), by name.
    public static var shippedNames: [String] {
        guard let folder = Bundle.module.url(forResource: "mappings", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return [] }
        return files.filter { $0.hasSuffix(".yml") && !$0.contains("logsources") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// A shipped mapping by name (`windows-flat`), or a mapping file by path.
    public static func named(_ nameOrPath: String) throws -> FieldMapping {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yml") || nameOrPath.hasSuffix(".yaml") {
            return try FieldMapping(contentsOf: URL(fileURLWithPath: nameOrPath))
        }
        guard let folder = Bundle.module.url(forResource: "mappings", withExtension: nil),
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(nameOrPath).yml").path)
        else {
            throw SigmaError("no mapping named '\(nameOrPath)'; shipped mappings: \(shippedNames.joined(separator: ", ")), or give a file path")
        }
        return try FieldMapping(contentsOf: folder.appendingPathComponent("\(nameOrPath).yml"))
    }

    /// Loads a mapping file; errors name the file and what is wrong. `extends: NAME` starts from
    /// another mapping file in the same folder (its fields, default paths and log sources); the
    /// file's own `fields` are added over the base's, its `default` and log sources replace them.
    /// `logsources_from` names one file or a list of files whose `logsources` are included.
    public init(contentsOf url: URL) throws {
        try self.init(contentsOf: url, extending: [])
    }

    private init(contentsOf url: URL, extending chain: [String]) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.compose(yaml: text)?.mapping, let name = root["name"]?.string else {
            throw SigmaError("a mapping needs a name and fields", file: url.lastPathComponent)
        }
        var base: FieldMapping?
        if let parent = root["extends"] {
            guard let parentName = parent.string else {
                throw SigmaError("extends names one mapping file", file: url.lastPathComponent, line: parent.mark?.line)
            }
            let file = parentName.hasSuffix(".yml") ? parentName : parentName + ".yml"
            guard !chain.contains(file), file != url.lastPathComponent else {
                throw SigmaError("extends '\(parentName)' forms a cycle", file: url.lastPathComponent, line: parent.mark?.line)
            }
            base = try FieldMapping(contentsOf: url.deletingLastPathComponent().appendingPathComponent(file), extending: chain + [url.lastPathComponent])
        }
        var fields: [String: [[String]]] = base?.fields ?? [:]
        for (key, value) in root["fields"]?.mapping ?? [:] {
            guard let field = key.string, let paths = value.sequence?.compactMap(\.string) else {
                throw SigmaError("each field maps to a list of paths", file: url.lastPathComponent, line: key.mark?.line)
            }
            fields[field] = paths.map(Self.split)
        }
        self.init(
            name: name, fields: fields,
            defaultPaths: root["default"]?.sequence?.compactMap(\.string) ?? base?.defaultPaths ?? ["{field}"],
            logSources: base?.logSources,
            timestampPaths: root["timestamp"]?.sequence?.compactMap(\.string).map(Self.split) ?? base?.timestampPaths ?? Self.commonTimestampPaths)
        entity = base?.entity
        if let node = root["entity"] {
            guard let map = node.mapping else {
                throw SigmaError("entity maps type, host and account to lists of fields", file: url.lastPathComponent, line: node.mark?.line)
            }
            func list(_ key: String) throws -> [String] {
                guard let value = map[key] else { return [] }
                guard let items = value.sequence?.compactMap(\.string) else {
                    throw SigmaError("entity's \(key) is a list of field names", file: url.lastPathComponent, line: value.mark?.line)
                }
                return items
            }
            entity = Entity(type: try list("type"), host: try list("host"), account: try list("account"))
        }
        var sources = root["logsources"].map { [($0, url)] } ?? []
        if let included = root["logsources_from"] {
            let names = included.string.map { [$0] } ?? included.sequence?.compactMap(\.string) ?? []
            if names.isEmpty {
                throw SigmaError("logsources_from names a file or a list of files", file: url.lastPathComponent, line: included.mark?.line)
            }
            for included in names {
                let other = url.deletingLastPathComponent().appendingPathComponent(included)
                guard let text = try? String(contentsOf: other, encoding: .utf8), let list = try Yams.compose(yaml: text)?.mapping?["logsources"] else {
                    throw SigmaError("logsources_from names '\(included)', which is not a readable mapping file with logsources", file: url.lastPathComponent)
                }
                sources.append((list, other))
            }
        }
        if !sources.isEmpty {
            var conditions: [LogSourceCondition] = []
            for (node, file) in sources {
                guard let entries = node.sequence else {
                    throw SigmaError("logsources must be a list", file: file.lastPathComponent, line: node.mark?.line)
                }
                for entry in entries {
                    guard let match = entry.mapping?["match"]?.mapping else {
                        throw SigmaError("each logsources entry needs match: {product, category, service}", file: file.lastPathComponent, line: entry.mark?.line)
                    }
                    var requirements: [(field: String, paths: [[String]], values: Set<String>)] = []
                    for (key, value) in entry.mapping?["where"]?.mapping ?? [:] {
                        guard let field = key.string, let values = value.sequence?.compactMap(\.string) else {
                            throw SigmaError("where maps each field to a list of values", file: file.lastPathComponent, line: key.mark?.line)
                        }
                        requirements.append((field, paths(for: field), Set(values.map { $0.lowercased() })))
                    }
                    conditions.append(
                        LogSourceCondition(
                            match: LogSource(category: match["category"]?.string, product: match["product"]?.string, service: match["service"]?.string),
                            requirements: requirements))
                }
            }
            logSources = conditions
        }
    }

    /// The conditions that cover a rule's logsource: nil means everything applies, an empty
    /// list that nothing does.
    public func coverage(of logSource: LogSource) -> [LogSourceCondition]? {
        logSources.map { $0.filter { $0.match == logSource } }
    }

    /// Splits `a.b.#attributes.c` into keys.
    static func split(_ path: String) -> [String] {
        path.split(separator: ".").map(String.init)
    }

    /// `{field}` is the name as written, as one key; `{field path}` splits it at dots into nested
    /// keys (`userIdentity.type`); `{field words}` splits it at case changes (`SourceName` becomes
    /// `Source Name`, as Windows Defender names its fields). A key `*` in a path stands for any
    /// member not otherwise named at that place (`Event.UserData.*.{field}`).
    public func paths(for field: String) -> [[String]] {
        if let listed = fields[field] { return listed }
        var seen: Set<[String]> = []
        return defaultPaths.compactMap { template -> [String]? in
            let path: [String]
            if template == "{field}" {
                path = [field]
            } else if template == "{field path}" {
                path = Self.split(field)
            } else {
                path = Self.split(Self.fill(template, field: field))
            }
            return seen.insert(path).inserted ? path : nil
        }
    }

    /// The template with `{field words}` and `{field}` replaced (plain string work: this runs
    /// for every field of every rule while a rule set compiles).
    static func fill(_ template: String, field: String) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{field words}") {
                out += words(field)
                rest = tail.dropFirst("{field words}".count)
            } else if tail.hasPrefix("{field}") {
                out += field
                rest = tail.dropFirst("{field}".count)
            } else {
                out.append("{")
                rest = tail.dropFirst()
            }
        }
        return out + rest
    }

    static func words(_ field: String) -> String {
        var out = ""
        var previous: Character?
        for character in field {
            if let previous, previous.isLowercase, character.isUppercase { out.append(" ") }
            out.append(character)
            previous = character
        }
        return out
    }
}

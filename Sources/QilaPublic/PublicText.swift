public import Foundation
import Yams

/// Every string of the public pages, in English and Urdu, read from `text/public.yaml`: a key,
/// then its text in each language. Pages look strings up by key; a test keeps the table complete
/// for both languages and checks that every key a template uses is in it.
public struct PublicText: Sendable {
    /// Text by key, then by language.
    public let entries: [String: [PublicLanguage: String]]

    public init(entries: [String: [PublicLanguage: String]]) {
        self.entries = entries
    }

    /// The table shipped in the bundle (empty if the bundle is missing, which a test refuses).
    public static let shipped: PublicText = (try? load()) ?? PublicText(entries: [:])

    public static func load() throws -> PublicText {
        guard let url = Bundle.module.url(forResource: "public", withExtension: "yaml", subdirectory: "text") else {
            throw PublicTextError(message: "text/public.yaml is missing from the QilaPublic bundle")
        }
        return try parse(String(contentsOf: url, encoding: .utf8), name: "text/public.yaml")
    }

    /// Reads a table; a key whose value is not a mapping of language codes to text is refused
    /// with its name.
    public static func parse(_ yaml: String, name: String) throws -> PublicText {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else {
            throw PublicTextError(message: "\(name) must be a mapping of keys to texts")
        }
        var entries: [String: [PublicLanguage: String]] = [:]
        for (key, value) in root {
            guard let texts = value as? [String: Any] else { throw PublicTextError(message: "\(name): '\(key)' must map en and ur to text") }
            var byLanguage: [PublicLanguage: String] = [:]
            for (code, text) in texts {
                guard let language = PublicLanguage(rawValue: code) else {
                    throw PublicTextError(message: "\(name): '\(key)' has '\(code)', which is not en or ur")
                }
                byLanguage[language] = "\(text)".trimmingCharacters(in: .whitespacesAndNewlines)
            }
            entries[key] = byLanguage
        }
        return PublicText(entries: entries)
    }

    /// The text of `key` in `language`: English where the Urdu is missing (the completeness test
    /// keeps that from shipping), the key itself where both are.
    public func text(_ key: String, _ language: PublicLanguage) -> String {
        if let text = entries[key]?[language], !text.isEmpty { return text }
        if let text = entries[key]?[.english], !text.isEmpty { return text }
        return key
    }

    /// `text(_:_:)` with each `{name}` replaced by its value.
    public func text(_ key: String, _ language: PublicLanguage, _ values: [String: String]) -> String {
        var result = text(key, language)
        for (name, value) in values { result = result.replacingOccurrences(of: "{\(name)}", with: value) }
        return result
    }

    /// A gap in the table: a key used or listed without text in a language.
    public struct Gap: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var language: PublicLanguage
        public init(key: String, language: PublicLanguage) {
            self.key = key
            self.language = language
        }

        public var description: String { "'\(key)' has no \(language == .urdu ? "Urdu" : "English") text" }
    }

    /// Every key without text in one of the languages, plus every key of `used` the table lacks.
    public func gaps(used: some Sequence<String> = []) -> [Gap] {
        var gaps: [Gap] = []
        for key in Set(entries.keys).union(used) {
            for language in PublicLanguage.allCases where (entries[key]?[language] ?? "").isEmpty {
                gaps.append(Gap(key: key, language: language))
            }
        }
        return gaps.sorted { ($0.key, $0.language.rawValue) < ($1.key, $1.language.rawValue) }
    }
}

public struct PublicTextError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

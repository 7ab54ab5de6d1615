public import Foundation
public import QilaCore

/// One thing an organisation runs: a product or package at a version, with the identifiers that
/// matching uses when they are known (a CPE 2.3 name, a package URL).
public struct InventoryComponent: Sendable, Equatable, Codable {
    public var vendor: String
    public var name: String
    public var version: String
    public var cpe: String?
    public var purl: String?

    public init(vendor: String, name: String, version: String, cpe: String? = nil, purl: String? = nil) {
        self.vendor = vendor
        self.name = name
        self.version = version
        self.cpe = cpe
        self.purl = purl
    }
}

/// What is wrong with an inventory file, and where: a JSON path or a CSV line.
public struct InventoryProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var place: String
    public var message: String
    public var description: String { place.isEmpty ? "\(file) \(message)" : "\(file): \(place) \(message)" }
}

/// Reads inventories: CycloneDX 1.5 and 1.6 JSON SBOMs (components, nested components too) and CSV
/// files with a header naming `vendor`, `product` (or `name`), `version`, `cpe` and `purl` columns.
public enum InventoryReader {
    /// At most this many components in one file.
    public static let limit = 100_000

    public struct Read: Sendable, Equatable {
        public var format: String
        public var components: [InventoryComponent]
    }

    public static func read(_ data: Data, file: String) throws(InventoryProblem) -> Read {
        let start = data.prefix(64).drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }.first
        if start == UInt8(ascii: "{") { return try cycloneDX(data, file: file) }
        return try csv(data, file: file)
    }

    // MARK: CycloneDX

    public static func cycloneDX(_ data: Data, file: String) throws(InventoryProblem) -> Read {
        func fail(_ place: String, _ message: String) -> InventoryProblem { InventoryProblem(file: file, place: place, message: message) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw fail("", "is not JSON")
        }
        guard let bom = object as? [String: Any] else { throw fail("", "is not a JSON object") }
        guard bom["bomFormat"] as? String == "CycloneDX" else { throw fail("bomFormat", "must be \"CycloneDX\"") }
        guard let version = bom["specVersion"] as? String else { throw fail("specVersion", "is missing") }
        guard ["1.4", "1.5", "1.6"].contains(version) else { throw fail("specVersion", "'\(version)' is not read here: CycloneDX 1.4, 1.5 and 1.6 are") }
        var components: [InventoryComponent] = []
        func walk(_ value: Any?, _ path: String) throws(InventoryProblem) {
            guard let value else { return }
            guard let list = value as? [Any] else { throw fail(path, "must be a list") }
            for (index, item) in list.enumerated() {
                let place = "\(path)[\(index)]"
                guard let component = item as? [String: Any] else { throw fail(place, "must be an object") }
                guard let name = component["name"] as? String, !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(place + ".name", "is missing") }
                for key in ["version", "cpe", "purl", "group"] where component[key] != nil && !(component[key] is String) {
                    throw fail(place + "." + key, "must be text")
                }
                let supplier = (component["supplier"] as? [String: Any])?["name"] as? String
                let vendor = [component["publisher"] as? String, supplier, component["group"] as? String].compactMap { $0 }.first { !$0.isEmpty } ?? ""
                let cpe = (component["cpe"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                if let cpe, CPEName(cpe) == nil { throw fail(place + ".cpe", "'\(cpe)' is not a CPE 2.3 formatted string") }
                let purl = (component["purl"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                if let purl, PackageURL(purl) == nil { throw fail(place + ".purl", "'\(purl)' is not a package URL") }
                components.append(InventoryComponent(vendor: vendor, name: name, version: component["version"] as? String ?? "", cpe: cpe, purl: purl))
                guard components.count <= limit else { throw fail("components", "lists more than \(limit) components") }
                try walk(component["components"], place + ".components")
            }
        }
        try walk(bom["components"], "components")
        if let metadata = bom["metadata"] as? [String: Any], let top = metadata["component"] { try walk([top], "metadata.component") }
        return Read(format: "CycloneDX \(version)", components: components)
    }

    // MARK: CSV

    public static func csv(_ data: Data, file: String) throws(InventoryProblem) -> Read {
        guard let text = String(data: data, encoding: .utf8) else { throw InventoryProblem(file: file, place: "", message: "is not UTF-8 text") }
        let rows: [[String]]
        do {
            rows = try CSV.rows(text)
        } catch {
            throw InventoryProblem(file: file, place: "line \(error.line)", message: error.message)
        }
        guard let header = rows.first else { throw InventoryProblem(file: file, place: "", message: "is empty") }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "\u{FEFF}", with: "") }
        func column(_ candidates: String...) -> Int? { names.firstIndex { candidates.contains($0) } }
        guard let product = column("product", "name", "component") else {
            throw InventoryProblem(file: file, place: "line 1", message: "has no product (or name) column: the header names vendor, product, version, cpe, purl")
        }
        let vendor = column("vendor", "publisher", "supplier", "manufacturer")
        let version = column("version")
        let cpe = column("cpe")
        let purl = column("purl", "package url")
        var components: [InventoryComponent] = []
        for (index, row) in rows.enumerated().dropFirst() {
            func value(_ column: Int?) -> String {
                guard let column, column < row.count else { return "" }
                return row[column].trimmingCharacters(in: .whitespaces)
            }
            if row.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            let place = "line \(index + 1)"
            guard !value(product).isEmpty else { throw InventoryProblem(file: file, place: place, message: "names no product") }
            let cpeText = value(cpe)
            if !cpeText.isEmpty, CPEName(cpeText) == nil { throw InventoryProblem(file: file, place: place, message: "'\(cpeText)' is not a CPE 2.3 formatted string") }
            let purlText = value(purl)
            if !purlText.isEmpty, PackageURL(purlText) == nil { throw InventoryProblem(file: file, place: place, message: "'\(purlText)' is not a package URL") }
            components.append(
                InventoryComponent(
                    vendor: value(vendor), name: value(product), version: value(version), cpe: cpeText.isEmpty ? nil : cpeText, purl: purlText.isEmpty ? nil : purlText))
            guard components.count <= limit else { throw InventoryProblem(file: file, place: place, message: "is past the limit of \(limit) components") }
        }
        return Read(format: "CSV", components: components)
    }
}

/// A CPE 2.3 formatted string (NISTIR 7695): `cpe:2.3:part:vendor:product:version:…`, eleven
/// attributes after the prefix, `\` escaping the next character.
public struct CPEName: Sendable, Hashable {
    public let part: String
    public let vendor: String
    public let product: String
    public let version: String

    public init?(_ text: String) {
        guard text.hasPrefix("cpe:2.3:") else { return nil }
        var fields: [String] = []
        fields.reserveCapacity(11)
        var current: [UInt8] = []
        var escaped = false
        for byte in text.utf8.dropFirst(8) {
            if escaped {
                current.append(byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: ":") {
                fields.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        guard !escaped else { return nil }
        fields.append(String(decoding: current, as: UTF8.self))
        guard fields.count == 11, ["a", "o", "h", "*"].contains(fields[0]), !fields[1].isEmpty, !fields[2].isEmpty else { return nil }
        part = fields[0]
        vendor = fields[1].lowercased()
        product = fields[2].lowercased()
        version = fields[3]
    }

    /// The version, unless it is any (`*`) or not applicable (`-`).
    public var specificVersion: String? { version == "*" || version == "-" || version.isEmpty ? nil : version }
}

/// A package URL (github.com/package-url/purl-spec): `pkg:type/namespace/name@version?qualifiers#subpath`.
public struct PackageURL: Sendable, Hashable {
    public let type: String
    public let namespace: String
    public let name: String
    public let version: String?

    public init?(_ text: String) {
        guard text.hasPrefix("pkg:") else { return nil }
        var rest = Substring(text.dropFirst(4))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let question = rest.firstIndex(of: "?") { rest = rest[..<question] }
        var version: String?
        if let at = rest.lastIndex(of: "@") {
            version = String(rest[rest.index(after: at)...]).removingPercentEncoding
            rest = rest[..<at]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 2, let type = parts.first, type.allSatisfy({ $0.isLetter || $0.isNumber || ".+-".contains($0) }) else { return nil }
        self.type = type.lowercased()
        guard let name = parts.last?.removingPercentEncoding, !name.isEmpty else { return nil }
        // Types whose names are case-insensitive (the specification's list) compare in lower case.
        let folded = ["npm", "pypi", "github", "bitbucket", "composer", "deb", "apk", "golang", "hex"].contains(self.type)
        self.name = folded ? name.lowercased() : name
        let namespace = parts.dropFirst().dropLast().compactMap { $0.removingPercentEncoding }.joined(separator: "/")
        self.namespace = folded ? namespace.lowercased() : namespace
        self.version = version.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The package without its version: what matching compares.
    public var key: String { "\(type)/\(namespace)/\(name)" }
}

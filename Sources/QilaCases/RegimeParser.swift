import Foundation
import QilaCore
import Yams

/// A regime file Qila cannot use, with the file, line and key at fault.
public struct RegimeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var file: String?
    public var line: Int?
    public var key: String?

    public var description: String { placed(message, file: file, line: line, key: key) }
}

/// Reads reporting regimes from YAML and checks them whole: every stage's deadline, anchor and
/// fields, every question, the time zone. A regime either loads completely or not at all.
public enum RegimeParser {
    public static func parse(_ yaml: String, file: String? = nil) throws(RegimeError) -> ReportingRegime {
        let node: Node
        do {
            guard let root = try Yams.compose(yaml: yaml) else { throw RegimeError(message: "the file is empty", file: file) }
            node = root
        } catch let error as RegimeError {
            throw error
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                throw RegimeError(message: "not valid YAML: \(problem)", file: file, line: mark.line)
            default:
                throw RegimeError(message: "not valid YAML: \(error)", file: file)
            }
        } catch {
            throw RegimeError(message: "not valid YAML: \(error)", file: file)
        }
        func fail(_ message: String, _ at: Node?, _ key: String) -> RegimeError {
            RegimeError(message: message, file: file, line: at?.mark?.line, key: key)
        }
        guard let root = node.mapping else { throw fail("a regime is a mapping of keys", node, "(document)") }
        let known: Set<String> = ["id", "title", "basis", "timeZone", "personalData", "publicIntake", "sectors", "significance", "reportableWhen", "stages", "fields"]
        for key in root.keys where !known.contains(key.string ?? "") {
            throw fail("unknown key; a regime has \(known.sorted().joined(separator: ", "))", key, key.string ?? "?")
        }
        func text(_ mapping: Node.Mapping, _ key: String, path: String, required: Bool = true) throws(RegimeError) -> String? {
            guard let value = mapping[key] else {
                if required { throw fail("is required", Node.mapping(mapping), "\(path)\(key)") }
                return nil
            }
            guard let string = value.string, !string.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("must be non-empty text", value, "\(path)\(key)")
            }
            return string
        }
        func identifier(_ value: String, _ at: Node?, _ key: String) throws(RegimeError) -> String {
            guard value.count <= 64, value.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }) else {
                throw fail("'\(value)' must be letters, digits, - or _ (at most 64)", at, key)
            }
            return value
        }
        let id = try identifier(try text(root, "id", path: "")!, root["id"], "id")
        let title = try text(root, "title", path: "")!
        let basis = try text(root, "basis", path: "", required: false) ?? ""
        let zoneName = try text(root, "timeZone", path: "", required: false) ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw fail("'\(zoneName)' is not an IANA time zone (for example Asia/Karachi)", root["timeZone"], "timeZone")
        }
        var publicIntake = false
        if let node = root["publicIntake"] {
            guard let value = node.bool else { throw fail("must be true or false", node, "publicIntake") }
            publicIntake = value
        }
        var personalData = false
        if let node = root["personalData"] {
            guard let value = node.bool else { throw fail("must be true or false", node, "personalData") }
            personalData = value
        }
        var sectors: [String] = []
        if let node = root["sectors"] {
            guard let list = node.sequence?.compactMap(\.string), list.count == node.sequence?.count else {
                throw fail("must be a list of sector names", node, "sectors")
            }
            sectors = list
        }
        var combination = ReportingRegime.Combination.any
        if let node = root["reportableWhen"] {
            guard let value = node.string.flatMap(ReportingRegime.Combination.init(rawValue:)) else {
                throw fail("must be any or all", node, "reportableWhen")
            }
            combination = value
        }
        // Fields defined here, then questions, then stages (which name fields and earlier stages).
        var fields: [ReportingRegime.Field] = []
        if let node = root["fields"] {
            guard let list = node.sequence else { throw fail("must be a list of fields", node, "fields") }
            for (index, item) in list.enumerated() {
                let path = "fields[\(index)]."
                guard let mapping = item.mapping else { throw fail("must be a mapping with id, label and type", item, "fields[\(index)]") }
                let fieldID = try identifier(try text(mapping, "id", path: path)!, mapping["id"], path + "id")
                guard !fields.contains(where: { $0.id == fieldID }) else { throw fail("field '\(fieldID)' is defined twice", mapping["id"], path + "id") }
                let label = try text(mapping, "label", path: path)!
                let type = try text(mapping, "type", path: path)!
                let kind: ReportingRegime.Field.Kind
                switch type {
                case "text": kind = .text(maximum: mapping["maximum"]?.int ?? 4000)
                case "number": kind = .number(minimum: mapping["minimum"]?.float, maximum: mapping["maximum"]?.float)
                case "boolean": kind = .boolean
                case "datetime": kind = .dateTime
                case "choice":
                    guard let options = mapping["options"]?.sequence?.compactMap(\.string), !options.isEmpty else {
                        throw fail("a choice needs a list of options", mapping["options"] ?? item, path + "options")
                    }
                    kind = .choice(options)
                default: throw fail("'\(type)' is not text, number, boolean, datetime or choice", mapping["type"], path + "type")
                }
                fields.append(.init(id: fieldID, label: label, kind: kind, help: mapping["help"]?.string))
            }
        }
        var questions: [ReportingRegime.Question] = []
        if let node = root["significance"] {
            guard let list = node.sequence else { throw fail("must be a list of questions", node, "significance") }
            for (index, item) in list.enumerated() {
                let path = "significance[\(index)]."
                guard let mapping = item.mapping else { throw fail("must be a mapping with id and question", item, "significance[\(index)]") }
                let questionID = try identifier(try text(mapping, "id", path: path)!, mapping["id"], path + "id")
                guard !questions.contains(where: { $0.id == questionID }) else { throw fail("question '\(questionID)' is asked twice", mapping["id"], path + "id") }
                questions.append(.init(id: questionID, text: try text(mapping, "question", path: path)!))
            }
        }
        guard let stageList = root["stages"]?.sequence, !stageList.isEmpty else {
            throw fail("a regime needs at least one stage", root["stages"] ?? node, "stages")
        }
        var stages: [ReportingRegime.Stage] = []
        for (index, item) in stageList.enumerated() {
            let path = "stages[\(index)]."
            guard let mapping = item.mapping else { throw fail("must be a mapping with id, title and due", item, "stages[\(index)]") }
            let stageID = try identifier(try text(mapping, "id", path: path)!, mapping["id"], path + "id")
            guard !stages.contains(where: { $0.id == stageID }) else { throw fail("stage '\(stageID)' is defined twice", mapping["id"], path + "id") }
            let stageTitle = try text(mapping, "title", path: path)!
            let dueText = try text(mapping, "due", path: path)!
            let due: ReportingRegime.Due
            do {
                due = try parseDue(dueText, earlier: Set(stages.map(\.id)))
            } catch {
                throw fail(error.text, mapping["due"], path + "due")
            }
            var onRequest = false
            if let node = mapping["onRequest"] {
                guard let value = node.bool else { throw fail("must be true or false", node, path + "onRequest") }
                onRequest = value
            }
            if case .request = due.anchor, !onRequest {
                throw fail("only an on-request stage (onRequest: true) can be due after the request", mapping["due"], path + "due")
            }
            var stageFields: [String] = []
            if let node = mapping["fields"] {
                guard let list = node.sequence else { throw fail("must be a list of field ids", node, path + "fields") }
                for field in list {
                    guard let name = field.string else { throw fail("a field id is text", field, path + "fields") }
                    guard fields.contains(where: { $0.id == name }) || FieldCatalogue.fields[name] != nil else {
                        throw fail("unknown field '\(name)': define it under fields: or use one of \(FieldCatalogue.fields.keys.sorted().joined(separator: ", "))", field, path + "fields")
                    }
                    stageFields.append(name)
                }
            }
            stages.append(.init(id: stageID, title: stageTitle, due: due, onRequest: onRequest, fields: stageFields))
        }
        var regime = ReportingRegime(
            id: id, title: title, basis: basis, timeZone: zone, personalData: personalData, sectors: sectors, significance: questions,
            reportableWhen: combination, stages: stages, fields: fields)
        regime.publicIntake = publicIntake
        return regime
    }

    struct DueError: Error { var text: String }

    /// `AMOUNT UNIT after ANCHOR`: units `min`, `h`, `d`, `w`, `month(s)`; anchors `awareness`,
    /// `request`, or the id of an earlier stage.
    static func parseDue(_ text: String, earlier: Set<String>) throws(DueError) -> ReportingRegime.Due {
        let parts = text.lowercased().split(separator: " ").map(String.init)
        guard let after = parts.firstIndex(of: "after"), after + 2 == parts.count, after >= 1 else {
            throw DueError(text: "'\(text)' is not AMOUNT UNIT after ANCHOR (for example 72h after awareness)")
        }
        var quantity = parts[0..<after].joined()
        var unit: ReportingRegime.Due.Unit?
        for (suffix, candidate) in [("months", ReportingRegime.Due.Unit.months), ("month", .months), ("min", .minutes), ("h", .hours), ("d", .days), ("w", .weeks)]
        where quantity.hasSuffix(suffix) {
            unit = candidate
            quantity.removeLast(suffix.count)
            break
        }
        guard let unit, let amount = Int(quantity), amount > 0, amount <= 100_000 else {
            throw DueError(text: "'\(parts[0..<after].joined(separator: " "))' is not a positive amount with a unit (min, h, d, w, month)")
        }
        let anchorText = text.split(separator: " ").last.map(String.init) ?? ""
        let anchor: ReportingRegime.Due.Anchor
        switch anchorText.lowercased() {
        case "awareness": anchor = .awareness
        case "request": anchor = .request
        default:
            guard earlier.contains(anchorText) else {
                throw DueError(text: "'\(anchorText)' is not awareness, request or an earlier stage (\(earlier.sorted().joined(separator: ", ")))")
            }
            anchor = .stage(anchorText)
        }
        return ReportingRegime.Due(amount: amount, unit: unit, anchor: anchor)
    }

    /// The regimes Qila ships: national default, EU NIS2 article 23, India CERT-In, personal-data
    /// breach, telecom.
    public static func presets() throws(RegimeError) -> [ReportingRegime] {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("regimes") else {
            throw RegimeError(message: "the shipped regimes are missing from the QilaCases bundle")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        var regimes: [ReportingRegime] = []
        for name in names {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                throw RegimeError(message: "cannot be read", file: name)
            }
            regimes.append(try parse(text, file: name))
        }
        return regimes
    }
}

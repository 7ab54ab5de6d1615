public import Foundation
import QilaCore

/// A value given for a field of a report stage, after checking.
public enum FieldValue: Sendable, Hashable, Codable {
    case text(String)
    case number(Double)
    case boolean(Bool)
    case dateTime(Date)
}

/// What was wrong with one field of a submission.
public struct FieldProblem: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(message) (field \(field))" }
}

extension ReportingRegime {
    /// Checks the values given for `stage` against the fields it requires: every field present and
    /// of its type, within its bounds. Returns the checked values, or every problem found, each
    /// naming its field, so that a form can show them all at once. Unknown fields are refused too.
    public func check(stage stageID: String, values: [String: String]) -> Result<[String: FieldValue], CheckFailure> {
        guard let stage = stages.first(where: { $0.id == stageID }) else {
            return .failure(CheckFailure(problems: [FieldProblem(field: "stage", message: "'\(stageID)' is not a stage of \(title)")]))
        }
        var problems: [FieldProblem] = []
        var checked: [String: FieldValue] = [:]
        for name in values.keys.sorted() where !stage.fields.contains(name) {
            problems.append(FieldProblem(field: name, message: "\(stage.title) does not ask for this"))
        }
        for name in stage.fields {
            guard let field = field(name) else { continue }
            let raw = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if raw.isEmpty {
                if case .boolean = field.kind { checked[name] = .boolean(false); continue }
                problems.append(FieldProblem(field: name, message: "\(field.label) is required"))
                continue
            }
            switch field.kind {
            case .text(let maximum):
                if raw.count > maximum { problems.append(FieldProblem(field: name, message: "\(field.label) is longer than \(maximum) characters")) }
                else { checked[name] = .text(raw) }
            case .number(let minimum, let maximum):
                guard let number = Double(raw), number.isFinite else {
                    problems.append(FieldProblem(field: name, message: "\(field.label): '\(raw.prefix(30))' is not a number"))
                    continue
                }
                if let minimum, number < minimum { problems.append(FieldProblem(field: name, message: "\(field.label) is at least \(Self.show(minimum))")); continue }
                if let maximum, number > maximum { problems.append(FieldProblem(field: name, message: "\(field.label) is at most \(Self.show(maximum))")); continue }
                checked[name] = .number(number)
            case .boolean:
                switch raw.lowercased() {
                case "1", "true", "yes", "on": checked[name] = .boolean(true)
                case "0", "false", "no", "off": checked[name] = .boolean(false)
                default: problems.append(FieldProblem(field: name, message: "\(field.label) is yes or no"))
                }
            case .choice(let options):
                if options.contains(raw) { checked[name] = .text(raw) }
                else { problems.append(FieldProblem(field: name, message: "\(field.label) is one of \(options.joined(separator: ", "))")) }
            case .dateTime:
                if let date = RFC3339.parse(raw) { checked[name] = .dateTime(date) }
                else { problems.append(FieldProblem(field: name, message: "\(field.label): '\(raw.prefix(40))' is not a date and time (2026-11-23T10:00Z)")) }
            }
        }
        return problems.isEmpty ? .success(checked) : .failure(CheckFailure(problems: problems))
    }

    static func show(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

public struct CheckFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [FieldProblem]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

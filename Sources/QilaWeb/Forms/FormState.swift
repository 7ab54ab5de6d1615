import Foundation
import QilaCore

/// A form as its page shows it again after a refusal: every value typed or chosen, and the
/// error beside each field. Kept between the refused POST and the GET that follows it
/// (`RefusedForms`), so a reload never submits twice and nothing typed is lost.
struct FormState: Codable, Sendable, Equatable {
    /// Which form this is (`warrant.record`): a page shows only its own form's state.
    var form: String
    var values: [String: [String]]
    /// Field name → what is wrong with it, as a sentence that names the field by its label.
    var errors: [String: String] = [:]
    /// A refusal that names no field (a conflict, a policy answer).
    var summary: String?

    init(form: String, values: [String: [String]] = [:], errors: [String: String] = [:], summary: String? = nil) {
        self.form = form
        self.values = values
        self.errors = errors
        self.summary = summary
    }

    init(form: String, fields: FormFields) {
        self.init(form: form, values: fields.values)
    }

    var isRefused: Bool { !errors.isEmpty || summary != nil }

    func value(_ name: String) -> String { values[name]?.first ?? "" }

    func values(_ name: String) -> [String] { values[name] ?? [] }

    /// Records `error` beside the field it names (worded with the field's label from `labels`),
    /// or as the summary when it names none of this form's fields.
    /// `renamed` maps a desk's field name to the form's where they differ (`roles` → `role`).
    mutating func refuse(_ error: QilaError, labels: [String: String], renamed: [String: String] = [:]) {
        if let named = error.field, case let field = renamed[named] ?? named, let label = labels[field] {
            errors[field] = Self.sentence(label: label, error.message)
        } else {
            summary = Self.sentence(label: nil, error.message)
        }
    }

    /// A desk's message as a sentence about the field: "is required" becomes "Court is required.",
    /// "choose the provider …" becomes "Choose the provider ….".
    static func sentence(label: String?, _ message: String) -> String {
        var text = message.trimmingCharacters(in: .whitespaces)
        let aboutTheField = ["is ", "are ", "must ", "has ", "have ", "was ", "cannot ", "should ", "does ", "names ", "needs "]
        if let label, aboutTheField.contains(where: { text.hasPrefix($0) }) {
            text = Self.plainLabel(label) + " " + text
        } else if let first = text.first {
            text = first.uppercased() + text.dropFirst()
        }
        if let last = text.last, !".?!".contains(last) { text += "." }
        return text
    }

    /// "Expires (UTC)" → "Expires": the label without its note on units or format.
    static func plainLabel(_ label: String) -> String {
        guard let open = label.firstIndex(of: "(") else { return label }
        return label[..<open].trimmingCharacters(in: .whitespaces)
    }
}

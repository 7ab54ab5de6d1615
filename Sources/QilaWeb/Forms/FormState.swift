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

    /// Records `error` beside the field of `fields` it names (worded with that field's label), or
    /// as the summary when it names none of them. `renamed` maps a desk's field name to the
    /// form's where they differ (`roles` → `role`).
    mutating func refuse(_ error: QilaError, fields: [FieldView], renamed: [String: String] = [:]) {
        let field = error.field.map { renamed[$0] ?? $0 }
        if let field, let label = fields.first(where: { $0.name == field })?.label {
            errors[field] = error.sentence(naming: Self.plainLabel(label))
        } else {
            summary = error.sentence(naming: nil)
        }
    }

    /// A desk's message as a sentence about the field labelled `label` (`QilaError.sentence`),
    /// the label without its note on units or format.
    static func sentence(label: String?, _ message: String) -> String {
        QilaError(.invalidInput, message).sentence(naming: label.map(plainLabel))
    }

    /// "Expires (UTC)" → "Expires": the label without its note on units or format.
    static func plainLabel(_ label: String) -> String {
        guard let open = label.firstIndex(of: "(") else { return label }
        return label[..<open].trimmingCharacters(in: .whitespaces)
    }
}

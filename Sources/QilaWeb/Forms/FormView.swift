import Foundation

/// One field as the `field` partial draws it: the label (with the required mark), the hint, the
/// error between the label and the control, and the control holding what was typed or chosen.
struct FieldView: Sendable {
    enum Control: Sendable {
        case text(type: String = "text")
        case textarea(rows: Int)
        case select([Option])
        case checkbox(value: String = "1")
        case checkboxes([Option])
    }

    struct Option: Sendable {
        var value: String
        var label: String
        var selected = false
    }

    let name: String
    /// The element's id: the name, unless two forms on one page share a field name.
    let id: String
    let label: String
    let hint: String?
    let fieldError: String?
    let required: Bool
    let value: String
    // What the template switches on (Mustache has no enums).
    let isInput: Bool
    let inputType: String
    let isTextarea: Bool
    let rows: Int
    let isSelect: Bool
    let isCheckbox: Bool
    let checked: Bool
    let isCheckboxes: Bool
    let options: [Option]
    let autocomplete: String?
    /// The ids of the hint and error, for `aria-describedby`.
    let describedBy: String?

    /// A field of `form`, holding its value from `state` (or `initial` when the form is fresh).
    init(
        _ name: String, label: String, control: Control = .text(), hint: String? = nil, required: Bool = false,
        state: FormState?, initial: String = "", autocomplete: String? = nil, id: String? = nil
    ) {
        self.name = name
        self.id = id ?? name
        self.label = label
        self.hint = hint
        self.required = required
        self.autocomplete = autocomplete
        let typed = state.map { $0.values[name] != nil ? $0.value(name) : ($0.isRefused ? "" : initial) } ?? initial
        let chosen = state?.values[name].map(Set.init) ?? (initial.isEmpty ? [] : [initial])
        var shown = typed
        fieldError = state?.errors[name]
        var isInput = false, inputType = "text", isTextarea = false, rows = 0, isSelect = false
        var isCheckbox = false, checked = false, isCheckboxes = false, options: [Option] = []
        switch control {
        case .text(let type):
            isInput = true
            inputType = type
        case .textarea(let count):
            isTextarea = true
            rows = count
        case .select(let choices):
            isSelect = true
            options = choices.map { Option(value: $0.value, label: $0.label, selected: chosen.contains($0.value)) }
        case .checkbox(let on):
            isCheckbox = true
            // A refused form without the box means it was left unticked.
            checked = state?.isRefused == true ? state?.values(name).contains(on) == true : initial == on
            shown = on
        case .checkboxes(let choices):
            isCheckboxes = true
            options = choices.map { Option(value: $0.value, label: $0.label, selected: chosen.contains($0.value) || $0.selected && state == nil) }
        }
        value = shown
        self.isInput = isInput
        self.inputType = inputType
        self.isTextarea = isTextarea
        self.rows = rows
        self.isSelect = isSelect
        self.isCheckbox = isCheckbox
        self.checked = checked
        self.isCheckboxes = isCheckboxes
        self.options = options
        let ids = [hint == nil ? nil : "\(self.id)-hint", fieldError == nil ? nil : "\(self.id)-error"].compactMap { $0 }
        describedBy = ids.isEmpty ? nil : ids.joined(separator: " ")
    }
}

/// A whole form for the `form` partial: the summary of what was refused (each entry a link to
/// its field), the fields, and the submit button. The CSRF token comes from the page.
struct FormView: Sendable {
    struct ErrorLink: Sendable {
        var field: String
        var message: String
    }

    let action: String
    let submit: String
    let fields: [FieldView]
    let summary: String?
    let errorLinks: [ErrorLink]
    let hasErrors: Bool
    let enctype: String?
    /// The form element's id, for links and tests.
    let id: String?

    init(action: String, submit: String, fields: [FieldView], state: FormState?, enctype: String? = nil, id: String? = nil) {
        self.id = id
        self.action = action
        self.submit = submit
        self.fields = fields
        self.enctype = enctype
        summary = state?.summary
        // In the order the fields appear, so the summary reads down the form.
        errorLinks = fields.compactMap { field in field.fieldError.map { ErrorLink(field: field.id, message: $0) } }
        hasErrors = summary != nil || !errorLinks.isEmpty
    }
}

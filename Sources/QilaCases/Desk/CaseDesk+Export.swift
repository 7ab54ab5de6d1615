public import Foundation
public import QilaAccess
public import QilaCore

/// Cases as a spreadsheet: the list a person filtered, every row of it, recorded in the audit log.
extension CaseDesk {
    public static let csvHeader =
        "number,organisation,sector,title,status,severity,tlp,pap,classification,peca_sections,personal_data,awareness,submitted,updated,on_behalf"

    /// The lines of a CSV file (header first) of `cases`, which the caller has already limited to
    /// what `subject` may read. The export is audited with its row count.
    public func exportCSV(_ cases: [IncidentCase], by subject: Subject, source: String?) async throws -> [String] {
        let names = Dictionary(uniqueKeysWithValues: try await store.organisations().map { ($0.id, $0.name) })
        var lines = [Self.csvHeader]
        for c in cases {
            let fields = [
                c.number, names[c.organisation] ?? "", c.sector.rawValue, c.title, c.status.rawValue, c.severity?.rawValue ?? "", c.tlp.rawValue, c.pap,
                c.classification ?? "", c.offences.map(String.init).joined(separator: " "), c.personalData ? "yes" : "no", RFC3339.format(c.awareness),
                c.submittedAt.map(RFC3339.format) ?? "", RFC3339.format(c.updatedAt), c.onBehalf ? "yes" : "no",
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        try await audit.recordChange(by: subject, "case.export.csv", resource: "cases", source: source, details: ["rows": String(cases.count)])
        return lines
    }

    /// RFC 4180 quoting, formulas defused (`CSV.field`).
    public static func csvField(_ value: String) -> String { CSV.field(value) }
}

public import Foundation

/// A legal reporting regime: the stages an incident report goes through, when each is due, the
/// fields each requires, and the questions that decide whether an incident must be reported at
/// all. Regimes are configuration (YAML), shipped as presets and definable by the authority.
public struct ReportingRegime: Sendable, Hashable, Identifiable {
    public var id: String
    public var title: String
    /// The law or instrument it implements, for people reading the report.
    public var basis: String
    /// Where calendar deadlines (days, months) are counted; hours are counted as elapsed time.
    public var timeZone: TimeZone
    /// A personal-data breach regime: added to a report that flags a personal-data breach.
    public var personalData: Bool
    /// Filed by the public portal only (citizens' complaints): never offered to reporters, and
    /// refused when a reporter names it.
    public var publicIntake: Bool = false
    /// Sectors whose organisations report under this regime unless told otherwise.
    public var sectors: [String]
    public var significance: [Question]
    /// `any`: one yes makes the incident reportable; `all`: every answer must be yes.
    public var reportableWhen: Combination
    public var stages: [Stage]
    /// Fields this regime defines beyond the built-in catalogue.
    public var fields: [Field]

    public enum Combination: String, Sendable, Hashable { case any, all }

    public struct Question: Sendable, Hashable {
        public var id: String
        public var text: String
    }

    public struct Stage: Sendable, Hashable {
        public var id: String
        public var title: String
        public var due: Due
        /// Asked for by the authority rather than always due (NIS2's intermediate report).
        public var onRequest: Bool
        public var fields: [String]
    }

    /// "24h after awareness", "1 month after notification", "14d after request".
    public struct Due: Sendable, Hashable, CustomStringConvertible {
        public enum Unit: String, Sendable, Hashable { case minutes, hours, days, weeks, months }
        public enum Anchor: Sendable, Hashable {
            /// When the organisation became aware of the incident.
            case awareness
            /// When the authority asked for the stage (on-request stages).
            case request
            /// When another stage was submitted (or, while it is not, when it was due).
            case stage(String)
        }

        public var amount: Int
        public var unit: Unit
        public var anchor: Anchor

        public var description: String {
            let anchorText: String
            switch anchor {
            case .awareness: anchorText = "awareness"
            case .request: anchorText = "request"
            case .stage(let id): anchorText = id
            }
            let unitText: String
            switch unit {
            case .minutes: unitText = "min"
            case .hours: unitText = "h"
            case .days: unitText = "d"
            case .weeks: unitText = "w"
            case .months: unitText = amount == 1 ? " month" : " months"
            }
            return "\(amount)\(unitText) after \(anchorText)"
        }

        /// The moment `self` falls due after `start`. Minutes and hours are elapsed time, the
        /// same in every zone; days, weeks and months are calendar steps in `zone`, so that "one
        /// day after 10:00" is 10:00 the next day even across a daylight-saving change, and "one
        /// month after 31 January" is the last day of February.
        public func date(after start: Date, in zone: TimeZone) -> Date {
            switch unit {
            case .minutes: return start.addingTimeInterval(Double(amount) * 60)
            case .hours: return start.addingTimeInterval(Double(amount) * 3600)
            case .days, .weeks, .months:
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = zone
                var step = DateComponents()
                switch unit {
                case .days: step.day = amount
                case .weeks: step.day = amount * 7
                default: step.month = amount
                }
                return calendar.date(byAdding: step, to: start, wrappingComponents: false) ?? start
            }
        }
    }

    /// A field a stage can require. The built-in catalogue covers what the presets ask.
    public struct Field: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case text(maximum: Int)
            case number(minimum: Double?, maximum: Double?)
            case boolean
            case choice([String])
            case dateTime
        }

        public var id: String
        public var label: String
        public var kind: Kind
        public var help: String?
    }

    /// The field with `id`, from this regime or the catalogue.
    public func field(_ id: String) -> Field? {
        fields.first { $0.id == id } ?? FieldCatalogue.fields[id]
    }

    /// Whether answers (question id → yes/no) make the incident reportable under this regime.
    public func isReportable(_ answers: [String: Bool]) -> Bool {
        guard !significance.isEmpty else { return true }
        switch reportableWhen {
        case .any: return significance.contains { answers[$0.id] == true }
        case .all: return significance.allSatisfy { answers[$0.id] == true }
        }
    }
}

/// The fields the presets use. A regime may define more (`fields:` in its YAML).
public enum FieldCatalogue {
    public static let fields: [String: ReportingRegime.Field] = {
        let list: [ReportingRegime.Field] = [
            .init(id: "summary", label: "What happened", kind: .text(maximum: 4000), help: "In plain words: what was seen, when, where"),
            .init(id: "suspectedMalicious", label: "Suspected to be caused by unlawful or malicious acts", kind: .boolean, help: nil),
            .init(id: "crossBorder", label: "Could have a cross-border impact", kind: .boolean, help: nil),
            .init(id: "severity", label: "Severity", kind: .choice(["low", "medium", "high", "critical"]), help: nil),
            .init(id: "impact", label: "Impact", kind: .text(maximum: 4000), help: "On services, users and other organisations"),
            .init(id: "indicators", label: "Indicators of compromise", kind: .text(maximum: 8000), help: "Addresses, domains, hashes; also as observables"),
            .init(id: "status", label: "Current status", kind: .text(maximum: 4000), help: nil),
            .init(id: "rootCause", label: "Root cause", kind: .text(maximum: 8000), help: "The type of threat and what made it possible"),
            .init(id: "mitigation", label: "Mitigation applied and ongoing", kind: .text(maximum: 8000), help: nil),
            .init(id: "crossBorderImpact", label: "Cross-border impact", kind: .text(maximum: 4000), help: nil),
            .init(id: "incidentTime", label: "When the incident began", kind: .dateTime, help: nil),
            .init(id: "affectedSystems", label: "Systems affected", kind: .text(maximum: 4000), help: nil),
            .init(id: "contact", label: "Point of contact", kind: .text(maximum: 400), help: "Name, role, telephone, e-mail"),
            // Telecom impact, as operators report it to their regulator
            .init(id: "usersAffected", label: "Users affected", kind: .number(minimum: 0, maximum: nil), help: "Subscribers or connections"),
            .init(id: "durationMinutes", label: "Duration (minutes)", kind: .number(minimum: 0, maximum: nil), help: nil),
            .init(id: "geographicArea", label: "Geographic area affected", kind: .text(maximum: 1000), help: "Provinces, districts, cities"),
            .init(id: "servicesAffected", label: "Services affected", kind: .text(maximum: 1000), help: "Voice, SMS, mobile data, fixed broadband, emergency calls"),
            .init(id: "networkElements", label: "Network elements affected", kind: .text(maximum: 1000), help: "Core, RAN, transmission, DNS, billing"),
            // Personal-data breach (GDPR article 33 style)
            .init(id: "dataCategories", label: "Categories of personal data", kind: .text(maximum: 2000), help: nil),
            .init(id: "dataSubjects", label: "Approximate number of people concerned", kind: .number(minimum: 0, maximum: nil), help: nil),
            .init(id: "dataRecords", label: "Approximate number of records concerned", kind: .number(minimum: 0, maximum: nil), help: nil),
            .init(id: "likelyConsequences", label: "Likely consequences for the people concerned", kind: .text(maximum: 4000), help: nil),
            .init(id: "measuresTaken", label: "Measures taken or proposed", kind: .text(maximum: 4000), help: "Including to mitigate possible adverse effects"),
            .init(id: "dataProtectionContact", label: "Data protection officer or contact", kind: .text(maximum: 400), help: nil),
            .init(id: "subjectsInformed", label: "The people concerned have been informed", kind: .boolean, help: nil),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }()
}

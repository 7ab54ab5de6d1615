import Foundation
import QilaCore
import QilaDetect
import QilaIngest

/// The sensors page: each sensor with its health, the day's events per hour, senders no sensor
/// has (for the authority), and the form to register one.
struct SensorsView: Sendable {
    struct Row: Sendable {
        var id, name, organisation, transport, format, mapping, source, lastSeen, refused, lastError: String
        var enabled, silent, canChange: Bool
        var events, lastHour: Int64
    }

    struct Unknown: Sendable {
        var source: String
        var count: Int64
    }

    let sensors: [Row]
    let hasSensors: Bool
    let chart: String
    let unknown: [Unknown]
    let showUnknown: Bool
    let message: String?
    let registerForm: FormView?

    static let registerFormName = "sensor.register"

    /// The register form's fields; also gives the labels that word the desk's errors.
    static func registerFields(organisations: [Organisation], accounts: [(User, Organisation)], state: FormState?) -> [FieldView] {
        [
            FieldView(
                "organisation", label: "Organisation", control: .select(organisations.map { .init(value: $0.id.description, label: $0.name) }),
                required: true, state: state, initial: organisations.count == 1 ? organisations[0].id.description : ""),
            FieldView("name", label: "Name", hint: "Unique within the organisation, at most \(SensorDesk.maximumName) characters.", required: true, state: state),
            FieldView(
                "transport", label: "Arrives as", control: .select(Sensor.Transport.allCases.map { .init(value: $0.rawValue, label: $0.title) }),
                required: true, state: state),
            FieldView(
                "format", label: "Each message holds", control: .select(Sensor.Format.allCases.map { .init(value: $0.rawValue, label: $0.title) }),
                required: true, state: state, initial: Sensor.Format.json.rawValue),
            FieldView(
                "mapping", label: "Field mapping", control: .select(FieldMapping.shippedNames.map { .init(value: $0, label: $0) }),
                hint: "How the messages' fields are named, for the rules. The log sources guide (docs/log-sources.md) says which mapping goes with which format.",
                required: true, state: state),
            FieldView(
                "addresses", label: "Source addresses or networks", hint: "Plain syslog only: addresses or CIDR networks, separated by commas (192.0.2.10, 198.51.100.0/24).",
                state: state),
            FieldView(
                "account", label: "Service account",
                control: .select([.init(value: "", label: "none")] + accounts.map { .init(value: $0.0.id.description, label: "\($0.0.username) (\($0.1.name))") }),
                hint: "HTTP and syslog over TLS: the account whose ingest token or client certificate the sensor uses.", state: state),
            FieldView(
                "rate", label: "Events per second allowed", control: .text(type: "number"), hint: "0 for the server's default.", state: state,
                initial: "0"),
        ]
    }

    init(
        sensors: [Row], chart: String, unknown: [Unknown], message: String?, creatable: [Organisation], accounts: [(User, Organisation)],
        state: FormState?
    ) {
        self.sensors = sensors
        hasSensors = !sensors.isEmpty
        self.chart = chart
        self.unknown = unknown
        showUnknown = !unknown.isEmpty
        self.message = message
        registerForm =
            creatable.isEmpty
            ? nil
            : FormView(
                action: "/sensors", submit: "Register sensor", fields: Self.registerFields(organisations: creatable, accounts: accounts, state: state),
                state: state, id: "add-sensor")
    }
}

public import Foundation
public import QilaAccess
public import QilaCore
import QilaDetect
public import QilaStore

/// Sensors, registered and switched on or off: the one place their rules live, for the sensors
/// page, the API and `qila sensors add`. Input is checked with the field named, the policy
/// decision point is asked, the change is stored and audited.
public struct SensorDesk: Sendable {
    public let store: SQLStore
    public let audit: AuditLog
    /// Longest name, in characters.
    public static let maximumName = 80

    public init(store: SQLStore, audit: AuditLog) {
        self.store = store
        self.audit = audit
    }

    public static func resource(_ organisation: Organisation) -> Resource {
        Resource(kind: .sensor, owner: organisation.id, sector: organisation.sector, reference: "sensors:\(organisation.id)")
    }

    /// The organisations whose sensors the subject may see, and all of them. When there are none
    /// the refusal is asked of the gate (and so recorded).
    public func organisations(readableBy subject: Subject, policy: PolicyDecisionPoint, gate: any AccessGate) async throws
        -> (readable: [Organisation], all: [Organisation])
    {
        let organisations = try await store.organisations()
        let readable = organisations.filter { policy.decide(subject, .read, Self.resource($0)).allowed }
        guard !readable.isEmpty else {
            try await gate.require(subject, .read, Self.resource(subject.organisation))
            throw QilaError(.forbidden, "sensors are shown to their organisation's administrators and the authority")
        }
        return (readable, organisations)
    }

    /// What a person types into the form or the command line.
    public struct Draft: Sendable {
        /// The organisation's id (or, from the command line, its exact name).
        public var organisation: String
        public var name: String
        public var transport: String
        public var format: String
        public var mapping: String
        /// Addresses or CIDR networks, separated by commas, spaces or lines.
        public var addresses: String
        /// The service account's id or username.
        public var account: String
        /// Events per second; empty is the server's default.
        public var rate: String

        public init(organisation: String, name: String, transport: String, format: String, mapping: String, addresses: String, account: String, rate: String) {
            self.organisation = organisation
            self.name = name
            self.transport = transport
            self.format = format
            self.mapping = mapping
            self.addresses = addresses
            self.account = account
            self.rate = rate
        }
    }

    /// Registers a sensor. `subject` nil is the operator at the server's own shell (`qila sensors
    /// add`), who holds the data directory and is not asked again.
    public func register(_ draft: Draft, by subject: Subject?, gate: any AccessGate, source: String? = nil) async throws -> Sensor {
        let wanted = draft.organisation.trimmingCharacters(in: .whitespaces)
        let organisations = try await store.organisations()
        guard let organisation = organisations.first(where: { $0.id.description == wanted.lowercased() || $0.name == wanted }) else {
            throw QilaError.invalid(wanted.isEmpty ? "choose the organisation the sensor belongs to" : "there is no organisation '\(wanted.prefix(80))'", field: "organisation")
        }
        guard organisation.kind != .authority else {
            throw QilaError.invalid("sensors belong to the organisations that send telemetry, not to the authority", field: "organisation")
        }
        if let subject { try await gate.require(subject, .create, Self.resource(organisation)) }
        let name = draft.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw QilaError.invalid("is required", field: "name") }
        guard name.count <= Self.maximumName else { throw QilaError.invalid("is longer than \(Self.maximumName) characters", field: "name") }
        guard name.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw QilaError.invalid("cannot hold control characters", field: "name")
        }
        guard let transport = Sensor.Transport(rawValue: draft.transport) else {
            throw QilaError.invalid("choose how events arrive: \(Sensor.Transport.allCases.map(\.rawValue).joined(separator: ", "))", field: "transport")
        }
        guard let format = Sensor.Format(rawValue: draft.format) else {
            throw QilaError.invalid("choose what each message holds: \(Sensor.Format.allCases.map(\.rawValue).joined(separator: ", "))", field: "format")
        }
        guard FieldMapping.shippedNames.contains(draft.mapping) else {
            throw QilaError.invalid("choose a field mapping: \(FieldMapping.shippedNames.joined(separator: ", "))", field: "mapping")
        }
        let addresses = draft.addresses.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        if let bad = addresses.first(where: { AddressRange($0) == nil }) {
            throw QilaError.invalid("'\(bad.prefix(60))' is not an address or CIDR network", field: "addresses")
        }
        if transport == .syslog && addresses.isEmpty {
            throw QilaError.invalid("are needed for plain syslog, which is recognised by its source: give at least one", field: "addresses")
        }
        var account: UserID?
        if transport != .syslog {
            let chosen = draft.account.trimmingCharacters(in: .whitespaces)
            let user: User? =
                if let id = UserID(chosen) { try await store.user(id) } else if chosen.isEmpty { nil } else { try await store.user(username: chosen) }
            guard let user, user.organisation == organisation.id, user.kind == .service, !user.disabled else {
                throw QilaError.invalid("HTTP and TLS sensors send as an enabled service account of \(organisation.name): choose one", field: "account")
            }
            account = user.id
        }
        let rateText = draft.rate.trimmingCharacters(in: .whitespaces)
        guard let rate = rateText.isEmpty ? 0 : Int(rateText), rate >= 0 else {
            throw QilaError.invalid("is a whole number of events per second, 0 for the server's default", field: "rate")
        }
        let sensor = Sensor(
            organisation: organisation.id, name: name, transport: transport, format: format, mapping: draft.mapping, account: account,
            addresses: addresses, rateLimit: rate, createdBy: subject?.user.id)
        do {
            try await store.createSensor(sensor)
        } catch let error as StoreError where error.code == .conflict {
            throw QilaError.invalid("is taken: \(organisation.name) already has a sensor named '\(name)'", field: "name")
        }
        try await log(subject, "sensor.create", sensor, source: source, ["organisation": organisation.id.description, "transport": transport.rawValue])
        return sensor
    }

    /// Switches a sensor on or off.
    public func setEnabled(_ id: Sensor.ID, _ enabled: Bool, by subject: Subject?, gate: any AccessGate, source: String? = nil) async throws -> Sensor {
        guard var sensor = try await store.sensor(id), let organisation = try await store.organisation(sensor.organisation) else {
            throw QilaError(.notFound, "no such sensor")
        }
        if let subject { try await gate.require(subject, .update, Self.resource(organisation)) }
        guard sensor.enabled != enabled else { return sensor }
        sensor.enabled = enabled
        try await store.updateSensor(sensor)
        try await log(subject, enabled ? "sensor.enable" : "sensor.disable", sensor, source: source, [:])
        return sensor
    }

    func log(_ subject: Subject?, _ action: String, _ sensor: Sensor, source: String?, _ details: [String: String]) async throws {
        try await audit.recordChange(by: subject, action, resource: "sensor:\(sensor.id)", source: source, details: details)
    }
}

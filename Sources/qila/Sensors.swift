import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaDetect
import QilaIngest
import QilaStore

struct Sensors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register telemetry sensors and issue their intake tokens from the server's own shell.",
        discussion: "The /sensors page does the same for administrators; changes reach a running server within seconds.",
        subcommands: [Add.self, List.self, Token.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a sensor to an organisation.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The organisation's id or exact name.") var organisation: String
        @Option(help: "A name, unique within the organisation.") var name: String
        @Option(help: "How events arrive: \(Sensor.Transport.allCases.map(\.rawValue).joined(separator: ", ")).") var transport: String
        @Option(help: "What each message or line holds: \(Sensor.Format.allCases.map(\.rawValue).joined(separator: ", ")). Default: json.") var format = "json"
        @Option(help: "The field mapping rules are compiled for: \(FieldMapping.shippedNames.joined(separator: ", ")).") var mapping: String
        @Option(name: .customLong("address"), help: "Source address or network (CIDR) of plain syslog (repeatable).") var addresses: [String] = []
        @Option(help: "Username of the service account whose token or certificate the sensor uses (HTTP, syslog over TLS).") var account: String?
        @Option(help: "Events per second before the sensor is slowed or refused (0: the server's default).") var rate = 0

        func run() async throws {
            guard let transport = Sensor.Transport(rawValue: transport) else { throw ValidationError("--transport must be one of \(Sensor.Transport.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard let format = Sensor.Format(rawValue: format) else { throw ValidationError("--format must be one of \(Sensor.Format.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard FieldMapping.shippedNames.contains(mapping) else { throw ValidationError("--mapping must be one of \(FieldMapping.shippedNames.joined(separator: ", "))") }
            for address in addresses where AddressRange(address) == nil { throw ValidationError("--address \(address) is not an address or CIDR network") }
            if transport == .syslog && addresses.isEmpty { throw ValidationError("a syslog sensor needs at least one --address") }
            if transport != .syslog && account == nil { throw ValidationError("an \(transport.rawValue) sensor needs --account (its service account)") }
            let installation = try await storage.open()
            let store = installation.store
            let organisations = try await store.organisations()
            guard let target = organisations.first(where: { $0.id.description == organisation.lowercased() || $0.name == organisation }) else {
                throw fail("no organisation '\(organisation)'; see `qila admin list-organisations`")
            }
            var accountID: UserID?
            if let account {
                guard let user = try await store.user(username: account), user.organisation == target.id else {
                    throw fail("no account '\(account)' in \(target.name)")
                }
                accountID = user.id
            }
            let sensor = Sensor(
                organisation: target.id, name: name, transport: transport, format: format, mapping: mapping, account: accountID,
                addresses: addresses, rateLimit: rate, createdBy: nil)
            do {
                try await store.createSensor(sensor)
            } catch let error as StoreError where error.code == .conflict {
                throw fail("\(target.name) already has a sensor named '\(name)'")
            }
            try await installation.audit.append(
                AuditEntry(time: Date(), actor: "system", actorOrganisation: nil, action: "sensor.create", outcome: .success, resource: "sensor:\(sensor.id)",
                           sourceAddress: nil, details: ["organisation": target.id.description, "transport": transport.rawValue]))
            print("created sensor \(sensor.id) (\(name) of \(target.name))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sensors with their health.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            let health = try await installation.store.sensorHealth()
            let names = Dictionary(uniqueKeysWithValues: try await installation.store.organisations().map { ($0.id, $0.name) })
            for sensor in try await installation.store.sensors() {
                let h = health[sensor.id]
                print(
                    "\(sensor.id)  \(sensor.transport.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  \(names[sensor.organisation] ?? "?") / \(sensor.name)"
                        + "  events \(h?.events ?? 0), refused \(h?.refusedTotal ?? 0)" + (h?.lastSeen.map { ", last seen \(RFC3339.format($0))" } ?? ""))
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue an ingest-scoped API token for a sensor's service account; prints it once.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The service account's username.") var account: String
        @Option(help: "Days the token is valid. Default: 365.") var days = 365

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: account), user.kind == .service else {
                throw fail("no service account '\(account)'")
            }
            let issued = try await installation.authenticator.issueToken(for: user, name: "intake", scopes: [.ingest], days: days, by: nil)
            print(issued.secret)
        }
    }
}

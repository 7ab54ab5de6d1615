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
            let installation = try await storage.open()
            let desk = SensorDesk(store: installation.store, audit: installation.audit)
            let draft = SensorDesk.Draft(
                organisation: organisation, name: name, transport: transport, format: format, mapping: mapping,
                addresses: addresses.joined(separator: " "), account: account ?? "", rate: String(rate))
            let sensor: Sensor
            do {
                // The operator at the server's own shell: the same checks as the page, no policy question.
                sensor = try await desk.register(draft, by: nil, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
            } catch let error as QilaError where error.code == .invalidInput {
                guard let field = error.field else { throw ValidationError(error.sentence(naming: nil)) }
                let option = "--" + (field == "addresses" ? "address" : field)
                let sentence = error.sentence(naming: option)
                throw ValidationError(sentence.hasPrefix(option) ? sentence : "\(option): \(error.message)")
            }
            let owner = try await installation.store.organisation(sensor.organisation)
            print("created sensor \(sensor.id) (\(sensor.name) of \(owner?.name ?? "?"))")
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

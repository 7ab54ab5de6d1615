import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaStore

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer organisations and accounts from the server's own shell.",
        discussion: "Every change is recorded in the audit log with the actor 'system'.",
        subcommands: [CreateOrganisation.self, ListOrganisations.self, CreateUser.self, SetupLink.self, ResetMFA.self, IssueToken.self])

    struct CreateOrganisation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an organisation.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The organisation's name.") var name: String
        @Option(help: "One of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @Option(help: "Sector id, such as telecom or banking-finance.") var sector: String
        @Option(help: "Licence or registration number.") var registration: String?
        @Option(help: "Criticality class: \(Organisation.Criticality.allCases.map(\.rawValue).joined(separator: ", ")).") var criticality: String?

        func run() async throws {
            guard let kind = Organisation.Kind(rawValue: kind) else {
                throw ValidationError("--kind must be one of \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let classed = try criticality.map { text in
                guard let value = Organisation.Criticality(rawValue: text) else {
                    throw ValidationError("--criticality must be one of \(Organisation.Criticality.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value
            }
            let installation = try await storage.open()
            do {
                let organisation = try await installation.directory.createOrganisation(
                    .init(name: name, kind: kind, sector: SectorID(rawValue: sector), registrationNumber: registration, criticality: classed), by: nil)
                print("created organisation \(organisation.id) (\(organisation.name))")
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct ListOrganisations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations with their ids.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            for organisation in try await installation.store.organisations() {
                print("\(organisation.id)  \(organisation.kind.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0))  \(organisation.sector.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0))  \(organisation.name)")
            }
        }
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a person or service account; prints a one-time link for a person to set a password.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The organisation's id or exact name.") var organisation: String
        @Option(help: "Sign-in name.") var username: String
        @Option(help: "Full name.") var name: String
        @Option(help: "Email address.") var email: String?
        @Option(name: .customLong("role"), help: "A role (repeatable): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var roles: [String] = []
        @Option(help: "TLP clearance: clear, green, amber, amber+strict, red. Default: green.") var clearance = "green"
        @Flag(help: "A service account (sensor, script): no password, authenticates with tokens or certificates.")
        var service = false

        func run() async throws {
            var parsedRoles: Set<Role> = []
            for role in roles {
                guard let parsed = Role(rawValue: role) else {
                    throw ValidationError("unknown role '\(role)'; roles are \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                parsedRoles.insert(parsed)
            }
            guard let tlp = TLP(label: clearance) else { throw ValidationError("unknown clearance '\(clearance)'") }
            let installation = try await storage.open()
            let organisations = try await installation.store.organisations()
            guard let target = organisations.first(where: { $0.id.description == organisation.lowercased() || $0.name == organisation }) else {
                throw fail("no organisation '\(organisation)'; see `qila admin list-organisations`")
            }
            do {
                let user = try await installation.directory.createUser(
                    .init(kind: service ? .service : .person, username: username, displayName: name, email: email, roles: parsedRoles, clearance: tlp),
                    in: target.id, by: nil)
                print("created \(user.kind.rawValue) account \(user.username) (\(user.id)) in \(target.name)")
                if !service {
                    let secret = try await installation.authenticator.createPasswordLink(for: user)
                    print("one-time link to set the password (72 hours): \(try await storage.serverBase())/setup/\(secret)")
                }
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct SetupLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup-link", abstract: "Print a new one-time link for a person to set their password.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Sign-in name.") var username: String

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: username), user.kind == .person else {
                throw fail("no person with the username '\(username)'")
            }
            let secret = try await installation.authenticator.createPasswordLink(for: user)
            print("\(try await storage.serverBase())/setup/\(secret)")
        }
    }

    struct ResetMFA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-mfa", abstract: "Turn off a person's two-factor sign-in (lost phone) and end their sessions.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Sign-in name.") var username: String

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: username) else { throw fail("no user '\(username)'") }
            let ended = try await installation.authenticator.resetMFA(for: user, by: nil)
            print("two-factor sign-in reset for \(user.username); \(ended) session(s) ended")
        }
    }

    struct IssueToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Issue an API token for an account from the server's own shell (automation, the API contract check); prints it once.",
            discussion: "An admin-scoped token administers only within 15 minutes of being issued, as one issued after a second factor would.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "Sign-in name.") var username: String
        @Option(name: .customLong("scope"), help: "A scope (repeatable): \(TokenScope.allCases.map(\.rawValue).joined(separator: ", ")).")
        var scopes: [String] = ["read"]
        @Option(help: "Days the token is valid. Default: 30.") var days = 30

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: username) else { throw fail("no user '\(username)'") }
            var chosen = Set<TokenScope>()
            for scope in scopes {
                guard let parsed = TokenScope(rawValue: scope) else {
                    throw fail("unknown scope '\(scope)'; one of \(TokenScope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                chosen.insert(parsed)
            }
            do {
                let issued = try await installation.authenticator.issueToken(for: user, name: "console", scopes: chosen, days: days, by: nil)
                print(issued.secret)
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }
}

import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaIntel
import QilaStore

struct Intel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Shared threat intelligence: files added to collections, the TAXII peers and MISP feeds the installation polls, trust groups.",
        subcommands: [Import.self, Peer.self, Group.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add STIX 2.1 bundles or MISP events from files to a collection, in an account's name.",
            discussion: "Each file is read as the intelligence page reads an upload; objects already held (same id and modified) are kept as they were.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The collection (id or exact title), for example 'National sharing'.") var collection: String
        @Option(name: .customLong("as"), help: "The account whose organisation produces the objects; it must be allowed to add to the collection.")
        var account: String
        @Argument(help: "JSON files: STIX bundles (at most 100,000 objects each) or MISP events.") var files: [String]

        func run() async throws {
            let installation = try await storage.open()
            let subject = try await installation.shellSubject(account: account)
            let desk = IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
            let all = try await desk.collections(for: subject)
            guard let target = all.first(where: { $0.record.id == collection }) ?? all.first(where: { $0.record.title == collection }), target.canWrite else {
                throw ValidationError("--collection: '\(collection)' is no collection \(account) may add to")
            }
            for file in files {
                let bytes: [UInt8]
                do {
                    bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
                } catch {
                    throw fail("\(file): \(error.localizedDescription)")
                }
                let started = Date()
                do {
                    let imported = try await desk.importFile(bytes, named: URL(fileURLWithPath: file).lastPathComponent, into: target.record.id, by: subject)
                    let status = imported.status
                    let seconds = Date().timeIntervalSince(started)
                    print(
                        "\(file): \(imported.format), \(status.successes.count) of \(status.total) objects added in \(String(format: "%.1f", seconds)) s"
                            + (status.failures.first.map { ", \(status.failures.count) refused (first: \($0.id): \($0.message ?? ""))" } ?? "")
                            + (imported.skipped > 0 ? ", \(imported.skipped) MISP attributes left out" : ""))
                } catch let error as QilaError {
                    throw fail("\(file): \(error.description)")
                }
            }
        }
    }

    struct Peer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe to collections of other TAXII 2.1 servers and to MISP feeds, poll them, list and remove them.",
            discussion: "A running server polls each peer at its interval (one node at a time); `poll` polls one now.",
            subcommands: [Add.self, List.self, Poll.self, Remove.self])
    }

    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Define a trust group: a collection with its own TAXII API root (/taxii2/group-SLUG/) for the organisations named.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "The group's name, for example 'Regional CERTs'.") var title: String
        @Option(help: "Lower-case letters, digits and hyphens: the API root is group-SLUG.") var slug: String
        @Option(name: .customLong("organisation"), help: "A member organisation's id or exact name (repeatable).") var organisations: [String] = []

        func run() async throws {
            let installation = try await storage.open()
            let all = try await installation.store.organisations()
            var members: [OrganisationID] = []
            for text in organisations {
                guard let found = all.first(where: { $0.id.description == text || $0.name == text }) else { throw ValidationError("--organisation: no organisation '\(text)'") }
                members.append(found.id)
            }
            do {
                let group = try await IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy)
                    .createGroup(title: title, slug: slug, members: members, by: nil)
                print("trust group '\(group.title)': /taxii2/\(group.root)/collections/\(group.id)/ for \(members.count) organisation(s)")
            } catch let error as QilaError where error.code == .invalidInput {
                throw ValidationError("--\(error.field == "members" ? "organisation" : error.field ?? "?"): \(error.message)")
            }
        }
    }

    static func desk(_ installation: Installation) -> IntelPeerDesk {
        IntelPeerDesk(
            intel: IntelDesk(store: installation.store, audit: installation.audit, policy: installation.policy), secrets: installation.secrets,
            transport: HTTPTaxiiTransport())
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Subscribe to a peer's TAXII collection or MISP feed.")
        @OptionGroup var storage: StorageOptions
        @Option(help: "A name for the peer, unique in the installation.") var name: String
        @Option(help: "taxii (a TAXII 2.1 collection) or misp-feed. Default: taxii.") var format = "taxii"
        @Option(
            help: "The collection's address (https://server/api-root/collections/ID/) or the MISP feed's directory (holding manifest.json); http only to this machine."
        ) var url: String
        @Option(help: "The local collection its objects go to (id or exact title), for example 'National sharing'.") var collection: String
        @Option(help: "The account name the peer gave (a public MISP feed needs none).") var username = ""
        @Option(help: "A file holding the password or token the peer gave (first line; '-' reads standard input).") var passwordFile: String?
        @Option(help: "Seconds between polls. Default: 3600.") var interval = 3600
        @Option(help: "A PEM file of the certificate authority the peer's certificate chains to. Default: the system's roots.") var ca: String?
        @Option(name: .customLong("as"), help: "The authority administrator whose name the objects are added in.") var account: String

        func run() async throws {
            let installation = try await storage.open()
            guard let user = try await installation.store.user(username: account) else { throw fail("no account '\(account)'") }
            let password: String
            let trust: String
            do {
                let raw =
                    switch passwordFile {
                    case nil: Data()
                    case "-": FileHandle.standardInput.readDataToEndOfFile()
                    case let path?: try Data(contentsOf: URL(fileURLWithPath: path))
                    }
                password = String(decoding: raw, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
                trust = try ca.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? ""
            } catch {
                throw fail("could not read \(passwordFile == "-" ? "standard input" : "a file given"): \(error.localizedDescription)")
            }
            let draft = IntelPeerDesk.Draft(
                name: name, url: url, format: format, collection: collection, username: username, password: password, interval: String(interval), trust: trust)
            do {
                let peer = try await Intel.desk(installation).subscribe(draft, account: user, by: nil)
                print("subscribed to \(peer.url) as '\(peer.name)' (\(peer.id)); polled every \(peer.intervalSeconds) s")
            } catch let error as QilaError where error.code == .invalidInput {
                let option = ["trust": "--ca", "account": "--as", "password": "--password-file"][error.field ?? ""] ?? "--\(error.field ?? "?")"
                throw ValidationError("\(option): \(error.message)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the peers with their last poll.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let installation = try await storage.open()
            for peer in try await Intel.desk(installation).peers() {
                let last = peer.polledAt.map { "last polled \(RFC3339.format($0))" } ?? "not polled yet"
                print(
                    "\(peer.name)  \(peer.format)  \(peer.url)  every \(peer.intervalSeconds) s, \(peer.objects) object versions, \(last)"
                        + (peer.lastError.map { "; failed: \($0)" } ?? ""))
            }
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Poll one peer now.")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "The peer's name.") var name: String

        func run() async throws {
            let installation = try await storage.open()
            let desk = Intel.desk(installation)
            do {
                let result = try await desk.poll(try await desk.peer(named: name))
                if let error = result.error { throw fail("\(name): \(error)") }
                print(
                    "\(name): \(result.received) objects in \(result.pages) page(s), \(result.added) new"
                        + (result.refused > 0 ? ", \(result.refused) refused (\(result.firstRefusal ?? ""))" : "")
                        + (result.skipped > 0 ? ", \(result.skipped) MISP attributes left out (not for detection, or naming no single value)" : ""))
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a subscription (the objects received stay).")
        @OptionGroup var storage: StorageOptions
        @Argument(help: "The peer's name.") var name: String

        func run() async throws {
            let installation = try await storage.open()
            let desk = Intel.desk(installation)
            do {
                try await desk.unsubscribe(try await desk.peer(named: name), by: nil)
                print("no longer polling '\(name)'")
            } catch let error as QilaError {
                throw fail(error.description)
            }
        }
    }
}

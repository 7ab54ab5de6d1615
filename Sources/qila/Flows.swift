import ArgumentParser
import Foundation
import QilaAccess
import QilaCore
import QilaFlows
import QilaRetention
import QilaWeb

#if canImport(Glibc)
    import Glibc
#endif

struct Flows: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Traffic-data retention: collect NetFlow/IPFIX, show, verify and expire the store.",
        discussion: """
            Flows are kept under DATA/flows, one directory per organisation, in time-partitioned \
            segments; sealed segments are read-only and chained in DATA/flows/chain.jsonl, each \
            chain line signed with the installation's audit key.
            """,
        subcommands: [Collect.self, Stats.self, Verify.self, Expire.self, Query.self])

    /// The store in the data directory given by the usual settings.
    static func store(_ storage: StorageOptions) async throws -> FlowStore {
        let installation = try await storage.open()
        do {
            return try FlowStore(FlowStore.Configuration(root: installation.dataDirectory + "/flows", signingKey: installation.secrets.auditEd25519))
        } catch {
            throw fail("cannot open the flow store: \(error)")
        }
    }

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive NetFlow v5/v9 and IPFIX over UDP from registered exporters and store every flow.",
            discussion: """
                Datagrams from addresses not given with --exporter are counted and dropped. Flows become \
                durable every --interval seconds; a crash loses at most that. Stops on SIGINT or SIGTERM \
                after storing what it received; prints the collector's health to standard error.
                """)

        @OptionGroup var storage: StorageOptions

        @Option(name: .long, help: "HOST:PORT to listen on (repeat). Default: 127.0.0.1:2055 and 127.0.0.1:4739.")
        var listen: [String] = []

        @Option(name: .long, help: "A registered exporter: ADDRESS=ORGANISATION or ADDRESS/DOMAIN=ORGANISATION (repeat).")
        var exporter: [String] = []

        @Option(name: .long, help: "Seconds between durable writes.")
        var interval: Double = 1

        @Option(name: .long, help: "Stop intake when the file system has fewer free megabytes than this.")
        var reserveMegabytes: Int = 256

        @Option(name: .long, help: "Seconds between health lines on standard error (0: none).")
        var report: Double = 10

        func validate() throws {
            if exporter.isEmpty { throw ValidationError("register at least one exporter with --exporter ADDRESS=ORGANISATION") }
            guard interval > 0, interval <= 60 else { throw ValidationError("--interval must be between 0 and 60 seconds") }
        }

        static func parseExporter(_ text: String) throws -> FlowCollector.Exporter {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, FlowStore.isValidOrganisation(parts[1]) else {
                throw ValidationError("--exporter \(text): expected ADDRESS=ORGANISATION (letters, digits, - and _)")
            }
            let addressParts = parts[0].split(separator: "/", maxSplits: 1).map(String.init)
            guard let address = FlowAddress(parsing: addressParts[0]) else { throw ValidationError("--exporter \(text): \(addressParts[0]) is not an IP address") }
            var domain: UInt32?
            if addressParts.count == 2 {
                guard let value = UInt32(addressParts[1]) else { throw ValidationError("--exporter \(text): the domain must be a number") }
                domain = value
            }
            return FlowCollector.Exporter(address: address, domain: domain, organisation: parts[1])
        }

        func run() async throws {
            signal(SIGXFSZ, SIG_IGN)  // a file-size limit must give an error to handle, not a kill
            let exporters = try exporter.map(Self.parseExporter)
            var store = try await Flows.store(storage)
            for recovery in store.recoveries {
                FileHandle.standardError.write(Data("recovered \(recovery.path): \(recovery.blocks) blocks kept, \(recovery.discardedBytes) bytes of an incomplete block cut\n".utf8))
            }
            var configuration = store.configuration
            configuration.reserveBytes = Int64(reserveMegabytes) << 20
            store = try FlowStore(configuration)
            let collector = FlowCollector(store: store, exporters: exporters, durabilityInterval: interval)
            for endpoint in listen.isEmpty ? ["127.0.0.1:2055", "127.0.0.1:4739"] : listen {
                guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
                    throw ValidationError("--listen \(endpoint): expected HOST:PORT")
                }
                let host = String(endpoint[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                do {
                    let bound = try collector.listen(host: host, port: port)
                    FileHandle.standardError.write(Data("listening on \(host):\(bound)/udp\n".utf8))
                    if let warning = collector.currentHealth.queueWarning(for: bound) {
                        FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
                    }
                } catch {
                    throw fail("cannot listen on \(endpoint): \(error)")
                }
            }
            let stop = StopSignal()
            var last = collector.currentHealth
            var lastTime = Date()
            var lastReport = Date()
            var wasFull = false
            while !stop.received {
                try await Task.sleep(nanoseconds: 200_000_000)
                try? store.seal(before: Int64(Date().timeIntervalSince1970 * 1000))
                let health = collector.currentHealth
                if health.diskFull != wasFull {
                    FileHandle.standardError.write(Data((health.diskFull ? "ALARM: disk full, intake stopped" : "disk space back, intake resumed").utf8 + [10]))
                    wasFull = health.diskFull
                }
                if report > 0, Date().timeIntervalSince(lastReport) >= report {
                    let seconds = Date().timeIntervalSince(lastTime)
                    FileHandle.standardError.write(Data((Self.describe(health, since: last, seconds: seconds) + "\n").utf8))
                    last = health
                    lastTime = Date()
                    lastReport = Date()
                }
            }
            collector.stop()
            let health = collector.currentHealth
            FileHandle.standardError.write(Data((Self.describe(health, since: last, seconds: Date().timeIntervalSince(lastTime)) + "\n").utf8))
            print(Self.summaryJSON(health))
        }

        static func describe(_ health: FlowCollector.Health, since last: FlowCollector.Health, seconds: Double) -> String {
            let rate = Double(health.storedFlows - last.storedFlows) / max(seconds, 0.001)
            let lost = health.exporters.values.reduce(0) { $0 + $1.lost }
            let faults = health.exporters.values.reduce(0) { $0 + $1.faults.values.reduce(0, +) }
            let unknown = health.unknownExporters.values.reduce(0, +)
            let kernel = health.kernelDrops.values.reduce(0, +)
            return "flows stored \(health.storedFlows) (\(Int(rate))/s), refused \(health.refusedFlows), lost by exporters \(lost), faults \(faults), datagrams from unknown exporters \(unknown)"
                + (health.droppedDatagrams > 0 ? ", ALARM: datagrams dropped before decoding \(health.droppedDatagrams) (kernel \(kernel), hand-off full \(health.handoffOverflow))" : "")
                + (health.diskFull ? ", DISK FULL" : "") + (health.lastError.map { ", last error: \($0)" } ?? "")
        }

        static func summaryJSON(_ health: FlowCollector.Health) -> String {
            var exporters: [[String: Any]] = []
            for (domain, counters) in health.exporters.sorted(by: { "\($0.key.exporter)" < "\($1.key.exporter)" }) {
                exporters.append([
                    "exporter": "\(domain.exporter)", "domain": domain.domain, "datagrams": counters.datagrams, "records": counters.records,
                    "lost": counters.lost, "templates": counters.templates,
                    "faults": Dictionary(uniqueKeysWithValues: counters.faults.map { ($0.key.rawValue, $0.value) }),
                ])
            }
            let object: [String: Any] = [
                "stored": health.storedFlows, "blocks": health.storedBlocks, "refused": health.refusedFlows,
                "unknownExporterDatagrams": health.unknownExporters.values.reduce(0, +), "exporters": exporters, "diskFull": health.diskFull,
                "receivedDatagrams": health.receivedDatagrams, "kernelDrops": health.kernelDrops.values.reduce(0, +), "handoffOverflow": health.handoffOverflow,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the store holds per organisation: segments, flows, bytes, time span.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let store = try await Flows.store(storage)
            print("organisation\tsealed\topen\tflows\tbytes\tbytes/flow\tfirst\tlast")
            for summary in try store.summary() {
                let perFlow = summary.flows > 0 ? String(format: "%.1f", Double(summary.bytes) / Double(summary.flows)) : "-"
                let first = summary.firstStart.map { RFC3339.format(Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "-"
                let last = summary.lastEnd.map { RFC3339.format(Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "-"
                print("\(summary.organisation)\t\(summary.sealedSegments)\t\(summary.openSegments)\t\(summary.flows)\t\(summary.bytes)\t\(perFlow)\t\(first)\t\(last)")
            }
            print("chain: \(store.chainEntries.count) entries")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every segment against the signed chain: chain heads and signatures, segment hashes, block checksums.",
            discussion: "Exits with status 1 when anything does not hold, naming each segment and what failed.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let store = try await Flows.store(storage)
            // On a terminal, one line rewritten as segments are checked.
            let terminal = isatty(STDERR_FILENO) == 1
            let report = store.verify { done, total in
                if terminal { FileHandle.standardError.write(Data("\rverified \(done) of \(total) segments".utf8)) }
            }
            if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
            print(report)
            if !report.isValid { throw ExitCode(1) }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete sealed segments older than the retention period; each deletion is chained.",
            discussion: "The period is 365 days unless given, per organisation with --organisation ORG=DAYS as the authority notifies.")
        @OptionGroup var storage: StorageOptions

        @Option(name: .long, help: "Retention period in days for organisations not named otherwise.")
        var days = 365

        @Option(name: .long, help: "ORGANISATION=DAYS (repeat).")
        var organisation: [String] = []

        func run() async throws {
            var periods: [String: Int] = [:]
            for item in organisation {
                let parts = item.split(separator: "=").map(String.init)
                guard parts.count == 2, let value = Int(parts[1]), value > 0 else { throw ValidationError("--organisation \(item): expected ORGANISATION=DAYS") }
                periods[parts[0]] = value
            }
            guard days > 0 else { throw ValidationError("--days must be positive") }
            let store = try await Flows.store(storage)
            let deleted = try store.expire(now: Int64(Date().timeIntervalSince1970 * 1000)) { periods[$0] ?? days }
            for entry in deleted { print("deleted \(entry.segment) (\(entry.rows) flows, \(entry.reason ?? ""))") }
            print("\(deleted.count) segments deleted")
        }
    }
}

/// Set by SIGINT or SIGTERM.
final class StopSignal: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let lock = NSLock()
    private var flag = false

    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            sources.append(source)
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [self] in
                lock.lock()
                flag = true
                lock.unlock()
            }
            source.resume()
        }
    }

    var received: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }
}

extension Flows {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query retained traffic data inside an approved warrant and write the signed package.",
            discussion: """
                Only the investigator who recorded the warrant may query under it, while it is approved \
                and unexpired, for identifiers and times within its scope. The investigator signs in with \
                password and a current authenticator code (asked for on a terminal; otherwise read as two \
                lines from standard input). The query is recorded in the audit log like one made on the \
                warrant's page, and the package (records as CSV and JSON, manifest with SHA-256 of each \
                file, Ed25519 signature) is written as a tar file.
                """)

        @OptionGroup var storage: StorageOptions

        @Option(name: .long, help: "The warrant's id (from its page).")
        var warrant: String

        @Option(name: .long, help: "The investigator's username.")
        var user: String

        @Option(name: .long, help: "An address of the warrant's scope (repeat; none and no --subscriber: all of the warrant's).")
        var address: [String] = []

        @Option(name: .long, help: "A subscriber identifier of the warrant's scope (repeat).")
        var subscriber: [String] = []

        @Option(name: .long, help: "Start of the window, RFC 3339 (default: the warrant's).")
        var from: String?

        @Option(name: .long, help: "End of the window, RFC 3339 (default: the warrant's).")
        var until: String?

        @Option(name: .long, help: "Where to write the package (a .tar file).")
        var output: String

        func run() async throws {
            guard let warrantID = WarrantID(warrant) else { throw ValidationError("--warrant: '\(warrant)' is not a warrant id") }
            let installation = try await storage.open()
            do {
                try await query(installation, warrantID)
                try await installation.close()
            } catch {
                try? await installation.close()
                throw error
            }
        }

        func query(_ installation: Installation, _ warrantID: WarrantID) async throws {
            let password: String
            let code: String
            if isatty(0) == 1 {
                password = String(cString: getpass("Password for \(user): "))
                code = String(cString: getpass("Authenticator code: "))
            } else {
                password = readLine() ?? ""
                code = readLine() ?? ""
            }
            let subject = try await signIn(installation, password: password, code: code)
            let runtime: RetentionRuntime
            do {
                runtime = try RetentionRuntime(installation: installation, settings: .init())
            } catch {
                throw fail("cannot open the traffic-data store: \(error)")
            }
            // Other nodes may hold part of the provider's traffic data; without the link the query
            // says which node to run it on instead.
            let disconnect = try? runtime.connectToOtherNodes()
            do {
                let start = try from.map { try WarrantDesk.date($0, field: "from") }
                let end = try until.map { try WarrantDesk.date($0, field: "until") }
                let result = try await runtime.desk.query(
                    warrantID, addresses: address, subscribers: subscriber, windowStart: start, windowEnd: end, by: subject,
                    gate: DecisionGate(policy: installation.policy, audit: installation.audit))
                let package = try await runtime.desk.package(
                    result.query.id, of: warrantID, for: subject, gate: DecisionGate(policy: installation.policy, audit: installation.audit))
                guard FileManager.default.createFile(atPath: output, contents: Data(package), attributes: [.posixPermissions: 0o600]) else {
                    throw fail("cannot write \(output)")
                }
                print("\(result.rows.count) records in \(result.query.elapsedMilliseconds) ms; package \(output) (manifest SHA-256 \(result.query.manifestSHA256))")
                await disconnect?()
            } catch {
                await disconnect?()
                if let error = error as? QilaError { throw fail(error.description) }
                throw error
            }
        }

        /// Password and second factor, as on the sign-in page; the session ends when the command does.
        func signIn(_ installation: Installation, password: String, code: String) async throws -> Subject {
            let authenticator = installation.authenticator
            let outcome = try await authenticator.signIn(username: user, password: password, source: "command line", userAgent: "qila flows query")
            switch outcome {
            case .needsSecondFactor(let secret, _):
                switch try await authenticator.verifySecondFactor(sessionSecret: secret, code: code, source: "command line") {
                case .verified(let renewed):
                    let state = try await authenticator.session(secret: renewed)
                    // The subject is what the query is checked against; the session is not needed after.
                    try await authenticator.signOut(secret: renewed, source: "command line")
                    guard case .active(let principal) = state else { throw fail("the session ended before the query") }
                    return principal.subject()
                case .refused:
                    try await authenticator.signOut(secret: secret, source: "command line")
                    throw fail("the authenticator code is not right, or was already used")
                case .throttled(let until):
                    try await authenticator.signOut(secret: secret, source: "command line")
                    throw fail("too many failed attempts; try again after \(RFC3339.format(until))")
                }
            case .signedIn:
                throw fail("\(user) has no second factor; querying traffic data needs one (turn it on in the profile)")
            case .refused(let message):
                throw fail(message)
            case .throttled(let until):
                throw fail("too many failed attempts; try again after \(until)")
            }
        }
    }
}

public import Foundation
import NIOSSL
public import QilaAccess
public import QilaCore
public import QilaStore

/// Collections of other TAXII 2.1 servers (foreign CERTs, vendors) and MISP feeds the authority
/// subscribes to. Each is polled into a local collection on its schedule. A TAXII peer is read
/// from the stored cursor (`added_after`), following `next` with the same filters, until it says
/// there is no more; a MISP feed's manifest is read and every event changed since the stored
/// cursor (MISP's event timestamp) is fetched and read as STIX (`MispEvents`). Versions already
/// held are kept as they were (deduplicated by id and `modified`); every object keeps its source
/// (`peer:<name>`). The password is sealed with the installation's key.
public struct IntelPeerDesk: Sendable {
    public let intel: IntelDesk
    public let secrets: ServerSecrets
    public let transport: any TaxiiTransport

    public init(intel: IntelDesk, secrets: ServerSecrets, transport: any TaxiiTransport) {
        self.intel = intel
        self.secrets = secrets
        self.transport = transport
    }

    /// Objects asked for in one request to a peer.
    public static let pageSize = 1_000
    /// Requests in one poll at most: a peer that keeps saying "more" cannot hold a node forever.
    public static let maximumPages = 10_000
    public static let intervals = 10...(7 * 86_400)

    /// What a peer speaks.
    public enum Format: String, Sendable, CaseIterable {
        case taxii
        case mispFeed = "misp-feed"

        public var title: String {
            switch self {
            case .taxii: "TAXII 2.1 collection"
            case .mispFeed: "MISP feed"
            }
        }
    }

    /// A subscription as typed on a page or the command line.
    public struct Draft: Sendable {
        public var name: String
        public var url: String
        /// `taxii` or `misp-feed`.
        public var format: String
        /// The local collection's id or exact title.
        public var collection: String
        public var username: String
        public var password: String
        public var interval: String
        /// A PEM certificate authority, or empty for the system's roots.
        public var trust: String

        public init(
            name: String, url: String, format: String = Format.taxii.rawValue, collection: String, username: String, password: String, interval: String = "3600",
            trust: String = ""
        ) {
            self.name = name
            self.url = url
            self.format = format
            self.collection = collection
            self.username = username
            self.password = password
            self.interval = interval
            self.trust = trust
        }
    }

    // MARK: subscribing

    /// Subscribes to a peer's collection. `subject` is the administrator on a page (nil: the
    /// operator at the server's shell, who names `account`); the peer's objects are added in the
    /// name of that account, which must be an authority administrator's.
    public func subscribe(_ draft: Draft, account: User, by subject: Subject?, now: Date = Date()) async throws -> IntelPeerRecord {
        let store = intel.store
        guard let organisation = try await store.organisation(account.organisation), organisation.kind == .authority,
            account.roles.contains(.authorityAdmin), !account.disabled
        else {
            throw QilaError.invalid("must be an authority administrator (peers are polled in their name)", field: "account")
        }
        let name = draft.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 64, !name.contains(where: \.isNewline) else {
            throw QilaError.invalid("needs 1 to 64 characters on one line", field: "name")
        }
        guard let format = Format(rawValue: draft.format.trimmingCharacters(in: .whitespaces)) else {
            throw QilaError.invalid("must be one of \(Format.allCases.map(\.rawValue).joined(separator: ", "))", field: "format")
        }
        let url = format == .taxii ? try Self.collectionURL(draft.url) : try Self.feedURL(draft.url)
        let collection = try await localCollection(draft.collection)
        if let subject {
            try await DecisionGate(policy: intel.policy, audit: intel.audit).require(subject, .administer, IntelDesk.resource(collection))
        }
        let username = draft.username.trimmingCharacters(in: .whitespaces)
        // TAXII peers always ask for credentials; a MISP feed may be public (then both are empty).
        if format == .taxii || !draft.password.isEmpty {
            guard !username.isEmpty else { throw QilaError.invalid("is needed (the account name the peer gave)", field: "username") }
        }
        if format == .taxii || !username.isEmpty {
            guard !draft.password.isEmpty else { throw QilaError.invalid("is needed (the password or token the peer gave)", field: "password") }
        }
        guard let interval = Int(draft.interval.trimmingCharacters(in: .whitespaces)), Self.intervals.contains(interval) else {
            throw QilaError.invalid("must be from \(Self.intervals.lowerBound) to \(Self.intervals.upperBound) seconds", field: "interval")
        }
        let trust = draft.trust.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trust.isEmpty {
            guard url.scheme == "https" else { throw QilaError.invalid("is only for an https address", field: "trust") }
            guard (try? NIOSSLCertificate.fromPEMBytes(Array(trust.utf8)))?.isEmpty == false else {
                throw QilaError.invalid("is not a PEM certificate", field: "trust")
            }
        }
        let peer = IntelPeerRecord(
            name: name, url: url.absoluteString, format: format.rawValue, localCollection: collection.id, username: username,
            sealedPassword: draft.password.isEmpty ? [] : try secrets.seal(Array(draft.password.utf8)),
            trust: trust.isEmpty ? nil : trust, intervalSeconds: interval, createdBy: account.id, createdAt: now)
        try await store.createIntelPeer(peer)
        try await intel.audit.append(
            AuditEntry(
                time: now, actor: subject?.user.id.description ?? "console", actorOrganisation: subject?.organisation.id, action: "intel.peer.add",
                outcome: .success, resource: "intel-peer:\(peer.id)",
                details: ["name": name, "url": url.absoluteString, "format": format.rawValue, "collection": collection.id, "interval": String(interval)]))
        return peer
    }

    /// A peer collection's address: https (or http to this machine, for a peer on loopback),
    /// ending in `/collections/{id}/`.
    static func collectionURL(_ text: String) throws -> URL {
        let url = try address(text, example: "https://server/api-root/collections/id/")
        let parts = url.path.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "collections" else {
            throw QilaError.invalid("must be a collection's address, ending in /collections/{id}/", field: "url")
        }
        return url
    }

    /// A MISP feed's address: the directory holding `manifest.json` (the file's own address is taken too).
    static func feedURL(_ text: String) throws -> URL {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("/manifest.json") { text.removeLast("manifest.json".count) }
        return try address(text, example: "https://server/feeds/name/")
    }

    /// An https address (plain http only to this machine), ending in a slash, without a query.
    static func address(_ text: String, example: String) throws -> URL {
        var text = text.trimmingCharacters(in: .whitespaces)
        if !text.hasSuffix("/") { text += "/" }
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            throw QilaError.invalid("is not an address (\(example))", field: "url")
        }
        guard url.query == nil, url.fragment == nil else { throw QilaError.invalid("must not have a query", field: "url") }
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw QilaError.invalid("must be https (plain http only to this machine)", field: "url")
        }
        return url
    }

    /// The collection polled objects go to, by id or exact title: a community's, not one organisation's.
    func localCollection(_ text: String) async throws -> IntelCollectionRecord {
        try await intel.ensureCollections()
        let wanted = text.trimmingCharacters(in: .whitespaces)
        guard !wanted.isEmpty else { throw QilaError.invalid("needs a choice", field: "collection") }
        let all = try await intel.store.intelCollections()
        guard let found = all.first(where: { $0.id == wanted }) ?? all.first(where: { $0.title == wanted }) else {
            throw QilaError.invalid("names no collection of this installation", field: "collection")
        }
        guard found.kind != .organisation else {
            throw QilaError.invalid("must be a shared collection (national, a sector's or a trust group's), not one organisation's", field: "collection")
        }
        return found
    }

    public func peers() async throws -> [IntelPeerRecord] { try await intel.store.intelPeers() }

    public func peer(named name: String) async throws -> IntelPeerRecord {
        guard let peer = try await peers().first(where: { $0.name == name || $0.id == name }) else {
            throw QilaError(.notFound, "no peer called '\(name)'")
        }
        return peer
    }

    /// Ends a subscription; the objects already received stay.
    public func unsubscribe(_ peer: IntelPeerRecord, by subject: Subject?, now: Date = Date()) async throws {
        if let subject, let collection = try await intel.store.intelCollection(id: peer.localCollection) {
            try await DecisionGate(policy: intel.policy, audit: intel.audit).require(subject, .administer, IntelDesk.resource(collection))
        }
        try await intel.store.deleteIntelPeer(id: peer.id)
        try await intel.audit.append(
            AuditEntry(
                time: now, actor: subject?.user.id.description ?? "console", actorOrganisation: subject?.organisation.id, action: "intel.peer.remove",
                outcome: .success, resource: "intel-peer:\(peer.id)", details: ["name": peer.name]))
    }

    // MARK: polling

    /// Asks for a poll as soon as possible, by whichever node polls peers (a page does not wait for it).
    public func requestPoll(_ peer: IntelPeerRecord, by subject: Subject, now: Date = Date()) async throws {
        try await intel.store.makeIntelPeerDue(id: peer.id)
        try await intel.audit.recordChange(by: subject, "intel.peer.poll-requested", resource: "intel-peer:\(peer.id)", source: nil, details: ["name": peer.name], now: now)
    }

    /// What one poll did.
    public struct Poll: Sendable, Equatable {
        public var pages = 0
        public var received = 0
        /// Versions not held before.
        public var added = 0
        /// Objects the peer sent that are not valid STIX 2.1 (left out, with the first reason).
        public var refused = 0
        public var firstRefusal: String?
        /// MISP attributes not read as indicators (not marked for detection, or of a type naming no single value).
        public var skipped = 0
        /// Where the next poll starts.
        public var cursor: String?
        public var error: String?
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Polls one peer now. The cursor moves only when the peer has said there is no more, so a
    /// poll cut short (a crash, an error) is repeated from the same point and loses nothing.
    @discardableResult
    public func poll(_ peer: IntelPeerRecord, now: Date = Date()) async throws -> Poll {
        var result = Poll()
        do {
            result = try await fetch(peer, now: now)
            try await intel.store.recordIntelPoll(peer: peer.id, cursor: result.cursor, added: result.added, error: nil, at: now)
        } catch {
            result.error = (error as? Failure)?.description ?? (error as? QilaError)?.description ?? "could not reach the peer: " + String("\(error)".prefix(200))
            try await intel.store.recordIntelPoll(peer: peer.id, cursor: nil, added: result.added, error: result.error, at: now)
        }
        if result.added > 0 || result.refused > 0 || result.error != nil {
            var details = [
                "name": peer.name, "pages": String(result.pages), "received": String(result.received), "added": String(result.added),
                "refused": String(result.refused),
            ]
            if result.skipped > 0 { details["skipped"] = String(result.skipped) }
            details["error"] = result.error
            try await intel.audit.append(
                AuditEntry(
                    time: now, actor: "peer:\(peer.name)", actorOrganisation: nil, action: "intel.peer.poll", outcome: result.error == nil ? .success : .failure,
                    resource: "intel-collection:\(peer.localCollection)", details: details))
        }
        return result
    }

    /// What every poll needs: where objects go, in whose name, from where, with which password.
    struct Target {
        var collection: IntelCollectionRecord
        var account: User
        var base: URL
        var password: String
    }

    func fetch(_ peer: IntelPeerRecord, now: Date) async throws -> Poll {
        guard let collection = try await intel.store.intelCollection(id: peer.localCollection) else {
            throw Failure(description: "its local collection no longer exists")
        }
        guard let account = try await intel.store.user(peer.createdBy) else { throw Failure(description: "the account it polls for no longer exists") }
        guard let base = URL(string: peer.url) else { throw Failure(description: "its address is not a URL") }
        var password = ""
        if !peer.sealedPassword.isEmpty {
            do {
                password = String(decoding: try secrets.open(peer.sealedPassword), as: UTF8.self)
            } catch {
                throw Failure(description: "its password cannot be opened with this installation's key")
            }
        }
        let target = Target(collection: collection, account: account, base: base, password: password)
        return peer.format == Format.mispFeed.rawValue ? try await fetchFeed(peer, target, now: now) : try await fetchTAXII(peer, target, now: now)
    }

    func fetchTAXII(_ peer: IntelPeerRecord, _ target: Target, now: Date) async throws -> Poll {
        let (collection, account, base, password) = (target.collection, target.account, target.base, target.password)
        var result = Poll(cursor: peer.cursor)
        var addedAfter = peer.cursor
        var next: String?
        while result.pages < Self.maximumPages {
            guard var components = URLComponents(url: base.appendingPathComponent("objects/"), resolvingAgainstBaseURL: false) else {
                throw Failure(description: "its address cannot take a query")
            }
            // Every version, oldest first: the history is kept here as the peer keeps it.
            components.queryItems =
                [URLQueryItem(name: "limit", value: String(Self.pageSize)), URLQueryItem(name: "match[version]", value: "all")] + (addedAfter.map { [URLQueryItem(name: "added_after", value: $0)] } ?? [])
                + (next.map { [URLQueryItem(name: "next", value: $0)] } ?? [])
            // A '+' in a timestamp's offset or a next token must reach the peer as itself.
            let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
            components.percentEncodedQuery = query
            guard let url = components.url else { throw Failure(description: "its address cannot take a query") }
            let answer = try await transport.get(url, accept: TaxiiMedia.taxii, username: peer.username, password: password, trust: peer.trust)
            result.pages += 1
            guard answer.status == 200 else { throw Failure(description: Self.refusal(answer)) }
            guard let envelope = try? JSONValue.decode(answer.body), case .object = envelope else {
                throw Failure(description: "the peer answered something that is not a TAXII envelope")
            }
            let objects = envelope["objects"]?.array ?? []
            result.received += objects.count
            let outcome = try await intel.ingest(
                objects, into: collection, producer: account.organisation, addedBy: account.id, recipients: .init(), source: "peer:\(peer.name)",
                added: StixTimestamp(now))
            result.added += outcome.new
            result.refused += outcome.failures.count
            if result.firstRefusal == nil, let first = outcome.failures.first { result.firstRefusal = "\(first.id): \(first.message ?? "refused")" }
            // A page of one object may carry only the first header.
            let last = (answer.headers["x-taxii-date-added-last"] ?? answer.headers["x-taxii-date-added-first"]).flatMap { StixTimestamp($0) != nil ? $0 : nil }
            let more = envelope["more"]?.bool ?? false
            if let last { result.cursor = last }
            guard more, !objects.isEmpty else { break }
            if let token = envelope["next"]?.string, !token.isEmpty {
                next = token
            } else {
                // "more" without "next": the peer pages by date, so the next request starts after this page.
                guard let last, last != addedAfter else { throw Failure(description: "the peer says there is more but gives no way to reach it") }
                addedAfter = last
                next = nil
            }
        }
        return result
    }

    /// Events a MISP feed poll fetches at most; the rest wait for the next poll (the cursor stops
    /// at the last event taken, so nothing is skipped).
    public static let maximumEvents = 5_000

    func fetchFeed(_ peer: IntelPeerRecord, _ target: Target, now: Date) async throws -> Poll {
        /// A file of the feed. A missing or unreadable event file is the feed's own fault and
        /// is refused (counted, the poll goes on: it would fail the same way every time); any
        /// other refusal, or the manifest's, fails the poll so that it is repeated later.
        func get(_ file: String, event: Bool) async throws -> Result<JSONValue, QilaError> {
            let answer = try await transport.get(
                target.base.appendingPathComponent(file), accept: "application/json", username: peer.username, password: target.password, trust: peer.trust)
            if answer.status == 404 {
                guard event else { throw Failure(description: "the feed has no \(file) (404)") }
                return .failure(QilaError(.invalidInput, "is listed in the manifest but the feed has no such file (404)", at: file))
            }
            guard answer.status == 200 else { throw Failure(description: Self.refusal(answer) + " for \(file)") }
            guard let value = try? JSONValue.decode(answer.body), case .object = value else {
                guard event else { throw Failure(description: "the feed's \(file) is not a JSON object") }
                return .failure(QilaError(.invalidInput, "is not a JSON object", at: file))
            }
            return .success(value)
        }
        var result = Poll(cursor: peer.cursor)
        let manifest = try await get("manifest.json", event: false).get()
        result.pages = 1
        let since = peer.cursor.flatMap { Int64($0) } ?? -1
        // Oldest change first, so that a cursor stopped part-way lets nothing through.
        let due = (manifest.object ?? [:]).compactMap { uuid, summary -> (String, Int64)? in
            guard UUID(uuidString: uuid) != nil, let time = MispEvents.seconds(summary["timestamp"]), time > since else { return nil }
            return (uuid.lowercased(), time)
        }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        var taken = 0
        var cursor: Int64?
        for (index, (uuid, time)) in due.enumerated() {
            // Events sharing a timestamp are taken together, so the cursor never splits them.
            if taken >= Self.maximumEvents, time != cursor { break }
            let file = "\(uuid).json"
            let fetched = try await get(file, event: true)
            result.pages += 1
            taken = index + 1
            do {
                let converted = try MispEvents.stix(try fetched.get(), file: file)
                result.received += converted.objects.count
                result.skipped += converted.skipped.values.reduce(0, +)
                let outcome = try await intel.ingest(
                    converted.objects, into: target.collection, producer: target.account.organisation, addedBy: target.account.id, recipients: .init(),
                    source: "peer:\(peer.name)", added: StixTimestamp(now))
                result.added += outcome.new
                result.refused += outcome.failures.count
                if result.firstRefusal == nil, let first = outcome.failures.first { result.firstRefusal = "\(first.id): \(first.message ?? "refused")" }
            } catch let error as QilaError {
                result.refused += 1
                if result.firstRefusal == nil { result.firstRefusal = error.description }
            }
            cursor = max(cursor ?? time, time)
        }
        result.cursor = cursor.map(String.init) ?? peer.cursor
        return result
    }

    /// A peer's refusal in words: its status and the TAXII error's title, if it sent one.
    static func refusal(_ answer: TaxiiAnswer) -> String {
        let error = try? JSONValue.decode(answer.body)
        let title = [error?["title"]?.string, error?["description"]?.string].compactMap { $0 }.joined(separator: ": ")
        let reason: String =
            switch answer.status {
            case 401: "refused the credentials"
            case 403: "does not let this account read the collection"
            case 404: "has no such collection"
            case 406: "does not speak TAXII 2.1"
            default: "answered \(answer.status)"
            }
        return "the peer " + reason + (title.isEmpty ? "" : " (\(title.prefix(200)))")
    }

    /// Polls every peer whose interval has passed since its last poll.
    public func pollDue(now: Date = Date()) async throws -> [(peer: String, poll: Poll)] {
        var done: [(String, Poll)] = []
        for peer in try await peers() where peer.polledAt.map({ now.timeIntervalSince($0) >= Double(peer.intervalSeconds) }) ?? true {
            done.append((peer.name, try await poll(peer, now: now)))
        }
        return done
    }
}

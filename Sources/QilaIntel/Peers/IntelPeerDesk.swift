public import Foundation
import NIOSSL
public import QilaAccess
public import QilaCore
public import QilaStore

/// Collections of other TAXII 2.1 servers (foreign CERTs, vendors) the authority subscribes to.
/// Each is polled into a local collection on its schedule: from the stored cursor
/// (`added_after`), following `next` with the same filters, until the peer says there is no
/// more. Versions already held are kept as they were (deduplicated by id and `modified`); every
/// object keeps its source (`peer:<name>`). The password is sealed with the installation's key.
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

    /// A subscription as typed on a page or the command line.
    public struct Draft: Sendable {
        public var name: String
        public var url: String
        /// The local collection's id or exact title.
        public var collection: String
        public var username: String
        public var password: String
        public var interval: String
        /// A PEM certificate authority, or empty for the system's roots.
        public var trust: String

        public init(name: String, url: String, collection: String, username: String, password: String, interval: String = "3600", trust: String = "") {
            self.name = name
            self.url = url
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
        let url = try Self.collectionURL(draft.url)
        let collection = try await localCollection(draft.collection)
        if let subject {
            try await DecisionGate(policy: intel.policy, audit: intel.audit).require(subject, .administer, IntelDesk.resource(collection))
        }
        let username = draft.username.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty else { throw QilaError.invalid("is needed (the account name the peer gave)", field: "username") }
        guard !draft.password.isEmpty else { throw QilaError.invalid("is needed (the password or token the peer gave)", field: "password") }
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
            name: name, url: url.absoluteString, localCollection: collection.id, username: username, sealedPassword: try secrets.seal(Array(draft.password.utf8)),
            trust: trust.isEmpty ? nil : trust, intervalSeconds: interval, createdBy: account.id, createdAt: now)
        try await store.createIntelPeer(peer)
        try await intel.audit.append(
            AuditEntry(
                time: now, actor: subject?.user.id.description ?? "console", actorOrganisation: subject?.organisation.id, action: "intel.peer.add",
                outcome: .success, resource: "intel-peer:\(peer.id)",
                details: ["name": name, "url": url.absoluteString, "collection": collection.id, "interval": String(interval)]))
        return peer
    }

    /// A peer collection's address: https (or http to this machine, for a peer on loopback),
    /// ending in `/collections/{id}/`.
    static func collectionURL(_ text: String) throws -> URL {
        var text = text.trimmingCharacters(in: .whitespaces)
        if !text.hasSuffix("/") { text += "/" }
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            throw QilaError.invalid("is not an address (https://server/api-root/collections/id/)", field: "url")
        }
        guard url.query == nil, url.fragment == nil else { throw QilaError.invalid("must not have a query", field: "url") }
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw QilaError.invalid("must be https (plain http only to this machine)", field: "url")
        }
        let parts = url.path.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "collections" else {
            throw QilaError.invalid("must be a collection's address, ending in /collections/{id}/", field: "url")
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
            details["error"] = result.error
            try await intel.audit.append(
                AuditEntry(
                    time: now, actor: "peer:\(peer.name)", actorOrganisation: nil, action: "intel.peer.poll", outcome: result.error == nil ? .success : .failure,
                    resource: "intel-collection:\(peer.localCollection)", details: details))
        }
        return result
    }

    func fetch(_ peer: IntelPeerRecord, now: Date) async throws -> Poll {
        guard let collection = try await intel.store.intelCollection(id: peer.localCollection) else {
            throw Failure(description: "its local collection no longer exists")
        }
        guard let account = try await intel.store.user(peer.createdBy) else { throw Failure(description: "the account it polls for no longer exists") }
        guard let base = URL(string: peer.url) else { throw Failure(description: "its address is not a URL") }
        let password: String
        do {
            password = String(decoding: try secrets.open(peer.sealedPassword), as: UTF8.self)
        } catch {
            throw Failure(description: "its password cannot be opened with this installation's key")
        }
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
            let answer = try await transport.get(url, username: peer.username, password: password, trust: peer.trust)
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

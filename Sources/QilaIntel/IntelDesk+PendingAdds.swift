public import Foundation
public import Logging
public import QilaAccess
public import QilaCore
public import QilaStore
public import ServiceLifecycle

extension IntelDesk {
    /// How long a node holds a pending request between two parts stored.
    public static let pendingLease: TimeInterval = 120
    /// A request whose storing was started this many times without finishing (its nodes died on
    /// it) is given up, every object not stored listed as a failure.
    public static let pendingAttempts = 3

    /// Finishes the oldest pending request no live node holds, if one waits: its objects are
    /// stored a part at a time, each part with its own `date_added`, the status counting what is
    /// done and the claim renewed after each part. A node that dies leaves the request to be taken
    /// again when its claim runs out; storing again what was stored changes nothing. Returns
    /// whether a request was taken.
    @discardableResult
    public func finishPendingAdd(holder: String, now: @Sendable () -> Date = { Date() }) async throws -> Bool {
        guard let job = try await store.claimIntelAdd(holder: holder, now: now(), lease: Self.pendingLease) else { return false }
        let requested = StixTimestamp(job.acceptedAt)
        // The request as it came (an envelope or bundle) or its objects list.
        let kept = try? JSONValue.decode(job.objects)
        let objects = kept?["objects"]?.array ?? kept?.array ?? []
        var status = Status(id: job.status, requestTimestamp: requested, successes: [], failures: [])
        // Before any part is stored: every object is a failure saying why.
        func abandon(_ reason: String) async throws {
            status.failures =
                objects.isEmpty
                ? [Outcome(id: "objects", version: nil, message: reason)]
                : objects.enumerated().map { Outcome(id: $1["id"]?.string ?? "objects[\($0)]", version: $1["modified"]?.string, message: reason) }
            try await store.finishIntelAdd(job.status, body: try Self.statusResource(status).encoded())
            try await audit.append(
                AuditEntry(
                    time: now(), actor: job.account.description, actorOrganisation: job.organisation, action: "intel.objects.add", outcome: .failure,
                    resource: "intel-collection:\(job.collection)", details: ["status": job.status, "reason": reason]))
        }
        guard job.attempts <= Self.pendingAttempts else {
            try await abandon("was not stored: storing the request failed \(Self.pendingAttempts) times")
            return true
        }
        guard !objects.isEmpty || job.total == 0 else {
            try await abandon("was not stored: the request kept for storing cannot be read")
            return true
        }
        guard let collection = try await store.intelCollection(id: job.collection) else {
            try await abandon("was not stored: the collection no longer exists")
            return true
        }
        guard let user = try await store.user(job.account), let organisation = try await store.organisation(job.organisation) else {
            try await abandon("was not stored: the account that sent it no longer exists")
            return true
        }
        let subject = Subject(user: user, organisation: organisation, method: .apiToken, authenticatedAt: job.acceptedAt, mfaAt: nil)
        let recipients = Recipients(organisations: job.recipientOrganisations, people: job.recipientPeople)
        for first in stride(from: 0, to: objects.count, by: pendingPart) {
            let part = objects[first..<min(first + pendingPart, objects.count)]
            let at = now()
            let (successes, failures) = try await store(
                Array(part), from: first, into: collection, by: subject, recipients: recipients, source: job.source, added: StixTimestamp(at), now: at)
            status.successes += successes
            status.failures += failures
            status.pending = objects.count - first - part.count
            guard status.pending > 0 else { break }
            let held = try await store.progressIntelAdd(
                job.status, holder: holder, body: try Self.statusResource(status).encoded(), now: now(), lease: Self.pendingLease)
            // Another node took it over (this one was too slow to renew): it finishes the request.
            guard held else { return true }
        }
        try await store.finishIntelAdd(job.status, body: try Self.statusResource(status).encoded())
        try await auditAdded(status, collection: job.collection, by: subject, source: job.source, now: now())
        return true
    }
}

/// On every node: finishes the pending requests to add objects that no other node holds, one at
/// a time, looking for them every `interval`.
public struct IntelPendingAddWorker: Service {
    let desk: IntelDesk
    let holder: String
    let interval: Duration
    let logger: Logger

    public init(desk: IntelDesk, holder: String, interval: Duration = .seconds(1), logger: Logger) {
        self.desk = desk
        self.holder = holder
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await everyRound(interval, logger: logger, failure: "finishing a pending intelligence request failed") {
            while try await desk.finishPendingAdd(holder: holder) { logger.info("a pending intelligence request is finished") }
        }
    }
}

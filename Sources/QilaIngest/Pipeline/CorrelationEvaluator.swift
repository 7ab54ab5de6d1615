import Foundation
public import Logging
import QilaCore
public import QilaStore
public import ServiceLifecycle

/// Sigma correlations for the whole installation, on one node at a time (which also prunes the
/// shared intake state that has served its purpose: old inputs, closed group claims, periods done).
///
/// Every node's intake writes the events a correlation reads to `correlation_inputs`, with the
/// journal checkpoint of the entries they came from; the node holding the `detect.correlations`
/// lease reads each node's inputs in journal order, runs the correlators and commits the alerts
/// with how far it read, in one transaction. A correlation whose events reach several nodes
/// therefore counts them all, and each input is correlated once. A node that takes the lease
/// over first replays the last day of inputs it has not read into fresh correlators without
/// raising alerts, so windows its predecessor held open go on (docs/decisions/0018).
public struct CorrelationService: Service {
    let runtime: IntakeRuntime
    let lease: Lease
    let interval: Duration
    let logger: Logger

    public init(runtime: IntakeRuntime, lease: Lease, interval: Duration = .seconds(1), logger: Logger) {
        self.runtime = runtime
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var evaluator: CorrelationEvaluator?
        var lastPrune = Date.distantPast
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await lease.acquire() {
                    if evaluator == nil {
                        let fresh = CorrelationEvaluator(runtime: runtime)
                        let warmed = try await fresh.warm(now: runtime.pipeline.clock.now)
                        if warmed > 0 { logger.info("correlation windows rebuilt", metadata: ["events": "\(warmed)"]) }
                        evaluator = fresh
                    }
                    let raised = try await evaluator!.round()
                    if raised > 0 { logger.info("correlations evaluated", metadata: ["inputs": "\(raised)"]) }
                    if Date().timeIntervalSince(lastPrune) > 3600 {
                        let now = runtime.pipeline.clock.now
                        try await runtime.store.pruneCorrelationInputs(before: now.addingTimeInterval(-2 * CorrelationEvaluator.window))
                        try await runtime.store.pruneIntakeClaims(groupsClosedBefore: now.addingTimeInterval(-86_400), periodsDoneBefore: now.addingTimeInterval(-30 * 86_400))
                        lastPrune = Date()
                    }
                } else {
                    evaluator = nil  // another node evaluates; if this one takes over again, it rebuilds
                }
            } catch {
                logger.error("correlation evaluation failed; it starts again from what was committed", metadata: ["error": "\(error)"])
                evaluator = nil
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await lease.release()
    }
}

/// Reads the inputs of every node after the committed cursors and correlates them.
final class CorrelationEvaluator: @unchecked Sendable {
    /// How far back a node taking over replays inputs into its correlators.
    static let window: TimeInterval = 86_400
    static let page = 2_000

    let store: SQLStore
    let sets: DetectionSets
    let committer: AlertCommitter
    private var cursors: [String: Int64] = [:]
    private var indices: [String: (version: Int, byKey: [String: Int])] = [:]

    init(runtime: IntakeRuntime) {
        store = runtime.store
        sets = runtime.sets
        committer = AlertCommitter(
            store: runtime.store, settings: runtime.settings.pipeline, sets: runtime.sets, sensors: runtime.directory, clock: runtime.pipeline.clock,
            correlation: .evaluated)
    }

    /// Replays the last day of inputs already read into the correlators; returns how many.
    func warm(now: Date) async throws -> Int {
        var count = 0
        for (journal, cursor) in try await store.correlationJournals() {
            var after: Int64 = -1
            while true {
                let inputs = try await store.correlationInputs(
                    journal: journal, after: after, through: cursor, since: now.addingTimeInterval(-Self.window), limit: Self.page)
                guard let last = inputs.last else { break }
                committer.warm(results(inputs))
                count += inputs.count
                after = last.sequence
            }
            cursors[journal] = cursor
        }
        return count
    }

    /// Correlates what every node wrote since the last round; returns how many inputs were read.
    func round() async throws -> Int {
        var read = 0
        for (journal, stored) in try await store.correlationJournals() {
            while true {
                let after = max(cursors[journal] ?? stored, stored)
                let inputs = try await store.correlationInputs(journal: journal, after: after, limit: Self.page)
                guard let last = inputs.last else { break }
                var commit = try await committer.build(results(inputs), refusals: ([:], [:]))
                commit.correlationCursors = [(journal, last.sequence)]
                try await store.commitIntake(commit)
                committer.committed()
                cursors[journal] = last.sequence
                read += inputs.count
                if inputs.count < Self.page { break }
            }
        }
        return read
    }

    /// The inputs as results of this node's compiled sets (rules by number again).
    func results(_ inputs: [CorrelationInput]) -> [EntryResult] {
        inputs.compactMap { input in
            guard let (set, version) = sets.ruleSet(for: input.mapping) else { return nil }
            if indices[input.mapping]?.version != version {
                var byKey: [String: Int] = [:]
                for (index, rule) in set.rules.enumerated() { byKey[AlertCommitter.key(of: rule)] = byKey[AlertCommitter.key(of: rule)] ?? index }
                indices[input.mapping] = (version, byKey)
            }
            let byKey = indices[input.mapping]!.byKey
            var result = EntryResult(
                sequence: input.sequence, start: 0, end: 0, sensor: input.sensor, organisation: input.organisation,
                receivedAt: input.receivedAt.milliseconds)
            result.correlated = [.init(mapping: input.mapping, version: version, rules: input.rules.compactMap { byKey[$0] }, event: input.event)]
            return result
        }
    }
}

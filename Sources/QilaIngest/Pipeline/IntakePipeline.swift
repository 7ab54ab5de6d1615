import Foundation
import Logging
import NIOCore
public import QilaCore
public import QilaStore
import Synchronization

/// Journalled entries in, stored alerts out. Entries are numbered as they arrive and matched by
/// worker threads in any order (rules and indicators need no state across events); results are
/// committed strictly in journal order by one committer, which also keeps the state that spans
/// events (alert groups, first-seen values), writes the events Sigma correlations read for the
/// installation's correlation evaluator, and writes the journal checkpoint in the same
/// transaction, so that a restart resumes exactly after the last commit.
public final class IntakePipeline: @unchecked Sendable {
    public let store: SQLStore
    public let sets: DetectionSets
    public let sensors: SensorDirectory
    public let settings: IntakeSettings
    /// Where "now" comes from: when this pipeline started and which hours have ended.
    public let clock: WallClock
    let journalID: String
    let logger: Logger
    let committer: AlertCommitter

    private let condition = NSCondition()
    /// Entries waiting for a worker. A ring buffer, so that an entry's bytes are released the
    /// moment a worker takes it (an array trimmed now and then kept thousands of processed entries,
    /// over a gigabyte at full rate).
    private var queue = CircularBuffer<(sequence: Int64, stored: IntakeJournal.Stored)>(initialCapacity: 1024)
    private var queuedBytes = 0
    private var nextSequence: Int64 = 0
    private var done: [Int64: EntryResult] = [:]
    private var nextToCommit: Int64 = 0
    /// Entries before this sequence are stored (their commit returned).
    private var stored: Int64 = 0
    private var stopping = false
    /// Results taken for a commit that failed, to be committed first next time.
    private var retry: [EntryResult] = []
    private var threads: [Thread] = []
    private var runningWorkers = 0
    private let committedEnd = Atomic<Int64>(0)
    private let eventsProcessed = Atomic<Int64>(0)
    /// Arrival time (ms) of the last committed entry, and when this pipeline started: an hour's
    /// volumes are judged once everything that arrived in it is committed, and only if it ran throughout.
    private var lastCommittedArrival: Int64 = 0
    private var startedAt: Int64 = Int64.max
    /// The last hour judged; loaded from the store once.
    private var volumesJudged: Int64??


    public init(
        store: SQLStore, sets: DetectionSets, sensors: SensorDirectory, settings: IntakeSettings, journalID: String, logger: Logger,
        clock: WallClock = .system
    ) {
        self.store = store
        self.clock = clock
        self.sets = sets
        self.sensors = sensors
        self.settings = settings
        self.journalID = journalID
        self.logger = logger
        committer = AlertCommitter(
            store: store, settings: settings, sets: sets, sensors: sensors, clock: clock, correlation: .deferred(journal: journalID))
    }

    /// Events matched so far (refused records not counted).
    public var processedEvents: Int64 { eventsProcessed.load(ordering: .relaxed) }
    /// The journal position up to which everything is committed.
    public var committedPosition: Int64 { committedEnd.load(ordering: .relaxed) }

    public var backlogBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedBytes
    }

    /// Starts the worker threads.
    public func start(committedPosition: Int64) {
        startedAt = clock.now.milliseconds
        condition.lock()
        stored = nextSequence
        condition.unlock()
        committedEnd.store(committedPosition, ordering: .relaxed)
        condition.lock()
        runningWorkers = settings.workers
        condition.unlock()
        for index in 0..<settings.workers {
            let thread = Thread { [self] in self.work() }
            thread.name = "qila-detect-\(index)"
            threads.append(thread)
            thread.start()
        }
    }

    /// Hands a durable entry to the workers; waits while the backlog is over its limit (which
    /// is what slows the journal, and through it the listeners).
    public func submit(_ stored: IntakeJournal.Stored) {
        let size = stored.entry.payload.count
        condition.lock()
        while queuedBytes > 0 && queuedBytes + size > settings.queueBytes && !stopping { condition.wait() }
        queue.append((nextSequence, stored))
        nextSequence += 1
        queuedBytes += size
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        var worker = IntakeWorker(sets: sets, evidenceLimit: settings.evidencePerAlert)
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                runningWorkers -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let (sequence, stored) = queue.removeFirst()
            condition.unlock()
            let result = worker.process(stored, sequence: sequence, sensor: sensors.sensor(stored.entry.sensor))
            eventsProcessed.add(result.events, ordering: .relaxed)
            condition.lock()
            // The entry's bytes stay counted until its result is taken for a commit: results
            // (evidence, events for correlations) waiting for a slower committer are bounded too.
            var held = result
            held.heldBytes = stored.entry.payload.count
            done[sequence] = held
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Results ready to commit, in order.
    private func takeReady() -> [EntryResult] {
        condition.lock()
        defer { condition.unlock() }
        var ready: [EntryResult] = []
        var released = 0
        while let result = done.removeValue(forKey: nextToCommit) {
            released += result.heldBytes
            ready.append(result)
            nextToCommit += 1
        }
        if released > 0 {
            queuedBytes -= released
            condition.broadcast()
        }
        return ready
    }

    private func markStored(before sequence: Int64) {
        condition.lock()
        stored = sequence
        condition.unlock()
    }

    /// Whether everything submitted so far has been committed and stored.
    public var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stored == nextSequence
    }

    /// Commits what is ready: one transaction for the alerts, volumes, health and the checkpoint.
    @discardableResult
    public func commitReady() async throws -> Int {
        let ready = retry + takeReady()
        retry = []
        let refusals = sensors.takeRefusals()
        guard let last = ready.last else {
            if !refusals.counts.isEmpty { try await store.commitIntake(try await committer.build([], refusals: refusals)) }
            committer.committed()
            return 0
        }
        var commit: IntakeCommit
        do {
            commit = try await committer.build(ready, refusals: refusals)
            commit.checkpoint = (journalID, last.end)
            try await store.commitIntake(commit)
        } catch {
            retry = ready
            throw error
        }
        committer.committed()
        lastCommittedArrival = max(lastCommittedArrival, last.receivedAt)
        markStored(before: last.sequence + 1)
        committedEnd.store(last.end, ordering: .relaxed)
        return ready.count
    }

    /// Judges the volumes of `hour` (hours since 1970, UTC) against their baselines and commits
    /// the anomalies with the hour as the last judged. Must not run alongside `commitReady`.
    public func judgeVolumes(hour: Int64) async throws {
        let history = try await store.volumeHistory(hour: hour, days: VolumeWatch.historyDays)
        let findings = VolumeWatch(settings: settings).judge(hour: hour, history: history, sensors: try await store.sensors())
        var commit = try await committer.build([], refusals: ([:], [:]), volumes: findings)
        commit.volumesJudged = hour
        do {
            try await store.commitIntake(commit)
        } catch let error as StoreError where error.code == .conflict {
            // Another node judged this hour first.
            committer.abandoned()
            volumesJudged = .some(hour)
            return
        }
        committer.committed()
        volumesJudged = .some(hour)
        if !findings.isEmpty { logger.info("volume anomalies", metadata: ["hour": "\(hour)", "alerts": "\(findings.count)"]) }
    }

    /// Judges every whole hour, by the pipeline's clock, since the last judged one that this
    /// pipeline ran throughout, once a minute has passed after it and everything that arrived in it
    /// is committed. The committer calls this on every round; tests call it after moving the clock.
    public func judgeDueVolumes() async throws {
        let now = clock.now.milliseconds
        let last = now / 3_600_000 - 1
        guard now - (last + 1) * 3_600_000 >= 60_000 else { return }
        if volumesJudged == nil { volumesJudged = .some(try await store.volumesJudged()) }
        let first = max((volumesJudged!.map { $0 + 1 }) ?? 0, (startedAt + 3_599_999) / 3_600_000)
        guard first <= last else { return }
        for hour in first...last {
            guard lastCommittedArrival >= (hour + 1) * 3_600_000 || isIdle else { return }
            try await judgeVolumes(hour: hour)
        }
    }

    /// Commits until stopped: every `commitInterval`, or sooner when much is ready; judges volumes
    /// as hours end.
    public func runCommitter() async {
        while !Task.isCancelled {
            do {
                try await judgeDueVolumes()
                if try await commitReady() == 0 {
                    try? await Task.sleep(for: .milliseconds(Int(settings.commitInterval * 1000)))
                }
            } catch {
                logger.error("intake commit failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Waits until everything submitted has been committed (tests and shutdown).
    public func drain() async throws {
        while !isIdle {
            if try await commitReady() == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// Stops the workers once the queue is empty.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while runningWorkers > 0 { condition.wait() }
        condition.unlock()
    }
}

import Foundation

/// A correlation rule that fired: for which group of field values, what was measured, over
/// which window, and which events made it.
public struct CorrelationAlert: Sendable {
    /// Index into the set's `correlations`.
    public var correlation: Int
    /// The group-by fields (as the correlation names them) and their values.
    public var group: [(field: String, value: String)]
    /// What the condition compared: events, distinct values, rules seen, sum, mean, percentile
    /// or median.
    public var value: Double
    /// The window, in milliseconds since 1970.
    public var windowStart: Int64
    public var windowEnd: Int64
    /// How many events (or lower correlations' firings) the window held.
    public var eventCount: Int
    /// The references given with those events, earliest first, at most `Correlator.evidenceLimit`.
    public var events: [Int64]
}

/// Runs a `CorrelationSet` over a stream: one per stream (not shared between threads), fed
/// with the rule matches of each event in order.
///
/// Windows slide: a condition that only asks for at least some (`gt`, `gte`, and `temporal`)
/// fires the moment the last `timespan` of a group meets it, and the group starts afresh. A
/// condition with an upper bound (`lt`, `lte`, `eq`), and the mean, median and percentiles,
/// need the whole window: the window opens at the group's first event, closes `timespan` later,
/// and is decided then (when a later event or `advance(to:)` moves time past it, or at `finish`).
public struct Correlator {
    public let set: CorrelationSet
    /// At most this many event references are kept as an alert's evidence.
    public static let evidenceLimit = 32
    /// Bounds on state, so memory stays bounded whatever the input: groups per correlation and
    /// entries per group; past them the oldest are dropped and counted.
    public var groupLimit = 100_000
    public var entryLimit = 65_536

    public private(set) var eventsWithoutTime = 0
    public private(set) var nonNumericValues = 0
    public private(set) var droppedGroups = 0
    public private(set) var droppedEntries = 0
    /// The latest event time seen.
    public private(set) var clock: Int64 = .min

    private var states: [[String: Group]]
    private var observationsSinceSweep = 0
    private var lastSweep: Int64 = .min
    private let decidesAtClose: [Bool]

    struct Entry {
        var time: Int64
        var reference: Int64
        var text: String?
        var number: Double
    }

    struct Group {
        var values: [String]
        /// Sorted by time.
        var entries: [Entry] = []
        var counts: [String: Int] = [:]
        var sum = 0.0
        /// temporal: when each referenced rule last occurred, and that event.
        var seen: [(time: Int64, reference: Int64)?]
        /// temporal_ordered: the latest start of a chain that has completed positions 0...i.
        var starts: [(start: Int64, references: [Int64])?]
        var windowStart: Int64?
        var latest: Int64 = .min

        init(values: [String], positions: Int) {
            self.values = values
            seen = Array(repeating: nil, count: positions)
            starts = Array(repeating: nil, count: positions)
        }

        var isEmpty: Bool { entries.isEmpty && seen.allSatisfy { $0 == nil } && starts.allSatisfy { $0 == nil } }
    }

    struct Observation {
        var time: Int64
        var reference: Int64
        var lookup: (String) -> String?
    }

    public init(_ set: CorrelationSet) {
        self.set = set
        states = Array(repeating: [:], count: set.correlations.count)
        decidesAtClose = set.correlations.map { correlation in
            switch correlation.kind {
            case .valueAverage, .valueMedian, .valuePercentile: true
            case .temporal, .temporalOrdered: false
            case .eventCount, .valueCount, .valueSum: correlation.comparisons.contains { !$0.isLowerBound }
            }
        }
    }

    /// Feeds the rules one event matched. The event is read (for its time and the fields the
    /// correlations group by) only when a correlation reads one of those rules. `reference`
    /// identifies the event in alerts (a line number, a journal offset); `time` overrides the
    /// event's own time field. Returns the correlations that fired, chained ones included.
    public mutating func observe(rules: [Int], event: UnsafeBufferPointer<UInt8>, reference: Int64, time: Int64? = nil) -> [CorrelationAlert] {
        guard rules.contains(where: set.reads(rule:)) else { return [] }
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: event))) as? [String: Any] ?? [:]
        return observe(rules: rules, object: object, reference: reference, time: time)
    }

    /// The same for an event already decoded.
    public mutating func observe(rules: [Int], object: [String: Any], reference: Int64, time: Int64? = nil) -> [CorrelationAlert] {
        guard rules.contains(where: set.reads(rule:)) else { return [] }
        var when = time
        if when == nil, let value = SigmaEvaluator.lookup(set.timestampPaths, in: object) {
            when = SigmaEvaluator.texts(value).first.flatMap(EventTime.milliseconds)
        }
        if when == nil {
            eventsWithoutTime += 1
            when = clock == .min ? 0 : clock
        }
        let paths = set.paths
        let observation = Observation(time: when!, reference: reference) { field in
            guard let fieldPaths = paths[field], let value = SigmaEvaluator.lookup(fieldPaths, in: object) else { return nil }
            let texts = SigmaEvaluator.texts(value)
            return texts.isEmpty ? nil : texts.joined(separator: ",")
        }
        var alerts: [CorrelationAlert] = []
        alerts += advance(to: observation.time)
        for rule in rules {
            for (correlation, position) in set.readersOfRule[rule] ?? [] {
                feed(correlation, position, observation, into: &alerts)
            }
        }
        return alerts
    }

    /// Moves time forward (a live stream's wall clock, or the last event's time) and decides
    /// the windows that closed before it.
    public mutating func advance(to time: Int64) -> [CorrelationAlert] {
        clock = max(clock, time)
        observationsSinceSweep += 1
        let groups = states.reduce(0) { $0 + $1.count }
        guard observationsSinceSweep >= max(1024, groups) || lastSweep == .min || clock - lastSweep >= 60_000 else { return [] }
        return sweep(closingBefore: clock)
    }

    /// Decides every open window as the stream ends.
    public mutating func finish() -> [CorrelationAlert] {
        sweep(closingBefore: .max)
    }

    private mutating func sweep(closingBefore now: Int64) -> [CorrelationAlert] {
        observationsSinceSweep = 0
        lastSweep = now == .max ? lastSweep : now
        var alerts: [CorrelationAlert] = []
        for correlation in states.indices {
            let span = set.correlations[correlation].timespan
            for (key, var group) in states[correlation] {
                if decidesAtClose[correlation] {
                    guard let start = group.windowStart, now == .max || start + span < now else { continue }
                    close(correlation, &group, end: start + span, trigger: nil, into: &alerts)
                    states[correlation][key] = nil
                } else if group.latest < now - span || now == .max {
                    // Nothing in the window any more (or the stream ended): forget the group.
                    states[correlation][key] = nil
                }
            }
        }
        return alerts
    }

    private mutating func feed(_ correlation: Int, _ position: Int, _ observation: Observation, into alerts: inout [CorrelationAlert]) {
        let rule = set.correlations[correlation]
        let values = set.groupFields[correlation][position].map { observation.lookup($0) ?? "" }
        let key = values.joined(separator: "\u{1F}")
        var group = states[correlation][key] ?? Group(values: values, positions: rule.rules.count)
        if states[correlation][key] == nil, states[correlation].count >= groupLimit {
            dropOldestGroup(of: correlation)
        }
        let span = rule.timespan
        let time = observation.time
        group.latest = max(group.latest, time)

        if decidesAtClose[correlation] {
            if let start = group.windowStart, time > start + span {
                close(correlation, &group, end: start + span, trigger: observation, into: &alerts)
                group = Group(values: values, positions: rule.rules.count)
                group.latest = time
            }
            // A window opens with the first event that brings a value (for value types, an
            // event without the field is not part of the window).
            if insert(correlation, observation, into: &group), group.windowStart == nil { group.windowStart = time }
            if group.windowStart != nil { states[correlation][key] = group }
            return
        }

        var fired: CorrelationAlert?
        switch rule.kind {
        case .temporal:
            if let previous = group.seen[position], previous.time > time {
                // An older occurrence than the one known changes nothing.
            } else {
                group.seen[position] = (time, observation.reference)
            }
            for index in group.seen.indices where (group.seen[index]?.time ?? .max) < group.latest - span {
                group.seen[index] = nil
            }
            let present = group.seen.map { $0 != nil }
            let count = Double(present.filter(\.self).count)
            let holds: Bool
            if let expression = rule.expression {
                holds = Self.evaluate(expression, names: rule.rules, present: present)
            } else if !rule.comparisons.isEmpty {
                holds = rule.comparisons.allSatisfy { $0.holds(count) }
            } else {
                holds = present.allSatisfy(\.self)
            }
            if holds {
                let occurred = group.seen.compactMap(\.self).sorted { $0.time < $1.time }
                fired = alert(
                    correlation, group, value: count, start: occurred.first?.time ?? time, end: time, count: occurred.count,
                    events: occurred.map(\.reference))
            }
        case .temporalOrdered:
            for index in group.starts.indices where (group.starts[index]?.start ?? .max) < time - span {
                group.starts[index] = nil
            }
            if position == 0 {
                group.starts[0] = (time, [observation.reference])
            } else if let previous = group.starts[position - 1], time - previous.start <= span {
                if (group.starts[position]?.start ?? .min) <= previous.start {
                    group.starts[position] = (previous.start, previous.references + [observation.reference])
                }
            }
            if let complete = group.starts[rule.rules.count - 1] {
                fired = alert(
                    correlation, group, value: Double(rule.rules.count), start: complete.start, end: time, count: complete.references.count,
                    events: complete.references)
            }
        case .eventCount, .valueCount, .valueSum, .valueAverage, .valueMedian, .valuePercentile:
            insert(correlation, observation, into: &group)
            evict(correlation, &group, before: group.latest - span)
            if let measured = measure(correlation, group), rule.comparisons.allSatisfy({ $0.holds(measured) }) {
                fired = alert(
                    correlation, group, value: measured, start: group.entries.first?.time ?? time, end: time, count: group.entries.count,
                    events: group.entries.prefix(Self.evidenceLimit).map(\.reference))
            }
        }
        if let fired {
            // The group starts afresh after firing.
            states[correlation][key] = nil
            alerts.append(fired)
            chain(fired, trigger: observation, into: &alerts)
        } else {
            states[correlation][key] = group.isEmpty ? nil : group
        }
    }

    /// Decides a closed window, and feeds a firing to the correlations that read this one.
    private mutating func close(_ correlation: Int, _ group: inout Group, end: Int64, trigger: Observation?, into alerts: inout [CorrelationAlert]) {
        let rule = set.correlations[correlation]
        guard let measured = measure(correlation, group), rule.comparisons.allSatisfy({ $0.holds(measured) }) else { return }
        let fired = alert(
            correlation, group, value: measured, start: group.windowStart ?? end, end: end, count: group.entries.count,
            events: group.entries.prefix(Self.evidenceLimit).map(\.reference))
        alerts.append(fired)
        chain(fired, trigger: trigger, into: &alerts)
    }

    private mutating func chain(_ fired: CorrelationAlert, trigger: Observation?, into alerts: inout [CorrelationAlert]) {
        let readers = set.readersOfCorrelation[fired.correlation]
        guard !readers.isEmpty else { return }
        let group = Dictionary(fired.group.map { ($0.field, $0.value) }, uniquingKeysWith: { first, _ in first })
        let observation = Observation(time: fired.windowEnd, reference: fired.events.last ?? trigger?.reference ?? 0) { field in
            group[field] ?? trigger?.lookup(field)
        }
        for (reader, position) in readers {
            feed(reader, position, observation, into: &alerts)
        }
    }

    /// Adds the event to the group's window; false when it brings no value to aggregate.
    @discardableResult
    private mutating func insert(_ correlation: Int, _ observation: Observation, into group: inout Group) -> Bool {
        let rule = set.correlations[correlation]
        var entry = Entry(time: observation.time, reference: observation.reference, text: nil, number: 0)
        if let field = rule.field {
            guard let text = observation.lookup(field) else { return false }
            if rule.kind == .valueCount {
                entry.text = text
                group.counts[text, default: 0] += 1
            } else {
                guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                    nonNumericValues += 1
                    return false
                }
                entry.number = number
                group.sum += number
            }
        }
        if let last = group.entries.last, last.time > entry.time {
            // Out of order: keep the entries sorted by time.
            let index = group.entries.partitioningIndex { $0.time > entry.time }
            group.entries.insert(entry, at: index)
        } else {
            group.entries.append(entry)
        }
        if group.entries.count > entryLimit {
            droppedEntries += 1
            remove(correlation, &group, count: 1)
        }
        return true
    }

    private func evict(_ correlation: Int, _ group: inout Group, before limit: Int64) {
        let stale = group.entries.partitioningIndex { $0.time >= limit }
        if stale > 0 { remove(correlation, &group, count: stale) }
    }

    private func remove(_ correlation: Int, _ group: inout Group, count: Int) {
        for entry in group.entries.prefix(count) {
            if let text = entry.text {
                group.counts[text, default: 1] -= 1
                if group.counts[text] == 0 { group.counts[text] = nil }
            }
            group.sum -= entry.number
        }
        group.entries.removeFirst(count)
    }

    private func measure(_ correlation: Int, _ group: Group) -> Double? {
        let rule = set.correlations[correlation]
        switch rule.kind {
        case .eventCount: return Double(group.entries.count)
        case .valueCount: return Double(group.counts.count)
        case .valueSum: return group.entries.isEmpty ? nil : group.sum
        case .valueAverage: return group.entries.isEmpty ? nil : group.sum / Double(group.entries.count)
        case .valueMedian: return Self.percentile(50, of: group.entries.map(\.number))
        case .valuePercentile: return Self.percentile(rule.percentile ?? 50, of: group.entries.map(\.number))
        case .temporal, .temporalOrdered: return nil
        }
    }

    /// The p-th percentile with linear interpolation between the closest ranks (p 50 is the
    /// median; p 0 the least value, p 100 the greatest).
    static func percentile(_ p: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - Double(lower))
    }

    static func evaluate(_ condition: SigmaCondition, names: [String], present: [Bool]) -> Bool {
        func seen(_ name: String) -> Bool { names.firstIndex(of: name).map { present[$0] } ?? false }
        switch condition {
        case .search(let name): return seen(name)
        case .oneOf(let pattern): return SigmaCondition.expand(pattern, in: names).contains(where: seen)
        case .allOf(let pattern): return SigmaCondition.expand(pattern, in: names).allSatisfy(seen)
        case .not(let inner): return !evaluate(inner, names: names, present: present)
        case .and(let parts): return parts.allSatisfy { evaluate($0, names: names, present: present) }
        case .or(let parts): return parts.contains { evaluate($0, names: names, present: present) }
        }
    }

    private func alert(_ correlation: Int, _ group: Group, value: Double, start: Int64, end: Int64, count: Int, events: [Int64]) -> CorrelationAlert {
        let names = set.correlations[correlation].groupBy
        return CorrelationAlert(
            correlation: correlation, group: Array(zip(names, group.values)).map { (field: $0.0, value: $0.1) }, value: value,
            windowStart: start, windowEnd: end, eventCount: count, events: events)
    }

    /// Makes room when a correlation holds `groupLimit` groups: the tenth least recently active
    /// are dropped at once, so a flood of new groups costs one sort per tenth of the limit.
    private mutating func dropOldestGroup(of correlation: Int) {
        let victims = states[correlation].sorted { $0.value.latest < $1.value.latest }.prefix(max(1, groupLimit / 10))
        for (key, _) in victims { states[correlation][key] = nil }
        droppedGroups += victims.count
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate false then true
    /// along the array.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

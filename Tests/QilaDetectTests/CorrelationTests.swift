import Foundation
import QilaTestSupport
import Testing

@testable import QilaDetect

@Suite("Detection: Sigma correlation rules")
struct CorrelationTests {
    /// Detection rules used by the scenarios: failed and successful logins, and three recon commands.
    static let baseRules = """
        title: Failed login
        id: 5638f7c0-ac70-491d-8465-2a65075e0d86
        name: failed_login
        logsource: {product: test}
        detection: {selection: {action: fail}, condition: selection}
        ---
        title: Successful login
        name: successful_login
        logsource: {product: test}
        detection: {selection: {action: success}, condition: selection}
        ---
        title: Recon A
        name: recon_a
        logsource: {product: test}
        detection: {selection: {command: whoami}, condition: selection}
        ---
        title: Recon B
        name: recon_b
        logsource: {product: test}
        detection: {selection: {command: ipconfig}, condition: selection}
        ---
        title: Recon C
        name: recon_c
        logsource: {product: test}
        detection: {selection: {command: netstat}, condition: selection}
        ---
        title: Transfer
        name: transfer
        logsource: {product: test}
        detection: {selection: {action: transfer}, condition: selection}
        """

    static func engine(_ correlations: String, rules: String = baseRules) throws -> DetectionEngine {
        var detection: [SigmaRule] = []
        var correlationRules: [SigmaCorrelation] = []
        for result in SigmaRuleParser().parseDocuments(yaml: rules + "\n---\n" + correlations, file: "test.yml") {
            switch try result.get() {
            case .rule(let rule): detection.append(rule)
            case .correlation(let correlation): correlationRules.append(correlation)
            }
        }
        let set = CompiledRuleSet(rules: detection, mapping: .flat, correlations: correlationRules)
        #expect(set.refusals.isEmpty, "\(set.refusals)")
        return DetectionEngine(set)
    }

    /// An event at `second` seconds past 2024-03-01T10:00:00Z.
    static func event(_ second: Int, _ fields: [String: Any]) -> [UInt8] {
        var object = fields
        object["@timestamp"] = EventTime.text(Self.base + Int64(second) * 1000)
        return Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static let base = EventTime.milliseconds("2024-03-01T10:00:00Z")!

    /// Runs events through a session; returns the correlation alerts as (title, group values, value, at second).
    static func run(_ engine: DetectionEngine, _ events: [[UInt8]], finish: Bool = true) throws -> [(title: String, group: [String], value: Double, end: Int)] {
        var session = engine.makeSession()
        var found: [Alert] = []
        for (index, event) in events.enumerated() {
            found += try session.process(event, reference: Int64(index))
        }
        if finish { found += session.finish() }
        return found.compactMap { alert in
            guard case .correlation(let correlation, let fired) = alert.origin else { return nil }
            return (correlation.title, fired.group.map(\.value), fired.value, Int((fired.windowEnd - base) / 1000))
        }
    }

    @Test("event_count slides over the timespan, per group, and starts afresh after firing")
    func eventCount() throws {
        let engine = try Self.engine(
            """
            title: Brute force
            correlation: {type: event_count, rules: [failed_login], group-by: [user], timespan: 1m, condition: {gte: 3}}
            level: high
            """)
        let events = [
            Self.event(0, ["action": "fail", "user": "alice"]),
            Self.event(10, ["action": "fail", "user": "bob"]),
            Self.event(20, ["action": "fail", "user": "alice"]),
            Self.event(59, ["action": "fail", "user": "alice"]),  // third within 60 s: fires
            Self.event(61, ["action": "fail", "user": "alice"]),  // window restarted: 1
            Self.event(75, ["action": "fail", "user": "bob"]),  // bob's first (10 s) is 65 s old: gone
            Self.event(80, ["action": "fail", "user": "bob"]),
            Self.event(200, ["action": "fail", "user": "alice"]),  // 61 has left the window
            Self.event(230, ["action": "fail", "user": "alice"]),
            Self.event(130, ["action": "success", "user": "bob"]),  // another rule: not counted
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.group) == [["alice"]])
        #expect(alerts.first?.value == 3)
        #expect(alerts.first?.end == 59)
        // The rule fed by the correlation alerts on its own only with generate: true.
        var session = engine.makeSession()
        #expect(try session.process(Self.event(0, ["action": "fail", "user": "x"])).isEmpty)
        #expect(try session.process(Self.event(0, ["action": "success", "user": "x"])).map(\.title) == ["Successful login"])
    }

    @Test("a condition with an upper bound is decided when the window closes")
    func boundedCount() throws {
        let engine = try Self.engine(
            """
            title: Exactly two transfers
            correlation: {type: event_count, rules: transfer, group-by: [account], timespan: 1m, condition: {gte: 2, lte: 2}}
            """)
        let events = [
            Self.event(0, ["action": "transfer", "account": "a"]),
            Self.event(30, ["action": "transfer", "account": "a"]),
            Self.event(5, ["action": "transfer", "account": "b"]),
            Self.event(6, ["action": "transfer", "account": "b"]),
            Self.event(7, ["action": "transfer", "account": "b"]),
            Self.event(90, ["action": "transfer", "account": "a"]),  // closes a's window [0, 60]: 2 → fires
            Self.event(95, ["action": "transfer", "account": "a"]),  // a's second window: 90, 95 → decided at finish
        ]
        let alerts = try Self.run(engine, events, finish: false)
        #expect(alerts.map(\.group) == [["a"]])
        #expect(alerts.first?.end == 60)
        let atEnd = try Self.run(engine, events)
        #expect(atEnd.map(\.group) == [["a"], ["a"]])
        #expect(atEnd.map(\.value) == [2, 2])
    }

    @Test("an event without the aggregated field opens no window")
    func windowsNeedValues() throws {
        let engine = try Self.engine(
            """
            title: Few users
            correlation: {type: value_count, rules: [failed_login], group-by: [source], timespan: 1m, condition: {field: user, lt: 3}}
            """)
        let events = [
            Self.event(0, ["action": "fail", "source": "10.0.0.1"]),  // no user: no window, no alert
            Self.event(5, ["action": "fail", "source": "10.0.0.2", "user": "a"]),
            Self.event(6, ["action": "fail", "source": "10.0.0.2", "user": "b"]),
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.group) == [["10.0.0.2"]])
        #expect(alerts.map(\.value) == [2])
        #expect(alerts.map(\.end) == [65])
    }

    @Test("value_count counts distinct values of the field per group")
    func valueCount() throws {
        let engine = try Self.engine(
            """
            title: Password spraying
            correlation:
              type: value_count
              rules: [failed_login]
              group-by: [source]
              timespan: 10m
              condition: {field: user, gte: 3}
            """)
        let events = [
            Self.event(0, ["action": "fail", "user": "alice", "source": "10.0.0.1"]),
            Self.event(1, ["action": "fail", "user": "alice", "source": "10.0.0.1"]),
            Self.event(2, ["action": "fail", "user": "bob", "source": "10.0.0.1"]),
            Self.event(3, ["action": "fail", "user": "carol", "source": "10.0.0.2"]),
            Self.event(4, ["action": "fail", "source": "10.0.0.1"]),  // no user: not a value
            Self.event(5, ["action": "fail", "user": "carol", "source": "10.0.0.1"]),
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.group) == [["10.0.0.1"]])
        #expect(alerts.first?.value == 3)
        #expect(alerts.first?.end == 5)
    }

    @Test("value_sum, value_avg, value_median and value_percentile aggregate the numbers of a field")
    func valueAggregates() throws {
        let engine = try Self.engine(
            """
            title: Large volume
            correlation: {type: value_sum, rules: transfer, group-by: [account], timespan: 1h, condition: {field: bytes, gt: 1000}}
            ---
            title: Large average
            correlation: {type: value_avg, rules: transfer, group-by: [account], timespan: 1h, condition: {field: bytes, gte: 300}}
            ---
            title: Large median
            correlation: {type: value_median, rules: transfer, group-by: [account], timespan: 1h, condition: {field: bytes, gte: 300}}
            ---
            title: Large p90
            correlation: {type: value_percentile, rules: transfer, group-by: [account], timespan: 1h, condition: {field: bytes, percentile: 90, gte: 900}}
            """)
        // Account a: 100, 200, 300, 1000 (sum 1,600 > 1,000 at the fourth; mean 400; median 250;
        // p90 = 300 + 0.7 × 700 = 790). Account b: 10 × 100 and one "n/a" (sum 1,000: not > 1,000).
        var events = [100, 200, 300, 1000].enumerated().map { Self.event($0.offset, ["action": "transfer", "account": "a", "bytes": $0.element]) }
        events += (0..<10).map { Self.event(10 + $0, ["action": "transfer", "account": "b", "bytes": "100"]) }
        events.append(Self.event(30, ["action": "transfer", "account": "b", "bytes": "n/a"]))
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.title) == ["Large volume", "Large average"])
        #expect(alerts.map(\.value) == [1600, 400])
        #expect(alerts.map(\.group) == [["a"], ["a"]])
        #expect(abs(Correlator.percentile(90, of: [100, 200, 300, 1000])! - 790) < 1e-9)
        #expect(Correlator.percentile(50, of: [100, 200, 300, 1000]) == 250)
        #expect(Correlator.percentile(0, of: [3, 1, 2]) == 1)
        #expect(Correlator.percentile(100, of: [3, 1, 2]) == 3)
        #expect(Correlator.percentile(50, of: []) == nil)
    }

    @Test("temporal needs every rule (or the condition's rules) within the timespan, in any order")
    func temporal() throws {
        let engine = try Self.engine(
            """
            title: Recon burst
            correlation: {type: temporal, rules: [recon_a, recon_b, recon_c], group-by: [host, user], timespan: 5m}
            ---
            title: Two recon commands
            correlation: {type: temporal, rules: [recon_a, recon_b, recon_c], group-by: [host], timespan: 5m, condition: {gte: 2}}
            ---
            title: whoami without netstat
            correlation: {type: temporal, rules: [recon_a, recon_b, recon_c], group-by: [host], timespan: 5m, condition: recon_a and recon_b and not recon_c}
            """)
        let events = [
            Self.event(0, ["command": "netstat", "host": "h1", "user": "u"]),
            Self.event(60, ["command": "whoami", "host": "h1", "user": "u"]),  // two: "Two recon commands"
            Self.event(120, ["command": "whoami", "host": "h1", "user": "other"]),
            Self.event(299, ["command": "ipconfig", "host": "h1", "user": "u"]),  // all three for (h1, u) within 5 m
            Self.event(400, ["command": "whoami", "host": "h2", "user": "u"]),
            Self.event(410, ["command": "ipconfig", "host": "h2", "user": "u"]),  // h2: a and b, no c
            Self.event(1000, ["command": "netstat", "host": "h3", "user": "u"]),
            Self.event(1400, ["command": "whoami", "host": "h3", "user": "u"]),  // netstat is 400 s old: gone
        ]
        let alerts = try Self.run(engine, events)
        let fired = alerts.map { "\($0.title) \($0.group.joined(separator: "/")) @\($0.end)" }
        #expect(
            fired == [
                "Two recon commands h1 @60", "Recon burst h1/u @299", "Two recon commands h1 @299",
                "Two recon commands h2 @410", "whoami without netstat h2 @410",
            ])
        #expect(!fired.contains { $0.contains("h3") })
    }

    @Test("temporal_ordered needs the rules in the order listed")
    func temporalOrdered() throws {
        let engine = try Self.engine(
            """
            title: Fail then succeed
            correlation: {type: temporal_ordered, rules: [failed_login, successful_login], group-by: [user], timespan: 1m}
            """)
        let events = [
            Self.event(0, ["action": "success", "user": "a"]),  // success first: no
            Self.event(10, ["action": "fail", "user": "a"]),
            Self.event(20, ["action": "success", "user": "a"]),  // fail → success within 60 s: fires
            Self.event(100, ["action": "fail", "user": "b"]),
            Self.event(200, ["action": "success", "user": "b"]),  // 100 s later: too late
            Self.event(300, ["action": "fail", "user": "c"]),
            Self.event(330, ["action": "fail", "user": "c"]),
            Self.event(380, ["action": "success", "user": "c"]),  // the later fail (330) is within 60 s
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.group) == [["a"], ["c"]])
        #expect(alerts.map(\.end) == [20, 380])
    }

    @Test("aliases group on different fields of different rules (the specification's example)")
    func aliases() throws {
        let rules = """
            title: Internal error
            name: internal_error
            logsource: {product: test}
            detection: {selection: {http.response.status_code: 500}, condition: selection}
            ---
            title: New network connection
            name: new_network_connection
            logsource: {product: test}
            detection: {selection: {event.category: network, event.outcome: success}, condition: selection}
            """
        let engine = try Self.engine(
            """
            title: Error then connection back
            correlation:
              type: temporal
              rules: [internal_error, new_network_connection]
              group-by: [internal_ip, remote_ip]
              timespan: 10s
              aliases:
                internal_ip: {internal_error: destination.ip, new_network_connection: source.ip}
                remote_ip: {internal_error: source.ip, new_network_connection: destination.ip}
            """, rules: rules)
        let events = [
            Self.event(0, ["http.response.status_code": 500, "source.ip": "203.0.113.9", "destination.ip": "10.0.0.5"]),
            Self.event(3, ["event.category": "network", "event.outcome": "success", "source.ip": "10.0.0.6", "destination.ip": "203.0.113.9"]),
            Self.event(5, ["event.category": "network", "event.outcome": "success", "source.ip": "10.0.0.5", "destination.ip": "203.0.113.9"]),
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.group) == [["10.0.0.5", "203.0.113.9"]])
        #expect(alerts.first?.end == 5)
    }

    @Test("correlations chain: a correlation can reference another by name or id")
    func chained() throws {
        let engine = try Self.engine(
            """
            title: Many failed logins
            id: 0e95725d-7320-415d-80f7-004da920fc11
            name: many_failed_logins
            correlation: {type: event_count, rules: [5638f7c0-ac70-491d-8465-2a65075e0d86], group-by: [user], timespan: 10m, condition: {gte: 3}}
            ---
            title: Brute force succeeded
            correlation: {type: temporal_ordered, rules: [many_failed_logins, successful_login], group-by: [user], timespan: 1h}
            level: critical
            """)
        let events = [
            Self.event(0, ["action": "fail", "user": "root"]),
            Self.event(1, ["action": "fail", "user": "root"]),
            Self.event(2, ["action": "success", "user": "root"]),  // before the third failure: not yet
            Self.event(3, ["action": "fail", "user": "root"]),  // many_failed_logins fires
            Self.event(600, ["action": "success", "user": "root"]),  // then success: the chain fires
            Self.event(700, ["action": "success", "user": "admin"]),
        ]
        let alerts = try Self.run(engine, events)
        #expect(alerts.map(\.title) == ["Many failed logins", "Brute force succeeded"])
        #expect(alerts.map(\.end) == [3, 600])
        #expect(alerts.last?.group == ["root"])
    }

    @Test("references that do not resolve, cycles and alias faults are refused with the reason")
    func resolutionRefusals() throws {
        var rules: [SigmaRule] = []
        var correlations: [SigmaCorrelation] = []
        let text = Self.baseRules + """

            ---
            title: Unknown reference
            correlation: {type: event_count, rules: [no_such_rule], group-by: [user], timespan: 1m, condition: {gte: 2}}
            ---
            title: Loop one
            name: loop_one
            correlation: {type: event_count, rules: [loop_two], timespan: 1m, condition: {gte: 2}}
            ---
            title: Loop two
            name: loop_two
            correlation: {type: event_count, rules: [loop_one], timespan: 1m, condition: {gte: 2}}
            ---
            title: Reads a refused one
            correlation: {type: event_count, rules: [loop_one], timespan: 1m, condition: {gte: 2}}
            ---
            title: Alias without a field for every rule
            correlation:
              type: temporal
              rules: [recon_a, recon_b]
              group-by: [who]
              timespan: 1m
              aliases: {who: {recon_a: user}}
            ---
            title: Fine
            correlation: {type: event_count, rules: [recon_a], timespan: 1m, condition: {gte: 2}}
            """
        for result in SigmaRuleParser().parseDocuments(yaml: text, file: "refs.yml") {
            switch try result.get() {
            case .rule(let rule): rules.append(rule)
            case .correlation(let correlation): correlations.append(correlation)
            }
        }
        let set = CorrelationSet(correlations: correlations, rules: rules, mapping: .flat)
        #expect(set.correlations.map(\.title) == ["Fine"])
        let messages = set.refusals.map(\.description)
        #expect(messages.count == 5)
        #expect(messages.contains { $0.contains("Unknown reference") && $0.contains("'no_such_rule', which is no loaded rule or correlation") })
        #expect(messages.filter { $0.contains("cycle") }.count == 3)
        #expect(messages.contains { $0.contains("alias 'who' gives no field for rule 'recon_b'") })
        #expect(set.refusals.allSatisfy { $0.file == "refs.yml" && $0.line != nil })
        // recon_a feeds "Fine" with generate false: it alerts only through it.
        #expect(set.silentRules == [2])
    }

    @Test("malformed correlation documents are refused naming the key and the line")
    func parserRefusals() {
        let cases: [(String, String)] = [
            ("correlation: {rules: [a], timespan: 1m, condition: {gte: 1}}", "has no type"),
            ("correlation: {type: event_sum, rules: [a], timespan: 1m, condition: {gte: 1}}", "'event_sum' is not one of"),
            ("correlation: {type: event_count, rules: [a], condition: {gte: 1}}", "has no timespan"),
            ("correlation: {type: event_count, rules: [a], timespan: 2w, condition: {gte: 1}}", "timespan '2w'"),
            ("correlation: {type: event_count, rules: [], timespan: 1m, condition: {gte: 1}}", "names no rules"),
            ("correlation: {type: event_count, rules: [a, a], timespan: 1m, condition: {gte: 1}}", "names rule 'a' twice"),
            ("correlation: {type: event_count, rules: [a], timespan: 1m}", "needs a condition"),
            ("correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: many}}", "condition 'gte' needs a number"),
            ("correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1, field: x}}", "takes no field"),
            ("correlation: {type: value_count, rules: [a], timespan: 1m, condition: {gte: 1}}", "needs the field"),
            ("correlation: {type: value_percentile, rules: [a], timespan: 1m, condition: {gte: 1, field: x}}", "needs the percentile"),
            ("correlation: {type: value_percentile, rules: [a], timespan: 1m, condition: {gte: 1, field: x, percentile: 120}}", "from 0 to 100"),
            ("correlation: {type: event_count, rules: [a], timespan: 1m, condition: {above: 1}}", "unknown key 'above'"),
            ("correlation: {type: event_count, rules: [a], timeframe: 1m, condition: {gte: 1}}", "name their window 'timespan'"),
            ("correlation: {type: temporal, rules: [a, b], timespan: 1m, condition: {lt: 2}}", "can only ask for at least"),
            ("correlation: {type: temporal, rules: [a, b], timespan: 1m, condition: a and c}", "'c', which is not a search"),
            ("correlation: {type: temporal_ordered, rules: [a, b], timespan: 1m, condition: a or b}", "can only require every rule in order"),
            ("correlation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1}, aliases: {x: {b: f}}}", "names rule 'b', which the correlation does not reference"),
            ("detection: {s: {a: 1}, condition: s}\ncorrelation: {type: event_count, rules: [a], timespan: 1m, condition: {gte: 1}}", "both 'detection' and 'correlation'"),
        ]
        for (body, expected) in cases {
            let results = SigmaRuleParser().parseDocuments(yaml: "title: t\n" + body, file: "c.yml")
            guard case .failure(let error) = results[0] else {
                Issue.record("accepted: \(body)")
                continue
            }
            #expect(error.description.contains(expected), "\(body) → \(error)")
            #expect(error.line != nil, "\(body) → \(error)")
        }
        // The accepted forms: a single rule name, a temporal_ordered condition naming all, percentile 0.
        let accepted = [
            "correlation: {type: event_count, rules: a, group-by: user, timespan: 90m, condition: {gt: 100, lte: 200}}",
            "correlation: {type: temporal_ordered, rules: [a, b], timespan: 1d, condition: a and b}",
            "correlation: {type: value_percentile, rules: [a], timespan: 30s, condition: {gte: 1, field: x, percentile: 0}}",
        ]
        for body in accepted {
            let results = SigmaRuleParser().parseDocuments(yaml: "title: t\n" + body, file: "c.yml")
            #expect((try? results[0].get()) != nil, "\(body): \(results)")
        }
    }

    @Test("event times: ISO 8601 with and without zones, fractions, Unix seconds and milliseconds")
    func eventTimes() {
        let cases: [(String, Int64?)] = [
            ("2020-09-14T00:44:23.000Z", 1_600_044_263_000),
            ("2020-09-14T00:44:23Z", 1_600_044_263_000),
            ("2020-09-14 00:44:23", 1_600_044_263_000),
            ("2020-09-14T00:44:23.868863Z", 1_600_044_263_868),
            ("2020-09-14T05:44:23.5+05:00", 1_600_044_263_500),
            ("2020-09-13T19:44:23-0500", 1_600_044_263_000),
            ("2020-09-14T00:44", 1_600_044_240_000),
            ("2020-09-14", 1_600_041_600_000),
            ("1600044263", 1_600_044_263_000),
            ("1600044263000", 1_600_044_263_000),
            ("1600044263.25", 1_600_044_263_250),
            // Microseconds (journald) and nanoseconds (FortiGate's eventtime); past Int64, nothing.
            ("1600044263868863", 1_600_044_263_868),
            ("1600044263868863123", 1_600_044_263_868),
            ("9999999999999999999", nil),
            ("99999999999999999999", nil),
            ("2020-02-30T00:00:00Z", nil),
            ("2020-09-14T25:00:00Z", nil),
            ("yesterday", nil),
            ("2020-09-14T00:44:23 UTC", nil),
            ("", nil),
        ]
        for (text, expected) in cases {
            #expect(EventTime.milliseconds(text) == expected, "\(text)")
        }
        // Round trip and agreement with Foundation on random instants from 1970 to 2100.
        var generator = SplitMix(state: 19)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for _ in 0..<1000 {
            let milliseconds = Int64.random(in: 0..<4_102_444_800_000, using: &generator)
            let text = EventTime.text(milliseconds)
            #expect(EventTime.milliseconds(text) == milliseconds, "\(text)")
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            #expect(formatter.string(from: date) == text, "\(milliseconds)")
        }
    }

    @Test("state stays bounded: past the group limit the least recently active groups are dropped and counted")
    func boundedState() throws {
        let engine = try Self.engine(
            """
            title: Per user
            correlation: {type: event_count, rules: [failed_login], group-by: [user], timespan: 1h, condition: {gte: 1000}}
            """)
        var correlator = Correlator(engine.ruleSet.correlations)
        correlator.groupLimit = 100
        for index in 0..<10_000 {
            let event = Self.event(index, ["action": "fail", "user": "user\(index)"])
            _ = event.withUnsafeBufferPointer { correlator.observe(rules: [0], event: $0, reference: Int64(index)) }
        }
        #expect(correlator.droppedGroups >= 9_900)
        #expect(correlator.droppedGroups <= 10_000)
        #expect(correlator.eventsWithoutTime == 0)
    }
}

import ArgumentParser
import Foundation
import QilaCore
import QilaDetect
import QilaIngest

struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Sigma rules over JSON-lines events and write alerts as JSON lines.",
        discussion: """
            Reads each EVENTS file (plain or gzip-compressed) one line at a time with bounded memory, \
            writes one JSON line per alert to standard output (or --output), shows progress on \
            standard error for long inputs and ends with a summary there: events, lines refused \
            (with their line numbers), rules loaded and refused, alerts per rule, events per second.

            Correlation rules (event_count, value_count, temporal, temporal_ordered, value_sum, \
            value_avg, value_median, value_percentile) in the rule files run over the stream in \
            event time (the mapping's timestamp fields); their alerts name the correlation, the \
            group, the measured value, the window and the events (file and line) that made it.

            With --indicators, every event is also matched against indicators of compromise \
            (addresses and networks, domains with their subdomains, URLs, hashes, e-mail \
            addresses, STIX 2.1 patterns with =, IN, ISSUBSET, AND, OR); their alerts name the \
            indicator instead of a rule.

            Shipped mappings: \(FieldMapping.shippedNames.joined(separator: ", ")).
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Rule files or directories (searched for .yml and .yaml).")
    var rules: [String] = []

    @Option(
        name: .long,
        help: "An indicator file (repeat for more): STIX 2.1 JSON, or one indicator per line (a STIX pattern, kind,value[,name], or a bare value).")
    var indicators: [String] = []

    @Option(help: "The event format: a shipped mapping's name or a mapping file.")
    var mapping: String

    @Option(help: "What each line holds, as a sensor's format: \(Sensor.Format.allCases.filter { $0 != .cloudtrail }.map(\.rawValue).joined(separator: ", ")). Text formats are read into events as intake reads them.")
    var format = "json"

    @Option(help: "A YAML file of values for the %name% placeholders of the expand modifier.")
    var placeholders: String?

    @Option(help: "Write alerts to this file instead of standard output.")
    var output: String?

    @Flag(help: "No progress line.")
    var quiet = false

    @Option(help: "How many refused lines to list by number before only counting them.")
    var listRefusedLines = 20

    @Argument(help: "JSON-lines files of events, plain or .gz.")
    var events: [String]

    func validate() throws {
        if rules.isEmpty && indicators.isEmpty { throw ValidationError("give --rules, --indicators or both") }
        if events.isEmpty { throw ValidationError("give at least one events file") }
        if Sensor.Format(rawValue: format) == nil || format == "cloudtrail" {
            throw ValidationError("--format is one of \(Sensor.Format.allCases.filter { $0 != .cloudtrail }.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let fieldMapping: FieldMapping
        do {
            fieldMapping = try FieldMapping.named(mapping)
        } catch {
            throw ValidationError("--mapping: \(error)")
        }
        let values = try SigmaPlaceholders.load(placeholders)
        let started = ContinuousClock.now
        let ruleSet = CompiledRuleSet(paths: rules, mapping: fieldMapping, placeholders: values)
        let compiled = ContinuousClock.now - started
        let standardError = FileHandle.standardError
        func note(_ text: String) { standardError.write(Data((text + "\n").utf8)) }
        for refusal in ruleSet.refusals { note("refused rule: \(refusal)") }
        note(
            "\(ruleSet.rules.count) rules and \(ruleSet.correlations.correlations.count) correlation rules loaded, \(ruleSet.refusals.count) refused, "
                + "\(ruleSet.atomCount) distinct value tests; compiled in \(String(format: "%.2f", compiled.seconds)) s"
        )
        guard !ruleSet.rules.isEmpty || rules.isEmpty else { throw ValidationError("no rule could be loaded from \(rules.joined(separator: ", "))") }
        let indicatorSet = IndicatorSet(paths: indicators)
        if !indicators.isEmpty {
            for refusal in indicatorSet.refusals.prefix(listRefusedLines) { note("refused indicator: \(refusal)") }
            note("\(indicatorSet.count) indicators loaded, \(indicatorSet.refusals.count) refused")
            guard indicatorSet.count > 0 else { throw ValidationError("no indicator could be loaded from \(indicators.joined(separator: ", "))") }
        }

        let sink: FileHandle
        if let output {
            // open(2), not FileManager.createFile: that replaces the path with a new regular
            // file, which would turn /dev/null or a named pipe into a file.
            let descriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else {
                throw ValidationError("--output: cannot open \(output) for writing: \(String(cString: strerror(errno)))")
            }
            sink = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        } else {
            sink = FileHandle.standardOutput
        }
        var writer = AlertWriter(sink: sink, rules: ruleSet.rules, indicators: indicatorSet.indicators, correlations: ruleSet.correlations.correlations)
        var matcher = RuleMatcher(ruleSet)
        let correlations = ruleSet.correlations
        var correlator = Correlator(correlations)
        var perCorrelation = [Int](repeating: 0, count: correlations.correlations.count)
        var matched: [Int] = []
        // An event's reference in correlation alerts: the file's position in EVENTS and the line.
        func reference(file: Int, line: Int) -> Int64 { Int64(file) << 40 | Int64(line) }
        func emit(_ alerts: [CorrelationAlert]) {
            for alert in alerts {
                perCorrelation[alert.correlation] += 1
                writer.write(alert) { reference in (events[Int(reference >> 40)], Int(reference & (1 << 40 - 1))) }
            }
        }
        var indicatorMatcher = IndicatorMatcher(indicatorSet)
        var perIndicator: [Int: Int] = [:]
        var progress = Progress(enabled: !quiet)
        var total = 0
        var refused: [EventError.Kind: Int] = [:]
        // Lines of a text format that are not of it.
        var unreadable = 0
        var textReader = Sensor.Format(rawValue: format).flatMap { $0.isText ? TextEventReader(format: $0) : nil }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var perRule = [Int](repeating: 0, count: ruleSet.rules.count)
        let matchStart = ContinuousClock.now
        for (fileIndex, path) in events.enumerated() {
            let reader = try EventLineReader(path: path)
            progress.file = path
            try reader.forEachLine { number, line in
                total += 1
                switch line {
                case .failure(let error):
                    refused[error.kind, default: 0] += 1
                    if refused.values.reduce(0, +) <= listRefusedLines { note("\(path):\(number): \(error)") }
                case .success(let line):
                    func examine(_ bytes: UnsafeBufferPointer<UInt8>) {
                        do throws(EventError) {
                            if !ruleSet.rules.isEmpty {
                                matched.removeAll(keepingCapacity: true)
                                try matcher.match(bytes) { match in
                                    perRule[match.rule] += 1
                                    matched.append(match.rule)
                                    if !correlations.silentRules.contains(match.rule) {
                                        writer.write(match, source: path, line: number, event: bytes)
                                    }
                                }
                                if !matched.isEmpty, !correlations.isEmpty {
                                    emit(correlator.observe(rules: matched, event: bytes, reference: reference(file: fileIndex, line: number)))
                                }
                            }
                            if indicatorSet.count > 0 {
                                try indicatorMatcher.match(bytes) { match in
                                    perIndicator[match.indicator, default: 0] += 1
                                    writer.write(match, source: path, line: number, event: bytes)
                                }
                            }
                        } catch {
                            refused[error.kind, default: 0] += 1
                            if refused.values.reduce(0, +) <= listRefusedLines { note("\(path):\(number): \(error)") }
                        }
                    }
                    if textReader == nil {
                        examine(line)
                    } else {
                        do {
                            try textReader!.withEvent(line, now: now) { examine($0) }
                        } catch {
                            unreadable += 1
                            if unreadable + refused.values.reduce(0, +) <= listRefusedLines { note("\(path):\(number): \(error)") }
                        }
                    }
                }
                if total & 4095 == 0 {
                    progress.update(events: total, alerts: writer.count, fraction: Double(reader.fileBytesRead) / Double(max(reader.fileSize, 1)))
                }
            }
        }
        emit(correlator.finish())
        writer.flush()
        progress.finish()
        let elapsed = (ContinuousClock.now - matchStart).seconds
        let refusedTotal = refused.values.reduce(0, +) + unreadable
        var reasons = refused.map { "\($0.value) \($0.key.rawValue)" }
        if unreadable > 0 { reasons.append("\(unreadable) not \(format)") }
        note("")
        note("events: \(total) read, \(total - refusedTotal) examined, \(refusedTotal) refused\(reasons.isEmpty ? "" : " (" + reasons.sorted().joined(separator: ", ") + ")")")
        if !rules.isEmpty { note("rules: \(ruleSet.rules.count) loaded, \(ruleSet.correlations.correlations.count) correlation rules, \(ruleSet.refusals.count) refused") }
        if !indicators.isEmpty {
            note("indicators: \(indicatorSet.count) loaded, \(indicatorSet.refusals.count) refused; \(perIndicator.values.reduce(0, +)) alerts from \(perIndicator.count) indicators")
            for (indicator, count) in perIndicator.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }).prefix(20) {
                let meta = indicatorSet.indicators[indicator]
                note(String(format: "%8d  %@", count, meta.name.map { "\($0): \(meta.text)" } ?? meta.text))
            }
        }
        if !rules.isEmpty {
            let silent = correlations.silentRules.count
            note("alerts: \(perRule.reduce(0, +)) from \(perRule.filter { $0 > 0 }.count) rules" + (silent > 0 ? " (\(silent) rules alert only through correlations)" : ""))
        }
        if !correlations.isEmpty {
            note("correlations: \(correlations.correlations.count) loaded; \(perCorrelation.reduce(0, +)) alerts from \(perCorrelation.filter { $0 > 0 }.count)")
            if correlator.eventsWithoutTime > 0 { note("  \(correlator.eventsWithoutTime) correlated events had no readable time and were placed at the latest time seen") }
            if correlator.nonNumericValues > 0 { note("  \(correlator.nonNumericValues) values were not numbers and were left out of sums and averages") }
            if correlator.droppedGroups + correlator.droppedEntries > 0 {
                note("  state limits reached: \(correlator.droppedGroups) groups and \(correlator.droppedEntries) window entries dropped")
            }
            for (index, count) in perCorrelation.enumerated().filter({ $0.element > 0 }) {
                let meta = correlations.correlations[index]
                note(String(format: "%8d  %@  %@ (%@)", count, (meta.level?.rawValue ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0), meta.title, meta.kind.rawValue))
            }
        }
        for (rule, count) in perRule.enumerated().filter({ $0.element > 0 }).sorted(by: { ($1.element, $0.offset) < ($0.element, $1.offset) }) {
            let meta = ruleSet.rules[rule]
            note(String(format: "%8d  %@  %@", count, (meta.level?.rawValue ?? "-").padding(toLength: 13, withPad: " ", startingAt: 0), meta.title))
        }
        note(String(format: "time: %.2f s matching (%.0f events/s), %.2f s compiling rules", elapsed, Double(total) / max(elapsed, 1e-9), compiled.seconds))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A progress line on standard error, redrawn in place on a terminal, a line every 10 s otherwise.
struct Progress {
    let enabled: Bool
    let terminal = isatty(2) == 1
    var file = ""
    private var started = ContinuousClock.now
    private var last = ContinuousClock.now
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    mutating func update(events: Int, alerts: Int, fraction: Double) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - last >= (terminal ? .milliseconds(500) : .seconds(10)) else { return }
        last = now
        let rate = Double(events) / max((now - started).seconds, 1e-9)
        let line = String(
            format: "%@: %.0f%%, %d events, %d alerts, %.0f events/s", (file as NSString).lastPathComponent, min(fraction, 1) * 100, events,
            alerts, rate)
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
        drawn = true
    }

    mutating func finish() {
        if enabled, terminal, drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Alerts as JSON lines, buffered:
/// `{"rule":{"id","title","level","file"},"source","line","matched":{field:value},"event":{...}}`.
struct AlertWriter {
    let sink: FileHandle
    private var buffer: [UInt8] = []
    private let prefixes: [[UInt8]]
    private(set) var count = 0

    private let indicators: [Indicator]
    private let correlations: [SigmaCorrelation]

    init(sink: FileHandle, rules: [SigmaRule], indicators: [Indicator] = [], correlations: [SigmaCorrelation] = []) {
        self.sink = sink
        self.indicators = indicators
        self.correlations = correlations
        prefixes = rules.map { rule in
            var text = "{\"rule\":{"
            text += "\"id\":" + (rule.id.map(JSONString.quote) ?? "null")
            text += ",\"title\":" + JSONString.quote(rule.title)
            text += ",\"level\":" + (rule.level.map { JSONString.quote($0.rawValue) } ?? "null")
            text += ",\"file\":" + (rule.file.map { JSONString.quote(($0 as NSString).lastPathComponent) } ?? "null")
            text += "},"
            return Array(text.utf8)
        }
        buffer.reserveCapacity(1 << 17)
    }

    mutating func write(_ match: RuleMatch, source: String, line: Int, event: UnsafeBufferPointer<UInt8>) {
        buffer += prefixes[match.rule]
        write(match.fields, source: source, line: line, event: event)
    }

    /// `{"indicator":{"id","name","pattern"},"source","line","matched":{...},"event":{...}}`
    mutating func write(_ match: IndicatorMatch, source: String, line: Int, event: UnsafeBufferPointer<UInt8>) {
        let indicator = indicators[match.indicator]
        var text = "{\"indicator\":{\"id\":" + JSONString.quote(indicator.id)
        text += ",\"name\":" + (indicator.name.map(JSONString.quote) ?? "null")
        text += ",\"pattern\":" + JSONString.quote(indicator.text) + "},"
        buffer += Array(text.utf8)
        write(match.fields, source: source, line: line, event: event)
    }

    /// `{"correlation":{"id","title","level","type"},"group":{field:value},"value","window":{"start","end"},
    /// "count","events":[{"source","line"}]}`; `place` turns an event reference into its file and line.
    mutating func write(_ alert: CorrelationAlert, place: (Int64) -> (source: String, line: Int)) {
        count += 1
        let correlation = correlations[alert.correlation]
        var text = "{\"correlation\":{\"id\":" + (correlation.id.map(JSONString.quote) ?? "null")
        text += ",\"title\":" + JSONString.quote(correlation.title)
        text += ",\"level\":" + (correlation.level.map { JSONString.quote($0.rawValue) } ?? "null")
        text += ",\"type\":" + JSONString.quote(correlation.kind.rawValue) + "},\"group\":{"
        text += alert.group.map { JSONString.quote($0.field) + ":" + JSONString.quote($0.value) }.joined(separator: ",")
        let value = alert.value == alert.value.rounded() && abs(alert.value) < 1e15 ? String(Int64(alert.value)) : String(alert.value)
        text += "},\"value\":\(value),\"window\":{\"start\":\(JSONString.quote(EventTime.text(alert.windowStart))),\"end\":\(JSONString.quote(EventTime.text(alert.windowEnd)))}"
        text += ",\"count\":\(alert.eventCount),\"events\":["
        text += alert.events.map { reference in
            let (source, line) = place(reference)
            return "{\"source\":\(JSONString.quote(source)),\"line\":\(line)}"
        }.joined(separator: ",")
        text += "]}\n"
        buffer += Array(text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    private mutating func write(_ fields: [(name: String, value: String)], source: String, line: Int, event: UnsafeBufferPointer<UInt8>) {
        count += 1
        buffer += Array("\"source\":\(JSONString.quote(source)),\"line\":\(line),\"matched\":{".utf8)
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer += Array((JSONString.quote(field.name) + ":" + JSONString.quote(field.value)).utf8)
        }
        buffer += Array("},\"event\":".utf8)
        buffer.append(contentsOf: event)
        buffer += Array("}\n".utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        sink.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

enum JSONString {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

import QilaCore
import QilaDetect

/// One pipeline thread's matcher state: a rule matcher per mapping (rebuilt when the rules
/// change), the indicator matcher, scratch buffers and the values it has recently reported, so
/// that a busy host's every event does not become a first-seen question for the committer.
struct IntakeWorker {
    let sets: DetectionSets
    let evidenceLimit: Int
    private var matchers: [String: (version: Int, matcher: RuleMatcher, correlated: Set<Int>, profile: EntityProfile)] = [:]
    private var indicatorMatcher: IndicatorMatcher
    private var recent: Set<EntryResult.Observation> = []
    private var textEvent: [UInt8] = []
    private var lineFields = EventFields()
    private var lineReader: TextEventReader?
    private var extras: [String?] = []
    private var matched: [Int] = []
    private var findingIndex: [String: Int] = [:]
    static let recentLimit = 100_000

    init(sets: DetectionSets, evidenceLimit: Int) {
        self.sets = sets
        self.evidenceLimit = evidenceLimit
        indicatorMatcher = IndicatorMatcher(sets.indicators)
    }

    mutating func process(_ stored: IntakeJournal.Stored, sequence: Int64, sensor: Sensor?) -> EntryResult {
        let entry = stored.entry
        var result = EntryResult(
            sequence: sequence, start: stored.start, end: stored.end, sensor: entry.sensor, organisation: sensor?.organisation,
            receivedAt: entry.receivedAt)
        result.bytes = Int64(entry.payload.count)
        guard let sensor else {
            result.refused["unknown-sensor"] = Int64(entry.count)
            return result
        }
        let mapping = sensor.mapping
        if matchers[mapping] == nil || matchers[mapping]!.version != sets.version {
            guard let (set, version) = sets.ruleSet(for: mapping) else {
                result.refused["unknown-mapping"] = Int64(entry.count)
                result.lastError = "the sensor's mapping '\(mapping)' is not known"
                return result
            }
            var correlated: Set<Int> = []
            for inputs in set.correlations.inputs {
                for case .rule(let rule) in inputs { correlated.insert(rule) }
            }
            matchers[mapping] = (version, RuleMatcher(set), correlated, EntityProfile.forMapping(mapping))
        }
        if indicatorMatcher.set !== sets.indicators { indicatorMatcher = IndicatorMatcher(sets.indicators) }
        findingIndex.removeAll(keepingCapacity: true)
        var state = matchers.removeValue(forKey: mapping)!
        defer { matchers[mapping] = state }
        entry.payload.withUnsafeBufferPointer { payload in
            for index in 0..<entry.count {
                let range = entry.range(of: index)
                let record = UnsafeBufferPointer(rebasing: payload[range])
                switch entry.kind {
                case .syslog:
                    let message: SyslogMessage
                    do {
                        message = try SyslogParser.parse(record, now: entry.receivedAt, text: sensor.format == .text)
                    } catch {
                        refuse(&result, "malformed-syslog", "message \(index + 1) of the entry: \(error)")
                        continue
                    }
                    let body = UnsafeBufferPointer(rebasing: record[message.messageRange])
                    if sensor.format == .text {
                        SyslogEventWriter.write(message, into: &textEvent)
                        textEvent.withUnsafeBufferPointer { examine($0, &result, &state, sensor: sensor, mapping: mapping) }
                    } else if sensor.format.isText {
                        line(record, header: message, index: index, &result, &state, sensor: sensor, mapping: mapping)
                    } else {
                        guard !body.isEmpty else {
                            refuse(&result, "empty-message", "message \(index + 1) of the entry has no JSON body")
                            continue
                        }
                        examine(body, &result, &state, sensor: sensor, mapping: mapping)
                    }
                case .line:
                    var reader = lineReader.take().flatMap { $0.format == sensor.format ? $0 : nil } ?? TextEventReader(format: sensor.format)
                    do {
                        try reader.withEvent(record, now: entry.receivedAt) { event in
                            examine(event, &result, &state, sensor: sensor, mapping: mapping)
                        }
                    } catch {
                        refuse(&result, "not-\(sensor.format.rawValue)", "line \(index + 1) of the entry: \(error)")
                    }
                    lineReader = reader
                case .json:
                    examine(record, &result, &state, sensor: sensor, mapping: mapping)
                }
            }
        }
        return result
    }

    /// A line of the sensor's text format, read into an event and examined; refused with the
    /// format's reason (`not-cef`, ...) and the byte where it stopped making sense.
    private mutating func line(
        _ record: UnsafeBufferPointer<UInt8>, header: SyslogMessage?, index: Int, _ result: inout EntryResult,
        _ state: inout (version: Int, matcher: RuleMatcher, correlated: Set<Int>, profile: EntityProfile), sensor: Sensor, mapping: String
    ) {
        do {
            try LineFormat.event(line: record, header: header, format: sensor.format, into: &lineFields)
        } catch {
            refuse(&result, "not-\(sensor.format.rawValue)", "message \(index + 1) of the entry: \(error)")
            return
        }
        lineFields.bytes.withUnsafeBufferPointer { examine($0, &result, &state, sensor: sensor, mapping: mapping) }
    }

    private func refuse(_ result: inout EntryResult, _ reason: String, _ detail: String) {
        result.refused[reason, default: 0] += 1
        result.lastError = detail
    }

    private mutating func examine(
        _ event: UnsafeBufferPointer<UInt8>, _ result: inout EntryResult,
        _ state: inout (version: Int, matcher: RuleMatcher, correlated: Set<Int>, profile: EntityProfile), sensor: Sensor, mapping: String
    ) {
        matched.removeAll(keepingCapacity: true)
        var found: [RuleMatch] = []
        do {
            try state.matcher.match(event) { found.append($0) }
        } catch {
            let reason = switch error.kind {
            case .malformedJSON: "invalid-json"
            case .notUTF8: "not-utf8"
            case .tooDeep: "too-deep"
            case .tooLarge: "oversized"
            }
            refuse(&result, reason, "\(error)")
            return
        }
        result.events += 1
        let profile = state.profile
        extras.removeAll(keepingCapacity: true)
        for index in profile.fields.indices { extras.append(state.matcher.extraValue(index, in: event)) }
        var type = ""
        for (position, field) in profile.typeFields.enumerated() {
            if position > 0 { type += "/" }
            type += extras[field] ?? "-"
        }
        result.types[type, default: 0] += 1
        let values = extras
        let host = profile.hostFields.compactMap { values[$0] }.first { !$0.isEmpty && $0 != "-" }
        let account = profile.accountFields.compactMap { values[$0] }.first { !$0.isEmpty && $0 != "-" }
        for spec in profile.firstSeen {
            guard let subject = extras[spec.subject], !subject.isEmpty, let raw = extras[spec.value], !raw.isEmpty, raw != "-",
                let value = EntityProfile.reduce(raw, spec.reduce)
            else { continue }
            let observation = EntryResult.Observation(kind: spec.kind, subject: subject, value: value)
            if recent.count >= Self.recentLimit { recent.removeAll(keepingCapacity: true) }
            if recent.insert(observation).inserted {
                result.observations.append(observation)
            }
        }
        let rules = state.matcher.ruleSet.rules
        let silent = state.matcher.ruleSet.correlations.silentRules
        for match in found {
            matched.append(match.rule)
            guard !silent.contains(match.rule) else { continue }
            let rule = rules[match.rule]
            add(
                &result, kind: .rule, key: rule.file ?? rule.id ?? rule.title, title: rule.title, severity: SecurityAlert.Severity(rule.level),
                host: host, account: account, fields: match.fields, event: event)
        }
        if !state.correlated.isEmpty, matched.contains(where: state.correlated.contains) {
            result.correlated.append(.init(mapping: mapping, version: state.version, rules: matched, event: Array(event)))
        }
        let indicators = indicatorMatcher.set
        if indicators.count > 0 {
            var hits: [IndicatorMatch] = []
            // The rules have read the event already: one naming nothing the set holds is not read again.
            try? indicatorMatcher.match(event, wellFormed: true) { hits.append($0) }
            for hit in hits {
                let indicator = indicators.indicators[hit.indicator]
                if case .shared = indicator.reach { result.sightings[indicator.id, default: 0] += 1 }
                guard indicator.reach.alerts(sensor.organisation) else { continue }
                add(
                    &result, kind: .indicator, key: indicator.text, title: indicator.name ?? "Indicator: \(indicator.text)", severity: .high,
                    host: host, account: account, fields: hit.fields, event: event)
            }
        }
    }

    private mutating func add(
        _ result: inout EntryResult, kind: SecurityAlert.Kind, key: String, title: String, severity: SecurityAlert.Severity, host: String?,
        account: String?, fields: [(name: String, value: String)], event: UnsafeBufferPointer<UInt8>
    ) {
        let groupKey = key + "\u{1F}" + (host ?? "") + "\u{1F}" + (account ?? "")
        if let index = findingIndex[groupKey] {
            result.findings[index].occurrences += 1
            if result.findings[index].events.count < evidenceLimit { result.findings[index].events.append(Array(event)) }
            return
        }
        findingIndex[groupKey] = result.findings.count
        result.findings.append(
            .init(
                kind: kind, rule: key, title: title, severity: severity, host: host, account: account,
                fields: fields.map { AlertField(name: $0.name, value: $0.value) }, events: evidenceLimit > 0 ? [Array(event)] : [], occurrences: 1))
    }
}

/// A plain-text syslog message as a JSON event: header fields, structured data and the text.
enum SyslogEventWriter {
    static func write(_ message: SyslogMessage, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            string(name, &out)
            out.append(UInt8(ascii: ":"))
        }
        key("facility")
        out.append(contentsOf: String(message.facility).utf8)
        key("severity")
        out.append(contentsOf: String(message.severity).utf8)
        if let timestamp = message.timestamp {
            key("timestamp")
            out.append(contentsOf: String(timestamp).utf8)
        }
        if let host = message.hostname {
            key("host")
            string(host, &out)
        }
        if let app = message.appName {
            key("app")
            string(app, &out)
        }
        if let procID = message.procID {
            key("procid")
            string(procID, &out)
        }
        if let msgID = message.msgID {
            key("msgid")
            string(msgID, &out)
        }
        for element in message.structuredData {
            key(element.id)
            out.append(UInt8(ascii: "{"))
            for (index, parameter) in element.parameters.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                string(parameter.name, &out)
                out.append(UInt8(ascii: ":"))
                string(parameter.value, &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        key("message")
        string(message.message, &out)
        out.append(UInt8(ascii: "}"))
    }

    static func string(_ text: String, _ out: inout [UInt8]) {
        EventFields.quote(text.utf8, into: &out)
    }
}

import Foundation
import QilaCore
import QilaTestSupport
import Testing

@testable import QilaDetect
@testable import QilaIngest

/// Every intake format and shipped mapping against a sample written from the format's public
/// documentation (`formats/`, see its README): the event each line becomes, the Sigma fields the
/// mapping finds in it, and the log sources it counts as. Golden files beside the samples;
/// `QILA_RECORD_GOLDEN=1` writes them (then review the diff).
struct LineFormatTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("formats")

    struct Sample: Sendable, CustomStringConvertible {
        var file: String
        var format: Sensor.Format
        var mapping: String
        /// Sigma field names to look up through the mapping.
        var fields: [String]
        /// Lines that are deliberately none of the mapping's log sources (a CEF event of a device
        /// that is not a firewall, say).
        var outside: Set<Int> = []
        var description: String { file }
    }

    static let samples: [Sample] = [
        Sample(file: "auditd.log", format: .auditd, mapping: "linux-auditd", fields: ["type", "a0", "a1", "a2", "exe", "comm", "key", "SYSCALL", "AUID", "acct", "res", "proctitle", "node"]),
        Sample(file: "cef.log", format: .cef, mapping: "firewall", fields: ["deviceVendor", "name", "severity", "src_ip", "dst_ip", "dst_port", "action", "suser", "Rule", "msg", "request"], outside: [3]),
        Sample(file: "leef.log", format: .leef, mapping: "firewall", fields: ["vendor", "eventId", "src_ip", "dst_ip", "dst_port", "usrName", "outcome"], outside: [3]),
        Sample(file: "key-value.log", format: .keyValue, mapping: "firewall", fields: ["type", "cfgpath", "action", "src_ip", "dst_ip", "dst_port", "msg", "note", "message"]),
        Sample(file: "cisco.log", format: .cisco, mapping: "cisco-ios", fields: ["facility", "severity", "mnemonic", "message_id", "action", "src_ip", "src_port", "dst_ip", "dst_port", "user", "command", "acl", "host"]),
        Sample(file: "bind.log", format: .bind, mapping: "dns-server", fields: ["query", "record_type", "query_class", "src_ip", "client_port", "dst_ip", "flags", "view", "time"]),
        Sample(file: "unbound.log", format: .unbound, mapping: "dns-server", fields: ["query", "record_type", "query_class", "src_ip", "rcode", "timestamp"]),
        Sample(file: "access-log.log", format: .accessLog, mapping: "web-access", fields: ["c-ip", "cs-username", "cs-method", "cs-uri-stem", "cs-uri-query", "sc-status", "cs-referer", "cs-user-agent", "c-uri-extension", "timestamp"]),
        Sample(file: "squid.log", format: .squid, mapping: "proxy", fields: ["c-ip", "cs-method", "c-uri", "cs-host", "c-uri-extension", "c-uri-query", "sc-status", "cs-username", "dst_ip", "c-useragent", "timestamp"]),
        Sample(file: "event-xml.log", format: .eventXML, mapping: "linux-sysmon", fields: ["EventID", "Channel", "Computer", "Provider_Name", "Image", "CommandLine", "ParentCommandLine", "User", "DestinationIp", "DestinationPort", "Initiated", "TargetFilename", "TimeCreated_SystemTime"]),
        Sample(file: "journald.jsonl", format: .json, mapping: "linux-journald", fields: ["app", "host", "message", "facility", "Image", "CommandLine"]),
        Sample(file: "zeek.jsonl", format: .json, mapping: "zeek", fields: ["_path", "query", "record_type", "answer", "id.resp_p", "uri", "user_agent", "name", "path"]),
        Sample(file: "azure-monitor.jsonl", format: .json, mapping: "azure-monitor", fields: ["OperationName", "operationName", "ResultType", "ResultDescription", "AuthenticationRequirement", "DeviceDetail.trusttype", "LoggedByService", "ActivityDisplayName", "Category"]),
        Sample(file: "m365-audit.jsonl", format: .json, mapping: "m365-audit", fields: ["eventSource", "eventName", "status", "Operation", "Workload"]),
        Sample(file: "gcp-audit.jsonl", format: .json, mapping: "gcp-audit", fields: ["gcp.audit.method_name", "data.protoPayload.serviceName", "eventService", "eventName", "setting_name", "new_value"]),
        Sample(file: "okta.jsonl", format: .json, mapping: "okta", fields: ["eventType", "displayMessage", "outcome.result", "actor.alternateId", "securityContext.isProxy", "legacyEventType"]),
        Sample(file: "kubernetes-audit.jsonl", format: .json, mapping: "kubernetes-audit", fields: ["verb", "objectRef.resource", "objectRef.subresource", "objectRef.namespace", "responseStatus.code", "userAgent"]),
        Sample(file: "github-audit.jsonl", format: .json, mapping: "github-audit", fields: ["action", "actor", "org"]),
        Sample(file: "bitbucket-audit.jsonl", format: .json, mapping: "bitbucket-audit", fields: ["auditType.action", "auditType.category", "author.name"]),
        Sample(file: "opencanary.jsonl", format: .json, mapping: "opencanary", fields: ["logtype", "src_host", "dst_port", "logdata.USERNAME"]),
        Sample(file: "ecs-endpoint.jsonl", format: .json, mapping: "ecs-endpoint", fields: ["Image", "CommandLine", "ParentImage", "CurrentDirectory", "User", "TargetFilename"]),
    ]

    /// The event a sample line becomes (for JSON formats, the line itself).
    static func event(_ line: String, format: Sensor.Format) throws -> [UInt8] {
        guard format.isText else { return Array(line.utf8) }
        var reader = TextEventReader(format: format)
        return try Array(line.utf8).withUnsafeBufferPointer { record in
            try reader.withEvent(record, now: 1_733_385_377_000) { Array($0) }
        }
    }

    @Test("every sample reads as its golden file says", arguments: samples)
    func golden(_ sample: Sample) throws {
        let mapping = try FieldMapping.named(sample.mapping)
        let text = try String(contentsOf: Self.folder.appendingPathComponent(sample.file), encoding: .utf8)
        var out = ""
        for (number, line) in text.split(separator: "\n").enumerated() {
            let bytes = try Self.event(String(line), format: sample.format)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "line \(number + 1) is not a JSON object")
            var found: [String: [String]] = [:]
            for field in sample.fields {
                if let value = SigmaEvaluator.lookup(mapping.paths(for: field), in: object) { found[field] = SigmaEvaluator.texts(value) }
            }
            let sources = (mapping.logSources ?? []).filter { condition in
                condition.requirements.allSatisfy { requirement in
                    guard let value = SigmaEvaluator.lookup(requirement.paths, in: object) else { return false }
                    return SigmaEvaluator.texts(value).contains { FieldMapping.LogSourceCondition.accepts(requirement.values, $0.lowercased()) }
                }
            }.map { RuleCoverage.describe($0.match) }
            let record: [String: Any] = ["line": number + 1, "sigma": found, "logsources": Array(Set(sources)).sorted(), "event": object]
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            out += String(decoding: data, as: UTF8.self) + "\n"
        }
        let golden = Self.folder.appendingPathComponent(sample.file + ".golden")
        if ProcessInfo.processInfo.environment["QILA_RECORD_GOLDEN"] == "1" {
            try Data(out.utf8).write(to: golden)
            return
        }
        let stored = try String(contentsOf: golden, encoding: .utf8)
        #expect(out == stored, "\(sample.file) differs from its golden file")
    }

    @Test("every sample line counts as one of its mapping's log sources")
    func samplesAreCovered() throws {
        for sample in Self.samples {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(sample.file + ".golden"), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard let number = record["line"] as? Int, !sample.outside.contains(number) else { continue }
                #expect((record["logsources"] as? [String])?.isEmpty == false, "\(sample.file) line \(record["line"] ?? "?") is no log source of \(sample.mapping)")
            }
        }
    }

    /// SigmaHQ's regression samples of text logs: each `.raw` line, read by its format, must be
    /// matched by its rule on the shipped mapping (log source included). Today: Cisco AAA.
    @Test("SigmaHQ's raw Cisco regression sample fires its rule through the cisco format (needs ../shared)")
    func sigmaRawSamples() throws {
        guard let corpus = SharedCorpus.url("corpora/sigma", unchecked: "the raw regression samples are not checked") else { return }
        let formats: [String: (Sensor.Format, String)] = ["cisco": (.cisco, "cisco-ios")]
        var checked = 0
        let enumerator = FileManager.default.enumerator(at: corpus.appendingPathComponent("regression_data/rules"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "raw" else { continue }
            let product = url.pathComponents[url.pathComponents.firstIndex(of: "rules")! + 1]
            guard let (format, mappingName) = formats[product] else { continue }
            let ruleID = url.deletingPathExtension().lastPathComponent
            let ruleFiles = FileManager.default.enumerator(at: corpus.appendingPathComponent("rules"), includingPropertiesForKeys: nil)
            var rule: SigmaRule?
            while let file = ruleFiles?.nextObject() as? URL, rule == nil {
                guard file.pathExtension == "yml", let text = try? String(contentsOf: file, encoding: .utf8), text.contains(ruleID) else { continue }
                if case .success(let parsed) = SigmaRuleParser().parse(yaml: text, file: file.lastPathComponent).first { rule = parsed }
            }
            let found = try #require(rule, "rule \(ruleID) of \(url.lastPathComponent)")
            let evaluator = try SigmaEvaluator(rule: found, mapping: try FieldMapping.named(mappingName))
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.isEmpty {
                let event = try Self.event(String(line), format: format)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(event)) as? [String: Any])
                #expect(evaluator.detects(object), "\(found.title) does not fire on \(line)")
                checked += 1
            }
        }
        #expect(checked >= 1)
    }

    /// The compiled rule set agrees with the reference interpreter on every sample, for all of
    /// SigmaHQ's rules and each sample's mapping (log-source buckets included). Also run over a
    /// thousand varied Zeek and firewall events, whose ids and addresses differ in every event.
    @Test("the compiled SigmaHQ rule set agrees with the interpreter on every sample (needs ../shared)", arguments: samples)
    func compiledAgrees(_ sample: Sample) throws {
        guard let rules = SharedCorpus.url("corpora/sigma/rules", unchecked: "the compiled set is not compared") else { return }
        let mapping = try FieldMapping.named(sample.mapping)
        let report = RuleSetLoader(mapping: mapping).load([rules.path])
        let set = CompiledRuleSet(rules: report.rules, mapping: mapping)
        let evaluators = try set.rules.map { try SigmaEvaluator(rule: $0, mapping: mapping) }
        var matcher = RuleMatcher(set)
        var lines = try String(contentsOf: Self.folder.appendingPathComponent(sample.file), encoding: .utf8).split(separator: "\n").map(String.init)
        // Many events of one shape with changing ids and addresses: buckets must not mistake one for another.
        var random = SeededRandom(state: 77)
        for _ in 0..<(lines.count * 50) {
            var line = lines[Int.random(in: 0..<lines.count, using: &random)]
            for token in ["10.1.1.20", "192.0.2.10", "CHhAvVGS1DHFjwGM9", "198.51.100.80"] where line.contains(token) {
                line = line.replacingOccurrences(of: token, with: "10.\(Int.random(in: 0..<256, using: &random)).\(Int.random(in: 0..<256, using: &random)).9")
            }
            lines.append(line)
        }
        for line in lines {
            let event = try Self.event(line, format: sample.format)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event)) as? [String: Any])
            var compiled: [Int] = []
            try event.withUnsafeBufferPointer { bytes in try matcher.match(bytes) { compiled.append($0.rule) } }
            let interpreted = evaluators.indices.filter { evaluators[$0].detects(object) }
            #expect(compiled == interpreted, "\(sample.file): \(line.prefix(120))")
        }
    }

    @Test("lines not of the format are refused with the byte", arguments: [
        (Sensor.Format.cef, "CEF:0|Vendor|Product|1.0|100|name", "the header has 5 of its 7 fields"),
        (.leef, "LEEF:2.0|V|P|1|id|xZZ|a=b", "the delimiter must be one character"),
        (.keyValue, "just words without pairs", "no key=value pair"),
        (.keyValue, "a=\"never closed", "the quoted value of 'a' is not closed"),
        (.cisco, "Dec  5 07:56:17 host kernel: nothing here", "no '%FACILITY-SEVERITY-MNEMONIC:'"),
        (.bind, "client 192.0.2.1 (x): query: a IN A", "the client is written address#port"),
        (.unbound, "[1] unbound[1:0] info: 192.0.2.1 example.com.", "a query is written client name type class"),
        (.accessLog, "192.0.2.1 - - [05/Dec/2026:07:56:17] \"GET / HTTP/1.1\" 200 1", "the time is not day/month/year"),
        (.squid, "1733385377.779 180 192.168.0.224 TCP_MISS 411 GET http://x/", "result code and status"),
        (.auditd, "msg=audit(1.0:1): pid=1", "an audit record begins with type="),
        (.eventXML, "<Event><System><EventID>1</EventID></Sys></Event>", "</Sys> closes <System>"),
        (.eventXML, "<Event><System><Channel>a &bogus; b</Channel></System></Event>", "&bogus; is not an entity"),
        (.eventXML, "<Event><EventData><Data Name=\"x\">1</Data></EventData></Event>", "no <System> element"),
        (.auditd, "type=SYSCALL msg=audit(abc:1): pid=1", "msg=audit( holds the time and serial"),
    ])
    func refusals(_ format: Sensor.Format, _ line: String, _ reason: String) throws {
        do {
            _ = try Self.event(line, format: format)
            Issue.record("\(format) accepted \(line)")
        } catch let error as LineFormatError {
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.contains("(byte "), "\(error)")
            #expect(error.offset < line.utf8.count)
        }
    }

    /// Seeded mutations of every sample line, and random bytes: no parser crashes, and whatever it
    /// accepts from valid UTF-8 is one valid JSON object.
    @Test("mutated and random lines never crash a parser and give valid JSON", arguments: samples.filter { $0.format.isText })
    func fuzz(_ sample: Sample) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(sample.file), encoding: .utf8)
        let lines = text.split(separator: "\n").map { Array($0.utf8) }
        var random = SeededRandom(state: 0x5eed_0000 + UInt64(sample.file.utf8.count))
        let alphabet = Array(" =|\\\"'%[]()#:@.,;\t-/0123456789abcxyzCEFLEEF:type=".utf8)
        var accepted = 0
        for round in 0..<3_000 {
            var line: [UInt8]
            if round % 10 == 9 {
                line = (0..<Int.random(in: 0...120, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                line = lines[Int.random(in: 0..<lines.count, using: &random)]
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    guard !line.isEmpty else { break }
                    let at = Int.random(in: 0..<line.count, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: line[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                    case 1: line.remove(at: at)
                    case 2: line.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &random)], at: at)
                    default: line = Array(line[..<at])
                    }
                }
            }
            var fields = EventFields()
            var scratch: [UInt8] = []
            let event: [UInt8]? = line.withUnsafeBufferPointer { record in
                let header = LineFormat.syslogHeader(record, format: sample.format, now: 1_733_385_377_000, scratch: &scratch)
                do throws(LineFormatError) {
                    try LineFormat.event(line: record, header: header, format: sample.format, into: &fields)
                    return fields.bytes
                } catch {
                    #expect(error.offset >= 0 && error.offset <= max(record.count - 1, 0))
                    return nil
                }
            }
            guard let event, String(validating: line, as: UTF8.self) != nil else { continue }
            accepted += 1
            let object = try? JSONSerialization.jsonObject(with: Data(event))
            #expect(object is [String: Any], "\(sample.file): \(String(decoding: line, as: UTF8.self)) gave \(String(decoding: event, as: UTF8.self))")
        }
        #expect(accepted > 100, "\(sample.file): too few mutated lines were accepted for the check to mean much")
    }
}


/// HTTP bodies of JSON records in the shapes cloud services export them.
struct JSONRecordsBodyTests {
    static let sensor = Sensor(organisation: OrganisationID(), name: "cloud", transport: .http, format: .json, mapping: "azure-monitor", createdBy: nil)

    static func records(_ body: String) throws -> (count: Int, refused: [Int]) {
        let parsed = try IntakeBody(Array(body.utf8), sensor: sensor, receivedAt: 0)
        return (parsed.entry.count, parsed.refusals.map(\.line))
    }

    @Test("Azure's records file, an API's array and JSON lines each give one event per record")
    func shapes() throws {
        #expect(try Self.records(#"{"records": [{"category":"SignInLogs"}, {"category":"AuditLogs"}, 7]}"#) == (2, [3]))
        #expect(try Self.records(#"[{"eventType":"user.session.start"},{"eventType":"user.session.end"}]"#) == (2, []))
        // A JSON line that merely has a records member, followed by another line, is two events.
        #expect(try Self.records("{\"records\": [{\"a\":1}]}\n{\"b\":2}\n") == (2, []))
        #expect(throws: IntakeBody.Failure.self) { try Self.records(#"[{"a":1},{"b":"#) }
    }
}

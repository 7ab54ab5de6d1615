import Foundation
import QilaTestSupport
import Testing

@testable import QilaDetect

/// Indicators of compromise: normal forms, the STIX pattern subset, files, and matching at a
/// million indicators.
@Suite("Indicators")
struct IndicatorTests {
    static func set(_ lines: String) throws -> IndicatorSet {
        var report = IndicatorLoader.Report()
        IndicatorLoader().loadLines(lines, path: "test.txt", into: &report)
        #expect(report.refusals.isEmpty, "\(report.refusals)")
        return IndicatorSet(indicators: report.indicators)
    }

    static func names(_ set: IndicatorSet, _ event: String) throws -> [String] {
        var matcher = IndicatorMatcher(set)
        return try matcher.match(event).map { set.indicators[$0.indicator].text }.sorted()
    }

    @Test("normal forms: domains, URLs (RFC 3986 6.2.2), e-mail addresses, hashes")
    func normalForms() {
        #expect(Observable.domain("Evil.Example.COM.") == "evil.example.com")
        #expect(Observable.domain("localhost") == nil)
        #expect(Observable.domain("1.2.3.4") == nil)
        #expect(Observable.domain("-bad.example") == nil)
        #expect(Observable.url("HTTP://Example.COM:80/a/./b/../c/%7euser/%2f?q=%7E#frag") == "http://example.com/a/c/~user/%2F?q=~")
        #expect(Observable.url("https://example.com") == "https://example.com/")
        #expect(Observable.url("https://example.com:8443/x") == "https://example.com:8443/x")
        #expect(Observable.url("example.com/x") == nil)
        #expect(Observable.email("mailto:Alice@Example.ORG") == "alice@example.org")
        #expect(Observable.email("a@b@c.example") == nil)
        #expect(Observable.hash("D41D8CD98F00B204E9800998ECF8427E", kind: .md5) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Observable.hash("d41d8cd98f00b204e9800998ecf8427", kind: .md5) == nil)
    }

    @Test("STIX patterns: =, IN, ISSUBSET, AND, OR, parentheses; everything else refused with the reason")
    func stixPatterns() throws {
        #expect(try StixPattern.parse("[ipv4-addr:value = '10.1.2.3']") == .inNetwork(.ipv4, "10.1.2.3"))
        #expect(try StixPattern.parse("[domain-name:value = 'Evil.Example']") == .equals(.domain, "evil.example"))
        #expect(
            try StixPattern.parse("[url:value IN ('http://a.example/x', 'HTTP://B.example')]")
                == .or([.equals(.url, "http://a.example/x"), .equals(.url, "http://b.example/")]))
        #expect(
            try StixPattern.parse("[file:hashes.'SHA-256' = '\(String(repeating: "ab", count: 32))' OR file:hashes.MD5 = '\(String(repeating: "c", count: 32))']")
                == .or([.equals(.sha256, String(repeating: "ab", count: 32)), .equals(.md5, String(repeating: "c", count: 32))]))
        #expect(
            try StixPattern.parse("([ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [email-addr:value = 'x@evil.example']) OR [domain-name:value = 'a.example']")
                == .or([.and([.inNetwork(.ipv4, "198.51.100.0/24"), .equals(.email, "x@evil.example")]), .equals(.domain, "a.example")]))
        #expect(try StixPattern.parse("[url:value = 'http://a.example/it\\'s']") == .equals(.url, "http://a.example/it's"))
        for (pattern, reason) in [
            ("[ipv4-addr:value != '10.0.0.1']", "only =, IN and ISSUBSET"),
            ("[domain-name:value LIKE '%.example']", "LIKE is outside"),
            ("[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.2']", "FOLLOWEDBY"),
            ("[ipv4-addr:value = '10.0.0.1'] WITHIN 5 SECONDS", "WITHIN"),
            ("[process:name = 'x']", "object path 'process:name'"),
            ("[ipv4-addr:value = '999.1.1.1']", "not an IPv4"),
            ("[ipv4-addr:value ISSUBSET '2001:db8::/32']", "not an ipv4-addr network"),
            ("[domain-name:value = 'a.example'", "expected ']'"),
        ] {
            #expect {
                try StixPattern.parse(pattern)
            } throws: { error in
                (error as? SigmaError)?.message.contains(reason) == true
            }
        }
    }

    @Test("matching: addresses and networks, domains with parents, URLs, hashes in Sysmon's Hashes, e-mail, AND across values")
    func matching() throws {
        let set = try Self.set(
            """
            # a comment
            type,value,name
            ipv4-addr,203.0.113.7,c2
            cidr,198.51.100.0/24
            ipv6,2001:db8::/32
            domain,evil.example
            url,http://files.example/payload.exe?id=1
            sha256,\(String(repeating: "A", count: 64))
            email,phish@bad.example
            [ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'both.example']
            """)
        #expect(try Self.names(set, #"{"DestinationIp":"203.0.113.7","DestinationPort":443}"#) == ["203.0.113.7"])
        #expect(try Self.names(set, #"{"DestinationIp":"203.0.113.8"}"#) == [])
        #expect(try Self.names(set, #"{"SourceIp":"::ffff:198.51.100.9"}"#) == ["198.51.100.0/24"])
        #expect(try Self.names(set, #"{"SourceIp":"2001:DB8:1::5"}"#) == ["2001:db8::/32"])
        #expect(try Self.names(set, #"{"QueryName":"A.B.Evil.Example."}"#) == ["evil.example"])
        #expect(try Self.names(set, #"{"QueryName":"notevil.example"}"#) == [])
        #expect(try Self.names(set, #"{"CommandLine":"curl -o x HTTP://FILES.example:80/./payload.exe?id=1 && run"}"#) == ["http://files.example/payload.exe?id=1"])
        #expect(try Self.names(set, #"{"CommandLine":"ping evil.example:443"}"#) == ["evil.example"])
        #expect(try Self.names(set, #"{"Hashes":"MD5=00,SHA256=\#(String(repeating: "a", count: 64)),IMPHASH=11"}"#) == [String(repeating: "A", count: 64)])
        #expect(try Self.names(set, #"{"From":"Phish <phish@BAD.example>"}"#) == ["phish@bad.example"])
        #expect(try Self.names(set, #"{"ip":"192.0.2.1"}"#) == [])
        #expect(try Self.names(set, #"{"ip":"192.0.2.1","Event":{"host":"both.example"}}"#) == ["[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'both.example']"])
        var matcher = IndicatorMatcher(set)
        let found = try matcher.match(#"{"Event":{"EventData":{"DestinationIp":"203.0.113.7"}}}"#)
        #expect(found.first?.fields.first?.name == "DestinationIp" && found.first?.fields.first?.value == "203.0.113.7")
        #expect(throws: EventError.self) { try matcher.match(#"{"a": }"#) }
    }

    @Test("indicator files: STIX bundles and lists, revoked skipped, refusals named with file and line or id")
    func files() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qila-indicators-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundle = folder.appendingPathComponent("bundle.json")
        try """
        {"type":"bundle","id":"bundle--1","objects":[
          {"type":"indicator","id":"indicator--a","name":"C2","pattern_type":"stix","pattern":"[ipv4-addr:value = '203.0.113.7']"},
          {"type":"indicator","id":"indicator--b","pattern_type":"stix","pattern":"[process:name = 'x']"},
          {"type":"indicator","id":"indicator--c","pattern_type":"sigma","pattern":"title: x"},
          {"type":"indicator","id":"indicator--d","pattern_type":"stix","revoked":true,"pattern":"[ipv4-addr:value = '10.0.0.1']"},
          {"type":"malware","id":"malware--e","name":"x"}
        ]}
        """.write(to: bundle, atomically: true, encoding: .utf8)
        let list = folder.appendingPathComponent("list.txt")
        try "evil.example\nnot a value\nfoo,bar\n".write(to: list, atomically: true, encoding: .utf8)
        let report = IndicatorLoader().load([bundle.path, list.path, folder.appendingPathComponent("missing").path])
        #expect(report.indicators.map(\.id) == ["indicator--a", "list.txt:1"])
        #expect(report.indicators.first?.name == "C2")
        #expect(report.revoked == 1)
        let reasons = report.refusals.map(\.description)
        #expect(reasons.count == 5, "\(reasons)")
        #expect(reasons.contains { $0.contains("indicator--b") && $0.contains("process:name") })
        #expect(reasons.contains { $0.contains("indicator--c") && $0.contains("sigma") })
        #expect(reasons.contains { $0.contains("list.txt:2") })
        #expect(reasons.contains { $0.contains("list.txt:3") && $0.contains("unknown kind 'foo'") })
    }

    @Test("a million indicators: every planted one is found, nothing else is")
    func million() throws {
        var indicators: [Indicator] = []
        indicators.reserveCapacity(1_000_000)
        var random = SplitMix(state: 77)
        var domains: [String] = []
        for index in 0..<1_000_000 {
            let pattern: StixPattern
            let text: String
            switch index % 4 {
            case 0:
                text = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
                pattern = .inNetwork(.ipv4, text)
            case 1:
                text = "host\(index).example\(index % 97).net"
                domains.append(text)
                pattern = .inNetwork(.domain, text)  // a listed domain: it and the names under it
            case 2:
                text = (0..<4).map { _ in String(format: "%016llx", random.next()) }.joined()
                pattern = .equals(.sha256, text)
            default:
                text = "http://site\(index).example/path/\(index)"
                pattern = .equals(.url, text + "")
            }
            indicators.append(Indicator(id: "i\(index)", pattern: pattern, text: text))
        }
        let set = IndicatorSet(indicators: indicators)
        var matcher = IndicatorMatcher(set)
        for index in stride(from: 0, to: 1_000_000, by: 997) {
            let text = set.indicators[index].text
            let event: String
            switch index % 4 {
            case 0: event = #"{"DestinationIp":"\#(text)"}"#
            case 1: event = #"{"QueryName":"www.\#(text)"}"#
            case 2: event = #"{"Hashes":"SHA256=\#(text.uppercased())"}"#
            default: event = #"{"CommandLine":"wget \#(text)"}"#
            }
            #expect(try matcher.match(event).map(\.indicator) == [index], "\(event)")
        }
        // A STIX `domain-name:value =` names that domain only, not the names under it.
        var exact = IndicatorMatcher(IndicatorSet(indicators: [Indicator(id: "x", pattern: .equals(.domain, "evil.example"), text: "evil.example")]))
        #expect(try exact.match(#"{"QueryName":"www.evil.example"}"#).isEmpty)
        #expect(try exact.match(#"{"QueryName":"evil.example"}"#).count == 1)
        #expect(try matcher.match(#"{"DestinationIp":"11.0.0.1","QueryName":"host1.example2.net","Hashes":"SHA256=\#(String(repeating: "0", count: 64))","u":"http://site3.example/path/4"}"#).isEmpty)
    }

    @Test("Words found eight bytes at a time (no hash in the set) match exactly what the byte-by-byte pass finds")
    func fastWordsAgreeWithByteByByte() throws {
        var random = SplitMix(state: 20)
        let domains = ["evil.example", "c2.bad.net", "x.y.example.org", "login.bank-secure.com"]
        let addresses = ["203.0.113.9", "198.51.100.0/24", "10.1.2.3"]
        let emails = ["ceo@phish.example"]
        var indicators: [Indicator] = domains.map { Indicator(id: $0, pattern: .equals(.domain, $0), text: $0) }
        indicators += [Indicator(id: "listed", pattern: .inNetwork(.domain, "bad.net"), text: "bad.net")]
        indicators += addresses.map { Indicator(id: $0, pattern: .inNetwork(.ipv4, $0), text: $0) }
        indicators += emails.map { Indicator(id: $0, pattern: .equals(.email, $0), text: $0) }
        let fast = IndicatorSet(indicators: indicators)
        // The same set with one hash more takes the byte-by-byte pass for every value.
        let hash = String(repeating: "ab", count: 32)
        let slow = IndicatorSet(indicators: indicators + [Indicator(id: "hash", pattern: .equals(.sha256, hash), text: hash)])
        var fastMatcher = IndicatorMatcher(fast)
        var slowMatcher = IndicatorMatcher(slow)
        let pieces = domains + addresses.map { $0.split(separator: "/").first.map(String.init)! } + emails + [
            "www.EVIL.example", "evil.example.", "198.51.100.77", "198.51.100.77:443", "a@b", "no-dot", "C:\\\\Windows\\\\x.dll", "..", ".", "@",
            "sub.c2.bad.net", "Ceo@Phish.Example", "evil", "example", "a.b.c.d.e", "203.0.113.9.", "é.example", "x@evil.example",
        ]
        let separators = [" ", "/", "=", ",", "\\t", "|", "(", ")", "'", ""]
        var mismatches = 0
        var hits = 0
        for round in 0..<3_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                text += pieces.randomElement(using: &random)! + separators.randomElement(using: &random)!
            }
            let event = #"{"Message":"\#(text)","Field\#(round)":"x"}"#
            let fastHits = Set(try fastMatcher.match(event).map { fast.indicators[$0.indicator].id })
            let slowHits = Set(try slowMatcher.match(event).map { slow.indicators[$0.indicator].id })
            hits += fastHits.count
            if fastHits != slowHits {
                mismatches += 1
                Issue.record("\(event): fast \(fastHits.sorted()), byte by byte \(slowHits.sorted())")
                if mismatches > 5 { break }
            }
        }
        #expect(hits > 3_000, "the events name the set's values often enough to compare")
    }

    @Test("The raw pre-filter passes over an event only when the full pass finds nothing in it: escapes, keys, ports, hashes and URLs")
    func rawPrefilterIsSound() throws {
        var random = SplitMix(state: 21)
        let hash = String(repeating: "ab", count: 32)
        let base: [Indicator] = [
            Indicator(id: "d", pattern: .equals(.domain, "evil.example"), text: "evil.example"),
            Indicator(id: "listed", pattern: .inNetwork(.domain, "bad.net"), text: "bad.net"),
            Indicator(id: "a", pattern: .inNetwork(.ipv4, "203.0.113.9"), text: "203.0.113.9"),
            Indicator(id: "n", pattern: .inNetwork(.ipv4, "198.51.100.0/24"), text: "198.51.100.0/24"),
            Indicator(id: "e", pattern: .equals(.email, "ceo@phish.example"), text: "ceo@phish.example"),
        ]
        let sets = [
            IndicatorSet(indicators: base),
            IndicatorSet(indicators: base + [Indicator(id: "h", pattern: .equals(.sha256, hash), text: hash)]),
            IndicatorSet(indicators: base + [Indicator(id: "u", pattern: .equals(.url, "http://evil.example/x"), text: "http://evil.example/x")]),
        ]
        // Pieces as they appear inside a JSON string (escapes written as JSON writes them).
        let pieces = [
            "evil.example", "x.bad.net", "203.0.113.9", "198.51.100.77:443", "ceo@phish.example", "mailto:CEO@phish.example", hash, hash.uppercased(),
            "\\nevil.example", "\\tbad.net", "\\b\(hash)", "\\f\(hash)", "\\\\nevil.example", "evil\\u002eexample", "\\u0041", "\\\"evil.example\\\"",
            "\\/evil.example", "http://evil.example/x", "HTTP://EVIL.EXAMPLE/x", "::ffff:203.0.113.9", "C:\\\\Windows\\\\x.dll", "1.5", "evil", "example",
            "no-dot", "a@b", "ab", "evil.example.", "www.evil.example",
        ]
        let separators = [" ", "/", "=", ",", "|", "(", ")", "'", ":", ""]
        var hits = 0
        var passedOver = 0
        for round in 0..<2_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...10, using: &random) {
                text += pieces.randomElement(using: &random)! + separators.randomElement(using: &random)!
            }
            let key = round % 7 == 0 ? "evil.example" : "Message"
            let event = Array(#"{"\#(key)":"\#(text)","Port":443,"Ratio":1.5,"n\#(round)":[true,null]}"#.utf8)
            for set in sets {
                var full = IndicatorMatcher(set)
                var filtered = IndicatorMatcher(set)
                let expected = try event.withUnsafeBufferPointer { (bytes) throws(EventError) in
                    var found: [Int] = []
                    try full.match(bytes) { found.append($0.indicator) }
                    return found
                }
                let got = try event.withUnsafeBufferPointer { (bytes) throws(EventError) in
                    var found: [Int] = []
                    try filtered.match(bytes, wellFormed: true) { found.append($0.indicator) }
                    return found
                }
                hits += expected.count
                if event.withUnsafeBufferPointer({ !filtered.mayMatch($0) }) { passedOver += 1 }
                #expect(got == expected, "\(String(decoding: event, as: UTF8.self))")
            }
        }
        #expect(hits > 2_000, "the events name the sets' values often enough to compare")
        #expect(passedOver > 300, "and often enough none: the pre-filter passes over those")
    }
}

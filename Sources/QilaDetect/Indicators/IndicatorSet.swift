import Foundation

/// Indicators compiled for matching: every distinct value once in one byte-keyed table (a
/// million indicators are a few allocations), networks grouped by prefix length so that an
/// address is looked up once per length in use, and each indicator's pattern kept only when it
/// is more than one value.
public final class IndicatorSet: Sendable {
    public let indicators: [Indicator]
    public let refusals: [SigmaError]

    /// Value key → atom. Keys: a kind byte and the normal form (`d` domain, `u` URL, `e`
    /// e-mail, `h` hash), or `4`/`6`, the prefix length and the masked address for networks.
    let atoms: ByteKeyTable
    let atomCount: Int
    /// Indicators per atom: `atomIndicators[atomStart[a]..<atomStart[a + 1]]`.
    let atomStart: [Int32]
    let atomIndicators: [Int32]
    /// Patterns of more than one value, by indicator; nil for a single value.
    let expressions: [Int32: Expression]
    let ipv4Lengths: [Int]
    let ipv6Lengths: [Int]
    let hasDomains, hasURLs, hasEmails, hasHashes: Bool
    /// The hashes of the last labels of every domain value (`net`, `example`): a word whose last
    /// label is not among them names no domain of the set, nor do its parents, and is not looked up.
    let domainLastLabels: Set<UInt64>
    /// True when some value has non-ASCII bytes: only then are events lowercased by Unicode rules.
    let hasNonASCIIValues: Bool

    enum Expression: Sendable {
        case atom(Int32)
        case and([Expression])
        case or([Expression])
    }

    public convenience init(paths: [String]) {
        let report = IndicatorLoader().load(paths)
        self.init(indicators: report.indicators, loadingRefusals: report.refusals)
    }

    public init(indicators: [Indicator], loadingRefusals: [SigmaError] = []) {
        var table = ByteKeyTable(capacity: indicators.count)
        var count = 0
        var pairs: [(atom: Int32, indicator: Int32)] = []
        pairs.reserveCapacity(indicators.count)
        var expressions: [Int32: Expression] = [:]
        var v4: Set<Int> = []
        var v6: Set<Int> = []
        var kinds: Set<ObservableKind> = []
        var lastLabels: Set<UInt64> = []
        var nonASCII = false

        func atom(_ key: [UInt8]) -> Int32 {
            if let known = table.value(for: key) { return known }
            table.set(key, Int32(count))
            count += 1
            return Int32(count - 1)
        }
        func compile(_ pattern: StixPattern, _ indicator: Int32) -> Expression {
            switch pattern {
            case .equals(let kind, let value):
                kinds.insert(kind)
                if kind == .domain { lastLabels.insert(Self.lastLabelHash(value.utf8)) }
                nonASCII = nonASCII || value.utf8.contains { $0 >= 0x80 }
                // A STIX `domain-name:value =` names that domain only (a listed domain covers its subdomains: `inNetwork`).
                let key = kind == .domain ? [UInt8(ascii: "D")] + Array(value.utf8) : Self.key(kind, Array(value.utf8))
                let index = atom(key)
                pairs.append((index, indicator))
                return .atom(index)
            case .inNetwork(.domain, let text):
                kinds.insert(.domain)
                lastLabels.insert(Self.lastLabelHash(text.utf8))
                nonASCII = nonASCII || text.utf8.contains { $0 >= 0x80 }
                let index = atom(Self.key(.domain, Array(text.utf8)))
                pairs.append((index, indicator))
                return .atom(index)
            case .inNetwork(let kind, let text):
                let network = Network(addressOrCIDR: text)!  // checked when the pattern was made
                if network.address.isIPv6 { v6.insert(network.prefix) } else { v4.insert(network.prefix) }
                kinds.insert(kind)
                let index = atom(Self.networkKey(network.address, prefix: network.prefix))
                pairs.append((index, indicator))
                return .atom(index)
            case .and(let parts): return .and(parts.map { compile($0, indicator) })
            case .or(let parts): return .or(parts.map { compile($0, indicator) })
            }
        }
        for (index, indicator) in indicators.enumerated() {
            let expression = compile(indicator.pattern, Int32(index))
            if case .atom = expression { continue }
            expressions[Int32(index)] = expression
        }
        // Indicators per atom, in one array.
        pairs.sort { ($0.atom, $0.indicator) < ($1.atom, $1.indicator) }
        var starts = [Int32](repeating: 0, count: count + 1)
        var list: [Int32] = []
        list.reserveCapacity(pairs.count)
        var previous: (Int32, Int32) = (-1, -1)
        for pair in pairs where pair != previous {
            starts[Int(pair.atom) + 1] += 1
            list.append(pair.indicator)
            previous = pair
        }
        for index in 0..<count { starts[index + 1] += starts[index] }
        self.indicators = indicators
        refusals = loadingRefusals
        atoms = table
        atomCount = count
        atomStart = starts
        atomIndicators = list
        self.expressions = expressions
        ipv4Lengths = v4.sorted(by: >)
        ipv6Lengths = v6.sorted(by: >)
        hasDomains = kinds.contains(.domain) || kinds.contains(.url)
        hasURLs = kinds.contains(.url)
        hasEmails = kinds.contains(.email)
        hasHashes = kinds.contains(.md5) || kinds.contains(.sha1) || kinds.contains(.sha256)
        domainLastLabels = lastLabels
        hasNonASCIIValues = nonASCII
    }

    /// The hash of what follows a name's last dot (the whole name if it has none).
    static func lastLabelHash<Name: Collection<UInt8>>(_ name: Name) -> UInt64 {
        let label = Array(name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).last ?? name[...])
        return label.withUnsafeBufferPointer { Bytes.hash($0) }
    }

    static func key(_ kind: ObservableKind, _ value: [UInt8]) -> [UInt8] {
        let tag: UInt8
        switch kind {
        case .domain: tag = UInt8(ascii: "d")
        case .url: tag = UInt8(ascii: "u")
        case .email: tag = UInt8(ascii: "e")
        case .md5, .sha1, .sha256: tag = UInt8(ascii: "h")
        case .ipv4, .ipv6: tag = UInt8(ascii: "a")
        }
        return [tag] + value
    }

    static func networkKey(_ address: IPAddress, prefix: Int) -> [UInt8] {
        let masked = address.masked(prefix)
        var key: [UInt8] = [address.isIPv6 ? 6 : 4, UInt8(prefix)]
        withUnsafeBytes(of: masked.high.bigEndian) { key += $0 }
        if address.isIPv6 { withUnsafeBytes(of: masked.low.bigEndian) { key += $0 } }
        return key
    }

    public var count: Int { indicators.count }
}

/// One indicator that held on an event, with the event values that made it hold.
public struct IndicatorMatch: Sendable {
    public var indicator: Int
    public var fields: [(name: String, value: String)]
}

/// Matches events against an indicator set; one per worker (it keeps scratch state). Every
/// string and number of the event is examined: the whole value as an address; its words as
/// hashes, e-mail addresses, domains (exactly, for STIX `domain-name:value =`; with every parent
/// domain for listed domains, so `evil.example` in a list catches `a.b.evil.example`) and `host:port`; and any `scheme://…` in it as a normalised URL and its host.
public struct IndicatorMatcher {
    public let set: IndicatorSet
    private var scanner = EventScanner(tree: FieldTree(), collectLeaves: true)
    private var event = ScannedEvent()
    private var atomStamp: [UInt32]
    private var atomLeaf: [Int32]
    private var generation: UInt32 = 0
    private var hitAtoms: [Int32] = []
    private var value: [UInt8] = []
    private var lower: [UInt8] = []
    private var key: [UInt8] = []
    private var leaf = 0
    private var leafTexts: [String?] = []
    private var words: [(range: Range<Int>, seen: UInt8)] = []

    public init(_ set: IndicatorSet) {
        self.set = set
        atomStamp = Array(repeating: 0, count: set.atomCount)
        atomLeaf = Array(repeating: -1, count: set.atomCount)
    }

    /// Matches one event given as a JSON object in UTF-8.
    /// `wellFormed`: the caller has already read the event as JSON (the rules did), so an event
    /// whose raw bytes name nothing the set holds is passed over without being read again.
    public mutating func match(_ bytes: UnsafeBufferPointer<UInt8>, wellFormed: Bool = false, _ found: (IndicatorMatch) -> Void) throws(EventError) {
        guard set.atomCount > 0 else { return }
        if wellFormed, !mayMatch(bytes) { return }
        try scanner.scan(bytes, into: &event)
        generation &+= 1
        if generation == 0 {
            for index in atomStamp.indices { atomStamp[index] = 0 }
            generation = 1
        }
        hitAtoms.removeAll(keepingCapacity: true)
        for index in event.leaves.indices {
            let leafValue = event.leaves[index]
            guard leafValue.kind == .string || leafValue.kind == .escapedString || leafValue.kind == .number else { continue }
            leaf = index
            let range = Int(leafValue.start)..<Int(leafValue.end)
            if leafValue.kind == .escapedString {
                // Unescaped into a scratch array moved out of `self` while it is read.
                var scratch: [UInt8] = []
                swap(&scratch, &value)
                scratch.removeAll(keepingCapacity: true)
                JSONText.unescape(UnsafeBufferPointer(rebasing: bytes[range]), into: &scratch)
                scratch.withUnsafeBufferPointer { examine($0) }
                swap(&scratch, &value)
            } else {
                examine(UnsafeBufferPointer(rebasing: bytes[range]))
            }
        }
        guard !hitAtoms.isEmpty else { return }
        var candidates: [Int32] = []
        for atom in hitAtoms {
            candidates += set.atomIndicators[Int(set.atomStart[Int(atom)])..<Int(set.atomStart[Int(atom) + 1])]
        }
        candidates.sort()
        var previous: Int32 = -1
        for indicator in candidates where indicator != previous {
            previous = indicator
            guard set.expressions[indicator].map(holds) ?? true else { continue }
            found(IndicatorMatch(indicator: Int(indicator), fields: fields(of: indicator, bytes)))
        }
    }

    /// Convenience for tests and small callers.
    public mutating func match(_ json: String) throws(EventError) -> [IndicatorMatch] {
        var results: [IndicatorMatch] = []
        let bytes = Array(json.utf8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(EventError) in try match(buffer) { results.append($0) } }
        return results
    }

    private func holds(_ expression: IndicatorSet.Expression) -> Bool {
        switch expression {
        case .atom(let atom): atomStamp[Int(atom)] == generation
        case .and(let parts): parts.allSatisfy(holds)
        case .or(let parts): parts.contains(where: holds)
        }
    }

    /// The values behind the atoms of an indicator that held.
    private func fields(of indicator: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)] {
        var leaves: [Int32] = []
        func collect(_ expression: IndicatorSet.Expression) {
            switch expression {
            case .atom(let atom): if atomStamp[Int(atom)] == generation, !leaves.contains(atomLeaf[Int(atom)]) { leaves.append(atomLeaf[Int(atom)]) }
            case .and(let parts), .or(let parts): parts.forEach(collect)
            }
        }
        if let expression = set.expressions[indicator] {
            collect(expression)
        } else {
            for atom in hitAtoms where set.atomIndicators[Int(set.atomStart[Int(atom)])..<Int(set.atomStart[Int(atom) + 1])].contains(indicator) {
                if !leaves.contains(atomLeaf[Int(atom)]) { leaves.append(atomLeaf[Int(atom)]) }
            }
        }
        return leaves.map { index in
            let keyRange = event.leafKeys[Int(index)]
            let leafValue = event.leaves[Int(index)]
            let name = JSONText.unescape(UnsafeBufferPointer(rebasing: bytes[Int(keyRange.lowerBound)..<Int(keyRange.upperBound)]))
            let raw = UnsafeBufferPointer(rebasing: bytes[Int(leafValue.start)..<Int(leafValue.end)])
            let text = leafValue.kind == .escapedString ? JSONText.unescape(raw) : Array(raw)
            return (String(decoding: name, as: UTF8.self), String(decoding: text, as: UTF8.self))
        }
    }

    // MARK: examining one value

    private mutating func hit(_ key: [UInt8]) {
        guard let atom = set.atoms.value(for: key) else { return }
        record(atom)
    }

    private mutating func record(_ atom: Int32) {
        guard atomStamp[Int(atom)] != generation else { return }
        atomStamp[Int(atom)] = generation
        atomLeaf[Int(atom)] = Int32(leaf)
        hitAtoms.append(atom)
    }

    /// One value: as a whole, an address; cut into words (classified as they are read), each word
    /// that can be a hash, an e-mail address, an address or a domain of a kind the set holds.
    private mutating func examine(_ raw: UnsafeBufferPointer<UInt8>) {
        let classes = Self.classes  // read once: a static in the loop costs a check per byte
        if !set.ipv4Lengths.isEmpty || !set.ipv6Lengths.isEmpty, raw.count <= 45, raw.count >= 2,
            raw.allSatisfy({ classes[Int($0)] & Self.addressByte != 0 })
        {
            lookupAddress(IPAddress(utf8: raw))
        }
        guard set.hasDomains || set.hasEmails || set.hasHashes || !set.ipv4Lengths.isEmpty else { return }
        let wantsEmails = set.hasEmails
        var found: [(range: Range<Int>, seen: UInt8)] = []
        swap(&found, &words)
        found.removeAll(keepingCapacity: true)
        lower.removeAll(keepingCapacity: true)
        if set.hasHashes || set.hasURLs || set.hasNonASCIIValues {
            // Hashes have no dot to find them by, URLs are read across words, and Unicode
            // lowering may change lengths: the whole value is lowered and read byte by byte.
            Bytes.lowercase(raw, into: &lower, unicode: set.hasNonASCIIValues)
            if set.hasURLs { findURLs(raw) }
            let hashes = set.hasHashes
            lower.withUnsafeBufferPointer { text in
                classes.withUnsafeBufferPointer { table in Self.classifiedWords(in: text, table: table, hashes: hashes) { found.append(($0..<$1, $2)) } }
            }
        } else {
            // Only words with a dot (or an at-sign) matter: found eight bytes at a time, each
            // lowered on its own into `lower`.
            classes.withUnsafeBufferPointer { table in
                Self.dotWords(in: raw, table: table, emails: wantsEmails) { start, end, seen in
                    let at = lower.count
                    Bytes.lowercase(UnsafeBufferPointer(rebasing: raw[start..<end]), into: &lower, unicode: false)
                    found.append((at..<lower.count, seen))
                }
            }
        }
        for (range, seen) in found { examine(token: range, seen: seen, emails: wantsEmails) }
        swap(&found, &words)
    }

    /// The words of a value worth a look: with a dot, an at-sign, or (when `hashes`) all hex of
    /// a hash's length, or of one byte more when `slack` (a raw word may begin with an escape's
    /// letter). One pass, each byte classified by the table.
    static func classifiedWords(
        in text: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>, hashes: Bool, slack: Bool = false,
        _ take: (_ start: Int, _ end: Int, _ seen: UInt8) -> Void
    ) {
        var start = 0
        var seen: UInt8 = hexByte
        func word(_ end: Int) {
            let length = end - start
            guard length > 0 else { return }
            let hashLike =
                hashes && seen & hexByte != 0 && (Observable.hashKind(length: length) != nil || (slack && Observable.hashKind(length: length - 1) != nil))
            if seen & (dotByte | atByte) != 0 || hashLike { take(start, end, seen) }
        }
        for index in 0..<text.count {
            let byteClass = table[Int(text[index])]
            if byteClass & separator != 0 {
                word(index)
                start = index + 1
                seen = hexByte
            } else {
                // Hex is kept only while every byte is hex; dots and at-signs once any is seen.
                seen = (seen & ~hexByte) | (seen & byteClass & hexByte) | (byteClass & (dotByte | atByte))
            }
        }
        word(text.count)
    }

    // MARK: the raw pre-filter

    /// Whether the event's raw JSON holds a word that names an atom of the set: a superset of
    /// what the full pass finds, so that `false` is certain. The raw text is cut as the values
    /// would be (`:` cuts too: keys and values, hosts and ports), a letter of a JSON escape
    /// (`\n`, `\t`…) is not taken as part of the word after it, and what cannot be read this way
    /// sends the event to the full pass: a `\u` escape (it may hide any byte), `://` when the set
    /// holds URLs (they span words), IPv6 networks (their words have no dot), non-ASCII values.
    mutating func mayMatch(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        if set.hasNonASCIIValues || !set.ipv6Lengths.isEmpty || Self.hasUnicodeEscape(raw) { return true }
        if set.hasURLs, Self.containsSchemeSeparator(raw) { return true }
        generation &+= 1
        if generation == 0 {
            for index in atomStamp.indices { atomStamp[index] = 0 }
            generation = 1
        }
        hitAtoms.removeAll(keepingCapacity: true)
        let wantsEmails = set.hasEmails
        var found: [(range: Range<Int>, seen: UInt8)] = []
        swap(&found, &words)
        found.removeAll(keepingCapacity: true)
        lower.removeAll(keepingCapacity: true)
        let classes = Self.rawClasses
        classes.withUnsafeBufferPointer { table in
            // Each candidate word is lowered on its own into `lower`, escape letters left out.
            func take(_ start: Int, _ end: Int, _ seen: UInt8) {
                var start = start
                if start > 0, raw[start - 1] == UInt8(ascii: "\\"), Self.escapes(raw, at: start - 1), Self.isEscapeLetter(raw[start]) { start += 1 }
                guard end > start else { return }
                let at = lower.count
                Bytes.lowercase(UnsafeBufferPointer(rebasing: raw[start..<end]), into: &lower, unicode: false)
                found.append((at..<lower.count, seen))
            }
            if set.hasHashes {
                // Hex words have no dot to find them by: every byte is classified.
                Self.classifiedWords(in: raw, table: table, hashes: true, slack: true, take)
            } else {
                Self.dotWords(in: raw, table: table, emails: wantsEmails, take)
            }
        }
        for (range, seen) in found {
            // The hex flag was taken before an escape letter was left out: look again.
            var seen = seen
            if seen & Self.hexByte == 0, lower[range].allSatisfy({ Self.classes[Int($0)] & Self.hexByte != 0 }) { seen |= Self.hexByte }
            examine(token: range, seen: seen, emails: wantsEmails)
            if !hitAtoms.isEmpty { break }
        }
        swap(&found, &words)
        return !hitAtoms.isEmpty
    }

    /// Bytes as the pre-filter cuts raw JSON: the values' separators and `:`.
    private static let rawClasses: [UInt8] = classes.enumerated().map { byte, bits in byte == Int(UInt8(ascii: ":")) ? bits | separator : bits }

    /// Whether the backslash at `index` starts an escape (an odd run of backslashes ends there).
    static func escapes(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        var run = 0
        var position = index
        while position >= 0, raw[position] == UInt8(ascii: "\\") {
            run += 1
            position -= 1
        }
        return run % 2 == 1
    }

    static func isEscapeLetter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "n") || byte == UInt8(ascii: "t") || byte == UInt8(ascii: "r") || byte == UInt8(ascii: "b") || byte == UInt8(ascii: "f")
    }

    /// Whether the raw JSON holds a `\uXXXX` escape.
    static func hasUnicodeEscape(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while let backslash = nextByte(raw, UInt8(ascii: "\\"), from: index), backslash + 1 < raw.count {
            if raw[backslash + 1] == UInt8(ascii: "u") { return true }
            index = backslash + 2  // the escaped byte, whatever it is
        }
        return false
    }

    /// Whether the raw text holds `://`.
    static func containsSchemeSeparator(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while let colon = nextByte(raw, UInt8(ascii: ":"), from: index) {
            if colon + 2 < raw.count, raw[colon + 1] == UInt8(ascii: "/"), raw[colon + 2] == UInt8(ascii: "/") { return true }
            index = colon + 1
        }
        return false
    }

    /// The first `byte` at or after `from`, eight bytes at a time.
    static func nextByte(_ text: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int) -> Int? {
        guard let base = text.baseAddress, from < text.count else { return nil }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let sought = UInt64(byte) &* ones
        var index = from
        while index + 8 <= text.count {
            let x = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ sought
            let hits = (x &- ones) & ~x & highs
            if hits != 0 { return index + hits.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < text.count {
            if text[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Each word of `raw` holding a dot (or an at-sign, when `emails`), with its dot and at-sign
    /// flags: the dots are found eight bytes at a time, the word around each by `table`.
    static func dotWords(
        in raw: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>, emails: Bool, _ take: (_ start: Int, _ end: Int, _ seen: UInt8) -> Void
    ) {
        var index = 0
        while let special = nextDotOrAt(raw, from: index, at: emails) {
            var start = special
            while start > 0, table[Int(raw[start - 1])] & separator == 0 { start -= 1 }
            var end = special
            var seen: UInt8 = 0
            while end < raw.count, case let byteClass = table[Int(raw[end])], byteClass & separator == 0 {
                seen |= byteClass & (dotByte | atByte)
                end += 1
            }
            for back in start..<special { seen |= table[Int(raw[back])] & (dotByte | atByte) }
            take(start, end, seen)
            index = end + 1
        }
    }

    /// The first `.` (or `@`, when `at`) at or after `from`, eight bytes at a time.
    static func nextDotOrAt(_ text: UnsafeBufferPointer<UInt8>, from: Int, at: Bool) -> Int? {
        guard let base = text.baseAddress, from < text.count else { return nil }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let dots = UInt64(UInt8(ascii: ".")) &* ones, ats = UInt64(UInt8(ascii: "@")) &* ones
        var index = from
        while index + 8 <= text.count {
            // A byte equal to the one sought becomes zero; the lowest zero byte is found exactly.
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let x = word ^ dots
            var hits = (x &- ones) & ~x & highs
            if at {
                let y = word ^ ats
                hits |= (y &- ones) & ~y & highs
            }
            if hits != 0 { return index + hits.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < text.count {
            if text[index] == UInt8(ascii: ".") || (at && text[index] == UInt8(ascii: "@")) { return index }
            index += 1
        }
        return nil
    }

    private mutating func lookupAddress(_ parsed: IPAddress?) {
        guard var address = parsed else { return }
        if address.isIPv6, address.high == 0, address.low >> 32 == 0xFFFF {
            // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
            address = IPAddress(v4: UInt32(truncatingIfNeeded: address.low))
        }
        for prefix in address.isIPv6 ? set.ipv6Lengths : set.ipv4Lengths {
            if let atom = set.atoms.value(for: IndicatorSet.networkKey(address, prefix: prefix)) { record(atom) }
        }
    }

    /// What each byte is, as bits: where values are cut into words, hex digits, a dot, an
    /// at-sign, and the bytes an address can be written with (hex digits, `.`, `:`, spaces
    /// around; other values are not handed to the address parser at all).
    private static let separator: UInt8 = 1, hexByte: UInt8 = 2, dotByte: UInt8 = 4, atByte: UInt8 = 8, addressByte: UInt8 = 16
    private static let classes: [UInt8] = (0..<256).map { (byte: Int) -> UInt8 in
        let scalar = Unicode.Scalar(UInt8(byte))
        var bits: UInt8 = separatesSlowly(UInt8(byte)) ? separator : 0
        if scalar.properties.isASCIIHexDigit { bits |= hexByte }
        if scalar == "." { bits |= dotByte }
        if scalar == "@" { bits |= atByte }
        if scalar.properties.isASCIIHexDigit || scalar == "." || scalar == ":" || scalar == " " { bits |= addressByte }
        return bits
    }

    private static func separatesSlowly(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x00...0x20, UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"),
            UInt8(ascii: "}"), UInt8(ascii: "|"), UInt8(ascii: "="), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "`"):
            return true
        default:
            return false
        }
    }

    private mutating func examine(token range: Range<Int>, seen: UInt8, emails: Bool) {
        var token = lower[range]
        let count = token.count
        if set.hasHashes, seen & Self.hexByte != 0, Observable.hashKind(length: count) != nil {
            key.removeAll(keepingCapacity: true)
            key.append(UInt8(ascii: "h"))
            key += token
            hit(key)
            return
        }
        if emails, seen & Self.atByte != 0 {
            if let email = Observable.email(Substring(String(decoding: token, as: UTF8.self))) {
                hit(IndicatorSet.key(.email, Array(email.utf8)))
            }
            return
        }
        guard seen & Self.dotByte != 0 else { return }
        // host:port
        if let colon = token.lastIndex(of: UInt8(ascii: ":")), colon > token.startIndex,
            token[(colon + 1)...].allSatisfy({ (0x30...0x39).contains($0) })
        {
            token = token[..<colon]
        }
        if !set.ipv4Lengths.isEmpty, let first = token.first, (0x30...0x39).contains(first) {
            let address = lower.withUnsafeBufferPointer { IPAddress(utf8: UnsafeBufferPointer(rebasing: $0[token.startIndex..<token.endIndex])) }
            if address != nil {
                lookupAddress(address)
                return
            }
        }
        if set.hasDomains { lookupDomain(token) }
    }

    /// The domain and each of its parents.
    private mutating func lookupDomain(_ raw: ArraySlice<UInt8>) {
        var name = raw
        while let last = name.last, last == UInt8(ascii: ".") { name = name.dropLast() }
        // Every key looked up below ends with this name's last label: none of the set's does, no lookup.
        guard name.count >= 3, name.count <= 253 else { return }
        let labelStart = name.lastIndex(of: UInt8(ascii: ".")).map { $0 + 1 } ?? name.startIndex
        guard set.domainLastLabels.contains(name[labelStart...].withUnsafeBufferPointer { Bytes.hash($0) }) else { return }
        guard
            name.allSatisfy({ $0 >= 0x80 || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { return }
        key.removeAll(keepingCapacity: true)
        key.append(UInt8(ascii: "D"))
        key += name
        hit(key)
        var start = name.startIndex
        while start < name.endIndex {
            key.removeAll(keepingCapacity: true)
            key.append(UInt8(ascii: "d"))
            key += name[start...]
            hit(key)
            guard let dot = name[start...].firstIndex(of: UInt8(ascii: ".")) else { break }
            start = dot + 1
        }
    }

    /// Every `scheme://…` in the value, up to white space or a quote; `raw` is the value as
    /// written (its path keeps its case).
    private mutating func findURLs(_ raw: UnsafeBufferPointer<UInt8>) {
        var index = 0
        while index + 3 <= lower.count {
            guard lower[index] == UInt8(ascii: ":"), lower[index + 1] == UInt8(ascii: "/"), lower[index + 2] == UInt8(ascii: "/") else {
                index += 1
                continue
            }
            var start = index
            while start > 0, Self.isSchemeByte(lower[start - 1]) { start -= 1 }
            var end = index + 3
            while end < lower.count, lower[end] > 0x20, lower[end] != UInt8(ascii: "\""), lower[end] != UInt8(ascii: "'"),
                lower[end] != UInt8(ascii: "<"), lower[end] != UInt8(ascii: ">")
            {
                end += 1
            }
            // The path keeps its case; `lower` stands in only if lowering changed the length.
            let text =
                lower.count == raw.count
                ? String(decoding: UnsafeBufferPointer(rebasing: raw[start..<min(end, raw.count)]), as: UTF8.self)
                : String(decoding: lower[start..<min(end, lower.count)], as: UTF8.self)
            if start < index, let url = Observable.url(Substring(text)) {
                hit(IndicatorSet.key(.url, Array(url.utf8)))
                if let host = Observable.urlHost(url) { lookupDomain(ArraySlice(host.utf8)) }
            }
            index = end
        }
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }
}

extension IPAddress {
    init(v4: UInt32) {
        self.init(high: UInt64(v4) << 32, low: 0, isIPv6: false)
    }

    init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }
}

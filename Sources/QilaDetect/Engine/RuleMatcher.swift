/// A rule that held for an event.
public struct RuleMatch: Sendable {
    /// Index into the compiled set's `rules`.
    public var rule: Int
    /// The fields whose values made the rule's searches hold, with those values (as in the event).
    public var fields: [(name: String, value: String)]
}

/// Matches events against a `CompiledRuleSet`. Holds the scratch state of one worker: make one
/// per thread and reuse it, since it keeps its buffers and its cache of log-source decisions.
public struct RuleMatcher {
    public let ruleSet: CompiledRuleSet
    private let scanner: EventScanner
    private var event = ScannedEvent()
    private var generation: UInt32 = 0
    private var atomStamp: [UInt32]
    private var verifyStamp: [UInt32]
    private var ruleStamp: [UInt32]
    private var candidates: [Int32] = []
    private var holding: [Int32] = []
    /// The bucket of the event being matched, for parts read while evaluating.
    private var bucket: Bucket?
    private var fieldStamp: [UInt32]
    private var partStamp: [UInt32]
    private var fieldTexts: [Range<Int>]
    private var fieldNull: [Bool]
    private var fieldPresent: [Bool]
    private var texts: [Text] = []
    private var arena: [UInt8] = []
    private var textCounter: UInt32 = 0
    private var buckets: [UInt64: [(key: [UInt8], bucket: Bucket)]] = [:]
    private var bucketsByRules: [[Bool]: Bucket] = [:]
    private var keyScratch: [UInt8] = []
    private var line: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)

    /// Events larger than this are refused (default 1 MiB).
    public var maximumEventSize = 1 << 20

    /// One text of a field: original bytes (in the line or the arena) and lowercase bytes (arena).
    /// The address read from the value being scanned (`addressText` is its text counter).
    private var address: IPAddress?
    private var addressText: UInt32 = 0

    private struct Text {
        var inLine: Bool
        var original: Range<Int>
        var lower: Range<Int>
    }

    /// The rules that apply to events of one log source, and what to read for them.
    private final class Bucket: Sendable {
        let eligible: [Bool]
        let atomEligible: [Bool]
        /// The parts read for every event: those holding the trigger atoms of eligible rules.
        /// Other parts are read only when evaluating a candidate rule needs them.
        let eagerParts: [Int32]
        let always: [Int32]
        let empty: Bool

        init(eligible: [Bool], ruleSet: CompiledRuleSet) {
            self.eligible = eligible
            var atomEligible = [Bool](repeating: false, count: ruleSet.atomCount)
            var parts: Set<Int32> = []
            var always: [Int32] = []
            for (rule, program) in ruleSet.programs.enumerated() where eligible[rule] {
                if let triggers = program.triggers {
                    for atom in triggers { parts.insert(ruleSet.atomParts[Int(atom)]) }
                } else {
                    always.append(Int32(rule))
                }
            }
            for (atom, rules) in ruleSet.atomRules.enumerated() where rules.contains(where: { eligible[Int($0)] }) {
                atomEligible[atom] = true
            }
            self.atomEligible = atomEligible
            eagerParts = parts.sorted()
            self.always = always
            empty = !eligible.contains(true)
        }
    }

    public init(_ ruleSet: CompiledRuleSet) {
        self.ruleSet = ruleSet
        scanner = EventScanner(tree: ruleSet.tree, collectLeaves: ruleSet.collectLeaves)
        atomStamp = Array(repeating: 0, count: ruleSet.atomCount)
        verifyStamp = Array(repeating: 0, count: ruleSet.atomCount)
        ruleStamp = Array(repeating: 0, count: ruleSet.rules.count)
        fieldStamp = Array(repeating: 0, count: ruleSet.fields.count)
        partStamp = Array(repeating: 0, count: ruleSet.fields.count * 2)
        fieldTexts = Array(repeating: 0..<0, count: ruleSet.fields.count)
        fieldNull = Array(repeating: true, count: ruleSet.fields.count)
        fieldPresent = Array(repeating: false, count: ruleSet.fields.count)
    }

    /// Matches one event given as a JSON object in UTF-8; calls `found` for each rule that holds.
    public mutating func match(_ bytes: UnsafeBufferPointer<UInt8>, _ found: (RuleMatch) -> Void) throws(EventError) {
        guard bytes.count <= maximumEventSize else {
            throw EventError(kind: .tooLarge, offset: maximumEventSize, detail: "an event may have at most \(maximumEventSize) bytes")
        }
        try scanner.scan(bytes, into: &event)
        line = bytes
        defer { line = UnsafeBufferPointer(start: nil, count: 0) }
        nextGeneration()
        let bucket = currentBucket()
        guard !bucket.empty else { return }
        candidates.removeAll(keepingCapacity: true)
        for part in bucket.eagerParts { scan(part: Int(part), bucket) }
        for rule in bucket.always where ruleStamp[Int(rule)] != generation {
            ruleStamp[Int(rule)] = generation
            candidates.append(rule)
        }
        // Evaluating a candidate reads the parts it needs that were not read yet (a rule whose
        // first search fails never reads the fields of its filters); their atoms may make more
        // rules candidates, which are evaluated in turn. Matches are reported in rule order.
        self.bucket = bucket
        defer { self.bucket = nil }
        holding.removeAll(keepingCapacity: true)
        let ruleSet = self.ruleSet
        ruleSet.code.withUnsafeBufferPointer { code in
            var next = 0
            while next < candidates.count {
                let rule = candidates[next]
                next += 1
                if evaluate(code, Int(ruleSet.codeStart[Int(rule)])) { holding.append(rule) }
            }
        }
        holding.sort()
        for rule in holding {
            found(RuleMatch(rule: Int(rule), fields: matchedFields(Int(rule))))
        }
    }

    /// The value of the compiled set's `extraFieldNames[index]` in the event last given to
    /// `match` (scanned even when no rule applied to it): the first path present, a string
    /// unescaped or a number, boolean or null as written; nil when absent or an object or array.
    public func extraValue(_ index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        for slot in ruleSet.extraFieldSlots[index] where slot < event.first.count && event.first[slot] >= 0 {
            var value = event.values[Int(event.first[slot])]
            if value.kind == .array, value.next >= 0 { value = event.values[Int(value.next)] }
            let range = Int(value.start)..<Int(value.end)
            guard range.upperBound <= bytes.count else { return nil }
            switch value.kind {
            case .string: return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            case .escapedString: return String(decoding: JSONText.unescape(UnsafeBufferPointer(rebasing: bytes[range])), as: UTF8.self)
            case .number, .true, .false, .null: return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            case .object, .array: continue
            }
        }
        return nil
    }

    /// Convenience for tests and small callers.
    public mutating func match(_ json: String) throws(EventError) -> [RuleMatch] {
        var results: [RuleMatch] = []
        let bytes = Array(json.utf8)
        try bytes.withUnsafeBufferPointer { (buffer) throws(EventError) in try match(buffer) { results.append($0) } }
        return results
    }

    private mutating func nextGeneration() {
        generation &+= 1
        if generation == 0 {
            // After four billion events the stamps wrap: clear them once.
            for index in atomStamp.indices { atomStamp[index] = 0 }
            for index in ruleStamp.indices { ruleStamp[index] = 0 }
            for index in fieldStamp.indices { fieldStamp[index] = 0 }
            for index in partStamp.indices { partStamp[index] = 0 }
            generation = 1
        }
        texts.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }

    // MARK: log sources

    private mutating func currentBucket() -> Bucket {
        let plan = ruleSet.logSources
        // The log source is decided by a few fields' values: look their bytes up without
        // building strings, and build a bucket once per distinct set of rules.
        keyScratch.removeAll(keepingCapacity: true)
        for (position, field) in plan.keyFields.enumerated() {
            materialise(Int(field))
            if plan.presenceOnly[position] {
                keyScratch.append(fieldTexts[Int(field)].isEmpty ? 3 : 4)
                continue
            }
            for text in fieldTexts[Int(field)] {
                keyScratch += arena[texts[text].lower]
                keyScratch.append(1)
            }
            keyScratch.append(2)
        }
        let hash = Bytes.hash(keyScratch)
        if let candidates = buckets[hash], let known = candidates.first(where: { $0.key == keyScratch }) { return known.bucket }
        var eligible = [Bool](repeating: plan.conditions == nil, count: ruleSet.rules.count)
        if let conditions = plan.conditions {
            let holding = conditions.map { condition in
                condition.requirements.allSatisfy { requirement in
                    fieldTexts[Int(requirement.field)].contains { index in
                        FieldMapping.LogSourceCondition.accepts(requirement.values, String(decoding: lowerBytes(texts[index]), as: UTF8.self))
                    }
                }
            }
            for rule in eligible.indices {
                eligible[rule] = plan.ruleConditions[rule].contains { holding[$0] }
            }
        }
        let bucket: Bucket
        if let same = bucketsByRules[eligible] {
            bucket = same
        } else {
            bucket = Bucket(eligible: eligible, ruleSet: ruleSet)
            bucketsByRules[eligible] = bucket
        }
        if buckets.count >= 4096 { buckets.removeAll() }  // bounded, whatever the input
        if bucketsByRules.count >= 1024 { bucketsByRules.removeAll() }
        buckets[hash, default: []].append((keyScratch, bucket))
        return bucket
    }

    // MARK: field values

    private func lowerBytes(_ text: Text) -> ArraySlice<UInt8> { arena[text.lower] }

    private func withOriginal<R>(_ text: Text, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if text.inLine { return body(UnsafeBufferPointer(rebasing: line[text.original])) }
        return arena.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[text.original])) }
    }

    private func original(_ text: Text) -> String { withOriginal(text) { String(decoding: $0, as: UTF8.self) } }

    /// Reads a field's value from the scanned event once per event: texts, null, presence.
    private mutating func materialise(_ field: Int) {
        guard fieldStamp[field] != generation else { return }
        fieldStamp[field] = generation
        let start = texts.count
        let plan = ruleSet.fields[field]
        var present = false
        var null = true
        if plan.isKeywords {
            present = true
            for value in event.leaves { addText(value) }
            null = false
        } else {
            for slot in plan.slots where event.first[slot] >= 0 {
                let first = event.values[Int(event.first[slot])]
                // An object is not a value to compare: the next path is tried (EventID and EventID.#text).
                if first.kind == .object, first.next < 0 { continue }
                present = true
                var index = event.first[slot]
                while index >= 0 {
                    let value = event.values[Int(index)]
                    if value.kind != .null { null = false }
                    addText(value)
                    index = value.next
                }
                break
            }
        }
        fieldTexts[field] = start..<texts.count
        fieldPresent[field] = present
        fieldNull[field] = null
    }

    private mutating func addText(_ value: ScannedValue) {
        let range = Int(value.start)..<Int(value.end)
        var text: Text
        switch value.kind {
        case .string, .true, .false:
            text = Text(inLine: true, original: range, lower: 0..<0)
        case .number:
            text = Text(inLine: true, original: range, lower: 0..<0)
            let raw = line[range]
            if raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
                let number = Double(String(decoding: raw, as: UTF8.self)), number == number.rounded(), abs(number) < 1e15
            {
                // 4.0 and 4e0 compare as 4, as the reference reads JSON numbers.
                let start = arena.count
                arena.append(contentsOf: String(Int64(number)).utf8)
                text = Text(inLine: false, original: start..<arena.count, lower: 0..<0)
            }
        case .escapedString:
            let start = arena.count
            JSONText.unescape(UnsafeBufferPointer(rebasing: line[range]), into: &arena)
            text = Text(inLine: false, original: start..<arena.count, lower: 0..<0)
        case .null, .object, .array:
            return
        }
        let lowerStart = arena.count
        if text.inLine {
            Bytes.lowercase(UnsafeBufferPointer(rebasing: line[text.original]), into: &arena)
        } else if value.kind == .escapedString {
            // Copy the unescaped text within the arena, then lowercase the copy.
            let length = text.original.count
            arena.append(contentsOf: repeatElement(0, count: length))
            arena.withUnsafeMutableBufferPointer { buffer in
                let base = buffer.baseAddress!
                (base + lowerStart).update(from: base + text.original.lowerBound, count: length)
            }
            Bytes.lowercaseInPlace(&arena, from: lowerStart)
        } else {
            arena.append(contentsOf: String(decoding: arena[text.original], as: UTF8.self).lowercased().utf8)
        }
        text.lower = lowerStart..<arena.count
        texts.append(text)
    }

    // MARK: atoms

    /// Tests one part of a field's atoms on each of the field's values.
    private mutating func scan(part: Int, _ bucket: Bucket) {
        partStamp[part] = generation
        let field = part >> 1
        materialise(field)
        let matcher = part & 1 == 0 ? ruleSet.fields[field].anchored : ruleSet.fields[field].floating
        for index in fieldTexts[field] {
            let text = texts[index]
            textCounter &+= 1
            if textCounter == 0 {
                // Wrapped after four billion values: forget the stamps of the last round.
                for index in verifyStamp.indices { verifyStamp[index] = 0 }
                addressText = 0
                textCounter = 1
            }
            let lower = text.lower
            let arena = self.arena  // no copy: nothing appends to the arena while matching
            arena.withUnsafeBufferPointer { arenaBytes in
                let lowerBytes = UnsafeBufferPointer(rebasing: arenaBytes[lower])
                let length = lowerBytes.count
                if matcher.exact.count > 0, let list = matcher.exact.value(for: lowerBytes) {
                    for check in matcher.exactChecks[Int(list)] { run(check, text, end: length, length: length, bucket) }
                }
                if !matcher.prefixes.isEmpty {
                    // A prefix ends within the longest prefix's length: read no further.
                    let head = UnsafeBufferPointer(rebasing: lowerBytes[..<min(length, matcher.prefixes.length)])
                    matcher.prefixes.automaton.scan(head) { pattern, end in
                        for check in matcher.prefixes.checks[pattern] { run(check, text, end: end, length: length, bucket) }
                    }
                }
                if !matcher.suffixes.isEmpty {
                    let start = max(0, length - matcher.suffixes.length)
                    matcher.suffixes.automaton.scan(UnsafeBufferPointer(rebasing: lowerBytes[start...])) { pattern, end in
                        for check in matcher.suffixes.checks[pattern] { run(check, text, end: start + end, length: length, bucket) }
                    }
                }
                if !matcher.substrings.isEmpty {
                    matcher.substrings.automaton.scan(lowerBytes) { pattern, end in
                        for check in matcher.substrings.checks[pattern] { run(check, text, end: end, length: length, bucket) }
                    }
                }
            }
            for check in matcher.others { run(check, text, end: 0, length: text.lower.count, bucket) }
        }
    }

    @inline(__always)
    private mutating func run(_ check: AtomCheck, _ text: Text, end: Int, length: Int, _ bucket: Bucket) {
        let atom = Int(check.atom)
        guard atomStamp[atom] != generation, bucket.atomEligible[atom] else { return }
        let holds: Bool
        switch check.kind {
        case .hit: holds = true
        case .prefix(let count): holds = end == count
        case .suffix: holds = end == length
        default:
            guard verifyStamp[atom] != textCounter else { return }
            verifyStamp[atom] = textCounter
            holds = verify(check.kind, text)
        }
        if holds { fire(atom, bucket) }
    }

    private mutating func verify(_ kind: AtomCheck.Kind, _ text: Text) -> Bool {
        switch kind {
        case .hit, .prefix, .suffix: return true
        case .wildcard(let pattern, let cased):
            if cased { return withOriginal(text) { pattern.matches($0) } }
            return arena.withUnsafeBufferPointer { pattern.matches(UnsafeBufferPointer(rebasing: $0[text.lower])) }
        case .regex(let expression):
            if expression.caseInsensitive {
                return arena.withUnsafeBufferPointer { expression.matches(utf8: UnsafeBufferPointer(rebasing: $0[text.lower])) }
            }
            return withOriginal(text) { expression.matches(utf8: $0) }
        case .compare(let comparison, let bound):
            return comparison.holds(original(text), bound)
        case .timePart(let part, let comparison, let bound):
            return part.value(in: original(text)).map { comparison.holds(Double($0), bound) } ?? false
        case .cidr(let network):
            // One reading of the address per value, however many networks a rule set lists.
            if addressText != textCounter {
                addressText = textCounter
                address = withOriginal(text) { IPAddress(utf8: $0) }
            }
            return address.map(network.contains) ?? false
        }
    }

    private mutating func fire(_ atom: Int, _ bucket: Bucket) {
        atomStamp[atom] = generation
        for rule in ruleSet.triggerRules[atom] where bucket.eligible[Int(rule)] && ruleStamp[Int(rule)] != generation {
            ruleStamp[Int(rule)] = generation
            candidates.append(rule)
        }
    }

    @inline(__always)
    private func holds(_ atom: Int32) -> Bool { atomStamp[Int(atom)] == generation }

    // MARK: conditions

    /// Evaluates the condition node at `at` (see `ConditionCode`).
    private mutating func evaluate(_ code: UnsafeBufferPointer<Int32>, _ at: Int) -> Bool {
        switch code[at] {
        case ConditionCode.constant:
            return code[at + 2] != 0
        case ConditionCode.and:
            let end = at + Int(code[at + 1])
            var child = at + 2
            while child < end {
                if !evaluate(code, child) { return false }
                child += Int(code[child + 1])
            }
            return true
        case ConditionCode.or:
            let end = at + Int(code[at + 1])
            var child = at + 2
            while child < end {
                if evaluate(code, child) { return true }
                child += Int(code[child + 1])
            }
            return false
        case ConditionCode.not:
            return !evaluate(code, at + 2)
        case ConditionCode.values:
            let field = Int(code[at + 2])
            let flags = code[at + 3]
            if flags & ConditionCode.anchoredPart != 0, partStamp[field &* 2] != generation { scan(part: field &* 2, bucket!) }
            if flags & ConditionCode.floatingPart != 0, partStamp[field &* 2 &+ 1] != generation { scan(part: field &* 2 &+ 1, bucket!) }
            let atoms = UnsafeBufferPointer(rebasing: code[(at + 4)..<(at + Int(code[at + 1]))])
            var result: Bool
            if flags & ConditionCode.all != 0 {
                result = atoms.allSatisfy(holds)
                if result, flags & ConditionCode.matchesNull != 0 {
                    materialise(field)
                    result = fieldNull[field]
                }
            } else {
                result = atoms.contains(where: holds)
                if !result, flags & ConditionCode.matchesNull != 0 {
                    materialise(field)
                    result = fieldNull[field]
                }
            }
            return flags & ConditionCode.negated != 0 ? !result : result
        case ConditionCode.exists:
            let field = Int(code[at + 2])
            materialise(field)
            return (fieldPresent[field] && !fieldNull[field]) == (code[at + 3] != 0)
        case ConditionCode.reference:
            let (field, other) = (Int(code[at + 2]), Int(code[at + 3]))
            materialise(field)
            materialise(other)
            guard fieldPresent[field], fieldPresent[other] else { return false }
            let equal = fieldTexts[field].contains { a in
                fieldTexts[other].contains { b in lowerBytes(texts[a]) == lowerBytes(texts[b]) }
            }
            return code[at + 4] != 0 ? !equal : equal
        default:  // keywords
            let atoms = UnsafeBufferPointer(rebasing: code[(at + 3)..<(at + Int(code[at + 1]))])
            for atom in atoms where partStamp[Int(ruleSet.atomParts[Int(atom)])] != generation {
                scan(part: Int(ruleSet.atomParts[Int(atom)]), bucket!)
            }
            return code[at + 2] != 0 ? atoms.allSatisfy(holds) : atoms.contains(where: holds)
        }
    }

    /// One item on its own (for the fields of an alert: only rules that matched come here).
    private mutating func evaluate(item: ItemProgram) -> Bool {
        var code: [Int32] = []
        ConditionCode.emit(item, into: &code)
        return code.withUnsafeBufferPointer { evaluate($0, 0) }
    }

    /// The values of the positive items in the searches that held, for the alert.
    private mutating func matchedFields(_ rule: Int) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        var seen: Set<Int32> = []
        for search in ruleSet.programs[rule].searches {
            switch search {
            case .keywords(let atoms, _):
                for atom in atoms where holds(atom) {
                    fields.append(("keywords", ruleSet.atomDescriptions[Int(atom)]))
                }
            case .maps(let maps):
                for items in maps where items.allSatisfy({ evaluate(item: $0) }) {
                    for item in items where !item.negated && !item.atoms.isEmpty && seen.insert(item.field).inserted {
                        materialise(Int(item.field))
                        let value = fieldTexts[Int(item.field)].first.map { original(texts[$0]) } ?? ""
                        fields.append((ruleSet.fields[Int(item.field)].name, value))
                    }
                }
            }
        }
        return fields
    }
}

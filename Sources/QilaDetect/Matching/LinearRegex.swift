import Foundation

/// Regular expressions for Sigma's `re` modifier, matched in time linear in the input (a Pike
/// VM over a Thompson automaton), so that no rule can stall the engine with backtracking.
///
/// Supported: literals and escapes, `.`, classes `[...]` with ranges and negation, `\d \w \s`
/// and their negations, groups `( )` and `(?: )`, alternation, `* + ? {n} {n,} {n,m}` (lazy
/// forms match the same), anchors `^ $ \A \z \Z \b \B`, and the flags `i m s` (also inline at
/// the start as `(?i)`). Back-references and look-around cannot be matched by an automaton and
/// are refused with that reason.
public struct LinearRegex: Sendable {
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let caseInsensitive = Options(rawValue: 1)
        public static let multiline = Options(rawValue: 2)
        public static let dotAll = Options(rawValue: 4)
    }

    enum Assertion: Sendable { case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary }

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar)
        case set(ScalarSet, negated: Bool)
        case any(newline: Bool)
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    let program: [Instruction]
    let caseInsensitive: Bool
    /// Every match starts at the beginning of the text (`^` without multiline, or `\A`).
    let anchoredAtStart: Bool
    /// Strings of which every match contains at least one, lowercased as UTF-8 (empty when
    /// there are none): the compiled rule set looks for them before running the automaton.
    let requiredLiterals: [[UInt8]]
    /// The bytes a match can start with (a 256-bit set), or nil when any can: while no thread
    /// is alive, the search skips to the next such byte instead of starting one at every byte.
    let firstBytes: (UInt64, UInt64, UInt64, UInt64)?

    public init(_ pattern: String, options: Options = []) throws {
        var parser = Parser(pattern: Array(pattern.unicodeScalars), options: options)
        let node = try parser.parseWhole()
        caseInsensitive = parser.options.contains(.caseInsensitive)
        var compiler = Compiler(options: parser.options)
        compiler.emit(node)
        compiler.instructions.append(.match)
        guard compiler.instructions.count <= 100_000 else {
            throw SigmaError("the regular expression '\(pattern)' is too large once its repetitions are expanded")
        }
        program = compiler.instructions
        firstBytes = Self.firstBytes(program, caseInsensitive: parser.options.contains(.caseInsensitive))
        anchoredAtStart = Self.anchoredAtStart(node)
        requiredLiterals = (Self.factors(node) ?? []).map { Bytes.lowercased(String(String.UnicodeScalarView($0))) }
    }

    /// The first bytes of the scalars a match can begin with, following jumps, splits and
    /// assertions from the start; nil when a match can be empty or begin with any scalar.
    static func firstBytes(_ program: [Instruction], caseInsensitive: Bool) -> (UInt64, UInt64, UInt64, UInt64)? {
        var words: [UInt64] = [0, 0, 0, 0]
        func mark(_ byte: Int) { words[byte >> 6] |= 1 << UInt64(byte & 63) }
        func markNonASCII() { for byte in 0xC0...0xFF { mark(byte) } }
        var seen = Set<Int>()
        var stack = [0]
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            switch program[pc] {
            case .match, .any: return nil
            case .jump(let target): stack.append(target)
            case .split(let first, let second): stack += [first, second]
            case .assert: stack.append(pc + 1)
            case .scalar(let scalar):
                guard scalar.isASCII else {
                    markNonASCII()
                    continue
                }
                let byte = Int(scalar.value)
                mark(byte)
                if caseInsensitive, let letter = Character(scalar).asciiValue, Character(scalar).isLetter {
                    mark(Int(Character(String(Character(scalar)).lowercased()).asciiValue ?? letter))
                    mark(Int(Character(String(Character(scalar)).uppercased()).asciiValue ?? letter))
                }
            case .set(let set, let negated):
                for byte in 0..<128 where set.contains(Unicode.Scalar(UInt8(byte))) != negated { mark(byte) }
                markNonASCII()
            }
        }
        return (words[0], words[1], words[2], words[3])
    }

    static func anchoredAtStart(_ node: Node) -> Bool {
        switch node {
        case .assert(.textStart): return true
        case .concat(let items): return items.first.map(anchoredAtStart) ?? false
        case .alternate(let branches): return branches.allSatisfy(anchoredAtStart)
        default: return false
        }
    }

    /// Alternatives of which every match contains one (each non-empty), or nil when the node
    /// offers none worth looking for: a run of literal characters, or for an alternation the
    /// factors of every branch.
    static func factors(_ node: Node) -> [[Unicode.Scalar]]? {
        func score(_ alternatives: [[Unicode.Scalar]]) -> Int {
            // The shortest alternative decides how selective the search is; many alternatives cost a little.
            (alternatives.map(\.count).min() ?? 0) * 8 - alternatives.count
        }
        func best(_ a: [[Unicode.Scalar]]?, _ b: [[Unicode.Scalar]]?) -> [[Unicode.Scalar]]? {
            guard let a else { return b }
            guard let b else { return a }
            return score(b) > score(a) ? b : a
        }
        switch node {
        case .scalar(let scalar): return [[scalar]]
        case .repeatNode(let inner, let minimum, _) where minimum >= 1: return factors(inner)
        case .alternate(let branches):
            var all: [[Unicode.Scalar]] = []
            for branch in branches {
                guard let found = factors(branch) else { return nil }
                all += found
            }
            return all.count <= 64 ? all : nil
        case .concat(let items):
            var chosen: [[Unicode.Scalar]]? = nil
            var run: [Unicode.Scalar] = []
            func close() {
                if !run.isEmpty { chosen = best(chosen, [run]) }
                run = []
            }
            for item in items {
                switch item {
                case .scalar(let scalar): run.append(scalar)
                case .assert, .empty: continue  // consumes nothing: neighbours stay adjacent
                case .concat(let inner) where inner.allSatisfy({ if case .scalar = $0 { true } else { false } }):
                    for case .scalar(let scalar) in inner { run.append(scalar) }
                default:
                    close()
                    chosen = best(chosen, factors(item))
                }
            }
            close()
            return chosen
        default: return nil
        }
    }

    /// True when the expression matches anywhere in the text.
    public func matches(_ text: String) -> Bool {
        var bytes = Array((caseInsensitive ? text.lowercased() : text).utf8)
        return bytes.withUnsafeMutableBufferPointer { matches(utf8: UnsafeBufferPointer($0)) }
    }

    /// True when the expression matches anywhere in UTF-8 text that is already lowercased when
    /// the expression ignores case (the compiled rule set has both forms at hand).
    ///
    /// A Pike VM over the scalars decoded on the fly; its thread lists and work stack live in
    /// temporary (stack) storage, so a call allocates nothing.
    func matches(utf8 input: UnsafeBufferPointer<UInt8>) -> Bool {
        let size = program.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: size * 6 + 2) { storage in
            storage.initialize(repeating: 0)
            var current = ThreadList(storage.baseAddress!, size)
            var next = ThreadList(storage.baseAddress! + size * 2, size)
            let stack = storage.baseAddress! + size * 4
            var position = 0
            while true {
                // Unanchored search: a new thread starts at every position; anchored, only at the start.
                if position == 0 || !anchoredAtStart {
                    if current.count == 0, !anchoredAtStart, let first = firstBytes {
                        // No thread alive: no match can start before the next possible first byte.
                        while position < input.count {
                            let byte = input[position]
                            let word = byte < 128 ? (byte < 64 ? first.0 : first.1) : (byte < 192 ? first.2 : first.3)
                            if word & (1 << UInt64(byte & 63)) != 0 { break }
                            position += 1
                        }
                    }
                    if addThread(&current, 0, position, input, stack) { return true }
                } else if current.count == 0 {
                    return false
                }
                guard position < input.count else { return false }
                let (scalar, length) = Bytes.scalar(in: input, at: position)
                next.clear()
                for index in 0..<current.count {
                    let pc = current.dense[index]
                    let advances: Bool
                    switch program[pc] {
                    case .scalar(let expected): advances = expected == scalar
                    case .set(let set, let negated): advances = set.contains(scalar) != negated
                    case .any(let newline): advances = newline || scalar != "\n"
                    default: advances = false
                    }
                    if advances, addThread(&next, pc + 1, position + length, input, stack) { return true }
                }
                swap(&current, &next)
                position += length
            }
        }
    }

    /// The scalar that ends just before a byte offset, if any.
    static func scalar(before index: Int, in input: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar? {
        guard index > 0 else { return nil }
        var start = index - 1
        while start > 0, input[start] & 0xC0 == 0x80, index - start < 4 { start -= 1 }
        return Bytes.scalar(in: input, at: start).0
    }

    /// Follows jumps, splits and assertions; returns true when `match` is reached.
    private func addThread(
        _ list: inout ThreadList, _ start: Int, _ position: Int, _ input: UnsafeBufferPointer<UInt8>, _ stack: UnsafeMutablePointer<Int>
    ) -> Bool {
        var depth = 1
        stack[0] = start
        while depth > 0 {
            depth -= 1
            let pc = stack[depth]
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .match:
                return true
            case .jump(let target):
                stack[depth] = target
                depth += 1
            case .split(let first, let second):
                stack[depth] = second
                stack[depth + 1] = first
                depth += 2
            case .assert(let assertion):
                if holds(assertion, position, input) {
                    stack[depth] = pc + 1
                    depth += 1
                }
            default:
                break
            }
        }
        return false
    }

    private func holds(_ assertion: Assertion, _ position: Int, _ input: UnsafeBufferPointer<UInt8>) -> Bool {
        func isWord(_ scalar: Unicode.Scalar?) -> Bool {
            guard let scalar else { return false }
            return scalar == "_" || CharacterSet.alphanumerics.contains(scalar)
        }
        let count = input.count
        switch assertion {
        case .textStart: return position == 0
        case .textEnd: return position == count
        case .textEndBeforeNewline: return position == count || (position == count - 1 && input[position] == 0x0A)
        case .lineStart: return position == 0 || input[position - 1] == 0x0A
        case .lineEnd: return position == count || input[position] == 0x0A
        case .wordBoundary, .notWordBoundary:
            let before = isWord(Self.scalar(before: position, in: input))
            let after = position < count && isWord(Bytes.scalar(in: input, at: position).0)
            return (before != after) == (assertion == .wordBoundary)
        }
    }

    /// A character class: a bitmap for ASCII, the full set for the rest.
    struct ScalarSet: Sendable {
        let low: UInt64
        let high: UInt64
        let set: CharacterSet

        init(_ set: CharacterSet) {
            var low: UInt64 = 0
            var high: UInt64 = 0
            for value in 0..<128 where set.contains(Unicode.Scalar(UInt8(value))) {
                if value < 64 { low |= 1 << UInt64(value) } else { high |= 1 << UInt64(value - 64) }
            }
            self.low = low
            self.high = high
            self.set = set
        }

        @inline(__always)
        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let value = scalar.value
            if value < 64 { return low & (1 << UInt64(value)) != 0 }
            if value < 128 { return high & (1 << UInt64(value - 64)) != 0 }
            return set.contains(scalar)
        }
    }

    /// A set of program counters with O(1) insert and clear (a sparse set over caller storage).
    struct ThreadList {
        let dense: UnsafeMutablePointer<Int>
        let sparse: UnsafeMutablePointer<Int>
        var count = 0

        init(_ storage: UnsafeMutablePointer<Int>, _ capacity: Int) {
            dense = storage
            sparse = storage + capacity
        }

        @inline(__always)
        mutating func insert(_ pc: Int) -> Bool {
            let slot = sparse[pc]
            if slot >= 0, slot < count, dense[slot] == pc { return false }
            sparse[pc] = count
            dense[count] = pc
            count += 1
            return true
        }

        mutating func clear() { count = 0 }
    }

    // MARK: parsing

    indirect enum Node {
        case empty
        case scalar(Unicode.Scalar)
        case set(CharacterSet, negated: Bool)
        case any
        case assert(Assertion)
        case concat([Node])
        case alternate([Node])
        case repeatNode(Node, min: Int, max: Int?)
    }

    struct Parser {
        let pattern: [Unicode.Scalar]
        var options: Options
        var index = 0

        init(pattern: [Unicode.Scalar], options: Options) {
            self.pattern = pattern
            self.options = options
        }

        func fail(_ message: String) -> SigmaError {
            SigmaError("regular expression '\(String(String.UnicodeScalarView(pattern)))', position \(index + 1): \(message)")
        }

        mutating func parseWhole() throws -> Node {
            // Leading inline flags, such as (?i) or (?is).
            if pattern.count >= 3, pattern[0] == "(", pattern[1] == "?" {
                var cursor = 2
                var flags: Options = []
                while cursor < pattern.count, let flag = ["i": Options.caseInsensitive, "m": .multiline, "s": .dotAll][Character(pattern[cursor])] {
                    flags.insert(flag)
                    cursor += 1
                }
                if cursor < pattern.count, pattern[cursor] == ")", cursor > 2 {
                    options.formUnion(flags)
                    index = cursor + 1
                }
            }
            let node = try parseAlternation()
            if index < pattern.count { throw fail("unbalanced ')'") }
            return node
        }

        mutating func parseAlternation() throws -> Node {
            var branches = [try parseConcatenation()]
            while index < pattern.count, pattern[index] == "|" {
                index += 1
                branches.append(try parseConcatenation())
            }
            return branches.count == 1 ? branches[0] : .alternate(branches)
        }

        mutating func parseConcatenation() throws -> Node {
            var items: [Node] = []
            while index < pattern.count, pattern[index] != "|", pattern[index] != ")" {
                var atom = try parseAtom()
                atom = try parseQuantifiers(atom)
                items.append(atom)
            }
            return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
        }

        mutating func parseQuantifiers(_ atom: Node) throws -> Node {
            var node = atom
            while index < pattern.count {
                let scalar = pattern[index]
                var bounds: (Int, Int?)?
                switch scalar {
                case "*": bounds = (0, nil); index += 1
                case "+": bounds = (1, nil); index += 1
                case "?": bounds = (0, 1); index += 1
                case "{":
                    if let parsed = try parseBraces() { bounds = parsed }
                default: break
                }
                guard let (minimum, maximum) = bounds else { break }
                if case .assert = node { throw fail("an anchor cannot be repeated") }
                if index < pattern.count, pattern[index] == "?" || pattern[index] == "+" { index += 1 }  // lazy or possessive: same language
                node = .repeatNode(node, min: minimum, max: maximum)
            }
            return node
        }

        /// `{n}`, `{n,}`, `{n,m}`; a `{` that does not start one is a literal.
        mutating func parseBraces() throws -> (Int, Int?)? {
            var cursor = index + 1
            func number() -> Int? {
                var digits = ""
                while cursor < pattern.count, let digit = pattern[cursor].properties.numericType, digit == .decimal {
                    digits.unicodeScalars.append(pattern[cursor])
                    cursor += 1
                }
                return Int(digits)
            }
            guard let minimum = number() else { return nil }
            var maximum: Int? = minimum
            if cursor < pattern.count, pattern[cursor] == "," {
                cursor += 1
                maximum = number()
            }
            guard cursor < pattern.count, pattern[cursor] == "}" else { return nil }
            if let maximum, maximum < minimum { throw fail("{\(minimum),\(maximum)} counts down") }
            if minimum > 1000 || (maximum ?? 0) > 1000 { throw fail("repetition counts above 1000 are not supported") }
            index = cursor + 1
            return (minimum, maximum)
        }

        mutating func parseAtom() throws -> Node {
            let scalar = pattern[index]
            index += 1
            switch scalar {
            case ".": return .any
            case "^": return .assert(options.contains(.multiline) ? .lineStart : .textStart)
            case "$": return .assert(options.contains(.multiline) ? .lineEnd : .textEndBeforeNewline)
            case "(":
                if index < pattern.count, pattern[index] == "?" {
                    guard index + 1 < pattern.count else { throw fail("unfinished group") }
                    let kind = pattern[index + 1]
                    if kind == ":" {
                        index += 2
                    } else if kind == "=" || kind == "!" || kind == "<" {
                        throw fail("look-around cannot be matched in linear time and is not supported")
                    } else {
                        throw fail("only (?:...) groups and leading (?i), (?m), (?s) flags are supported")
                    }
                }
                let inner = try parseAlternation()
                guard index < pattern.count, pattern[index] == ")" else { throw fail("a '(' is not closed") }
                index += 1
                return inner
            case "[": return try parseClass()
            case "\\": return try parseEscape(inClass: false)
            case "*", "+", "?": throw fail("'\(scalar)' has nothing to repeat")
            default: return .scalar(fold(scalar))
            }
        }

        func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
            guard options.contains(.caseInsensitive) else { return scalar }
            return String(scalar).lowercased().unicodeScalars.first ?? scalar
        }

        mutating func parseEscape(inClass: Bool) throws -> Node {
            guard index < pattern.count else { throw fail("the pattern ends with a backslash") }
            let scalar = pattern[index]
            index += 1
            switch scalar {
            case "d": return .set(CharacterSet(charactersIn: "0123456789"), negated: false)
            case "D": return .set(CharacterSet(charactersIn: "0123456789"), negated: true)
            case "w": return .set(Self.word, negated: false)
            case "W": return .set(Self.word, negated: true)
            case "s": return .set(.whitespacesAndNewlines, negated: false)
            case "S": return .set(.whitespacesAndNewlines, negated: true)
            case "t": return .scalar("\t")
            case "n": return .scalar("\n")
            case "r": return .scalar("\r")
            case "f": return .scalar("\u{0C}")
            case "v": return .scalar("\u{0B}")
            case "0": return .scalar("\0")
            case "x", "u":
                let length = scalar == "x" ? 2 : 4
                guard index + length <= pattern.count,
                    let value = UInt32(String(String.UnicodeScalarView(pattern[index..<index + length])), radix: 16),
                    let decoded = Unicode.Scalar(value)
                else { throw fail("\\\(scalar) needs \(length) hexadecimal digits") }
                index += length
                return .scalar(fold(decoded))
            case "b" where !inClass: return .assert(.wordBoundary)
            case "B" where !inClass: return .assert(.notWordBoundary)
            case "A" where !inClass: return .assert(.textStart)
            case "z" where !inClass: return .assert(.textEnd)
            case "Z" where !inClass: return .assert(.textEndBeforeNewline)
            case "1"..."9": throw fail("back-references cannot be matched in linear time and are not supported")
            default:
                if CharacterSet.alphanumerics.contains(scalar) { throw fail("unknown escape \\\(scalar)") }
                return .scalar(fold(scalar))
            }
        }

        static let word = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_"))

        mutating func parseClass() throws -> Node {
            var negated = false
            if index < pattern.count, pattern[index] == "^" {
                negated = true
                index += 1
            }
            var set = CharacterSet()
            var first = true
            while true {
                guard index < pattern.count else { throw fail("a '[' is not closed") }
                let scalar = pattern[index]
                if scalar == "]" && !first {
                    index += 1
                    break
                }
                first = false
                var low: Unicode.Scalar
                if scalar == "\\" {
                    index += 1
                    switch try parseEscape(inClass: true) {
                    case .scalar(let value): low = value
                    case .set(let other, let otherNegated):
                        set.formUnion(otherNegated ? other.inverted : other)
                        continue
                    default: throw fail("that escape cannot stand in a class")
                    }
                } else {
                    low = scalar
                    index += 1
                }
                if index + 1 < pattern.count, pattern[index] == "-", pattern[index + 1] != "]" {
                    index += 1
                    var high = pattern[index]
                    index += 1
                    if high == "\\" {
                        guard case .scalar(let escaped) = try parseEscape(inClass: true) else { throw fail("bad range end") }
                        high = escaped
                    }
                    guard low <= high else { throw fail("the range \(low)-\(high) is backwards") }
                    set.insert(charactersIn: low...high)
                    if options.contains(.caseInsensitive) {
                        set.insert(charactersIn: String(String.UnicodeScalarView([low])).lowercased().unicodeScalars.first!...String(String.UnicodeScalarView([high])).lowercased().unicodeScalars.first!)
                    }
                } else {
                    set.insert(low)
                    set.insert(fold(low))
                }
            }
            return .set(set, negated: negated)
        }
    }

    // MARK: compiling

    struct Compiler {
        let options: Options
        var instructions: [Instruction] = []

        mutating func emit(_ node: Node) {
            switch node {
            case .empty: break
            case .scalar(let scalar): instructions.append(.scalar(scalar))
            case .set(let set, let negated): instructions.append(.set(ScalarSet(set), negated: negated))
            case .any: instructions.append(.any(newline: options.contains(.dotAll)))
            case .assert(let assertion): instructions.append(.assert(assertion))
            case .concat(let items): for item in items { emit(item) }
            case .alternate(let branches):
                var jumps: [Int] = []
                for (offset, branch) in branches.enumerated() {
                    if offset < branches.count - 1 {
                        let split = instructions.count
                        instructions.append(.split(0, 0))
                        emit(branch)
                        jumps.append(instructions.count)
                        instructions.append(.jump(0))
                        instructions[split] = .split(split + 1, instructions.count)
                    } else {
                        emit(branch)
                    }
                }
                for jump in jumps { instructions[jump] = .jump(instructions.count) }
            case .repeatNode(let inner, let minimum, let maximum):
                for _ in 0..<minimum { emit(inner) }
                if let maximum {
                    // Each optional copy may be skipped to the end.
                    var splits: [Int] = []
                    for _ in minimum..<maximum {
                        splits.append(instructions.count)
                        instructions.append(.split(0, 0))
                        emit(inner)
                    }
                    for split in splits { instructions[split] = .split(split + 1, instructions.count) }
                } else {
                    let loop = instructions.count
                    instructions.append(.split(0, 0))
                    emit(inner)
                    instructions.append(.jump(loop))
                    instructions[loop] = .split(loop + 1, instructions.count)
                }
            }
        }
    }
}

/// Multi-pattern substring search (Aho–Corasick) compiled to a dense automaton over byte
/// classes: one table lookup per input byte, whatever the number of patterns.
struct AhoCorasick: Sendable {
    /// Byte to class; bytes that occur in no pattern share class 0.
    private let classOf: [UInt8]
    private let classCount: Int
    /// `transitions[state * classCount + class]` holds the next state's row offset
    /// (`next * classCount`) shifted left once, with the low bit set when that state reports:
    /// one load per input byte, no multiplication.
    private let transitions: [UInt32]
    /// Patterns ending at a state: `outputs[outputStart[state]..<outputStart[state + 1]]`.
    private let outputStart: [Int32]
    private let outputs: [Int32]
    /// The nearest state down the failure chain that has outputs of its own, or -1.
    private let outputLink: [Int32]
    let patternLengths: [Int]

    var stateCount: Int { outputLink.count }
    var isEmpty: Bool { patternLengths.isEmpty }

    init(patterns: [[UInt8]]) {
        patternLengths = patterns.map(\.count)
        var classOf = [UInt8](repeating: 0, count: 256)
        var next: Int = 1
        for pattern in patterns {
            for byte in pattern where classOf[Int(byte)] == 0 {
                classOf[Int(byte)] = UInt8(truncatingIfNeeded: next)
                next += 1
            }
        }
        // More than 255 distinct bytes cannot happen in one class byte; class 0 stays "other".
        let classCount = next
        var table: [Int32] = Array(repeating: -1, count: classCount)
        var own: [[Int32]] = [[]]
        for (index, pattern) in patterns.enumerated() {
            var state = 0
            for byte in pattern {
                let slot = state * classCount + Int(classOf[Int(byte)])
                if table[slot] < 0 {
                    table[slot] = Int32(own.count)
                    own.append([])
                    table += Array(repeating: -1, count: classCount)
                }
                state = Int(table[slot])
            }
            own[state].append(Int32(index))
        }
        let states = own.count
        var failure = [Int32](repeating: 0, count: states)
        var link = [Int32](repeating: -1, count: states)
        var queue: [Int] = []
        for symbol in 0..<classCount {
            let child = table[symbol]
            if child < 0 {
                table[symbol] = 0
            } else {
                failure[Int(child)] = 0
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let fail = Int(failure[state])
            link[state] = own[fail].isEmpty ? link[fail] : Int32(fail)
            for symbol in 0..<classCount {
                let slot = state * classCount + symbol
                let child = table[slot]
                let fallback = table[fail * classCount + symbol]
                if child < 0 {
                    table[slot] = fallback
                } else {
                    failure[Int(child)] = fallback
                    queue.append(Int(child))
                }
            }
        }
        var starts: [Int32] = [0]
        var flat: [Int32] = []
        for list in own {
            flat += list
            starts.append(Int32(flat.count))
        }
        self.classOf = classOf
        self.classCount = classCount
        let reports = (0..<states).map { !own[$0].isEmpty || link[$0] >= 0 }
        precondition(states * classCount < Int(UInt32.max >> 1), "Aho-Corasick automaton too large")
        transitions = table.map { next in UInt32(Int(next) * classCount) << 1 | (reports[Int(next)] ? 1 : 0) }
        outputStart = starts
        outputs = flat
        outputLink = link
    }

    /// Calls `hit(pattern, end)` for every occurrence, `end` being the offset just past it.
    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, _ hit: (Int, Int) -> Void) {
        guard !patternLengths.isEmpty else { return }
        var row = 0
        transitions.withUnsafeBufferPointer { transitions in
            classOf.withUnsafeBufferPointer { classOf in
                for index in 0..<text.count {
                    let entry = transitions[row &+ Int(classOf[Int(text[index])])]
                    row = Int(entry >> 1)
                    if entry & 1 != 0 {
                        var current = row / classCount
                        while current >= 0 {
                            for output in outputStart[current]..<outputStart[current + 1] {
                                hit(Int(outputs[Int(output)]), index + 1)
                            }
                            current = Int(outputLink[current])
                        }
                    }
                }
            }
        }
    }
}

/// A Sigma wildcard pattern over UTF-8 bytes: `*` any run, `?` one character, sets of
/// characters (from `windash`). Matching is linear: greedy with a return to the last `*` only.
struct BytePattern: Sendable, Hashable {
    enum Step: Sendable, Hashable {
        case byte(UInt8)
        case one
        case run
        case set([Unicode.Scalar])
    }

    /// How the pattern can be checked quickly.
    enum Shape: Sendable, Hashable {
        case exact([UInt8])
        case contains([UInt8])
        case prefix([UInt8])
        case suffix([UInt8])
        case general
    }

    let steps: [Step]
    let shape: Shape
    /// The longest run of literal bytes: every matching text contains it.
    let requiredLiteral: [UInt8]

    init(_ string: SigmaString, lowercase: Bool) {
        var steps: [Step] = []
        var literals: [[UInt8]] = []
        for part in string.parts {
            switch part {
            case .literal(let text):
                let bytes = lowercase ? Bytes.lowercased(text) : Array(text.utf8)
                steps += bytes.map(Step.byte)
                literals.append(bytes)
            case .anyRun: steps.append(.run)
            case .anyOne: steps.append(.one)
            case .anyOf(let characters):
                steps.append(.set(Array((lowercase ? characters.lowercased() : characters).unicodeScalars)))
            }
        }
        self.steps = steps
        requiredLiteral = literals.max { $0.count < $1.count } ?? []
        let parts = string.parts
        switch (parts.count, parts.first, parts.last) {
        case (0, _, _): shape = .exact([])
        case (1, .literal?, _): shape = .exact(requiredLiteral)
        case (2, .literal?, .anyRun?): shape = .prefix(requiredLiteral)
        case (2, .anyRun?, .literal?): shape = .suffix(requiredLiteral)
        case (3, .anyRun?, .anyRun?) where parts[1].isLiteral: shape = .contains(requiredLiteral)
        default: shape = .general
        }
    }

    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var s = 0
        var p = 0
        var starP = -1
        var starS = 0
        let count = text.count
        while s < count {
            if p < steps.count {
                switch steps[p] {
                case .run:
                    starP = p
                    starS = s
                    p += 1
                    continue
                case .one:
                    s += Bytes.sequenceLength(text[s])
                    p += 1
                    continue
                case .byte(let byte) where byte == text[s]:
                    s += 1
                    p += 1
                    continue
                case .set(let scalars):
                    let (scalar, length) = Bytes.scalar(in: text, at: s)
                    if scalars.contains(scalar) {
                        s += length
                        p += 1
                        continue
                    }
                default:
                    break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starS += Bytes.sequenceLength(text[starS])
            s = starS
        }
        while p < steps.count, case .run = steps[p] { p += 1 }
        return p == steps.count
    }
}

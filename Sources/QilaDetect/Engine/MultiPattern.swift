import Foundation

/// Finds every occurrence of many byte strings in a text, choosing per field how: one
/// Aho–Corasick automaton when its table is small enough to stay in the processor's caches,
/// otherwise the automaton for the short patterns only and a `WindowIndex` for the long ones.
///
/// The split matters for fields such as `Hashes` or `CommandLine`, whose thousands of long
/// patterns make an automaton of tens of megabytes: a walk through it waits on memory at almost
/// every byte, while the window index reads one word per byte and a small filter.
struct MultiPattern: Sendable {
    private let automaton: AhoCorasick
    /// The automaton's pattern numbers in the caller's numbering.
    private let automatonPatterns: [Int32]
    private let windows: WindowIndex?
    private let pairs: PairIndex?

    /// Automaton tables up to this size are walked directly.
    static let automatonBudget = 256 << 10
    /// Up to this many patterns (of two bytes or more) are found through one byte pair each.
    static let pairLimit = 48

    init(patterns: [[UInt8]], automatonBudget: Int = Self.automatonBudget, pairLimit: Int = Self.pairLimit) {
        if !patterns.isEmpty, patterns.count <= pairLimit, patterns.allSatisfy({ $0.count >= 2 }) {
            automaton = AhoCorasick(patterns: [])
            automatonPatterns = []
            windows = nil
            pairs = PairIndex(patterns: patterns)
            return
        }
        pairs = nil
        let distinctBytes = Set(patterns.joined()).count + 1
        let states = patterns.reduce(1) { $0 + $1.count }  // an upper bound
        guard states * distinctBytes * 4 > automatonBudget, patterns.contains(where: { $0.count >= WindowIndex.width }) else {
            automaton = AhoCorasick(patterns: patterns)
            automatonPatterns = patterns.indices.map(Int32.init)
            windows = nil
            return
        }
        // A zero byte never occurs in a window, so that the index can use 0 for an empty slot.
        let windowed = patterns.map { $0.count >= WindowIndex.width && !$0.contains(0) }
        let short = patterns.indices.filter { !windowed[$0] }
        automaton = AhoCorasick(patterns: short.map { patterns[$0] })
        automatonPatterns = short.map(Int32.init)
        windows = WindowIndex(patterns: patterns, indexing: windowed)
    }

    var isEmpty: Bool { automaton.isEmpty && windows == nil && pairs == nil }

    /// Calls `hit(pattern, end)` for every occurrence, `end` being the offset just past it.
    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, _ hit: (Int, Int) -> Void) {
        if let pairs {
            pairs.scan(text, hit)
            return
        }
        if !automaton.isEmpty {
            automatonPatterns.withUnsafeBufferPointer { numbers in
                automaton.scan(text) { pattern, end in hit(Int(numbers[pattern]), end) }
            }
        }
        windows?.scan(text, hit)
    }
}

/// Long patterns found through one 8-byte window of each: every 8 bytes of the text are read as
/// a word, checked against a small filter, looked up in a hash table of the windows, and the
/// patterns behind a window compared in full. Each pattern's window is the one fewest other
/// patterns share, so that a common run such as `\windows\` does not send every path to the
/// comparison.
struct WindowIndex: Sendable {
    static let width = 8
    private static let filterBits = 16

    /// One bit per filter slot, set when some window hashes there.
    private let filter: [UInt64]
    /// Open addressing on the window word (never 0: patterns with a zero byte are not indexed).
    private let slotKeys: [UInt64]
    private let slotEntries: [Int32]  // the window's list in `lists`, or -1
    private let slotMask: Int
    /// Per window, its patterns and the window's offset in each.
    private let lists: CandidateLists

    /// Indexes the patterns marked in `indexing` (each at least `width` bytes, without zero bytes).
    init(patterns: [[UInt8]], indexing: [Bool]) {
        let width = Self.width
        // How many patterns contain each window, to pick rare ones.
        var shared: [UInt64: Int] = [:]
        for (index, pattern) in patterns.enumerated() where indexing[index] {
            var seen: Set<UInt64> = []
            for offset in 0...(pattern.count - width) where seen.insert(Self.word(pattern, offset)).inserted {
                shared[Self.word(pattern, offset), default: 0] += 1
            }
        }
        var chosen: [UInt64: [(pattern: Int32, offset: Int32)]] = [:]
        for (index, pattern) in patterns.enumerated() where indexing[index] {
            var best = (key: UInt64(0), offset: -1, cost: Int.max)
            for offset in stride(from: pattern.count - width, through: 0, by: -1) {
                let key = Self.word(pattern, offset)
                let cost = shared[key, default: 0] + (chosen[key]?.count ?? 0) * 4
                if cost < best.cost { best = (key, offset, cost) }
            }
            chosen[best.key, default: []].append((Int32(index), Int32(best.offset)))
        }
        var capacity = 16
        while capacity < chosen.count * 2 { capacity *= 2 }
        var filter = [UInt64](repeating: 0, count: (1 << Self.filterBits) / 64)
        var slotKeys = [UInt64](repeating: 0, count: capacity)
        var slotEntries = [Int32](repeating: -1, count: capacity)
        var lists = CandidateLists(patterns: patterns)
        for (key, list) in chosen {
            let hash = Self.hash(key)
            let bit = Int(hash >> UInt64(64 - Self.filterBits))
            filter[bit >> 6] |= 1 << UInt64(bit & 63)
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slotEntries[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            slotKeys[slot] = key
            slotEntries[slot] = lists.append(list)
        }
        self.filter = filter
        self.slotKeys = slotKeys
        self.slotEntries = slotEntries
        self.slotMask = capacity - 1
        self.lists = lists
    }

    private static func word(_ pattern: [UInt8], _ offset: Int) -> UInt64 {
        pattern.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    }

    @inline(__always)
    private static func hash(_ key: UInt64) -> UInt64 {
        (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
    }

    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, _ hit: (Int, Int) -> Void) {
        let count = text.count
        guard count >= Self.width, let base = text.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        filter.withUnsafeBufferPointer { filter in
            for position in 0...(count - Self.width) {
                let key = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                let hash = Self.hash(key)
                let bit = Int(hash >> UInt64(64 - Self.filterBits))
                guard filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { continue }
                lookup(key, hash, at: position, base, count, hit)
            }
        }
    }

    private func lookup(_ key: UInt64, _ hash: UInt64, at position: Int, _ text: UnsafePointer<UInt8>, _ count: Int, _ hit: (Int, Int) -> Void) {
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while slotEntries[slot] >= 0 {
            if slotKeys[slot] == key {
                lists.compare(Int(slotEntries[slot]), at: position, text, count, hit)
                return
            }
            slot = (slot + 1) & slotMask
        }
    }
}

/// A few patterns found through one byte pair of each: each position of the text is looked up
/// in a 65,536-bit table of the pairs chosen, loads that do not wait on each other as an
/// automaton's walk does, and the patterns behind a present pair are compared in full. Each
/// pattern is indexed by its least common pair by a rough frequency of bytes in log text (path
/// separators, dots, digits and common letters are common), so that `|c:\windows\…` is not
/// compared at every stack frame of a call trace.
struct PairIndex: Sendable {
    private let filter: [UInt64]
    /// The chosen pairs in a 128-slot open-addressed table (-1: empty), and where each one's
    /// patterns' list is in `lists`; looked up only when the filter says the pair is there.
    private let slotPairs: [Int32]
    private let first: [Int32]
    private static let slots = 128
    /// Per pair, its patterns and the pair's offset in each.
    private let lists: CandidateLists

    /// How common a byte is in log text, roughly: 10 very, 3 a letter, 1 anything else.
    private static let weights: [Int] = (0..<256).map { (byte: Int) -> Int in
        let common = Array("\\:.|+ 0123456789esioantrlwdcm".utf8).map(Int.init)
        if common.contains(byte) { return 10 }
        return (0x61...0x7A).contains(byte) ? 3 : 1
    }

    init(patterns: [[UInt8]]) {
        var chosen: [Int: [(pattern: Int32, offset: Int32)]] = [:]
        let weights = Self.weights
        for (index, pattern) in patterns.enumerated() {
            var best = (offset: 0, score: Int.max)
            for offset in 0..<(pattern.count - 1) {
                let score = weights[Int(pattern[offset])] * weights[Int(pattern[offset + 1])]
                if score < best.score { best = (offset, score) }
            }
            let pair = Int(pattern[best.offset]) << 8 | Int(pattern[best.offset + 1])
            chosen[pair, default: []].append((Int32(index), Int32(best.offset)))
        }
        precondition(chosen.count <= Self.slots / 2, "a pair index holds at most \(Self.slots / 2) pairs")
        var filter = [UInt64](repeating: 0, count: 1024)
        var slotPairs = [Int32](repeating: -1, count: Self.slots)
        var first = [Int32](repeating: -1, count: Self.slots)
        var lists = CandidateLists(patterns: patterns)
        for (pair, list) in chosen.sorted(by: { $0.key < $1.key }) {
            filter[pair >> 6] |= 1 << UInt64(pair & 63)
            var slot = Self.slot(pair)
            while slotPairs[slot] >= 0 { slot = (slot + 1) & (Self.slots - 1) }
            slotPairs[slot] = Int32(pair)
            first[slot] = lists.append(list)
        }
        self.filter = filter
        self.slotPairs = slotPairs
        self.first = first
        self.lists = lists
    }

    @inline(__always)
    private static func slot(_ pair: Int) -> Int { Int((UInt32(pair) &* 2_654_435_761) >> 25) }

    @inline(__always)
    func scan(_ text: UnsafeBufferPointer<UInt8>, _ hit: (Int, Int) -> Void) {
        let count = text.count
        guard count >= 2, let base = text.baseAddress else { return }
        filter.withUnsafeBufferPointer { filter in
            var previous = Int(base[0])
            for position in 1..<count {
                let current = Int(base[position])
                let pair = previous << 8 | current
                previous = current
                guard filter[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
                compare(pair, at: position - 1, base, count, hit)
            }
        }
    }

    private func compare(_ pair: Int, at position: Int, _ text: UnsafePointer<UInt8>, _ count: Int, _ hit: (Int, Int) -> Void) {
        var slot = Self.slot(pair)
        while slotPairs[slot] != Int32(pair) {
            guard slotPairs[slot] >= 0 else { return }
            slot = (slot + 1) & (Self.slots - 1)
        }
        lists.compare(Int(first[slot]), at: position, text, count, hit)
    }
}

/// The patterns behind each key of an index (a window, a byte pair): per key a list of
/// (pattern number, the key's offset in the pattern) ended by -1, and every pattern's bytes, so
/// that a key found in the text is confirmed by comparing its patterns in full.
struct CandidateLists: Sendable {
    private var entries: [Int32] = []
    private let bytes: [UInt8]
    private let starts: [Int32]

    init(patterns: [[UInt8]]) {
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        for pattern in patterns {
            bytes += pattern
            starts.append(Int32(bytes.count))
        }
        self.bytes = bytes
        self.starts = starts
    }

    /// Adds one key's list; returns where it starts, for `compare`.
    mutating func append(_ list: [(pattern: Int32, offset: Int32)]) -> Int32 {
        let start = Int32(entries.count)
        for (pattern, offset) in list { entries += [pattern, offset] }
        entries.append(-1)
        return start
    }

    /// Compares the patterns of the list at `list` with the text, their key found at `position`.
    func compare(_ list: Int, at position: Int, _ text: UnsafePointer<UInt8>, _ count: Int, _ hit: (Int, Int) -> Void) {
        var entry = list
        while entries[entry] >= 0 {
            let pattern = Int(entries[entry])
            let start = position - Int(entries[entry + 1])
            let length = Int(starts[pattern + 1] - starts[pattern])
            if start >= 0, start + length <= count,
                bytes.withUnsafeBufferPointer({ memcmp(text + start, $0.baseAddress! + Int(starts[pattern]), length) == 0 })
            {
                hit(pattern, start + length)
            }
            entry += 2
        }
    }
}

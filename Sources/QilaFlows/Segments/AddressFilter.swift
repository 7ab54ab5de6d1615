/// A Bloom filter of the addresses of a sealed segment (about 1 % false positives), so a query
/// for an address skips segments that never saw it without opening their blocks.
struct AddressFilter: Sendable {
    private(set) var words: [UInt64]
    static let probes = 7

    init(expected: Int) {
        var bits = 64
        while bits < max(expected, 1) * 10 { bits <<= 1 }
        words = [UInt64](repeating: 0, count: bits / 64)
    }

    init?(words: [UInt64]) {
        guard !words.isEmpty, words.count & (words.count - 1) == 0 else { return nil }
        self.words = words
    }

    @inline(__always)
    private static func hashes(_ address: FlowAddress) -> (UInt64, UInt64) {
        var a = address.high ^ 0x9E37_79B9_7F4A_7C15
        var b = address.low &* 0xBF58_476D_1CE4_E5B9
        a = (a ^ (b >> 29)) &* 0x94D0_49BB_1331_11EB
        b = (b ^ (a >> 31)) &* 0xD6E8_FEB8_6659_FD93
        return (a ^ (a >> 32), (b ^ (b >> 29)) | 1)
    }

    mutating func insert(_ address: FlowAddress) {
        let (h1, h2) = Self.hashes(address)
        let mask = UInt64(words.count * 64 - 1)
        for i in 0..<Self.probes {
            let bit = (h1 &+ UInt64(i) &* h2) & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
    }

    func mightContain(_ address: FlowAddress) -> Bool {
        let (h1, h2) = Self.hashes(address)
        let mask = UInt64(words.count * 64 - 1)
        for i in 0..<Self.probes {
            let bit = (h1 &+ UInt64(i) &* h2) & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }
}

/// The distinct IPv4 addresses of an open segment, for its address filter at sealing: open
/// addressing over one array, a fraction of `Set<UInt32>`'s cost for the hundred thousand inserts
/// of every block.
struct IPv4Set: Sequence {
    /// Address + 1 in each used slot; 0 is empty.
    private var slots = [UInt64](repeating: 0, count: 1 << 16)
    private(set) var count = 0

    init() {}

    @inline(__always)
    private static func slot(of address: UInt32, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(address) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    mutating func insert(_ address: UInt32) {
        let stored = UInt64(address) + 1
        let inserted = slots.withUnsafeMutableBufferPointer { slots -> Bool in
            let mask = slots.count - 1
            var at = Self.slot(of: address, mask)
            while slots[at] != 0 {
                if slots[at] == stored { return false }
                at = (at + 1) & mask
            }
            slots[at] = stored
            return true
        }
        guard inserted else { return }
        count += 1
        if count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        let mask = slots.count - 1
        for stored in old where stored != 0 {
            var at = Self.slot(of: UInt32(stored - 1), mask)
            while slots[at] != 0 { at = (at + 1) & mask }
            slots[at] = stored
        }
    }

    func makeIterator() -> some IteratorProtocol<UInt32> {
        slots.lazy.filter { $0 != 0 }.map { UInt32($0 - 1) }.makeIterator()
    }
}

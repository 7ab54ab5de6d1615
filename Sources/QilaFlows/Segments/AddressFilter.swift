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

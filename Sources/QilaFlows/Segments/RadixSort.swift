import CQilaSystem

/// Stable least-significant-digit radix sort of 64-bit keys on their bits `low..<high`, 11 bits a
/// pass. The block encoder sorts `key << 32 | position` pairs with it: comparison sorts of a
/// second's million flows cost more than the rest of encoding.
enum RadixSort {
    static func sort(_ values: inout [UInt64], bits range: Range<Int>) {
        let count = values.count
        guard count > 1, !range.isEmpty else { return }
        var other = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            qila_advise_huge_pages(buffer.baseAddress, count * 8)
            initialized = count
        }
        var shift = range.lowerBound
        var counts = [Int](repeating: 0, count: 2049)
        while shift < range.upperBound {
            let width = min(11, range.upperBound - shift)
            let mask = UInt64((1 << width) - 1)
            let buckets = 1 << width
            for i in 0...buckets { counts[i] = 0 }
            values.withUnsafeBufferPointer { source in
                other.withUnsafeMutableBufferPointer { target in
                    counts.withUnsafeMutableBufferPointer { counts in
                        for value in source { counts[Int((value >> UInt64(shift)) & mask) + 1] += 1 }
                        for i in 0..<buckets { counts[i + 1] += counts[i] }
                        for value in source {
                            let bucket = Int((value >> UInt64(shift)) & mask)
                            target[counts[bucket]] = value
                            counts[bucket] += 1
                        }
                    }
                }
            }
            swap(&values, &other)
            shift += width
        }
    }
}

/// Counts and numbers the distinct values of a low-cardinality column (ports, interfaces,
/// protocol and flags) with open addressing; far cheaper than `Dictionary` in the encoder's loops.
struct ValueTable {
    private var keys: [UInt64]
    private var slots: [Int32]  // index into `values`, -1 empty
    private(set) var values: [UInt64] = []
    private(set) var counts: [Int] = []
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// The number of `value` (in order of first appearance), counting one more occurrence.
    @inline(__always)
    mutating func add(_ value: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let index = slots[slot]
            if index < 0 { break }
            if keys[slot] == value {
                counts[Int(index)] += 1
                return Int(index)
            }
            slot = (slot + 1) & mask
        }
        let index = values.count
        keys[slot] = value
        slots[slot] = Int32(index)
        values.append(value)
        counts.append(1)
        if values.count * 2 > mask { grow() }
        return index
    }

    /// The values most frequent first (ties by value), and each value's rank by its number.
    func ranked() -> (values: [UInt64], ranks: [UInt32]) {
        let byFrequency = values.indices.sorted { (counts[$0], values[$1]) > (counts[$1], values[$0]) }
        var ranks = [UInt32](repeating: 0, count: values.count)
        for (position, number) in byFrequency.enumerated() { ranks[number] = UInt32(position) }
        return (byFrequency.map { values[$0] }, ranks)
    }

    private mutating func grow() {
        let size = (mask + 1) * 2
        keys = [UInt64](repeating: 0, count: size)
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for (index, value) in values.enumerated() {
            var slot = Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            keys[slot] = value
            slots[slot] = Int32(index)
        }
    }
}

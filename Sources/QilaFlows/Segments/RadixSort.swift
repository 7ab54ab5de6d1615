/// Stable least-significant-digit radix sort of 64-bit keys on their bits `low..<high`, 11 bits a
/// pass. The block encoder sorts `key << 32 | position` pairs with it: comparison sorts of a
/// second's million flows cost more than the rest of encoding.
enum RadixSort {
    static func sort(_ values: inout [UInt64], bits range: Range<Int>) {
        let count = values.count
        guard count > 1, !range.isEmpty else { return }
        var other = [UInt64](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
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

/// Counts and numbers the distinct values of a low-cardinality column (protocol and flags,
/// interfaces) with open addressing; far cheaper than `Dictionary` in the encoder's loops.
/// Raw storage, so that counting an occurrence is one add, without a uniqueness check or bounds
/// checks; the table owns it, and cannot be copied.
struct ValueTable: ~Copyable {
    private var keys: UnsafeMutablePointer<UInt64>
    private var slots: UnsafeMutablePointer<Int32>  // index into `values`, -1 empty
    private var mask: Int
    private var values: UnsafeMutablePointer<UInt64>
    private var counts: UnsafeMutablePointer<Int>
    /// Distinct values added.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = .allocate(capacity: size)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: -1, count: size)
        mask = size - 1
        values = .allocate(capacity: size / 2)
        counts = .allocate(capacity: size / 2)
    }

    deinit {
        keys.deallocate()
        slots.deallocate()
        values.deallocate()
        counts.deallocate()
    }

    @inline(__always)
    private func home(_ value: UInt64) -> Int { Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask }

    /// The number of `value` (in order of first appearance), counting one more occurrence.
    @inline(__always)
    mutating func add(_ value: UInt64) -> Int {
        var slot = home(value)
        while true {
            let index = slots[slot]
            if index < 0 { break }
            if keys[slot] == value {
                counts[Int(index)] &+= 1
                return Int(index)
            }
            slot = (slot + 1) & mask
        }
        let index = count
        keys[slot] = value
        slots[slot] = Int32(index)
        values[index] = value
        counts[index] = 1
        count += 1
        // At most half the slots are used, so `values` (half the slots) never overflows.
        if count * 2 > mask { grow() }
        return index
    }

    /// The values most frequent first (ties by value), and each value's rank by its number.
    func ranked() -> (values: [UInt64], ranks: [UInt32]) {
        let byFrequency = (0..<count).sorted { (counts[$0], values[$1]) > (counts[$1], values[$0]) }
        var ranks = [UInt32](repeating: 0, count: count)
        for (position, number) in byFrequency.enumerated() { ranks[number] = UInt32(position) }
        return (byFrequency.map { values[$0] }, ranks)
    }

    /// Doubles the slots (and the room for values) and enters the values again.
    private mutating func grow() {
        let size = (mask + 1) * 2
        keys.deallocate()
        slots.deallocate()
        keys = .allocate(capacity: size)
        slots = .allocate(capacity: size)
        slots.initialize(repeating: -1, count: size)
        mask = size - 1
        let larger = size / 2
        let largerValues = UnsafeMutablePointer<UInt64>.allocate(capacity: larger)
        largerValues.moveInitialize(from: values, count: count)
        values.deallocate()
        values = largerValues
        let largerCounts = UnsafeMutablePointer<Int>.allocate(capacity: larger)
        largerCounts.moveInitialize(from: counts, count: count)
        counts.deallocate()
        counts = largerCounts
        for index in 0..<count {
            var slot = home(values[index])
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            keys[slot] = values[index]
            slots[slot] = Int32(index)
        }
    }
}

/// Bits written least significant first into bytes, as the segment column codecs store them,
/// straight into memory the caller sized (`IntegerColumn` knows the bound before it writes).
///
/// Every write stores the whole 64-bit accumulator and moves on by the bytes it completed, so a
/// write of up to 56 bits is one store and no branch; the memory must therefore extend
/// `BitWriter.slack` bytes past the last byte written.
struct BitWriter {
    /// Bytes past the written ones that a store may touch.
    static let slack = 8
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    private var position = 0
    private var accumulator: UInt64 = 0
    /// Bits held in `accumulator` beyond `position`: fewer than 8 between calls.
    private var filled = 0

    /// `capacity` counts the slack.
    init(into base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Adds `count` (≤ 56) bits already masked to that width.
    @inline(__always)
    private mutating func put(_ bits: UInt64, _ count: Int) {
        precondition(position + 8 <= capacity, "bit writer past its bound")
        accumulator |= bits &<< UInt64(filled)
        filled += count
        base.storeBytes(of: accumulator.littleEndian, toByteOffset: position, as: UInt64.self)
        let completed = filled >> 3
        position += completed
        accumulator = accumulator &>> UInt64(completed << 3)
        filled &= 7
    }

    /// Appends the low `count` bits of `value` (`count` ≤ 64).
    @inline(__always)
    mutating func write(_ value: UInt64, bits count: Int) {
        if count <= 56 {
            put(value & ((1 &<< UInt64(count)) &- 1), count)
        } else {
            put(value & 0xFFFF_FFFF, 32)
            put((value >> 32) & ((1 << UInt64(count - 32)) &- 1), count - 32)
        }
    }

    /// Exponential-Golomb code of order `k`: small values in few bits, any value representable.
    /// The bits, first written first: length−1 zeros, a one, the quotient's low length−1 bits,
    /// then the value's low k bits.
    @inline(__always)
    mutating func writeGolomb(_ value: UInt64, order k: Int) {
        let quotient = (value >> UInt64(k)) &+ 1
        if quotient == 0 {  // only UInt64.max with k = 0: the quotient is 2^64
            write(0, bits: 64)
            write(1, bits: 1)
            write(0, bits: 64)
            return
        }
        let length = 64 - quotient.leadingZeroBitCount
        let total = 2 * length - 1 + k
        if total <= 56 {
            // One store for the whole code: the quotient's leading one sits at bit length−1,
            // its other bits above it, the value's low bits above those.
            let low = quotient & ((1 &<< UInt64(length - 1)) &- 1)
            var code = 1 &<< UInt64(length - 1) | low &<< UInt64(length)
            code |= (value & ((1 &<< UInt64(k)) &- 1)) &<< UInt64(2 * length - 1)
            put(code, total)
        } else {
            write(1 << UInt64(length - 1), bits: length)
            write(quotient, bits: length - 1)
            write(value, bits: k)
        }
    }

    /// Ends at a whole byte and returns how many bytes were written.
    mutating func finish() -> Int {
        // The last store already holds the partial byte at `position`.
        if filled > 0 { position += 1 }
        accumulator = 0
        filled = 0
        return position
    }
}

/// Reads what `BitWriter` wrote. Reading past the end yields zero bits and sets `overrun`, so a
/// damaged column gives wrong numbers and a flag, never a crash.
struct BitReader {
    private let base: UnsafeRawBufferPointer
    private var position: Int  // next byte to load
    private var accumulator: UInt64 = 0
    private var available = 0
    private(set) var overrun = false

    init(_ bytes: UnsafeRawBufferPointer, from offset: Int = 0) {
        base = bytes
        position = offset
    }

    @inline(__always)
    private mutating func refill() {
        while available <= 56 {
            if position < base.count {
                accumulator |= UInt64(base[position]) << UInt64(available)
                position += 1
            } else {
                if available == 0 { overrun = true }
                return
            }
            available += 8
        }
    }

    /// Reads `count` bits (≤ 64).
    @inline(__always)
    mutating func read(bits count: Int) -> UInt64 {
        guard count > 0 else { return 0 }
        if count > 32 {
            let low = read(bits: 32)
            return low | read(bits: count - 32) << 32
        }
        if available < count {
            refill()
            if available < count {
                overrun = true
                let value = accumulator
                accumulator = 0
                available = 0
                return value
            }
        }
        let value = accumulator & ((1 << UInt64(count)) - 1)
        accumulator >>= UInt64(count)
        available -= count
        return value
    }

    @inline(__always)
    mutating func readGolomb(order k: Int) -> UInt64 {
        var zeros = 0
        while true {
            if available == 0 {
                refill()
                if available == 0 { overrun = true; return 0 }
            }
            if accumulator == 0 {
                zeros += available
                accumulator = 0
                available = 0
                if zeros > 64 { overrun = true; return 0 }
                continue
            }
            let run = accumulator.trailingZeroBitCount
            zeros += run
            accumulator >>= UInt64(run + 1)
            available -= run + 1
            break
        }
        guard zeros <= 64 else { overrun = true; return 0 }
        let rest = read(bits: zeros)
        let quotient: UInt64 = zeros == 64 ? rest : (1 << UInt64(zeros)) | rest
        let low = read(bits: k)
        return ((quotient &- 1) << UInt64(k)) | low
    }
}

/// Variable-length unsigned integers (7 bits a byte, little end first) for headers.
enum VarInt {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Reads at `offset`, moving it on; nil when the bytes end first or the number is too long.
    static func read(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}

@inline(__always) func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
@inline(__always) func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }

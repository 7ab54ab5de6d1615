/// Reads the bits of an `IntegerColumn` frame, least significant first, as `qila_code_frame` writes
/// them. Reading past the end yields zero bits and sets `overrun`, so a damaged column gives wrong
/// numbers and a flag, never a crash.
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

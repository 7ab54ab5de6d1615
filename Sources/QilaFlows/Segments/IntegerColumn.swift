/// A column of unsigned integers in frames of 256, each frame coded on its own in whichever of two
/// ways is smaller for it: bit packing above the frame's least value, or exponential-Golomb codes
/// of an order chosen from the frame's value lengths (short codes for the many small values of
/// heavy-tailed columns such as durations and byte counts). A frame can be decoded alone, so a
/// query reads the frames that hold its rows and nothing else.
///
/// Layout: varint count, u32 offset of each frame (from the start of the frame data), then the
/// frames: mode byte (0 packed, 1 Golomb), parameter byte (width or order), varint base, bits.
/// In `sorted` columns the base is the frame's first value and the rest are stored as differences
/// from their predecessor, so a sorted column is searched by its frame bases.
struct IntegerColumn {
    static let frameLength = 256

    enum Layout { case plain, sorted }

    static func encode(_ values: UnsafeBufferPointer<UInt64>, layout: Layout = .plain, into out: inout [UInt8]) {
        var writer = Writer(count: values.count, layout: layout)
        var lower = 0
        while lower < values.count {
            writer.append(UnsafeBufferPointer(rebasing: values[lower..<min(values.count, lower + frameLength)]))
            lower += frameLength
        }
        out.append(contentsOf: writer.finish())
    }

    static func encode(_ values: [UInt64], layout: Layout = .plain, into out: inout [UInt8]) {
        values.withUnsafeBufferPointer { encode($0, layout: layout, into: &out) }
    }

    /// Writes a column frame by frame, so that the block encoder can code each frame of every
    /// column while the frame's values are still in the cache.
    struct Writer {
        private var bytes: [UInt8] = []
        private let layout: Layout
        private let count: Int
        private let frames: Int
        private let table: Int
        private let dataStart: Int
        private var written = 0

        /// A column of `count` values, given to `append` in frames of `frameLength` (the last may be shorter).
        init(count: Int, layout: Layout = .plain) {
            self.count = count
            self.layout = layout
            frames = (count + frameLength - 1) / frameLength
            VarInt.append(UInt64(count), to: &bytes)
            table = bytes.count
            bytes.reserveCapacity(table + frames * 4 + count * 2 + 64)
            bytes.append(contentsOf: repeatElement(0, count: frames * 4))
            dataStart = bytes.count
        }

        /// Codes the next frame: `frameLength` values, fewer only for the column's last frame.
        mutating func append(_ values: UnsafeBufferPointer<UInt64>) {
            let frame = written / frameLength
            precondition(
                frame < frames && values.count == min(frameLength, count - written), "frame \(frame) of \(frames) with \(values.count) values")
            written += values.count
            let offset = UInt32(bytes.count - dataStart)
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: offset.littleEndian, toByteOffset: table + frame * 4, as: UInt32.self)
            }
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: frameLength) { scratch in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * 65) { lengths in
                    code(values, scratch.baseAddress!, lengths.baseAddress!)
                }
            }
        }

        /// The column's bytes; `append` must have been given every value.
        consuming func finish() -> [UInt8] {
            precondition(written == count, "column of \(count) values finished after \(written)")
            return bytes
        }

        private mutating func code(_ values: UnsafeBufferPointer<UInt64>, _ scratch: UnsafeMutablePointer<UInt64>, _ lengths: UnsafeMutablePointer<Int>) {
            // The numbers stored: differences from the predecessor in sorted columns (in
            // `scratch`), else the values above the frame's least, subtracted where they are used.
            var base: UInt64
            let numbers: UnsafePointer<UInt64>
            let stored: Int
            var subtract: UInt64 = 0
            if layout == .sorted {
                base = values[0]
                stored = values.count - 1
                var previous = base
                for i in 0..<stored {
                    scratch[i] = values[i + 1] &- previous
                    previous = values[i + 1]
                }
                numbers = UnsafePointer(scratch)
            } else {
                base = UInt64.max
                var highest: UInt64 = 0
                for value in values {
                    base = min(base, value)
                    highest = max(highest, value)
                }
                stored = values.count
                numbers = values.baseAddress!
                subtract = base
                if highest == base {
                    // One value throughout: a packed frame of width 0, no bits.
                    bytes.append(0)
                    bytes.append(0)
                    VarInt.append(base, to: &bytes)
                    return
                }
            }
            // Lengths of the stored numbers decide the cheapest coding. Four histograms, so
            // that runs of equal lengths do not wait on one counter.
            lengths.initialize(repeating: 0, count: 4 * 65)
            var widest = 0
            var i = 0
            while i + 4 <= stored {
                for lane in 0..<4 {
                    let length = 64 &- (numbers[i &+ lane] &- subtract).leadingZeroBitCount
                    lengths[lane &* 65 &+ length] &+= 1
                    widest = max(widest, length)
                }
                i &+= 4
            }
            while i < stored {
                let length = 64 &- (numbers[i] &- subtract).leadingZeroBitCount
                lengths[length] &+= 1
                widest = max(widest, length)
                i &+= 1
            }
            for length in 0...widest { lengths[length] &+= lengths[65 + length] &+ lengths[130 + length] &+ lengths[195 + length] }
            var bestCost = widest * stored
            var bestOrder = -1
            if stored > 0 && widest > 1 {
                // Golomb cost of order k: values of length ≤ k take k+1 bits, of length
                // k+1 take k+3, longer ones 2·length−k−1 (about). Kept as running sums so
                // that every order is priced in one pass over the lengths.
                var longer = 0  // values longer than k+1
                var longerBits = 0  // and the sum of their lengths
                for length in 2...widest {
                    longer += lengths[length]
                    longerBits += lengths[length] * length
                }
                var shorter = lengths[0]  // values of length ≤ k
                for order in 0..<widest {
                    // Here `shorter` counts lengths ≤ order; `longer`/`longerBits` lengths > order+1.
                    let atNext = lengths[order + 1]
                    let cost = shorter * (order + 1) + atNext * (order + 3) + 2 * longerBits - (order + 1) * longer
                    if cost < bestCost { bestCost = cost; bestOrder = order }
                    shorter += atNext
                    if order + 2 <= widest {
                        longer -= lengths[order + 2]
                        longerBits -= lengths[order + 2] * (order + 2)
                    }
                }
            }
            bytes.append(bestOrder < 0 ? 0 : 1)
            bytes.append(UInt8(bestOrder < 0 ? widest : bestOrder))
            VarInt.append(base, to: &bytes)
            // The cost above is exact for packing and short by at most 2 bits a value for
            // Golomb codes (a quotient one bit longer than its value's length suggests).
            let bound = (bestCost + 2 * stored + 7) / 8 + 8 + BitWriter.slack
            let at = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: bound))
            let used = bytes.withUnsafeMutableBytes { raw in
                var writer = BitWriter(into: raw.baseAddress! + at, capacity: bound)
                if bestOrder < 0 {
                    if widest > 0 { for i in 0..<stored { writer.write(numbers[i] &- subtract, bits: widest) } }
                } else {
                    for i in 0..<stored { writer.writeGolomb(numbers[i] &- subtract, order: bestOrder) }
                }
                return writer.finish()
            }
            bytes.removeLast(bound - used)
        }
    }
}

/// Reads an `IntegerColumn` in place.
struct IntegerColumnReader {
    let bytes: UnsafeRawBufferPointer
    let count: Int
    let frames: Int
    private let table: Int
    private let dataStart: Int

    enum Failure: Error, Equatable { case damaged(String) }

    /// `bytes` must stay valid while the reader is used.
    init(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        self.bytes = bytes
        var offset = 0
        guard let count = VarInt.read(bytes, &offset), count < 1 << 40 else { throw .damaged("column length") }
        self.count = Int(count)
        frames = (self.count + IntegerColumn.frameLength - 1) / IntegerColumn.frameLength
        table = offset
        dataStart = offset + frames * 4
        guard dataStart <= bytes.count else { throw .damaged("frame table") }
    }

    private func frameOffset(_ frame: Int) -> Int {
        let at = table + frame * 4
        let raw = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        return dataStart + Int(raw)
    }

    /// The base of a frame: for sorted columns its first value.
    func base(ofFrame frame: Int) throws(Failure) -> UInt64 {
        var offset = frameOffset(frame) + 2
        guard offset <= bytes.count, let base = VarInt.read(bytes, &offset) else { throw .damaged("frame \(frame) header") }
        return base
    }

    /// One value of a plain column without decoding its frame, when the frame is bit-packed:
    /// the value sits at its own bit position. Nil for an exponential-Golomb frame, whose values
    /// can only be read in order.
    @inline(__always)
    func packedValue(at index: Int) throws(Failure) -> UInt64? {
        let frame = index / IntegerColumn.frameLength
        guard frame < frames else { throw .damaged("frame \(frame) of \(frames)") }
        var offset = frameOffset(frame)
        guard offset + 2 <= bytes.count else { throw .damaged("frame \(frame) header") }
        guard bytes[offset] == 0 else { return nil }
        let width = Int(bytes[offset + 1])
        offset += 2
        guard let base = VarInt.read(bytes, &offset), width <= 64 else { throw .damaged("frame \(frame) header") }
        let bit = (index % IntegerColumn.frameLength) * width
        var reader = BitReader(bytes, from: offset + bit / 8)
        _ = reader.read(bits: bit % 8)
        let value = reader.read(bits: width)
        if reader.overrun { throw .damaged("frame \(frame) runs past its column") }
        return base &+ value
    }

    /// Decodes one frame into `out` (which receives up to 256 values), returning how many.
    @discardableResult
    func decode(frame: Int, layout: IntegerColumn.Layout = .plain, into out: UnsafeMutablePointer<UInt64>, limit: Int = IntegerColumn.frameLength) throws(Failure) -> Int {
        guard frame < frames else { throw .damaged("frame \(frame) of \(frames)") }
        var offset = frameOffset(frame)
        guard offset + 2 <= bytes.count else { throw .damaged("frame \(frame) header") }
        let mode = bytes[offset]
        let parameter = Int(bytes[offset + 1])
        offset += 2
        guard let base = VarInt.read(bytes, &offset), mode <= 1, parameter <= 64 else { throw .damaged("frame \(frame) header") }
        let n = min(limit, IntegerColumn.frameLength, count - frame * IntegerColumn.frameLength)
        var reader = BitReader(bytes, from: offset)
        if layout == .sorted {
            out[0] = base
            var previous = base
            for i in 1..<max(1, n) {
                let delta = mode == 0 ? reader.read(bits: parameter) : reader.readGolomb(order: parameter)
                previous &+= delta
                out[i] = previous
            }
        } else if mode == 0 {
            for i in 0..<n { out[i] = base &+ reader.read(bits: parameter) }
        } else {
            for i in 0..<n { out[i] = base &+ reader.readGolomb(order: parameter) }
        }
        if reader.overrun { throw .damaged("frame \(frame) runs past its column") }
        return n
    }

    func decodeAll(layout: IntegerColumn.Layout = .plain) throws(Failure) -> [UInt64] {
        var values = [UInt64](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { (buffer) throws(Failure) in
            for frame in 0..<frames {
                try decode(frame: frame, layout: layout, into: buffer.baseAddress! + frame * IntegerColumn.frameLength)
            }
        }
        return values
    }
}

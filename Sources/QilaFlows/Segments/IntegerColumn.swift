import CQilaFrames

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
    /// The C coder's frame length, so that the two cannot disagree.
    static let frameLength = Int(QILA_FRAME_LENGTH)

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
    /// column while the frame's values are still in the cache. The frames are coded in C
    /// (`qila_code_frame`, CQilaFrames), in vector registers where the processor has them.
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
            let offset = UInt32(bytes.count - dataStart), sorted: Int32 = layout == .sorted ? 1 : 0
            bytes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: offset.littleEndian, toByteOffset: table + frame * 4, as: UInt32.self)
            }
            // Coded on the stack (the coder's stores run past what it keeps), then appended.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: qila_frame_bound(values.count)) { frameBytes in
                let used = qila_code_frame(values.baseAddress!, values.count, sorted, frameBytes.baseAddress!)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: frameBytes[..<used]))
            }
        }

        /// The column's bytes; `append` must have been given every value.
        consuming func finish() -> [UInt8] {
            precondition(written == count, "column of \(count) values finished after \(written)")
            return bytes
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

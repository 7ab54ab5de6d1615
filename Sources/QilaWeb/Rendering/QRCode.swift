/// A QR code encoder (ISO/IEC 18004) for the TOTP enrolment page: byte mode, error
/// correction level M, versions 1 to 10 (up to 213 bytes), rendered as SVG so that no script
/// or external service sees the secret.
struct QRCode: Sendable {
    /// modules[row][column], true for dark.
    let modules: [[Bool]]
    var size: Int { modules.count }

    struct TooLong: Error {}

    /// (total codewords, EC codewords per block, blocks of group 1, data per block, blocks of group 2, data per block)
    private static let versions: [(Int, Int, Int, Int, Int, Int)] = [
        (26, 10, 1, 16, 0, 0), (44, 16, 1, 28, 0, 0), (70, 26, 1, 44, 0, 0), (100, 18, 2, 32, 0, 0),
        (134, 24, 2, 43, 0, 0), (172, 16, 4, 27, 0, 0), (196, 18, 4, 31, 0, 0), (242, 22, 2, 38, 2, 39),
        (292, 22, 3, 36, 2, 37), (346, 26, 4, 43, 1, 44),
    ]
    private static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]

    init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard let version = (1...10).first(where: { v in
            let spec = Self.versions[v - 1]
            let capacityBits = (spec.2 * spec.3 + spec.4 * spec.5) * 8
            return 4 + (v < 10 ? 8 : 16) + bytes.count * 8 <= capacityBits
        }) else { throw TooLong() }
        let spec = Self.versions[version - 1]
        let dataCapacity = spec.2 * spec.3 + spec.4 * spec.5

        // Bit stream: mode 0100, count, data, terminator, padding.
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, dataCapacity * 8 - bits.count))
        while bits.count % 8 != 0 { bits.append(false) }
        var data: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { start in
            (0..<8).reduce(UInt8(0)) { $0 << 1 | (bits[start + $1] ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while data.count < dataCapacity {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }

        // Blocks, error correction, interleaving.
        var blocks: [[UInt8]] = []
        var offset = 0
        for (count, length) in [(spec.2, spec.3), (spec.4, spec.5)] {
            for _ in 0..<count {
                blocks.append(Array(data[offset..<offset + length]))
                offset += length
            }
        }
        let generator = Self.generator(degree: spec.1)
        let ecBlocks = blocks.map { Self.remainder($0, generator) }
        var codewords: [UInt8] = []
        for i in 0..<(blocks.map(\.count).max() ?? 0) { for block in blocks where i < block.count { codewords.append(block[i]) } }
        for i in 0..<spec.1 { for block in ecBlocks { codewords.append(block[i]) } }

        // Function patterns.
        let size = 17 + 4 * version
        var grid = [[Bool]](repeating: [Bool](repeating: false, count: size), count: size)
        var reserved = grid
        func set(_ row: Int, _ column: Int, _ dark: Bool) {
            grid[row][column] = dark
            reserved[row][column] = true
        }
        for (r0, c0) in [(0, 0), (0, size - 7), (size - 7, 0)] {
            for dr in -1...7 {
                for dc in -1...7 {
                    let r = r0 + dr, c = c0 + dc
                    guard (0..<size).contains(r), (0..<size).contains(c) else { continue }
                    let ring = max(abs(dr - 3), abs(dc - 3))
                    set(r, c, ring != 2 && ring != 4)
                }
            }
        }
        for i in 8..<(size - 8) {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        let centres = Self.alignment[version - 1]
        for r in centres {
            for c in centres where !((r == 6 && c == 6) || (r == 6 && c == centres.last!) || (r == centres.last! && c == 6)) {
                for dr in -2...2 { for dc in -2...2 { set(r + dr, c + dc, max(abs(dr), abs(dc)) != 1) } }
            }
        }
        // Reserve format areas (written per mask below) and the dark module.
        for i in 0..<9 { reserved[8][i] = true; reserved[i][8] = true }
        for i in 0..<8 { reserved[8][size - 1 - i] = true; reserved[size - 1 - i][8] = true }
        set(size - 8, 8, true)
        if version >= 7 {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let versionBits = version << 12 | remainder
            for i in 0..<18 {
                let dark = (versionBits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                set(b, a, dark)
                set(a, b, dark)
            }
        }

        // Data in the zigzag order.
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let column = right - j
                    let upward = (right + 1) & 2 == 0
                    let row = upward ? size - 1 - vertical : vertical
                    if !reserved[row][column] && index < codewords.count * 8 {
                        grid[row][column] = (codewords[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
                    }
                }
            }
            right -= 2
        }

        // Try the eight masks; keep the one with the lowest penalty.
        var best: [[Bool]] = grid
        var bestPenalty = Int.max
        for mask in 0..<8 {
            var candidate = grid
            for r in 0..<size {
                for c in 0..<size where !reserved[r][c] && Self.masked(mask, r, c) { candidate[r][c].toggle() }
            }
            Self.drawFormat(&candidate, mask: mask)
            let penalty = Self.penalty(candidate)
            if penalty < bestPenalty {
                bestPenalty = penalty
                best = candidate
            }
        }
        modules = best
    }

    private static func masked(_ mask: Int, _ r: Int, _ c: Int) -> Bool {
        switch mask {
        case 0: (r + c) % 2 == 0
        case 1: r % 2 == 0
        case 2: c % 3 == 0
        case 3: (r + c) % 3 == 0
        case 4: (r / 2 + c / 3) % 2 == 0
        case 5: (r * c) % 2 + (r * c) % 3 == 0
        case 6: ((r * c) % 2 + (r * c) % 3) % 2 == 0
        default: ((r + c) % 2 + (r * c) % 3) % 2 == 0
        }
    }

    private static func drawFormat(_ grid: inout [[Bool]], mask: Int) {
        let size = grid.count
        let data = (0b00 << 3) | mask  // level M
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0..<6 { grid[i][8] = bit(i) }
        grid[7][8] = bit(6)
        grid[8][8] = bit(7)
        grid[8][7] = bit(8)
        for i in 9..<15 { grid[8][14 - i] = bit(i) }
        for i in 0..<8 { grid[8][size - 1 - i] = bit(i) }
        for i in 8..<15 { grid[size - 15 + i][8] = bit(i) }
        grid[size - 8][8] = true
    }

    private static func penalty(_ grid: [[Bool]]) -> Int {
        let size = grid.count
        var score = 0
        let finderLike: [[Bool]] = [
            [true, false, true, true, true, false, true, false, false, false, false],
            [false, false, false, false, true, false, true, true, true, false, true],
        ]
        for transpose in [false, true] {
            for a in 0..<size {
                let line = (0..<size).map { transpose ? grid[$0][a] : grid[a][$0] }
                var run = 1
                for i in 1..<size {
                    if line[i] == line[i - 1] {
                        run += 1
                    } else {
                        if run >= 5 { score += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { score += run - 2 }
                for start in 0...(size - 11) {
                    let window = Array(line[start..<start + 11])
                    if finderLike.contains(window) { score += 40 }
                }
            }
        }
        var dark = 0
        for r in 0..<size {
            for c in 0..<size {
                if grid[r][c] { dark += 1 }
                if r + 1 < size, c + 1 < size, grid[r][c] == grid[r][c + 1], grid[r][c] == grid[r + 1][c],
                    grid[r][c] == grid[r + 1][c + 1]
                {
                    score += 3
                }
            }
        }
        score += abs(dark * 20 - size * size * 10) / (size * size) * 10
        return score
    }

    // MARK: Reed-Solomon over GF(256), polynomial 0x11D

    private static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var result: UInt16 = 0
        var a = UInt16(x)
        var b = y
        while b != 0 {
            if b & 1 == 1 { result ^= a }
            a <<= 1
            if a & 0x100 != 0 { a ^= 0x11D }
            b >>= 1
        }
        return UInt8(result)
    }

    private static func generator(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    private static func remainder(_ data: [UInt8], _ generator: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: generator.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(generator[i], factor) }
        }
        return result
    }

    /// An SVG drawing with a four-module quiet zone.
    func svg(title: String) -> String {
        let quiet = 4
        let extent = size + 2 * quiet
        var path = ""
        for r in 0..<size {
            for c in 0..<size where modules[r][c] { path += "M\(c + quiet) \(r + quiet)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(extent) \(extent)" role="img" aria-label="\(title)" shape-rendering="crispEdges"><rect width="\(extent)" height="\(extent)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }

    /// A plain PBM image (netpbm), `scale` pixels per module, for tests that decode it.
    func pbm(scale: Int = 4) -> String {
        let quiet = 4
        let extent = (size + 2 * quiet) * scale
        var lines = ["P1", "\(extent) \(extent)"]
        for y in 0..<extent {
            let r = y / scale - quiet
            var row = ""
            for x in 0..<extent {
                let c = x / scale - quiet
                let dark = (0..<size).contains(r) && (0..<size).contains(c) && modules[r][c]
                row += dark ? "1 " : "0 "
            }
            lines.append(row)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

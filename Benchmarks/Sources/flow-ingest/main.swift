// The collector's work on one core, without sockets: `flow-ingest CAPTURE [RUNS] [BLOCK]` reads
// datagrams recorded by scripts/capture-flows.py (4-byte big-endian length, then the bytes),
// decodes them into a batch as the collector's decoding stage does, and encodes a block every
// BLOCK flows (default 900,000: one durability interval at 900,000 flows/s) as its writing stage
// does. Prints, per run and as medians, nanoseconds per flow for decoding and for encoding, and
// the encoded bytes per flow, and a digest of the blocks' bytes (FNV-1a over every block of the
// last run): a change to the encoder that should keep the format must keep the digest. Instruction counts (valgrind --tool=callgrind) of this program are
// repeatable on a noisy machine; its times are not, so compare medians in one session.
import Foundation
import QilaFlows

let arguments = CommandLine.arguments
guard arguments.count >= 2, let capture = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: flow-ingest CAPTURE [RUNS] [BLOCK]\n".utf8))
    exit(2)
}
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let blockRows = arguments.count > 3 ? Int(arguments[3]) ?? 900_000 : 900_000
let datagrams: [Range<Int>] = capture.withUnsafeBytes { raw in
    var datagrams: [Range<Int>] = []
    var at = 0
    while at + 4 <= raw.count {
        let length = Int(raw[at]) << 24 | Int(raw[at + 1]) << 16 | Int(raw[at + 2]) << 8 | Int(raw[at + 3])
        guard at + 4 + length <= raw.count else { break }
        datagrams.append(at + 4..<at + 4 + length)
        at += 4 + length
    }
    return datagrams
}
let exporter = FlowAddress(ipv4: 0x7F00_0001)
FlowBlock.reuseEncoderMemory()  // as the collector does
// In a function, not at top level: globals of a main file are checked for exclusive access at
// every use, which the collector's locals are not.
func measure() -> (decode: [Double], encode: [Double], flows: Int, bytes: Int, digest: UInt64) {
    var digest: UInt64 = 0
    var decodeRuns: [Double] = []
    var encodeRuns: [Double] = []
    var flows = 0
    var bytes = 0
    func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    // One batch for all runs, emptied between blocks, as the collector's decoder reuses its
    // batches: the first run also pays for touching the batch's memory, later runs do not.
    var batch = FlowBatch()
    for run in 0..<runs {
        var decoder = FlowDecoder()
        var decodeTime: UInt64 = 0
        var encodeTime: UInt64 = 0
        flows = 0
        bytes = 0
        digest = 0xCBF2_9CE4_8422_2325
        capture.withUnsafeBytes { raw in
            var index = 0
            while index < datagrams.count {
                let started = nanoseconds()
                while index < datagrams.count && batch.count < blockRows {
                    let range = datagrams[index]
                    decoder.decode(UnsafeRawBufferPointer(rebasing: raw[range]), from: exporter, received: 1_790_000_000_000, into: &batch)
                    index += 1
                }
                let decoded = nanoseconds()
                let block = FlowBlock.encode(batch)
                encodeTime += nanoseconds() - decoded
                decodeTime += decoded - started
                flows += batch.count
                bytes += block.bytes.count
                for byte in block.bytes { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01B3 }
                batch.removeAll(keepingCapacity: true)
            }
        }
        decodeRuns.append(Double(decodeTime) / Double(max(flows, 1)))
        encodeRuns.append(Double(encodeTime) / Double(max(flows, 1)))
        print(String(format: "run %d: %d flows, decode %.1f ns/flow, encode %.1f ns/flow", run + 1, flows, decodeRuns.last!, encodeRuns.last!))
    }
    return (decodeRuns, encodeRuns, flows, bytes, digest)
}
let (decodeRuns, encodeRuns, flows, bytes, digest) = measure()
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
print(String(format: "flows %d datagrams %d runs %d decode_ns_per_flow %.1f encode_ns_per_flow %.1f bytes_per_flow %.2f digest %016llx",
             flows, datagrams.count, runs, median(decodeRuns), median(encodeRuns), Double(bytes) / Double(max(flows, 1)), digest))

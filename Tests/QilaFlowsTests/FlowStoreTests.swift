import Crypto
import Foundation
import Testing

@testable import QilaFlows

@Suite("Flow store")
struct FlowStoreTests {
    static func temporaryRoot() -> String {
        let path = NSTemporaryDirectory() + "qila-flows-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func batch(_ flows: ArraySlice<(FlowRecord, FlowDecoder.Domain)>) -> FlowBatch {
        var batch = FlowBatch()
        for (record, exporter) in flows { batch.append(record, from: exporter) }
        return batch
    }

    let key = Curve25519.Signing.PrivateKey()

    @Test("Queries across sealed and open segments return exactly the address's flows; verify holds")
    func queryAndVerify() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        let flows = sampleFlows(30_000, seed: 4)
        let hour: Int64 = 3_600_000
        let base: Int64 = 1_790_000_000_000 / hour * hour
        // Three partitions for isp-a (two sealed when the next begins), one for isp-b.
        for (index, chunk) in stride(from: 0, to: 24_000, by: 4_000).enumerated() {
            try store.append(Self.batch(flows[chunk..<(chunk + 4_000)]), organisation: "isp-a", received: base + Int64(index / 2) * hour + 1000)
        }
        try store.append(Self.batch(flows[24_000...]), organisation: "isp-b", received: base)
        #expect(store.chainEntries.count == 2)
        for probe in [flows[5].0.destination, flows[25_000].0.source, flows[7].0.source] {
            let found = try store.flows(of: probe, window: Int64.min..<Int64.max).map { "\($0.record)" }.sorted()
            let wanted = flows.filter { $0.0.source == probe || $0.0.destination == probe || $0.0.translatedSource == probe }.map { "\($0.0)" }.sorted()
            #expect(found == wanted)
            let onlyB = try store.flows(of: probe, window: Int64.min..<Int64.max, organisations: ["isp-b"])
            #expect(onlyB.count == flows[24_000...].filter { $0.0.source == probe || $0.0.destination == probe || $0.0.translatedSource == probe }.count)
        }
        var report = store.verify()
        #expect(report.isValid, "\(report)")
        try store.seal()
        report = store.verify()
        #expect(report.isValid && report.segmentsChecked == 4 && report.flowsChecked == 30_000, "\(report)")
        let summary = try store.summary()
        #expect(summary.map(\.flows) == [24_000, 6_000])
    }

    @Test("An altered sealed segment, a removed one and an altered chain line are each reported")
    func tampering() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        let flows = sampleFlows(6_000, seed: 5)
        for (index, chunk) in stride(from: 0, to: 6_000, by: 2_000).enumerated() {
            try store.append(Self.batch(flows[chunk..<(chunk + 2_000)]), organisation: "isp", received: Int64(index) * 3_600_000)
        }
        try store.seal()
        #expect(store.verify().isValid)
        let names = store.segmentNames("isp")
        // One byte changed inside the first segment's first block.
        let first = "\(root)/isp/\(names[0])"
        chmod(first, 0o640)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: first))
        bytes[200] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: first))
        // The second segment removed.
        unlink("\(root)/isp/\(names[1])")
        var report = store.verify()
        #expect(report.problems.contains { $0.contains(names[0]) && $0.contains("differ") })
        #expect(report.problems.contains { $0.contains(names[1]) && $0.contains("missing") })
        // A chain line rewritten (its row count) no longer matches its head.
        let chainPath = root + "/chain.jsonl"
        let text = try String(contentsOfFile: chainPath, encoding: .utf8).replacingOccurrences(of: "\"rows\":2000", with: "\"rows\":1999")
        try text.write(toFile: chainPath, atomically: true, encoding: .utf8)
        let reopened = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        report = reopened.verify()
        #expect(report.problems.contains { $0.hasPrefix("chain: line 1: head does not match") }, "\(report)")
    }

    @Test("A crash leaves a torn block: reopening keeps every complete block and cuts the rest")
    func recovery() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let flows = sampleFlows(9_000, seed: 6)
        var store: FlowStore? = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        try store!.append(Self.batch(flows[0..<4_000]), organisation: "isp", received: 1000)
        try store!.append(Self.batch(flows[4_000..<8_000]), organisation: "isp", received: 2000)
        store = nil
        let path = "\(root)/isp/" + FlowStore.segmentName(partition: 0, existing: []) + ".open"
        // What a torn write leaves: part of a third block's record.
        let partial = FlowSegment.record(.block, FlowBlock.encode(Self.batch(flows[8_000...])).bytes).prefix(5_000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(partial))
        try handle.close()
        let reopened = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        #expect(reopened.recoveries.count == 1 && reopened.recoveries[0].discardedBytes == 5_000 && reopened.recoveries[0].blocks == 2)
        try reopened.append(Self.batch(flows[8_000...]), organisation: "isp", received: 3000)
        try reopened.seal()
        let report = reopened.verify()
        #expect(report.isValid && report.flowsChecked == 9_000, "\(report)")
    }

    @Test("Expiry deletes segments past the retention period and chains each deletion")
    func expiry() throws {
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try FlowStore(FlowStore.Configuration(root: root, signingKey: key))
        let flows = sampleFlows(3_000, seed: 7)
        let day: Int64 = 86_400_000
        let now: Int64 = 1_800_000_000_000
        // Flow times are about 1_790_000_000_000 (≈ 116 days before `now`).
        try store.append(Self.batch(flows[0..<1_000]), organisation: "old", received: now - 200 * day)
        try store.append(Self.batch(flows[1_000..<2_000]), organisation: "new", received: now - 200 * day)
        try store.append(Self.batch(flows[2_000...]), organisation: "new", received: now - day)
        try store.seal()
        let deleted = try store.expire(now: now) { $0 == "old" ? 30 : 365 }
        #expect(deleted.map(\.organisation) == ["old"] && deleted[0].reason == "retention: 30 days")
        #expect(try store.summary().map(\.flows) == [2_000, 0])
        #expect(store.verify().isValid)
    }
}

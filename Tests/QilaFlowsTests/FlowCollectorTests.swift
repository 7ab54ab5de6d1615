import Crypto
import Foundation
import QilaTestSupport
import Testing

@testable import QilaFlows

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Flow collector over UDP")
struct FlowCollectorTests {
    /// Sends `datagrams` from `source` (a loopback address) to 127.0.0.1:`port`.
    static func send(_ datagrams: [[UInt8]], from source: String, to port: UInt16, pause: UInt32 = 200) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &target.sin_addr)
        for datagram in datagrams {
            _ = datagram.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            if pause > 0 { usleep(pause) }
        }
    }

    @Test("Registered exporters' flows are stored and found; unknown exporters and broken datagrams are counted")
    func collect() throws {
        let root = FlowStoreTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try FlowStore(FlowStore.Configuration(root: root, signingKey: Curve25519.Signing.PrivateKey()))
        let collector = FlowCollector(
            store: store, exporters: [FlowCollector.Exporter(address: FlowAddress(ipv4: 0x7F00_0001), organisation: "isp-a")],
            durabilityInterval: 0.2)
        let port = try collector.listen(host: "127.0.0.1", port: 0)
        let flows = sampleFlows(500, seed: 11, ipv6: false, translation: false).map(\.0)
        let fields = Wire.fields(v6: false, ipfix: true)
        var datagrams = [Wire.ipfix(domain: 3, sequence: 0, seconds: 1_790_000_000, [Wire.set(2, Wire.template(256, fields))])]
        for (index, chunk) in stride(from: 0, to: flows.count, by: 20).enumerated() {
            let body = flows[chunk..<min(chunk + 20, flows.count)].flatMap { Wire.record($0, ipfix: true, base: 0) }
            datagrams.append(Wire.ipfix(domain: 3, sequence: UInt32(index * 20), seconds: 1_790_000_000, [Wire.set(256, body)]))
        }
        datagrams.append([0, 10, 0, 200, 1, 2])  // a truncated IPFIX header
        Self.send(datagrams, from: "127.0.0.1", to: port)
        Self.send(Array(datagrams.prefix(5)), from: "127.0.0.2", to: port)  // not registered
        // Wait for the writer to store the flows (at most a few durability intervals).
        let deadline = ContinuousClock.now + .seconds(10)
        while collector.currentHealth.storedFlows < flows.count && ContinuousClock.now < deadline { usleep(50_000) }
        collector.stop()
        let health = collector.currentHealth
        #expect(health.storedFlows == flows.count)
        #expect(health.unknownExporters[FlowAddress(ipv4: 0x7F00_0002)] == 5)
        let counters = health.exporters[FlowDecoder.Domain(exporter: FlowAddress(ipv4: 0x7F00_0001), domain: 3)]
        #expect(counters?.records == flows.count && counters?.lost == 0)
        #expect(health.exporters.values.contains { $0.faults[.truncated] == 1 })
        let probe = flows[17].source
        let found = try store.flows(of: probe, window: Int64.min..<Int64.max)
        #expect(found.map { "\($0.record)" }.sorted() == flows.filter { $0.source == probe || $0.destination == probe }.map { "\($0)" }.sorted())
        #expect(found.allSatisfy { $0.organisation == "isp-a" && $0.exporter.domain == 3 })
    }
}

@Suite("Flow collector: nothing lost without being counted")
struct FlowCollectorAccountingTests {
    static func store() throws -> (FlowStore, String) {
        let root = FlowStoreTests.temporaryRoot()
        return (try FlowStore(FlowStore.Configuration(root: root, signingKey: Curve25519.Signing.PrivateKey())), root)
    }

    @Test("The socket gets the receive queue asked for, or the collector says it did not")
    func receiveQueue() throws {
        let (store, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let collector = FlowCollector(store: store, exporters: [], durabilityInterval: 0.1)
        defer { collector.stop() }
        // Larger than Debian's net.core.rmem_max (4 MiB), which caps a queue not forced.
        let port = try collector.listen(host: "127.0.0.1", port: 0, receiveBuffer: 48 << 20)
        let health = collector.currentHealth
        let queue = try #require(health.receiveQueues[port])
        #expect(queue.asked == 48 << 20 && queue.granted > 0)
        if geteuid() == 0 {
            // Root may force the size past the cap.
            #expect(queue.granted == 48 << 20)
            #expect(health.queueWarnings.isEmpty)
        } else if queue.granted < queue.asked {
            #expect(health.queueWarnings.count == 1 && health.queueWarnings[0].contains("UDP \(port):") && health.queueWarnings[0].contains("net.core.rmem_max"))
        }
    }

    @Test("With the decoder held, datagrams beyond the hand-off's slabs are counted as overflow; the rest are decoded")
    func handoffOverflow() throws {
        let (store, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Four slabs of at most 1,024 datagrams: the smallest hand-off.
        let collector = FlowCollector(store: store, exporters: [], durabilityInterval: 0.1, handoffBytes: 0)
        let port = try collector.listen(host: "127.0.0.1", port: 0, receiveBuffer: 32 << 20)
        collector.holdDecoder(true)
        let datagrams = Array(repeating: [UInt8](repeating: 0, count: 40), count: 6_000)
        FlowCollectorTests.send(datagrams, from: "127.0.0.1", to: port, pause: 10)
        // Every datagram sent is received or dropped by the kernel (none should be, with a 32 MiB
        // queue, unless the machine withholds the size).
        #expect(waitUntil { let h = collector.currentHealth; return h.receivedDatagrams + (h.kernelDrops[port] ?? 0) == 6_000 })
        let received = collector.currentHealth.receivedDatagrams
        let overflow = collector.currentHealth.handoffOverflow
        // Four slabs of 1,024 hold at most 4,096 datagrams while the decoder is held.
        #expect(overflow >= received - 4 * 1_024 && overflow > 0)
        collector.holdDecoder(false)
        // Decoded ones are from an unregistered sender: counted there at the next flush.
        #expect(waitUntil { (collector.currentHealth.unknownExporters[FlowAddress(ipv4: 0x7F00_0001)] ?? 0) + overflow == received })
        collector.stop()
        #expect(collector.currentHealth.droppedDatagrams == overflow + (collector.currentHealth.kernelDrops[port] ?? 0))
    }

    @Test("Stopping stores every flow received before it, and ends without waiting for a timeout")
    func stopStoresEverything() throws {
        let (store, root) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // A long durability interval: only the stop can make these flows durable in time.
        let collector = FlowCollector(
            store: store, exporters: [FlowCollector.Exporter(address: FlowAddress(ipv4: 0x7F00_0001), organisation: "isp-a")], durabilityInterval: 60)
        let port = try collector.listen(host: "127.0.0.1", port: 0)
        let flows = sampleFlows(2_000, seed: 5, ipv6: false, translation: false).map(\.0)
        var datagrams = [Wire.ipfix(domain: 1, sequence: 0, seconds: 1_790_000_000, [Wire.set(2, Wire.template(256, Wire.fields(v6: false, ipfix: true)))])]
        for (index, chunk) in stride(from: 0, to: flows.count, by: 25).enumerated() {
            let body = flows[chunk..<min(chunk + 25, flows.count)].flatMap { Wire.record($0, ipfix: true, base: 0) }
            datagrams.append(Wire.ipfix(domain: 1, sequence: UInt32(index * 25), seconds: 1_790_000_000, [Wire.set(256, body)]))
        }
        FlowCollectorTests.send(datagrams, from: "127.0.0.1", to: port, pause: 0)
        #expect(waitUntil { collector.currentHealth.receivedDatagrams == datagrams.count })
        let started = ContinuousClock.now
        collector.stop()
        #expect(ContinuousClock.now - started < .seconds(30))
        let health = collector.currentHealth
        #expect(health.storedFlows == flows.count && health.droppedDatagrams == 0, "\(health)")
        #expect(collector.boundPorts == [port])
        #expect(try store.flows(of: flows[3].source, window: Int64.min..<Int64.max).count == flows.filter { $0.source == flows[3].source || $0.destination == flows[3].source }.count)
    }
}

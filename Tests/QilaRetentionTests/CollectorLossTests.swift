import Foundation
import MetricsTestKit
import QilaCore
@testable import QilaFlows
import QilaTestSupport
import Testing

@testable import QilaRetention

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Traffic-data loss alarm")
struct CollectorLossTests {
    /// Sends `count` datagrams of `size` bytes from 127.0.0.1 to 127.0.0.1:`port`.
    static func send(_ count: Int, size: Int = 1_000, to port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &target.sin_addr)
        let datagram = [UInt8](repeating: 0x5A, count: size)
        for _ in 0..<count {
            _ = datagram.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
    }

    @Test("An overloaded collector socket raises the alarm on the page's source, in the metrics and in the audit log, with the interval and the count")
    func overload() async throws {
        let world = try await TenantWorld.make(on: .sqlite)
        let metrics = TestMetrics()
        var settings = RetentionRuntime.Settings()
        settings.durabilityInterval = 0.1
        let runtime = try RetentionRuntime(installation: world.installation, settings: settings, metrics: metrics)
        let port = try runtime.collector.listen(host: "127.0.0.1", port: 0, receiveBuffer: 64 << 10)
        defer { runtime.stop() }
        let t0 = FixedInstant.thursdayAfternoon.date
        #expect(try await runtime.watchLoss(now: t0) == nil)
        #expect(!runtime.isLosing(now: t0))

        // Hold the receiving thread (probe datagrams bring it round to the hold from the kernel's
        // wait), then send far more than the kernel's 128 KiB queue holds.
        runtime.collector.holdReceivers(true)
        var probes = 0
        #expect(waitUntil {
            if runtime.collector.receiversParked { return true }
            Self.send(1, to: port)
            probes += 1
            return false
        })
        Self.send(2_000, to: port)
        let drops = runtime.collector.currentHealth.kernelDrops[port] ?? 0
        #expect(drops > 1_000)
        #expect(runtime.isLosing(now: t0.addingTimeInterval(1)))  // before anyone looked: the counters grew

        let t1 = t0.addingTimeInterval(2)
        let loss = try #require(try await runtime.watchLoss(now: t1))
        #expect(loss.from == t0 && loss.to == t1)
        #expect(loss.kernelDrops == [port: drops] && loss.handoffOverflow == 0)
        #expect(runtime.isLosing(now: t1))
        #expect(try metrics.expectGauge("qila_flows_loss_alarm").lastValue == 1)
        #expect(try metrics.expectGauge("qila_flows_datagrams_dropped_total", [("cause", "kernel"), ("port", String(port))]).lastValue == Double(drops))
        let entries = try await world.installation.store.auditEntries(from: 0, limit: 1_000, actionPrefix: "flows.collector.loss")
        let entry = try #require(entries.last)
        #expect(entries.count == 1 && entry.outcome == .failure && entry.actor == "system")
        #expect(entry.details["from"] == RFC3339.format(t0) && entry.details["to"] == RFC3339.format(t1))
        #expect(entry.details["datagrams"] == String(drops))
        #expect(entry.details["kernelDrops"] == "udp/\(port): \(drops)")

        // Released, the collector takes what the queue held; every datagram sent is either
        // received or counted as dropped.
        runtime.collector.holdReceivers(false)
        #expect(waitUntil { let h = runtime.collector.currentHealth; return h.receivedDatagrams + (h.kernelDrops[port] ?? 0) == 2_000 + probes })

        // Nothing more is lost: the next look records nothing, and a minute later the alarm is off.
        let t2 = t1.addingTimeInterval(2)
        #expect(try await runtime.watchLoss(now: t2) == nil)
        let t3 = t1.addingTimeInterval(61)
        #expect(try await runtime.watchLoss(now: t3) == nil)
        #expect(!runtime.isLosing(now: t3))
        #expect(try metrics.expectGauge("qila_flows_loss_alarm").lastValue == 0)
        #expect(try await world.installation.store.auditEntries(from: 0, limit: 1_000, actionPrefix: "flows.collector.loss").count == 1)
    }
}

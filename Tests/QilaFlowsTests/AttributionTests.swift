import Crypto
import Foundation
import QilaTestSupport
import Testing

@testable import QilaFlows

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Subscriber attribution")
struct AttributionTests {
    let secret = Array("radius shared secret".utf8)
    let key = SymmetricKey(size: .bits256)
    let t0: Int64 = 1_790_000_000_000

    func address(_ text: String) -> FlowAddress { FlowAddress(parsing: text)! }

    @Test("RADIUS accounting requests decode, authenticate and are answered; a wrong secret is refused")
    func radiusRoundTrip() throws {
        let packet = RadiusAccounting.request(
            identifier: 7, status: .start, userName: "alice@isp.example", framedAddress: address("100.64.1.2"), sessionID: "S-1",
            eventTimestamp: UInt32(t0 / 1000), secret: secret)
        let request = try RadiusAccounting.decode(packet, secret: secret)
        #expect(request.status == .start && request.userName == "alice@isp.example" && request.framedAddress == address("100.64.1.2"))
        let event = try #require(request.event(received: 0))
        #expect(event.kind == .start && event.time == t0 && event.subscriber == "alice@isp.example" && event.session == "S-1")
        let response = RadiusAccounting.response(to: request, secret: secret)
        #expect(response.count == 20 && response[0] == 5 && response[1] == 7)
        #expect(throws: RadiusAccounting.Failure.badAuthenticator) { try RadiusAccounting.decode(packet, secret: Array("other".utf8)) }
        var v6 = RadiusAccounting.request(identifier: 8, status: .stop, userName: "bob", framedAddress: address("2001:db8::5"), sessionID: "S-2", sessionTime: 60, secret: secret)
        #expect(try RadiusAccounting.decode(v6, secret: secret).framedAddress == address("2001:db8::5"))
        v6[2] = 0x10  // declared length beyond what arrived
        #expect(throws: RadiusAccounting.Failure.badLength(declared: Int(v6[2]) << 8 | Int(v6[3]), received: v6.count)) { try RadiusAccounting.decode(v6, secret: secret) }
    }

    @Test("The RADIUS decoder survives any damage: truncation, flipped bytes, random datagrams")
    func radiusFuzz() {
        var random = SplitMix(state: 11)
        let packet = RadiusAccounting.request(
            identifier: 1, status: .interimUpdate, userName: "carol", framedAddress: address("10.0.0.9"), sessionID: "S-3", secret: secret)
        var outcomes = [0, 0]
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0: bytes = Array(packet.prefix(Int(random.below(UInt64(packet.count + 1)))))
            case 1:
                bytes = packet
                for _ in 0...random.below(4) { bytes[Int(random.below(UInt64(bytes.count)))] = UInt8(truncatingIfNeeded: random.next()) }
            default: bytes = (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            do {
                _ = try RadiusAccounting.decode(bytes, secret: secret)
                outcomes[0] += 1
            } catch {
                #expect(!error.description.isEmpty)
                outcomes[1] += 1
            }
        }
        #expect(outcomes[1] > 15_000, "damaged packets must nearly all be refused: \(outcomes)")
    }

    @Test("NAT port-block logs: CSV and syslog read; bad lines named by number and reason")
    func cgnatParsing() {
        let csv = """
            time,event,address,port_first,port_last,internal_address
            2026-11-23T10:00:00Z,allocate,203.0.113.7,2048,2175,100.64.1.2
            2026-11-23T11:00:00Z,release,203.0.113.7,2048,2175,100.64.1.2
            2026-11-23T12:00:00Z,allocate,203.0.113.999,2048,2175,100.64.1.2
            yesterday,allocate,203.0.113.7,2048,2175,100.64.1.2
            2026-11-23T12:00:00Z,allocate,203.0.113.7,3000,2000,100.64.1.2
            """
        let parsed = CGNATLogParser.parse(csv)
        #expect(parsed.events.count == 2)
        #expect(parsed.events[0].ports == 2048...2175 && parsed.events[0].internalAddress == address("100.64.1.2") && parsed.events[1].kind == .stop)
        #expect(parsed.errors.map(\.line) == [4, 5, 6])
        #expect(parsed.errors[0].message.contains("address '203.0.113.999'"))
        #expect(parsed.errors[1].message.contains("time 'yesterday'"))
        #expect(parsed.errors[2].message.contains("above"))

        let syslog = """
            <134>1 2026-11-23T10:00:00.120Z cgn1 nat - - - JSERVICES_NAT_PORT_BLOCK_ALLOC: 100.64.1.2 -> 203.0.113.7:2048-2175 0x00000000
            <134>Nov 23 11:00:00 cgn1 nat: JSERVICES_NAT_PORT_BLOCK_RELEASE: 100.64.1.2 -> 203.0.113.7:2048-2175 0x00000000
            <134>1 2026-11-23T10:05:00Z cgn2 nat - - - event=allocate internal=100.64.9.9 external=203.0.113.8 ports=1024-1151
            <134>1 2026-11-23T10:06:00Z cgn2 nat - - - session created, nothing about blocks
            <134>1 2026-11-23T10:07:00Z cgn2 nat - - - PORT_BLOCK_ALLOC: 100.64.1.2 -> 203.0.113.7:2048
            1 2026-11-23T10:08:00Z cgn3 nat - - [nat@32473 event="release" internal="100.64.9.9" external="203.0.113.8" ports="1024-1151"]
            """
        let fromSyslog = CGNATLogParser.parse(syslog, now: Date(timeIntervalSince1970: 1_795_500_000))
        #expect(fromSyslog.events.count == 4)
        #expect(fromSyslog.events[1].kind == .stop && fromSyslog.events[2].address == address("203.0.113.8"))
        // Exported without <PRI>, pairs in RFC 5424 structured data.
        #expect(fromSyslog.events[3].kind == .stop && fromSyslog.events[3].ports == 1024...1151)
        #expect(fromSyslog.errors.map(\.line) == [5])
    }

    @Test("Address, port and time resolve to the subscriber through NAT and RADIUS; a subscriber resolves to what they held; nothing in the clear on disk; a restart reads it back")
    func registry() throws {
        let root = FlowStoreTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hour: Int64 = 3_600_000
        let registry = SubscriberRegistry(root: root, key: key)
        try registry.record(
            [
                AssignmentEvent(kind: .start, source: .radius, time: t0, address: address("100.64.1.2"), subscriber: "alice@isp.example", session: "sess-alpha-1"),
                AssignmentEvent(kind: .start, source: .cgnat, time: t0 + 60_000, address: address("203.0.113.7"), ports: 2048...2175, internalAddress: address("100.64.1.2")),
                AssignmentEvent(kind: .start, source: .cgnat, time: t0 + 60_000, address: address("203.0.113.7"), ports: 2176...2303, internalAddress: address("100.64.1.3")),
                AssignmentEvent(kind: .start, source: .radius, time: t0, address: address("100.64.1.3"), subscriber: "bob@isp.example", session: "B1"),
                AssignmentEvent(kind: .stop, source: .radius, time: t0 + 2 * hour, address: address("100.64.1.2"), subscriber: "alice@isp.example", session: "sess-alpha-1"),
                // Later the same inside address goes to someone else.
                AssignmentEvent(kind: .start, source: .radius, time: t0 + 3 * hour, address: address("100.64.1.2"), subscriber: "carol@isp.example", session: "C1"),
                // A stop whose start was lost still counts, from its session time.
                AssignmentEvent(kind: .stop, source: .radius, time: t0 + 5 * hour, address: address("100.64.7.7"), subscriber: "dave@isp.example", session: "D1", duration: hour),
            ], organisation: "isp")
        func who(_ text: String, _ port: UInt16?, _ at: Int64, _ registry: SubscriberRegistry) -> [String] {
            registry.attribute(address(text), port: port, at: at, organisation: "isp").map(\.subscriber).sorted()
        }
        for current in [registry, SubscriberRegistry(root: root, key: key)] {
            #expect(who("203.0.113.7", 2100, t0 + hour, current) == ["alice@isp.example"])
            #expect(who("203.0.113.7", 2200, t0 + hour, current) == ["bob@isp.example"])
            #expect(who("203.0.113.7", 3000, t0 + hour, current) == [])
            #expect(who("100.64.1.2", nil, t0 + 4 * hour, current) == ["carol@isp.example"])
            #expect(who("100.64.1.2", nil, t0 + hour, current) == ["alice@isp.example"])
            #expect(who("100.64.7.7", nil, t0 + 4 * hour + 1, current) == ["dave@isp.example"])
            #expect(who("100.64.7.7", nil, t0 + 3 * hour, current) == [])
            let held = current.bindings(of: "alice@isp.example", window: t0..<(t0 + 10 * hour), organisation: "isp")
            #expect(held.map(\.address.description) == ["100.64.1.2", "203.0.113.7"])
            #expect(held[1].ports == 2048...2175 && held[1].end == t0 + 2 * hour)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/isp")
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOfFile: root + "/isp/" + file, encoding: .utf8)
            #expect(!text.contains("alice") && !text.contains("isp.example") && !text.contains("sess-alpha"))
        }
        let other = SubscriberRegistry(root: root, key: SymmetricKey(size: .bits256))
        #expect(who("100.64.1.2", nil, t0 + hour, other) == [], "another key reads no names")
    }

    @Test("The RADIUS listener answers only after recording, over real UDP; unknown clients and wrong secrets are counted")
    func radiusListener() throws {
        let root = FlowStoreTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = SubscriberRegistry(root: root, key: key)
        let listener = RadiusListener(registry: registry, clients: [.init(address: address("127.0.0.1"), secret: secret, organisation: "isp")])
        let port = try listener.listen(host: "127.0.0.1", port: 0)
        defer { listener.stop() }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = inet_addr("127.0.0.1")
        func exchange(_ packet: [UInt8]) -> [UInt8]? {
            _ = packet.withUnsafeBytes { bytes in
                withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            var answer = [UInt8](repeating: 0, count: 64)
            let n = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 64, 0) }
            return n > 0 ? Array(answer[0..<n]) : nil
        }
        let start = RadiusAccounting.request(
            identifier: 3, status: .start, userName: "erin@isp.example", framedAddress: address("100.64.3.3"), sessionID: "E1",
            eventTimestamp: UInt32(t0 / 1000), secret: secret)
        let answer = try #require(exchange(start))
        #expect(answer[0] == RadiusAccounting.accountingResponse && answer[1] == 3)
        #expect(registry.attribute(address("100.64.3.3"), port: nil, at: t0 + 1, organisation: "isp").map(\.subscriber) == ["erin@isp.example"])
        let forged = RadiusAccounting.request(identifier: 4, status: .start, userName: "mallory", framedAddress: address("100.64.3.4"), sessionID: "M1", secret: Array("guess".utf8))
        #expect(exchange(forged) == nil)
        let counters = listener.currentCounters.clients[address("127.0.0.1")]
        #expect(counters?.recorded == 1 && counters?.badAuthenticator == 1)
    }
}

/// An IPv4 or IPv6 address as 128 bits; IPv4 is held as the IPv4-mapped IPv6 address
/// (`::ffff:a.b.c.d`), so one comparison serves both families.
public struct FlowAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(ipv4: UInt32) {
        high = 0
        low = 0xFFFF_0000_0000 | UInt64(ipv4)
    }

    public static let zero = FlowAddress(high: 0, low: 0)

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }
    public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    public static func < (lhs: FlowAddress, rhs: FlowAddress) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// `10.1.2.3` or `2001:db8::1` (RFC 5952: lowercase, the longest run of zero groups as `::`).
    public var description: String {
        if let v4 = ipv4 {
            return [24, 16, 8, 0].map { String(v4 >> UInt32($0) & 0xFF) }.joined(separator: ".")
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> UInt64(48 - (index % 4) * 16))
        }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        if best.length < 2 { return groups.map { String($0, radix: 16) }.joined(separator: ":") }
        let head = groups[..<best.start].map { String($0, radix: 16) }.joined(separator: ":")
        let tail = groups[(best.start + best.length)...].map { String($0, radix: 16) }.joined(separator: ":")
        return head + "::" + tail
    }
}

/// One flow as exporters report it: who talked to whom, when, how much; never content.
public struct FlowRecord: Sendable, Hashable {
    /// Milliseconds since 1970 (UTC).
    public var start: Int64 = 0
    public var end: Int64 = 0
    public var source = FlowAddress.zero
    public var destination = FlowAddress.zero
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var protocolNumber: UInt8 = 0
    public var tcpFlags: UInt8 = 0
    public var typeOfService: UInt8 = 0
    public var ingressInterface: UInt32 = 0
    public var egressInterface: UInt32 = 0
    public var packets: UInt64 = 0
    public var octets: UInt64 = 0
    /// After carrier-grade NAT (IPFIX 225/227, NetFlow v9 NF_F_XLATE): the public address and port
    /// the subscriber's flow left with, when the exporter reports them.
    public var translatedSource: FlowAddress?
    public var translatedSourcePort: UInt16?

    public init() {}
}

#if canImport(Glibc)
    import Glibc
#endif

extension FlowAddress {
    /// Reads `10.1.2.3` or `2001:db8::1`; nil for anything else.
    public init?(parsing text: String) {
        if !text.contains(":") {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: address.s_addr))
            return
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        self.init(
            high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
            low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }
}

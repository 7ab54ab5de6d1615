import Crypto
import Foundation

/// RADIUS accounting (RFC 2866): the Accounting-Request packets a network access server sends
/// when a subscriber's session starts, is updated and stops, and the Accounting-Response that
/// acknowledges one. Decoding is pure: it takes the datagram and the client's shared secret.
public enum RadiusAccounting {
    public static let accountingRequest: UInt8 = 4
    public static let accountingResponse: UInt8 = 5

    public enum Status: UInt32, Sendable {
        case start = 1, stop = 2, interimUpdate = 3, accountingOn = 7, accountingOff = 8
    }

    /// What Qila reads of an Accounting-Request.
    public struct Request: Sendable, Hashable {
        public var identifier: UInt8
        public var authenticator: [UInt8]
        public var status: Status?
        public var userName: String?
        public var callingStationID: String?
        public var framedAddress: FlowAddress?
        public var sessionID: String?
        /// Acct-Session-Time, seconds.
        public var sessionTime: UInt32?
        /// Event-Timestamp, seconds since 1970.
        public var eventTimestamp: UInt32?

        /// The assignment this request reports, or nil when it reports none (accounting on/off,
        /// or a session without an address).
        public func event(received: Int64) -> AssignmentEvent? {
            guard let status, let framedAddress else { return nil }
            let kind: AssignmentEvent.Kind
            switch status {
            case .start, .interimUpdate: kind = .start
            case .stop: kind = .stop
            case .accountingOn, .accountingOff: return nil
            }
            let subscriber = [userName, callingStationID].compactMap { $0 }.first { AssignmentEvent.validSubscriber($0) }
            return AssignmentEvent(
                kind: kind, source: .radius, time: eventTimestamp.map { Int64($0) * 1000 } ?? received, address: framedAddress,
                subscriber: subscriber, session: sessionID, duration: sessionTime.map { Int64($0) * 1000 })
        }
    }

    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case truncated(Int)
        case badLength(declared: Int, received: Int)
        case notAccountingRequest(code: UInt8)
        case badAttribute(type: UInt8, offset: Int, reason: String)
        case badAuthenticator

        public var description: String {
            switch self {
            case .truncated(let count): "\(count) bytes is shorter than a RADIUS header (20)"
            case .badLength(let declared, let received): "the length field says \(declared) bytes; \(received) arrived (20 to 4096 allowed)"
            case .notAccountingRequest(let code): "code \(code) is not an Accounting-Request (4)"
            case .badAttribute(let type, let offset, let reason): "attribute \(type) at byte \(offset): \(reason)"
            case .badAuthenticator: "the Request Authenticator does not match the shared secret"
            }
        }
    }

    /// Decodes an Accounting-Request and checks its authenticator against `secret`.
    public static func decode(_ bytes: [UInt8], secret: [UInt8]) throws(Failure) -> Request {
        guard bytes.count >= 20 else { throw .truncated(bytes.count) }
        guard bytes[0] == accountingRequest else { throw .notAccountingRequest(code: bytes[0]) }
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        // RFC 2865 section 3: octets beyond the length are padding; fewer than the length is an error.
        guard (20...4096).contains(length), length <= bytes.count else { throw .badLength(declared: length, received: bytes.count) }
        let packet = Array(bytes[0..<length])
        var request = Request(identifier: packet[1], authenticator: Array(packet[4..<20]))
        var offset = 20
        while offset < length {
            guard offset + 2 <= length else { throw .badAttribute(type: packet[offset], offset: offset, reason: "no length octet") }
            let type = packet[offset]
            let size = Int(packet[offset + 1])
            guard size >= 2, offset + size <= length else {
                throw .badAttribute(type: type, offset: offset, reason: "length \(size) runs past the packet or is below 2")
            }
            let value = Array(packet[(offset + 2)..<(offset + size)])
            switch type {
            case 1: request.userName = try text(value, type: type, offset: offset)
            case 31: request.callingStationID = try text(value, type: type, offset: offset)
            case 44: request.sessionID = try text(value, type: type, offset: offset)
            case 8:
                let number = try integer(value, type: type, offset: offset)
                // 255.255.255.254 asks the server to assign; 255.255.255.255 lets the user choose: neither is an address.
                if number < 0xFFFF_FFFE { request.framedAddress = FlowAddress(ipv4: number) }
            case 168:
                guard value.count == 16 else { throw .badAttribute(type: type, offset: offset, reason: "an IPv6 address is 16 octets, not \(value.count)") }
                request.framedAddress = FlowAddress(
                    high: value[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: value[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
            case 40:
                let number = try integer(value, type: type, offset: offset)
                guard let status = Status(rawValue: number) else {
                    throw .badAttribute(type: type, offset: offset, reason: "Acct-Status-Type \(number) is not start, stop, interim, on or off")
                }
                request.status = status
            case 46: request.sessionTime = try integer(value, type: type, offset: offset)
            case 55: request.eventTimestamp = try integer(value, type: type, offset: offset)
            default: break
            }
            offset += size
        }
        var check = Array(packet[0..<4])
        check.append(contentsOf: [UInt8](repeating: 0, count: 16))
        check.append(contentsOf: packet[20...])
        check.append(contentsOf: secret)
        guard constantTimeEqual(Array(Insecure.MD5.hash(data: check)), request.authenticator) else { throw .badAuthenticator }
        return request
    }

    /// The Accounting-Response to `request`, with its Response Authenticator.
    public static func response(to request: Request, secret: [UInt8]) -> [UInt8] {
        var packet: [UInt8] = [accountingResponse, request.identifier, 0, 20]
        var hashed = packet
        hashed.append(contentsOf: request.authenticator)
        hashed.append(contentsOf: secret)
        packet.append(contentsOf: Insecure.MD5.hash(data: hashed))
        return packet
    }

    /// Builds an Accounting-Request, as a network access server would (for tests and tools).
    public static func request(
        identifier: UInt8, status: Status, userName: String?, framedAddress: FlowAddress?, sessionID: String?,
        sessionTime: UInt32? = nil, eventTimestamp: UInt32? = nil, secret: [UInt8]
    ) -> [UInt8] {
        var attributes: [UInt8] = []
        func add(_ type: UInt8, _ value: [UInt8]) { attributes += [type, UInt8(value.count + 2)] + value }
        func number(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        add(40, number(status.rawValue))
        if let userName { add(1, Array(userName.utf8)) }
        if let address = framedAddress {
            if let v4 = address.ipv4 { add(8, number(v4)) } else {
                add(168, (0..<8).map { UInt8(truncatingIfNeeded: address.high >> UInt64(56 - $0 * 8)) } + (0..<8).map { UInt8(truncatingIfNeeded: address.low >> UInt64(56 - $0 * 8)) })
            }
        }
        if let sessionID { add(44, Array(sessionID.utf8)) }
        if let sessionTime { add(46, number(sessionTime)) }
        if let eventTimestamp { add(55, number(eventTimestamp)) }
        let length = 20 + attributes.count
        var packet: [UInt8] = [accountingRequest, identifier, UInt8(length >> 8), UInt8(length & 0xFF)]
        let hashed = packet + [UInt8](repeating: 0, count: 16) + attributes + secret
        packet += Insecure.MD5.hash(data: hashed)
        packet += attributes
        return packet
    }

    static func text(_ value: [UInt8], type: UInt8, offset: Int) throws(Failure) -> String {
        guard !value.isEmpty, let text = String(validating: value, as: UTF8.self) else {
            throw .badAttribute(type: type, offset: offset, reason: "empty or not UTF-8 text")
        }
        return text
    }

    static func integer(_ value: [UInt8], type: UInt8, offset: Int) throws(Failure) -> UInt32 {
        guard value.count == 4 else { throw .badAttribute(type: type, offset: offset, reason: "an integer is 4 octets, not \(value.count)") }
        return value.reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

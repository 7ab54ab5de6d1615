import Foundation
public import QilaCore
public import QilaStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The registered sensors as intake looks them up (by source address, by account), with their
/// rate limits and the refusals counted before anything reaches the journal.
public final class SensorDirectory: Sendable {
    public enum Admission: Sendable, Equatable {
        case accept
        /// Refused, with the reason counted (`rate-limited`, `over-quota`).
        case refuse(String)
    }

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    struct State {
        var sensors: [Sensor.ID: Sensor] = [:]
        var byAccount: [UserID: [Sensor]] = [:]
        var networks: [(AddressRange, Sensor)] = []
        var sensorBuckets: [Sensor.ID: Bucket] = [:]
        var organisationBuckets: [OrganisationID: Bucket] = [:]
        var dailyCounts: [OrganisationID: (day: Int64, events: Int64)] = [:]
        /// Refusals at intake per sensor and reason, not yet committed to the sensor's health.
        var refusals: [Sensor.ID: [String: Int64]] = [:]
        var lastErrors: [Sensor.ID: String] = [:]
        /// Messages from addresses or credentials no sensor has, by source.
        var unknown: [String: Int64] = [:]
        var version = 0
    }

    private let state = Mutex(State())
    let settings: IntakeSettings
    /// Refills the rate buckets and tells which UTC day the daily quota counts.
    let clock: WallClock

    public init(settings: IntakeSettings, sensors: [Sensor] = [], clock: WallClock = .system) {
        self.settings = settings
        self.clock = clock
        replace(sensors)
    }

    public func load(from store: SQLStore) async throws {
        replace(try await store.sensors())
    }

    public func replace(_ sensors: [Sensor]) {
        let enabled = sensors.filter(\.enabled)
        var networks: [(AddressRange, Sensor)] = []
        for sensor in enabled where sensor.transport == .syslog {
            for text in sensor.addresses {
                if let range = AddressRange(text) { networks.append((range, sensor)) }
            }
        }
        // The most specific network first.
        networks.sort { $0.0.prefix > $1.0.prefix }
        state.withLock {
            $0.sensors = Dictionary(uniqueKeysWithValues: sensors.map { ($0.id, $0) })
            $0.byAccount = Dictionary(grouping: enabled.filter { $0.account != nil }, by: { $0.account! })
            $0.networks = networks
            $0.version += 1
        }
    }

    public func sensor(_ id: Sensor.ID) -> Sensor? { state.withLock { $0.sensors[id] } }
    /// Changes whenever the sensors are replaced, so that caches by address can be dropped.
    public var version: Int { state.withLock { $0.version } }
    public var all: [Sensor] { state.withLock { Array($0.sensors.values) } }
    public var mappings: Set<String> { state.withLock { Set($0.sensors.values.filter(\.enabled).map(\.mapping)) } }

    /// The enabled plain-syslog sensor sending from `address`.
    public func sensor(address: String) -> Sensor? {
        guard let parsed = AddressRange.parse(address) else { return nil }
        return state.withLock { state in state.networks.first { $0.0.contains(parsed) }?.1 }
    }

    /// The enabled sensor of `transport` whose account is `user`; `name` picks one when the account has several.
    public func sensor(account user: UserID, transport: Sensor.Transport, name: String? = nil) -> Sensor? {
        state.withLock { state in
            let candidates = (state.byAccount[user] ?? []).filter { $0.transport == transport }
            if let name { return candidates.first { $0.name == name || $0.id.description == name } }
            return candidates.count == 1 ? candidates[0] : candidates.min { $0.createdAt < $1.createdAt }
        }
    }

    /// The events per second a sensor and its organisation may send (0: unlimited).
    private func rates(of sensor: Sensor) -> (sensor: Double, organisation: Double) {
        (Double(sensor.rateLimit > 0 ? sensor.rateLimit : settings.sensorRate), Double(settings.organisationRate))
    }

    /// The sensor's and its organisation's buckets, refilled up to `now`.
    private static func buckets(_ state: State, _ sensor: Sensor, rates: (sensor: Double, organisation: Double), now: Double) -> (Bucket, Bucket) {
        func refilled(_ bucket: Bucket?, _ rate: Double) -> Bucket {
            guard let bucket else { return Bucket(tokens: rate, updated: now) }
            return Bucket(tokens: min(rate, bucket.tokens + (now - bucket.updated) * rate), updated: now)
        }
        return (refilled(state.sensorBuckets[sensor.id], rates.sensor), refilled(state.organisationBuckets[sensor.organisation], rates.organisation))
    }

    /// Counts `events` against the organisation's daily quota; false (and counted as refused) when over it.
    private func chargeQuota(_ state: inout State, _ sensor: Sensor, events: Int, now: Double) -> Bool {
        let quota = Int64(settings.organisationDailyQuota)
        guard quota > 0 else { return true }
        let day = Int64(now / 86_400)
        var count = state.dailyCounts[sensor.organisation] ?? (day, 0)
        if count.day != day { count = (day, 0) }
        guard count.events + Int64(events) <= quota else {
            state.dailyCounts[sensor.organisation] = count
            state.refusals[sensor.id, default: [:]]["over-quota", default: 0] += Int64(events)
            state.lastErrors[sensor.id] = "the organisation's daily quota of \(quota) events is used up"
            return false
        }
        count.events += Int64(events)
        state.dailyCounts[sensor.organisation] = count
        return true
    }

    /// For what cannot be slowed down (datagrams, HTTP batches): all `events` within the
    /// sensor's and organisation's rates and the daily quota, or none (refused and counted).
    public func admit(_ sensor: Sensor, events: Int) -> Admission {
        let now = clock.now.timeIntervalSince1970
        let rates = rates(of: sensor)
        return state.withLock { state in
            var (sensorBucket, organisationBucket) = Self.buckets(state, sensor, rates: rates, now: now)
            state.sensorBuckets[sensor.id] = sensorBucket
            state.organisationBuckets[sensor.organisation] = organisationBucket
            if (rates.sensor > 0 && sensorBucket.tokens < Double(events)) || (rates.organisation > 0 && organisationBucket.tokens < Double(events)) {
                state.refusals[sensor.id, default: [:]]["rate-limited", default: 0] += Int64(events)
                state.lastErrors[sensor.id] = "over the rate limit of \(Int(rates.sensor > 0 ? rates.sensor : rates.organisation)) events per second"
                return .refuse("rate-limited")
            }
            guard chargeQuota(&state, sensor, events: events, now: now) else { return .refuse("over-quota") }
            sensorBucket.tokens -= Double(events)
            organisationBucket.tokens -= Double(events)
            state.sensorBuckets[sensor.id] = sensorBucket
            state.organisationBuckets[sensor.organisation] = organisationBucket
            return .accept
        }
    }

    /// For streams that can be slowed down (TCP): how many of `events` may be taken now within
    /// the sensor's and organisation's rates, and, when not all, how long to wait before asking
    /// again. Nothing is refused; the rest waits with the sender. Over the daily quota, all are
    /// refused (and counted) instead: (0, 0).
    public func take(_ sensor: Sensor, upTo events: Int) -> (granted: Int, wait: Double) {
        let now = clock.now.timeIntervalSince1970
        let rates = rates(of: sensor)
        return state.withLock { state in
            var (sensorBucket, organisationBucket) = Self.buckets(state, sensor, rates: rates, now: now)
            var granted = events
            if rates.sensor > 0 { granted = min(granted, max(0, Int(sensorBucket.tokens))) }
            if rates.organisation > 0 { granted = min(granted, max(0, Int(organisationBucket.tokens))) }
            if granted > 0 && !chargeQuota(&state, sensor, events: granted, now: now) { granted = -1 }
            if granted > 0 {
                sensorBucket.tokens -= Double(granted)
                organisationBucket.tokens -= Double(granted)
            }
            state.sensorBuckets[sensor.id] = sensorBucket
            state.organisationBuckets[sensor.organisation] = organisationBucket
            guard granted >= 0 else { return (0, 0) }
            let slowest = [rates.sensor, rates.organisation].filter { $0 > 0 }.min() ?? 1
            return (granted, granted == events ? 0 : max(0.01, min(1, Double(events - granted) / slowest)))
        }
    }

    /// Counts refused messages of a known sensor (malformed framing, oversized, wrong format).
    public func refused(_ sensor: Sensor.ID, _ reason: String, count: Int64 = 1, detail: String? = nil) {
        state.withLock {
            $0.refusals[sensor, default: [:]][reason, default: 0] += count
            if let detail { $0.lastErrors[sensor] = detail }
        }
    }

    /// Counts messages from a source no sensor has (an address, or credentials that fit none).
    public func unknownSource(_ source: String, count: Int64 = 1) {
        state.withLock {
            if $0.unknown.count < 10_000 || $0.unknown[source] != nil { $0.unknown[source, default: 0] += count }
        }
    }

    public var unknownSources: [String: Int64] { state.withLock { $0.unknown } }

    /// The intake refusals since the last call, for the next commit.
    func takeRefusals() -> (counts: [Sensor.ID: [String: Int64]], errors: [Sensor.ID: String]) {
        state.withLock {
            let taken = ($0.refusals, $0.lastErrors)
            $0.refusals = [:]
            $0.lastErrors = [:]
            return taken
        }
    }
}

/// An address or network (`192.0.2.7`, `198.51.100.0/24`, `2001:db8::/32`), IPv4 kept as IPv4-mapped IPv6.
public struct AddressRange: Sendable, Hashable {
    public var address: [UInt8]
    public var prefix: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = Self.parse(String(first)) else { return nil }
        let isV4 = !first.contains(":")
        var prefix = 128
        if parts.count == 2 {
            guard let given = Int(parts[1]), given >= 0, given <= (isV4 ? 32 : 128) else { return nil }
            prefix = isV4 ? given + 96 : given
        }
        self.address = address
        self.prefix = prefix
    }

    /// Sixteen bytes for an IPv4 or IPv6 address (IPv4 mapped; zone and brackets dropped).
    public static func parse(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    public func contains(_ other: [UInt8]) -> Bool {
        guard other.count == 16 else { return false }
        var bits = prefix
        for index in 0..<16 where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(0xFF << (8 - bits))
            if address[index] & mask != other[index] & mask { return false }
            bits -= 8
        }
        return true
    }
}

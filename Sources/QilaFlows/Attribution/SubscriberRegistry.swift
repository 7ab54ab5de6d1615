import QilaCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which subscriber held which address (and, behind carrier-grade NAT, which port block) when:
/// built from RADIUS accounting and NAT port-block logs, kept per organisation in day files of
/// JSON lines (`assignments-YYYYMMDD.jsonl`) beside the flow segments.
///
/// Subscriber identifiers are personal data and never stored in the clear: each is kept sealed
/// with AES-GCM, and looked up through a keyed hash (HMAC-SHA256), both under keys derived from
/// the installation's sealing key. `record` returns only once the events are on disk, so an
/// acknowledged RADIUS packet or an accepted upload is never lost.
public final class SubscriberRegistry: @unchecked Sendable {
    /// One address (or port block) held by one subscriber for a time.
    public struct Binding: Sendable, Hashable {
        public var source: AssignmentEvent.Source
        public var address: FlowAddress
        public var ports: ClosedRange<UInt16>?
        public var internalAddress: FlowAddress?
        /// Milliseconds since 1970; `end` is `Int64.max` while the assignment is open.
        public var start: Int64
        public var end: Int64
        var token: [UInt8]?
        var sealed: [UInt8]?
        var session: String?

        public var window: Range<Int64> { start..<max(end, start + 1) }
    }

    /// Who held an address at a moment, as far as the records tell.
    public struct Attribution: Sendable, Hashable {
        public var subscriber: String
        public var binding: Binding
    }

    public let root: String
    private let sealKey: SymmetricKey
    private let indexKey: SymmetricKey
    private let lock = NSLock()
    private var loaded: Set<String> = []
    private var byAddress: [String: [FlowAddress: [Binding]]] = [:]
    private var open: [String: [String: (FlowAddress, Int)]] = [:]
    private var byToken: [String: [[UInt8]: [(FlowAddress, Int)]]] = [:]
    /// NAT blocks by the internal address they were lent to.
    private var byInternal: [String: [FlowAddress: [(FlowAddress, Int)]]] = [:]
    public private(set) var skippedLines = 0

    /// `key` is the installation's sealing key; the registry derives its own keys from it.
    public init(root: String, key: SymmetricKey) {
        self.root = root
        sealKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("qila-flows/subscriber-seal".utf8), outputByteCount: 32)
        indexKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("qila-flows/subscriber-index".utf8), outputByteCount: 32)
    }

    // MARK: Recording

    /// Makes `events` of `organisation` durable, then adds them to the index.
    public func record(_ events: [AssignmentEvent], organisation: String) throws(FlowSegment.Failure) {
        guard !events.isEmpty else { return }
        precondition(FlowStore.isValidOrganisation(organisation), "organisation names are letters, digits, - and _")
        lock.lock()
        defer { lock.unlock() }
        loadIfNeeded(organisation)
        let directory = "\(root)/\(organisation)"
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .io("cannot create", path: directory, errno: EACCES)
        }
        var files: [String: [UInt8]] = [:]
        var lines: [(String, Line)] = []
        for event in events {
            let line = try makeLine(event)
            let name = Self.fileName(day: event.time)
            guard let json = try? Self.encoder.encode(line) else { throw .damaged("could not encode an assignment", path: directory) }
            files[name, default: []] += Array(json) + [0x0A]
            lines.append((name, line))
        }
        for (name, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let path = "\(directory)/\(name)"
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw .io("cannot open", path: path, errno: errno) }
            defer { close(fd) }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    // Leave no half line behind: the next start would read it as damage.
                    _ = ftruncate(fd, lseek(fd, 0, SEEK_END) - off_t(written))
                    throw code == ENOSPC || code == EDQUOT || code == EFBIG ? .diskFull(path: path) : .io("cannot write", path: path, errno: code)
                }
                written += n
            }
            guard fdatasync(fd) == 0 else { throw .io("cannot make durable", path: path, errno: errno) }
        }
        for (_, line) in lines { apply(line, organisation: organisation) }
    }

    struct Line: Codable {
        var t: Int64
        var e: AssignmentEvent.Kind
        var src: AssignmentEvent.Source
        var a: String
        var p: [UInt16]?
        var i: String?
        var k: String?
        var s: String?
        var x: String?
        var d: Int64?
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private func makeLine(_ event: AssignmentEvent) throws(FlowSegment.Failure) -> Line {
        var line = Line(t: event.time, e: event.kind, src: event.source, a: event.address.description)
        if let ports = event.ports { line.p = [ports.lowerBound, ports.upperBound] }
        line.i = event.internalAddress?.description
        if let subscriber = event.subscriber {
            line.k = Hex.encode(token(subscriber))
            guard let sealed = try? AES.GCM.seal(Array(subscriber.utf8), using: sealKey).combined else {
                throw .damaged("could not seal a subscriber identifier", path: root)
            }
            line.s = sealed.base64EncodedString()
        }
        // Session ids pair starts with stops; they are kept only as keyed hashes.
        line.x = event.session.map { Hex.encode(token("session:" + $0)) }
        line.d = event.duration
        return line
    }

    func token(_ subscriber: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(subscriber.utf8), using: indexKey).prefix(16))
    }

    static func fileName(day time: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(time) / 1000)
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "assignments-%04d%02d%02d.jsonl", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }

    // MARK: Index

    private func loadIfNeeded(_ organisation: String) {
        guard !loaded.contains(organisation) else { return }
        loaded.insert(organisation)
        let directory = "\(root)/\(organisation)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("assignments-") && $0.hasSuffix(".jsonl") }.sorted()
        var lines: [Line] = []
        let decoder = JSONDecoder()
        for name in names {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { continue }
            for text in data.split(separator: 0x0A) where !text.isEmpty {
                if let line = try? decoder.decode(Line.self, from: text) { lines.append(line) } else { skippedLines += 1 }
            }
        }
        // Day files are read in order; within the whole, events apply in time order.
        for line in lines.sorted(by: { $0.t < $1.t }) { apply(line, organisation: organisation) }
    }

    private func apply(_ line: Line, organisation: String) {
        guard let address = FlowAddress(parsing: line.a) else { skippedLines += 1; return }
        let ports = line.p.flatMap { $0.count == 2 && $0[0] <= $0[1] ? $0[0]...$0[1] : nil }
        let key = line.x ?? "\(line.src.rawValue)|\(address)|\(ports.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "*")"
        let token = line.k.flatMap(Hex.decode)
        let sealed = line.s.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        // Taken out while changed, so that the organisation's table is not copied for each event.
        var bindings = byAddress.removeValue(forKey: organisation) ?? [:]
        defer { byAddress[organisation] = bindings }
        let inner = line.i.flatMap(FlowAddress.init(parsing:))
        @discardableResult
        func add(start: Int64, end: Int64) -> (FlowAddress, Int) {
            bindings[address, default: []].append(
                Binding(source: line.src, address: address, ports: ports, internalAddress: inner, start: start, end: end, token: token, sealed: sealed, session: line.x))
            let position = (address, bindings[address]!.count - 1)
            if let token { byToken[organisation, default: [:]][token, default: []].append(position) }
            if let inner { byInternal[organisation, default: [:]][inner, default: []].append(position) }
            return position
        }
        func close(_ at: (FlowAddress, Int), time: Int64) {
            guard let current = bindings[at.0]?[at.1], current.end == .max else { return }
            bindings[at.0]![at.1].end = max(time, current.start)
        }
        switch line.e {
        case .start:
            if let existing = open[organisation]?[key], let current = bindings[existing.0]?[existing.1], current.end == .max {
                // An interim update, or a retransmission, of what is already open.
                if current.address == address && current.token == token { return }
                close(existing, time: line.t)
            }
            // A whole address handed to someone new ends whoever held it before.
            if ports == nil, let held = bindings[address]?.indices.last(where: { bindings[address]![$0].end == .max && bindings[address]![$0].ports == nil && bindings[address]![$0].source == line.src }) {
                close((address, held), time: line.t)
            }
            open[organisation, default: [:]][key] = add(start: line.t, end: .max)
        case .stop:
            if let existing = open[organisation]?.removeValue(forKey: key) {
                close(existing, time: line.t)
            } else {
                // The start was never seen: the stop's session time says when it began.
                add(start: line.t - (line.d ?? 0), end: line.t)
            }
        }
    }

    // MARK: Lookups

    /// Who held `address` (and `port`, behind NAT) at `time`: directly from a RADIUS session, or
    /// through a NAT block to the internal address and then its session.
    public func attribute(_ address: FlowAddress, port: UInt16?, at time: Int64, organisation: String) -> [Attribution] {
        lock.lock()
        defer { lock.unlock() }
        loadIfNeeded(organisation)
        return attributeLocked(address, port: port, at: time, organisation: organisation, depth: 0)
    }

    private func attributeLocked(_ address: FlowAddress, port: UInt16?, at time: Int64, organisation: String, depth: Int) -> [Attribution] {
        var found: [Attribution] = []
        for binding in byAddress[organisation]?[address] ?? [] where binding.start <= time && time < max(binding.end, binding.start + 1) {
            if let ports = binding.ports, let port, !ports.contains(port) { continue }
            if let sealed = binding.sealed, let subscriber = open(sealed) {
                found.append(Attribution(subscriber: subscriber, binding: binding))
            } else if let inner = binding.internalAddress, depth == 0 {
                found += attributeLocked(inner, port: nil, at: time, organisation: organisation, depth: 1)
            }
        }
        return found
    }

    /// Every address (and port block) `subscriber` held during `window`: its sessions, and the NAT
    /// blocks lent to its session addresses while it held them.
    public func bindings(of subscriber: String, window: Range<Int64>, organisation: String) -> [Binding] {
        lock.lock()
        defer { lock.unlock() }
        loadIfNeeded(organisation)
        let direct = (byToken[organisation]?[token(subscriber)] ?? []).compactMap { byAddress[organisation]?[$0.0]?[$0.1] }
            .filter { $0.start < window.upperBound && $0.end > window.lowerBound }
        var result: [Binding] = []
        for binding in direct {
            var clipped = binding
            clipped.start = max(binding.start, window.lowerBound)
            clipped.end = min(binding.end, window.upperBound)
            result.append(clipped)
            guard binding.ports == nil else { continue }
            let lentBlocks = (byInternal[organisation]?[binding.address] ?? []).compactMap { byAddress[organisation]?[$0.0]?[$0.1] }
            for block in lentBlocks where block.start < clipped.end && block.end > clipped.start {
                var lent = block
                lent.start = max(block.start, clipped.start)
                lent.end = min(block.end, clipped.end)
                result.append(lent)
            }
        }
        return result.sorted { ($0.start, $0.address) < ($1.start, $1.address) }
    }

    /// The organisations with assignment files under the root.
    public func organisations() -> [String] {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return folders.filter { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)")) ?? []).contains {
                $0.hasPrefix("assignments-") && $0.hasSuffix(".jsonl")
            }
        }.sorted()
    }

    /// How many assignments are known for `organisation`, and how many are open now.
    public func counts(organisation: String) -> (bindings: Int, open: Int) {
        lock.lock()
        defer { lock.unlock() }
        loadIfNeeded(organisation)
        let all = byAddress[organisation]?.values.reduce(0) { $0 + $1.count } ?? 0
        let current = byAddress[organisation]?.values.reduce(0) { $0 + $1.filter { $0.end == .max }.count } ?? 0
        return (all, current)
    }

    /// Deletes day files older than the retention; returns their names. The index is rebuilt.
    public func expire(now: Int64, retentionDays: Int, organisation: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let cutoff = Self.fileName(day: now - Int64(retentionDays) * 86_400_000)
        let directory = "\(root)/\(organisation)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("assignments-") && $0.hasSuffix(".jsonl") && $0 < cutoff }.sorted()
        for name in names { unlink("\(directory)/\(name)") }
        if !names.isEmpty {
            loaded.remove(organisation)
            byAddress[organisation] = nil
            open[organisation] = nil
            byToken[organisation] = nil
            byInternal[organisation] = nil
        }
        return names
    }

    private func open(_ sealed: [UInt8]) -> String? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed), let plain = try? AES.GCM.open(box, using: sealKey) else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }
}

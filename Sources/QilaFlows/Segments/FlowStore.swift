import QilaCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The retention store: per organisation, time-partitioned segments under `root/ORG/`, one open
/// segment per organisation receiving blocks, sealed segments chained and signed in
/// `root/chain.jsonl`. Thread-safe; writes are serialised.
public final class FlowStore: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var root: String
        /// Length of a time partition in milliseconds (a segment never spans two).
        public var partition: Int64 = 3_600_000
        /// Intake stops with an alarm when the file system has less free space than this.
        public var reserveBytes: Int64 = 256 << 20
        public var signingKey: Curve25519.Signing.PrivateKey
        /// Opens without recovering open segments or chaining anything: for readers beside a
        /// running collector. Appending, sealing and expiring are refused.
        public var readOnly = false

        public init(root: String, signingKey: Curve25519.Signing.PrivateKey) {
            self.root = root
            self.signingKey = signingKey
        }
    }

    /// A flow found by a query, with where it came from.
    public struct StoredFlow: Sendable, Hashable {
        public var record: FlowRecord
        public var exporter: FlowDecoder.Domain
        public var organisation: String
    }

    public struct OrganisationSummary: Sendable, Hashable {
        public var organisation: String
        public var sealedSegments = 0
        public var openSegments = 0
        public var flows = 0
        public var bytes = 0
        public var firstStart: Int64?
        public var lastEnd: Int64?
    }

    public let configuration: Configuration
    private let lock = NSLock()
    private let chain: FlowChain
    private var writers: [String: FlowSegmentWriter] = [:]
    /// What the store did on opening: recovered open segments and bytes cut from them.
    public private(set) var recoveries: [(path: String, discardedBytes: Int, blocks: Int)] = []
    /// Set while the file system is too full to take more flows.
    public private(set) var diskFull = false
    /// Segment readers kept between queries, by path, with the file size they were opened at:
    /// a sealed segment never changes, an open one is read afresh once it has grown.
    private var readers: [String: (size: Int, reader: FlowSegmentReader)] = [:]
    private let readersLock = NSLock()
    /// Called (under the store's lock) with each chain entry, to record it in the audit log.
    public var onChainEntry: (@Sendable (FlowChainEntry) -> Void)?

    public init(_ configuration: Configuration) throws(FlowSegment.Failure) {
        self.configuration = configuration
        let root = configuration.root
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create", path: root, errno: EACCES)
        }
        chain = try FlowChain(path: root + "/chain.jsonl", key: configuration.signingKey)
        if configuration.readOnly { return }
        // Open segments left by a stop or crash continue where they ended.
        for organisation in organisations() {
            for name in segmentNames(organisation) where name.hasSuffix(FlowSegment.openSuffix) {
                let path = "\(root)/\(organisation)/\(name)"
                let writer = try FlowSegmentWriter(resuming: path)
                recoveries.append((path, writer.discarded, writer.blocks.count))
                if let other = writers[organisation] {
                    // Two open segments of one organisation: seal the older.
                    try seal(other, organisation: organisation)
                }
                writers[organisation] = writer
            }
            // A segment sealed just before a crash may have missed its chain line.
            let chained = Set(chain.entries.map(\.segment))
            for name in segmentNames(organisation) where name.hasSuffix(FlowSegment.sealedSuffix) {
                let relative = "\(organisation)/\(name)"
                if !chained.contains(relative) {
                    let reader = try FlowSegmentReader(path: "\(root)/\(relative)")
                    guard reader.check().isEmpty else { continue }  // left for `verify` to report
                    try record(.sealed, organisation: organisation, relative: relative, reader: reader, reason: "chained on recovery")
                }
            }
        }
    }

    /// The organisations that have a folder in the store.
    public func organisations() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: configuration.root)) ?? [])
            .filter { name in
                var directory: ObjCBool = false
                return FileManager.default.fileExists(atPath: configuration.root + "/" + name, isDirectory: &directory) && directory.boolValue
            }
            .sorted()
    }

    func segmentNames(_ organisation: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(configuration.root)/\(organisation)")) ?? [])
            .filter { $0.hasSuffix(FlowSegment.openSuffix) || $0.hasSuffix(FlowSegment.sealedSuffix) }
            .sorted()
    }

    public static func isValidOrganisation(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    // MARK: Writing

    /// Appends `batch` for `organisation`, received at `received` (ms since 1970), as one durable
    /// block. Starts a new segment when the partition changes. Throws `.diskFull` (and sets
    /// `diskFull`) when the file system is short of space; nothing is written then.
    @discardableResult
    public func append(_ batch: FlowBatch, organisation: String, received: Int64) throws(FlowSegment.Failure) -> FlowSegment.BlockEntry? {
        guard !batch.isEmpty else { return nil }
        guard !configuration.readOnly else { throw .io("read-only store:", path: configuration.root, errno: EROFS) }
        precondition(FlowStore.isValidOrganisation(organisation), "organisation names are letters, digits, - and _")
        let encoded = FlowBlock.encode(batch)
        lock.lock()
        defer { lock.unlock() }
        if let free = freeBytes(), free < configuration.reserveBytes {
            diskFull = true
            throw .diskFull(path: configuration.root)
        }
        let partition = received - ((received % configuration.partition) + configuration.partition) % configuration.partition
        if let writer = writers[organisation], writer.header.partition != partition {
            try seal(writer, organisation: organisation)
            writers[organisation] = nil
        }
        let writer: FlowSegmentWriter
        if let existing = writers[organisation] {
            writer = existing
        } else {
            let directory = "\(configuration.root)/\(organisation)"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .io("cannot create", path: directory, errno: EACCES)
            }
            let name = FlowStore.segmentName(partition: partition, existing: segmentNames(organisation))
            writer = try FlowSegmentWriter(creating: "\(directory)/\(name)\(FlowSegment.openSuffix)", header: FlowSegment.Header(organisation: organisation, partition: partition))
            writers[organisation] = writer
        }
        do {
            let entry = try writer.append(encoded: encoded)
            diskFull = false
            return entry
        } catch {
            if case .diskFull = error { diskFull = true }
            throw error
        }
    }

    static func segmentName(partition: Int64, existing: [String]) -> String {
        let date = Date(timeIntervalSince1970: Double(partition) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let stem = String(format: "%04d%02d%02dT%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
        var number = 1
        while existing.contains(where: { $0.hasPrefix("\(stem)-\(String(format: "%03d", number))") }) { number += 1 }
        return "\(stem)-\(String(format: "%03d", number))"
    }

    private func freeBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(configuration.root, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Seals every open segment whose partition ended before `now`, or all of them.
    public func seal(before now: Int64? = nil) throws(FlowSegment.Failure) {
        guard !configuration.readOnly else { return }
        lock.lock()
        defer { lock.unlock() }
        for (organisation, writer) in writers.sorted(by: { $0.key < $1.key }) {
            if let now, writer.header.partition + configuration.partition > now { continue }
            try seal(writer, organisation: organisation)
            writers[organisation] = nil
        }
    }

    private func seal(_ writer: FlowSegmentWriter, organisation: String) throws(FlowSegment.Failure) {
        if writer.blocks.isEmpty {
            // Nothing to keep: an empty open segment is removed, not sealed.
            unlink(writer.path)
            return
        }
        let sealed = try writer.seal()
        let relative = "\(organisation)/\((sealed.path as NSString).lastPathComponent)"
        let reader = try FlowSegmentReader(path: sealed.path)
        try record(.sealed, organisation: organisation, relative: relative, reader: reader, sha256: Hex.encode(sealed.sha256))
    }

    private func record(
        _ event: FlowChainEntry.Event, organisation: String, relative: String, reader: FlowSegmentReader, sha256: String? = nil, reason: String? = nil
    ) throws(FlowSegment.Failure) {
        let entry = try chain.append(
            event, organisation: organisation, segment: relative, sha256: sha256 ?? Hex.encode(reader.digest()),
            bytes: Int(fileSize("\(configuration.root)/\(relative)")), rows: reader.statistics.rows,
            firstStart: reader.statistics.rows > 0 ? reader.statistics.firstStart : 0,
            lastEnd: reader.statistics.rows > 0 ? reader.statistics.lastEnd : 0, reason: reason,
            time: Int64(Date().timeIntervalSince1970 * 1000))
        onChainEntry?(entry)
    }

    private func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    // MARK: Reading

    /// Every flow with `address` as source, destination or translated source whose time overlaps
    /// `window`, from the given organisations (all when nil), in time order.
    public func flows(of address: FlowAddress, window: Range<Int64>, organisations wanted: Set<String>? = nil) throws -> [StoredFlow] {
        var found: [StoredFlow] = []
        var current: Set<String> = []
        defer { keepReaders(current) }
        for organisation in organisations() where wanted?.contains(organisation) ?? true {
            for name in segmentNames(organisation) {
                let path = "\(configuration.root)/\(organisation)/\(name)"
                current.insert(path)
                let reader = try cachedReader(path)
                guard reader.statistics.overlaps(window), reader.mightContain(address) else { continue }
                for index in reader.blocks.indices where reader.blocks[index].statistics.overlaps(window) {
                    try reader.withBlock(index) { block in
                        let rows = try block.rows(of: address)
                        guard !rows.isEmpty else { return }
                        for (record, exporter) in try block.records(at: rows)
                        where record.start < window.upperBound && record.end >= window.lowerBound {
                            found.append(StoredFlow(record: record, exporter: exporter, organisation: organisation))
                        }
                    }
                }
            }
        }
        found.sort { ($0.record.start, $0.record.end) < ($1.record.start, $1.record.end) }
        return found
    }

    /// A reader of the segment at `path`, kept for later queries while the file is unchanged.
    func cachedReader(_ path: String) throws(FlowSegment.Failure) -> FlowSegmentReader {
        let size = Int(fileSize(path))
        readersLock.lock()
        let known = readers[path]
        readersLock.unlock()
        if let known, known.size == size { return known.reader }
        let reader = try FlowSegmentReader(path: path)
        readersLock.lock()
        readers[path] = (size, reader)
        readersLock.unlock()
        return reader
    }

    /// Lets go of readers of segments that are gone (expired, or renamed when sealed), once a
    /// query has listed the organisation's segments anew.
    private func keepReaders(_ current: Set<String>) {
        readersLock.lock()
        defer { readersLock.unlock() }
        let prefixes = Set(current.map { ($0 as NSString).deletingLastPathComponent + "/" })
        readers = readers.filter { path, _ in current.contains(path) || !prefixes.contains(where: { path.hasPrefix($0) }) }
    }

    /// What the store holds, per organisation.
    public func summary() throws -> [OrganisationSummary] {
        var result: [OrganisationSummary] = []
        var current: Set<String> = []
        defer { keepReaders(current) }
        for organisation in organisations() {
            var summary = OrganisationSummary(organisation: organisation)
            for name in segmentNames(organisation) {
                let path = "\(configuration.root)/\(organisation)/\(name)"
                current.insert(path)
                let reader = try cachedReader(path)
                if reader.sealed { summary.sealedSegments += 1 } else { summary.openSegments += 1 }
                summary.flows += reader.statistics.rows
                summary.bytes += Int(fileSize(path))
                if reader.statistics.rows > 0 {
                    summary.firstStart = min(summary.firstStart ?? .max, reader.statistics.firstStart)
                    summary.lastEnd = max(summary.lastEnd ?? .min, reader.statistics.lastEnd)
                }
            }
            result.append(summary)
        }
        return result
    }

    public var chainEntries: [FlowChainEntry] {
        lock.lock()
        defer { lock.unlock() }
        return chain.entries
    }

    // MARK: Retention

    /// Deletes the sealed segments whose every flow ended before the organisation's retention
    /// period (`retentionDays(organisation)`) counted back from `now`; each deletion is chained.
    @discardableResult
    public func expire(now: Int64, retentionDays: (String) -> Int) throws(FlowSegment.Failure) -> [FlowChainEntry] {
        guard !configuration.readOnly else { throw .io("read-only store:", path: configuration.root, errno: EROFS) }
        lock.lock()
        defer { lock.unlock() }
        var deleted: [FlowChainEntry] = []
        for organisation in organisations() {
            let days = retentionDays(organisation)
            let cutoff = now - Int64(days) * 86_400_000
            for name in segmentNames(organisation) where name.hasSuffix(FlowSegment.sealedSuffix) {
                let relative = "\(organisation)/\(name)"
                let path = "\(configuration.root)/\(relative)"
                let reader = try FlowSegmentReader(path: path)
                guard reader.header.partition + configuration.partition <= cutoff, reader.statistics.lastEnd < cutoff else { continue }
                let digest = Hex.encode(reader.digest())
                let bytes = Int(fileSize(path))
                guard unlink(path) == 0 else { throw .io("cannot delete", path: path, errno: errno) }
                try FlowSegmentWriter.syncDirectory(of: path)
                let entry = try chain.append(
                    .deleted, organisation: organisation, segment: relative, sha256: digest, bytes: bytes, rows: reader.statistics.rows,
                    firstStart: reader.statistics.firstStart, lastEnd: reader.statistics.lastEnd, reason: "retention: \(days) days",
                    time: now)
                onChainEntry?(entry)
                deleted.append(entry)
            }
        }
        return deleted
    }

    // MARK: Verification

    public struct VerificationReport: Sendable, CustomStringConvertible {
        public var segmentsChecked = 0
        public var flowsChecked = 0
        public var openSegments = 0
        public var chainEntries = 0
        public var problems: [String] = []
        public var isValid: Bool { problems.isEmpty }

        public var description: String {
            var lines = [
                "chain: \(chainEntries) entries; segments: \(segmentsChecked) sealed, \(openSegments) open; flows: \(flowsChecked)"
            ]
            lines += problems.map { "PROBLEM: \($0)" }
            lines.append(isValid ? "valid: every sealed segment matches the signed chain" : "NOT VALID: \(problems.count) problems")
            return lines.joined(separator: "\n")
        }
    }

    /// Checks the chain's heads and signatures, every sealed segment's hash against its chain
    /// line, every block's checksum and structure, and that no chained segment is missing
    /// without a deletion line. `progress` gets (segments done, segments in all).
    public func verify(progress: ((Int, Int) -> Void)? = nil) -> VerificationReport {
        var report = VerificationReport()
        let entries = chainEntries
        report.chainEntries = entries.count
        if let problem = FlowChain.verify(entries, key: configuration.signingKey.publicKey) { report.problems.append("chain: \(problem)") }
        var latest: [String: FlowChainEntry] = [:]
        for entry in entries { latest[entry.segment] = entry }
        var present = Set<String>()
        let all = organisations().flatMap { organisation in segmentNames(organisation).map { "\(organisation)/\($0)" } }
        for (done, relative) in all.enumerated() {
            progress?(done, all.count)
            let path = "\(configuration.root)/\(relative)"
            do {
                let reader = try FlowSegmentReader(path: path)
                report.problems += reader.check().map { "\(relative): \($0)" }
                if reader.sealed {
                    present.insert(relative)
                    report.segmentsChecked += 1
                    report.flowsChecked += reader.statistics.rows
                    guard let entry = latest[relative], entry.event == .sealed else {
                        report.problems.append("\(relative): sealed segment not in the chain")
                        continue
                    }
                    if Hex.encode(reader.digest()) != entry.sha256 { report.problems.append("\(relative): contents differ from the chain (SHA-256)") }
                } else {
                    report.openSegments += 1
                    report.flowsChecked += reader.statistics.rows
                }
            } catch {
                report.problems.append("\(relative): \(error)")
            }
        }
        progress?(all.count, all.count)
        for (segment, entry) in latest where entry.event == .sealed && !present.contains(segment) {
            report.problems.append("\(segment): in the chain but missing, and no deletion was recorded")
        }
        return report
    }
}

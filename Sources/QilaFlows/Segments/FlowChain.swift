import QilaCore
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The store's hash chain: one line per sealed or deleted segment, each line's head the SHA-256
/// of the previous head and the line, each head signed with the installation's Ed25519 key.
/// Altering, removing or reordering a segment or a line breaks the chain at that point.
public struct FlowChainEntry: Sendable, Codable, Hashable {
    public enum Event: String, Sendable, Codable { case sealed, deleted }

    public var sequence: Int
    public var event: Event
    public var time: Int64
    public var organisation: String
    /// Path of the segment relative to the store's root.
    public var segment: String
    public var sha256: String
    public var bytes: Int
    public var rows: Int
    public var firstStart: Int64
    public var lastEnd: Int64
    /// Why a segment was deleted (`retention: 365 days`).
    public var reason: String?
    public var previous: String
    public var head: String
    public var signature: String

    /// The bytes the head covers: every field but the head and the signature, in a fixed order.
    var signedBytes: [UInt8] {
        let text = [
            String(sequence), event.rawValue, String(time), organisation, segment, sha256, String(bytes), String(rows),
            String(firstStart), String(lastEnd), reason ?? "", previous,
        ].joined(separator: "\u{1F}")
        return Array(text.utf8)
    }

    static func head(previous: String, entry: FlowChainEntry) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previous.utf8))
        hasher.update(data: entry.signedBytes)
        return Hex.encode(hasher.finalize())
    }
}

final class FlowChain {
    let path: String
    private(set) var entries: [FlowChainEntry] = []
    private let key: Curve25519.Signing.PrivateKey
    static let genesis = String(repeating: "0", count: 64)

    init(path: String, key: Curve25519.Signing.PrivateKey) throws(FlowSegment.Failure) {
        self.path = path
        self.key = key
        if let data = FileManager.default.contents(atPath: path) {
            let decoder = JSONDecoder()
            for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
                guard let entry = try? decoder.decode(FlowChainEntry.self, from: Data(line)) else {
                    // A line cut by a crash can only be the last one.
                    if number == data.split(separator: UInt8(ascii: "\n")).count - 1 { break }
                    throw .damaged("unreadable chain line \(number + 1)", path: path)
                }
                entries.append(entry)
            }
        }
    }

    var head: String { entries.last?.head ?? FlowChain.genesis }

    @discardableResult
    func append(
        _ event: FlowChainEntry.Event, organisation: String, segment: String, sha256: String, bytes: Int, rows: Int,
        firstStart: Int64, lastEnd: Int64, reason: String? = nil, time: Int64
    ) throws(FlowSegment.Failure) -> FlowChainEntry {
        var entry = FlowChainEntry(
            sequence: entries.count, event: event, time: time, organisation: organisation, segment: segment, sha256: sha256,
            bytes: bytes, rows: rows, firstStart: firstStart, lastEnd: lastEnd, reason: reason, previous: head, head: "", signature: "")
        entry.head = FlowChainEntry.head(previous: entry.previous, entry: entry)
        let signature = (try? key.signature(for: Array(entry.head.utf8))) ?? Data()
        entry.signature = signature.base64EncodedString()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = Array((try? encoder.encode(entry)) ?? Data())
        line.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io("cannot open", path: path, errno: errno) }
        defer { close(fd) }
        let written = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            let code = errno
            throw code == ENOSPC ? .diskFull(path: path) : .io("cannot append to", path: path, errno: code)
        }
        entries.append(entry)
        return entry
    }

    /// Checks the heads and signatures of every line; the first problem, if any.
    static func verify(_ entries: [FlowChainEntry], key: Curve25519.Signing.PublicKey) -> String? {
        var previous = genesis
        for (index, entry) in entries.enumerated() {
            guard entry.sequence == index else { return "line \(index + 1): sequence \(entry.sequence), expected \(index)" }
            guard entry.previous == previous else { return "line \(index + 1): does not follow the line before it" }
            guard FlowChainEntry.head(previous: previous, entry: entry) == entry.head else { return "line \(index + 1): head does not match its contents" }
            guard let signature = Data(base64Encoded: entry.signature), key.isValidSignature(signature, for: Array(entry.head.utf8)) else {
                return "line \(index + 1): signature does not verify"
            }
            previous = entry.head
        }
        return nil
    }
}

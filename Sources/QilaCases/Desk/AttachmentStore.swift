public import Foundation
public import QilaCore
import Crypto
public import QilaStore

/// Files attached to cases, stored once each under their SHA-256, in the database: every node of
/// an installation serves every attachment, and an attachment is durable when the statement that
/// stores it returns (the same transaction discipline as everything else).
///
/// Only kinds of file that incident reports carry are taken, and each is recognised by its
/// content, not only its name: a file named `.pdf` must start as a PDF does. Programs are refused.
public struct AttachmentStore: Sendable {
    public let store: SQLStore
    public let maximumBytes: Int
    /// Where versions before 0.10 kept attachments as files (`ab/abcdef…`), moved in by `importFolder`.
    public let legacyFolder: String?

    public init(store: SQLStore, maximumBytes: Int = 25 * 1024 * 1024, legacyFolder: String? = nil) {
        self.store = store
        self.maximumBytes = maximumBytes
        self.legacyFolder = legacyFolder
    }

    /// What a file's name says it is, and how its content must begin.
    public struct FileKind: Sendable, Hashable {
        public var mediaType: String
        public var extensions: [String]
        public var check: @Sendable ([UInt8]) -> Bool

        public static func == (lhs: FileKind, rhs: FileKind) -> Bool { lhs.mediaType == rhs.mediaType }
        public func hash(into hasher: inout Hasher) { hasher.combine(mediaType) }
    }

    static func starts(_ prefixes: [[UInt8]]) -> @Sendable ([UInt8]) -> Bool {
        { bytes in prefixes.contains { bytes.starts(with: $0) } }
    }

    /// Text: valid UTF-8 without NUL bytes.
    static let isText: @Sendable ([UInt8]) -> Bool = { bytes in
        !bytes.contains(0) && String(validating: bytes, as: UTF8.self) != nil
    }

    public static let kinds: [FileKind] = [
        FileKind(mediaType: "application/pdf", extensions: ["pdf"], check: starts([Array("%PDF-".utf8)])),
        FileKind(mediaType: "image/png", extensions: ["png"], check: starts([[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]])),
        FileKind(mediaType: "image/jpeg", extensions: ["jpg", "jpeg"], check: starts([[0xFF, 0xD8, 0xFF]])),
        FileKind(mediaType: "text/plain", extensions: ["txt", "log"], check: isText),
        FileKind(mediaType: "text/csv", extensions: ["csv"], check: isText),
        FileKind(mediaType: "application/json", extensions: ["json", "ndjson", "jsonl"], check: isText),
        FileKind(mediaType: "message/rfc822", extensions: ["eml"], check: isText),
        FileKind(mediaType: "application/zip", extensions: ["zip", "docx", "xlsx", "pptx", "odt", "ods"], check: starts([[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]])),
        FileKind(mediaType: "application/gzip", extensions: ["gz", "tgz"], check: starts([[0x1F, 0x8B]])),
        FileKind(mediaType: "application/vnd.tcpdump.pcap", extensions: ["pcap", "pcapng", "cap"],
                 check: starts([[0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4], [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D], [0x0A, 0x0D, 0x0D, 0x0A]])),
        FileKind(mediaType: "application/x-ms-evtx", extensions: ["evtx"], check: starts([Array("ElfFile\0".utf8)])),
    ]

    /// Leading bytes of programs, refused whatever the file is called.
    static let programs: [[UInt8]] = [[0x4D, 0x5A], [0x7F, 0x45, 0x4C, 0x46], [0xCF, 0xFA, 0xED, 0xFE], [0xCE, 0xFA, 0xED, 0xFE], [0x23, 0x21]]

    /// Checks a file before it is stored: size, name, and that its content is what its name says.
    public func check(name: String, bytes: [UInt8]) throws(QilaError) -> (name: String, mediaType: String) {
        let cleaned = Self.safeName(name)
        guard !bytes.isEmpty else { throw QilaError.invalid("the file is empty", field: "file") }
        guard bytes.count <= maximumBytes else {
            throw QilaError.invalid("the file has \(bytes.count) bytes; at most \(maximumBytes) are accepted", field: "file")
        }
        guard !cleaned.isEmpty else { throw QilaError.invalid("the file has no name", field: "file") }
        if Self.programs.contains(where: { bytes.starts(with: $0) }) {
            throw QilaError.invalid("\(cleaned) is a program or script; programs are not accepted as attachments (send a hash instead)", field: "file")
        }
        let ext = (cleaned as NSString).pathExtension.lowercased()
        guard let kind = Self.kinds.first(where: { $0.extensions.contains(ext) }) else {
            let accepted = Self.kinds.flatMap(\.extensions).joined(separator: ", ")
            throw QilaError.invalid("files ending .\(ext.isEmpty ? "(none)" : ext) are not accepted; accepted: \(accepted)", field: "file")
        }
        guard kind.check(bytes) else {
            throw QilaError.invalid("\(cleaned) does not contain what a .\(ext) file does (\(kind.mediaType))", field: "file")
        }
        return (cleaned, kind.mediaType)
    }

    /// Stores the bytes under their SHA-256 (once) and returns the hash in hex.
    public func store(_ bytes: [UInt8]) async throws -> String {
        let digest = Hex.encode(SHA256.hash(data: bytes))
        try await store.saveAttachmentContent(sha256: digest, bytes: bytes)
        return digest
    }

    public func read(_ sha256: String) async throws -> [UInt8] {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw QilaError(.notFound, "no such attachment")
        }
        guard let bytes = try await store.attachmentContent(sha256: sha256) else { throw QilaError(.notFound, "the attachment's content is missing") }
        guard Hex.encode(SHA256.hash(data: bytes)) == sha256 else {
            throw QilaError(.integrity, "the attachment's content no longer matches its SHA-256")
        }
        return bytes
    }

    /// Moves attachments an older version kept as files into the database (each checked against
    /// its name, the SHA-256), then moves the folder aside. Returns how many were moved.
    public func importFolder() async throws -> Int {
        guard let legacyFolder, FileManager.default.fileExists(atPath: legacyFolder) else { return 0 }
        var moved = 0
        for prefix in try FileManager.default.contentsOfDirectory(atPath: legacyFolder) where prefix.count == 2 {
            for name in try FileManager.default.contentsOfDirectory(atPath: legacyFolder + "/" + prefix) where name.count == 64 {
                guard let data = FileManager.default.contents(atPath: "\(legacyFolder)/\(prefix)/\(name)") else { continue }
                let bytes = [UInt8](data)
                guard Hex.encode(SHA256.hash(data: bytes)) == name else {
                    throw QilaError(.integrity, "\(legacyFolder)/\(prefix)/\(name) no longer matches its SHA-256: restore it from backup before starting")
                }
                try await store.saveAttachmentContent(sha256: name, bytes: bytes)
                moved += 1
            }
        }
        try FileManager.default.moveItem(atPath: legacyFolder, toPath: legacyFolder + ".moved-to-database")
        return moved
    }

    /// The last path component, without control characters or quotes, at most 200 characters.
    static func safeName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "\"" }.map(Character.init))
        return String(cleaned.trimmingCharacters(in: .whitespaces).prefix(200))
    }
}

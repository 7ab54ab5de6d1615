public import Foundation
public import QilaCore
import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// Files attached to cases, stored once each under their SHA-256 (`ab/abcdef…`), written to a
/// temporary file, flushed and renamed so that a crash leaves either the whole file or none.
///
/// Only kinds of file that incident reports carry are taken, and each is recognised by its
/// content, not only its name: a file named `.pdf` must start as a PDF does. Programs are refused.
public struct AttachmentStore: Sendable {
    public let folder: String
    public let maximumBytes: Int

    public init(folder: String, maximumBytes: Int = 25 * 1024 * 1024) {
        self.folder = folder
        self.maximumBytes = maximumBytes
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
    public func store(_ bytes: [UInt8]) throws -> String {
        let digest = Hex.encode(SHA256.hash(data: bytes))
        let path = self.path(of: digest)
        if FileManager.default.fileExists(atPath: path) { return digest }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = directory + "/.tmp-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw QilaError(.storage, "cannot create an attachment file (errno \(errno))") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw QilaError(.storage, "cannot write an attachment file (errno \(code))")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            close(descriptor)
            unlink(temporary)
            throw QilaError(.storage, "cannot flush an attachment file to disk")
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw QilaError(.storage, "cannot move an attachment into place (errno \(errno))")
        }
        let folder = open(directory, O_RDONLY)
        if folder >= 0 { fsync(folder); close(folder) }
        return digest
    }

    public func read(_ sha256: String) throws -> [UInt8] {
        guard sha256.utf8.count == 64, sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw QilaError(.notFound, "no such attachment")
        }
        guard let data = FileManager.default.contents(atPath: path(of: sha256)) else { throw QilaError(.notFound, "the attachment's file is missing") }
        let bytes = [UInt8](data)
        guard Hex.encode(SHA256.hash(data: bytes)) == sha256 else {
            throw QilaError(.integrity, "the attachment's file no longer matches its SHA-256")
        }
        return bytes
    }

    func path(of sha256: String) -> String {
        "\(folder)/\(sha256.prefix(2))/\(sha256)"
    }

    /// The last path component, without control characters or quotes, at most 200 characters.
    static func safeName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "\"" }.map(Character.init))
        return String(cleaned.trimmingCharacters(in: .whitespaces).prefix(200))
    }
}

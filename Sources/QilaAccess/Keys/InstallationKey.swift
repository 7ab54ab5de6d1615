public import Crypto
public import Foundation
import QilaCore
import Glibc

/// The key every node of one installation is given (`--key-file`, `QILA_KEY_FILE`): it seals the
/// installation's secrets, which live in the database. A copy of the database without this file
/// yields no password pepper, no sealing key, no CA key and no audit signing key.
///
/// The file is text: a comment, then `qila-installation-key-v1 <base64 of 32 random bytes>`. It
/// must be readable by its owner alone (mode 0600 or stricter); a node refuses one that others can
/// read, as ssh does for private keys.
public struct InstallationKey: Sendable {
    public static let fileTag = "qila-installation-key-v1"

    let key: SymmetricKey

    /// Names the key without revealing it: the first 8 bytes of HMAC-SHA256(key, "qila key id"),
    /// in hexadecimal. The database records which key each secret is sealed under by this name.
    public let identifier: String

    init(key: SymmetricKey) {
        self.key = key
        let mac = HMAC<SHA256>.authenticationCode(for: Array("qila key id".utf8), using: key)
        identifier = Hex.encode(Array(mac.prefix(8)))
    }

    /// A new random key.
    public static func generate() -> InstallationKey {
        InstallationKey(key: SymmetricKey(size: .bits256))
    }

    /// Reads a key file, refusing one that is missing, readable by others or not a key file.
    public static func load(path: String) throws -> InstallationKey {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw KeyFileError(path: path, problem: .missing)
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw KeyFileError(path: path, problem: .readableByOthers(mode: mode))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyFileError(path: path, problem: .unreadable)
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) throws -> InstallationKey {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == fileTag, let bytes = Data(base64Encoded: String(parts[1])), bytes.count == 32 else {
                throw KeyFileError(path: path, problem: .notAKeyFile)
            }
            return InstallationKey(key: SymmetricKey(data: bytes))
        }
        throw KeyFileError(path: path, problem: .notAKeyFile)
    }

    /// The file's text.
    public var fileText: String {
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() }
        return """
            # Qila installation key \(identifier). Give every node of this installation this same file
            # (--key-file or QILA_KEY_FILE) and keep a copy apart from the database's backups.
            \(Self.fileTag) \(encoded)

            """
    }

    /// Writes the key to a new file with mode 0600; refuses to replace an existing file.
    public func write(to path: String) throws {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw KeyFileError(path: path, problem: .exists) }
            throw KeyFileError(path: path, problem: .cannotWrite(reason: String(cString: strerror(errno))))
        }
        defer { Glibc.close(descriptor) }
        let bytes = Array(fileText.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else { throw KeyFileError(path: path, problem: .cannotWrite(reason: String(cString: strerror(errno)))) }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw KeyFileError(path: path, problem: .cannotWrite(reason: String(cString: strerror(errno)))) }
    }

    /// Seals one named secret: AES-256-GCM with the name as associated data, so a sealed value
    /// cannot be passed off as another.
    func seal(_ plaintext: [UInt8], name: String) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: Array(name.utf8)).combined else {
            throw SecretsError(message: "AES-GCM sealing failed")
        }
        return Array(combined)
    }

    func open(_ sealed: [UInt8], name: String) throws -> [UInt8] {
        Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Array(name.utf8)))
    }
}

/// A key file that cannot be used, and why.
public struct KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case missing
        case unreadable
        case readableByOthers(mode: Int)
        case notAKeyFile
        case exists
        case cannotWrite(reason: String)
    }

    public var path: String
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .missing: "the key file \(path) does not exist"
        case .unreadable: "the key file \(path) cannot be read"
        case .readableByOthers(let mode):
            "the key file \(path) may be read by others (mode \(String(mode & 0o777, radix: 8))): make it the owner's alone with chmod 600 \(path)"
        case .notAKeyFile: "\(path) is not a Qila key file (made by qila keys generate): its line must be \(InstallationKey.fileTag) and 32 bytes in base64"
        case .exists: "\(path) exists already; a key file is never overwritten: choose another name"
        case .cannotWrite(let reason): "cannot write the key file \(path): \(reason.lowercased())"
        }
    }
}

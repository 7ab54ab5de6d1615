import Crypto
import Foundation
import QilaCore
import QilaFlows

/// The package a query under a warrant produces for the court: the records as CSV and as JSON,
/// a manifest naming the warrant, the query and the SHA-256 of each file, an Ed25519 signature
/// of the manifest by the installation's audit key and that key, all in one POSIX tar file.
public struct ExportPackage: Sendable {
    public struct Row: Sendable, Hashable, Codable {
        public var start: String
        public var end: String
        public var protocolNumber: UInt8
        public var source: String
        public var sourcePort: UInt16
        public var destination: String
        public var destinationPort: UInt16
        public var translatedSource: String?
        public var translatedSourcePort: UInt16?
        public var packets: UInt64
        public var octets: UInt64
        public var tcpFlags: UInt8
        public var exporter: String
        /// The subscriber behind the flow, when the warrant allows naming them.
        public var subscriber: String?
        /// Which identifier of the warrant matched: `address 10.1.2.3` or `subscriber 2`.
        public var matched: String
    }

    public var files: [(name: String, bytes: [UInt8])]
    public var manifest: [UInt8]
    public var manifestSHA256: String

    /// Builds the package; `header` is what the manifest says of the warrant and the query.
    public static func make(rows: [Row], header: [String: String], signingKey: Curve25519.Signing.PrivateKey) throws -> ExportPackage {
        let csvHeader = "start,end,protocol,source,source_port,destination,destination_port,translated_source,translated_source_port,packets,octets,tcp_flags,exporter,subscriber,matched\n"
        var csv = csvHeader
        for row in rows {
            let fields: [String] = [
                row.start, row.end, String(row.protocolNumber), row.source, String(row.sourcePort), row.destination, String(row.destinationPort),
                row.translatedSource ?? "", row.translatedSourcePort.map(String.init) ?? "", String(row.packets), String(row.octets),
                String(row.tcpFlags), row.exporter, row.subscriber ?? "", row.matched,
            ]
            csv += fields.map(csvField).joined(separator: ",") + "\n"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let json = try encoder.encode(rows)
        var files: [(String, [UInt8])] = [("records.csv", Array(csv.utf8)), ("records.json", Array(json))]
        var manifestObject: [String: ManifestValue] = ["format": .text("qila-warrant-export/v1"), "records": .number(rows.count)]
        for (key, value) in header { manifestObject[key] = .text(value) }
        manifestObject["files"] = .files(files.map { ManifestFile(name: $0.0, bytes: $0.1.count, sha256: Hex.encode(SHA256.hash(data: $0.1))) })
        let manifest = Array(try encoder.encode(manifestObject))
        let signature = try signingKey.signature(for: manifest)
        files.append(("manifest.json", manifest))
        files.append(("manifest.sig", Array(signature.base64EncodedString().utf8) + [0x0A]))
        files.append(("signing-key.pub", Array(signingKey.publicKey.rawRepresentation.base64EncodedString().utf8) + [0x0A]))
        files.append(("README.txt", Array(readme.utf8)))
        return ExportPackage(files: files, manifest: manifest, manifestSHA256: Hex.encode(SHA256.hash(data: manifest)))
    }

    static let readme = """
        Traffic data released under a court warrant by Qila.

        manifest.json   the warrant, the query, the number of records and the SHA-256 of each file
        manifest.sig    Ed25519 signature of manifest.json (base64), by the key in signing-key.pub
        records.csv     the records, one flow per line (times in UTC, RFC 3339)
        records.json    the same records as JSON

        To check: compute SHA-256 of records.csv and records.json and compare with the manifest;
        verify manifest.sig over the exact bytes of manifest.json with the Ed25519 public key
        (32 bytes, base64) in signing-key.pub, which is the installation's audit key.

        """

    enum ManifestValue: Encodable {
        case text(String)
        case number(Int)
        case files([ManifestFile])
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .files(let value): try container.encode(value)
            }
        }
    }

    struct ManifestFile: Encodable {
        var name: String
        var bytes: Int
        var sha256: String
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The files as a POSIX ustar archive (IEEE 1003.1-1988): 512-byte headers, contents padded
    /// to 512 bytes, two zero blocks at the end.
    public func tar(modified: Date) -> [UInt8] {
        var out: [UInt8] = []
        for (name, bytes) in files {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, width: Int) {
                for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, at offset: Int, width: Int) {
                put(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1) , at: offset, width: width - 1)
            }
            put(name, at: 0, width: 100)
            octal(0o440, at: 100, width: 8)
            octal(0, at: 108, width: 8)
            octal(0, at: 116, width: 8)
            octal(bytes.count, at: 124, width: 12)
            octal(Int(modified.timeIntervalSince1970), at: 136, width: 12)
            put("        ", at: 148, width: 8)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257, width: 6)
            put("00", at: 263, width: 2)
            put("qila", at: 265, width: 32)
            put("qila", at: 297, width: 32)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(String(String(checksum, radix: 8)).leftPadded(to: 6), at: 148, width: 6)
            header[154] = 0
            header[155] = UInt8(ascii: " ")
            out += header
            out += bytes
            out += [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import Crypto
import Foundation
import Testing

@testable import QilaVulnerabilities

/// The CSAF provider's OpenPGP signatures checked by GnuPG, the peer every CSAF consumer uses.
@Suite("OpenPGP signatures of CSAF documents")
struct OpenPGPTests {
    static let gpg = ["/usr/bin/gpg", "/bin/gpg"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func run(_ arguments: [String], home: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.gpg!)
        process.arguments = ["--homedir", home.path, "--batch", "--status-fd", "1"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("GnuPG imports the key, verifies a signature by its fingerprint, and refuses it over changed bytes",
          .enabled(if: gpg != nil, "needs gpg (Debian's gnupg)"))
    func gnupgVerifies() throws {
        let signer = OpenPGPSigner(sealingKey: SymmetricKey(data: Data(repeating: 7, count: 32)), created: 1_767_225_600, userID: "Qila CSAF <csaf@qila.test>")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("qila-gpg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key.asc")
        try signer.armoredPublicKey.write(to: keyFile, atomically: true, encoding: .utf8)
        let imported = try run(["--import", keyFile.path], home: home)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("IMPORT_OK"))

        let document = Data(#"{"document":{"title":"Test"}}"#.utf8)
        let documentFile = home.appendingPathComponent("doc.json")
        try document.write(to: documentFile)
        let signatureFile = home.appendingPathComponent("doc.json.asc")
        try signer.sign(document, at: Date(timeIntervalSince1970: 1_767_300_000)).write(to: signatureFile, atomically: true, encoding: .utf8)
        let verified = try run(["--verify", signatureFile.path, documentFile.path], home: home)
        #expect(verified.output.contains("GOODSIG"), "\(verified.output)")
        #expect(verified.output.contains("VALIDSIG \(signer.fingerprint)"), "\(verified.output)")

        try Data(#"{"document":{"title":"Tampered"}}"#.utf8).write(to: documentFile)
        let refused = try run(["--verify", signatureFile.path, documentFile.path], home: home)
        #expect(refused.status != 0)
        #expect(refused.output.contains("BADSIG"), "\(refused.output)")
    }

    @Test("The key, and so its fingerprint, is the same on every node with the same sealing key")
    func sameKeyEverywhere() {
        let sealing = SymmetricKey(data: Data(repeating: 9, count: 32))
        let one = OpenPGPSigner(sealingKey: sealing, created: 1_767_225_600, userID: "a")
        let two = OpenPGPSigner(sealingKey: sealing, created: 1_767_225_600, userID: "a")
        #expect(one.fingerprint == two.fingerprint && one.fingerprint.count == 40)
        #expect(OpenPGPSigner(sealingKey: SymmetricKey(data: Data(repeating: 8, count: 32)), created: 1_767_225_600, userID: "a").fingerprint != one.fingerprint)
    }

    @Test("Multiprecision integers drop leading zeros and count bits from the first set one")
    func mpi() {
        #expect(OpenPGPSigner.mpi([0x40] + [UInt8](repeating: 1, count: 32)).prefix(2) == [0x01, 0x07])
        #expect(OpenPGPSigner.mpi([0, 0, 1]) == [0, 1, 1])
        #expect(OpenPGPSigner.mpi([0, 0]) == [0, 0])
    }
}

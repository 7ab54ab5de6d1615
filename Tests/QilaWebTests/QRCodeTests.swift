import Foundation
import Testing
@testable import QilaWeb

@Suite("QR code encoder")
struct QRCodeTests {
    static let zbarimg = ["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("codes of every version decode back to their text with zbarimg", arguments: [1, 20, 60, 100, 140, 180, 210])
    func decodes(_ length: Int) throws {
        let text = "otpauth://totp/Qila:" + String(repeating: "x", count: max(0, length - 20))
        let code = try QRCode(String(text.prefix(length)))
        #expect(code.size >= 21 && code.size <= 57)
        guard let zbarimg = Self.zbarimg else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("zbarimg is not installed; CI must install zbar-tools")
            }
            return
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qr-\(UUID()).pbm").path
        try code.pbm(scale: 4).write(toFile: path, atomically: true, encoding: .ascii)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: zbarimg)
        process.arguments = ["--raw", "-q", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let decoded = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        #expect(decoded == String(text.prefix(length)))
    }

    @Test("text longer than version 10 holds is refused")
    func tooLong() {
        #expect(throws: QRCode.TooLong.self) { try QRCode(String(repeating: "a", count: 300)) }
    }

    @Test("the SVG has a quiet zone and one path")
    func svg() throws {
        let svg = try QRCode("hello").svg(title: "t")
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains("viewBox=\"0 0 29 29\""))
    }
}

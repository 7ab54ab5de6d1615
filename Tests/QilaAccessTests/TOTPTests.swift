import Foundation
import QilaAccess
import Testing

@Suite("TOTP (RFC 6238)")
struct TOTPTests {
    struct Vector: Sendable, CustomStringConvertible {
        var time: TimeInterval
        var algorithm: TOTP.Algorithm
        var code: String
        var description: String { "\(algorithm.rawValue) at \(Int(time))" }
    }

    /// RFC 6238 Appendix B: 8 digits, 30 s, seeds of 20, 32 and 64 ASCII bytes.
    static let vectors: [Vector] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ].flatMap { row in
        [
            Vector(time: row.0, algorithm: .sha1, code: row.1),
            Vector(time: row.0, algorithm: .sha256, code: row.2),
            Vector(time: row.0, algorithm: .sha512, code: row.3),
        ]
    }

    static func seed(_ algorithm: TOTP.Algorithm) -> [UInt8] {
        let base = Array("1234567890".utf8)
        let length = switch algorithm {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
        return (0..<length).map { base[$0 % 10] }
    }

    @Test("matches the RFC 6238 test vectors", arguments: vectors)
    func rfcVectors(_ vector: Vector) {
        let totp = TOTP(secret: Self.seed(vector.algorithm), digits: 8, algorithm: vector.algorithm)
        #expect(totp.code(at: Date(timeIntervalSince1970: vector.time)) == vector.code)
    }

    @Test("agrees with oathtool on random secrets and times")
    func oathtool() throws {
        let tool = ["/usr/bin/oathtool", "/usr/local/bin/oathtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let tool else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("oathtool is not installed; CI must install it (apt-get install oathtool)")
            }
            return
        }
        for _ in 0..<20 {
            let secret = TOTP.generateSecret()
            let time = Double(Int.random(in: 0...4_000_000_000))
            let totp = TOTP(secret: secret)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            let formatter = ISO8601DateFormatter()
            let when = formatter.string(from: Date(timeIntervalSince1970: time))
                .replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
            process.arguments = ["--totp", "-b", Base32.encode(secret), "-N", when]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            process.waitUntilExit()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(output == totp.code(at: Date(timeIntervalSince1970: time)), "secret \(Base32.encode(secret)) at \(when)")
        }
    }

    @Test("accepts one step either side and nothing further")
    func window() {
        let totp = TOTP(secret: TOTP.generateSecret())
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = totp.step(at: now)
        #expect(totp.matchingStep(for: totp.code(step: step), at: now) == step)
        #expect(totp.matchingStep(for: totp.code(step: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(for: totp.code(step: step + 1), at: now) == step + 1)
        let stale = totp.code(step: step - 2)
        if stale != totp.code(step: step), stale != totp.code(step: step - 1), stale != totp.code(step: step + 1) {
            #expect(totp.matchingStep(for: stale, at: now) == nil)
        }
        #expect(totp.matchingStep(for: "12345", at: now) == nil)
        #expect(totp.matchingStep(for: "abcdef", at: now) == nil)
    }

    @Test("base32 round-trips any bytes and ignores spaces and case")
    func base32() {
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let text = Base32.encode(bytes)
            #expect(Base32.decode(text) == bytes)
            #expect(Base32.decode(text.lowercased()) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")  // RFC 4648 section 10, unpadded
        #expect(Base32.decode("MZXW 6YTB OI======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil, "1 is not in the alphabet")
    }

    @Test("the provisioning URI carries what authenticator apps need")
    func provisioning() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        let uri = totp.provisioningURI(account: "ayesha", issuer: "Qila")
        #expect(uri.hasPrefix("otpauth://totp/Qila:ayesha?"))
        #expect(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
        #expect(uri.contains("issuer=Qila"))
        #expect(uri.contains("period=30"))
    }
}

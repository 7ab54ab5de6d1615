import ArgumentParser
import Foundation
import QilaVulnerabilities

/// `qila cvss VECTOR…`: the score and rating of CVSS 3.1 and 4.0 vectors, as advisories compute them.
struct CVSSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvss",
        abstract: "Score CVSS 3.1 (base) and 4.0 vectors: one line per vector, the vector as stored, its score and rating.",
        discussion: "Reads the vectors given, or one per line from standard input when none is given. A bad vector is named with what is wrong, and the exit status is 1.")

    @Argument(help: "Vectors such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H or CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N.")
    var vectors: [String] = []

    func run() throws {
        var failed = false
        let input = vectors.isEmpty ? Array(sequence(state: (), next: { _ in readLine() })) : vectors
        for text in input where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let scored = try CVSSScore(text)
                print("\(scored.vector)\t\(String(format: "%.1f", scored.score))\t\(scored.severity.rawValue)")
            } catch {
                failed = true
                FileHandle.standardError.write(Data("\(text): \(error)\n".utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }
}

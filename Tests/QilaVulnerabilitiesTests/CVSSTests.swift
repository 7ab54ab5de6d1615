import Testing
@testable import QilaVulnerabilities

/// Scores of well-known vectors (the peer comparison over thousands of random vectors is
/// scripts/e2e/test_cvss_peer.py, against the `cvss` package from PyPI).
@Suite("CVSS 3.1 and 4.0 scores")
struct CVSSTests {
    @Test("Known vectors score as FIRST's calculators score them", arguments: [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, CVSSSeverity.critical),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, .critical),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, .medium),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N", 0.0, .none),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, .critical),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 8.1, .high),
        ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5, .high),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0, .none),
    ])
    func known(vector: String, score: Double, severity: CVSSSeverity) throws {
        let scored = try CVSSScore(vector)
        #expect(scored.score == score)
        #expect(scored.severity == severity)
    }

    @Test("Vectors are stored in the specification's order, unset metrics left out")
    func canonical() throws {
        #expect(try CVSSScore("CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U").vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        #expect(try CVSSScore("CVSS:4.0/E:X/SA:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/U:Red").vector
            == "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Red")
    }

    @Test("A bad vector is refused with the metric named", arguments: [
        ("CVSS:3.0/AV:N", "must begin with CVSS:3.1/ or CVSS:4.0/"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "lacks the base metric A"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/RL:O", "gives RL, a temporal or environmental metric: an advisory gives the base metrics only"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/SA:L", "gives SA twice"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N", "SI:S is not a value of SI (one of H, L, N)"),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/ZZ:A", "has no metric ZZ in CVSS:4.0"),
        ("CVSS:4.0/AV:N//AC:L", "'' is not written METRIC:VALUE"),
    ])
    func refused(vector: String, message: String) {
        #expect(throws: CVSSProblem(message: message)) { try CVSSScore(vector) }
    }
}

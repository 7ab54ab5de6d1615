"""`qila cvss` against the `cvss` package from PyPI (Red Hat's implementation of FIRST's
calculators) on the same seeded random vectors: every CVSS 3.1 base vector and CVSS 4.0 vector
(base, threat, environmental and supplemental metrics) must get the same score."""
import random
import subprocess

from cvss import CVSS3, CVSS4

from conftest import BINARY

V31 = [("AV", "NALP"), ("AC", "LH"), ("PR", "NLH"), ("UI", "NR"), ("S", "UC"), ("C", "HLN"), ("I", "HLN"), ("A", "HLN")]
V40_BASE = [("AV", "NALP"), ("AC", "LH"), ("AT", "NP"), ("PR", "NLH"), ("UI", "NPA"), ("VC", "HLN"), ("VI", "HLN"), ("VA", "HLN"),
            ("SC", "HLN"), ("SI", "HLN"), ("SA", "HLN")]
V40_MORE = [("E", "XAPU"), ("CR", "XHML"), ("IR", "XHML"), ("AR", "XHML"), ("MAV", "XNALP"), ("MAC", "XLH"), ("MAT", "XNP"),
            ("MPR", "XNLH"), ("MUI", "XNPA"), ("MVC", "XHLN"), ("MVI", "XHLN"), ("MVA", "XHLN"), ("MSC", "XHLN"), ("MSI", "XSHLN"),
            ("MSA", "XSHLN"), ("S", "XNP"), ("AU", "XNY"), ("R", "XAUI"), ("V", "XDC"), ("RE", "XLMH"), ("U", ["X", "Clear", "Green", "Amber", "Red"])]


def score(vectors):
    result = subprocess.run([BINARY, "cvss"], input="\n".join(vectors) + "\n", capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == len(vectors)
    return [float(line.split("\t")[1]) for line in lines]


def test_cvss31_base_scores_agree_with_the_peer():
    rng = random.Random(31)
    vectors = ["CVSS:3.1/" + "/".join(f"{m}:{rng.choice(v)}" for m, v in V31) for _ in range(3000)]
    ours = score(vectors)
    differ = [(v, s, CVSS3(v).base_score) for v, s in zip(vectors, ours) if float(CVSS3(v).base_score) != s]
    assert not differ, differ[:10]


def test_cvss40_scores_agree_with_the_peer():
    rng = random.Random(40)
    vectors = []
    for index in range(4000):
        parts = [f"{m}:{rng.choice(v)}" for m, v in V40_BASE]
        # Half the vectors are base only; the rest set each further metric with probability 0.3.
        if index % 2:
            parts += [f"{m}:{rng.choice(v)}" for m, v in V40_MORE if rng.random() < 0.3]
        vectors.append("CVSS:4.0/" + "/".join(parts))
    ours = score(vectors)
    differ = [(v, s, CVSS4(v).base_score) for v, s in zip(vectors, ours) if float(CVSS4(v).base_score) != s]
    assert not differ, differ[:10]


def test_bad_vectors_are_named():
    result = subprocess.run([BINARY, "cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:4.0/AV:N/AV:L", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "lacks the base metric A" in result.stderr
    assert "gives AV twice" in result.stderr
    assert "E, a temporal or environmental metric" in result.stderr

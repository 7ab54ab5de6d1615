"""Assessment frameworks with a real OSCAL peer: NIST's compliance-trestle (PyPI) reads the OSCAL
catalog `qila frameworks export` writes for the shipped CSF 2.0 and for a framework whose ids are
not OSCAL tokens; `qila frameworks lint` lists every problem of a file with line and key."""
import json
import os
import subprocess

from trestle.oscal.catalog import Catalog

from conftest import BINARY


def qila(*args, check=True):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, check=check)


def test_trestle_reads_the_csf_catalog(tmp_path):
    path = tmp_path / "csf.json"
    qila("frameworks", "export", "nist-csf-2.0", "--format", "oscal", "--output", str(path))
    catalog = Catalog.parse_obj(json.loads(path.read_text())["catalog"])
    assert catalog.metadata.title == "NIST Cybersecurity Framework" and catalog.metadata.version == "2.0"
    assert [g.id for g in catalog.groups] == ["GV", "ID", "PR", "DE", "RS", "RC"]
    subcategories = [s for g in catalog.groups for c in g.controls for s in (c.controls or [])]
    assert len(subcategories) == 106
    first = subcategories[0]
    assert first.id == "GV.OC-01" and first.parts[0].name == "statement"
    assert first.parts[0].prose == "The organizational mission is understood and informs cybersecurity risk management"


def test_trestle_reads_the_cpg_catalog(tmp_path):
    path = tmp_path / "cpg.json"
    qila("frameworks", "export", "cisa-cpg-2.0", "--format", "oscal", "--output", str(path))
    catalog = Catalog.parse_obj(json.loads(path.read_text())["catalog"])
    assert [g.title for g in catalog.groups] == ["Govern", "Identify", "Protect", "Detect", "Respond", "Recover"]
    goals = [c for g in catalog.groups for c in g.controls]
    assert len(goals) == 34
    # "1.A" is not an OSCAL token: the id is made one, the goal's own number kept as its label.
    labels = [next(p.value for p in c.props if p.name == "label") for c in goals]
    assert labels[:3] == ["1.A", "1.B", "1.C"] and labels[-1] == "6.A"


def test_a_regulators_framework_lints_exports_and_validates(tmp_path):
    good = tmp_path / "telecom.yaml"
    good.write_text("""id: telecom-regs
name: Telecom security regulations
version: "2026"
levels: [part, regulation]
scoring:
  kind: status
  levels:
    - {value: implemented, name: Implemented, credit: 1}
    - {value: partly, name: Partly, credit: 0.5}
    - {value: not, name: Not implemented, credit: 0}
requirements:
  - id: "1"
    title: Governance
    description: The licensee governs its security
    children:
      - {id: 1.A, text: "A security officer is named, reporting to the board"}
      - {id: 1.B, text: "Risks are assessed every year", weight: 2}
mappings:
  - target: nist-csf-2.0
    links:
      - {from: 1.A, to: GV.RR-02, relation: subset}
""")
    result = qila("frameworks", "lint", str(good))
    assert "telecom-regs 2026, 2 requirements answered, no problem" in result.stdout
    exported = tmp_path / "telecom.json"
    qila("frameworks", "export", str(good), "--format", "oscal", "--output", str(exported))
    catalog = Catalog.parse_obj(json.loads(exported.read_text())["catalog"])
    group = catalog.groups[0]
    assert group.id == "r-1" and [p.value for p in group.props if p.name == "label"] == ["1"]
    assert [c.id for c in group.controls] == ["r-1.A", "r-1.B"]
    assert [p.value for p in group.controls[1].props if p.name == "weight"] == ["2.0"]

    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("weight: 2", "weight: -2").replace("GV.RR-02", "GV.RR-99") + "colour: red\n")
    result = qila("frameworks", "lint", str(bad), check=False)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any("line 17, key requirements[0].children[1].weight: must be a number above 0" in line for line in lines), lines
    assert any("line 22, key colour: is not a key here" in line for line in lines), lines

    # A mapping to a requirement CSF 2.0 does not have is found once the file is otherwise right.
    bad.write_text(good.read_text().replace("GV.RR-02", "GV.RR-99"))
    result = qila("frameworks", "lint", str(bad), check=False)
    assert result.returncode == 1 and "'GV.RR-99' is not a requirement of nist-csf-2.0" in result.stdout


def test_the_authority_adds_frameworks_to_the_installation(tmp_path):
    data = str(tmp_path / "data")
    qila("admin", "create-organisation", "--name", "National CERT", "--kind", "authority", "--sector", "government", "--data", data)
    qila("admin", "create-organisation", "--name", "Operator A", "--kind", "licensee", "--sector", "telecom", "--data", data)
    qila("admin", "create-user", "--organisation", "National CERT", "--username", "analyst", "--name", "Analyst",
         "--role", "authority-analyst", "--service", "--data", data)
    qila("admin", "create-user", "--organisation", "Operator A", "--username", "a-admin", "--name", "A admin",
         "--role", "organisation-admin", "--service", "--data", data)
    regs = tmp_path / "telecom.yaml"
    regs.write_text("""id: telecom-regs
name: Telecom security regulations
version: "2026"
scoring:
  kind: status
  levels:
    - {value: implemented, name: Implemented, credit: 1}
    - {value: not, name: Not implemented, credit: 0}
requirements:
  - {id: R1, text: "A security officer is named"}
""")
    added = qila("frameworks", "add", str(regs), "--as", "analyst", "--data", data)
    assert "telecom-regs 2026 added: Telecom security regulations, 1 requirements answered" in added.stdout

    refused = qila("frameworks", "add", str(regs), "--as", "analyst", "--data", data, check=False)
    assert refused.returncode != 0 and "already stored; a revision needs a new version" in refused.stderr
    operator = qila("frameworks", "add", str(regs), "--as", "a-admin", "--data", data, check=False)
    assert operator.returncode != 0 and "framework" in operator.stderr

    # An OSCAL catalog (here the CSF's, as Qila exports it) added under an id of the authority's choosing.
    catalog = tmp_path / "csf.json"
    qila("frameworks", "export", "nist-csf-2.0", "--format", "oscal", "--output", str(catalog))
    added = qila("frameworks", "add", str(catalog), "--oscal-id", "csf-copy", "--as", "analyst", "--data", data)
    assert "csf-copy 2.0 added: NIST Cybersecurity Framework, 106 requirements answered" in added.stdout

    listed = qila("frameworks", "list", "--data", data).stdout.splitlines()
    assert [line.split()[0] for line in listed[1:]] == ["cisa-cpg-2.0", "nist-csf-2.0", "telecom-regs", "csf-copy"], listed
    exported = tmp_path / "regs.json"
    qila("frameworks", "export", "telecom-regs", "--format", "oscal", "--output", str(exported), "--data", data)
    catalog = Catalog.parse_obj(json.loads(exported.read_text())["catalog"])
    assert [c.id for c in catalog.groups] == ["R1"]

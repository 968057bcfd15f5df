"""User-facing text names sources by author and year: no ticket numbers ("issue 13"), no source
file numbers ("Seed 001"), no "the talk", no internal file names, in any shipped source file,
document or printed string; and the project files a new user looks for are there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [p for pattern in ("lingauss/**/*.py", "neural/**/*.py", "analysis/**/*.py",
                             "examples/**/*.py", "docs/**/*.rst", "docs/**/*.py", "*.md", "*.cff",
                             "pyproject.toml")
           for p in ROOT.glob(pattern) if "_build" not in p.parts]
SHORTHAND = re.compile(r"\bissue\s+#?\d+|\bseed\s+00\d\b|\bthe talk\b|DESIGN\.md|/work/", re.I)


def test_no_internal_shorthand_in_shipped_text():
    assert len(SHIPPED) > 50
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in SHIPPED for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if SHORTHAND.search(line)]
    assert not hits, "\n".join(hits)


def test_the_flow_benchmark_report_names_the_paper():
    from analysis.bench import flow

    text = Path(flow.__file__).read_text(encoding="utf-8")
    assert "Song et al. (2023), Table 1" in text


def test_license_changelog_and_citation_are_there_and_agree_with_pyproject():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    license_text = (ROOT / "LICENSE").read_text()
    assert meta["license"] == "MIT" and license_text.startswith("MIT License")
    assert f"## {meta['version']}" in (ROOT / "CHANGELOG.md").read_text()
    cff = (ROOT / "CITATION.cff").read_text()
    assert "cff-version:" in cff and f"version: {meta['version']}" in cff and "license: MIT" in cff

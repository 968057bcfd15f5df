"""The documentation site builds with warnings as errors (what CI checks).

``sphinx-build -W`` turns every docutils/Sphinx warning into an error: malformed tables or
sections in any public docstring, a broken toctree, an unknown directive. numpydoc reports some
docstring problems as Python ``UserWarning`` s instead, which ``-W`` does not see; the test fails
on those too.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _build(builder: str, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-W", "error::UserWarning:numpydoc.docscrape", "-m", "sphinx", "-W",
           "--keep-going", "-E", "-q", "-b", builder, str(DOCS), str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def _check(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, f"sphinx failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}"
    assert "UserWarning" not in res.stderr, res.stderr[-8000:]


def test_docs_build_without_warnings(tmp_path):
    # every page is read, every docstring parsed and every cross-reference resolved; no HTML written
    _check(_build("dummy", tmp_path / "dummy"))


@pytest.mark.slow
def test_docs_html_build(tmp_path):
    _check(_build("html", tmp_path / "html"))
    html = tmp_path / "html"
    for page in ("index", "metrics", "references", "reproduction", "examples", "api/index",
                 "api/lingauss.information"):
        assert (html / f"{page}.html").exists(), page
    text = (html / "api" / "lingauss.information.html").read_text()
    assert "gaussian_mi" in text and "Examples" in text


def test_api_reference_lists_every_public_module():
    sys.path.insert(0, str(DOCS))
    try:
        import conf  # noqa: F401  (writes docs/api/*.rst)
    finally:
        sys.path.remove(str(DOCS))
    index = (DOCS / "api" / "index.rst").read_text()
    for name in ("lingauss", "lingauss.information", "lingauss.metrics.im", "neural.bridge",
                 "analysis.protocol", "analysis.reproduction"):
        assert f"   {name}\n" in index, name
    assert "_im_kernels" not in index and "_validation" not in index


def test_no_reference_to_files_outside_the_repository():
    """Docs, README and docstrings cite the references page, never a design file or a seed number."""
    offenders = []
    paths = [ROOT / "README.md", *DOCS.glob("*.rst"), *(ROOT / "lingauss").rglob("*.py")]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for bad in ("DESIGN.md", "seed 00", "seeds/"):
            if bad in text:
                offenders.append(f"{path.relative_to(ROOT)}: {bad!r}")
    assert not offenders, offenders

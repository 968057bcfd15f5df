"""The documentation site builds with warnings as errors (what CI checks).

``sphinx-build -W`` turns every docutils/Sphinx warning into an error: malformed tables or
sections in any public docstring, a broken toctree, an unknown directive, a missing figure.
numpydoc reports some docstring problems as Python ``UserWarning`` s instead, which ``-W`` does not
see; the test fails on those too. The default suite builds the fast form (the examples gallery
rendered without running the scripts); ``-m slow`` builds the HTML with every example run.
"""

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"


def _build(builder: str, out: Path, *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-W", "error::UserWarning:numpydoc.docscrape", "-m", "sphinx", "-W",
           "--keep-going", "-E", "-q", *options, "-b", builder, str(DOCS), str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)


def _check(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, f"sphinx failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}"
    assert "UserWarning" not in res.stderr, res.stderr[-8000:]


def test_docs_build_without_warnings(tmp_path):
    # every page is read, every docstring parsed and every cross-reference resolved; no HTML
    # written; the example pages are generated from the scripts without running them
    _check(_build("dummy", tmp_path / "dummy", "-D", "plot_gallery=0"))


_EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)


def external_resources(html: str) -> list[str]:
    """Tags of ``html`` that load a script, style sheet, image or frame from another host."""
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def test_external_resource_check_sees_a_cdn_script():
    # the check the built site is held to, on the tag the default MathJax setup writes
    cdn = '<script async="async" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    assert external_resources(cdn) and external_resources("<link rel='stylesheet' href='//x.org/a.css'>")
    assert not external_resources('<script src="_static/mathjax/tex-chtml.js"></script>'
                                  '<a href="https://example.org">a link is not a resource</a>')


@pytest.mark.slow
def test_docs_html_build(tmp_path):
    # the gallery's outputs live in docs/auto_examples (generated, ignored by git): start afresh so
    # that every example really runs in this build
    shutil.rmtree(DOCS / "auto_examples", ignore_errors=True)
    (DOCS / "sg_execution_times.rst").unlink(missing_ok=True)     # left by older gallery settings
    _check(_build("html", tmp_path / "html"))
    html = tmp_path / "html"
    for page in ("index", "metrics", "references", "reproduction", "results", "auto_examples/index",
                 "api/index", "api/lingauss.information"):
        assert (html / f"{page}.html").exists(), page
    text = (html / "api" / "lingauss.information.html").read_text()
    assert "gaussian_mi" in text and "Examples" in text

    # the gallery: one thumbnail per script, and every example page shows what its run printed
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    index = (html / "auto_examples" / "index.html").read_text()
    assert index.count('class="sphx-glr-thumbcontainer"') == len(scripts)
    for stem in scripts:
        page = (html / "auto_examples" / f"{stem}.html").read_text()
        assert "sphx-glr-script-out" in page, stem
    sweep = (html / "auto_examples" / "sweep_heatmap.html").read_text()
    figures = re.findall(r'<img[^>]+src="(\.\./_images/sphx_glr_sweep_heatmap_\d+\.png)"', sweep)
    assert len(figures) == 2 and all((html / "auto_examples" / f).resolve().exists() for f in figures)

    # offline: MathJax is served from the build, and no page loads anything from another host
    assert (html / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert 'src="_static/mathjax/tex-chtml.js"' in (html / "metrics.html").read_text()
    offenders = {str(p.relative_to(html)): bad for p in html.rglob("*.html")
                 if (bad := external_resources(p.read_text(encoding="utf-8")))}
    assert not offenders, offenders


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_every_figure_of_the_site_exists_and_is_page_sized():
    """Every image a page embeds is a committed PNG of at most 200 KB, drawn between 600 and 1800
    pixels wide (readable at the text column's width, without a multi-megabyte download)."""
    refs = []
    for rst in DOCS.glob("*.rst"):
        for target in re.findall(r"^\.\. (?:figure|image):: (\S+)", rst.read_text(), re.M):
            refs.append((rst.name, DOCS / target))
    assert len(refs) >= 7, refs
    for page, path in refs:
        assert path.suffix == ".png" and path.exists(), (page, path)
        width, height = _png_size(path)
        assert path.stat().st_size <= 200_000, (page, path, path.stat().st_size)
        assert 600 <= width <= 1800 and height >= 200, (page, path, width, height)


def test_every_example_has_gallery_settings_and_a_title():
    sys.path.insert(0, str(DOCS))
    try:
        from _gallery import GALLERY_ARGV
    finally:
        sys.path.remove(str(DOCS))
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert sorted(GALLERY_ARGV) == scripts
    for name in scripts:
        first, underline = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()[:2]
        assert first.startswith('"""') and set(underline) == {"="} and len(underline) >= len(first) - 3, name


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

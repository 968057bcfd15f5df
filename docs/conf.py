"""Sphinx configuration of the lingauss documentation (``sphinx-build -W docs <out>``).

The API reference is generated at build time (:func:`_write_api_pages`): one page per public module
of ``lingauss``, ``neural`` and ``analysis`` (modules whose name starts with ``_`` are private),
found by walking the packages, so a renamed or added module needs no edit here.

The examples gallery (sphinx-gallery) runs every script in ``examples/`` with the small settings of
``docs/_gallery.py`` and shows its output and figures; ``-D plot_gallery=0`` renders the pages
without running the scripts (the fast build of the test suite). MathJax is served from the build
itself (the ``sphinx-mathjax-offline`` package), so formulas render without a network.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))       # docs/_gallery.py
os.environ.setdefault("MPLBACKEND", "Agg")

project = "lingauss"
author = "the lingauss authors"
copyright = "2026, the lingauss authors"
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",        # MathJax 3 copied into _static/mathjax: no CDN
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_theme = "pydata_sphinx_theme"
html_title = "lingauss"
html_static_path = ["_static"]
html_css_files = ["lingauss.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 3,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
# no left sidebar on the top-level pages (they have no sub-pages): the text and figures get its width
html_sidebars = {"*": []}
html_show_sourcelink = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/",                     # run every script, not only plot_*.py
    "reset_argv": "_gallery.reset_argv",         # small settings for the build
    "image_scrapers": ("matplotlib", "_gallery.written_pngs"),
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_signature": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "write_computation_times": False,            # its pages load tables from a CDN
}

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
numpydoc_xref_param_type = False
mathjax3_config = {"tex": {"macros": {"tr": r"\operatorname{tr}"}}}

PACKAGES = ("lingauss", "neural", "analysis")
API_DIR = Path(__file__).resolve().parent / "api"


def public_modules(package: str) -> list[tuple[str, bool]]:
    """``(name, is_package)`` of ``package`` and its public submodules, depth first."""
    pkg = importlib.import_module(package)
    out = [(package, True)]
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            out.append((info.name, info.ispkg))
    return sorted(out)


def _write(path: Path, text: str) -> None:
    # leave an identical file alone so Sphinx's incremental build sees no change
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _write_api_pages() -> None:
    API_DIR.mkdir(exist_ok=True)
    index = ["API reference", "=============", "",
             "Generated from the numpydoc docstrings; one page per public module.", ""]
    written = {"index.rst"}
    for package in PACKAGES:
        mods = public_modules(package)
        index += [f"``{package}``", "-" * (len(package) + 4), "", ".. toctree::",
                  "   :maxdepth: 1", ""]
        index += [f"   {name}" for name, _ in mods] + [""]
        for name, is_pkg in mods:
            title = f"``{name}``"
            body = [title, "=" * len(title), "", f".. automodule:: {name}"]
            # a package page shows its docstring only: its re-exports are documented where defined
            body += ["   :no-members:", ""] if is_pkg else [""]
            _write(API_DIR / f"{name}.rst", "\n".join(body))
            written.add(f"{name}.rst")
    _write(API_DIR / "index.rst", "\n".join(index))
    for stale in API_DIR.glob("*.rst"):     # the page of a module that was renamed or removed
        if stale.name not in written:
            stale.unlink()


_write_api_pages()


# --- plain-text bars -------------------------------------------------------------------------------
# Docstrings are read with help() as often as on this site, so they write determinants, norms and
# absolute values as |x| in plain text. In reStructuredText |x| is a substitution reference; escape
# every bar outside inline literals, roles, math blocks and table/line-block rows so that it renders
# as written. (The site uses no substitutions.)
import re  # noqa: E402

_SPAN = re.compile(r"(:[\w:+-]+:`[^`]*`|``.*?``|`[^`]*`_{0,2})")


def _escape_bars(line: str) -> str:
    parts = _SPAN.split(line)
    return "".join(p if i % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for i, p in enumerate(parts))


def literal_bars(app, what, name, obj, options, lines):
    block_indent = None
    for k, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if stripped and indent <= block_indent:
                block_indent = None
            else:
                continue
        if stripped.startswith(".. math::") or stripped.startswith(".. code") or line.rstrip().endswith("::"):
            block_indent = indent
            continue
        if stripped.startswith(("|", "+")) or ">>>" in stripped[:4] or stripped.startswith("..."):
            continue
        lines[k] = _escape_bars(line)


def skip_type_aliases(app, what, name, obj, skip, options):
    """Leave out module-level type aliases (``Grouping = tuple[tuple[int, ...], ...]``): autodoc
    takes a subscripted generic for a class and fails on its signature; the module docstring and
    the functions' annotations describe the form."""
    import types

    return True if isinstance(obj, types.GenericAlias) else None


def setup(app):
    app.connect("autodoc-process-docstring", literal_bars)
    app.connect("autodoc-skip-member", skip_type_aliases)

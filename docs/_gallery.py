"""sphinx-gallery hooks of this site: small settings for the examples, and their PNG files as figures.

The scripts in ``examples/`` keep the defaults a user runs; the documentation build runs each with
the small flags of :data:`GALLERY_ARGV` (``reset_argv``), writing its output files into a scratch
folder per example (:data:`OUT`), never into the source tree. The examples save their figures to
files and close them (as a script run from a terminal does), so the matplotlib scraper sees none;
:func:`written_pngs` puts every PNG an example wrote under its scratch folder on its page.

``conf.py`` names these hooks by their import path (``"_gallery.reset_argv"``), which keeps the
Sphinx configuration picklable.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

#: Scratch folder of this build: ``OUT/<example name>/`` holds what that example writes.
OUT = Path(tempfile.mkdtemp(prefix="lingauss-gallery-"))

#: script → flags of the run shown on its page (``{out}``: its scratch folder). Each run takes
#: seconds; the scripts' defaults (what ``python examples/<name>.py`` does) are unchanged.
GALLERY_ARGV = {
    "sweep_heatmap.py": ["--points", "4", "--executor", "none", "--out", "{out}"],
    "property_test_mi_estimator.py": ["--examples", "5"],
    "score_latents_each_epoch.py": ["--epochs", "2", "--images", "600"],
    "koopman_sequences.py": ["--steps", "5", "--sequences", "16", "--frames", "4"],
    "flow_mnist.py": ["--steps", "3", "--sequences", "16", "--frames", "3"],
    "beta_vae_dsprites.py": ["--steps", "20", "--images", "2200", "--out", "{out}"],
}


def out_dir(src_file) -> Path:
    """The scratch folder of the example ``src_file``."""
    return OUT / Path(src_file).stem


def reset_argv(gallery_conf, script_vars) -> list[str]:
    """``sys.argv[1:]`` of an example in the documentation build (sphinx-gallery's ``reset_argv``)."""
    name = Path(script_vars["src_file"]).name
    if name not in GALLERY_ARGV:
        raise ValueError(f"examples/{name} has no entry in docs/_gallery.py GALLERY_ARGV")
    out = out_dir(script_vars["src_file"])
    return [a.format(out=out) for a in GALLERY_ARGV[name]]


_SHOWN: set[Path] = set()


def written_pngs(block, block_vars, gallery_conf) -> str:
    """Image scraper: the PNG files the example wrote under its scratch folder since the last block."""
    from sphinx_gallery.scrapers import figure_rst

    folder = out_dir(block_vars["src_file"])
    new = sorted(p for p in folder.rglob("*.png") if p not in _SHOWN) if folder.exists() else []
    targets = []
    for png, target in zip(new, block_vars["image_path_iterator"]):
        shutil.copyfile(png, target)
        _SHOWN.add(png)
        targets.append(target)
    return figure_rst(targets, gallery_conf["src_dir"])

"""The README's code runs verbatim: every ```python block is saved as a file and run with
``python FILE``, as a reader who pastes it into ``qs.py`` would (so a process pool that re-imported
the main module, or anything that needs an ``if __name__ == "__main__":`` guard, fails here).

Each block runs in a temporary working directory (they write ``sweep.jsonl`` and checkpoints), with
this checkout first on the path. The block that trains a neural network is opt-in (``-m slow``);
the closed-form one runs in the default suite.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"),
                    re.S | re.M)


def _is_neural(block: str) -> bool:
    return "import torch" in block or "from neural" in block


def _run_as_file(block: str, where: Path, extra_env=None) -> str:
    script = where / "qs.py"
    script.write_text(block, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           **(extra_env or {})}
    proc = subprocess.run([sys.executable, str(script)], cwd=where, env=env, capture_output=True,
                          text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_readme_has_both_quick_starts():
    assert sum(not _is_neural(b) for b in BLOCKS) == 1 and sum(_is_neural(b) for b in BLOCKS) == 1


def test_core_quick_start_runs_as_a_plain_script(tmp_path):
    (block,) = [b for b in BLOCKS if not _is_neural(b)]
    assert "__main__" not in block                      # pasted as it is, no guard
    out = _run_as_file(block, tmp_path)
    assert "converged" in out and "success" in out
    assert (tmp_path / "sweep.jsonl").stat().st_size > 0      # the sweep stored its rows


@pytest.mark.slow
def test_neural_quick_start_runs_as_a_plain_script(tmp_path):
    pytest.importorskip("torch")
    (block,) = [b for b in BLOCKS if _is_neural(b)]
    out = _run_as_file(block, tmp_path, {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                         "NUMBA_NUM_THREADS": "1"})
    assert "I_m =" in out and "SAP =" in out

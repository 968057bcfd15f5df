"""The README's code runs verbatim: every ```python block is executed as written.

Blocks run in order in one namespace (as a reader pastes them), in a temporary working directory
(they write ``sweep.jsonl`` and checkpoints). The block that trains a neural network is opt-in
(``-m slow``); the closed-form one runs in the default suite.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"),
                    re.S | re.M)


def _is_neural(block: str) -> bool:
    return "import torch" in block or "from neural" in block


def _run(block: str, namespace: dict, where: Path, capsys) -> str:
    old = Path.cwd()
    os.chdir(where)
    try:
        exec(compile(block, "README.md", "exec"), namespace)
    finally:
        os.chdir(old)
    return capsys.readouterr().out


def test_readme_has_both_quick_starts():
    assert sum(not _is_neural(b) for b in BLOCKS) == 1 and sum(_is_neural(b) for b in BLOCKS) == 1


def test_core_quick_start_runs(tmp_path, capsys):
    (block,) = [b for b in BLOCKS if not _is_neural(b)]
    out = _run(block, {"__name__": "__readme__"}, tmp_path, capsys)
    assert "converged" in out and "success" in out
    assert (tmp_path / "sweep.jsonl").stat().st_size > 0      # the sweep stored its rows


@pytest.mark.slow
def test_neural_quick_start_runs(tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    (block,) = [b for b in BLOCKS if _is_neural(b)]
    out = _run(block, {"__name__": "__readme__"}, tmp_path, capsys)
    assert "I_m =" in out and "SAP =" in out

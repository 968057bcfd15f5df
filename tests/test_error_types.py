"""One error type for bad arguments: every deliberate check raises InvalidParameter (a ValueError)
and every missing optional dependency MissingDependency (an ImportError); the command line reports
exactly those as usage mistakes."""

import ast
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _raises(name):
    for pkg in ("lingauss", "neural", "analysis"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                        and isinstance(node.exc.func, ast.Name) and node.exc.func.id == name:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}"


@pytest.mark.parametrize("builtin, ours", [("ValueError", "InvalidParameter"), ("ImportError", "MissingDependency")])
def test_project_code_raises_its_own_error_types(builtin, ours):
    found = list(_raises(builtin))
    assert not found, f"raise {ours} instead of {builtin} at: {found}"


def test_the_error_types_subclass_the_builtins():
    from lingauss.params import InvalidParameter, MissingDependency

    assert issubclass(InvalidParameter, ValueError) and issubclass(MissingDependency, ImportError)


def test_cli_names_the_option_that_set_the_bad_argument(tmp_path, capsys):
    from analysis.cli import main

    a = np.random.default_rng(0).standard_normal((6, 50))
    np.save(tmp_path / "cov.npy", a @ a.T / 50 + 0.1 * np.eye(6))
    assert main(["metric", str(tmp_path / "cov.npy"), "--latents", "3", "--time-limit", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --time-limit: time_limit must be") and err.count("\n") == 1

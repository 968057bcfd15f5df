"""Package-level promises: `import lingauss` needs no torch, is fast, and exports what it lists."""

import ast
import pathlib
import subprocess
import sys

import lingauss

ROOT = pathlib.Path(lingauss.__file__).parent


def test_core_never_imports_torch():
    for path in ROOT.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in {"torch", "neural", "analysis"} for n in names), path


def test_import_does_not_load_torch_or_sympy():
    code = "import sys, lingauss; print('torch' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_public_names_exist():
    for name in lingauss.__all__:
        assert hasattr(lingauss, name), name

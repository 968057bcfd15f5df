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


def test_no_module_is_shadowed_by_a_name_its_package_exports():
    """`import pkg.mod as m` must give the module: a package attribute named like one of its
    modules (e.g. a function `blahut_arimoto` in module `blahut_arimoto`) would replace it."""
    import importlib
    import pkgutil

    for pkg_name in ("lingauss", "lingauss.metrics", "analysis", "neural", "neural.data",
                     "neural.models", "neural.koopman", "neural.flow"):
        try:
            pkg = importlib.import_module(pkg_name)
        except ImportError:                     # torch-free installs: the neural packages are absent
            continue
        for info in pkgutil.iter_modules(pkg.__path__):
            attr = getattr(pkg, info.name, None)
            assert attr is None or type(attr).__name__ == "module", f"{pkg_name}.{info.name}"

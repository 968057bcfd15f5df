"""analysis: sweeps, paper reproductions, baselines, plots, benchmarks and the ``lingauss`` CLI.
Imports :mod:`lingauss` (and :mod:`neural` where needed); nothing imports it back.

The names below are imported on first use (PEP 562), so that ``import analysis`` — and with it the
``lingauss`` command's entry point, :mod:`analysis._console` — costs nothing until a name is read.
"""

from importlib import import_module

#: public name → the module that defines it
_EXPORTS = {"Protocol": "protocol", "PUBLISHED": "reproduction", "Reproduction": "reproduction",
            "reproduce": "reproduction", "sweep": "sweeps", "SweepTable": "table"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

"""analysis: sweeps, paper reproductions, baselines, plots, benchmarks and the ``lingauss`` CLI.

Imports :mod:`lingauss` (and :mod:`neural` where needed); nothing imports it back.
"""

__all__: list[str] = []

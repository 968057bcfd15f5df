"""``symbolic_matrix``: a sympy Matrix of real symbols, the building block shared by
:mod:`lingauss.symbolic` (the derivations) and :mod:`lingauss.noise_families` (each learned family's
symbolic form). It lives apart so that neither of those modules imports the other."""

from __future__ import annotations

import sympy as sp

from lingauss.params import InvalidParameter

__all__ = ["symbolic_matrix"]


def symbolic_matrix(
    name: str,
    rows: int,
    cols: int,
    symmetric: bool = False,
    diagonal: bool = False,
    positive: bool | None = None,
) -> sp.Matrix:
    """A ``rows × cols`` Matrix of real symbols ``name_ij`` (1-based indices).

    ``symmetric``: entry (j, i) reuses the symbol of (i, j) (square only). ``diagonal``:
    off-diagonal entries are 0 (square only). ``positive``: ``None`` (default) makes the diagonal
    symbols of a symmetric/diagonal matrix positive (they are variances) and the rest real;
    ``True`` makes every symbol positive; ``False`` makes every symbol only real.
    """
    if not isinstance(name, str) or not name:
        raise InvalidParameter(f"name must be a non-empty string, got {name!r}")
    for arg, val in (("rows", rows), ("cols", cols)):
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            raise InvalidParameter(f"{arg} must be a positive int, got {val!r}")
    if (symmetric or diagonal) and rows != cols:
        raise InvalidParameter(f"symmetric/diagonal needs rows == cols, got {rows} × {cols}")
    if positive not in (None, True, False):
        raise InvalidParameter(f"positive must be None, True or False, got {positive!r}")
    sep = "" if max(rows, cols) < 10 else "_"

    def sym(i: int, j: int) -> sp.Symbol:
        pos = positive if positive is not None else ((symmetric or diagonal) and i == j)
        kw = {"positive": True} if pos else {"real": True}
        return sp.Symbol(f"{name}_{i + 1}{sep}{j + 1}", **kw)

    def entry(i: int, j: int) -> sp.Expr:
        if diagonal and i != j:
            return sp.S.Zero
        if symmetric and j < i:
            return sym(j, i)
        return sym(i, j)

    return sp.Matrix(rows, cols, entry)

"""The tidy result of a sweep: one row per (scenario, γ, λ, seed, decoder family).

:class:`SweepTable` is a thin list of plain dict rows with the readers a user needs — a column as
an array, a (γ, λ) grid for heatmaps, success rates, ``to_pandas()`` (when pandas is installed) and
CSV / JSON-lines writers (atomic) and a JSON-lines reader.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from lingauss.params import InvalidParameter, MissingDependency
from .evaluate import apply_reading, grouping_text

__all__ = ["SweepTable", "COLUMNS", "write_text_atomic"]

#: Columns of a sweep row, in display order (``B``/``sigma_w`` are kept in JSON lines only).
COLUMNS = ("scenario", "size", "true_grouping", "decoder_noise", "seed", "gamma", "lam", "status",
           "n_iter", "loss_total", "loss_kl", "loss_nll", "loss_mse", "relative_error",
           "relative_error_mean", "im_score", "im_grouping", "im_outcome", "im_ties", "sap_score",
           "sap_grouping", "sap_outcome", "recon_ok", "eligible", "im_success", "sap_success",
           "message", "metric_error")
_GROUPING_COLUMNS = ("true_grouping", "im_grouping", "sap_grouping")


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace`` (never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class SweepTable:
    """Rows of a sweep (dicts with the :data:`COLUMNS`), plus how many were computed vs reused."""

    def __init__(self, rows: Iterable[dict], *, n_computed: int = 0, n_reused: int = 0) -> None:
        self.rows = list(rows)
        self.n_computed = n_computed
        self.n_reused = n_reused

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self) -> str:
        return f"SweepTable({len(self)} rows, {self.n_computed} computed, {self.n_reused} reused)"

    # ---------------------------------------------------------------- selection
    def where(self, **equal) -> "SweepTable":
        """Rows whose fields equal the given values (e.g. ``where(scenario=..., seed=0)``)."""
        return SweepTable(r for r in self.rows if all(r.get(k) == v for k, v in equal.items()))

    def column(self, name: str) -> np.ndarray:
        """One column as an array (object dtype for text and groupings)."""
        if self.rows and name not in self.rows[0]:
            raise InvalidParameter(f"no column {name!r}; columns are {list(self.rows[0])}")
        values = [r[name] for r in self.rows]
        if values and all(isinstance(v, (bool, int, float, np.number)) or v is None for v in values) \
                and not any(isinstance(v, bool) for v in values):
            return np.array([np.nan if v is None else v for v in values], dtype=float)
        return np.array(values, dtype=object) if values else np.empty(0)

    def grid(self, field: str, *, scenario: str, decoder_noise: str | None = None, seed: int | None = None):
        """``(gammas, lams, values)``: ``field`` on the (γ, λ) grid of one scenario (seed, family).

        ``values`` is (len(gammas), len(lams)) float, NaN where a point is missing; booleans become
        0/1 and a status becomes its index in :data:`lingauss.STATUSES`.
        """
        import lingauss as lg

        sel = [r for r in self.rows if r["scenario"] == scenario
               and (decoder_noise is None or r["decoder_noise"] == decoder_noise)
               and (seed is None or r["seed"] == seed)]
        if not sel:
            raise InvalidParameter(f"no rows for scenario={scenario!r}, decoder_noise={decoder_noise!r}, seed={seed!r}")
        gammas = np.array(sorted({r["gamma"] for r in sel}))
        lams = np.array(sorted({r["lam"] for r in sel}))
        values = np.full((gammas.size, lams.size), np.nan)
        for r in sel:
            v = r[field]
            if field == "status":
                v = lg.STATUSES.index(v) if v in lg.STATUSES else len(lg.STATUSES)
            values[np.searchsorted(gammas, r["gamma"]), np.searchsorted(lams, r["lam"])] = \
                np.nan if v is None else float(v)
        return gammas, lams, values

    # ---------------------------------------------------------------- summaries
    def reread(self, protocol) -> "SweepTable":
        """The same points judged under another protocol's reading (tolerance, error reading,
        accepted statuses); the solver fields of ``protocol`` are not used."""
        return SweepTable((apply_reading(r, protocol) for r in self.rows),
                          n_computed=self.n_computed, n_reused=self.n_reused)

    def success_rates(self, by: tuple[str, ...] = ("scenario",)) -> dict:
        """``{key: {"n", "eligible", "im", "sap", "status": {...}}}`` with rates in percent.

        ``key`` is the tuple of the ``by`` fields (a bare value when ``by`` has one field); rates are
        successes over all points of the group (Vu et al.'s (2024) "over the total 25 pairs").
        """
        out: dict = {}
        for r in self.rows:
            key = tuple(r[b] for b in by)
            key = key[0] if len(by) == 1 else key
            g = out.setdefault(key, {"n": 0, "eligible": 0, "im": 0, "sap": 0, "status": {}})
            g["n"] += 1
            g["eligible"] += bool(r["eligible"])
            g["im"] += bool(r["im_success"])
            g["sap"] += bool(r["sap_success"])
            g["status"][r["status"]] = g["status"].get(r["status"], 0) + 1
        for g in out.values():
            for k in ("im", "sap", "eligible"):
                g[f"{k}_rate"] = 100.0 * g[k] / g["n"]
        return out

    # ---------------------------------------------------------------- export
    def _flat(self, row: dict) -> dict:
        flat = {c: row.get(c) for c in COLUMNS}
        for c in _GROUPING_COLUMNS:
            flat[c] = grouping_text(row.get(c))
        flat["size"] = "x".join(map(str, row["size"])) if row.get("size") else ""
        return flat

    def to_pandas(self):
        """A pandas DataFrame of the :data:`COLUMNS` (groupings as text); needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependency("to_pandas() needs pandas: pip install pandas") from None
        return pd.DataFrame([self._flat(r) for r in self.rows], columns=list(COLUMNS))

    def to_csv(self, path) -> Path:
        """Write the :data:`COLUMNS` as CSV (groupings as text such as ``{v1,v2}{v3}``)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS))
        writer.writeheader()
        for r in self.rows:
            writer.writerow(self._flat(r))
        return write_text_atomic(path, buf.getvalue())

    def to_jsonl(self, path) -> Path:
        """Write every field of every row (encoders included) as JSON lines."""
        return write_text_atomic(path, "".join(json.dumps(r, separators=(",", ":")) + "\n"
                                               for r in self.rows))

    @classmethod
    def read_jsonl(cls, path, protocol=None) -> "SweepTable":
        """Rows from a JSON-lines file (a sweep ``store`` or :meth:`to_jsonl` output), one per key
        (a finished row wins over an ``"error"`` row of the same key); with ``protocol`` the
        successes are re-read under it."""
        from .store import JsonlStore

        table = cls(JsonlStore(path).latest().values())
        return table.reread(protocol) if protocol is not None else table

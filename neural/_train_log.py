"""The metrics log of :class:`neural.train.Trainer`: CSV (``.csv``) or JSON lines, one row per
logged step; a resumed run drops the rows after its checkpoint's step before appending."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

__all__ = ["TrainLog"]


class TrainLog:
    def __init__(self, path: Path, keep_through_step: int | None):
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        self.fields: list[str] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if keep_through_step is not None and path.exists():
            self._truncate(keep_through_step)
        elif keep_through_step is None and path.exists():
            path.unlink()                          # a fresh run starts a fresh log
        if self.csv and path.exists() and path.stat().st_size > 0:
            with open(path, newline="") as fh:
                self.fields = next(csv.reader(fh), None)
        self.fh = open(path, "a", newline="")
        self.writer = None
        if self.csv and self.fields:
            self.writer = csv.DictWriter(self.fh, self.fields, restval="", extrasaction="ignore")

    def _truncate(self, step: int) -> None:
        text = self.path.read_text()
        if self.csv:
            rows = list(csv.reader(io.StringIO(text)))
            if not rows:
                return
            head, body = rows[0], rows[1:]
            col = head.index("step") if "step" in head else 0
            keep = [r for r in body if r and int(float(r[col])) <= step]
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(head)
            w.writerows(keep)
            new = out.getvalue()
        else:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            new = "".join(ln + "\n" for ln in lines if json.loads(ln).get("step", 0) <= step)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(new)
        os.replace(tmp, self.path)

    def write(self, row: dict) -> None:
        if self.csv:
            if self.writer is None:
                self.fields = list(row)
                self.writer = csv.DictWriter(self.fh, self.fields, restval="", extrasaction="ignore")
                self.writer.writeheader()
            self.writer.writerow(row)
        else:
            self.fh.write(json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                      for k, v in row.items()}) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()

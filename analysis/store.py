"""An append-only JSON-lines store that a killed process leaves readable and resumable.

Each :meth:`JsonlStore.append` writes a whole batch of rows with one ``write`` on a file opened
with ``O_APPEND`` and then ``fsync`` s it, so a batch is either on disk or (if the process dies
mid-write) leaves at most one truncated last line. :meth:`JsonlStore.read` skips such a line and
:meth:`JsonlStore.repair` cuts it off before the next append, so a resumed sweep never glues a new
row onto a broken one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["JsonlStore"]


class JsonlStore:
    """Rows (JSON objects, one per line) in ``path``; every row carries a string ``key``."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ValueError(f"store must be a file path, got the folder {self.path}")

    def read(self) -> list[dict]:
        """All complete rows, in file order; a truncated or unparsable line is skipped."""
        if not self.path.exists():
            return []
        rows = []
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break                                   # cut off by a kill mid-write
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and "key" in row:
                    rows.append(row)
        return rows

    def keys(self) -> set[str]:
        return {row["key"] for row in self.read()}

    def repair(self) -> None:
        """Cut a truncated last line (left by a kill mid-write) so the next append starts clean."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)

    def append(self, rows: list[dict]) -> None:
        """Append ``rows`` as one write (all or, after a crash, a readable prefix)."""
        if not rows:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

"""An append-only JSON-lines store that a killed process leaves readable and resumable, and that
several processes can fill at once without computing or storing a point twice.

Each :meth:`JsonlStore.append` writes a whole batch of rows with one ``write`` on a file opened
with ``O_APPEND`` and then ``fsync`` s it, so a batch is either on disk or (if the process dies
mid-write) leaves at most one truncated last line. :meth:`JsonlStore.read` skips such a line and
:meth:`JsonlStore.repair` cuts it off before the next append, so a resumed sweep never glues a new
row onto a broken one.

Concurrency (POSIX): a sidecar file ``<store>.lock`` carries ``fcntl`` record locks — byte 0 guards
every read-modify-append and repair (:meth:`JsonlStore.locked`), and one byte per point key
(offset from a hash of the key) is that point's *claim* (:meth:`JsonlStore.claim`). The operating
system drops the locks of a process that dies, so a killed sweep never leaves a point claimed.
Record locks belong to a process: two sweeps into one store from two *threads* of one process are
not kept apart. Where ``fcntl`` does not exist (Windows) the locks are no-ops.

A file that holds anything but store rows is refused (:meth:`JsonlStore.check`) and never written.
Reading back, :meth:`JsonlStore.latest` gives one row per key: a finished row wins over an
``"error"`` row of the same key (an error is retried by the next run), otherwise the first row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from lingauss.params import InvalidParameter

try:                                                    # POSIX record locks
    import fcntl
except ImportError:                                     # pragma: no cover - Windows
    fcntl = None

__all__ = ["JsonlStore", "NotAStoreError"]

_SLOTS = 1 << 40                                        # claim bytes live at 1 .. 2**40


class NotAStoreError(InvalidParameter):
    """The store path names a file that is not a JSON-lines store (left untouched)."""


def _is_row(obj) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("key"), str)


class JsonlStore:
    """Rows (JSON objects, one per line) in ``path``; every row carries a string ``key``."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise InvalidParameter(f"store must be a file path, got the folder {self.path}")
        self._offset = 0                                # bytes consumed by read_new()
        self._lock_fd: int | None = None
        self._claimed: set[int] = set()

    # ------------------------------------------------------------------ reading
    def check(self) -> None:
        """Raise :class:`NotAStoreError` unless the file is absent, empty, or only store rows.

        Every complete line must be a JSON object with a string ``key``; an unterminated last line
        (a kill mid-write) must at least begin like one (``{``). The file is only read.
        """
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    ok = line.startswith(b"{")
                else:
                    try:
                        ok = _is_row(json.loads(line))
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        ok = False
                if not ok:
                    raise NotAStoreError(
                        f"{self.path} is not a sweep store (line {number} is not a JSON row with a "
                        f"'key'); give a new file name or the store of an earlier sweep")

    def read(self) -> list[dict]:
        """All complete rows, in file order; a truncated or unparsable line is skipped."""
        return self._parse(0)[0]

    def _parse(self, start: int) -> tuple[list[dict], int]:
        """Rows of the complete lines from byte ``start``, and the byte after the last of them."""
        if not self.path.exists():
            return [], start
        rows, end = [], start
        with open(self.path, "rb") as fh:
            fh.seek(start)
            for line in fh:
                if not line.endswith(b"\n"):
                    break                               # cut off by a kill mid-write
                end += len(line)
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if _is_row(row):
                    rows.append(row)
        return rows, end

    def read_new(self) -> list[dict]:
        """Rows of the complete lines written since the previous ``read_new`` call (first: all)."""
        rows, self._offset = self._parse(self._offset)
        return rows

    def latest(self) -> dict[str, dict]:
        """One row per key (file order of first appearance): see the module doc."""
        return merge_rows({}, self.read())

    def keys(self) -> set[str]:
        return {row["key"] for row in self.read()}

    # ------------------------------------------------------------------ writing
    def repair(self) -> None:
        """Cut a truncated last line (left by a kill mid-write) so the next append starts clean.

        Reads only the tail of the file (back to the last newline)."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as fh:
            end = fh.seek(0, os.SEEK_END)
            pos = end
            while pos > 0:
                step = min(pos, 1 << 16)
                fh.seek(pos - step)
                chunk = fh.read(step)
                if pos == end and chunk.endswith(b"\n"):
                    return                              # clean end
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    fh.truncate(pos - step + cut + 1)
                    return
                pos -= step
            fh.truncate(0)                              # a single unterminated line

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

    # ------------------------------------------------------------------ locks
    def open_locks(self) -> None:
        """Open ``<store>.lock`` (kept open until :meth:`close_locks`: closing any descriptor of a
        file drops the process's record locks on it)."""
        if fcntl is None or self._lock_fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)

    def close_locks(self) -> None:
        """Release every claim and close the lock file."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)                     # drops every record lock of this process
            self._lock_fd = None
        self._claimed.clear()

    @contextlib.contextmanager
    def locked(self):
        """Hold the store's write lock (byte 0) for a read-modify-append or a repair."""
        if self._lock_fd is None:
            yield
            return
        fcntl.lockf(self._lock_fd, fcntl.LOCK_EX, 1, 0)
        try:
            yield
        finally:
            fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, 0)

    @staticmethod
    def _slot(key: str) -> int:
        return 1 + int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % _SLOTS

    def claim(self, keys, *, block: bool) -> bool:
        """Claim every point of ``keys`` (all or none); ``block`` waits for other processes.

        Claims are taken in slot order, so two processes waiting on each other's points cannot
        deadlock. Returns False (holding nothing new) when ``block`` is False and a point is held
        elsewhere.
        """
        if self._lock_fd is None:
            return True
        slots = sorted({self._slot(k) for k in keys} - self._claimed)
        got = []
        flags = fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB)
        try:
            for s in slots:
                fcntl.lockf(self._lock_fd, flags, 1, s)
                got.append(s)
        except OSError:
            for s in got:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, s)
            return False
        except BaseException:
            for s in got:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, s)
            raise
        self._claimed.update(got)
        return True

    def release(self, keys) -> None:
        """Give up the claims of ``keys``."""
        if self._lock_fd is None:
            return
        for s in {self._slot(k) for k in keys} & self._claimed:
            fcntl.lockf(self._lock_fd, fcntl.LOCK_UN, 1, s)
            self._claimed.discard(s)


def merge_rows(done: dict[str, dict], rows) -> dict[str, dict]:
    """Fold ``rows`` into ``done`` (key → row): a finished row replaces an ``"error"`` row of the
    same key; otherwise the row already there stays. Returns ``done``."""
    for r in rows:
        old = done.get(r["key"])
        if old is None or (old.get("status") == "error" and r.get("status") != "error"):
            done[r["key"]] = r
    return done

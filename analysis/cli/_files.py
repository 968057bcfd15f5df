"""Reading the command line's input files: numeric arrays (.npy, .npz, .csv, .txt) and sample arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._errors import UserError


def load_array(path: str, what: str) -> np.ndarray:
    """A numeric array from ``path``: ``.npy``, ``.npz`` holding one array, or a ``.csv`` / ``.txt``
    numeric table (comma or whitespace separated, an optional header line). Anything else, an
    empty or unreadable file, or a non-numeric array is a one-line :class:`UserError`."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{what} file not found: {path}")
    if p.stat().st_size == 0:
        raise UserError(f"{what} file {path} is empty; expected a numeric array (.npy, .npz, .csv or .txt)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".dat"):
        arr = load_table(p, what, delimiter="," if suffix == ".csv" else None)
    else:
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise UserError(f"cannot read {what} {path}: it is {file_kind(p)}; expected a numeric "
                            f"array (.npy, .npz, .csv or .txt)") from None
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read {what} {path} as a .npy/.npz array "
                            f"({type(exc).__name__}: {exc or 'truncated file'})") from None
        if isinstance(arr, np.lib.npyio.NpzFile):
            with arr:
                names = list(arr.files)
                if len(names) != 1:
                    raise UserError(f"{what} file {path} is an .npz archive with {len(names)} arrays "
                                    f"{names}; expected exactly one (save it with np.save or keep one)")
                try:
                    arr = arr[names[0]]
                except ValueError:
                    raise UserError(f"cannot read {what} {path}: its array {names[0]!r} holds Python "
                                    "objects (a pickle); expected a numeric array") from None
    if arr.dtype.kind not in "biuf":
        raise UserError(f"{what} file {path} holds a {arr.dtype} array; expected real numbers")
    if arr.size == 0:
        raise UserError(f"{what} file {path} holds an empty array (shape {arr.shape})")
    return arr


def file_kind(p: Path) -> str:
    """What a file that ``np.load`` refused is, from its first bytes (for a one-line error)."""
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"\x93NUMPY"):
        return ("a .npy array of Python objects (dtype object, stored as a pickle), which is not loaded for safety"
                if b"'descr': '|O'" in head else "a .npy file with an unreadable header")
    if head.startswith(b"PK"):
        return "a zip archive that is not a valid .npz"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "a Python pickle, which is not loaded for safety"
    try:
        text = head.decode("utf-8")
        if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
            raise UnicodeDecodeError("utf-8", head, 0, 1, "control characters")
    except UnicodeDecodeError:
        return f"a binary file that is not a NumPy array (first bytes {head[:8]!r})"
    first = text.splitlines()[0][:40] if text.strip() else ""
    return (f"a text file (first line {first!r}), not a .npy array; a numeric text table "
            f"is read when its name ends in .csv or .txt")


def load_table(p: Path, what: str, delimiter) -> np.ndarray:
    """A numeric text table; the first line is skipped when it is a header (not numeric)."""
    import warnings

    first = None
    for skip in (0, 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)      # "input contained no data"
                arr = np.loadtxt(p, delimiter=delimiter, skiprows=skip, ndmin=1)
        except ValueError as exc:
            first = first or exc
            continue
        if arr.size == 0:
            break
        return arr
    else:
        raise UserError(f"cannot read {what} {p} as a numeric table ({first})") from None
    raise UserError(f"{what} file {p} holds no numbers")


def check_sample_shapes(latents: np.ndarray, factors: np.ndarray) -> None:
    """Refuse sample arrays with fewer rows than columns (transposed?) before any N x N covariance."""
    for arr, name in ((latents, "latents"), (factors, "factors")):
        if arr.ndim == 2 and arr.shape[0] < arr.shape[1]:
            raise UserError(f"{name} has {arr.shape[0]} rows and {arr.shape[1]} columns; expected one "
                            f"sample per row (N x {name[0]}) with more samples than columns "
                            f"- transposed? use {name}.T")

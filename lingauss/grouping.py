r"""Groupings of factors: the one home of their canonical form, their check, their text and its parser.

A *grouping* is an unlabelled set partition of the factors :math:`0, \dots, s-1`: which factors a
metric (or a scenario) puts together, with no order among the groups and no latent labels. Every
part of the toolkit that stores, compares, prints or reads a grouping goes through this module:

* :func:`canonical_grouping` — the canonical form: sorted non-empty tuples, sorted by their first
  element, so that two groupings are equal exactly when their canonical forms are ``==``;
* :func:`check_partition` — the canonical form, checked to partition ``0..s-1`` exactly, with an
  error naming the argument and saying what is missing, out of range or repeated;
* :func:`grouping_text` — the one text form, 1-based like the factors' names ``v1 … vs`` in
  Vu et al. (2024): ``((0, 1), (2,))`` → ``"{v1,v2}{v3}"``;
* :func:`parse_grouping` — the inverse of :func:`grouping_text`; it also reads the command line's
  short form ``"1,2|3"`` (1-based factor numbers, groups separated by ``|``);
* :func:`assignment_groups` — the groups of a labelled assignment (factor j → latent
  ``assignment[j]``), one per latent, in latent order (an empty tuple for an unused latent).

Storage (JSON, result dataclasses) keeps the 0-based tuples; only text is 1-based.
"""

from __future__ import annotations

import operator
import re

import numpy as np

from lingauss.params import InvalidParameter

__all__ = ["Grouping", "canonical_grouping", "check_partition", "grouping_text", "parse_grouping",
           "assignment_groups"]

#: A grouping in canonical form: sorted tuples of 0-based factor indices, sorted by first element.
Grouping = tuple[tuple[int, ...], ...]


def canonical_grouping(groups) -> Grouping:
    """An unlabelled set partition in canonical form: sorted non-empty tuples, sorted by first element.

    Raises ``ValueError`` naming ``groups`` when an entry is not an integer index.

    Examples
    --------
    >>> from lingauss import canonical_grouping
    >>> canonical_grouping([(2,), (1, 0), ()])
    ((0, 1), (2,))
    """
    try:
        blocks = [tuple(sorted(operator.index(i) for i in g)) for g in groups]
    except TypeError:
        raise InvalidParameter(f"groups must be iterables of integer factor indices, got {groups!r}") from None
    if any(isinstance(i, (bool, np.bool_)) for g in groups for i in g):
        raise InvalidParameter(f"groups must hold integer factor indices, not booleans: {groups!r}")
    return tuple(sorted((b for b in blocks if b), key=lambda b: b[0]))


def check_partition(groups, s: int | None = None, *, name: str = "groups") -> Grouping:
    """``groups`` in canonical form, checked to partition the factors ``0..s-1`` exactly.

    ``s`` defaults to the number of indices in ``groups``. Raises ``ValueError`` naming ``name``
    (the caller's argument) when ``groups`` is not an iterable of iterables of integer indices, is
    empty, or misses, repeats or exceeds a factor (each listed in the message).

    Examples
    --------
    >>> check_partition([[2], [1, 0]])
    ((0, 1), (2,))
    >>> check_partition([[0], [0, 1]], 3, name="true_grouping")
    Traceback (most recent call last):
    ...
    lingauss.params.InvalidParameter: true_grouping must partition the factors 0..2 exactly (s = 3), got [[0], [0, 1]] (missing [2]; repeated [0])
    """
    if isinstance(groups, (str, bytes)) or any(isinstance(g, (str, bytes)) for g in _iter(groups, name)):
        raise InvalidParameter(f"{name} must be an iterable of iterables of factor indices, got {groups!r}")
    try:
        canon = canonical_grouping([list(_iter(g, name)) for g in groups])
    except ValueError as exc:
        raise InvalidParameter(f"{name} is invalid: {exc}") from None
    flat = sorted(i for g in canon for i in g)
    if not flat:
        raise InvalidParameter(f"{name} must partition at least one factor, got an empty partition")
    size = len(flat) if s is None else int(s)
    if flat != list(range(size)):
        missing = sorted(set(range(size)) - set(flat))
        extra = sorted({i for i in flat if not 0 <= i < size})
        repeated = sorted({i for i in flat if flat.count(i) > 1})
        detail = "; ".join(part for part in (
            f"missing {missing}" if missing else "",
            f"out of range {extra}" if extra else "",
            f"repeated {repeated}" if repeated else "") if part)
        raise InvalidParameter(f"{name} must partition the factors 0..{size - 1} exactly (s = {size}), "
                         f"got {groups!r} ({detail})")
    return canon


def _iter(value, name: str):
    try:
        return list(value)
    except TypeError:
        raise InvalidParameter(f"{name} must be an iterable of iterables of factor indices, got {value!r}") from None


def grouping_text(grouping, names=None) -> str:
    """A grouping as text, 1-based: ``((0, 1), (2,))`` → ``"{v1,v2}{v3}"``; ``""`` for ``None``.

    ``names`` (a sequence of factor names) replaces ``v1, v2, …`` with the names. An empty grouping
    is ``"{}"``. :func:`parse_grouping` reads the text back.

    Examples
    --------
    >>> grouping_text(((0, 1), (2,)))
    '{v1,v2}{v3}'
    >>> grouping_text(((0,), (1, 2)), names=["shape", "x", "y"])
    '{shape}{x,y}'
    """
    if grouping is None:
        return ""
    label = (lambda j: str(names[j])) if names is not None else (lambda j: f"v{j + 1}")
    return "".join("{" + ",".join(label(j) for j in g) + "}" for g in grouping) or "{}"


_BRACED = re.compile(r"\{([^{}]*)\}")


def parse_grouping(text: str, s: int | None = None, *, names=None, name: str = "grouping") -> Grouping:
    """The grouping written by :func:`grouping_text` (``"{v1,v2}{v3}"``, or with ``names``), or the
    short form ``"1,2|3"`` (1-based factor numbers), in canonical 0-based form, checked by
    :func:`check_partition` against ``s`` factors. Raises ``ValueError`` naming ``name``.

    Examples
    --------
    >>> parse_grouping("{v1,v2}{v3}")
    ((0, 1), (2,))
    >>> parse_grouping("3|1,2", 3)
    ((0, 1), (2,))
    >>> parse_grouping(grouping_text(((0,), (1, 2)), ["shape", "x", "y"]), names=["shape", "x", "y"])
    ((0,), (1, 2))
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter(f"{name} must be text like '{{v1,v2}}{{v3}}' or '1,2|3', got {text!r}")
    body = text.replace(" ", "")
    if body.startswith("{"):
        if _BRACED.sub("", body):
            raise InvalidParameter(f"{name} must be text like '{{v1,v2}}{{v3}}', got {text!r}")
        blocks = [b.split(",") if b else [] for b in _BRACED.findall(body)]
    else:
        blocks = [b.split(",") for b in body.split("|")]
    lookup = {str(n): j for j, n in enumerate(names)} if names is not None else None
    try:
        groups = [[_factor_index(tok, lookup) for tok in block] for block in blocks]
    except (ValueError, KeyError):
        raise InvalidParameter(f"{name} must use 1-based factor numbers or names like '{{v1,v2}}{{v3}}' "
                         f"or '1,2|3', got {text!r}") from None
    return check_partition(groups, s, name=name)


def _factor_index(token: str, lookup) -> int:
    if lookup is not None and token in lookup:
        return lookup[token]
    digits = token[1:] if token[:1] == "v" else token
    if not digits.isdigit() or int(digits) < 1:
        raise InvalidParameter(token)
    return int(digits) - 1


def assignment_groups(assignment, n_latents: int) -> tuple[tuple[int, ...], ...]:
    """Group i = the factors j with ``assignment[j] == i``, for i = 0 … ``n_latents`` − 1 (labelled:
    in latent order, an unused latent's group empty; :func:`canonical_grouping` drops the labels)."""
    return tuple(tuple(j for j, a in enumerate(assignment) if a == i) for i in range(int(n_latents)))

r"""Counting and enumerating set partitions (restricted growth strings).

An assignment of s factors to m latents (groups may be empty) is one of :math:`m^s` labelled
assignments; forgetting the labels leaves a set partition into at most m blocks, of which there are

.. math:: \sum_{k=1}^{\min(m, s)} S(s, k), \qquad S(n, k) = k\,S(n-1, k) + S(n-1, k-1)

(Stirling numbers of the second kind; with m ≥ s the sum is the Bell number :math:`B_s`).
A restricted growth string :math:`a_0 a_1 \dots a_{s-1}` with :math:`a_0 = 0` and
:math:`a_j \le 1 + \max_{i<j} a_i` names each set partition exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from lingauss.params import InvalidParameter

__all__ = ["stirling2", "count_set_partitions", "count_assignments", "set_partitions"]


def _check_counts(s, m):
    for name, val in (("s", s), ("max_blocks", m)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 0:
            raise InvalidParameter(f"{name} must be a non-negative integer, got {val!r}")


@lru_cache(maxsize=None)
def stirling2(n: int, k: int) -> int:
    """Stirling number of the second kind S(n, k): partitions of n items into exactly k blocks."""
    _check_counts(n, k)
    if n == k:
        return 1
    if k == 0 or k > n:
        return 0
    return k * stirling2(n - 1, k) + stirling2(n - 1, k - 1)


def count_set_partitions(s: int, max_blocks: int) -> int:
    """Number of set partitions of s items into at most ``max_blocks`` non-empty blocks."""
    _check_counts(s, max_blocks)
    if s == 0:
        return 1
    return sum(stirling2(s, k) for k in range(1, min(s, max_blocks) + 1))


def count_assignments(s: int, m: int) -> int:
    """Number of labelled assignments of s factors to m latents: m**s."""
    _check_counts(s, m)
    return m ** s


def set_partitions(s: int, max_blocks: int) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Yield every set partition of ``0..s-1`` into ≤ ``max_blocks`` blocks, in canonical form.

    Blocks are sorted tuples ordered by their smallest element (restricted-growth-string order).
    """
    _check_counts(s, max_blocks)
    if s == 0:
        yield ()
        return
    if max_blocks == 0:
        return
    rgs = [0] * s

    def rec(j: int, n_blocks: int):
        if j == s:
            yield tuple(tuple(i for i in range(s) if rgs[i] == b) for b in range(n_blocks))
            return
        for b in range(min(n_blocks + 1, max_blocks)):
            rgs[j] = b
            yield from rec(j + 1, max(n_blocks, b + 1))

    yield from rec(1, 1)

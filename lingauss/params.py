"""Bad arguments: one error type, and constraints declared once per public function.

Every deliberate check of an argument in ``lingauss``, ``neural`` and ``analysis`` raises
:class:`InvalidParameter` (a :class:`ValueError`, so ``except ValueError`` keeps working), with the
argument's name in ``.parameter`` where the check knows it. A missing optional dependency raises
:class:`MissingDependency` (an :class:`ImportError`) naming the extra to install. The command line
reports exactly these two types as usage mistakes (one line, exit 2); any other exception is a bug.

A public function may declare its constraints with :func:`validate_params`, in the spirit of
scikit-learn's ``validate_params``: the declaration is checked before the body runs, and it stays
inspectable (:func:`parameter_constraints`), so a command line, a form or a test can read what a
function accepts instead of repeating the check.

Examples
--------
>>> from lingauss.params import Interval, validate_params, parameter_constraints
>>> @validate_params(steps=[Interval(int, 1, None)], tol=[None, Interval(float, 0, None, closed="left")])
... def run(steps, tol=None):
...     return steps
>>> run(3)
3
>>> run(0)
Traceback (most recent call last):
...
lingauss.params.InvalidParameter: steps must be an integer >= 1, got 0
>>> print(parameter_constraints(run)["tol"])
None or a finite number >= 0
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["InvalidParameter", "MissingDependency", "Constraint", "Interval", "Options", "Predicate",
           "Constraints", "validate_params", "parameter_constraints"]


class InvalidParameter(ValueError):
    """A bad argument to a public function. ``parameter``: the argument's name (``None`` if the
    check concerns several at once)."""

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class MissingDependency(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


class Constraint:
    """One acceptable kind of value: ``is_satisfied_by(value)`` and ``str(constraint)`` (the
    description used in error messages)."""

    def is_satisfied_by(self, value) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite real (``kind=float``) or integer (``kind=int``) in ``[low, high]``; ``closed`` says
    which ends belong (``"both"``, ``"left"``, ``"right"``, ``"neither"``); ``None`` leaves an end
    open-ended. Booleans, NaN and ±inf never satisfy it; an integer satisfies a ``float`` interval."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def __post_init__(self):
        if self.kind not in (int, float):
            raise InvalidParameter(f"kind must be int or float, got {self.kind!r}", "kind")
        if self.closed not in ("both", "left", "right", "neither"):
            raise InvalidParameter(f"closed must be 'both', 'left', 'right' or 'neither', got {self.closed!r}",
                                   "closed")

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        wanted = numbers.Integral if self.kind is int else numbers.Real
        if not isinstance(value, wanted) or not math.isfinite(float(value)):
            return False
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and not (value >= self.low if lo_in else value > self.low):
            return False
        return self.high is None or (value <= self.high if hi_in else value < self.high)

    def __str__(self) -> str:
        noun = "an integer" if self.kind is int else "a finite number"
        if self.low is not None and self.high is not None and self.closed == "both":
            return f"{noun} in {self.low:g}..{self.high:g}"
        bounds = []
        if self.low is not None:
            bounds.append((">= " if self.closed in ("both", "left") else "> ") + f"{self.low:g}")
        if self.high is not None:
            bounds.append(("<= " if self.closed in ("both", "right") else "< ") + f"{self.high:g}")
        return " ".join([noun, " and ".join(bounds)]) if bounds else noun


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values (compared with ``==``, type-strict for ``bool``)."""

    values: tuple

    def is_satisfied_by(self, value) -> bool:
        return any(type(value) is type(v) and value == v if isinstance(v, bool) else
                   (not isinstance(value, bool) and value == v) for v in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Predicate(Constraint):
    """Any value for which ``test(value)`` is true, described by ``description``."""

    test: Callable[[object], bool]
    description: str

    def is_satisfied_by(self, value) -> bool:
        return bool(self.test(value))

    def __str__(self) -> str:
        return self.description


class _IsNone(Constraint):
    def is_satisfied_by(self, value) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


def _as_constraint(c) -> Constraint:
    if c is None:
        return _IsNone()
    if c is bool:
        return Options((True, False))
    if c is callable:
        return Predicate(callable, "a callable")
    if isinstance(c, Constraint):
        return c
    raise InvalidParameter(f"a constraint must be None, bool, callable or a Constraint, got {c!r}", "constraints")


@dataclass(frozen=True)
class Constraints:
    """The acceptable values of one argument: any of ``options`` (checked in order)."""

    options: tuple[Constraint, ...]

    def is_satisfied_by(self, value) -> bool:
        return any(c.is_satisfied_by(value) for c in self.options)

    def check(self, name: str, value) -> None:
        """Raise :class:`InvalidParameter` naming ``name`` unless ``value`` is acceptable."""
        if not self.is_satisfied_by(value):
            raise InvalidParameter(f"{name} must be {self}, got {value!r}", name)

    def __str__(self) -> str:
        return " or ".join(str(c) for c in self.options)


def validate_params(**constraints: Sequence) -> Callable:
    """Declare the acceptable values of a function's arguments (each a list of alternatives:
    ``None``, ``bool``, ``callable`` or a :class:`Constraint`); they are checked on every call,
    before the body runs, and readable afterwards with :func:`parameter_constraints`."""
    declared = {name: Constraints(tuple(_as_constraint(c) for c in options))
                for name, options in constraints.items()}

    def decorate(func):
        sig = inspect.signature(func)
        unknown = set(declared) - set(sig.parameters)
        if unknown:
            raise InvalidParameter(f"validate_params names arguments {sorted(unknown)} that "
                                   f"{func.__qualname__} does not take", "constraints")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, rule in declared.items():
                rule.check(name, bound.arguments[name])
            return func(*args, **kwargs)

        wrapper.parameter_constraints = MappingProxyType(declared)
        return wrapper

    return decorate


def parameter_constraints(func) -> Mapping[str, Constraints]:
    """The constraints ``func`` declared with :func:`validate_params` (name → :class:`Constraints`;
    empty if it declared none)."""
    return getattr(func, "parameter_constraints", MappingProxyType({}))

"""InvalidParameter and the declared constraints of lingauss.params."""

import itertools
import math

import numpy as np
import pytest

import lingauss as lg
from lingauss.params import (InvalidParameter, Interval, Options, parameter_constraints,
                             validate_params)

_VALUES = [-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, np.int64(1), np.float64(0.5), True, False,
           math.nan, math.inf, -math.inf, "1", None]


def _independent(kind, low, high, closed, v):
    """The same membership rule written out longhand."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return False
    if kind is int and not isinstance(v, (int, np.integer)):
        return False
    if not np.isfinite(v):
        return False
    ok_low = low is None or v > low or (v == low and closed in ("both", "left"))
    ok_high = high is None or v < high or (v == high and closed in ("both", "right"))
    return bool(ok_low and ok_high)


@pytest.mark.parametrize("kind, low, high, closed", list(itertools.product(
    (int, float), (None, 0, -1), (None, 1, 2), ("both", "left", "right", "neither"))))
def test_interval_membership_matches_the_longhand_rule(kind, low, high, closed):
    c = Interval(kind, low, high, closed=closed)
    for v in _VALUES:
        assert c.is_satisfied_by(v) == _independent(kind, low, high, closed, v), (c, v)


def test_interval_descriptions():
    assert str(Interval(int, 1, None)) == "an integer >= 1"
    assert str(Interval(float, 0, None, closed="neither")) == "a finite number > 0"
    assert str(Interval(float, 0, 1, closed="right")) == "a finite number > 0 and <= 1"
    assert str(Interval(int, 1, 8)) == "an integer in 1..8"


def test_options_do_not_confuse_booleans_with_integers():
    c = Options((0, 1, "a"))
    assert c.is_satisfied_by(1) and c.is_satisfied_by("a")
    assert not c.is_satisfied_by(True) and not c.is_satisfied_by(2)
    assert Options((True, False)).is_satisfied_by(False) and not Options((True, False)).is_satisfied_by(0)


def test_validate_params_checks_defaults_positional_and_keyword_calls():
    @validate_params(a=[Interval(int, 0, None)], b=[None, Options(("x", "y"))])
    def f(a, b="z"):
        return a

    with pytest.raises(InvalidParameter, match=r"^b must be None or one of 'x', 'y', got 'z'$") as info:
        f(1)                                 # the default is checked too
    assert info.value.parameter == "b" and isinstance(info.value, ValueError)
    assert f(1, None) == 1 and f(a=2, b="x") == 2
    with pytest.raises(InvalidParameter, match="^a must be an integer >= 0"):
        f(-1, "x")
    assert set(parameter_constraints(f)) == {"a", "b"}
    assert parameter_constraints(len) == {}


def test_validate_params_refuses_unknown_argument_names():
    with pytest.raises(InvalidParameter, match="does not take"):
        @validate_params(c=[None])
        def g(a):
            return a


@pytest.mark.parametrize("kwargs, name", [({"time_limit": 0}, "time_limit"), ({"time_limit": math.inf}, "time_limit"),
                                          ({"n_jobs": 0}, "n_jobs"), ({"method": "fast"}, "method"),
                                          ({"tol": -1e-3}, "tol"), ({"progress": "yes"}, "progress")])
def test_im_score_declares_and_enforces_its_constraints(kwargs, name):
    sc = lg.talk_scenario((3, 4, 3), 2)
    cov = sc.model.joint_covariance(np.eye(3, 4), np.eye(3))
    with pytest.raises(InvalidParameter) as info:
        lg.im_score(cov, 3, **kwargs)
    assert info.value.parameter == name and str(info.value).startswith(name)
    assert name in parameter_constraints(lg.im_score)

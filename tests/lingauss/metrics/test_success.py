"""The documented success criteria for I_m and SAP, and the reconstruction tolerance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lingauss.metrics.results import IMResult
from lingauss.metrics.sap import SAPResult, sap_score
from lingauss.metrics.success import (OUTCOMES, Success, im_success, reconstruction_ok,
                                      sap_success)
from lingauss.model import LinearGaussianModel
from lingauss.scenarios import talk_scenario


def _im(assignment, grouping, *, tied_groupings=1, ties=1, score=1.0) -> IMResult:
    m = max(assignment) + 1
    groups = tuple(tuple(j for j, a in enumerate(assignment) if a == i) for i in range(m))
    return IMResult(score=score, assignment=tuple(assignment), groups=groups, grouping=grouping,
                    ties=ties, tied_groupings=tied_groupings, n_evaluated=m ** len(assignment),
                    method="exhaustive")


def _sap(cov, m) -> SAPResult:
    return sap_score(cov, m)


def _all_orders(grouping):
    """Every order of blocks and of elements inside the blocks, as lists (not canonical)."""
    for blocks in itertools.permutations(grouping):
        for inner in itertools.product(*(itertools.permutations(b) for b in blocks)):
            yield [list(b) for b in inner]


# ---------------------------------------------------------------- I_m


def test_im_success():
    res = _im((1, 1, 0), ((0, 1), (2,)))
    out = im_success(res, ((0, 1), (2,)))
    assert isinstance(out, Success)
    assert out.success and out.outcome == "success"
    assert out.found == out.expected == ((0, 1), (2,))
    assert "success" in out.message


def test_im_wrong_grouping():
    out = im_success(_im((0, 1, 2), ((0,), (1,), (2,))), ((0, 1), (2,)))
    assert not out.success and out.outcome == "wrong_grouping"
    assert out.found == ((0,), (1,), (2,))
    assert out.expected == ((0, 1), (2,))
    assert "{v1,v2}" in out.message


def test_im_tie_at_top_is_ambiguous_even_if_the_reported_grouping_is_right():
    res = _im((0, 0, 0), ((0, 1, 2),), tied_groupings=5, ties=27, score=0.0)
    out = im_success(res, ((0, 1, 2),))
    assert not out.success and out.outcome == "ambiguous"
    assert "5" in out.message


def test_im_label_ties_of_one_grouping_are_not_ambiguous():
    """Several assignments that only relabel the latents of the same grouping: still a success."""
    out = im_success(_im((0, 0, 1), ((0, 1), (2,)), ties=6, tied_groupings=1), ((0, 1), (2,)))
    assert out.success


@pytest.mark.parametrize("order", list(_all_orders(((0, 3), (1, 2, 4)))))
def test_im_true_grouping_in_any_order(order):
    out = im_success(_im((0, 1, 1, 0, 1), ((0, 3), (1, 2, 4))), order)
    assert out.success
    assert out.expected == ((0, 3), (1, 2, 4))


def test_im_non_canonical_result_grouping_is_canonicalised():
    out = im_success(_im((1, 0, 0), ((2, 1), (0,))), ((0,), (1, 2)))
    assert out.success and out.found == ((0,), (1, 2))


def test_im_rejects_other_results():
    with pytest.raises(ValueError, match="result"):
        im_success(_sap(np.eye(3), 1), ((0, 1),))


# ---------------------------------------------------------------- SAP


def _scenario_cov(index: int, B) -> tuple[np.ndarray, tuple]:
    sc = talk_scenario((3, 4, 3), index)
    return sc.model.joint_covariance(np.asarray(B, dtype=float), 0.01 * np.eye(3)), sc.true_grouping


def test_sap_success_on_talk_scenario_1_with_an_aligned_encoder():
    cov, truth = _scenario_cov(1, np.eye(3, 4))
    out = sap_success(_sap(cov, 3), truth)
    assert out.success and out.outcome == "success"
    assert out.found == ((0,), (1,), (2,))


def test_sap_wrong_grouping_on_talk_scenario_2_with_an_aligned_encoder():
    """v1 = v0 + z: factor 1's top latent is x1 (corr² ≈ 0.99 > corr(v0, v1)² = 0.8), so SAP splits it."""
    cov, truth = _scenario_cov(2, np.eye(3, 4))
    out = sap_success(_sap(cov, 3), truth)
    assert not out.success and out.outcome == "wrong_grouping"
    assert out.found == ((0,), (1,), (2,)) and out.expected == ((0, 1), (2,))


def test_sap_success_on_talk_scenario_2_with_a_grouping_encoder():
    B = [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    cov, truth = _scenario_cov(2, B)
    out = sap_success(_sap(cov, 3), truth)
    assert out.success, out.message


def test_sap_tied_top_is_ambiguous():
    model = LinearGaussianModel.standard(np.eye(2), 2, 0.1)
    cov = model.joint_covariance(np.array([[1.0, 1.0], [1.0, 1.0]]), 0.2 * np.eye(2))
    res = _sap(cov, 2)
    assert all(res.tied_top)
    out = sap_success(res, ((0, 1),))  # argmax picks latent 0 for both: the "right" grouping
    assert res.grouping == ((0, 1),)
    assert not out.success and out.outcome == "ambiguous"
    assert "tied" in out.message


def test_sap_single_tied_factor_is_enough_for_ambiguity():
    frozen = np.zeros((2, 2))
    frozen.setflags(write=False)
    res = SAPResult(score=0.5, matrix=frozen, top_latent=(0, 1), grouping=((0,), (1,)),
                    gaps=(1.0, 0.0), tied_top=(False, True))
    assert sap_success(res, ((1,), (0,))).outcome == "ambiguous"
    ok = SAPResult(score=0.5, matrix=frozen, top_latent=(0, 1), grouping=((0,), (1,)),
                   gaps=(1.0, 0.5), tied_top=(False, False))
    assert sap_success(ok, ((1,), (0,))).success


@pytest.mark.parametrize("order", list(_all_orders(((0,), (1,), (2,)))) + [[[2], [0], [1]]])
def test_sap_true_grouping_in_any_order(order):
    cov, _ = _scenario_cov(1, np.eye(3, 4))
    assert sap_success(_sap(cov, 3), order).success


def test_sap_rejects_other_results():
    with pytest.raises(ValueError, match="result"):
        sap_success(_im((0, 1), ((0,), (1,))), ((0,), (1,)))


# ---------------------------------------------------------------- shared


@pytest.mark.parametrize("bad", [
    ((0, 1),),              # factor 2 missing
    ((0, 1), (1, 2)),       # factor 1 twice
    ((0, 1), (2, 3)),       # factor 3 out of range
    ((0, 1), (-1, 2)),
    ((0, 1, 2, 3),),        # wrong size
    (),
    ((0, 1), (2.5,)),
    ((0, 1), (True,)),
    (0, 1, 2),              # not a list of blocks
    "012",
    None,
])
def test_bad_true_grouping_raises(bad):
    im = _im((0, 0, 1), ((0, 1), (2,)))
    cov, _ = _scenario_cov(1, np.eye(3, 4))
    sap = _sap(cov, 3)
    with pytest.raises(ValueError, match="true_grouping"):
        im_success(im, bad)
    with pytest.raises(ValueError, match="true_grouping"):
        sap_success(sap, bad)


def test_outcomes_are_the_documented_three():
    assert set(OUTCOMES) == {"success", "wrong_grouping", "ambiguous"}
    res = _im((0, 0, 1), ((0, 1), (2,)))
    outs = {im_success(res, g).outcome for g in (((0, 1), (2,)), ((0,), (1, 2)))}
    outs.add(im_success(_im((0, 0, 1), ((0, 1), (2,)), tied_groupings=2), ((0, 1), (2,))).outcome)
    assert outs == set(OUTCOMES)


def test_success_is_frozen():
    out = im_success(_im((0, 0, 1), ((0, 1), (2,))), ((0, 1), (2,)))
    with pytest.raises(AttributeError):
        out.success = False  # type: ignore[misc]


# ---------------------------------------------------------------- reconstruction tolerance


@pytest.mark.parametrize("err, expected", [(0.0, True), (0.01, True), (0.05, True),
                                           (0.05000001, False), (0.2, False), (3.0, False)])
def test_reconstruction_default_tolerance_is_five_percent(err, expected):
    assert reconstruction_ok(err) is expected


def test_reconstruction_custom_tolerance_and_arrays():
    assert reconstruction_ok(0.08, tolerance=0.1) is True
    assert reconstruction_ok(0.08, tolerance=0.0) is False
    assert reconstruction_ok(0.0, tolerance=0.0) is True
    np.testing.assert_array_equal(reconstruction_ok(np.array([0.01, 0.06, 0.05])),
                                  [True, False, True])


@pytest.mark.parametrize("err", [-1e-9, -1.0, np.nan, np.inf, "0.01", None])
def test_reconstruction_bad_error_raises(err):
    with pytest.raises(ValueError, match="relative_error"):
        reconstruction_ok(err)


def test_reconstruction_bad_tolerance_raises():
    for tol in (-0.01, np.nan, np.inf):
        with pytest.raises(ValueError, match="tolerance"):
            reconstruction_ok(0.01, tolerance=tol)
    with pytest.raises(ValueError, match="relative_error"):
        reconstruction_ok(np.array([0.01, np.nan]))

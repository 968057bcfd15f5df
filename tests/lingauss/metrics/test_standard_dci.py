"""DCI (disentanglement_lib's compute_dci): the reference's exact unit cases and sample cases."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lingauss.metrics import DCIResult, dci_completeness, dci_disentanglement, standard_dci

ensemble = pytest.importorskip("sklearn.ensemble")

DIAG = np.diag(5.0 * np.ones(5))


# --- dci_test.py: DisentanglementTest / CompletenessTest, exact ------------------------------

@pytest.mark.parametrize("matrix, d, c", [
    (DIAG, 1.0, 1.0),                                                    # diagonal
    (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 1.0, 1.0),           # diagonal, empty codes
    (np.vstack([DIAG, DIAG]), 1.0, 1.0 - np.log(2) / np.log(10)),         # redundant codes
    (DIAG[:2, :], 1.0, 1.0),                                              # missed factors
    (np.hstack([DIAG, DIAG]), 1.0 - np.log(2) / np.log(10), 1.0),         # one code, two factors
])
def test_reference_unit_cases(matrix, d, c):
    assert dci_disentanglement(matrix) == pytest.approx(d, rel=1e-7, abs=1e-9)
    assert dci_completeness(matrix) == pytest.approx(c, rel=1e-7, abs=1e-9)


def test_zero_importance():
    z = np.zeros((10, 10))
    assert dci_disentanglement(z) == pytest.approx(0.0, abs=1e-12)
    assert dci_completeness(z) == pytest.approx(0.0, abs=1e-7)


def test_entropy_weighting_by_hand():
    """Code 0 splits 3:1 over two factors, code 1 is pure: D = ¾ (1 − H₂(¾, ¼)) + ¼ · 1."""
    r = np.array([[3.0, 1.0], [0.0, 1.0]])
    h = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert dci_disentanglement(r) == pytest.approx(0.8 * (1 - h) + 0.2 * 1.0, abs=1e-9)
    # Factor 0 pure (weight 3/5), factor 1 split 1:1 over the two codes (C_1 = 0).
    assert dci_completeness(r) == pytest.approx(0.6, abs=1e-9)


def test_single_factor_or_code_is_trivially_one():
    assert dci_disentanglement(np.array([[1.0], [2.0]])) == pytest.approx(1.0)
    assert dci_completeness(np.array([[1.0, 2.0]])) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [np.ones(3), -np.eye(2), np.array([[np.nan, 1.0]]), np.ones((0, 2))])
def test_bad_importance_raises(bad):
    with pytest.raises(ValueError, match="importance_matrix"):
        dci_disentanglement(bad)
    with pytest.raises(ValueError, match="importance_matrix"):
        dci_completeness(bad)


# --- dci_test.py: DCITest (bands), at a smaller size (5 factors × 5 values, 600 + 300) --------

def _identity_data(n, s=5, k=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, k + 1, size=(n, s)).astype(np.float64)


def test_identity_representation():
    v = _identity_data(900)
    res = standard_dci(v, v, rng=0)
    assert isinstance(res, DCIResult)
    assert 0.9 <= res.disentanglement <= 1.0
    assert 0.9 <= res.completeness <= 1.0
    assert res.informativeness_train == pytest.approx(1.0)
    assert res.informativeness_test == pytest.approx(1.0)
    np.testing.assert_allclose(res.importance_matrix.sum(axis=0), 1.0)


def test_permuted_codes_score_low():
    """Each sample's code is a random permutation of its factors: importance is spread evenly."""
    v = _identity_data(900, seed=1)
    rng = np.random.default_rng(2)
    x = np.array([rng.permutation(row) for row in v])
    res = standard_dci(x, v, rng=0)
    assert 0.0 <= res.disentanglement <= 0.2
    assert 0.0 <= res.completeness <= 0.2


def test_duplicated_latent_space():
    v = _identity_data(900, seed=3)
    res = standard_dci(np.hstack([v, v]), v, rng=0)
    assert 0.9 <= res.disentanglement <= 1.0
    target = 1.0 - np.log(2) / np.log(10)  # 10 codes, each factor split over two
    assert target - 0.1 <= res.completeness <= target + 0.1


def test_explicit_test_set_and_continuous_factors():
    rng = np.random.default_rng(4)
    v_tr, v_te = rng.standard_normal((400, 2)), rng.standard_normal((200, 2))
    res = standard_dci(v_tr[:, ::-1], v_tr, test=(v_te[:, ::-1], v_te), factor_bins=4,
                       gbt_kwargs={"n_estimators": 20}, rng=0)
    assert res.discrete_factors == (False, False)
    # Latent 0 is factor 1 and latent 1 is factor 0: the importance matrix is anti-diagonal.
    assert res.importance_matrix[1, 0] > 0.95 and res.importance_matrix[0, 1] > 0.95
    assert res.informativeness_test > 0.9


def test_seeded_and_constant_factor_skipped():
    v = _identity_data(300, s=3, k=3, seed=5)
    v[:, 1] = 2.0
    a = standard_dci(v, v, gbt_kwargs={"n_estimators": 10}, rng=9)
    b = standard_dci(v, v, gbt_kwargs={"n_estimators": 10}, rng=9)
    np.testing.assert_array_equal(a.importance_matrix, b.importance_matrix)
    assert a.constant_factors == (False, True, False)
    assert np.all(a.importance_matrix[:, 1] == 0.0)
    assert np.isfinite(a.disentanglement) and a.informativeness_test == pytest.approx(1.0)


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    v = _identity_data(30)
    with pytest.raises(ImportError, match=r"lingauss\[metrics\]"):
        standard_dci(v, v, rng=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(latents=np.ones((5, 2)), factors=np.ones((4, 2))), "same number of samples"),
    (dict(latents=np.ones((2, 2)), factors=np.arange(2.0)), "too few samples"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), gbt_kwargs=3), "gbt_kwargs"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), gbt_kwargs={"bogus": 1}), "gbt_kwargs"),
    (dict(latents=np.ones((9, 2)), factors=np.ones(9)), "factors"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test_fraction=0), "test_fraction"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        standard_dci(**kwargs)


# --- the histogram gradient-boosting backend ("hist", split-gain importances) ------------------

def _known_structure(n, seed):
    """3 factors of 4 classes: latent 0 carries factor 0, latent 1 factor 1, latents 2 and 3 carry
    factor 2 together (with opposite factor-free noise), latent 4 is noise."""
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 4, size=(n, 3)).astype(np.float64)
    e = rng.standard_normal((n, 5))
    x = np.column_stack([v[:, 0] + 0.1 * e[:, 0], v[:, 1] + 0.1 * e[:, 1],
                         v[:, 2] + 2.0 * e[:, 2], v[:, 2] - 2.0 * e[:, 2] + 0.1 * e[:, 3], e[:, 4]])
    return x, v


_STAGES = {"gbt": {"n_estimators": 30}, "hist": {"max_iter": 30}}   # the same 30 stages in both


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_hist_backend_finds_the_known_structure_and_agrees_with_the_reference_trees(seed):
    """Stated tolerance: the importance matrices correlate ≥ 0.95 with the reference trees', and
    D, C and test informativeness differ by ≤ 0.05, on a planted structure both must recover."""
    x, v = _known_structure(450, seed)
    ref = standard_dci(x, v, gbt_kwargs=_STAGES["gbt"], rng=seed)
    hist = standard_dci(x, v, backend="hist", gbt_kwargs=_STAGES["hist"], rng=seed)
    for res in (ref, hist):
        r = res.importance_matrix
        assert r[0, 0] > 0.9 and r[1, 1] > 0.9                 # one latent per factor
        assert r[2, 2] + r[3, 2] > 0.9                           # factor 2 on latents 2 and 3 only
        assert r[2, 2] > 0.2 and r[3, 2] > 0.2
        assert r[4].max() < 0.05                                 # the noise latent is unused
        assert res.informativeness_test > 0.9
    corr = np.corrcoef(ref.importance_matrix.ravel(), hist.importance_matrix.ravel())[0, 1]
    assert corr >= 0.95
    assert abs(hist.disentanglement - ref.disentanglement) <= 0.05
    assert abs(hist.completeness - ref.completeness) <= 0.05
    assert abs(hist.informativeness_test - ref.informativeness_test) <= 0.05


def test_backends_are_declared_in_the_registry_and_checked():
    from lingauss.metrics import registry
    from lingauss.metrics.dci import DCI_BACKENDS

    assert registry()["dci"].backends == tuple(DCI_BACKENDS) == ("gbt", "hist")
    x, v = _known_structure(200, 3)
    for backend in registry()["dci"].backends:          # every declared backend runs
        res = standard_dci(x, v, backend=backend, gbt_kwargs={"max_depth": 2, **_STAGES[backend]},
                           rng=0)
        np.testing.assert_allclose(res.importance_matrix.sum(axis=0), 1.0)
    with pytest.raises(ValueError, match="backend"):
        standard_dci(x, v, backend="xgboost")
    with pytest.raises(ValueError, match="HistGradientBoostingClassifier"):
        standard_dci(x, v, backend="hist", gbt_kwargs={"n_estimators": 5})

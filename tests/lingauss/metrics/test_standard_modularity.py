"""Modularity and explicitness (compute_modularity_explicitness): exact unit cases, sample cases."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingauss.metrics import ModularityResult, modularity_score, standard_modularity

sk_metrics = pytest.importorskip("sklearn.metrics")
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import MultiLabelBinarizer  # noqa: E402

DIAG = np.diag(5.0 * np.ones(5))


# --- modularity_explicitness_test.py: ModularityTest, exact ------------------------------------

@pytest.mark.parametrize("matrix, expected", [
    (DIAG, 1.0),                                                  # diagonal
    (np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), 2.0 / 3.0),  # an empty code scores 0
    (np.zeros((10, 10)), 0.0),                                    # zero
    (np.vstack([DIAG, DIAG]), 1.0),                               # redundant codes
    (DIAG[:2, :], 1.0),                                           # missed factors
    (np.hstack([DIAG, DIAG]), 1.0 - 1.0 / 9.0),                   # one code, two factors
])
def test_reference_unit_cases(matrix, expected):
    assert modularity_score(matrix) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_by_hand_and_single_factor():
    # Row (3, 1, 1): θ² = 9, δ = (11 − 9) / (9 · 2) = 1/9.
    assert modularity_score(np.array([[3.0, 1.0, 1.0]])) == pytest.approx(1 - 1 / 9)
    assert modularity_score(np.array([[0.4], [0.0]])) == pytest.approx(0.5)  # s = 1


@pytest.mark.parametrize("bad", [np.ones(3), -np.eye(2), np.array([[np.inf, 1.0]]), np.ones((0, 0))])
def test_bad_mi_matrix_raises(bad):
    with pytest.raises(ValueError, match="mi_matrix"):
        modularity_score(bad)


@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 4), st.data())
def test_modularity_invariant_to_permuting_codes(seed, m, s, data):
    mi = np.random.default_rng(seed).exponential(size=(m, s))
    perm = data.draw(st.permutations(range(m)))
    assert modularity_score(mi[perm]) == pytest.approx(modularity_score(mi), abs=1e-12)
    assert 0.0 <= modularity_score(mi) <= 1.0


# --- ModularityExplicitnessTest (bands) --------------------------------------------------------

def _identity_data(n, s=10, k=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, k + 1, size=(n, s)).astype(np.float64)


def test_identity_representation():
    v = _identity_data(3000)
    res = standard_modularity(v, v, rng=0)
    assert isinstance(res, ModularityResult)
    assert 0.9 <= res.modularity <= 1.0
    assert res.explicitness_train > 0.9 and res.explicitness_test > 0.9


def test_permuted_codes_score_low():
    v = _identity_data(20000, seed=1)
    rng = np.random.default_rng(2)
    x = rng.permuted(v, axis=1)
    res = standard_modularity(x, v, test_fraction=0.1, rng=0)
    assert 0.0 <= res.modularity <= 0.2


def test_duplicated_latent_space():
    v = _identity_data(3000, seed=3)
    res = standard_modularity(np.hstack([v, v]), v, rng=0)
    assert 0.9 <= res.modularity <= 1.0


def test_explicitness_matches_reference_auc():
    """The reference's roc_auc_score on MultiLabelBinarizer indicators, on standardised latents."""
    rng = np.random.default_rng(4)
    v_tr, v_te = rng.integers(0, 3, size=(500, 2)), rng.integers(0, 3, size=(300, 2))
    mix = np.array([[1.0, 0.5], [0.2, 1.0]])
    x_tr = v_tr @ mix + rng.standard_normal((500, 2))
    x_te = v_te @ mix + rng.standard_normal((300, 2))
    res = standard_modularity(x_tr, v_tr, test=(x_te, v_te), rng=0)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    z_tr, z_te = (x_tr - mean) / std, (x_te - mean) / std
    train, test = [], []
    for j in range(2):
        clf = LogisticRegression().fit(z_tr, v_tr[:, j])
        mlb = MultiLabelBinarizer()
        train.append(sk_metrics.roc_auc_score(mlb.fit_transform(v_tr[:, j:j + 1]), clf.predict_proba(z_tr)))
        test.append(sk_metrics.roc_auc_score(mlb.fit_transform(v_te[:, j:j + 1]), clf.predict_proba(z_te)))
    assert res.explicitness_train == pytest.approx(np.mean(train), abs=1e-6)
    assert res.explicitness_test == pytest.approx(np.mean(test), abs=1e-6)


def test_constant_latent_and_constant_factor_are_safe():
    v = _identity_data(600, s=3, k=4, seed=5)
    v[:, 2] = 7.0
    x = np.column_stack([v[:, 0], np.zeros(600), v[:, 1]])
    res = standard_modularity(x, v, rng=0)
    assert res.constant_factors == (False, False, True)
    assert res.per_latent[1] == 0.0
    assert all(np.isfinite([res.modularity, res.explicitness_train, res.explicitness_test]))
    with pytest.raises(ValueError, match="factors"):
        standard_modularity(x, np.ones((600, 2)), rng=0)


def test_continuous_factors_use_bins():
    rng = np.random.default_rng(6)
    v = rng.standard_normal((900, 2))
    res = standard_modularity(v[:, ::-1] + 0.01 * rng.standard_normal((900, 2)), v,
                              factor_bins=3, rng=0)
    assert res.discrete_factors == (False, False)
    assert res.modularity > 0.9 and res.explicitness_test > 0.9


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    v = _identity_data(30, s=2, k=2)
    with pytest.raises(ImportError, match=r"lingauss\[metrics\]"):
        standard_modularity(v, v, rng=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(latents=np.ones((5, 2)), factors=np.ones((4, 2))), "same number of samples"),
    (dict(latents=np.ones((2, 2)), factors=np.arange(2.0)), "too few samples"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), num_bins=-1), "num_bins"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), discrete_factors=[True, True]),
     "discrete_factors"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test=(np.ones((3, 2)), np.ones((3, 2)))),
     "test factors"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        standard_modularity(**kwargs)

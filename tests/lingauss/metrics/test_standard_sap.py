"""Sample SAP (disentanglement_lib's compute_sap): both branches, sanity cases, invariances."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lingauss.metrics import StandardSAPResult, sap_score_from_samples, standard_sap

svm = pytest.importorskip("sklearn.svm")


def _identity_data(n=3000, s=10, k=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, k + 1, size=(n, s)).astype(np.float64)


# --- the reference's sanity cases (sap_score_test.py: continuous_factors=True, 3000 samples) ---

def test_identity_representation_scores_near_one():
    v = _identity_data()
    res = standard_sap(v, v, discrete_factors=False)
    assert 0.9 <= res.score <= 1.0
    assert res.top_latent == tuple(range(10))


def test_zero_representation_scores_zero():
    v = _identity_data()
    res = standard_sap(np.zeros_like(v), v, discrete_factors=False)
    assert 0.0 <= res.score <= 0.2
    assert np.all(res.matrix == 0.0)  # variance below the reference's 1e-12 floor


def test_duplicated_representation_scores_zero():
    v = _identity_data()
    res = standard_sap(np.hstack([v, v]), v, discrete_factors=False)
    assert 0.0 <= res.score <= 0.2
    assert res.score == pytest.approx(0.0, abs=1e-12)


# --- the two branches against direct computations ----------------------------------------------

def test_continuous_branch_is_squared_correlation():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((1000, 3))
    x = v @ rng.standard_normal((3, 4)) + rng.standard_normal((1000, 4))
    res = standard_sap(x, v)
    assert res.discrete_factors == (False, False, False)
    corr2 = np.corrcoef(np.hstack([x, v]), rowvar=False)[:4, 4:] ** 2
    np.testing.assert_allclose(res.matrix, corr2, rtol=1e-10)
    # The same matrix as the covariance-based SAP of lingauss on the sample joint covariance.
    np.testing.assert_allclose(res.matrix, sap_score_from_samples(x, v).matrix, rtol=1e-10)
    assert res.score == pytest.approx(sap_score_from_samples(x, v).score, abs=1e-10)


def test_discrete_branch_is_linear_svm_test_accuracy():
    rng = np.random.default_rng(2)
    v_tr, v_te = rng.integers(0, 3, size=(600, 2)), rng.integers(0, 3, size=(300, 2))
    mix = np.array([[1.0, 0.2, 0.5], [0.1, 1.0, 0.5]])
    x_tr = v_tr @ mix + 0.3 * rng.standard_normal((600, 3))
    x_te = v_te @ mix + 0.3 * rng.standard_normal((300, 3))
    res = standard_sap(x_tr, v_tr, test=(x_te, v_te), rng=7)
    assert isinstance(res, StandardSAPResult)
    assert res.discrete_factors == (True, True)
    for i in range(3):
        for j in range(2):
            clf = svm.LinearSVC(C=0.01, class_weight="balanced", random_state=0)
            mean, sd = x_tr[:, i].mean(), x_tr[:, i].std()   # standardised by the training split
            clf.fit((x_tr[:, i:i + 1] - mean) / sd, v_tr[:, j])
            acc = np.mean(clf.predict((x_te[:, i:i + 1] - mean) / sd) == v_te[:, j])
            assert res.matrix[i, j] == pytest.approx(acc, abs=0.01)
    srt = np.sort(res.matrix, axis=0)
    assert res.score == pytest.approx(np.mean(srt[-1] - srt[-2]), abs=1e-12)


def test_discrete_identity_of_binary_factors():
    """Accuracy-based SAP: right latent 1.0, the others chance 0.5, so the gap is ≈ 0.5 (the
    discrete branch does not reach 1 even for a perfect code)."""
    v = _identity_data(n=1500, s=4, k=2)
    res = standard_sap(v, v, rng=0)
    np.testing.assert_allclose(np.diag(res.matrix), 1.0)
    assert 0.4 <= res.score <= 0.6


def test_seeded_split_is_reproducible_and_uses_the_fraction():
    v = _identity_data(n=300, s=3, k=3)
    x = v + np.random.default_rng(3).standard_normal(v.shape)
    a = standard_sap(x, v, rng=11)
    b = standard_sap(x, v, rng=11)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    # 100 test samples: accuracies are multiples of 1/100.
    np.testing.assert_allclose(a.matrix * 100, np.round(a.matrix * 100), atol=1e-9)


def test_constant_factor_is_skipped():
    rng = np.random.default_rng(4)
    v = rng.standard_normal((500, 3))
    v[:, 2] = 1.5
    res = standard_sap(v + 0.1 * rng.standard_normal((500, 3)), v)
    assert res.constant_factors == (False, False, True)
    assert res.gaps[2] == 0.0 and np.all(res.matrix[:, 2] == 0.0)
    assert res.score == pytest.approx(np.mean(res.gaps[:2]))
    with pytest.raises(ValueError, match="factors"):
        standard_sap(v, np.ones((500, 1)))


@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.data())
def test_permuting_latents_permutes_rows(seed, m, data):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((200, 2))
    x = v @ rng.standard_normal((2, m)) + rng.standard_normal((200, m))
    perm = np.array(data.draw(st.permutations(range(m))))
    base, res = standard_sap(x, v), standard_sap(x[:, perm], v)
    np.testing.assert_allclose(res.matrix, base.matrix[perm], rtol=1e-12)
    assert res.score == pytest.approx(base.score, abs=1e-12)


def test_permuting_latents_discrete_branch_exact():
    v = _identity_data(n=400, s=2, k=3)
    x = v @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.6]]) + np.random.default_rng(5).standard_normal((400, 3))
    perm = [2, 0, 1]
    base, res = standard_sap(x, v, rng=3), standard_sap(x[:, perm], v, rng=3)
    np.testing.assert_array_equal(res.matrix, base.matrix[perm])


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.svm", None)
    v = _identity_data(n=50, s=2, k=2)
    with pytest.raises(ImportError, match=r"lingauss\[metrics\]"):
        standard_sap(v, v, rng=0)
    assert standard_sap(v, v, discrete_factors=False).score > 0.9  # the correlation branch needs none


@pytest.mark.parametrize("kwargs, match", [
    (dict(latents=np.ones((5, 2)), factors=np.ones((4, 2))), "same number of samples"),
    (dict(latents=np.ones((1, 2)), factors=np.ones((1, 2))), "at least 2"),
    (dict(latents=np.array([[np.nan, 1.0], [1.0, 2.0]]), factors=np.ones((2, 1))), "latents"),
    (dict(latents=np.ones((2, 2)), factors=np.arange(2.0)), "too few samples"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test_fraction=1.0), "test_fraction"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), svm_c=0.0), "svm_c"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test=(np.ones((3, 1)), np.ones(3))),
     "test latents"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test=(np.ones((3, 2)), np.ones(4))),
     "same number of samples"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), test=np.ones(3)), "test"),
    (dict(latents=np.ones((9, 2)), factors=np.arange(9.0), rng="seed"), "rng"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        standard_sap(**kwargs)


def test_import_lingauss_does_not_load_sklearn():
    import subprocess
    code = "import sys, lingauss, lingauss.metrics; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


# --- the vectorised continuous branch equals the reference's per-pair formula -----------------

def _per_pair_reference(x, v):
    """disentanglement_lib's / disent's continuous branch, one ``numpy.cov`` call per pair (the
    implementation this module used before the matrix product)."""
    out = np.zeros((x.shape[1], v.shape[1]))
    for i in range(x.shape[1]):
        for j in range(v.shape[1]):
            c = np.cov(x[:, i], v[:, j], ddof=1)
            out[i, j] = 0.0 if c[0, 0] <= 1e-12 else min(c[0, 1] ** 2 / (c[0, 0] * c[1, 1]), 1.0)
    return out


@pytest.mark.parametrize("seed, n, m, s", [(0, 50, 1, 3), (1, 500, 4, 2), (2, 3000, 7, 5)])
def test_continuous_branch_equals_per_pair_reference(seed, n, m, s):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, s)) * 10.0 ** rng.uniform(-3, 3, s) + rng.uniform(-1e3, 1e3, s)
    x = v @ rng.standard_normal((s, m)) + rng.standard_normal((n, m)) * 10.0 ** rng.uniform(-2, 2, m)
    x += rng.uniform(-50, 50, m)
    x[:, 0] = 7.0 + 1e-8 * rng.standard_normal(n) if m > 1 else x[:, 0]   # below the 1e-12 floor
    ref = _per_pair_reference(x, v)
    res = standard_sap(x, v, discrete_factors=False)
    np.testing.assert_allclose(res.matrix, ref, rtol=1e-11, atol=1e-14)
    srt = np.sort(ref, axis=0)
    second = srt[-2] if m > 1 else np.zeros(s)
    assert res.score == pytest.approx(np.mean(srt[-1] - second), rel=1e-11, abs=1e-14)
    if m > 1:
        assert np.all(res.matrix[0] == 0.0)


def test_mixed_branches_keep_the_reference_values():
    """Continuous columns by the matrix product, discrete ones by the SVM, in one call."""
    rng = np.random.default_rng(5)
    n = 900
    v = np.column_stack([rng.standard_normal(n), rng.integers(0, 3, n), rng.standard_normal(n)])
    x = v @ rng.standard_normal((3, 3)) + 0.5 * rng.standard_normal((n, 3))
    res = standard_sap(x, v, rng=3)
    assert res.discrete_factors == (False, True, False)
    gen = np.random.default_rng(3)
    order = gen.permutation(n)
    tr = order[:n - int(np.ceil(n / 3))]
    ref = _per_pair_reference(x[tr], v[tr])
    np.testing.assert_allclose(res.matrix[:, [0, 2]], ref[:, [0, 2]], rtol=1e-11)
    assert np.all((res.matrix[:, 1] >= 0.0) & (res.matrix[:, 1] <= 1.0))

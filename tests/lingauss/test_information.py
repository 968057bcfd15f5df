"""Gaussian entropy / (conditional) mutual information against closed forms, scipy and Monte Carlo.

Every reference value here is computed independently of :mod:`lingauss.information`: 1-D closed
forms, ``scipy.stats.multivariate_normal(...).entropy()``, ``numpy.linalg.slogdet`` of Schur
complements (a different formula from the library's block-logdet one), and sample covariances.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

from lingauss.information import (gaussian_conditional_mi, gaussian_entropy, gaussian_mi,
                                  logdet_spd)
from lingauss.testing import spd_matrices

LOG_2PI_E = np.log(2.0 * np.pi) + 1.0


# ---------------------------------------------------------------- independent references

def _slogdet(mat):
    if mat.shape[0] == 0:
        return 0.0
    sign, value = np.linalg.slogdet(mat)
    assert sign > 0, "reference matrix is not positive definite"
    return value


def _schur(cov, keep, given):
    """Conditional covariance Σ_{keep|given} = Σ_kk − Σ_kg Σ_gg⁻¹ Σ_gk."""
    keep, given = list(keep), list(given)
    s_kk = cov[np.ix_(keep, keep)]
    if not given:
        return s_kk
    s_kg = cov[np.ix_(keep, given)]
    s_gg = cov[np.ix_(given, given)]
    return s_kk - s_kg @ np.linalg.solve(s_gg, s_kg.T)


def ref_mi(cov, a, b):
    """I(a;b) = ½ log(|Σ_aa| / |Σ_{a|b}|): the Schur-complement form, not the library's."""
    if not a or not b:
        return 0.0
    return 0.5 * (_slogdet(_schur(cov, a, ())) - _slogdet(_schur(cov, a, b)))


def ref_cmi(cov, a, b, c):
    """I(a;b|c) = ½ log(|Σ_{a|c}| / |Σ_{a|b∪c}|)."""
    if not a or not b:
        return 0.0
    return 0.5 * (_slogdet(_schur(cov, a, c)) - _slogdet(_schur(cov, a, list(b) + list(c))))


def _bivariate(rho, var1=1.0, var2=1.0):
    off = rho * np.sqrt(var1 * var2)
    return np.array([[var1, off], [off, var2]])


# ---------------------------------------------------------------- strategies

@st.composite
def cov_and_sets(draw, min_size=2, max_size=6, max_condition=1e3):
    """A joint covariance and three disjoint index sets a, b, c (a and b non-empty)."""
    k = draw(st.integers(min_size, max_size))
    cov = draw(spd_matrices(k, max_condition=max_condition))
    labels = draw(st.lists(st.integers(0, 3), min_size=k, max_size=k))
    labels[draw(st.integers(0, k - 1))] = 0
    rest = [i for i in range(k) if labels[i] != 0]
    if rest:
        labels[draw(st.sampled_from(rest))] = 1
    else:  # k >= 2, so only reachable when every label was 0: make the last one b
        labels[k - 1] = 1
    sets = [[i for i in range(k) if labels[i] == t] for t in range(4)]
    return cov, sets[0], sets[1], sets[2], sets[3]


def _random_invertible(rng, k, cond_max=10.0):
    q1, _ = np.linalg.qr(rng.standard_normal((k, k)))
    q2, _ = np.linalg.qr(rng.standard_normal((k, k)))
    sv = np.exp(rng.uniform(0.0, np.log(cond_max), k))
    return (q1 * sv) @ q2


_seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------- 1-D closed forms

RHOS = [0.0, 0.3, -0.5, 0.9, -0.99, 0.999999, -0.999999]
VARIANCES = [(1.0, 1.0), (1e-3, 50.0), (7.0, 0.2), (1e-8, 1e8)]


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("var1,var2", VARIANCES)
def test_bivariate_mi_closed_form(rho, var1, var2):
    expected = -0.5 * np.log1p(-rho * rho)
    cov = _bivariate(rho, var1, var2)
    assert gaussian_mi(cov, 0, 1) == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert gaussian_mi(cov, [1], [0]) == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert gaussian_conditional_mi(cov, 0, 1) == pytest.approx(expected, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("rho", RHOS)
def test_bivariate_mi_does_not_depend_on_variances(rho):
    values = [gaussian_mi(_bivariate(rho, v1, v2), 0, 1) for v1, v2 in VARIANCES]
    assert np.ptp(values) <= 1e-10 * max(1.0, max(values))


def test_bivariate_mi_increases_with_abs_correlation():
    values = [gaussian_mi(_bivariate(r), 0, 1) for r in np.linspace(0.0, 0.99, 12)]
    assert np.all(np.diff(values) > 0)


@pytest.mark.parametrize("var", [1e-6, 0.3, 1.0, 42.0, 1e6])
def test_univariate_entropy_closed_form(var):
    expected = 0.5 * np.log(2.0 * np.pi * np.e * var)
    assert gaussian_entropy(np.array([[var]])) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # the same variable picked out of a larger (correlated) vector
    cov = np.array([[var, 0.5 * np.sqrt(var)], [0.5 * np.sqrt(var), 1.0]])
    assert gaussian_entropy(cov, 0) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(spd_matrices(st.integers(1, 6), max_condition=1e4, scale=3.0))
def test_entropy_matches_scipy(cov):
    expected = stats.multivariate_normal(mean=np.zeros(len(cov)), cov=cov).entropy()
    assert gaussian_entropy(cov) == pytest.approx(expected, rel=1e-10, abs=1e-10)


@given(cov_and_sets())
def test_block_entropy_matches_scipy(args):
    cov, a, b, _, _ = args
    idx = sorted(a + b)
    expected = stats.multivariate_normal(mean=np.zeros(len(idx)),
                                         cov=cov[np.ix_(idx, idx)]).entropy()
    assert gaussian_entropy(cov, idx) == pytest.approx(expected, rel=1e-10, abs=1e-10)
    assert gaussian_entropy(cov, []) == 0.0


@given(cov_and_sets())
def test_mi_is_entropy_difference(args):
    """I(a;b) = h(a) + h(b) − h(a∪b), with the entropies from scipy."""
    cov, a, b, _, _ = args

    def h(idx):
        return stats.multivariate_normal(mean=np.zeros(len(idx)), cov=cov[np.ix_(idx, idx)]).entropy()

    expected = h(a) + h(b) - h(sorted(a + b))
    assert gaussian_mi(cov, a, b) == pytest.approx(expected, abs=1e-9)


@given(spd_matrices(st.integers(1, 7), max_condition=1e6, scale=10.0))
def test_logdet_spd_matches_slogdet(mat):
    assert logdet_spd(mat) == pytest.approx(_slogdet(mat), rel=1e-10, abs=1e-10)


def test_logdet_spd_empty_and_diagonal():
    assert logdet_spd(np.zeros((0, 0))) == 0.0
    assert logdet_spd([[2.0, 0.0], [0.0, 3.0]]) == pytest.approx(np.log(6.0), rel=1e-14)
    d = np.array([1e-5, 2.0, 3e7])
    assert logdet_spd(np.diag(d)) == pytest.approx(np.sum(np.log(d)), rel=1e-13)


def test_logdet_spd_rejects_non_pd_naming_it():
    with pytest.raises(ValueError, match="my block"):
        logdet_spd(np.array([[1.0, 2.0], [2.0, 1.0]]), "my block")
    with pytest.raises(ValueError, match="my block"):
        logdet_spd(-np.eye(2), "my block")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_logdet_spd_rejects_non_finite(bad):
    """Regression: NaN/inf used to come back as nan/inf (Cholesky does not raise on them)."""
    with pytest.raises(ValueError, match="my block"):
        logdet_spd(np.array([[bad, 0.0], [0.0, 1.0]]), "my block")


def test_logdet_spd_rejects_non_symmetric():
    """Regression: Cholesky reads one triangle, so [[1, 5], [0, 1]] (xᵀMx = −3 at x = (1, −1))
    used to give 0.0."""
    with pytest.raises(ValueError, match="my block"):
        logdet_spd(np.array([[1.0, 5.0], [0.0, 1.0]]), "my block")


# ---------------------------------------------------------------- properties

@given(cov_and_sets())
def test_mi_matches_schur_reference_and_is_nonnegative(args):
    cov, a, b, c, _ = args
    value = gaussian_mi(cov, a, b)
    assert value >= 0.0
    assert value == pytest.approx(ref_mi(cov, a, b), rel=1e-8, abs=1e-10)
    cvalue = gaussian_conditional_mi(cov, a, b, c)
    assert cvalue >= 0.0
    assert cvalue == pytest.approx(ref_cmi(cov, a, b, c), rel=1e-8, abs=1e-10)


@given(cov_and_sets())
def test_mi_symmetry(args):
    cov, a, b, c, _ = args
    assert gaussian_mi(cov, a, b) == pytest.approx(gaussian_mi(cov, b, a), rel=1e-12, abs=1e-14)
    assert gaussian_conditional_mi(cov, a, b, c) == pytest.approx(
        gaussian_conditional_mi(cov, b, a, c), rel=1e-12, abs=1e-14)


@given(cov_and_sets())
def test_empty_set_gives_zero(args):
    cov, a, b, c, _ = args
    for x in (a, b):
        assert gaussian_mi(cov, x, []) == 0.0
        assert gaussian_mi(cov, [], x) == 0.0
        assert gaussian_conditional_mi(cov, x, [], c) == 0.0
        assert gaussian_conditional_mi(cov, [], x, c) == 0.0


@given(cov_and_sets())
def test_chain_rule(args):
    """I(a; b∪c) = I(a; c) + I(a; b | c)."""
    cov, a, b, c, _ = args
    lhs = gaussian_mi(cov, a, b + c)
    rhs = gaussian_mi(cov, a, c) + gaussian_conditional_mi(cov, a, b, c)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-10)


@given(cov_and_sets())
def test_conditional_mi_with_empty_condition_equals_mi(args):
    cov, a, b, _, _ = args
    assert gaussian_conditional_mi(cov, a, b, []) == pytest.approx(gaussian_mi(cov, a, b),
                                                                   rel=1e-12, abs=1e-14)
    assert gaussian_conditional_mi(cov, a, b) == pytest.approx(gaussian_mi(cov, a, b),
                                                               rel=1e-12, abs=1e-14)


@given(cov_and_sets(), _seeds)
def test_invariance_to_within_block_linear_maps(args, seed):
    """x_a → T_a x_a, x_b → T_b x_b, ... (block-diagonal T) leaves I(a;b) and I(a;b|c) unchanged."""
    cov, a, b, c, rest = args
    rng = np.random.default_rng(seed)
    k = len(cov)
    T = np.zeros((k, k))
    for block in (a, b, c, rest):
        if block:
            T[np.ix_(block, block)] = _random_invertible(rng, len(block))
    new = T @ cov @ T.T
    new = 0.5 * (new + new.T)
    assert gaussian_mi(new, a, b) == pytest.approx(gaussian_mi(cov, a, b), rel=1e-7, abs=1e-9)
    assert gaussian_conditional_mi(new, a, b, c) == pytest.approx(
        gaussian_conditional_mi(cov, a, b, c), rel=1e-7, abs=1e-9)


@given(cov_and_sets(), _seeds)
def test_invariance_to_per_variable_rescaling(args, seed):
    cov, a, b, c, _ = args
    rng = np.random.default_rng(seed)
    d = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), len(cov))) * rng.choice([-1.0, 1.0], len(cov))
    new = d[:, None] * cov * d[None, :]
    assert gaussian_mi(new, a, b) == pytest.approx(gaussian_mi(cov, a, b), rel=1e-9, abs=1e-12)
    assert gaussian_conditional_mi(new, a, b, c) == pytest.approx(
        gaussian_conditional_mi(cov, a, b, c), rel=1e-9, abs=1e-12)
    # entropy is not scale invariant: h changes by Σ log|d_i| over the block
    idx = a + b
    assert gaussian_entropy(new, idx) == pytest.approx(
        gaussian_entropy(cov, idx) + np.sum(np.log(np.abs(d[idx]))), rel=1e-10, abs=1e-9)


@given(cov_and_sets())
def test_mi_monotone_under_inclusion(args):
    cov, a, b, c, rest = args
    base = gaussian_mi(cov, a, b)
    assert base <= gaussian_mi(cov, a, b + c) + 1e-12
    assert base <= gaussian_mi(cov, a, b + c + rest) + 1e-12
    assert base <= gaussian_mi(cov, a + c, b) + 1e-12


@given(spd_matrices(st.integers(1, 3)), spd_matrices(st.integers(1, 3)), _seeds)
def test_independent_blocks_have_zero_mi(s1, s2, seed):
    k1, k2 = len(s1), len(s2)
    k = k1 + k2
    perm = np.random.default_rng(seed).permutation(k)   # interleave the two blocks
    g1, g2 = sorted(perm[:k1].tolist()), sorted(perm[k1:].tolist())
    cov = np.zeros((k, k))
    cov[np.ix_(g1, g1)] = s1
    cov[np.ix_(g2, g2)] = s2
    assert gaussian_mi(cov, g1, g2) == pytest.approx(0.0, abs=1e-12)
    assert gaussian_mi(cov, g1[:1], g2[-1:]) == pytest.approx(0.0, abs=1e-12)
    # conditioning on part of the other block keeps it independent
    if k2 > 1:
        assert gaussian_conditional_mi(cov, g1, g2[:1], g2[1:]) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- numerical stability

@given(cov_and_sets(max_condition=1e2))
def test_badly_scaled_variances_give_same_mi(args):
    """Variances 1e-8 and 1e8 in the same matrix: MI equals that of the well-scaled matrix."""
    cov, a, b, c, _ = args
    d = np.where(np.arange(len(cov)) % 2 == 0, 1e-4, 1e4)   # variances scaled by 1e-8 / 1e8
    bad = d[:, None] * cov * d[None, :]
    assert gaussian_mi(bad, a, b) == pytest.approx(gaussian_mi(cov, a, b), rel=1e-9, abs=1e-13)
    assert gaussian_mi(bad, a, b) == pytest.approx(ref_mi(cov, a, b), rel=1e-8, abs=1e-11)
    assert gaussian_conditional_mi(bad, a, b, c) == pytest.approx(
        gaussian_conditional_mi(cov, a, b, c), rel=1e-9, abs=1e-13)


def test_badly_scaled_bivariate_closed_form():
    for rho in (0.1, 0.7, -0.95):
        cov = _bivariate(rho, 1e-8, 1e8)
        assert gaussian_mi(cov, 0, 1) == pytest.approx(-0.5 * np.log1p(-rho**2), rel=1e-9)


@pytest.mark.parametrize("eps", [1e-4, 1e-8, 1e-10])
def test_near_singular_blocks_are_finite_and_exact(eps):
    """x3 = x1 + x2 + e, var e = eps: nearly collinear yet PD.

    I(x3; x1,x2) = ½ log((2+eps)/eps), I(x1; x3 | x2) = ½ log((1+eps)/eps), I(x1; x2) = 0.
    """
    cov = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 2.0 + eps]])
    mi = gaussian_mi(cov, [2], [0, 1])
    cmi = gaussian_conditional_mi(cov, 0, 2, 1)
    assert np.isfinite(mi) and np.isfinite(cmi)
    # the (2+eps) entry carries a relative rounding error ~1e-16 that eps amplifies by 1/eps
    tol = 1e-14 / eps + 1e-12
    assert mi == pytest.approx(0.5 * np.log((2.0 + eps) / eps), rel=tol)
    assert cmi == pytest.approx(0.5 * np.log((1.0 + eps) / eps), rel=tol)
    assert gaussian_mi(cov, 0, 1) == pytest.approx(0.0, abs=1e-14)
    assert np.isfinite(gaussian_entropy(cov))
    assert gaussian_entropy(cov) == pytest.approx(0.5 * (3 * LOG_2PI_E + np.log(eps)), rel=tol)


def test_monte_carlo_plug_in_estimate():
    """Plug the covariance of 200k samples into the MI and compare with the exact value.

    For a Gaussian the plug-in estimate Î = −½ Σ log(1 − r_i²) over canonical correlations has
    asymptotic variance Σ ρ_i² / N ≤ min(|a|, |b|) / N and bias O(|a||b| / N); 6 standard
    deviations plus the bias bound makes a spurious failure essentially impossible.
    """
    cov = np.array([[2.0, 0.9, -0.4],
                    [0.9, 1.0, 0.3],
                    [-0.4, 0.3, 0.5]])
    n = 200_000
    rng = np.random.default_rng(12345)
    x = rng.standard_normal((n, 3)) @ np.linalg.cholesky(cov).T
    sample_cov = np.cov(x, rowvar=False)
    for a, b in (([0], [1]), ([0], [2]), ([1], [2]), ([0], [1, 2]), ([2], [0, 1])):
        exact = ref_mi(cov, a, b)
        tol = 6.0 * np.sqrt(min(len(a), len(b)) / n) + len(a) * len(b) / n
        est = gaussian_mi(sample_cov, a, b)
        assert abs(est - exact) <= tol, (a, b, est, exact, tol)
        assert exact > 5 * tol   # the check is meaningful: the exact MI is far above the noise
    # conditional MI likewise (it is a difference of two such plug-in estimates)
    exact = ref_cmi(cov, [0], [1], [2])
    est = gaussian_conditional_mi(sample_cov, 0, 1, 2)
    assert abs(est - exact) <= 2 * (6.0 / np.sqrt(n) + 2.0 / n)


# ---------------------------------------------------------------- errors

NON_PD = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def test_non_pd_block_raises():
    with pytest.raises(ValueError, match=r"covariance block .*a ∪ b"):
        gaussian_mi(NON_PD, 0, 1)
    with pytest.raises(ValueError, match=r"covariance block"):
        gaussian_conditional_mi(NON_PD, 0, 2, 1)
    with pytest.raises(ValueError, match=r"covariance block"):
        gaussian_entropy(NON_PD)
    with pytest.raises(ValueError, match=r"covariance block .*\[0, 1\]"):
        gaussian_entropy(NON_PD, [0, 1])
    # the PD sub-blocks of the same matrix are fine
    assert gaussian_mi(NON_PD, 0, 2) == pytest.approx(0.0, abs=1e-15)


def test_non_positive_variance_raises():
    cov = np.diag([1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"covariance block of b"):
        gaussian_mi(cov, 0, 1)
    with pytest.raises(ValueError, match=r"covariance block"):
        gaussian_entropy(cov, 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_cov_raises(bad):
    cov = np.eye(3)
    cov[0, 0] = bad
    with pytest.raises(ValueError, match=r"cov contains NaN"):
        gaussian_mi(cov, 1, 2)
    with pytest.raises(ValueError, match=r"cov contains NaN"):
        gaussian_conditional_mi(cov, 1, 2, [])
    with pytest.raises(ValueError, match=r"cov contains NaN"):
        gaussian_entropy(cov, [1])


def test_non_symmetric_cov_raises():
    cov = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for call in (lambda: gaussian_mi(cov, 0, 1), lambda: gaussian_conditional_mi(cov, 0, 1, 2),
                 lambda: gaussian_entropy(cov)):
        with pytest.raises(ValueError, match=r"cov must be symmetric"):
            call()


def test_non_square_or_non_matrix_cov_raises():
    with pytest.raises(ValueError, match=r"cov must be square"):
        gaussian_mi(np.ones((2, 3)), 0, 1)
    with pytest.raises(ValueError, match=r"cov must be a 2-D"):
        gaussian_mi(np.ones(3), 0, 1)
    with pytest.raises(ValueError, match=r"cov must be a real numeric"):
        gaussian_entropy([["a", "b"], ["c", "d"]])


def test_overlapping_sets_raise():
    cov = np.eye(4)
    with pytest.raises(ValueError, match=r"a and b must be disjoint"):
        gaussian_mi(cov, [0, 1], [1, 2])
    with pytest.raises(ValueError, match=r"a and b must be disjoint"):
        gaussian_conditional_mi(cov, [0, 1], [1, 2], [3])
    with pytest.raises(ValueError, match=r"a and c must be disjoint"):
        gaussian_conditional_mi(cov, [0], [1], [0, 3])
    with pytest.raises(ValueError, match=r"b and c must be disjoint"):
        gaussian_conditional_mi(cov, [0], [1], [1, 3])


def test_out_of_range_and_repeated_indices_raise():
    cov = np.eye(3)
    with pytest.raises(ValueError, match=r"\ba index 3 out of range"):
        gaussian_mi(cov, 3, 0)
    with pytest.raises(ValueError, match=r"\bb index -1 out of range"):
        gaussian_mi(cov, 0, [-1])
    with pytest.raises(ValueError, match=r"\bc index 5 out of range"):
        gaussian_conditional_mi(cov, 0, 1, [5])
    with pytest.raises(ValueError, match=r"idx index 3 out of range"):
        gaussian_entropy(cov, [0, 3])
    with pytest.raises(ValueError, match=r"\bb has repeated indices"):
        gaussian_mi(cov, 0, [1, 1])
    with pytest.raises(ValueError, match=r"\ba must be an int or an iterable"):
        gaussian_mi(cov, None, [1])


def test_fractional_index_raises():
    """Regression: int(0.5) used to truncate silently to index 0."""
    with pytest.raises(ValueError, match=r"\ba\b"):
        gaussian_mi(np.eye(3), [0.5], [1])
    with pytest.raises(ValueError, match=r"\bc\b"):
        gaussian_conditional_mi(np.eye(3), 0, 1, [2.0])
    with pytest.raises(ValueError, match=r"idx"):
        gaussian_entropy(np.eye(3), [1.5])


def test_string_index_error_names_argument():
    """Regression: 'ab' used to raise int()'s own message, which names no argument."""
    with pytest.raises(ValueError, match=r"^a "):
        gaussian_mi(np.eye(3), "ab", [1])

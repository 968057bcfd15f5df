"""The talk's factor scenarios: Σ_V against a simulation of the generative recipe and the slides.

The reference Σ_V is either estimated from samples drawn by an independent implementation of the
recipe v_root ~ N(0, σ_v²), v_j = α_j v_root + z_j, or written out entry by entry from the talk's
printed matrices (seed 002, "Configurations of Generative Factors").
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from lingauss.information import gaussian_mi
from lingauss.scenarios import (SCENARIO_GROUPS, canonical_grouping, dependent_factor_covariance,
                                scenario_from_groups, talk_scenario, talk_scenarios)
from lingauss.testing import assert_covariance_matches_samples, groupings

N_MC = 200_000


def simulate_factors(groups, root_std, coupling, noise_std, n_samples, rng):
    """Draw factors by the recipe: each group's smallest index is the root."""
    s = sum(len(g) for g in groups)
    v = np.empty((n_samples, s))
    for g in groups:
        root = min(g)
        v[:, root] = root_std[root] * rng.standard_normal(n_samples)
        for j in g:
            if j != root:
                v[:, j] = coupling[j] * v[:, root] + noise_std[j] * rng.standard_normal(n_samples)
    return v


def components(cov):
    """Connected components of the graph 'cov[i, j] != 0', canonical form (brute-force union)."""
    s = len(cov)
    label = list(range(s))
    changed = True
    while changed:
        changed = False
        for i in range(s):
            for j in range(s):
                if cov[i, j] != 0.0 and label[i] != label[j]:
                    label[i] = label[j] = min(label[i], label[j])
                    changed = True
    return canonical_grouping([[i for i in range(s) if label[i] == k] for k in set(label)])


def _group_of(groups):
    return {i: k for k, g in enumerate(groups) for i in g}


# ---------------------------------------------------------------- Σ_V vs the generative recipe

@pytest.mark.parametrize("groups", [
    ((0, 3), (1,), (2, 4, 5)),
    ((0, 1, 2),),
    ((0,), (1,), (2,)),
])
def test_dependent_covariance_matches_simulation(groups):
    rng = np.random.default_rng(77)
    s = sum(len(g) for g in groups)
    root_std = rng.uniform(0.5, 2.0, s)
    coupling = rng.uniform(-1.5, 1.5, s)
    noise_std = rng.uniform(0.2, 1.0, s)
    cov = dependent_factor_covariance(groups, root_std=root_std, coupling=coupling,
                                      dependent_noise_std=noise_std)
    assert cov.shape == (s, s)
    v = simulate_factors(groups, root_std, coupling, noise_std, N_MC, rng)
    assert_covariance_matches_samples(v, cov)


@given(st.integers(1, 6).flatmap(groupings), st.integers(0, 2**32 - 1))
def test_dependent_covariance_entrywise_formula(groups, seed):
    """Each entry from the recipe: var v_j = α_j²σ_r² + σ_zj², cov(v_r, v_j) = α_jσ_r²,
    cov(v_j, v_k) = α_jα_kσ_r² inside a group, exactly 0 across groups."""
    rng = np.random.default_rng(seed)
    s = sum(len(g) for g in groups)
    sd = rng.uniform(0.1, 3.0, s)
    alpha = rng.uniform(-2.0, 2.0, s)
    noise = rng.uniform(0.1, 1.5, s)
    cov = dependent_factor_covariance(groups, root_std=sd, coupling=alpha,
                                      dependent_noise_std=noise)
    grp = _group_of(groups)
    expected = np.zeros((s, s))
    for i in range(s):
        for j in range(s):
            if grp[i] != grp[j]:
                continue
            r = min(groups[grp[i]])
            li = 1.0 if i == r else alpha[i]
            lj = 1.0 if j == r else alpha[j]
            expected[i, j] = li * lj * sd[r] ** 2 + (noise[i] ** 2 if (i == j and i != r) else 0.0)
    np.testing.assert_allclose(cov, expected, rtol=1e-12, atol=1e-14)
    # across groups exactly zero
    for i in range(s):
        for j in range(s):
            if grp[i] != grp[j]:
                assert cov[i, j] == 0.0
    assert np.linalg.eigvalsh(cov).min() > 0


def test_unused_per_factor_entries_are_ignored():
    """root_std is read only at roots; coupling and dependent_noise_std only at dependent factors."""
    groups = ((0, 2), (1,))
    a = dependent_factor_covariance(groups, root_std=[1.5, 0.7, 9.0],
                                    coupling=[5.0, 8.0, 0.6], dependent_noise_std=[3.0, 4.0, 0.3])
    b = dependent_factor_covariance(groups, root_std=[1.5, 0.7, 0.01],
                                    coupling=[-1.0, 0.0, 0.6], dependent_noise_std=[0.1, 0.2, 0.3])
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- the talk's printed matrices

S1, S3, ALPHA, BETA, SZ2, SZ3 = 1.3, 0.8, 0.7, -1.4, 0.45, 0.6


def test_talk_scenario_1_matrix():
    sds = [S1, 2.2, S3]
    expected = np.diag([sds[0] ** 2, sds[1] ** 2, sds[2] ** 2])
    got = talk_scenario((3, 4, 3), 1, root_std=sds).model.sigma_v
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)


def test_talk_scenario_2_matrix():
    """[[σ1², ασ1², 0], [ασ1², α²σ1² + σz2², 0], [0, 0, σ3²]]."""
    s1 = S1 ** 2
    expected = np.array([[s1, ALPHA * s1, 0.0],
                         [ALPHA * s1, ALPHA ** 2 * s1 + SZ2 ** 2, 0.0],
                         [0.0, 0.0, S3 ** 2]])
    scen = talk_scenario((3, 4, 3), 2, root_std=[S1, 5.0, S3], coupling=[9.0, ALPHA, 9.0],
                         dependent_noise_std=[9.0, SZ2, 9.0])
    np.testing.assert_allclose(scen.model.sigma_v, expected, rtol=1e-14, atol=0)


def test_talk_scenario_3_matrix():
    """[[σ1², ασ1², βσ1²], [ασ1², α²σ1² + σz2², αβσ1²], [βσ1², αβσ1², β²σ1² + σz3²]]."""
    s1 = S1 ** 2
    expected = np.array([[s1, ALPHA * s1, BETA * s1],
                         [ALPHA * s1, ALPHA ** 2 * s1 + SZ2 ** 2, ALPHA * BETA * s1],
                         [BETA * s1, ALPHA * BETA * s1, BETA ** 2 * s1 + SZ3 ** 2]])
    scen = talk_scenario((3, 4, 3), 3, root_std=S1, coupling=[0.0, ALPHA, BETA],
                         dependent_noise_std=[1.0, SZ2, SZ3])
    np.testing.assert_allclose(scen.model.sigma_v, expected, rtol=1e-14, atol=0)
    # the same matrix from the recipe by simulation (α, β, σ's as in the slide)
    rng = np.random.default_rng(5)
    v = simulate_factors(((0, 1, 2),), [S1] * 3, [0.0, ALPHA, BETA], [1.0, SZ2, SZ3], N_MC, rng)
    assert_covariance_matches_samples(v, scen.model.sigma_v)


# ---------------------------------------------------------------- talk_scenarios()

def test_talk_scenarios_sizes_and_groupings():
    scenarios = talk_scenarios()
    assert [sc.size for sc in scenarios] == [(3, 4, 3)] * 3 + [(5, 5, 4)] * 3
    assert [sc.n_groups for sc in scenarios] == [3, 2, 1, 3, 2, 1]
    for sc in scenarios:
        s, n, m = sc.size
        assert (sc.model.s, sc.model.n, sc.n_latents) == (s, n, m)
        assert sorted(i for g in sc.true_grouping for i in g) == list(range(s))
        assert sc.true_grouping == canonical_grouping(sc.true_grouping)
        np.testing.assert_array_equal(sc.model.mixing, np.eye(n, s))
        assert sc.name and isinstance(sc.description, str)
    assert len({sc.name for sc in scenarios}) == 6
    # the 3-factor scenarios are the slides' ones: {v1}{v2}{v3}, {v1 v2}{v3}, {v1 v2 v3}
    assert [sc.true_grouping for sc in scenarios[:3]] == [((0,), (1,), (2,)), ((0, 1), (2,)),
                                                          ((0, 1, 2),)]


@pytest.mark.parametrize("k", range(6))
def test_groups_independent_across_correlated_within(k):
    sc = talk_scenarios()[k]
    cov = np.asarray(sc.model.sigma_v)
    grp = _group_of(sc.true_grouping)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    for i in range(sc.model.s):
        for j in range(i + 1, sc.model.s):
            if grp[i] == grp[j]:
                assert abs(corr[i, j]) > 0.1, (i, j)
            else:
                assert cov[i, j] == 0.0, (i, j)
    # the dependence graph of Σ_V recovers exactly the true grouping
    assert components(cov) == sc.true_grouping
    # the groups are mutually independent as random vectors; inside a group, MI > 0
    groups = sc.true_grouping
    for p in range(len(groups)):
        for q in range(p + 1, len(groups)):
            assert gaussian_mi(cov, groups[p], groups[q]) == pytest.approx(0.0, abs=1e-12)
        for j in groups[p][1:]:
            assert gaussian_mi(cov, groups[p][0], j) > 0.01


def test_default_parameters_are_the_documented_ones():
    defaults = talk_scenarios()
    explicit = talk_scenarios(root_std=1.0, coupling=1.0, dependent_noise_std=0.5, noise_var=0.1)
    for a, b in zip(defaults, explicit):
        np.testing.assert_array_equal(a.model.sigma_y, b.model.sigma_y)
        assert a.model.noise_var < 1.0            # the talk requires σ² < 1


def test_noise_var_changes_only_the_observation_noise():
    base = talk_scenarios()
    other = talk_scenarios(noise_var=0.37)
    for a, b in zip(base, other):
        assert b.model.noise_var == 0.37
        np.testing.assert_array_equal(a.model.sigma_v, b.model.sigma_v)
        delta = (0.37 - a.model.noise_var) * np.eye(a.model.n)
        np.testing.assert_allclose(b.model.sigma_y - a.model.sigma_y, delta, atol=1e-14)


BASE = dict(root_std=1.3, coupling=0.8, dependent_noise_std=0.4)


def test_root_std_changes_every_scenario_and_scales_sigma_v():
    base = talk_scenarios(**BASE)
    bigger_root = talk_scenarios(**{**BASE, "root_std": 2.0})
    c = 1.7
    scaled = talk_scenarios(root_std=BASE["root_std"] * c, coupling=BASE["coupling"],
                            dependent_noise_std=BASE["dependent_noise_std"] * c)
    for a, b, sc in zip(base, bigger_root, scaled):
        assert not np.allclose(a.model.sigma_v, b.model.sigma_v)
        assert not np.allclose(a.model.sigma_y, b.model.sigma_y)
        # v = σ_r·(stuff) + σ_z·(stuff): scaling both standard deviations by c scales Σ_V by c²
        np.testing.assert_allclose(sc.model.sigma_v, c ** 2 * a.model.sigma_v, rtol=1e-13)


def test_coupling_changes_scenarios_with_dependent_factors():
    base = talk_scenarios(**BASE)
    flipped = talk_scenarios(**{**BASE, "coupling": -BASE["coupling"]})
    stronger = talk_scenarios(**{**BASE, "coupling": 1.9})
    for a, f, st_ in zip(base, flipped, stronger):
        roots = [g[0] for g in a.true_grouping]
        has_dependents = a.model.s > len(roots)
        # α → −α flips the sign of every dependent factor: Σ' = D Σ D, D = ±1 (roots +1)
        d = np.array([1.0 if j in roots else -1.0 for j in range(a.model.s)])
        np.testing.assert_allclose(f.model.sigma_v, d[:, None] * a.model.sigma_v * d[None, :],
                                   rtol=1e-14, atol=0)
        if has_dependents:
            assert not np.allclose(a.model.sigma_v, st_.model.sigma_v)
            assert not np.allclose(a.model.sigma_v, f.model.sigma_v)
        else:                                  # (3, 4, 3) scenario 1: nothing to couple
            np.testing.assert_array_equal(a.model.sigma_v, st_.model.sigma_v)
    assert sum(not np.allclose(a.model.sigma_v, s.model.sigma_v)
               for a, s in zip(base, stronger)) == 5


def test_dependent_noise_std_changes_only_dependent_variances():
    base = talk_scenarios(**BASE)
    noisier = talk_scenarios(**{**BASE, "dependent_noise_std": 0.9})
    changed = 0
    for a, b in zip(base, noisier):
        roots = {g[0] for g in a.true_grouping}
        expected = a.model.sigma_v.copy()
        for j in range(a.model.s):
            if j not in roots:
                expected[j, j] += 0.9 ** 2 - BASE["dependent_noise_std"] ** 2
        np.testing.assert_allclose(b.model.sigma_v, expected, rtol=1e-13, atol=1e-15)
        changed += not np.allclose(a.model.sigma_v, b.model.sigma_v)
    assert changed == 5


def test_scenario_from_groups_and_canonical_grouping():
    assert canonical_grouping([(2, 0), (), (4, 1, 3)]) == ((0, 2), (1, 3, 4))
    sc = scenario_from_groups([(3, 1), (0,), (2,)], n=6, n_latents=2, noise_var=0.2)
    assert sc.true_grouping == ((0,), (1, 3), (2,))
    assert sc.size == (4, 6, 2) and sc.n_groups == 3
    assert sc.model.sigma_v[1, 3] != 0.0 and sc.model.sigma_v[0, 1] == 0.0
    np.testing.assert_array_equal(
        sc.model.sigma_v, dependent_factor_covariance(((0,), (1, 3), (2,))))
    # talk_scenario is scenario_from_groups on the documented table
    for size, table in SCENARIO_GROUPS.items():
        for k, groups in table.items():
            a = talk_scenario(size, k, noise_var=0.3)
            b = scenario_from_groups(groups, size[1], size[2], noise_var=0.3)
            np.testing.assert_array_equal(a.model.sigma_y, b.model.sigma_y)
            assert a.true_grouping == b.true_grouping


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("groups", [
    ((0, 1), (1, 2)),      # overlap
    ((0,), (2,)),          # gap
    ((0, 0), (1,)),        # repeated inside a group
    ((-1, 0),),            # negative index
    ((1, 2),),             # does not start at 0
])
def test_non_partition_groups_raise(groups):
    with pytest.raises(ValueError, match=r"groups"):
        dependent_factor_covariance(groups)
    with pytest.raises(ValueError, match=r"groups"):
        scenario_from_groups(groups, n=5, n_latents=2)


def test_fractional_group_index_raises():
    """Regression: int(1.5) used to truncate, accepting ((0, 1.5),) as ((0, 1),)."""
    for groups in (((0, 1.5),), ((0, 1.0),), ((0, "1"),)):
        with pytest.raises(ValueError, match=r"groups"):
            dependent_factor_covariance(groups)


@pytest.mark.parametrize("size", [(3, 4, 4), (4, 4, 3), (5, 5, 5), (3, 4)])
def test_bad_size_raises(size):
    with pytest.raises(ValueError, match=r"size"):
        talk_scenario(size, 1)


def test_fractional_size_raises():
    """Regression: int() used to truncate, making (3, 4, 3.5) silently the (3, 4, 3) scenario."""
    for size in ((3, 4, 3.5), (3, 4, 3.0), "343"):
        with pytest.raises(ValueError, match=r"size"):
            talk_scenario(size, 1)


@pytest.mark.parametrize("index", [0, 4, -1, "1"])
def test_bad_index_raises(index):
    with pytest.raises(ValueError, match=r"index"):
        talk_scenario((3, 4, 3), index)


@pytest.mark.parametrize("name,value", [
    ("root_std", -1.0), ("root_std", 0.0), ("root_std", [1.0, -0.5, 1.0]), ("root_std", np.nan),
    ("root_std", [1.0, 1.0]),
    ("dependent_noise_std", -0.5), ("dependent_noise_std", 0.0), ("dependent_noise_std", np.inf),
    ("coupling", np.nan), ("coupling", [1.0, 1.0, 1.0, 1.0]),
])
def test_bad_covariance_parameters_raise(name, value):
    with pytest.raises(ValueError, match=name):
        dependent_factor_covariance(((0, 1), (2,)), **{name: value})
    with pytest.raises(ValueError, match=name):
        talk_scenario((3, 4, 3), 3, **{name: value})


def test_bad_scenario_from_groups_arguments_raise():
    with pytest.raises(ValueError, match=r"\bn must"):
        scenario_from_groups(((0, 1, 2),), n=2, n_latents=1)
    with pytest.raises(ValueError, match=r"n_latents"):
        scenario_from_groups(((0, 1),), n=2, n_latents=0)
    with pytest.raises(ValueError, match=r"n_latents"):
        scenario_from_groups(((0, 1),), n=2, n_latents=1.5)
    for bad in (0.0, -0.1, np.nan):
        with pytest.raises(ValueError, match=r"noise_var"):
            scenario_from_groups(((0, 1),), n=2, n_latents=1, noise_var=bad)
        with pytest.raises(ValueError, match=r"noise_var"):
            talk_scenario((5, 5, 4), 2, noise_var=bad)

"""Property-based tests of your own mutual-information estimator
=============================================================

Property-based tests of *your own* mutual-information estimator, with lingauss's strategies.

From the repository root::

    python examples/property_test_mi_estimator.py            # run the properties (about ten seconds)
    python examples/property_test_mi_estimator.py --examples 5
    python -m pytest examples/property_test_mi_estimator.py  # the same tests under pytest

``my_mi_estimate`` stands for the estimator you want to trust (here a plug-in Gaussian estimator
from samples; replace it with yours). :mod:`lingauss.testing` draws random linear Gaussian joint
covariances of latents and factors, :func:`lingauss.gaussian_mi` gives the exact answer, and
hypothesis searches for inputs where the estimator is wrong — shrinking any failure to a small
case. Three properties are checked:

1. the estimate is within sampling error of the exact mutual information;
2. it does not change when any column is rescaled or shifted (mutual information does not);
3. it is symmetric, I(a; b) = I(b; a).

``--buggy`` swaps in an estimator with a planted bug (it forgets to centre the samples), to show
what a failure looks like (hypothesis then shrinks each failing input, which takes a minute or two;
``--no-shrink`` reports the first one).
"""

import argparse
import sys

import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import lingauss as lg
from lingauss.testing import joint_covariances

N_SAMPLES = 20_000


def my_mi_estimate(samples, a, b):
    """The estimator under test: plug-in Gaussian MI (nats) of columns ``a`` and ``b`` of samples."""
    x = samples - samples.mean(axis=0)
    cov = x.T @ x / len(x)

    def logdet(idx):
        return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]

    return 0.5 * (logdet(a) + logdet(b) - logdet(list(a) + list(b)))


def buggy_mi_estimate(samples, a, b):
    """The same with a planted bug: the samples are not centred."""
    cov = samples.T @ samples / len(samples)

    def logdet(idx):
        return np.linalg.slogdet(cov[np.ix_(idx, idx)])[1]

    return 0.5 * (logdet(a) + logdet(b) - logdet(list(a) + list(b)))


ESTIMATOR = my_mi_estimate


def _draw_samples(cov, seed, n=N_SAMPLES):
    """``n`` Gaussian samples with covariance ``cov`` and a non-zero mean (seeded)."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(0.0, 3.0, size=len(cov))
    return rng.multivariate_normal(mean, cov, size=n)


def _split(draw_m_cov):
    cov, m = draw_m_cov
    return cov, list(range(m)), list(range(m, len(cov)))


def properties(config):
    """The three property tests, run under the hypothesis ``config`` (a ``settings`` object)."""

    @config
    @given(joint_covariances(), st.integers(0, 2**32 - 1))
    def test_estimate_matches_exact_mi(cov_m, seed):
        cov, latents, factors = _split(cov_m)
        exact = lg.gaussian_mi(cov, latents, factors)
        estimate = ESTIMATOR(_draw_samples(cov, seed), latents, factors)
        # plug-in bias ≈ k_a k_b / (2N); standard deviation ≤ about sqrt(k_a k_b / N) (Gaussian case)
        k = len(latents) * len(factors)
        tolerance = 6 * np.sqrt(k / N_SAMPLES) + k / N_SAMPLES
        assert abs(estimate - exact) <= tolerance, (estimate, exact, tolerance)

    @config
    @given(joint_covariances(), st.integers(0, 2**32 - 1), st.data())
    def test_estimate_is_invariant_to_units(cov_m, seed, data):
        cov, latents, factors = _split(cov_m)
        samples = _draw_samples(cov, seed, n=2_000)
        scale = np.array(data.draw(st.lists(st.floats(1e-3, 1e3), min_size=len(cov), max_size=len(cov))))
        shift = np.array(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=len(cov), max_size=len(cov))))
        before = ESTIMATOR(samples, latents, factors)
        after = ESTIMATOR(samples * scale + shift, latents, factors)
        assert abs(after - before) <= 1e-6 * max(1.0, abs(before)), (before, after)

    @config
    @given(joint_covariances(), st.integers(0, 2**32 - 1))
    def test_estimate_is_symmetric(cov_m, seed):
        cov, latents, factors = _split(cov_m)
        samples = _draw_samples(cov, seed, n=2_000)
        assert np.isclose(ESTIMATOR(samples, latents, factors), ESTIMATOR(samples, factors, latents))

    return test_estimate_matches_exact_mi, test_estimate_is_invariant_to_units, test_estimate_is_symmetric


# under pytest: 40 deterministic examples per property, no per-example deadline
(test_estimate_matches_exact_mi, test_estimate_is_invariant_to_units,
 test_estimate_is_symmetric) = properties(settings(max_examples=40, deadline=None, derandomize=True))


def main(argv=None) -> int:
    global ESTIMATOR
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--examples", type=int, default=40, help="hypothesis examples per property")
    p.add_argument("--buggy", action="store_true", help="test the estimator with the planted bug")
    p.add_argument("--no-shrink", action="store_true",
                   help="report the first failing example instead of shrinking it (faster)")
    args = p.parse_args(argv)
    if args.examples < 1:
        p.error("--examples must be at least 1")
    ESTIMATOR = buggy_mi_estimate if args.buggy else my_mi_estimate
    phases = [Phase.explicit, Phase.reuse, Phase.generate] if args.no_shrink else list(Phase)
    config = settings(max_examples=args.examples, deadline=None, derandomize=True, phases=phases)
    failed = 0
    for test in properties(config):
        try:
            test()
            print(f"PASS  {test.__name__} ({args.examples} examples)")
        except AssertionError as err:
            failed += 1
            print(f"FAIL  {test.__name__}: {str(err).splitlines()[0][:200]}")
    return 1 if failed else 0


if __name__ == "__main__":
    # exit non-zero on a failed property only: a plain sys.exit(0) would also end a host that runs
    # this file in-process (the documentation build does)
    if (status := main()):
        sys.exit(status)

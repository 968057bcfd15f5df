"""Registry, DCI and sample-covariance behaviours pinned: every formatter of the registered
diagnostics honours ``number_format``; modularity reports its explicitness; the rng reaches every
randomised metric; DCI on binary factors; the singular-matrix message names the right array and
column."""

import re

import numpy as np
import pytest

from lingauss.metrics import evaluate_metrics, registry
from lingauss.metrics.metric_registry import extras_text, summary_lines
from lingauss.metrics.samples import joint_covariance_from_samples

pytest.importorskip("sklearn")

FAST = {"dci": {"gbt_kwargs": {"n_estimators": 10}}}       # 10 boosting stages: seconds, not minutes


def _pair(n=600, seed=0, binary=False):
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 2, (n, 3)).astype(float) if binary else rng.standard_normal((n, 3))
    x = np.column_stack([v[:, 0], v[:, 1] + 0.3 * v[:, 2], v[:, 2]]) + 0.3 * rng.standard_normal((n, 3))
    return x, v


@pytest.fixture(scope="module")
def results():
    x, v = _pair(n=300)
    return evaluate_metrics(x, v, rng=0, options=FAST)


@pytest.mark.parametrize("fmt", [".2e", ".7f", ".3g"])
def test_every_numeric_diagnostic_is_printed_in_the_number_format(results, fmt):
    checked = 0
    for name, res in results.items():
        parts = extras_text(name, res, number_format=fmt)
        fields = registry()[name].extras
        assert len(parts) == len(fields)
        for field, text in zip(fields, parts):
            if field == "grouping":
                continue
            assert text == f"{field} {float(getattr(res, field)):{fmt}}"
            checked += 1
    assert checked >= 4                   # gaussian_mig, mig, dci (2), modularity


def test_summary_lines_print_every_registered_diagnostic(results):
    lines = summary_lines(results)
    for (name, res), line in zip(results.items(), lines):
        for field in registry()[name].extras:
            assert f"{field} " in line, (name, line)


def test_modularity_reports_its_explicitness_as_the_diagnostic(results):
    res = results["modularity"]
    assert registry()["modularity"].extras == ("explicitness_test",)
    assert 0.0 <= res.explicitness_test <= 1.0 and 0.0 <= res.score <= 1.0
    (text,) = extras_text("modularity", res, number_format=".6f")
    assert text == f"explicitness_test {res.explicitness_test:.6f}"
    # an informative code: the one-vs-rest explicitness is well above chance (0.5)
    assert res.explicitness_test > 0.7


def test_the_rng_reaches_every_randomised_metric():
    x, v = _pair(n=300, seed=1)
    names = [n for n, spec in registry().items() if spec.randomized and spec.input == "samples"
             and spec.available]
    assert names
    opts = {k: v_ for k, v_ in FAST.items() if k in names}
    a = evaluate_metrics(x, v, names=names, rng=3, options=opts)
    b = evaluate_metrics(x, v, names=names, rng=3, options=opts)
    other = evaluate_metrics(x, v, names=names, rng=4, options=opts)
    for name in names:
        direct = registry()[name].function(x, v, rng=3, **opts.get(name, {}))
        assert a[name].score == b[name].score == direct.score, name
    # the held-out split follows the seed: a different seed changes the split-dependent scores
    assert {"dci", "modularity"} <= {n for n in names if other[n].score != a[n].score}


def test_dci_with_binary_factors_sees_the_one_to_one_code():
    x, v = _pair(n=900, seed=2, binary=True)
    x = np.column_stack([v[:, 0], v[:, 1], v[:, 2]]) + 0.2 * np.random.default_rng(3).standard_normal((900, 3))
    res = evaluate_metrics(x, v, names=["dci"], rng=0, options=FAST)["dci"]
    assert res.discrete_factors == (True, True, True)
    R = np.asarray(res.importance_matrix)
    assert np.all(np.argmax(R, axis=0) == [0, 1, 2])              # factor j read from latent j
    assert res.score > 0.8 and res.completeness > 0.8
    assert res.informativeness_test > 0.95
    booleans = evaluate_metrics(x, v.astype(bool).astype(float), names=["dci"], rng=0, options=FAST)["dci"]
    assert booleans.score == res.score
    shifted = evaluate_metrics(x, 3.0 * v - 7.0, names=["dci"], rng=0, options=FAST)["dci"]   # other labels
    assert shifted.score == pytest.approx(res.score, abs=1e-12)


@pytest.mark.parametrize("which, col", [("latents", 2), ("factors", 1), ("factors", 0)])
def test_the_singular_message_names_the_array_and_the_column(which, col):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((200, 3)), rng.standard_normal((200, 2))
    if which == "latents":
        x[:, col] = x[:, 0] - 2.0 * x[:, 1]               # column 2 = a combination of 0 and 1
    elif col == 1:
        v[:, 1] = 0.5 * v[:, 0] + x[:, 2]                 # factor 1 from earlier columns
    else:
        v[:, 0] = x[:, 1] + x[:, 0]                       # factor 0 from the latents
    with pytest.raises(ValueError) as e:
        joint_covariance_from_samples(x, v)
    assert re.search(rf"\b{which} column {col}\b", str(e.value)), str(e.value)


@pytest.mark.parametrize("which, col", [("latents", 1), ("factors", 1)])
def test_a_constant_column_is_named(which, col):
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((100, 3)), rng.standard_normal((100, 2))
    (x if which == "latents" else v)[:, col] = 4.0
    with pytest.raises(ValueError, match=rf"{which} has a constant column {col}\b"):
        joint_covariance_from_samples(x, v)

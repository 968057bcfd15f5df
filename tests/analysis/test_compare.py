"""analysis.compare: the metric table over an encoder population and its rank correlations."""

import numpy as np
import pytest
from scipy.stats import spearmanr

import lingauss as lg
from analysis.cli import main
from analysis.compare import METRIC_COLUMNS, compare, rank_correlations, score_samples


def test_rank_correlations_on_hand_made_columns():
    x = np.arange(10.0)
    rows = [{"a": v, "b": v ** 3, "c": -v, "d": 1.0} for v in x]
    cols, rho = rank_correlations(rows, columns=("a", "b", "c", "d"))
    assert cols == ("a", "b", "c")                         # the constant column is left out
    np.testing.assert_allclose(rho, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]])
    with pytest.raises(ValueError, match="at least 3"):
        rank_correlations(rows[:2], columns=("a", "b"))


def test_score_samples_uses_the_exact_covariance_when_given():
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    rng = np.random.default_rng(0)
    v, y = sc.model.sample(800, rng)
    x = y @ r.B.T + rng.standard_normal((800, 3)) @ np.linalg.cholesky(r.sigma_w).T
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    s = score_samples(x, v, joint_cov=cov, rng=0, dci=False)
    assert set(s) == set(METRIC_COLUMNS)
    assert s["im"] == pytest.approx(lg.im_score(cov, 3).score)
    assert s["sap"] == pytest.approx(lg.sap_score(cov, 3).score)
    assert np.isnan(s["dci"]) and 0 <= s["mig"] <= 1


def test_compare_small_population_and_written_report(tmp_path):
    sc = lg.talk_scenario((3, 4, 3), 2)
    c = compare([sc], n_samples=300, n_random=4, dci=False, progress=False)
    assert len(c.rows) >= 4 + 3 and {r["source"] for r in c.rows} >= {"BA full", "BA isotropic", "random", "baseline"}
    cols, rho = c.correlations["all"]
    X = np.array([[r[k] for k in cols] for r in c.rows])
    np.testing.assert_allclose(rho, spearmanr(X).statistic)
    files = c.write(tmp_path)
    assert {p.name for p in files} >= {"metrics.csv", "rank_correlations.md", "rank_correlations.png"}
    assert all(p.stat().st_size > 0 for p in files)


def test_compare_cli_errors(capsys):
    assert main(["compare", "--samples", "3"]) == 2
    assert "--samples must be >= 10" in capsys.readouterr().err

"""`lingauss bench im`'s exact-at-scale part: the structured generator, the rows, the CLI options."""

import numpy as np
import pytest

from analysis.bench import bench_im_scale, format_im_scale, im_benchmark_covariance, structured_im_covariance
from analysis.cli import main
from lingauss.metrics import count_set_partitions, im_score


@pytest.mark.parametrize("seed", range(4))
def test_structured_generator_is_what_it_says(seed):
    """Recover B = Σ_XV Σ_V⁻¹ from the joint: the noise is 0.5 I, B is sparse, Σ_V is grouped."""
    s, m = 12, 6
    cov = structured_im_covariance(s, m, np.random.default_rng(seed))
    assert np.allclose(cov, cov.T) and np.linalg.eigvalsh(cov).min() > 0
    sxx, sxv, svv = cov[:m, :m], cov[:m, m:], cov[m:, m:]
    B = sxv @ np.linalg.inv(svv)
    np.testing.assert_allclose(sxx - B @ svv @ B.T, 0.5 * np.eye(m), atol=1e-10)
    nonzero = np.abs(B) > 1e-9
    assert nonzero.any(axis=1).all() and nonzero.mean() < 0.7
    np.testing.assert_allclose(np.diag(svv), 1.0)
    # groups = connected components of the factor correlation graph; each of size 1..4, one
    # correlation per group in [0.3, 0.9]
    adj = np.abs(svv) > 1e-12
    seen = set()
    for j in range(s):
        if j in seen:
            continue
        comp, stack = {j}, [j]
        while stack:
            k = stack.pop()
            for n in np.flatnonzero(adj[k]):
                if n not in comp:
                    comp.add(int(n))
                    stack.append(int(n))
        seen |= comp
        assert 1 <= len(comp) <= 4
        off = [svv[a, b] for a in comp for b in comp if a != b]
        if off:
            assert np.allclose(off, off[0]) and 0.3 <= off[0] <= 0.9
    assert np.array_equal(im_benchmark_covariance(s, m, "structured", seed), cov)


def test_scale_rows_are_exact_and_agree_across_threads():
    rows = bench_im_scale(sizes=((7, 3), (8, 4)), seeds=2, jobs=(1, 2), progress=False)
    assert len(rows) == 2 * 2 * 2
    for r in rows:
        assert r.all_exact and len(r.times) == 2 and r.partitions == count_set_partitions(r.s, r.m)
        for seed, score in zip(r.seeds, r.scores):
            ref = im_score(im_benchmark_covariance(r.s, r.m, r.kind, seed), r.m, method="exhaustive")
            assert score == pytest.approx(ref.score, abs=1e-10)
    text = format_im_scale(rows)
    assert "worst over all inputs" in text and "speed-up" in text and "| (8, 4) | structured | 2 |" in text


@pytest.mark.parametrize("argv, text", [
    (["bench", "im", "--seeds", "0"], "--seeds must be at least 1"),
    (["bench", "im", "--jobs", "0"], "--jobs must be"),
])
def test_bench_im_user_errors(argv, text, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


def test_bench_im_scale_only_prints_the_scale_tables(capsys):
    assert main(["bench", "im", "--scale-only", "--scale-sizes", "6,3", "--seeds", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Exact I_m at scale" in out and "| (6, 3) | random | 1 | 1 |" in out and "naive" not in out

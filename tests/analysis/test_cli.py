"""The `lingauss` command line: the main job, its saved output, the benchmark, user errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

import lingauss as lg
from analysis.bench import bench_core, format_core
from analysis.cli import main


def test_solve_prints_every_scenario_and_family(capsys):
    assert main(["solve", "--size", "343", "--max-iter", "3000"]) == 0
    out = capsys.readouterr().out
    for k in (1, 2, 3):
        assert f"(3,4,3) scenario {k}" in out
    for fam in ("full", "diagonal", "isotropic"):
        assert fam in out
    assert "continuum" in out          # γ = 1, λ = 0, full Σ_Z


def test_solve_writes_reloadable_results_that_match_the_library(tmp_path, capsys):
    assert main(["solve", "--size", "554", "--decoder-noise", "isotropic", "--gamma", "0.99",
                 "--lam", "0.01", "--seed", "3", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "solve.json").read_text())
    assert len(data["results"]) == 3
    row = data["results"][1]
    sc = lg.talk_scenario((5, 5, 4), 2)
    ref = lg.blahut_arimoto(sc.model, 4, 0.99, 0.01, decoder_noise="isotropic", rng=3)
    assert row["status"] == ref.status
    np.testing.assert_allclose(row["A"], ref.A, rtol=1e-12)
    assert row["loss"]["total"] == pytest.approx(ref.loss.total, rel=1e-12)


@pytest.mark.parametrize("argv, text", [
    (["solve", "--gamma", "-1"], "gamma must be >= 0"),
    (["solve", "--lam", "nan"], "lam must be finite"),
    (["solve", "--max-iter", "0"], "--max-iter must be a positive integer"),
    (["solve", "--noise-var", "0"], "noise_var must be > 0"),
    (["bench", "core", "--iterations", "0"], "--iterations must be positive"),
])
def test_user_errors_are_one_line_with_exit_code_2(argv, text, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_output_folder_is_a_user_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["solve", "--size", "343", "--decoder-noise", "full", "--out", str(blocker / "sub")]) == 2
    assert "error:" in capsys.readouterr().err


def test_bench_core_equal_answers_and_a_table():
    b = bench_core(grid=4, iterations=5, loop_points=None, progress=False)
    assert b.points == 16 and b.loop_points == 16
    assert b.max_abs_diff == 0.0       # the grid and the loop compute the same iterates
    table = format_core(b)
    assert "speed-up" in table and "blahut_arimoto_grid" in table


def test_console_script_help_runs():
    out = subprocess.run([sys.executable, "-m", "analysis.cli", "solve", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--decoder-noise" in out


def test_bench_im_rows_agree_and_format():
    from analysis.bench import bench_im, format_im, im_benchmark_covariance, naive_im
    from lingauss.metrics import im_score

    rows = bench_im(sizes=((3, 3), (5, 3)), kinds=("grouped", "random"), naive_budget_s=30, progress=False)
    assert all(r.agree and not r.naive_extrapolated for r in rows)
    assert "exact vs naive" in format_im(rows)
    cov = im_benchmark_covariance(4, 3, "grouped", seed=2)
    best, count = naive_im(cov, 3)
    assert count == 81 and best == pytest.approx(im_score(cov, 3).score, abs=1e-9)

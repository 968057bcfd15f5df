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
    b = bench_core(grid=4, iterations=5, threads=2, progress=False, main_job=False)
    assert b.rows["ours dense"].points == 16 and b.rows["numpy dense"].point_iterations == 16 * 5
    assert b.max_abs_diff["dense"] < 1e-10 and b.max_abs_diff["talk"] < 1e-10   # the same iterates
    table = format_core(b)
    assert "numpy batched / ours" in table and "threads vs 1" in table and "per point" in table
    assert "main job" not in table


def test_bench_core_times_the_main_job_cold_then_warm_in_new_processes():
    from analysis.bench.core import CoreBenchmark, time_main_job

    job = time_main_job(runs=1, args=("--size", "343", "--sensitivity", "none", "--no-baselines"))
    assert len(job["cold"]) == len(job["warm"]) == 1 and job["same_tables"]
    assert job["warm"][0] < job["cold"][0]                    # the rerun reuses points and figures
    line = format_core(CoreBenchmark("toy", 1, main_job=job))
    assert "main job" in line and "cold" in line and "warm" in line and "same tables in every run: yes" in line


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


# ------------------------------------------------------------------ reproduce, sweep, metric

def test_reproduce_writes_its_folder_and_prints_both_tables(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reproduce", "--size", "343", "--decoder-noise", "isotropic", "--executor", "none",
                 "--sensitivity", "none", "--no-figures", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Ours vs published" in text and "Null baselines" in text and "decoder noise family" in text
    assert (out / "report.md").read_text().startswith("# lingauss reproduce")
    assert len((out / "comparison.csv").read_text().splitlines()) == 7


def test_sweep_cli_resumes_from_its_store(tmp_path, capsys):
    argv = ["sweep", "--size", "343", "--scenario", "1", "2", "--decoder-noise", "isotropic",
            "--gammas", "0.99,1.0", "--lams", "0:0.01:2", "--executor", "none", "--quiet",
            "--store", str(tmp_path / "s.jsonl"), "--out", str(tmp_path / "t.csv")]
    assert main(argv) == 0
    assert "8 points (8 solved, 0 read from the store)" in capsys.readouterr().out
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 9
    assert main(argv) == 0
    assert "(0 solved, 8 read from the store)" in capsys.readouterr().out


@pytest.fixture
def metric_files(tmp_path):
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    v, y = sc.model.sample(4000, 0)
    files = {"cov": tmp_path / "cov.npy", "lat": tmp_path / "lat.npy", "fac": tmp_path / "fac.npy",
             "bad": tmp_path / "bad.npy", "vec": tmp_path / "vec.npy"}
    np.save(files["cov"], cov)
    np.save(files["lat"], y @ r.B.T)
    np.save(files["fac"], v)
    np.save(files["bad"], -np.eye(5))
    np.save(files["vec"], np.ones(3))
    return {k: str(p) for k, p in files.items()}, cov


def test_metric_cli_prints_the_library_values(metric_files, capsys):
    files, cov = metric_files
    assert main(["metric", files["cov"], "--latents", "3", "--truth", "1,2|3"]) == 0
    out = capsys.readouterr().out
    assert f"{lg.im_score(cov, 3).score:.6g}  nats" in out
    assert f"{lg.sap_score(cov, 3).score:.6g}  corr² gap" in out
    assert f"{lg.gaussian_mig(cov, 3).score:.6g}" in out
    assert "I_m success, SAP success" in out
    assert main(["metric", "--samples", files["lat"], files["fac"]]) == 0
    out = capsys.readouterr().out
    assert "input samples, rows 4000, latents 3, factors 3" in out
    assert all(lg.metrics.registry()[n].label in out for n in lg.metrics.metric_names("covariance", "samples"))


def test_metric_cli_json_equals_the_registry_functions(metric_files, capsys):
    files, cov = metric_files
    assert main(["metric", files["cov"], "--latents", "3", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got["metrics"]) == set(lg.metrics.metric_names("covariance"))
    for name, record in got["metrics"].items():
        spec = lg.metrics.registry()[name]
        assert record["score"] == pytest.approx(spec.function(cov, 3).score, abs=1e-12)
        assert record["units"] == spec.units


@pytest.mark.parametrize("argv, text", [
    (["metric", "missing.npy", "--latents", "3"], "file not found"),
    (["metric", "{bad}", "--latents", "3"], "positive definite"),
    (["metric", "{vec}", "--latents", "1"], "2-D matrix"),
    (["metric", "{cov}", "--latents", "9"], "n_latents"),
    (["metric", "{cov}"], "--latents"),
    (["metric", "--samples", "{lat}", "{vec}"], "same number of samples"),
    (["metric", "{cov}", "--latents", "3", "--truth", "a|b"], "--truth"),
    (["reproduce", "--tolerance", "0"], "tolerance must be > 0"),
    (["sweep", "--accept", "fine", "--quiet"], "accept must hold BA statuses"),
    (["bench", "koopman", "--steps", "0"], "--steps must be a positive integer"),
    (["bench", "flow", "--steps", "-3"], "--steps must be a positive integer"),
])
def test_analysis_cli_user_errors_are_one_line(argv, text, metric_files, capsys):
    files, _ = metric_files
    argv = [a.format(**files) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and "Traceback" not in err


def test_warmup_lists_the_registered_warm_ups(capsys):
    from lingauss import warmup

    assert main(["warmup", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(warmup.names())
    assert main(["warmup", "no-such-warm-up"]) == 2
    assert "unknown warm-up" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_metrics_small_run_prints_both_metrics(capsys):
    pytest.importorskip("sklearn")
    assert main(["bench", "metrics", "--sap-sizes", "200", "--dci-sizes", "40",
                 "--dci-reference-sizes", "999", "--seeds", "0", "--repeats", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "SAP, continuous factors" in out and "ours hist" in out and "load average" in out
    assert main(["bench", "metrics", "--repeats", "0"]) == 2


def test_bench_metrics_bad_arguments_exit_2(capsys):
    assert main(["bench", "metrics", "--repeats", "0"]) == 2
    assert main(["bench", "metrics", "--sap-sizes", "5"]) == 2

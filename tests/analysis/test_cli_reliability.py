"""Command-line reliability: negative ranges, one-line errors on bad files, exit codes that tell a
usage mistake (2) from a failed point (1), a bug (3) and Ctrl-C (130)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import lingauss as lg
from analysis import cli
from analysis import sweeps as sweep_module
from analysis.cli import main


def _one_line_error(capsys, text):
    err = capsys.readouterr().err
    assert text in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_negative_ranges_parse_as_written():
    args = cli.build_parser().parse_args(cli._join_negative_values(
        ["sweep", "--lams", "-0.02:0.02:5", "--gammas", "-1,2"]))
    np.testing.assert_allclose(args.lams, np.linspace(-0.02, 0.02, 5))
    np.testing.assert_allclose(args.gammas, [-1.0, 2.0])
    args = cli.build_parser().parse_args(cli._join_negative_values(["sweep", "--lams=-0.01,0"]))
    np.testing.assert_allclose(args.lams, [-0.01, 0.0])


def test_sweep_with_negative_lams_runs_and_counts_add_up(tmp_path, capsys):
    argv = ["sweep", "--size", "343", "--scenario", "1", "--decoder-noise", "isotropic",
            "--gammas", "1.0", "--lams", "-0.01:0.01:3", "--executor", "none", "--quiet",
            "--store", str(tmp_path / "s.jsonl")]
    assert main(argv) == 0
    assert "3 points (3 solved, 0 read from the store)" in capsys.readouterr().out
    argv[argv.index("-0.01:0.01:3")] = "-0.01:0.01:5"
    assert main(argv) == 0
    assert "5 points (2 solved, 3 read from the store)" in capsys.readouterr().out


def test_sweep_and_reproduce_refuse_negative_seeds_before_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["reproduce", "--seeds", "-1", "--out", str(tmp_path / "r")])
    assert e.value.code == 2 and "non-negative" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_sweep_refuses_a_store_that_is_not_one(tmp_path, capsys):
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    assert main(["sweep", "--size", "343", "--scenario", "1", "--gammas", "1", "--lams", "0",
                 "--executor", "none", "--quiet", "--store", str(notes)]) == 2
    _one_line_error(capsys, "not a sweep store")
    assert notes.read_text() == "a,b\n1,2\n"


def test_errored_points_exit_1_with_a_one_line_summary_and_are_retried(tmp_path, capsys, monkeypatch):
    real = lg.blahut_arimoto_grid

    def broken(*a, **k):
        raise MemoryError("out of memory (simulated)")

    argv = ["sweep", "--size", "343", "--scenario", "1", "--decoder-noise", "isotropic",
            "--gammas", "1.0", "--lams", "0,0.01", "--executor", "none", "--quiet",
            "--store", str(tmp_path / "s.jsonl")]
    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", broken)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "2 of 2 points ended in error" in err and "simulated" in err and err.count("\n") == 1
    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", real)
    assert main(argv) == 0
    assert "(2 solved, 0 read from the store)" in capsys.readouterr().out


@pytest.fixture
def files(tmp_path):
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    v, y = sc.model.sample(500, 0)
    lat = y @ r.B.T
    out = {"cov": cov, "lat": lat, "fac": v}
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "words.txt").write_text("hello world\nfoo bar\n")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "one.npz", cov=cov)
    np.savez(tmp_path / "two.npz", a=cov, b=cov)
    np.savetxt(tmp_path / "cov.csv", cov, delimiter=",", header="c1,c2,c3,c4,c5,c6", comments="")
    np.savetxt(tmp_path / "cov.txt", cov)
    np.save(tmp_path / "lat_t.npy", lat.T)
    np.save(tmp_path / "fac.npy", v)
    np.save(tmp_path / "cov.npy", cov)
    return tmp_path, out


@pytest.mark.parametrize("name, text", [
    ("empty.npy", "is empty"), ("empty.csv", "is empty"), ("words.txt", "numeric table"),
    ("obj.npy", "pickle"), ("two.npz", "2 arrays"),
])
def test_metric_bad_files_are_one_line_errors(files, name, text, capsys):
    folder, _ = files
    assert main(["metric", str(folder / name), "--latents", "3"]) == 2
    _one_line_error(capsys, text)


@pytest.mark.parametrize("name", ["one.npz", "cov.csv", "cov.txt"])
def test_metric_reads_npz_with_one_array_and_numeric_tables(files, name, capsys):
    folder, data = files
    assert main(["metric", str(folder / name), "--latents", "3"]) == 0
    out = capsys.readouterr().out
    assert f"{lg.im_score(data['cov'], 3).score:.6g}  nats" in out


def test_transposed_samples_are_refused_before_a_covariance(files, capsys):
    folder, _ = files
    assert main(["metric", "--samples", str(folder / "lat_t.npy"), str(folder / "fac.npy")]) == 2
    _one_line_error(capsys, "transposed")


def test_truth_is_numbered_like_the_output(files, capsys):
    folder, data = files
    assert main(["metric", str(folder / "cov.npy"), "--latents", "3", "--truth", "1,2|3"]) == 0
    out = capsys.readouterr().out
    im = lg.im_score(data["cov"], 3)
    assert f"latent per factor {[int(j) + 1 for j in im.assignment]}" in out
    assert main(["metric", str(folder / "cov.npy"), "--latents", "3", "--truth", "1,2|4"]) == 2
    _one_line_error(capsys, "each factor 1..3 exactly once")
    assert main(["metric", str(folder / "cov.npy"), "--latents", "3", "--truth", "0,1|2"]) == 2
    _one_line_error(capsys, "1-based")


def _swap_registered_im(monkeypatch, function):
    """Replace the metric registry's I_m function (what `lingauss metric` calls) for one test."""
    from dataclasses import replace
    from types import MappingProxyType

    from lingauss.metrics import metric_registry

    specs = dict(metric_registry._REGISTRY)
    specs["im"] = replace(specs["im"], function=function)
    monkeypatch.setattr(metric_registry, "_REGISTRY", MappingProxyType(specs))


def test_a_bug_is_not_reported_as_a_usage_mistake(files, capsys, monkeypatch):
    folder, _ = files

    def buggy(cov, m, **options):
        return np.ones(3) + np.ones(4)                  # numpy's ValueError: a bug, not the user

    _swap_registered_im(monkeypatch, buggy)
    assert main(["metric", str(folder / "cov.npy"), "--latents", "3"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error" in err and "traceback saved to" in err
    saved = err.rsplit("traceback saved to ", 1)[1].strip()
    assert "operands could not be broadcast" in open(saved).read()
    os.unlink(saved)


def test_a_deliberate_check_is_a_usage_mistake(files, capsys, monkeypatch):
    folder, _ = files
    assert main(["metric", str(folder / "cov.npy"), "--latents", "9"]) == 2
    _one_line_error(capsys, "n_latents")


def test_ctrl_c_outside_a_kernel_exits_130_without_traceback(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.solve, "cmd_solve", interrupted)
    assert main(["solve"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_the_console_script_reports_a_ctrl_c_during_its_imports_in_one_line():
    """The installed ``lingauss`` command is :func:`analysis._console.main`; a Ctrl-C while it is
    still importing the command line (numpy, Numba, the kernels) is one line and exit 130."""
    import tomllib
    from pathlib import Path

    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["lingauss"] == "analysis._console:main"
    code = ("import signal, sys, builtins\n"
            "real = builtins.__import__\n"
            "def imp(name, *a, **k):\n"             # a Ctrl-C exactly when the CLI imports numpy
            "    if name == 'numpy': signal.raise_signal(signal.SIGINT)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = imp\n"
            "from analysis._console import main\n"
            "sys.exit(main())\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    res = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert (res.returncode, res.stderr) == (130, "interrupted\n"), res.stderr
    ok = subprocess.run([sys.executable, "-c", "import sys; from analysis._console import main; sys.exit(main())",
                         "--version"], capture_output=True, text=True, timeout=120, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("lingauss "), ok.stderr


def test_eval_samples_is_honoured_or_refused(tmp_path):
    pytest.importorskip("torch")
    from neural.experiment import train_vae

    with pytest.raises(ValueError, match="eval_samples"):
        train_vae(n_images=200, eval_samples=190, steps=1, batch_size=32, out=tmp_path, progress=False)


@pytest.mark.slow
def test_sigint_stops_a_long_im_search_within_2_s(tmp_path):
    from analysis.bench.im import im_benchmark_covariance

    # 20 weakly dependent factors seen by 120 latents: about half a minute of exact search on a
    # 2-core machine (a dense 20 × 20 input now takes 3 s, too short to interrupt at 8 s)
    np.save(tmp_path / "cov.npy", im_benchmark_covariance(20, 120, "weak", 0))
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "metric", str(tmp_path / "cov.npy"),
                             "--latents", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _interrupt_after(proc, 8.0, expect=(130, -signal.SIGINT))   # exit 130, or killed by SIGINT (shell: 130)


def _interrupt_after(proc, seconds, expect):
    try:
        time.sleep(seconds)                             # imports done, inside the long work
        assert proc.poll() is None, proc.communicate()
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - t0 < 2.0
        assert proc.returncode in expect, err.decode()
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigint_stops_a_process_pool_sweep_within_2_s_with_exit_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "sweep", "--size", "343",
                             "--scenario", "1", "--gammas", "0.9:1.1:150", "--lams", "-0.02:0.02:150",
                             "--executor", "processes", "--workers", "2", "--quiet",
                             "--store", str(tmp_path / "s.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _interrupt_after(proc, 10.0, expect=(130,))


def test_reproduce_with_errored_points_exits_1_with_one_line(tmp_path, capsys, monkeypatch):
    def broken(*a, **k):
        raise MemoryError("out of memory (simulated)")

    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", broken)
    argv = ["reproduce", "--size", "343", "--sensitivity", "none", "--no-baselines", "--no-figures",
            "--executor", "none", "--quiet", "--out", str(tmp_path / "r")]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "75 points ended in error" in captured.err
    assert "75 points ended in error" in (tmp_path / "r" / "report.md").read_text()


@pytest.mark.parametrize("argv, text", [
    (["sweep", "--workers", "0", "--quiet"], "positive integer"),
    (["bench", "core", "--threads", "-5", "--quiet"], "positive integer"),
    (["metric", "--samples", "{lat}", "{fac}", "--shrinkage", "abc"], "--shrinkage"),
])
def test_bad_numbers_that_reached_library_internals_are_usage_errors(argv, text, files, capsys):
    folder, data = files
    np.save(folder / "lat.npy", data["lat"])
    argv = [a.format(lat=folder / "lat.npy", fac=folder / "fac.npy") for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:                             # argparse's own one-line error
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_trainer_refuses_a_bad_learning_rate():
    torch = pytest.importorskip("torch")
    from neural.train import Trainer

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def loss(self, batch):
            return {"loss": self.w.sum()}

    for lr in (-1.0, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match="lr"):
            Trainer(M(), lr=lr, progress=False)
    Trainer(M(), lr=0.0, progress=False)                # a frozen optimizer is allowed


def _implicit_failure(cov, m, **options):
    return float("not a number")                        # a conversion failing, not a check


def _deliberate_check(cov, m, **options):
    from lingauss.params import InvalidParameter

    raise InvalidParameter("n_latents is wrong (deliberate check)")


def _plain_value_error(cov, m, **options):
    raise ValueError("n_latents is wrong (a ValueError that is not InvalidParameter)")


@pytest.mark.parametrize("func, code", [(_implicit_failure, 3), (_deliberate_check, 2), (_plain_value_error, 3)])
def test_only_an_invalid_parameter_is_a_usage_error(func, code, files, capsys, monkeypatch):
    """All run as project code (module globals of analysis.store); only InvalidParameter is a
    usage mistake — the type decides, not the source line: a failed conversion and a plain
    ValueError are bugs."""
    import types

    import analysis.store

    folder, _ = files
    _swap_registered_im(monkeypatch, types.FunctionType(func.__code__, vars(analysis.store), "im_score"))
    assert main(["metric", str(folder / "cov.npy"), "--latents", "3"]) == code
    err = capsys.readouterr().err
    if code == 3:
        assert "internal error" in err and "Traceback" in err
        os.unlink(err.rsplit("traceback saved to ", 1)[1].strip())
    else:
        assert err == "error: n_latents is wrong (deliberate check)\n"


@pytest.mark.parametrize("argv, code", [(["solve", "--size", "343"], 0), (["solve", "--size", "343", "--gamma", "-1"], 2)])
def test_the_console_script_exits_fast_with_the_command_code_its_output_and_exit_handlers(argv, code):
    """The console script ends with os._exit after the command (no interpreter teardown): the exit
    code is the command's, everything printed arrives through the pipes and exit handlers ran."""
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
              "from analysis._console import main\n"
              f"sys.argv = ['lingauss', *{argv!r}]\n"
              "sys.exit(main())\n")
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == code, res.stderr
    assert res.stderr.endswith("handler ran\n"), res.stderr
    if code == 0:
        lines = res.stdout.splitlines()
        assert len(lines) > 10 and lines[-1].startswith("objective regimes"), res.stdout
    else:
        assert res.stderr.startswith("error: gamma must be >= 0"), res.stderr

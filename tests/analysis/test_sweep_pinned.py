"""Sweep and store behaviours a resume depends on: exactly one errored point is enough for exit 1
(sweep and reproduce), a second writer's claims keep the first from solving those points (it
waits and reads them), and no finished row is ever appended twice (reruns, grown grids, retries)."""

import json
import subprocess
import sys
import textwrap
import time

import pytest

import lingauss as lg
from analysis import sweeps as sweep_module
from analysis.cli import main
from analysis.protocol import Protocol
from analysis.store import JsonlStore
from analysis.sweeps import point_key, scenario_fingerprint, sweep

ISO = Protocol(decoder_noise="isotropic", error_reading="none")
SC = lg.talk_scenario((3, 4, 3), 1)


def _one_point_fails(monkeypatch, gamma, lam):
    """Every row as solved, but the point (gamma, lam) recorded as an error."""
    real = sweep_module._solve_task

    def solve(task):
        rows = real(task)
        for r in rows:
            if r["gamma"] == gamma and r["lam"] == lam:
                r.update(status="error", message="MemoryError: simulated")
        return rows

    monkeypatch.setattr(sweep_module, "_solve_task", solve)


def test_exactly_one_errored_point_makes_the_sweep_exit_1(tmp_path, capsys, monkeypatch):
    _one_point_fails(monkeypatch, 1.0, 0.0)
    argv = ["sweep", "--size", "343", "--scenario", "1", "--decoder-noise", "isotropic",
            "--gammas", "0.99,1.0", "--lams", "0,0.01", "--executor", "none", "--quiet",
            "--store", str(tmp_path / "s.jsonl")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1 of 4 points ended in error" in err
    monkeypatch.undo()                                  # the rerun retries it, and succeeds
    assert main(argv) == 0
    assert "4 points (1 solved, 3 read from the store)" in capsys.readouterr().out


def test_exactly_one_errored_point_makes_reproduce_exit_1(tmp_path, capsys, monkeypatch):
    _one_point_fails(monkeypatch, 1.0, 0.0)
    argv = ["reproduce", "--size", "343", "--sensitivity", "none", "--no-baselines", "--no-figures",
            "--executor", "none", "--quiet", "--out", str(tmp_path / "r")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ended in error" in err
    assert "3 points ended in error" in err      # one (γ, λ) point in each of the 3 scenarios


def test_no_finished_row_is_ever_appended_twice(tmp_path, monkeypatch):
    store = tmp_path / "s.jsonl"
    kw = dict(protocol=ISO, store=store, progress=False, points_per_task=2)
    sweep(SC, [0.99, 1.0], [0.0, 0.01], **kw)
    sweep(SC, [0.99, 1.0], [0.0, 0.01], **kw)                     # a rerun: nothing to do
    sweep(SC, [0.98, 0.99, 1.0], [0.0, 0.01, 0.02], **kw)         # a grown grid
    _one_point_fails(monkeypatch, 0.97, 0.0)
    sweep(SC, [0.97], [0.0, 0.01], **kw)
    monkeypatch.undo()
    t = sweep(SC, [0.97], [0.0, 0.01], **kw)                       # retry of the error
    assert t.n_computed == 1
    rows = [json.loads(line) for line in store.read_text().splitlines()]
    finished = [r["key"] for r in rows if r["status"] != "error"]
    assert len(finished) == len(set(finished)) == 9 + 2
    assert sum(r["status"] == "error" for r in rows) == 1


_HOLDER = textwrap.dedent("""
    import sys, time
    from analysis.store import JsonlStore
    s = JsonlStore(sys.argv[1]); s.open_locks()
    keys = sys.argv[3:]
    s.claim(keys, block=True)
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    s.release(keys)
    time.sleep(30)
""")


def test_a_point_claimed_by_another_writer_is_waited_for_not_solved_twice(tmp_path, monkeypatch):
    """Another process holds the claims of two points for ~3 s and never writes them: this sweep
    solves every other point first, waits for those two, then solves them itself — once each."""
    store = tmp_path / "s.jsonl"
    fp = scenario_fingerprint(SC)
    held = [point_key(fp, ISO, 0, 1.0, 0.0), point_key(fp, ISO, 0, 1.0, 0.01)]
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(store), "3", *held],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        order = []
        real = sweep_module._solve_task

        def solve(task):
            rows = real(task)
            order.append((time.monotonic(), [(r["gamma"], r["lam"]) for r in rows]))
            return rows

        monkeypatch.setattr(sweep_module, "_solve_task", solve)
        t0 = time.monotonic()
        t = sweep(SC, [0.99, 1.0], [0.0, 0.01], protocol=ISO, store=store, progress=False,
                  points_per_task=2)
    finally:
        holder.kill()
        holder.wait()
    assert t.n_computed == 4
    solved = [p for _, pts in order for p in pts]
    assert sorted(solved) == sorted({(g, l) for g in (0.99, 1.0) for l in (0.0, 0.01)})
    assert solved[-2:] == [(1.0, 0.0), (1.0, 0.01)]               # the held points came last
    assert order[-1][0] - t0 >= 2.0                               # ... after the claim was freed
    keys = [json.loads(line)["key"] for line in store.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 4

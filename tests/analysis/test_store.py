"""The sweep store: errored points retried, a foreign file refused untouched, two processes never
solving or storing a point twice, grown grids without duplicate keys, counts that add up."""

import json
import subprocess
import sys
import textwrap
import time
from collections import Counter

import numpy as np
import pytest

import lingauss as lg
from analysis import sweeps as sweep_module
from analysis.protocol import Protocol
from analysis.store import JsonlStore, NotAStoreError
from analysis.sweeps import point_key, scenario_fingerprint, sweep
from analysis.table import SweepTable

ISO = Protocol(decoder_noise="isotropic")
SC = lg.talk_scenario((3, 4, 3), 2)


def _raw_keys(path):
    return [json.loads(line)["key"] for line in open(path, encoding="utf-8")]


def test_an_errored_point_is_retried_by_the_next_run(tmp_path, monkeypatch):
    store = tmp_path / "s.jsonl"
    real = lg.blahut_arimoto_grid

    def flaky(sigma_y, m, gammas, lams, **kw):
        if 1.0 in list(gammas):
            raise MemoryError("transient")
        return real(sigma_y, m, gammas, lams, **kw)

    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", flaky)
    first = sweep(SC, (0.99, 1.0), (0.0, 0.01), protocol=ISO, store=store, progress=False,
                  points_per_task=2)
    assert Counter(r["status"] == "error" for r in first) == {True: 2, False: 2}
    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", real)
    second = sweep(SC, (0.99, 1.0), (0.0, 0.01), protocol=ISO, store=store, progress=False,
                   points_per_task=2)
    assert (second.n_computed, second.n_reused) == (2, 2)
    assert all(r["status"] != "error" for r in second)
    fresh = sweep(SC, (0.99, 1.0), (0.0, 0.01), protocol=ISO, progress=False)
    assert [r["loss_total"] for r in second] == [r["loss_total"] for r in fresh]
    back = SweepTable.read_jsonl(store)             # the error rows stay in the file, superseded
    assert len(back) == 4 and all(r["status"] != "error" for r in back)
    third = sweep(SC, (0.99, 1.0), (0.0, 0.01), protocol=ISO, store=store, progress=False)
    assert (third.n_computed, third.n_reused) == (0, 4)


@pytest.mark.parametrize("content", [b"gamma,lam\n1,0\n", b"hello", b'{"a": 1}\n', b"[1, 2]\n",
                                     b'{"key": "k"}\nnot json\n'])
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(NotAStoreError, match="not a sweep store"):
        sweep(SC, (1.0,), (0.0,), protocol=ISO, store=path, progress=False)
    assert path.read_bytes() == content


def test_a_grown_grid_stores_no_key_twice_and_the_counts_add_up(tmp_path):
    store = tmp_path / "s.jsonl"
    a = sweep(SC, (0.99, 1.0), (0.0, 0.01), protocol=ISO, store=store, progress=False)
    assert (a.n_computed, a.n_reused) == (4, 0)
    b = sweep(SC, (0.99, 1.0, 1.01), (-0.01, 0.0, 0.01), protocol=ISO, store=store, progress=False,
              points_per_task=4)
    assert (b.n_computed, b.n_reused) == (5, 4) and len(b) == 9
    keys = _raw_keys(store)
    assert len(keys) == len(set(keys)) == 9
    fresh = sweep(SC, (0.99, 1.0, 1.01), (-0.01, 0.0, 0.01), protocol=ISO, progress=False)
    assert [r["loss_total"] for r in b] == [r["loss_total"] for r in fresh]


def test_scenarios_differing_only_in_noise_variance_never_share_a_key(tmp_path):
    a, b = lg.talk_scenario((3, 4, 3), 1), lg.talk_scenario((3, 4, 3), 1, noise_var=0.05)
    assert a.name == b.name and scenario_fingerprint(a) != scenario_fingerprint(b)
    assert point_key(scenario_fingerprint(a), ISO, 0, 1.0, 0.0) != point_key(scenario_fingerprint(b), ISO, 0, 1.0, 0.0)
    store = tmp_path / "s.jsonl"
    sweep(a, (1.0,), (0.0,), protocol=ISO, store=store, progress=False)
    t = sweep(b, (1.0,), (0.0,), protocol=ISO, store=store, progress=False)
    assert t.n_computed == 1 and len(set(_raw_keys(store))) == 2
    ref = lg.blahut_arimoto(b.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    assert t.rows[0]["loss_total"] == pytest.approx(ref.loss.total, rel=1e-10)


@pytest.mark.parametrize("seeds", [(-1,), (0, 0), (1.5,), (True,)])
def test_invalid_seeds_are_refused_before_any_work(tmp_path, seeds):
    store = tmp_path / "s.jsonl"
    with pytest.raises(ValueError, match="seeds"):
        sweep(SC, (1.0,), (0.0,), seeds=seeds, protocol=ISO, store=store, progress=False)
    assert not store.exists()


_WORKER = textwrap.dedent("""
    import json, os, sys, time
    import lingauss as lg
    from analysis import sweeps as sw
    from analysis.protocol import Protocol
    real = sw._solve_task
    def slow(task):                         # long enough that the two processes overlap
        time.sleep(0.15)
        return real(task)
    sw._solve_task = slow
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.01)
    t = sw.sweep(lg.talk_scenario((3, 4, 3), 2), [0.97, 0.98, 0.99, 1.0, 1.01, 1.02],
                 [-0.01, 0.0, 0.01, 0.02], protocol=Protocol(decoder_noise="isotropic"),
                 store=sys.argv[1], progress=False, points_per_task=2, executor=None)
    print(json.dumps([t.n_computed, t.n_reused, len(t)]))
""")


def test_two_processes_on_one_store_never_solve_or_store_a_point_twice(tmp_path):
    store, go = tmp_path / "s.jsonl", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(store), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    time.sleep(3.0)                         # both imported and waiting
    go.write_text("")
    counts = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
        counts.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert all(n == 24 and c + r == 24 for c, r, n in counts)
    assert sum(c for c, _, _ in counts) == 24       # every point solved exactly once
    assert all(c > 0 for c, _, _ in counts)         # and the work was shared
    keys = _raw_keys(store)
    assert len(keys) == len(set(keys)) == 24


def test_claims_are_released_when_a_holder_dies(tmp_path):
    store = JsonlStore(tmp_path / "s.jsonl")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from analysis.store import JsonlStore
        s = JsonlStore(sys.argv[1]); s.open_locks(); s.claim(["a", "b"], block=True)
        print("held", flush=True); time.sleep(60)
    """), str(store.path)], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"held"
    store.open_locks()
    try:
        assert not store.claim(["b"], block=False)
        assert store.claim(["c"], block=False)
        holder.kill()
        holder.wait()
        assert store.claim(["a", "b"], block=True)
    finally:
        store.close_locks()


def test_repair_cuts_only_an_unterminated_tail(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"key":"a"}\n{"key":"b"}\n{"key":"c')
    JsonlStore(path).repair()
    assert path.read_bytes() == b'{"key":"a"}\n{"key":"b"}\n'
    JsonlStore(path).repair()
    assert path.read_bytes() == b'{"key":"a"}\n{"key":"b"}\n'
    path.write_bytes(b'x' * 70000)
    JsonlStore(path).repair()
    assert path.read_bytes() == b""

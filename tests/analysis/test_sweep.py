"""analysis.sweep: rows equal the library's own answers, task splitting, resume after a kill,
failed points recorded, process-pool and Dask executors, the table's writers and readers."""

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lingauss as lg
from analysis import sweeps as sweep_module
from analysis.evaluate import apply_reading, relative_errors
from analysis.protocol import Protocol
from analysis.store import JsonlStore
from analysis.sweeps import sweep
from analysis.table import SweepTable

GAMMAS = (0.99, 1.0, 1.01)
LAMS = (0.0, 0.01)
ISO = Protocol(decoder_noise="isotropic")


def _solid(rows):
    """Rows without the free-text fields, for equality checks."""
    return [{k: v for k, v in r.items() if k not in ("message",)} for r in rows]


@pytest.fixture(scope="module")
def scen():
    return [lg.talk_scenario((3, 4, 3), 2), lg.talk_scenario((5, 5, 4), 1)]


@pytest.fixture(scope="module")
def serial(scen):
    return sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False)


def test_rows_are_the_library_answers_point_by_point(scen, serial):
    assert len(serial) == 2 * 3 * 2 * 2
    for row in serial.rows[::5]:
        sc = next(s for s in scen if s.name == row["scenario"])
        ref = lg.blahut_arimoto(sc.model, sc.n_latents, row["gamma"], row["lam"],
                                decoder_noise="isotropic", rng=row["seed"])
        assert row["status"] == ref.status and row["n_iter"] == ref.n_iter
        assert row["loss_total"] == pytest.approx(ref.loss.total, rel=1e-10)
        np.testing.assert_allclose(row["B"], ref.B, rtol=1e-9, atol=1e-12)
        cov = sc.model.joint_covariance(ref.B, ref.sigma_w)
        im, sap = lg.im_score(cov, sc.n_latents), lg.sap_score(cov, sc.n_latents)
        assert row["im_score"] == pytest.approx(im.score, rel=1e-9)
        assert row["im_outcome"] == lg.im_success(im, sc.true_grouping).outcome
        assert row["sap_outcome"] == lg.sap_success(sap, sc.true_grouping).outcome
        e, e_mean = relative_errors(sc.model.sigma_y, ref.A, ref.B, ref.sigma_w)
        assert row["relative_error"] == pytest.approx(ref.relative_error, rel=1e-9) == e
        assert 0 <= row["relative_error_mean"] <= row["relative_error"]
        ok = row["status"] in ISO.accept and ref.relative_error <= 0.05
        assert row["eligible"] == ok
        assert row["im_success"] == (ok and row["im_outcome"] == "success")


def test_sampled_error_matches_monte_carlo():
    sc = lg.talk_scenario((3, 4, 3), 1)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    e_sampled, e_mean = relative_errors(sc.model.sigma_y, r.A, r.B, r.sigma_w)
    rng = np.random.default_rng(1)
    _, y = sc.model.sample(200_000, rng)
    w = rng.multivariate_normal(np.zeros(3), r.sigma_w, size=y.shape[0])
    x = y @ r.B.T + w
    tr = np.trace(sc.model.sigma_y)
    mc = np.mean(np.sum((y - x @ r.A.T) ** 2, axis=1)) / tr
    mc_mean = np.mean(np.sum((y - y @ (r.A @ r.B).T) ** 2, axis=1)) / tr
    assert mc == pytest.approx(e_sampled, rel=0.02)
    assert mc_mean == pytest.approx(e_mean, rel=0.02)


def test_task_splitting_changes_no_number(scen, serial):
    split = sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False, points_per_task=1)
    assert _solid(split.rows) == _solid(serial.rows)


def test_process_pool_and_any_executor_give_the_same_rows(scen, serial):
    pooled = sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False,
                   executor="processes", n_workers=2, points_per_task=2)
    assert _solid(pooled.rows) == _solid(serial.rows)
    with ThreadPoolExecutor(2) as pool:
        threaded = sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False,
                         executor=pool, points_per_task=2)
    assert _solid(threaded.rows) == _solid(serial.rows)


def test_dask_local_cluster_gives_the_same_rows(scen, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(n_workers=1, threads_per_worker=2, processes=False,
                            dashboard_address=None) as client:
        table = sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False,
                      executor=client, points_per_task=2)
        again = sweep(scen, GAMMAS, LAMS, seeds=(0, 1), protocol=ISO, progress=False,
                      executor="dask", points_per_task=3)        # picks up the running client
    assert _solid(table.rows) == _solid(serial.rows) == _solid(again.rows)


_KILLED_SWEEP = textwrap.dedent("""
    import os, sys
    import lingauss as lg
    from analysis import sweeps as sw
    from analysis.protocol import Protocol
    real, calls = sw._solve_task, [0]
    def dying(task):
        calls[0] += 1
        if calls[0] == 3:
            os._exit(9)                  # a hard kill in the middle of the sweep: no cleanup
        return real(task)
    sw._solve_task = dying
    sw.sweep([lg.talk_scenario((3, 4, 3), 2)], (0.98, 0.99, 1.0, 1.01), (0.0, 0.01),
             protocol=Protocol(decoder_noise="isotropic"), store=sys.argv[1], progress=False,
             points_per_task=2)
""")


def test_a_killed_sweep_resumes_and_computes_only_the_missing_points(tmp_path):
    store = tmp_path / "sweep.jsonl"
    proc = subprocess.run([sys.executable, "-c", _KILLED_SWEEP, str(store)], capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()
    landed = JsonlStore(store).read()
    assert len(landed) == 4                         # two tasks of two points each landed
    with open(store, "a") as fh:                    # and a third was cut mid-write
        fh.write('{"key": "half a ro')
    sc = lg.talk_scenario((3, 4, 3), 2)
    resumed = sweep([sc], (0.98, 0.99, 1.0, 1.01), (0.0, 0.01), protocol=ISO, store=store,
                    progress=False, points_per_task=2)
    assert (resumed.n_reused, resumed.n_computed) == (4, 4)
    assert len(JsonlStore(store).read()) == 8 and store.read_text().endswith("\n")
    fresh = sweep([sc], (0.98, 0.99, 1.0, 1.01), (0.0, 0.01), protocol=ISO, progress=False)
    assert _solid(resumed.rows) == _solid(fresh.rows)
    again = sweep([sc], (0.98, 0.99, 1.0, 1.01), (0.0, 0.01), protocol=ISO, store=store, progress=False)
    assert (again.n_reused, again.n_computed) == (8, 0)
    other = sweep([sc], (0.98, 0.99, 1.0, 1.01), (0.0, 0.01), protocol=ISO.but(max_iter=50),
                  store=store, progress=False)
    assert other.n_computed == 8                    # another solver setting is another point


def test_a_failing_point_is_recorded_and_never_stops_the_sweep(monkeypatch):
    real = lg.blahut_arimoto_grid

    def flaky(sigma_y, m, gammas, lams, **kw):
        if 1.0 in list(gammas):
            raise np.linalg.LinAlgError("simulated failure")
        return real(sigma_y, m, gammas, lams, **kw)

    monkeypatch.setattr(sweep_module.lg, "blahut_arimoto_grid", flaky)
    table = sweep(lg.talk_scenario((3, 4, 3), 1), GAMMAS, LAMS, protocol=ISO, progress=False,
                  points_per_task=2)
    status = {(r["gamma"], r["lam"]): r["status"] for r in table}
    assert status[(1.0, 0.0)] == status[(1.0, 0.01)] == "error"
    assert all(s != "error" for (g, _), s in status.items() if g != 1.0)
    bad = table.where(gamma=1.0).rows[0]
    assert "simulated failure" in bad["message"] and not bad["eligible"] and not bad["im_success"]


def test_table_writers_round_trip(tmp_path, serial):
    serial.to_jsonl(tmp_path / "t.jsonl")
    back = SweepTable.read_jsonl(tmp_path / "t.jsonl")
    assert back.rows == json.loads(json.dumps(serial.rows))
    path = serial.to_csv(tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == len(serial) + 1 and lines[0].startswith("scenario,size,true_grouping")
    assert "{v1,v2}{v3}" in path.read_text()
    pd = pytest.importorskip("pandas")
    df = serial.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == len(serial)
    assert df["im_success"].sum() == sum(r["im_success"] for r in serial)


def test_reread_changes_only_the_judgement(serial):
    loose = serial.reread(ISO.but(error_reading="none", accept=lg.STATUSES))
    assert all(r["eligible"] for r in loose if r["status"] != "error")
    assert [r["im_outcome"] for r in loose] == [r["im_outcome"] for r in serial]
    assert sum(r["im_success"] for r in loose) >= sum(r["im_success"] for r in serial)
    rates = loose.success_rates()
    name = "(3,4,3) scenario 2"
    sel = [r for r in loose if r["scenario"] == name]
    assert rates[name]["im_rate"] == pytest.approx(100 * np.mean([r["im_outcome"] == "success" for r in sel]))


def test_grid_is_the_rows_on_the_gamma_lambda_grid(serial):
    g, l, v = serial.grid("loss_total", scenario="(5,5,4) scenario 1", seed=1)
    assert v.shape == (3, 2) and list(g) == list(GAMMAS) and list(l) == list(LAMS)
    row = serial.where(scenario="(5,5,4) scenario 1", seed=1, gamma=1.01, lam=0.01).rows[0]
    assert v[2, 1] == row["loss_total"]
    with pytest.raises(ValueError, match="no rows"):
        serial.grid("loss_total", scenario="nope")


def test_apply_reading_on_hand_made_rows():
    row = {"status": "converged", "relative_error": 0.04, "relative_error_mean": 0.02,
           "im_outcome": "success", "sap_outcome": "ambiguous"}
    p = Protocol()
    r = apply_reading(row, p)
    assert r["eligible"] and r["im_success"] and not r["sap_success"]
    assert not apply_reading({**row, "relative_error": 0.06}, p)["eligible"]
    assert apply_reading({**row, "relative_error": 0.06}, p.but(error_reading="mean"))["eligible"]
    assert not apply_reading({**row, "status": "diverged"}, p)["im_success"]
    assert apply_reading({**row, "status": "diverged"}, p.but(accept=("diverged",)))["im_success"]


@pytest.mark.parametrize("kwargs, name", [
    ({"gammas": []}, "gammas"), ({"lambdas": [0.0, 0.0]}, "lambdas"), ({"gammas": [-1.0]}, "gammas"),
    ({"seeds": []}, "seeds"), ({"points_per_task": 0}, "points_per_task"),
    ({"executor": "cluster"}, "executor"), ({"scenario": "343"}, "scenario"),
    ({"decoder_noise": "spherical"}, "decoder_noise"), ({"lambdas": [np.nan]}, "lambdas"),
])
def test_bad_sweep_arguments_name_themselves(kwargs, name):
    args = {"scenario": lg.talk_scenario((3, 4, 3), 1), "gammas": [1.0], "lambdas": [0.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        sweep(args.pop("scenario"), args.pop("gammas"), args.pop("lambdas"), progress=False, **args)


@pytest.mark.parametrize("field, value", [
    ("decoder_noise", "spherical"), ("init", "zeros"), ("max_iter", 0), ("tol", -1.0),
    ("accept", ("fine",)), ("tolerance", 0.0), ("error_reading", "median"), ("noise_var", 0.0),
    ("coupling", 0.0),
])
def test_protocol_validates_each_field(field, value):
    with pytest.raises(ValueError, match=field):
        Protocol(**{field: value})


def test_store_refuses_a_folder(tmp_path):
    with pytest.raises(ValueError, match="store"):
        sweep(lg.talk_scenario((3, 4, 3), 1), [1.0], [0.0], store=tmp_path, progress=False)


def test_true_decoder_noise_is_fixed_at_the_model_noise():
    sc = lg.talk_scenario((3, 4, 3), 2)
    p = Protocol(decoder_noise="true")
    table = sweep(sc, [1.02], [0.0], protocol=p, progress=False)
    ref = lg.blahut_arimoto(sc.model, 3, 1.02, 0.0, decoder_noise=0.1 * np.eye(4), rng=0)
    row = table.rows[0]
    assert row["decoder_noise"] == "true" and row["status"] == ref.status != "diverged"
    assert row["loss_total"] == pytest.approx(ref.loss.total, rel=1e-10)


def test_dense_phase_diagram_matches_the_full_sweep():
    """The phase diagram computes errors and metrics only where they can matter; its verdicts
    equal the full sweep's rows (every field computed at every point) on the same grid."""
    from analysis import sweep
    from analysis.dense import phase_diagram

    sc = lg.talk_scenario((3, 4, 3), 2)
    gammas, lams = np.array([0.99, 1.0, 1.01]), np.array([0.0, 0.01, 0.02])
    d = phase_diagram(sc, gammas, lams, seed=0, progress=False)
    table = sweep(sc, gammas, lams, seeds=0, progress=False)
    rows = {(r["gamma"], r["lam"]): r for r in table.rows}
    assert d.eligible.any() and not d.eligible.all()
    for i, g in enumerate(gammas):
        for j, l in enumerate(lams):
            r = rows[(g, l)]
            assert lg.STATUSES[d.status[i, j]] == r["status"]
            assert (d.eligible[i, j], d.im_success[i, j], d.sap_success[i, j]) == \
                (r["eligible"], r["im_success"], r["sap_success"])

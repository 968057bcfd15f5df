"""analysis.reproduction, baselines and plots: end to end on a reduced grid, rates recounted from the
rows, what each null baseline must score, figures written and non-empty."""

import csv

import numpy as np
import pytest

import lingauss as lg
from analysis.baselines import BASELINES, baseline_encoder, baseline_rows
from analysis.plots import plot_grid_heatmaps, plot_im_landscape, plot_success_bars
from analysis.protocol import Protocol
from analysis.reproduction import PUBLISHED, reproduce, sensitivity_protocols

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    return reproduce(Protocol(decoder_noise="isotropic"), sizes=[(3, 4, 3)], gammas=(0.99, 1.0),
                     lams=(0.0, 0.01), seeds=(0, 1), executor=None, out=out, progress=False,
                     formats=("png", "pdf"))


def test_rates_are_recounted_from_the_rows(rep):
    assert len(rep.table) == 3 * 2 * 2 * 2
    for r in rep.comparison:
        rows = [x for x in rep.table if x["scenario"] == r["scenario"]]
        key = "im_success" if r["metric"] == "I_m" else "sap_success"
        assert r["ours"] == pytest.approx(100 * sum(x[key] for x in rows) / len(rows))
        assert r["published"] == PUBLISHED[(3, 4, 3)][r["metric"]][r["scenario_index"] - 1]
        assert r["eligible"] == sum(x["eligible"] for x in rows)


def test_report_prints_protocol_tables_and_published_numbers(rep):
    text = rep.text
    assert "decoder noise family : isotropic" in text and "stopping rule" in text
    assert "| (3, 4, 3) | I_m | 3 |" in text and "| 100 |" in text           # published I_3 = 100 %
    assert "Null baselines" in text and "Sensitivity" in text
    labels = [s["variation"] for s in rep.sensitivity]
    assert labels[0] == "this run's protocol" and "no reconstruction tolerance" in labels


def test_sensitivity_rows_equal_an_independent_rerun(rep):
    """The re-read rows of the sensitivity table equal a fresh reproduction under that protocol."""
    row = next(s for s in rep.sensitivity if s["variation"] == "no reconstruction tolerance")
    again = reproduce(Protocol(decoder_noise="isotropic", error_reading="none"), sizes=[(3, 4, 3)],
                      gammas=(0.99, 1.0), lams=(0.0, 0.01), seeds=(0, 1), executor=None,
                      baselines=False, sensitivity="none", progress=False)
    for r in again.comparison:
        assert row[f"{r['metric']} 343/{r['scenario_index']}"] == r["ours"]


def test_files_are_written_and_figures_are_non_empty(rep):
    names = {p.name for p in rep.files}
    for name in ("report.md", "comparison.csv", "protocol.json", "sweep.csv", "baselines.csv",
                 "sensitivity.csv", "success_rates.png", "success_rates.pdf",
                 "scores_343.png", "landscapes_343.pdf",
                 "reproduction_grids_343.png", "reproduction_grids_343.pdf"):
        assert name in names
    for p in rep.files:
        assert p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG and p.stat().st_size > 10_000
    with open(rep.out / "comparison.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 6
    assert (rep.out / "sweep.jsonl").exists()             # the resume store


def test_rerun_reuses_the_store(rep):
    again = reproduce(Protocol(decoder_noise="isotropic"), sizes=[(3, 4, 3)], gammas=(0.99, 1.0),
                      lams=(0.0, 0.01), seeds=(0, 1), executor=None, out=rep.out, figures=False,
                      baselines=False, sensitivity="none", progress=False)
    assert again.table.n_computed == 0 and again.table.n_reused == len(rep.table)
    assert again.comparison == rep.comparison


def test_figures_are_redrawn_only_when_their_inputs_change(tmp_path):
    """A rerun with the same inputs keeps every figure file (same bytes, same mtime); a changed
    input (the landscape point), a deleted figure or a changed format redraws them."""
    kw = dict(sizes=[(3, 4, 3)], gammas=(0.99, 1.0), lams=(0.0, 0.01), seeds=(0,), executor=None,
              out=tmp_path, progress=False, baselines=False, sensitivity="none")
    first = reproduce(Protocol(decoder_noise="isotropic"), **kw)
    figs = sorted(p for p in first.files if p.parent.name == "figures")
    assert first.kept_figures == 0 and len(figs) == 4          # bars; grid, score and landscape sheets
    stamp = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in figs}
    again = reproduce(Protocol(decoder_noise="isotropic"), **kw)
    assert again.kept_figures == len(figs)
    assert sorted(p for p in again.files if p.parent.name == "figures") == figs
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in figs} == stamp
    moved = reproduce(Protocol(decoder_noise="isotropic"), landscape_point=(0.99, 0.01), **kw)
    assert moved.kept_figures == 0 and all(p.stat().st_mtime_ns != stamp[p][0] for p in figs)
    figs[0].unlink()
    redrawn = reproduce(Protocol(decoder_noise="isotropic"), landscape_point=(0.99, 0.01), **kw)
    assert redrawn.kept_figures == 0 and figs[0].exists()
    pdf = reproduce(Protocol(decoder_noise="isotropic"), landscape_point=(0.99, 0.01), formats=("png", "pdf"), **kw)
    assert pdf.kept_figures == 0 and any(p.suffix == ".pdf" for p in pdf.files)


def test_sensitivity_levels():
    base = Protocol()
    quick, full = sensitivity_protocols(base, "quick"), sensitivity_protocols(base, "full")
    assert sensitivity_protocols(base, "none") == []
    assert len(full) > len(quick) and all(p.label for p in full)
    assert {p.decoder_noise for p in full} == {"full", "diagonal", "isotropic", "true"}
    with pytest.raises(ValueError, match="level"):
        sensitivity_protocols(base, "thorough")
    with pytest.raises(ValueError, match="sizes"):
        reproduce(sizes=[(4, 4, 4)], progress=False)


@pytest.mark.parametrize("size", [(3, 4, 3), (5, 5, 4)])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_what_each_null_baseline_scores(size, k):
    sc = lg.talk_scenario(size, k)
    rows = {r["baseline"]: r for r in baseline_rows(sc, n_draws=1)}
    # one latent per independent sub-group: exactly what I_m and SAP look for
    assert rows["ideal_groups"]["im_success"] and rows["ideal_groups"]["sap_success"]
    # a collapsed encoder carries no information: SAP cannot pick a top latent, and I_m's best is
    # the single block (zero penalty) — a "success" only where the truth is one block
    assert rows["collapsed"]["sap_outcome"] == "ambiguous"
    assert rows["collapsed"]["im_success"] == (len(sc.true_grouping) == 1)
    assert rows["collapsed"]["relative_error"] == pytest.approx(1.0)
    # factor-wise code: right exactly when every factor is its own group and m ≥ s
    factorwise = all(len(g) == 1 for g in sc.true_grouping) and sc.n_latents >= sc.model.s
    assert rows["ideal_factors"]["im_success"] == factorwise


def test_baseline_encoders_shapes_and_errors():
    sc = lg.talk_scenario((5, 5, 4), 2)
    for name in BASELINES:
        B, Sw = baseline_encoder(name, sc, rng=0)
        assert B.shape == (4, 5) and Sw.shape == (4, 4)
    B, _ = baseline_encoder("pca", sc)
    np.testing.assert_allclose(B @ B.T, np.eye(4), atol=1e-12)          # orthonormal rows
    a, _ = baseline_encoder("random", sc, rng=[0, 1])
    b, _ = baseline_encoder("random", sc, rng=[0, 1])
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="name"):
        baseline_encoder("oracle", sc)
    with pytest.raises(ValueError, match="noise"):
        baseline_encoder("pca", sc, noise=0.0)
    with pytest.raises(ValueError, match="n_draws"):
        baseline_rows(sc, n_draws=0)


def test_plots_write_png_by_default_and_pdf_on_request(tmp_path, rep):
    paths = plot_success_bars(rep.comparison, tmp_path / "bars")
    paths += plot_grid_heatmaps(rep.table, "(3,4,3) scenario 2", tmp_path / "grid", seed=0)
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    paths += plot_im_landscape(sc, r.B, r.sigma_w, tmp_path / "land", formats=("png", "pdf"))
    assert sorted(p.suffix for p in paths) == [".pdf"] + [".png"] * 3
    assert all(p.stat().st_size > 5_000 for p in paths)
    assert paths[-1].read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="formats"):
        plot_success_bars(rep.comparison, tmp_path / "bars", formats=("jpg",))


def test_cli_formats_option(tmp_path):
    from analysis.cli._options import figure_formats
    assert figure_formats("png,pdf") == ("png", "pdf") and figure_formats("PNG") == ("png",)
    import argparse
    with pytest.raises(argparse.ArgumentTypeError, match="formats"):
        figure_formats("png,gif")


def test_landscape_data_is_every_assignment_ranked_with_the_true_ones_marked():
    """What the landscape figure shows, against independent counts: the scores are all m^s labelled
    assignments' I_m, high to low, the first is im_score's optimum, and the marked ones are exactly
    the assignments (enumerated here) whose grouping is the scenario's true grouping."""
    import itertools

    from analysis.plots import im_landscape_data

    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    data = im_landscape_data(sc, r.B, r.sigma_w)
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    m, s = sc.n_latents, len(sc.model.sigma_v)
    assert data["scores"].shape == (m ** s,) and np.all(np.diff(data["scores"]) <= 0)
    assert np.allclose(np.sort(data["scores"]), np.sort(lg.im_scores_all(cov, m).scores))
    best = lg.im_score(cov, m, method="exhaustive")
    assert data["scores"][0] == pytest.approx(best.score)
    assert data["best"] == lg.canonical_grouping(best.grouping)
    true = lg.canonical_grouping(sc.true_grouping)
    n_true = sum(lg.canonical_grouping(tuple(tuple(j for j in range(s) if a[j] == i) for i in range(m))) == true
                 for a in itertools.product(range(m), repeat=s))
    assert data["true"] == true and int(data["is_true"].sum()) == n_true > 0

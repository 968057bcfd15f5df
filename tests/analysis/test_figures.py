"""Figures show what their data say, and their labels fit: pixel colours read back from the drawn
canvas against the table they were drawn from, tick labels that do not overlap, no empty band
under a title, and the files written."""

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

import lingauss as lg  # noqa: E402
from analysis.bench import IMBenchRow  # noqa: E402
from analysis.compare import METRIC_COLUMNS, Comparison, rank_correlation_figure, rank_correlations  # noqa: E402
from analysis.plots import (STATUS_COLORS, im_bench_figure, plot_im_bench, plot_reproduction_grids,  # noqa: E402
                            reproduction_grids_figure)
from analysis.table import SweepTable  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _pixel(fig, ax, x, y):
    """RGB (0..1) of the drawn canvas at data point (x, y) of ``ax``."""
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return buf[int(round(buf.shape[0] - py)), int(round(px)), :3] / 255.0


@pytest.fixture()
def table():
    """A 3 × 4 grid whose statuses and successes differ from cell to cell and are not symmetric, so
    a transposed or flipped drawing shows the wrong colour somewhere."""
    gammas, lams = (0.9, 1.0, 1.1), (-0.01, 0.0, 0.01, 0.02)
    statuses = (*lg.STATUSES, "error")
    rows = []
    for (i, g), (j, l) in itertools.product(enumerate(gammas), enumerate(lams)):
        rows.append({"scenario": "toy", "decoder_noise": "full", "seed": 0, "gamma": g, "lam": l,
                     "status": statuses[(2 * i + j) % len(statuses)], "im_success": (i + 2 * j) % 3 == 0,
                     "sap_success": i == j})
    return SweepTable(rows)


def test_reproduction_grids_draw_each_cell_in_its_status_and_success_colour(table):
    fig = reproduction_grids_figure(table, ["toy"], decoder_noise="full", seed=0)
    status_ax, im_ax, sap_ax = fig.axes[:3]
    for r in table:
        i = (0.9, 1.0, 1.1).index(r["gamma"])
        j = (-0.01, 0.0, 0.01, 0.02).index(r["lam"])
        assert np.allclose(_pixel(fig, status_ax, j, i), to_rgb(STATUS_COLORS[r["status"]]), atol=0.02), r
        for ax, key in ((im_ax, "im_success"), (sap_ax, "sap_success")):
            want = to_rgb("#1f77b4" if r[key] else "#f2f2f2")
            assert np.allclose(_pixel(fig, ax, j, i), want, atol=0.02), (key, r)
    for ax in fig.axes[:3]:                   # the tick labels name the grid values where they stand,
        ax_y = ax.yaxis                       # and γ grows upwards as in every (γ, λ) figure
        assert [float(lab.get_text()) for lab in ax.get_yticklabels()] == [0.9, 1.0, 1.1]
        assert list(ax.get_yticks()) == [0, 1, 2] and not ax_y.get_inverted()
        assert [float(lab.get_text()) for lab in ax.get_xticklabels()] == [-0.01, 0.0, 0.01, 0.02]
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert "I_m success: 4/12" in titles[1] and "SAP success: 3/12" in titles[2]
    assert all(ax.get_xlabel() == "λ" and ax.get_ylabel() == "γ" for ax in fig.axes[:3])
    matplotlib.pyplot.close(fig)


def test_reproduction_grids_write_the_requested_formats(table, tmp_path):
    paths = plot_reproduction_grids(table, ["toy"], tmp_path / "grids", formats=(".png",))
    assert [p.name for p in paths] == ["grids.png"] and paths[0].read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="scenarios"):
        plot_reproduction_grids(table, [], tmp_path / "none")


def _comparison(groups=("(3,4,3) scenario 2", "(5,5,4) scenario 2"), n=25):
    rng = np.random.default_rng(0)
    rows = []
    for g in groups:
        for _ in range(n):
            base = rng.normal()
            scores = {c: base + rng.normal() for c in METRIC_COLUMNS}       # correlated metric columns
            rows.append({"scenario": g, "source": "random", "label": "", **scores})
    sel = {"all": rows, **{g: [r for r in rows if r["scenario"] == g] for g in groups}}
    return Comparison(rows=rows, correlations={k: rank_correlations(v) for k, v in sel.items()})


def test_rank_correlation_panels_keep_their_labels_apart_and_the_title_close():
    fig = rank_correlation_figure(_comparison())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 3
    boxes = [ax.get_tightbbox(renderer) for ax in panels]          # the axes with their tick labels
    for a, b in itertools.combinations(boxes, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 0 or overlap_h <= 0, (a, b)
    title = fig._suptitle.get_window_extent(renderer)
    top = max(b.y1 for b in boxes)
    assert 0 <= title.y0 - top <= 0.25 * fig.dpi, (title.y0, top)    # at most a quarter inch of gap
    matplotlib.pyplot.close(fig)


def _bench_rows():
    rows = []
    for (s, m), kind in itertools.product(((3, 3), (5, 4), (8, 4)), ("grouped", "random")):
        slow = 1.0 if kind == "random" else 0.5
        rows.append(IMBenchRow(s, m, kind, m ** s, 0, 1e-5 * m ** s * slow, s == 8, 1e-7 * m ** s, False,
                               1e-4 * s * slow, 1, "partition", True))
    return rows


def test_im_bench_figure_draws_the_slowest_naive_time_and_the_exact_range(tmp_path):
    import matplotlib.pyplot as plt

    rows = _bench_rows()
    fig = im_bench_figure(rows)
    ax = fig.axes[0]
    lines = {ln.get_label().split()[0]: ln for ln in ax.get_lines()}
    sizes = [(3, 3), (5, 4), (8, 4)]
    for name, attr in (("naive", "naive_s"), ("exhaustive", "exhaustive_s"), ("exact", "exact_s")):
        want = [max(getattr(r, attr) for r in rows if (r.s, r.m) == sz) for sz in sizes]
        assert np.allclose(lines[name].get_ydata(), want), name
    band = ax.collections[-1].get_paths()[0].vertices[:, 1]            # the exact search's range
    assert np.isclose(band.min(), min(r.exact_s for r in rows)) and np.isclose(band.max(), max(r.exact_s for r in rows))
    assert ax.get_yscale() == "log" and "wall time" in ax.get_ylabel()
    plt.close(fig)
    before = plt.get_fignums()
    paths = plot_im_bench(rows, tmp_path / "bench", formats=(".png",))
    assert [p.name for p in paths] == ["bench.png"] and paths[0].read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="rows"):
        plot_im_bench([], tmp_path / "none")
    assert plt.get_fignums() == before                              # its figure was closed

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


def _full_table():
    """Two scenarios on one 3 × 4 grid with every field a heatmap sheet draws; the second has other
    value ranges, other successes and an I_m score that is missing everywhere."""
    gammas, lams = (0.9, 1.0, 1.1), (-0.01, 0.0, 0.01, 0.02)
    statuses = (*lg.STATUSES, "error")
    rows = []
    for k, name in enumerate(("first", "second")):
        for (i, g), (j, l) in itertools.product(enumerate(gammas), enumerate(lams)):
            rows.append({"scenario": name, "decoder_noise": "full", "seed": 0, "gamma": g, "lam": l,
                         "status": statuses[(2 * i + j + k) % len(statuses)],
                         "loss_total": 3.0 + i - 0.1 * j + 10 * k, "relative_error": (i * j) / (6.0 + 20 * k),
                         "im_score": None if k else 0.1 * i + 0.05 * j, "im_success": (i + 2 * j + k) % 3 == 0,
                         "sap_score": 0.01 * (i + j) * (1 + 5 * k), "sap_success": i == j + k})
    return SweepTable(rows)


def _rgba(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_a_refilled_heatmap_sheet_draws_the_pixels_of_a_new_one():
    """The sheet a process reuses for every scenario on one grid draws exactly what a new figure of
    the later scenario draws (colour ranges, colour bars, titles, the info text)."""
    from analysis.plots import _HEATMAP_SHEETS, SCORE_PANELS, grid_heatmaps_figure

    table = _full_table()
    _HEATMAP_SHEETS.clear()
    first = grid_heatmaps_figure(table, "first", decoder_noise="full", seed=0)
    _rgba(first)
    again = grid_heatmaps_figure(table, "second", decoder_noise="full", seed=0)
    assert again is first                                   # the same sheet, refilled
    new = grid_heatmaps_figure(table, "second", decoder_noise="full", seed=0, reuse=False)
    assert new is not first
    assert np.array_equal(_rgba(again), _rgba(new))
    status_ax = again.axes[0]
    i, j = 1, 2                                             # cell (γ = 1.0, λ = 0.01) of "second"
    want = to_rgb(STATUS_COLORS[(*lg.STATUSES, "error")[(2 * i + j + 1) % (len(lg.STATUSES) + 1)]])
    assert np.allclose(_pixel(again, status_ax, j, i), want, atol=0.02)
    # and what it draws is the data: each cell of a continuous panel in its colour map at the
    # scenario's own range (min → 0, max → 1)
    buf = _rgba(again)
    image_axes = [a for a in again.axes if a.get_images()]
    panels = {"loss_total": (1, "viridis"), "relative_error": (2, "magma_r"), "sap_score": (5, "viridis")}
    for field, (k, cmap) in panels.items():
        _, _, v = table.grid(field, scenario="second", decoder_noise="full", seed=0)
        for i, j in itertools.product(range(v.shape[0]), range(v.shape[1])):
            px, py = image_axes[k].transData.transform((j, i))
            got = buf[int(round(buf.shape[0] - py)), int(round(px)), :3] / 255.0
            want = matplotlib.colormaps[cmap]((v[i, j] - v.min()) / (v.max() - v.min()))[:3]
            assert np.allclose(got, want, atol=0.02), (field, i, j)
    titles = [image_axes[k].get_title() for k in (4, 6)]
    assert titles == ["I_m success: 4/12", "SAP success: 2/12"], titles
    matplotlib.pyplot.close(new)
    scores = grid_heatmaps_figure(table, "second", decoder_noise="full", seed=0, panels=SCORE_PANELS)
    assert scores is not again and len([a for a in scores.axes if a.get_images()]) == len(SCORE_PANELS)
    with pytest.raises(ValueError, match="panels"):
        grid_heatmaps_figure(table, "second", panels=("status", "loss"))
    _HEATMAP_SHEETS.clear()


@pytest.mark.parametrize("n_rows", [1, 3])
def test_reproduction_grid_panels_and_legend_fit_without_overlap(n_rows):
    """The fixed layout (no tight_layout): panels with their tick labels and titles do not overlap
    each other or the legend, and everything lies inside the figure."""
    gammas, lams = (0.98, 0.99, 1.0, 1.01, 1.02), (-0.02, -0.01, 0.0, 0.01, 0.02)
    names = [f"(3,4,3) scenario {k}" for k in range(1, n_rows + 1)]
    rows = [{"scenario": n, "decoder_noise": "full", "seed": 0, "gamma": g, "lam": l, "status": "converged",
             "im_success": True, "sap_success": False} for n in names for g in gammas for l in lams]
    fig = reproduction_grids_figure(SweepTable(rows), names, decoder_noise="full", seed=0,
                                    title="(s, n, m) = (3, 4, 3): full Σ_Z, seed 0")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    texts = [fig.legends[0].get_window_extent(renderer), fig._suptitle.get_window_extent(renderer)]
    width, height = fig.bbox.width, fig.bbox.height
    for a, b in itertools.combinations([*boxes, *texts], 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0, (a, b)
    for b in [*boxes, *texts]:
        assert b.x0 >= 0 and b.y0 >= 0 and b.x1 <= width and b.y1 <= height, b
    matplotlib.pyplot.close(fig)


def test_a_prepared_heatmap_sheet_is_the_one_its_grid_then_draws_on():
    """A drawing process builds the sheet while the sweep solves; the first scenario drawn on that
    grid must refill that very figure (the same grid as ``SweepTable.grid`` gives, from the sweep's
    own γ and λ lists), and its pixels are those of a new figure."""
    from analysis.plots import _HEATMAP_SHEETS, SCORE_PANELS, grid_heatmaps_figure, prepare_heatmap_sheet

    table = _full_table()
    gammas, lams, _ = table.grid("loss_total", scenario="first", decoder_noise="full", seed=0)
    _HEATMAP_SHEETS.clear()
    prepared = prepare_heatmap_sheet(list(gammas), [float(x) for x in lams], SCORE_PANELS)
    drawn = grid_heatmaps_figure(table, "first", decoder_noise="full", seed=0, panels=SCORE_PANELS)
    assert drawn is prepared and len(_HEATMAP_SHEETS) == 1
    new = grid_heatmaps_figure(table, "first", decoder_noise="full", seed=0, panels=SCORE_PANELS, reuse=False)
    assert np.array_equal(_rgba(drawn), _rgba(new))
    matplotlib.pyplot.close(new)
    _HEATMAP_SHEETS.clear()


def test_a_sheet_of_several_scenarios_draws_each_row_from_its_own_scenario():
    """A row per scenario, a column per panel: each cell has the colour of its own scenario's value
    at that scenario's range, the row carries the scenario's name, tick labels only on the outer
    panels; refilled with the scenarios swapped it draws the pixels of a new figure."""
    from analysis.plots import _HEATMAP_SHEETS, HEATMAP_PANELS, SCORE_PANELS, grid_heatmaps_figure

    table = _full_table()
    _HEATMAP_SHEETS.clear()
    panels = ("status", "loss_total", "relative_error", "sap_score", "im_success")
    fig = grid_heatmaps_figure(table, ["first", "second"], decoder_noise="full", seed=0, panels=panels)
    _rgba(fig)
    again = grid_heatmaps_figure(table, ["second", "first"], decoder_noise="full", seed=0, panels=panels)
    assert again is fig
    new = grid_heatmaps_figure(table, ["second", "first"], decoder_noise="full", seed=0, panels=panels, reuse=False)
    assert np.array_equal(_rgba(again), _rgba(new))
    matplotlib.pyplot.close(new)
    buf = _rgba(again)
    image_axes = [a for a in again.axes if a.get_images()]
    assert len(image_axes) == 2 * len(panels)
    for row, name in enumerate(("second", "first")):
        first_ax = image_axes[row * len(panels)]
        assert first_ax.get_ylabel().startswith(name)
        for col, field in enumerate(panels):
            ax = image_axes[row * len(panels) + col]
            _, _, v = table.grid(field, scenario=name, decoder_noise="full", seed=0)
            cmap = HEATMAP_PANELS[field][1]
            for i, j in itertools.product(range(v.shape[0]), range(v.shape[1])):
                px, py = ax.transData.transform((j, i))
                got = buf[int(round(buf.shape[0] - py)), int(round(px)), :3] / 255.0
                if field == "status":
                    want = to_rgb(STATUS_COLORS[(*lg.STATUSES, "error")[int(v[i, j])]])
                elif field.endswith("success"):
                    want = to_rgb("#1f77b4" if v[i, j] else "#f2f2f2")
                else:
                    want = matplotlib.colormaps[cmap]((v[i, j] - v.min()) / (v.max() - v.min()))[:3]
                assert np.allclose(got, want, atol=0.02), (name, field, i, j)
        success_ax = image_axes[row * len(panels) + panels.index("im_success")]
        _, _, s = table.grid("im_success", scenario=name, decoder_noise="full", seed=0)
        assert success_ax.get_title() == f"I_m success: {s.sum():.0f}/12"
    bottom, top = image_axes[len(panels) + 1], image_axes[1]
    assert [t.get_text() for t in bottom.get_xticklabels()] and bottom.get_xlabel() == "λ"
    assert top.get_xlabel() == "" and not top.xaxis.get_tick_params()["labelbottom"]
    assert not top.yaxis.get_tick_params()["labelleft"] and image_axes[0].yaxis.get_tick_params()["labelleft"]
    with pytest.raises(ValueError, match="scenario"):
        grid_heatmaps_figure(table, [], panels=SCORE_PANELS)
    _HEATMAP_SHEETS.clear()

"""Figures of a sweep (matplotlib, Agg): (γ, λ) heatmaps, success bars vs Vu et al. (2024), the I_m
landscape, the per-size reproduction grids and the I_m benchmark's scaling.

Every function draws its figure once and writes ``<path>.<format>`` for each of ``formats``
(``"png"``, ``"pdf"``, ``"svg"``, with or without the dot; the sweep figures default to PNG alone,
``("png", "pdf")`` adds the vector version; ``path`` without suffix) and returns the written paths;
``show=True`` also opens an interactive window (when a display backend exists).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import lingauss as lg

from lingauss.params import InvalidParameter
from .evaluate import grouping_text

__all__ = ["STATUS_COLORS", "FAIL_COLOR", "SUCCESS_COLOR", "plot_grid_heatmaps", "plot_success_bars", "plot_im_landscape", "im_landscape_data", "draw_im_landscapes",
           "plot_reproduction_grids", "reproduction_grids_figure", "grid_heatmaps_figure", "HEATMAP_PANELS", "SCORE_PANELS", "plot_im_bench",
           "im_bench_figure", "plot_phase_diagram", "FIGURE_FORMATS", "check_formats", "prepare_drawing",
           "prepare_heatmap_sheet"]

#: The file formats a figure can be written in.
FIGURE_FORMATS = ("png", "pdf", "svg")


def check_formats(formats) -> tuple[str, ...]:
    """``formats`` as a tuple of :data:`FIGURE_FORMATS` (``"png,pdf"``, ``("png",)`` or
    ``(".png", ".pdf")``; ``ValueError`` naming ``formats`` otherwise)."""
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    out = tuple(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    bad = [f for f in out if f not in FIGURE_FORMATS]
    if not out or bad:
        raise InvalidParameter(f"formats must be a non-empty list of {FIGURE_FORMATS}, got {formats!r}")
    return out

#: Colour of each Blahut–Arimoto status (:data:`lingauss.STATUSES`) and of a point whose solve
#: raised (``"error"``), in every figure.
STATUS_COLORS = dict(zip((*lg.STATUSES, "error"),
                         ("#2ca02c", "#7f7f7f", "#d62728", "#ff7f0e", "#000000", "#9467bd")))
#: Colours of a point without and with success, in every success panel.
FAIL_COLOR, SUCCESS_COLOR = "#f2f2f2", "#1f77b4"


def _status_map(labels):
    """``(colour map, norm)`` drawing status index k (into ``labels``) in its :data:`STATUS_COLORS`."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    cm = ListedColormap([STATUS_COLORS[s] for s in labels])
    return cm, BoundaryNorm(np.arange(-0.5, len(labels)), cm.N)


def _success_map():
    """The colour map of a 0/1 success panel (drawn with vmin = 0, vmax = 1)."""
    from matplotlib.colors import ListedColormap

    return ListedColormap([FAIL_COLOR, SUCCESS_COLOR])


def _pyplot():
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "pdf") and not matplotlib.is_interactive():
        try:
            matplotlib.use("Agg")
        except Exception:                                  # pragma: no cover - backend already fixed
            pass
    import matplotlib.pyplot as plt
    return plt


def prepare_drawing() -> None:
    """Import pyplot with the Agg backend (a drawing worker's start: the figures then cost only
    their drawing)."""
    _pyplot()


def _save(fig, path, show: bool, formats=("png",), dpi: int = 100, tight: bool = False) -> list[Path]:
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in check_formats(formats):
        target = path.with_suffix("." + ext)
        # a fixed layout draws once per file; a tight bounding box costs a second draw
        fig.savefig(target, dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
        out.append(target)
    if show:
        plt.show()
    plt.close(fig)
    return out


def _ticks(ax, gammas, lams):
    ax.set_xticks(range(lams.size))
    ax.set_xticklabels([f"{x:g}" for x in lams], rotation=45 if lams.size > 7 else 0, fontsize=8)
    ax.set_yticks(range(gammas.size))
    ax.set_yticklabels([f"{x:g}" for x in gammas], fontsize=8)
    ax.set_xlabel("λ (weight of E‖Y−AX‖²)")
    ax.set_ylabel("γ (weight of −E log p(y|x))")


#: The panels a heatmap sheet can show: table field → (title, colour map; ``None``: categorical).
HEATMAP_PANELS = {"status": ("BA status", None), "loss_total": ("loss (nats/sample)", "viridis"),
                  "relative_error": ("E‖Y−AX‖² / tr Σ_Y", "magma_r"),
                  "im_score": ("I_m score (nats)", "viridis"), "im_success": ("I_m success", None),
                  "sap_score": ("SAP score", "viridis"), "sap_success": ("SAP success", None)}
#: The panels of a sheet beside the reproduction grids (which show status and successes already).
SCORE_PANELS = ("loss_total", "relative_error", "im_score", "sap_score")


def plot_grid_heatmaps(table, scenario, path, *, decoder_noise: str | None = None,
                       seed: int | None = None, panels=tuple(HEATMAP_PANELS), title: str = "",
                       show: bool = False, formats=("png",)) -> list[Path]:
    """Heatmaps over the (γ, λ) grid, one per name of ``panels`` (keys of :data:`HEATMAP_PANELS`;
    default all: BA status, loss, reconstruction error, I_m score and success, SAP score and
    success — a failed or non-eligible point shows as failure), each with its own colour range.

    ``scenario``: one name (its panels two a row) or a list of names on one (γ, λ) grid (a row
    each, a column per panel: the scenarios of a size side by side).

    The sheets of one process that share a (γ, λ) grid, panels and number of scenarios share one
    figure (see :func:`grid_heatmaps_figure`); ``show=True`` draws a figure of its own."""
    fig = grid_heatmaps_figure(table, scenario, decoder_noise=decoder_noise, seed=seed, panels=panels,
                               title=title, reuse=not show)
    return _save(fig, path, show, formats)


#: This process's heatmap sheets, one per (γ, λ) grid, panels and number of scenarios: the axes,
#: colour bars and tick labels of a sheet cost more to build than to draw, so later scenarios on
#: the same grid only replace the images' data, their colour ranges and the texts (the same pixels
#: as a new figure: tested).
_HEATMAP_SHEETS: dict[tuple, tuple] = {}


def _check_panels(panels) -> tuple[str, ...]:
    panels = tuple(panels)
    bad = [p for p in panels if p not in HEATMAP_PANELS]
    if not panels or bad:
        raise InvalidParameter(f"panels must be a non-empty list of {tuple(HEATMAP_PANELS)}, got {panels!r}")
    return panels


def grid_heatmaps_figure(table, scenario, *, decoder_noise: str | None = None,
                         seed: int | None = None, panels=tuple(HEATMAP_PANELS), title: str = "",
                         reuse: bool = True):
    """The figure of :func:`plot_grid_heatmaps`. With ``reuse`` (default) it is this process's
    sheet for the (γ, λ) grid, ``panels`` and number of scenarios, outside pyplot (never close it;
    it is refilled by the next call on the same grid); ``reuse=False`` builds a new pyplot figure."""
    panels = _check_panels(panels)
    names = [scenario] if isinstance(scenario, str) else list(scenario)
    if not names:
        raise InvalidParameter("scenario must name at least one scenario")
    grids = [[table.grid(field, scenario=name, decoder_noise=decoder_noise, seed=seed) for field in panels]
             for name in names]
    gammas, lams = grids[0][0][0], grids[0][0][1]
    if any(not (np.array_equal(g, gammas) and np.array_equal(l, lams)) for row in grids for g, l, _ in row):
        raise InvalidParameter(f"the scenarios {names} are not on one (γ, λ) grid")
    fig, rows, info = (_reused_sheet(gammas, lams, panels, len(names)) if reuse
                       else _heatmap_sheet(gammas, lams, panels, len(names), pyplot=True))
    for name, images, row in zip(names, rows, grids):
        for im, field, (_, _, v) in zip(images, panels, row):
            label, cmap = HEATMAP_PANELS[field]
            im.set_data(v)
            if cmap is not None:
                im.autoscale()                      # the colour range of this scenario's values
            if field.endswith("success"):
                im.axes.set_title(f"{label}: {np.nansum(v):.0f}/{v.size}")
        if len(names) > 1:                          # the row's scenario, beside its first panel
            images[0].axes.set_ylabel(f"{name}\nγ")
    note = ("; success = eligible point (accepted BA status, error within tolerance) whose metric "
            "recovers the true grouping" if any(p.endswith("success") for p in panels) else "")
    info.set_text(f"{', '.join(names) if len(names) == 1 else f'{len(names)} scenarios'}, "
                  f"decoder noise: {decoder_noise or 'all'}, seed: {seed}{note}"
                  + ("" if len(names) == 1 else "; γ weighs −E log p(y|x), λ weighs E‖Y−AX‖²"))
    fig.suptitle(title or f"(γ, λ) grid — {', '.join(names)}")
    return fig


def _reused_sheet(gammas, lams, panels, n_scenarios: int = 1):
    """This process's heatmap sheet for the grid ``gammas`` × ``lams``, ``panels`` and
    ``n_scenarios``, built on first use."""
    gammas, lams = np.asarray(gammas, dtype=float), np.asarray(lams, dtype=float)
    key = (tuple(gammas.tolist()), tuple(lams.tolist()), tuple(panels), int(n_scenarios))
    sheet = _HEATMAP_SHEETS.get(key)
    if sheet is None:
        sheet = _HEATMAP_SHEETS[key] = _heatmap_sheet(gammas, lams, key[2], key[3], pyplot=False)
    return sheet


def prepare_heatmap_sheet(gammas, lams, panels=tuple(HEATMAP_PANELS), n_scenarios: int = 1):
    """Build (and return) this process's heatmap sheet for a (γ, λ) grid ahead of its first use: a
    drawing process does it while the sweep that fills it still solves. ``gammas`` and ``lams`` in
    increasing order, as :meth:`~analysis.table.SweepTable.grid` gives them."""
    _pyplot()
    return _reused_sheet(gammas, lams, _check_panels(panels), n_scenarios)[0]


def _panel_image(fig, ax, field, shape):
    """An empty heatmap of ``field`` on ``ax``, with its colour bar (categorical for the status
    and the successes)."""
    blank = np.full(shape, np.nan)
    cmap = HEATMAP_PANELS[field][1]
    if field == "status":
        labels = list(STATUS_COLORS)
        cm, norm = _status_map(labels)
        im = ax.imshow(blank, cmap=cm, norm=norm, origin="lower")
        cb = fig.colorbar(im, ax=ax, ticks=range(len(labels)))
        cb.ax.set_yticklabels(labels, fontsize=7)
    elif field.endswith("success"):
        im = ax.imshow(blank, cmap=_success_map(), vmin=0, vmax=1, origin="lower")
        cb = fig.colorbar(im, ax=ax, ticks=[0.25, 0.75])
        cb.ax.set_yticklabels(["fail", "success"], fontsize=7)
    else:
        im = ax.imshow(blank, cmap=cmap, vmin=0, vmax=1, origin="lower")
        fig.colorbar(im, ax=ax)
    return im


def _heatmap_sheet(gammas, lams, panels, n_scenarios: int = 1, *, pyplot: bool):
    """A heatmap sheet with empty images: ``(figure, images per scenario in panel order, info
    text)``. One scenario: two panels a row (readable at the width of a page or a screen; the
    colour bars take room); several: a row per scenario, a column per panel, the tick labels on
    the outer panels only."""
    one = n_scenarios == 1
    n_rows, n_cols = (-(-len(panels) // 2), 2) if one else (n_scenarios, len(panels))
    # inches: suptitle; labels + note; between rows; a panel (with its colour bar)
    top, bottom, gap, panel_h = (0.7, 1.0, 0.95, 3.0) if one else (0.7, 1.05, 0.45, 2.6)
    width = 10 if one else 1.0 + 3.6 * n_cols
    size = (width, top + bottom + panel_h * n_rows + gap * (n_rows - 1))
    if pyplot:
        fig = _pyplot().figure(figsize=size)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
        FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    images = []
    for k, ax in zip(range(len(panels) * n_scenarios), axes.flat):      # row by row
        row, field = (0, panels[k]) if one else (k // n_cols, panels[k % n_cols])
        images.append(_panel_image(fig, ax, field, (gammas.size, lams.size)))
        if not field.endswith("success") and (one or row == 0):
            ax.set_title(HEATMAP_PANELS[field][0])
        _ticks(ax, gammas, lams)
        if not one:                                 # a shared grid: its labels on the outer panels
            if row < n_rows - 1:
                ax.tick_params(labelbottom=False)
                ax.set_xlabel("")
            else:
                ax.set_xlabel("λ")
            if k % n_cols:
                ax.tick_params(labelleft=False)
                ax.set_ylabel("")
    for ax in axes.flat[len(panels):] if one else ():
        ax.axis("off")
    rows = [images] if one else [images[r * n_cols:(r + 1) * n_cols] for r in range(n_rows)]
    info = fig.text(0.5, 0.25 / size[1], "", ha="center", va="bottom", fontsize=9, wrap=True)
    axes_h = (size[1] - top - bottom - gap * (n_rows - 1)) / n_rows
    fig.subplots_adjust(left=0.07 if one else 0.9 / width, right=0.97 if one else 1 - 0.25 / width,
                        bottom=bottom / size[1], top=1 - top / size[1],
                        wspace=0.45 if one else 0.3, hspace=gap / axes_h)
    return fig, rows, info


def plot_success_bars(comparison: list[dict], path, *, show: bool = False, formats=("png",)) -> list[Path]:
    """Grouped bars of success rates, ours vs published, per scenario and metric.

    ``comparison`` rows: ``{"size", "scenario_index", "metric", "ours", "published"}`` (percent).
    """
    plt = _pyplot()
    sizes = sorted({r["size"] for r in comparison})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 4.2), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        rows = [r for r in comparison if r["size"] == size]
        labels = [f"{r['metric']}\nscen. {r['scenario_index']}" for r in rows]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, [r["ours"] for r in rows], 0.4, label="ours", color="#1f77b4")
        ax.bar(x + 0.2, [r["published"] for r in rows], 0.4, label="published (Vu et al. 2024)", color="#ff7f0e")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel("success rate (% of (γ, λ, seed) points)")
        ax.set_title(f"(s, n, m) = {size}")
        ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.2)
    return _save(fig, path, show, formats)


def im_landscape_data(scenario, B, sigma_w) -> dict:
    """What :func:`plot_im_landscape` shows, computed (the exact I_m of every labelled assignment):
    ``scores`` sorted high to low, ``is_true`` (the assignment's grouping is the scenario's true
    grouping), ``true`` and ``best`` (groupings). Plain arrays and tuples, cheap to send to a
    drawing process (which then needs none of the I_m kernels)."""
    cov = scenario.model.joint_covariance(B, sigma_w)
    land = lg.im_scores_all(cov, scenario.n_latents)
    order = np.argsort(land.scores)[::-1]
    true = lg.canonical_grouping(scenario.true_grouping)
    return {"scores": land.scores[order], "true": true, "best": land.grouping(int(np.argmax(land.scores))),
            "is_true": np.array([land.grouping(k) == true for k in order])}


def plot_im_landscape(scenario, B, sigma_w, path, *, title: str = "", show: bool = False,
                      formats=("png",)) -> list[Path]:
    """Every labelled assignment's I_m score (sorted), the best marked and the assignments whose
    grouping is the scenario's true grouping highlighted."""
    return draw_im_landscapes([(im_landscape_data(scenario, B, sigma_w), title or f"I_m landscape — {scenario.name}")],
                              path, show=show, formats=formats)


def draw_im_landscapes(items, path, *, title: str = "", show: bool = False, formats=("png",)) -> list[Path]:
    """The figure of :func:`plot_im_landscape` for each ``(data, panel title)`` of ``items`` (data
    from :func:`im_landscape_data`), one above the other (e.g. the scenarios of one size)."""
    plt = _pyplot()
    items = list(items)
    if not items:
        raise InvalidParameter("items must hold at least one landscape")
    # inches: a panel, between panels, above (more with a title) and below
    panel_h, gap, above, below = 3.28, 0.8, 0.42 + (0.5 if title else 0.0), 0.5
    height = above + below + panel_h * len(items) + gap * (len(items) - 1)
    fig, axes = plt.subplots(len(items), 1, figsize=(8, height), squeeze=False)
    for ax, (data, panel_title) in zip(axes[:, 0], items):
        scores, is_true = data["scores"], data["is_true"]
        ranks = np.arange(scores.size)
        ax.plot(ranks, scores, "-", color="#999999", lw=1, zorder=1)
        ax.scatter(ranks[~is_true], scores[~is_true], s=10, color="#1f77b4", label="other assignments", zorder=2)
        ax.scatter(ranks[is_true], scores[is_true], s=22, color="#2ca02c",
                   label=f"true grouping {grouping_text(data['true'])}", zorder=3)
        ax.scatter([0], [scores[0]], s=120, facecolors="none", edgecolors="#d62728", lw=2,
                   label=f"best: {grouping_text(data['best'])} ({scores[0]:.3f} nats)", zorder=4)
        ax.set_xlabel(f"assignment rank (all m^s = {scores.size})")
        ax.set_ylabel("I_m score (nats)")
        ax.set_title(panel_title)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=below / height, top=1 - above / height,
                        hspace=gap / panel_h)
    return _save(fig, path, show, formats)


def plot_reproduction_grids(table, scenarios, path, *, decoder_noise: str | None = None,
                            seed: int | None = None, title: str = "", formats=(".png", ".pdf"),
                            dpi: int = 110, show: bool = False) -> list[Path]:
    """One row per scenario: BA status, I_m success and SAP success over the (γ, λ) grid.

    A compact companion of :func:`plot_grid_heatmaps` (one figure per scenario) for the pages of
    the documentation: the grids of several scenarios side by side, readable at page width.
    """
    fig = reproduction_grids_figure(table, scenarios, decoder_noise=decoder_noise, seed=seed, title=title)
    return _save(fig, path, show, formats, dpi)


def reproduction_grids_figure(table, scenarios, *, decoder_noise: str | None = None,
                              seed: int | None = None, title: str = ""):
    """The figure of :func:`plot_reproduction_grids` (not saved, not closed); its axes are
    ``fig.axes[3 * row + column]`` with columns status, I_m success, SAP success."""
    plt = _pyplot()
    from matplotlib.patches import Patch

    scenarios = list(scenarios)
    if not scenarios:
        raise InvalidParameter("scenarios must name at least one scenario")
    labels = list(STATUS_COLORS)
    status_cm, status_norm = _status_map(labels)
    success_cm = _success_map()
    fig, axes = plt.subplots(len(scenarios), 3, figsize=(8.0, 2.45 * len(scenarios) + 0.9), squeeze=False)
    seen = set()
    for row, name in zip(axes, scenarios):
        for ax, field in zip(row, ("status", "im_success", "sap_success")):
            gammas, lams, v = table.grid(field, scenario=name, decoder_noise=decoder_noise, seed=seed)
            if field == "status":
                ax.imshow(v, cmap=status_cm, norm=status_norm, origin="lower")
                seen |= {labels[int(c)] for c in v[np.isfinite(v)].ravel()}
                ax.set_title(f"{name}\nBA status", fontsize=8.5)
            else:
                ax.imshow(v, cmap=success_cm, vmin=0, vmax=1, origin="lower")
                metric = "I_m" if field == "im_success" else "SAP"
                ax.set_title(f"{metric} success: {np.nansum(v):.0f}/{v.size} points", fontsize=8.5)
            ax.set_xticks(range(lams.size))
            ax.set_xticklabels([f"{x:g}" for x in lams], fontsize=6.5, rotation=90)
            ax.set_yticks(range(gammas.size))
            ax.set_yticklabels([f"{x:g}" for x in gammas], fontsize=6.5)
            ax.set_xlabel("λ", fontsize=8)
            ax.set_ylabel("γ", fontsize=8)
    handles = [Patch(color=STATUS_COLORS[s], label=s) for s in labels if s in seen]
    handles += [Patch(color=SUCCESS_COLOR, label="success"), Patch(color=FAIL_COLOR, ec="#999999", label="no success")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title or "(γ, λ) grids", fontsize=10)
    # a fixed layout in inches (what tight_layout found for these fonts and sizes): measuring the
    # text again for every figure costs two extra draws
    width, height = fig.get_size_inches()
    top, bottom, gap = 0.62, 0.85, 0.95                    # suptitle; tick labels + legend; between rows
    axes_h = (height - top - bottom - gap * (len(scenarios) - 1)) / len(scenarios)
    fig.subplots_adjust(left=0.63 / width, right=1 - 0.15 / width, bottom=bottom / height,
                        top=1 - top / height, wspace=0.31, hspace=gap / axes_h)
    return fig


def plot_im_bench(rows, path, *, formats=(".png", ".pdf"), dpi: int = 110, show: bool = False) -> list[Path]:
    """Wall time of the naive loop, the exhaustive kernel and the exact search against the size, from
    :func:`analysis.bench.bench_im`'s rows (hollow markers: extrapolated times; the exact search's
    band spans the input kinds)."""
    return _save(im_bench_figure(rows), path, show, formats, dpi, tight=True)


def im_bench_figure(rows):
    """The figure of :func:`plot_im_bench` (not saved, not closed); its lines are labelled
    ``"naive …"``, ``"exhaustive …"`` and ``"exact …"``."""
    plt = _pyplot()
    rows = list(rows)
    if not rows:
        raise InvalidParameter("rows must hold at least one benchmark row")
    sizes = sorted({(r.s, r.m) for r in rows})
    x = np.arange(len(sizes))
    fig, ax = plt.subplots(figsize=(8.0, 4.2))

    def worst(size, attr, flag):
        sel = [r for r in rows if (r.s, r.m) == size and getattr(r, attr) is not None]
        if not sel:
            return np.nan, False
        r = max(sel, key=lambda r: getattr(r, attr))
        return getattr(r, attr), bool(getattr(r, flag))

    for attr, flag, label, color in (("naive_s", "naive_extrapolated", "naive Python loop over m^s", "#7f7f7f"),
                                     ("exhaustive_s", "exhaustive_extrapolated", "exhaustive Numba kernel",
                                      "#ff7f0e")):
        vals = [worst(sz, attr, flag) for sz in sizes]
        t = np.array([v for v, _ in vals], dtype=float)
        ext = np.array([e for _, e in vals])
        ax.plot(x, t, "-", color=color, label=f"{label} (slowest input)")
        ax.scatter(x[~ext], t[~ext], color=color, zorder=3)
        ax.scatter(x[ext], t[ext], facecolors="white", edgecolors=color, zorder=3,
                   label=f"{label}: extrapolated" if ext.any() else None)
    kinds = sorted({r.kind for r in rows})
    lo = np.array([min(r.exact_s for r in rows if (r.s, r.m) == sz) for sz in sizes])
    hi = np.array([max(r.exact_s for r in rows if (r.s, r.m) == sz) for sz in sizes])
    ax.fill_between(x, lo, hi, color="#1f77b4", alpha=0.25, lw=0)
    ax.plot(x, hi, "-o", color="#1f77b4", label=f"exact search (band: {', '.join(kinds)} inputs)")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([f"s={s}\nm={m}" for s, m in sizes], fontsize=8)
    ax.set_xlabel("size (s factors, m latents)")
    ax.set_ylabel("wall time (s, log scale)")
    ax.set_title("I_m: naive vs exhaustive vs exact, same covariances (one core)", fontsize=10)
    ax.grid(True, which="major", axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_phase_diagram(diagram, path, *, show: bool = False, formats=("png",)) -> list[Path]:
    """A dense (γ, λ) phase diagram (:class:`analysis.dense.PhaseDiagram`): BA status, I_m success
    and SAP success, one pixel per grid point."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    g, l = diagram.gammas, diagram.lams
    extent = (l[0], l[-1], g[0], g[-1])
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    cm, norm = _status_map(lg.STATUSES)
    im = axes[0].imshow(diagram.status, cmap=cm, norm=norm,
                        origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    cb = fig.colorbar(im, ax=axes[0], ticks=range(len(lg.STATUSES)))
    counts = diagram.status_counts()
    cb.ax.set_yticklabels([f"{s} {counts[s]}" for s in lg.STATUSES], fontsize=7)
    axes[0].set_title("BA status")
    for ax, field, title in ((axes[1], "im_success", "I_m success"), (axes[2], "sap_success", "SAP success")):
        v = getattr(diagram, field).astype(np.int8) + diagram.eligible.astype(np.int8)   # 0 / 1 / 2
        cmap = ListedColormap(["#f2f2f2", "#9ecae1", "#08519c"])
        im = ax.imshow(v, cmap=cmap, vmin=-0.5, vmax=2.5, origin="lower", extent=extent, aspect="auto",
                       interpolation="nearest")
        cb = fig.colorbar(im, ax=ax, ticks=[0, 1, 2])
        cb.ax.set_yticklabels(["not eligible", "eligible, fails", "success"], fontsize=7)
        ax.set_title(f"{title}: {int(getattr(diagram, field).sum())} of {diagram.n_points} points "
                     f"({int(diagram.eligible.sum())} eligible)")
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_xlabel("λ (weight of E‖Y−AX‖²)")
        ax.set_ylabel("γ (weight of −E log p(y|x))")
    p = diagram.protocol
    fig.suptitle(f"{diagram.scenario}: {g.size} × {l.size} (γ, λ) points, decoder noise {p.decoder_noise}, "
                 f"seed {diagram.seed}, eligible = status in {{{', '.join(p.accept)}}} and error "
                 f"≤ {p.tolerance:.0%} ({p.error_reading})", fontsize=10)
    fig.subplots_adjust(left=0.045, right=0.96, bottom=0.11, top=0.87, wspace=0.32)
    return _save(fig, path, show, formats)

"""``lingauss bench metrics``: the sample metrics, ours vs the reference implementations, same arrays.

Every implementation gets the same arrays in the same run, and each time is the best of
``repeats`` runs (interleaved).

* **SAP, continuous factors** — ours (:func:`lingauss.metrics.standard_sap` with
  ``discrete_factors=False``) vs disent's ``_compute_sap(..., continuous_factors=True)`` and the
  formula of disentanglement_lib's ``compute_sap`` (Locatello et al. 2019; one ``numpy.cov`` call
  per latent–factor pair, re-implemented here exactly as in our equality tests). Values: the
  largest difference of the score matrices and of the scores.
* **DCI** — ours with each backend the metric registry declares for ``dci`` (``gbt``, the
  reference's gradient-boosted trees, and ``hist``) vs disent's ``_compute_importance_gbt`` with
  its scikit-learn trees and disentanglement_lib's formula (re-implemented: one
  ``GradientBoostingClassifier()`` per factor, impurity importances). Agreement of each backend
  with the reference trees: the correlation of the importance matrices and the differences of
  disentanglement D, completeness C and test informativeness.

disent (nmichlo/disent) is used from its installed files: its package ``__init__`` imports
lightning and torchvision (``pip install disent`` would replace this project's CPU torch with a
CUDA build), but its metric modules need only numpy, scipy and scikit-learn, so they are loaded
alone, with the two package imports they make for type hints and decorators stubbed. Install it
without dependencies (``pip install --no-deps disent``); without it the disent columns read
"not installed".
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import types
from dataclasses import dataclass

import numpy as np

__all__ = ["SAP_SIZES", "DCI_SIZES", "DCI_REFERENCE_SIZES", "load_disent", "reference_sap_matrix",
           "reference_dci", "sap_data", "dci_data", "bench_metrics", "format_metrics"]

SAP_SIZES = (1_000, 10_000, 100_000)
DCI_SIZES = (1_000, 10_000)
DCI_REFERENCE_SIZES = (1_000,)     # the reference trees take minutes beyond this on one core


def load_disent():
    """``(namespace, version)`` with disent's ``_compute_sap``, ``_compute_score_matrix``,
    ``_compute_importance_gbt``, ``_disentanglement`` and ``_completeness``, or ``(None, reason)``."""
    spec = importlib.util.find_spec("disent")
    if spec is None or not spec.submodule_search_locations:
        return None, "not installed (pip install --no-deps disent)"
    root = os.path.join(list(spec.submodule_search_locations)[0], "metrics")
    stubs = {"disent": types.ModuleType("disent"), "disent.dataset": types.ModuleType("disent.dataset"),
             "disent.metrics": types.ModuleType("disent.metrics"),
             "disent.metrics.utils": types.ModuleType("disent.metrics.utils")}
    stubs["disent.dataset"].DisentDataset = object
    stubs["disent.metrics.utils"].make_metric = lambda *a, **k: (lambda f: f)
    stubs["disent.metrics"].utils = stubs["disent.metrics.utils"]
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    ns = types.SimpleNamespace()
    try:
        for name in ("_sap", "_dci"):
            mspec = importlib.util.spec_from_file_location(f"_disent_metrics{name}",
                                                           os.path.join(root, f"{name}.py"))
            mod = importlib.util.module_from_spec(mspec)
            mspec.loader.exec_module(mod)
            for attr in dir(mod):
                if attr.startswith("_compute") or attr in ("_disentanglement", "_completeness"):
                    setattr(ns, attr, getattr(mod, attr))
    except Exception as exc:                      # noqa: BLE001 - reported, not raised
        return None, f"could not be loaded ({type(exc).__name__}: {exc})"
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    try:
        from importlib.metadata import version
        ver = version("disent")
    except Exception:                              # noqa: BLE001
        ver = "?"
    return ns, ver


def reference_sap_matrix(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """disentanglement_lib's continuous SAP score matrix: one ``numpy.cov`` per pair (ddof 1)."""
    out = np.zeros((x.shape[1], v.shape[1]))
    for i in range(x.shape[1]):
        for j in range(v.shape[1]):
            c = np.cov(x[:, i], v[:, j], ddof=1)
            out[i, j] = c[0, 1] ** 2 / (c[0, 0] * c[1, 1]) if c[0, 0] > 1e-12 else 0.0
    return out


def reference_dci(x_tr, y_tr, x_te, y_te, seed: int):
    """disentanglement_lib's ``compute_dci`` formula: ``(importance (m, s), train acc, test acc)``."""
    from sklearn.ensemble import GradientBoostingClassifier

    imp = np.zeros((x_tr.shape[1], y_tr.shape[1]))
    acc_tr, acc_te = [], []
    for j in range(y_tr.shape[1]):
        model = GradientBoostingClassifier(random_state=seed).fit(x_tr, y_tr[:, j])
        imp[:, j] = np.abs(model.feature_importances_)
        acc_tr.append(np.mean(model.predict(x_tr) == y_tr[:, j]))
        acc_te.append(np.mean(model.predict(x_te) == y_te[:, j]))
    return imp, float(np.mean(acc_tr)), float(np.mean(acc_te))


def sap_data(n: int, m: int = 10, s: int = 10, seed: int = 0):
    """Continuous factors v ~ N(0, I_s) and latents x = v A + noise (A sparse-ish, seeded)."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, s))
    a = rng.standard_normal((s, m)) * (rng.random((s, m)) < 0.3)
    a[np.arange(min(s, m)), np.arange(min(s, m))] += 2.0
    return v @ a + 0.5 * rng.standard_normal((n, m)), v


def dci_data(n: int, m: int = 10, s: int = 5, classes: int = 10, seed: int = 0):
    """Integer factors (``classes`` values each) and latents: latent i < s follows factor i, the
    others mix factors; ``(x_train, v_train, x_test, v_test)`` with n and n/2 rows."""
    rng = np.random.default_rng(seed)
    mix = np.zeros((s, m))
    mix[np.arange(s), np.arange(s)] = 1.0
    mix[:, s:] = 0.5 * rng.standard_normal((s, m - s))
    out = []
    for rows in (n, n // 2):
        v = rng.integers(0, classes, size=(rows, s)).astype(np.float64)
        x = (v - (classes - 1) / 2) / (classes / 3.5) @ mix + 0.3 * rng.standard_normal((rows, m))
        out += [x, v]
    return tuple(out)


def _best(fn, repeats):
    """``(best wall seconds, CPU seconds of that run, result)`` over ``repeats`` runs."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, out


@dataclass(frozen=True)
class SAPRow:
    n: int
    ours_s: float
    disent_s: float | None
    dlib_s: float
    ours_cpu: float
    disent_cpu: float | None
    dlib_cpu: float
    max_matrix_diff: float       # max |S_ours - S_ref| over the references run
    score_diff: float


@dataclass(frozen=True)
class DCIRow:
    n: int
    seed: int
    impl: str                    # "ours gbt", "ours hist", "disent gbt", "disentanglement_lib gbt"
    seconds: float
    cpu_seconds: float
    d: float
    c: float
    informativeness_test: float
    corr_to_reference: float | None     # Pearson correlation of importances with the reference trees
    d_diff: float | None
    c_diff: float | None


def bench_metrics(sap_sizes=SAP_SIZES, dci_sizes=DCI_SIZES, dci_reference_sizes=DCI_REFERENCE_SIZES,
                  seeds=(0, 1), repeats: int = 3, progress=None):
    """Run the benchmark; ``(sap_rows, dci_rows, info)`` (``progress``: called with a line)."""
    from lingauss.metrics import registry, standard_dci, standard_sap

    say = progress or (lambda line: None)
    disent, ver = load_disent()
    info = {"disent": ver if disent is not None else None, "disent_note": None if disent else ver,
            "load_start": os.getloadavg()}
    sap_rows = []
    for n in sap_sizes:
        say(f"SAP N={n}")
        x, v = sap_data(n)
        xt, vt = np.ascontiguousarray(x.T), np.ascontiguousarray(v.T)
        ours_s, ours_c, ours = _best(lambda: standard_sap(x, v, discrete_factors=False), repeats)
        dlib_s, dlib_c, dlib = _best(lambda: reference_sap_matrix(x, v), repeats)
        diffs = [np.max(np.abs(ours.matrix - dlib))]
        srt = np.sort(dlib, axis=0)
        sdiff = [abs(ours.score - float(np.mean(srt[-1] - srt[-2])))]
        dis_s = dis_c = None
        if disent is not None:
            dis_s, dis_c, dis = _best(lambda: disent._compute_sap(xt, vt, xt, vt, True)["sap.score"], repeats)
            diffs.append(np.max(np.abs(ours.matrix - disent._compute_score_matrix(xt, vt, xt, vt, True))))
            sdiff.append(abs(ours.score - dis))
        sap_rows.append(SAPRow(n, ours_s, dis_s, dlib_s, ours_c, dis_c, dlib_c, float(max(diffs)),
                               float(max(sdiff))))
    dci_rows = []
    backends = registry()["dci"].backends
    for n in dci_sizes:
        for seed in seeds:
            x_tr, v_tr, x_te, v_te = dci_data(n, seed=seed)
            ref = None
            impls = []
            if n in dci_reference_sizes:
                impls.append(("disentanglement_lib gbt", None))
                if disent is not None:
                    impls.append(("disent gbt", None))
            impls += [(f"ours {b}", b) for b in backends
                      if b != "gbt" or n in dci_reference_sizes]
            for label, backend in impls:
                say(f"DCI N={n} seed={seed} {label}")
                t0, c0 = time.perf_counter(), time.process_time()
                if backend is not None:
                    r = standard_dci(x_tr, v_tr, test=(x_te, v_te), backend=backend, rng=seed)
                    imp, d, c, inf = r.importance_matrix, r.disentanglement, r.completeness, \
                        r.informativeness_test
                else:
                    from lingauss.metrics import dci_completeness, dci_disentanglement
                    if label.startswith("disent "):
                        imp, _, inf = disent._compute_importance_gbt(x_tr.T, v_tr.T, x_te.T, v_te.T)
                        d, c = float(disent._disentanglement(imp)), float(disent._completeness(imp))
                    else:
                        imp, _, inf = reference_dci(x_tr, v_tr, x_te, v_te, seed)
                        d, c = dci_disentanglement(imp), dci_completeness(imp)
                secs, cpu = time.perf_counter() - t0, time.process_time() - c0
                if ref is None and backend is None:
                    ref = (imp, d, c)
                corr = dd = dc = None
                if ref is not None:
                    corr = float(np.corrcoef(imp.ravel(), ref[0].ravel())[0, 1])
                    dd, dc = float(d - ref[1]), float(c - ref[2])
                dci_rows.append(DCIRow(n, seed, label, secs, cpu, float(d), float(c), float(inf), corr, dd, dc))
    info["load_end"] = os.getloadavg()
    return sap_rows, dci_rows, info


def format_metrics(sap_rows, dci_rows, info) -> str:
    """The printed tables (times in seconds; ratio = reference time / ours, > 1: ours faster)."""
    la = " ".join(f"{x:.2f}" for x in info["load_start"])
    lb = " ".join(f"{x:.2f}" for x in info["load_end"])
    out = [f"sample metrics: ours vs the reference implementations on the same arrays "
           f"(best of the repeats); load average {la} at the start, {lb} at the end",
           f"disent: {info['disent'] or info['disent_note']}; disentanglement_lib: its formulas "
           f"re-implemented here (numpy / scikit-learn)",
           "", "SAP, continuous factors (m = 10 latents, s = 10 factors; disent continuous_factors=True)",
           "times: wall seconds (CPU seconds of the same run in brackets); ratio = reference / ours",
           f"{'N':>8} {'ours':>17} {'disent':>17} {'ratio':>6} {'d-lib':>17} {'ratio':>6} "
           f"{'max|dS|':>9} {'|dSAP|':>9}"]
    for r in sap_rows:
        dis = f"{r.disent_s:8.4f} ({r.disent_cpu:6.4f}) {r.disent_s / r.ours_s:6.1f}" \
            if r.disent_s is not None else f"{'-':>17} {'-':>6}"
        out.append(f"{r.n:>8} {r.ours_s:8.4f} ({r.ours_cpu:6.4f}) {dis} {r.dlib_s:8.4f} ({r.dlib_cpu:6.4f}) "
                   f"{r.dlib_s / r.ours_s:6.1f} "
                   f"{r.max_matrix_diff:9.1e} {r.score_diff:9.1e}")
    out += ["", "DCI (m = 10 latents, s = 5 factors of 10 classes, N train + N/2 test); corr, dD, dC: "
            "against the reference trees (disentanglement_lib formula) of the same N and seed",
            f"{'N':>7} {'seed':>4} {'implementation':<24} {'wall s':>8} {'cpu s':>8} {'D':>7} {'C':>7} {'inf test':>8} "
            f"{'corr':>6} {'dD':>8} {'dC':>8}"]
    for r in dci_rows:
        agree = f"{r.corr_to_reference:6.3f} {r.d_diff:+8.4f} {r.c_diff:+8.4f}" \
            if r.corr_to_reference is not None else f"{'-':>6} {'-':>8} {'-':>8}"
        out.append(f"{r.n:>7} {r.seed:>4} {r.impl:<24} {r.seconds:8.2f} {r.cpu_seconds:8.2f} {r.d:7.4f} {r.c:7.4f} "
                   f"{r.informativeness_test:8.4f} {agree}")
    by = {}
    for r in dci_rows:
        by.setdefault((r.n, r.impl), []).append(r.seconds)
    ref_t = {n: np.mean(t) for (n, impl), t in by.items() if impl == "disentanglement_lib gbt"}
    for (n, impl), t in by.items():
        if impl.startswith("ours") and n in ref_t:
            out.append(f"DCI N={n}: {impl} {np.mean(t):.2f} s vs reference trees {ref_t[n]:.2f} s "
                       f"(ratio {ref_t[n] / np.mean(t):.1f})")
    return "\n".join(out)

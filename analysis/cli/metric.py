"""``lingauss metric``: every registered metric of a joint covariance (.npy) or of latent/factor samples."""

from __future__ import annotations

import json

from ._errors import UserError, hard_interrupt
from ._files import check_sample_shapes, load_array
from ._options import add_seed, check_truth, shrinkage, truth


def cmd_metric(args) -> int:
    import lingauss as lg
    from lingauss.metrics.metric_registry import (evaluate_metrics, extras_text, metric_names, registry,
                                                  result_record)

    groups = truth(args.truth) if args.truth else None
    options = {"im": {"method": args.method, "time_limit": args.time_limit, "progress": True}}
    if args.samples and args.cov is not None:
        raise UserError(f"give either a covariance file ({args.cov}) or --samples, not both")
    if args.samples:
        latents, factors = (load_array(f, w) for f, w in zip(args.samples, ("latents", "factors")))
        check_sample_shapes(latents, factors)
        shrink = shrinkage(args.shrinkage)
        wanted = metric_names("covariance", "samples")
        m = latents.shape[1] if latents.ndim == 2 else 1
        source = {"input": "samples", "rows": int(latents.shape[0]) if latents.ndim else 0,
                  "latents": m, "factors": int(factors.shape[1]) if factors.ndim == 2 else 1,
                  "shrinkage": args.shrinkage}
        kwargs = {"latents": latents, "factors": factors, "shrinkage": shrink, "rng": args.seed}
    else:
        if args.cov is None or args.latents is None:
            raise UserError("give a covariance file with --latents M, or --samples LATENTS FACTORS")
        cov, m = load_array(args.cov, "covariance"), args.latents
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise UserError(f"covariance file {args.cov} holds a {cov.ndim}-D array of shape "
                            f"{' x '.join(map(str, cov.shape))}; expected a square 2-D matrix, the "
                            f"(m+s) x (m+s) joint covariance (for samples, use --samples LATENTS "
                            f"FACTORS)")
        wanted = metric_names("covariance")
        source = {"input": "covariance", "file": args.cov,
                  "variables": int(cov.shape[0]) if cov.ndim else 0, "latents": m}
        kwargs = {"joint_cov": cov, "n_latents": m}
    if groups is not None:
        n_factors = (int(factors.shape[1]) if factors.ndim == 2 else 1) if args.samples else \
            (cov.shape[0] - m if cov.ndim == 2 else 0)
        check_truth(groups, n_factors)
    names = tuple(n for n in wanted if registry()[n].available)
    skipped = [n for n in wanted if n not in names]
    with hard_interrupt():                           # the I_m kernel does not see Ctrl-C
        results = evaluate_metrics(names=names, options=options, **kwargs)
    success = {}
    if groups is not None:
        success = {"im": lg.im_success(results["im"], groups).outcome,
                   "sap": lg.sap_success(results["sap"], groups).outcome}
    if args.json:
        source["numbering"] = "factors and latents from 1, as in --truth and the tables"
        print(json.dumps({"source": source,
                          "metrics": {n: _one_based(result_record(n, r)) for n, r in results.items()},
                          "success": success, "skipped": skipped}, indent=2))
        return 0
    from ..evaluate import grouping_text

    print(", ".join(f"{k} {v}" for k, v in source.items())
          + "; factors and latents are numbered from 1, as in --truth")
    print(f"{'metric':<22}{'score':>12}  {'units':<24}details")
    for name, res in results.items():
        spec = registry()[name]
        details = extras_text(name, res, number_format=".6g")
        if name == "im":
            details.append(f"latent per factor {[int(j) + 1 for j in res.assignment]}, ties {res.ties}"
                           f"{', AMBIGUOUS' if res.ambiguous else ''}, method {_method_text(args.method, res.method)}")
            if not res.exact:
                details.append(f"NOT EXACT (time limit): the maximum is at most {res.bound:.6g}")
        if name == "sap":
            details.append(f"top latent per factor {[int(j) + 1 for j in res.top_latent]}")
        print(f"{spec.label:<22}{res.score:>12.6g}  {spec.units:<24}{'; '.join(details)}")
    if skipped:
        print(f"not computed (needs scikit-learn, the 'metrics' extra): {', '.join(skipped)}")
    if groups is not None:
        print(f"success against {grouping_text(lg.canonical_grouping(groups))}: "
              f"I_m {success['im']}, SAP {success['sap']}")
    return 0


def _method_text(asked: str, used: str) -> str:
    """The I_m search in the words of ``--method``: ``exact`` and ``partition`` name one search."""
    if used == "partition":
        return f"{'partition' if asked == 'partition' else 'exact'} (partition branch-and-bound)"
    return f"{used} (chosen by auto)" if asked == "auto" else used


def _one_based(record: dict) -> dict:
    """A JSON metric record with its grouping numbered from 1, as the tables and --truth are."""
    if "grouping" in record:
        record = {**record, "grouping": [[j + 1 for j in block] for block in record["grouping"]]}
    return record


def add_parser(sub) -> None:
    from lingauss.metrics.im import _METHODS as IM_METHODS     # the I_m searches, as declared

    mt = sub.add_parser("metric", help="every metric of a joint covariance or of samples",
                        description="Print every registered metric the input allows, as a table or "
                                    "JSON. Either COV.npy (the latents-first joint covariance of "
                                    "[latents; factors]) with --latents M: I_m, SAP, Gaussian MIG; "
                                    "or --samples LATENTS.npy FACTORS.npy (N x m and N x s arrays): "
                                    "those on the sample covariance plus MIG, classifier SAP, DCI "
                                    "and modularity/explicitness (the last three need scikit-learn).")
    mt.add_argument("cov", nargs="?", help="joint covariance .npy file, latents first")
    mt.add_argument("--latents", type=int, help="number of latents m (with a covariance file)")
    mt.add_argument("--samples", nargs=2, metavar=("LATENTS", "FACTORS"), help="sample arrays (.npy)")
    mt.add_argument("--shrinkage", default="none",
                    help="with --samples: none, ledoit_wolf or a number in [0, 1], applied to the "
                         "correlation matrix (default none)")
    mt.add_argument("--method", choices=list(IM_METHODS), default="auto",
                    help="I_m search (default auto)")
    mt.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="stop the I_m search after this long and report the best assignment found "
                         "with a certified upper bound (default: none, exact)")
    add_seed(mt, help="seed of the classifier-based metrics (default 0)")
    mt.add_argument("--truth", help="true grouping, 1-based, blocks separated by | (e.g. '1,2|3')")
    mt.add_argument("--json", action="store_true", help="print JSON instead of a table")
    mt.set_defaults(func=cmd_metric)

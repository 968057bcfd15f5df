"""``lingauss reproduce``: the success-rate tables of Vu et al. (2024), ours next to the published
ones, with the protocol, null baselines, a sensitivity table and figures."""

from __future__ import annotations

import sys
from pathlib import Path

from ._errors import UserError
from ._options import (FAMILY_HELP, add_decoder_noise, add_out, add_protocol_options, executor, figure_formats,
                       protocol_from)


def cmd_reproduce(args) -> int:
    from ..reproduction import reproduce

    protocol = protocol_from(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    try:
        rep = reproduce(protocol, seeds=args.seeds, sizes=args.size, sensitivity=args.sensitivity,
                        baselines=not args.no_baselines, executor=executor(args),
                        n_workers=args.workers, out=out, figures=not args.no_figures,
                        progress=not args.quiet, show=args.show,
                        landscape_point=tuple(args.landscape_point), formats=args.formats)
    except OSError as exc:
        raise UserError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(rep.text)
    kept = f"; {rep.kept_figures} figures unchanged, kept" if rep.kept_figures else ""
    print(f"wrote {len(rep.files) - rep.kept_figures} files to {out}/ (report.md, comparison.csv, sweep.csv"
          f"{', figures/' if not args.no_figures and not rep.kept_figures else ''}){kept}")
    if rep.errors:
        print(f"error: {rep.error_summary()}: rerun the same command", file=sys.stderr)
        return 1
    return 0


def add_parser(sub) -> None:
    from ..reproduction import DEFAULT_OUT, SENSITIVITY_LEVELS

    r = sub.add_parser("reproduce", help="the success-rate tables of Vu et al. (2024), ours vs published (main job)",
                       description="Reproduce the success-rate tables of Vu, Wei & Wan (2024), 'Investigating Disentanglement in beta-VAE within a Linear Gaussian Setting': BA on the 25 (gamma, "
                                   "lambda) pairs for the six scenarios, the 5 % reconstruction "
                                   "tolerance, I_m and SAP success rates next to the published "
                                   "ones, null baselines, a sensitivity table over the protocol "
                                   "choices, and figures. Solved points are stored in "
                                   "OUT/sweep.jsonl, so a rerun reuses them.")
    add_out(r, default=DEFAULT_OUT, help="output folder (default ./%(default)s)")
    add_decoder_noise(r, with_all=False, default="full",
                      help=f"decoder-noise family of Sigma_Z: {FAMILY_HELP} (default %(default)s: the update of Vu et al. 2024)")
    add_protocol_options(r)
    r.add_argument("--sensitivity", choices=SENSITIVITY_LEVELS, default="quick",
                   help="sensitivity table: none, quick (re-readings + cheap re-runs) or full "
                        "(adds the other families, init and noise level) (default %(default)s)")
    r.add_argument("--no-baselines", action="store_true", help="skip the null baselines")
    r.add_argument("--no-figures", action="store_true", help="skip the figures")
    r.add_argument("--show", action="store_true", help="also show each figure interactively")
    r.add_argument("--formats", type=figure_formats, default=("png",), metavar="LIST",
                   help="figure file formats, comma-separated among png, pdf, svg (default png; "
                        "png,pdf adds the vector versions)")
    r.add_argument("--landscape-point", type=float, nargs=2, default=[1.0, 0.0], metavar=("GAMMA", "LAMBDA"),
                   help="grid point (nearest) whose I_m landscape is plotted (default 1 0)")
    r.set_defaults(func=cmd_reproduce)

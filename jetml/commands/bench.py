"""``jetml bench --models DIR --file PFNANO``: the timing table on the real CMS networks."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="time the real CMS taggers: CMSSW-style evaluation vs jetml",
        description="Measure DeepAK8, DeepAK8-MD, DeepJet, DeepDoubleX and ParticleNet-AK8 ms "
        "per jet and per event, CMSSW-style (one jet or event per call, model as shipped) vs "
        "jetml (repaired models, batches / length buckets, shared session), plus ParticleNet "
        "padding strategies and ONNX Runtime optimisation levels; prints markdown.",
    )
    parser.add_argument(
        "--models",
        required=True,
        metavar="DIR",
        help="folder with deepak8_v02/, deepjet_v03/, deepdoublex_v02/, particlenet_ak8_v01/",
    )
    parser.add_argument(
        "--file", required=True, metavar="PFNANO", help="PFNano file giving jets and multiplicities"
    )
    parser.add_argument("--jets", type=int, default=480, help="jets per measurement (480)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--output", metavar="FILE", help="also write the markdown to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Measure and print the tables."""
    from jetml.cms.timing import timing_report
    from jetml.errors import ConfigError
    from jetml.outputs import check_output_path, write_text_atomically

    if args.jets < 1 or args.repeats < 1:
        raise ConfigError("bench: --jets and --repeats must be >= 1")
    output = Path(args.output) if args.output else None
    if output is not None:
        check_output_path(output, overwrite=True)  # before minutes of benchmarking
    report = timing_report(args.models, args.file, n_jets=args.jets, repeats=args.repeats)
    print(report)
    if output is not None:
        write_text_atomically(output, report + "\n")
    return 0

"""``jetml crosscheck FILE --models DIR``: jetml's ParticleNet scores vs CMSSW's, on real PFNano."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``crosscheck`` subcommand."""
    parser = subparsers.add_parser(
        "crosscheck",
        help="reproduce CMSSW's ParticleNet scores stored in a PFNano file",
        description="Run the official ParticleNet-AK8 V01 and MD-2prong V01 models through "
        "jetml's features and inference on every AK8 jet above 200 GeV, compare with the "
        "FatJet_particleNet_*/particleNetMD_* branches CMSSW stored, and exit 1 unless every "
        "score has >= 90% of jets within 0.01 and none beyond 0.05.",
    )
    parser.add_argument(
        "file", metavar="FILE", help="PFNano ROOT file with stored ParticleNet scores"
    )
    parser.add_argument(
        "--models",
        required=True,
        metavar="DIR",
        help="folder holding particlenet_ak8_v01/ and particlenet_ak8_md_v01/ "
        "(model.onnx + preprocess.json each)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the comparison table; 0 when every score meets the target, 1 otherwise."""
    from rich.console import Console
    from rich.table import Table

    from jetml.cms.crosscheck import MAX_DIFFERENCE, REQUIRED_FRACTION, TOLERANCE, crosscheck

    result = crosscheck(args.file, args.models)
    table = Table(
        title=f"ParticleNet crosscheck: {result.path.name}, {result.n_jets} AK8 jets "
        f"({result.n_complete} with complete PFNano inputs)"
    )
    for column in (
        "stored CMSSW score",
        "jets",
        f"|Δ|≤{TOLERANCE}",
        f"|Δ|≤{TOLERANCE} (complete)",
        "max |Δ|",
        "target",
    ):
        table.add_column(
            column, justify="left" if column in ("score", "stored branch") else "right"
        )
    for c in result.comparisons:
        table.add_row(
            c.branch,
            str(c.n_jets),
            f"{c.fraction_within:.1%}",
            f"{c.fraction_within_complete:.1%}",
            f"{c.max_abs:.4f}",
            "[green]ok[/green]" if c.passed else "[red]FAIL[/red]",
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(
        f"target: >= {REQUIRED_FRACTION:.0%} of jets within {TOLERANCE} and none beyond "
        f"{MAX_DIFFERENCE}, for every score; 'complete' = jets without a charged candidate "
        "lacking track details (PFNano does not store its dz/dxy)."
    )
    return 0 if result.passed else 1

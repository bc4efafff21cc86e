"""``jetml inspect FILE...``: events, collections and tagger input groups of NanoAOD files."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help="summarise NanoAOD/PFNano files",
        description="Print events, collections with mean multiplicities and the tagger input "
        "groups (PF candidates and SVs per jet, taus, leptons) of NanoAOD/PFNano ROOT files.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="NanoAOD or PFNano ROOT files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Summarise every file; stop at the first bad one with a one-line error."""
    from rich.console import Console

    from jetml.inspect import render, summarize

    console = Console()
    for path in args.files:
        render(summarize(path), console)
    return 0

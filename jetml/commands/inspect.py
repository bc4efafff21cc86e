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
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="NanoAOD or PFNano ROOT files (Events as TTree or RNTuple), or root:// / http(s):// "
        "URLs",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Summarise every file; stop at the first bad one with a one-line error."""
    from rich.console import Console

    from jetml.inspect import render, summarize

    console = Console()
    errors = Console(stderr=True)
    for path in args.files:
        summary = summarize(path)
        if summary.missing_event_ids:
            errors.print(
                f"[yellow]warning:[/] {path}: no {', '.join(summary.missing_event_ids)} branch "
                "(event IDs); read anyway, tagging jets does not need them",
                highlight=False,
                soft_wrap=True,
            )
        render(summary, console)
    return 0

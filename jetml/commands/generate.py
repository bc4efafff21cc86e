"""``jetml generate``: write an open simulated PFNano sample for one preset."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` parser."""
    parser = subparsers.add_parser(
        "generate",
        help="generate an open simulated sample (Pythia 8 + CMS-like detector) as PFNano",
        description=(
            "Generate PRESET with Pythia 8, pass it through the CMS-like detector model, "
            "cluster and label jets, and write a PFNano ROOT file. Same arguments give the same "
            "content, whatever --jobs is."
        ),
    )
    parser.add_argument("preset", metavar="PRESET", help="physics preset (see docs/samples.md)")
    parser.add_argument("--events", "-n", type=int, required=True, help="number of events")
    parser.add_argument("--seed", type=int, required=True, help="random seed (>= 0)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--out", "-o", type=Path, required=True, help="output ROOT file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--no-mpi", action="store_true", help="switch multiparton interactions off")
    parser.add_argument(
        "--pthat-min",
        type=float,
        default=None,
        help="override the preset's PhaseSpace:pTHatMin (GeV)",
    )
    parser.add_argument(
        "--pileup",
        type=float,
        default=None,
        metavar="MU",
        help="mean number of premixed pileup interactions (default: the preset's, see "
        "docs/samples.md; 0 for none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the arguments, generate with a progress bar, print the output path."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from jetml.samples.minbias import ensure_library, library_path, load_library
    from jetml.samples.production import GenerationRequest, check_jobs, produce
    from jetml.samples.writer import check_output_path

    request = GenerationRequest(
        args.preset,
        args.events,
        args.seed,
        mpi=not args.no_mpi,
        pthat_min=args.pthat_min,
        pileup=args.pileup,
    )
    request.validate()
    check_jobs(args.jobs)
    check_output_path(args.out, overwrite=args.overwrite)
    if request.mu > 0 and library_path(request.minbias_events).is_file():
        load_library(request.minbias_events)  # a corrupt cached library: one line, before any bar
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        if request.mu > 0 and not library_path(request.minbias_events).is_file():
            library = progress.add_task("min-bias library", total=request.minbias_events, rate="")
            ensure_library(request.minbias_events, lambda n: progress.advance(library, n))
        task = progress.add_task(args.preset, total=args.events, rate="")

        def advance(n: int) -> None:
            progress.advance(task, n)
            elapsed = progress.tasks[task].elapsed or 0.0
            done = progress.tasks[task].completed
            if elapsed > 0:
                progress.update(task, rate=f"{done / elapsed:.1f} events/s")

        path = produce(
            request, args.out, jobs=args.jobs, overwrite=args.overwrite, on_progress=advance
        )
    print(path)
    return 0

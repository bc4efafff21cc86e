"""``jetml run INPUTS...``: apply taggers to NanoAOD/PFNano files on any coffea executor."""

from __future__ import annotations

import argparse
from pathlib import Path

EXECUTOR_CHOICES = ("iterative", "futures", "dask")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run taggers over NanoAOD/PFNano files and write histograms, timing and plots",
        description="Evaluate taggers with one shared ONNX Runtime session per process on every "
        "chunk of the inputs; write DIR/hists.coffea, DIR/summary.json, DIR/timing.json, "
        "DIR/timing.md and DIR/plots/*.png.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="ROOT files (Events as TTree or RNTuple), root:// or http(s):// URLs, globs, "
        "coffea fileset JSON, or sample preset names (qcd, ttbar_had, ...: generated into the "
        "sample cache on first use)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=1000,
        help="events of each preset-name input's sample (default 1000)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of each preset-name input's sample (default 1)"
    )
    parser.add_argument(
        "--taggers",
        default="all",
        help="'all', or comma-separated tagger names or MODULE:FACTORY import paths",
    )
    parser.add_argument("--executor", choices=EXECUTOR_CHOICES, default="iterative")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    parser.add_argument(
        "--chunksize", type=int, default=100_000, help="events per chunk (default 100000)"
    )
    parser.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="existing Dask scheduler tcp://HOST:PORT"
    )
    parser.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="skip unreadable files/chunks, finish the rest and list what was skipped",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="skip DIR/plots (faster)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Resolve inputs and taggers, run, write the outputs and print the timing table."""
    from rich.console import Console

    from jetml.processor.chunks import PresetRequest, check_chunksize, resolve_inputs
    from jetml.processor.executors import check_scheduler, check_workers, default_workers
    from jetml.processor.report import (
        check_output_dir,
        nonfinite_warning,
        timing_markdown,
        write_outputs,
    )
    from jetml.processor.runner import RunOptions, run_processor
    from jetml.taggers.registry import resolve_taggers

    console = Console(stderr=True)
    # Everything that can be checked without reading data is checked before any work (a preset
    # input may take minutes to generate).
    check_output_dir(args.out)
    check_chunksize(args.chunksize)
    if args.workers is not None:
        check_workers(args.workers)
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    taggers = resolve_taggers(args.taggers)
    presets = PresetRequest(args.events, args.seed, jobs=args.workers or default_workers())
    fileset = resolve_inputs(args.inputs, presets)
    options = RunOptions(
        executor=args.executor,
        workers=args.workers,
        chunksize=args.chunksize,
        scheduler=args.scheduler,
        skip_bad_files=args.skip_bad_files,
        progress=not args.no_progress,
    )
    result = run_processor(fileset, taggers, options)
    nonfinite = nonfinite_warning(result)
    if nonfinite:
        nonfinite += f" (per chunk in {args.out / 'summary.json'})"
    for line in [*result.input_warnings, *([nonfinite] if nonfinite else [])]:
        console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    for tagger in taggers:
        entries = sorted(result.output["skipped_taggers"][tagger.name])
        if not entries:
            continue
        why = "needs PF candidates (PFNano); " if tagger.uses_pf_candidates else ""
        files = "; ".join(
            f"{path}: missing {_shorten(missing.split(', '))}" for path, missing in entries
        )
        console.print(
            f"[yellow]warning:[/] tagger {tagger.name} skipped on {len(entries)} file(s): "
            f"{why}{files} (full list in {args.out / 'summary.json'})",
            highlight=False,
            soft_wrap=True,
        )
    for line in result.skipped:
        console.print(f"[yellow]skipped:[/] {line}", highlight=False, soft_wrap=True)
    write_outputs(result, taggers, args.out, plots=not args.no_plots)
    print(timing_markdown(result), end="")
    print(f"outputs written to {args.out}")
    return 0


def _shorten(branches: list[str], keep: int = 4) -> str:
    """The first ``keep`` branch names, then how many more."""
    shown = ", ".join(branches[:keep])
    return f"{shown} and {len(branches) - keep} more" if len(branches) > keep else shown

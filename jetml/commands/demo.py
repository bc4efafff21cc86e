"""``jetml demo``: every shipped tagger on a small mixed generated sample, with the timing table."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run every shipped tagger on a small mixed generated sample and print the timing",
        description="Take from the sample cache (or generate) ttbar_had, qcd, zh_bb and "
        "ttbar_semilep samples with fixed seeds, run the taggers with the futures executor on "
        "all cores, write DIR/hists.coffea, DIR/summary.json, DIR/timing.json, DIR/timing.md "
        "and DIR/plots/*.png, and print the timing table.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("build/demo"), metavar="DIR", help="output folder"
    )
    parser.add_argument(
        "--events", type=int, default=None, help="events in all, split over the presets (2000)"
    )
    parser.add_argument("--taggers", default="all", help="'all' (default) or names, as jetml run")
    parser.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    parser.add_argument(
        "--chunksize", type=int, default=None, help="events per chunk (default 250)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-plots", action="store_true", help="skip DIR/plots")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Get the samples, run, write the outputs and print the timing table."""
    import time

    from jetml.processor.demo import DEMO_CHUNKSIZE, DEMO_EVENTS, run_demo
    from jetml.processor.report import check_output_dir, timing_markdown, write_outputs
    from jetml.taggers.registry import resolve_taggers

    started = time.perf_counter()
    check_output_dir(args.out)  # before generating samples and running
    taggers = resolve_taggers(args.taggers)
    demo = run_demo(
        taggers,
        events=args.events or DEMO_EVENTS,
        workers=args.workers,
        chunksize=args.chunksize or DEMO_CHUNKSIZE,
        progress=not args.no_progress,
    )
    write_outputs(demo.run, taggers, args.out, plots=not args.no_plots)
    samples = ", ".join(f"{name} ({len(files)} file)" for name, files in demo.fileset.items())
    print(f"samples: {samples}; ready in {demo.sample_seconds:.1f} s")
    print(timing_markdown(demo.run), end="")
    print(f"demo finished in {time.perf_counter() - started:.1f} s; outputs written to {args.out}")
    return 0

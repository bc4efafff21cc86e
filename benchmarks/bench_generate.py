"""Sample generation speed: events/s per core per preset, and the time spent outside Pythia.

For each preset, the same events (same seed) are generated twice in this process:

1. bare ``pythia.next()`` calls, nothing read back: the generator's own cost;
2. the jetml event loop: ``nextBatch`` (bulk record extraction), detector model, jet clustering,
   substructure, secondary vertices and truth labels.

The fraction outside ``next()`` is 1 - t(1)/t(2) (goal: <= 25%). Writing the PFNano file is timed
separately (per event, including the per-file cost of uproot's TTree header); events/s/core
counts generation and writing. Times are CPU
times of this process (``time.process_time``), so other load on the machine does not distort the
ratios. Pythia initialisation and loading compiled code are excluded.
Run: ``python benchmarks/bench_generate.py [--events N] [--no-mpi] [PRESET ...]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from jetml.samples import PRESETS, DetectorModel
from jetml.samples.build import build_batch
from jetml.samples.generator import PythiaGenerator
from jetml.samples.presets import get_preset
from jetml.samples.production import BATCH_EVENTS, chunk_seeds
from jetml.samples.writer import PFNanoWriter

DEFAULT_PRESETS = ("qcd", "ttbar_had", "ww", "zh_bb", "ttbar_semilep", "dy_tautau", "w_jets")


def time_bare_next(settings: list[str], events: int) -> float:
    """CPU seconds for ``events`` bare ``next()`` calls."""
    generator = PythiaGenerator(settings)
    start = time.process_time()
    for _ in range(events):
        generator.next_only()
    return time.process_time() - start


def time_event_loop(settings: list[str], events: int, seed: int) -> tuple[float, list]:
    """CPU seconds to generate, reconstruct and label ``events`` events, and the batches.

    One warm-up batch first loads the compiled (numba) code, a once-per-process cost.
    """
    generator = PythiaGenerator(settings)
    model = DetectorModel()
    build_batch(PythiaGenerator(settings).next_events(5), model, np.random.default_rng(0))
    rng = np.random.default_rng(seed)
    batches = []
    start = time.process_time()
    done = 0
    while done < events:
        size = min(BATCH_EVENTS, events - done)
        batches.append(build_batch(generator.next_events(size), model, rng))
        done += size
    return time.process_time() - start, batches


def time_write(batches: list, out: Path) -> float:
    """CPU seconds to write the batches as one PFNano file."""
    start = time.process_time()
    with PFNanoWriter(out, {"benchmark": True}) as writer:
        first = 1
        for scalars, collections in batches:
            size = len(scalars["genWeight"])
            numbers = np.arange(first, first + size)
            writer.extend(np.ones(size), np.ones(size), numbers, scalars, collections)
            first += size
        writer.finish([])
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "presets", nargs="*", metavar="PRESET", help=f"default: {' '.join(DEFAULT_PRESETS)}"
    )
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-mpi", action="store_true")
    args = parser.parse_args()
    presets = args.presets or list(DEFAULT_PRESETS)
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        parser.error(f"unknown presets {unknown}; valid: {', '.join(sorted(PRESETS))}")
    print(
        f"{'preset':<14} {'events/s/core':>13} {'bare next/s':>11} {'outside next()':>14} "
        f"{'write ms/event':>14}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name in presets:
            seed, _ = chunk_seeds(args.seed, 0)
            settings = get_preset(name).pythia_settings(seed=seed, mpi=not args.no_mpi)
            bare = time_bare_next(settings, args.events)
            loop, batches = time_event_loop(settings, args.events, args.seed)
            write = time_write(batches, Path(folder) / f"{name}.root")
            print(
                f"{name:<14} {args.events / (loop + write):>13.1f} {args.events / bare:>11.1f} "
                f"{1.0 - bare / loop:>13.0%} {1e3 * write / args.events:>14.2f}"
            )


if __name__ == "__main__":
    main()

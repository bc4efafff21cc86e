"""Sample generation speed: events/s per core per preset without and with pileup.

For each preset, the same events (same seed) are generated three times in this process:

1. bare ``pythia.next()`` calls, nothing read back: the generator's own cost;
2. the jetml event loop at mu = 0: ``nextBatch`` (bulk record extraction), detector model,
   vertices, PUPPI, rho, jet clustering, substructure, secondary vertices and truth labels;
3. the same loop with premixed pileup at the preset's default mu (or ``--pileup``).

The fraction outside ``next()`` is 1 - t(1)/t(2) (goal: <= 25%); the pileup cost ratio is
t(3)/t(2) including writing (goal: <= 2). Writing the PFNano file is timed separately (per
event, including the per-file cost of uproot's TTree header); events/s/core counts generation
and writing. Times are CPU times of this process (``time.process_time``), so other load on the
machine distorts the ratios little. Pythia initialisation, loading compiled code and building or
loading the min-bias library are excluded.
Run: ``python benchmarks/bench_generate.py [--events N] [--pileup MU] [--no-mpi] [PRESET ...]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from jetml.samples import PRESETS, DetectorModel
from jetml.samples.build import PileupSource, build_batch
from jetml.samples.generator import PythiaGenerator
from jetml.samples.minbias import MINBIAS_EVENTS, MinBiasLibrary, load_library
from jetml.samples.presets import get_preset
from jetml.samples.production import BATCH_EVENTS, chunk_seeds, pileup_rng
from jetml.samples.writer import PFNanoWriter

DEFAULT_PRESETS = ("qcd", "ttbar_had", "ww", "zh_bb", "ttbar_semilep", "dy_tautau", "w_jets")


def time_bare_next(settings: list[str], events: int) -> float:
    """CPU seconds for ``events`` bare ``next()`` calls."""
    generator = PythiaGenerator(settings)
    start = time.process_time()
    for _ in range(events):
        generator.next_only()
    return time.process_time() - start


def time_event_loop(
    settings: list[str], events: int, seed: int, mu: float, library: MinBiasLibrary | None
) -> tuple[float, list]:
    """CPU seconds to generate, mix ``mu`` pileup, reconstruct and label ``events`` events.

    One warm-up batch first loads the compiled (numba) code, a once-per-process cost.
    """
    generator = PythiaGenerator(settings)
    model = DetectorModel()
    pileup = PileupSource(mu, library, pileup_rng(seed, 0))
    warm_up = PileupSource(mu, library, np.random.default_rng(0))
    build_batch(PythiaGenerator(settings).next_events(5), model, np.random.default_rng(0), warm_up)
    rng = np.random.default_rng(seed)
    batches = []
    start = time.process_time()
    done = 0
    while done < events:
        size = min(BATCH_EVENTS, events - done)
        batches.append(build_batch(generator.next_events(size), model, rng, pileup))
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
    parser.add_argument(
        "--pileup", type=float, default=None, help="mu to compare with 0 (default: each preset's)"
    )
    parser.add_argument("--minbias-events", type=int, default=MINBIAS_EVENTS)
    args = parser.parse_args()
    presets = args.presets or list(DEFAULT_PRESETS)
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        parser.error(f"unknown presets {unknown}; valid: {', '.join(sorted(PRESETS))}")
    library = load_library(args.minbias_events)
    print(
        f"{'preset':<14} {'mu':>4} {'events/s/core':>13} {'bare next/s':>11} "
        f"{'outside next()':>14} {'write ms/event':>14} {'cost vs mu=0':>12}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name in presets:
            seed, _ = chunk_seeds(args.seed, 0)
            preset = get_preset(name)
            settings = preset.pythia_settings(seed=seed, mpi=not args.no_mpi)
            mu = preset.pileup if args.pileup is None else args.pileup
            bare = time_bare_next(settings, args.events)
            costs = []
            for value in (0.0, mu):
                loop, batches = time_event_loop(settings, args.events, args.seed, value, library)
                write = time_write(batches, Path(folder) / f"{name}_{value:g}.root")
                costs.append(loop + write)
                print(
                    f"{name:<14} {value:>4g} {args.events / (loop + write):>13.1f} "
                    f"{args.events / bare:>11.1f} {1.0 - bare / loop:>13.0%} "
                    f"{1e3 * write / args.events:>14.2f} {costs[-1] / costs[0]:>12.2f}"
                )


if __name__ == "__main__":
    main()

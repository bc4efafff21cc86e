"""The demo: a small mixed generated sample through every shipped tagger, timed.

:func:`demo_fileset` takes (or generates into the sample cache) one sample per preset of
:data:`DEMO_PRESETS`, the events split evenly, each with its own fixed seed, so every demo run
processes the same events. :func:`run_demo` runs the taggers on them with the futures executor
(one worker process per core) and writes the outputs of ``jetml run``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from jetml.errors import ConfigError
from jetml.processor.chunks import Fileset
from jetml.processor.executors import default_workers
from jetml.processor.runner import RunOptions, RunResult, run_processor
from jetml.taggers.base import Tagger

DEMO_PRESETS: dict[str, int] = {
    "ttbar_had": 101,
    "qcd": 102,
    "zh_bb": 103,
    "ttbar_semilep": 104,
}
"""Preset -> seed of its demo sample: boosted top, QCD and H->bb AK8 jets, AK4 b jets."""
DEMO_EVENTS = 2000
DEMO_CHUNKSIZE = 250


@dataclass
class DemoResult:
    """The run, and how long getting the samples took (generation on a cold cache)."""

    run: RunResult
    fileset: Fileset
    sample_seconds: float


def demo_fileset(events: int = DEMO_EVENTS, *, jobs: int = 1) -> Fileset:
    """``{preset: [cached file]}`` for every demo preset, ``events`` split evenly among them.

    Files already in the sample cache are reused; missing ones are generated with ``jobs``
    processes. Raises ConfigError when ``events`` leaves a preset without events.
    """
    import jetml.samples

    per_preset = events // len(DEMO_PRESETS)
    if per_preset < 1:
        raise ConfigError(
            f"demo: --events {events} is fewer than one event per preset "
            f"({len(DEMO_PRESETS)} presets)"
        )
    return {
        preset: [str(jetml.samples.get(preset, per_preset, seed, jobs=jobs))]
        for preset, seed in DEMO_PRESETS.items()
    }


def run_demo(
    taggers: Sequence[Tagger],
    *,
    events: int = DEMO_EVENTS,
    workers: int | None = None,
    chunksize: int = DEMO_CHUNKSIZE,
    progress: bool = True,
) -> DemoResult:
    """Get the demo samples and run ``taggers`` on them with the futures executor."""
    workers = workers or default_workers()
    started = time.perf_counter()
    fileset = demo_fileset(events, jobs=workers)
    sample_seconds = time.perf_counter() - started
    options = RunOptions(
        executor="futures", workers=workers, chunksize=chunksize, progress=progress
    )
    return DemoResult(run_processor(fileset, taggers, options), fileset, sample_seconds)

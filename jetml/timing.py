"""Inference timing of jetml's shipped taggers on real model inputs, one thread, one run.

What the inference-timing study measures, torch-free:

* :func:`tagger_inputs`: the model inputs a shipped tagger builds for the jets it selects in
  some events (exactly what the processor feeds ONNX Runtime);
* :func:`ort_cases`: ONNX Runtime batched (the tagger's :class:`~jetml.inference.OnnxModel`)
  and one jet per call (``batch_size=1``, as CMSSW's per-jet producers);
* :func:`optimisation_cases`: the same batched run at each ONNX Runtime graph optimisation level;
* :func:`measure`: each case timed in interleaved rounds (:func:`round_times`), so machine load
  hits all cases alike and their ratios stay fair; the best round is the figure, the median
  round says how much the load moved it.

The training framework's side (torch eager) is in :mod:`jetml.nn.timing`; the real CMS networks
in :mod:`jetml.cms.timing`; the read/build/ORT/fill split of a processor chunk in
:func:`jetml.processor.report.timing_rows`. Every session here uses one intra-op and one
inter-op thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import awkward as ak
import numpy as np
from threadpoolctl import threadpool_limits

from jetml.errors import ConfigError
from jetml.inference import OnnxModel
from jetml.taggers.shipped import ShippedTagger

OPTIMISATION_LEVELS = ("disable", "basic", "extended", "all")
"""ONNX Runtime graph optimisation levels (jetml deploys with ``all``)."""
ORT_BATCHED = "ORT batched"
ORT_PER_JET = "ORT 1 jet/call"


@dataclass(frozen=True)
class TaggerInputs:
    """The model inputs of one shipped tagger for the jets it selected in some events."""

    tagger: ShippedTagger
    inputs: dict[str, np.ndarray]
    events: int

    @property
    def jets(self) -> int:
        """Jets selected (rows of every input)."""
        return len(next(iter(self.inputs.values())))

    @property
    def jets_per_event(self) -> float:
        """Selected jets per event."""
        return self.jets / self.events if self.events else 0.0

    def rows(self, n: int) -> dict[str, np.ndarray]:
        """The first ``n`` jets' inputs."""
        return {name: array[:n] for name, array in self.inputs.items()}


@dataclass
class Timing:
    """Milliseconds per jet of each case for one tagger (and the jets each case ran on)."""

    tagger: str
    jets: int
    jets_per_event: float
    ms_per_jet: dict[str, float] = field(default_factory=dict)
    """Best round."""
    median_ms_per_jet: dict[str, float] = field(default_factory=dict)
    """Median round (best <= median; far above it means a loaded machine)."""
    jets_timed: dict[str, int] = field(default_factory=dict)

    def ms_per_event(self, case: str) -> float:
        """ms per event of ``case``: ms/jet x selected jets per event."""
        return self.ms_per_jet[case] * self.jets_per_event

    def ratio(self, slower: str, faster: str) -> float:
        """How many times ``faster`` beats ``slower`` (ms/jet ratio)."""
        return self.ms_per_jet[slower] / self.ms_per_jet[faster]


def tagger_inputs(tagger: ShippedTagger, events: ak.Array) -> TaggerInputs:
    """Model inputs of the jets ``tagger`` selects in ``events`` (raises ConfigError when it
    selects none: nothing to time)."""
    mask = tagger.select(events[tagger.collection])
    inputs = tagger.model_inputs(events, mask)
    built = TaggerInputs(tagger, inputs, len(events))
    if built.jets == 0:
        raise ConfigError(f"{tagger.name}: selects no jet in these events, nothing to time")
    return built


def round_times(functions: Sequence[Callable[[], object]], repeats: int) -> np.ndarray:
    """Wall seconds of each function in each of ``repeats`` interleaved rounds, shape
    ``(repeats, len(functions))``, after one warm-up call each (lazy sessions, first-call
    allocations)."""
    for function in functions:
        function()
    seconds = np.empty((repeats, len(functions)))
    for round_index in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function()
            seconds[round_index, i] = time.perf_counter() - start
    return seconds


@contextmanager
def single_thread():
    """numpy/BLAS (and OpenMP) pools limited to one thread inside the block."""
    with threadpool_limits(limits=1):
        yield


def _model_copy(tagger: ShippedTagger, **options: object) -> OnnxModel:
    model = tagger.shipped.model
    return OnnxModel(model.path, sha256=model.sha256, name=model.label, **options)


def ort_cases(
    built: TaggerInputs, per_jet_jets: int
) -> dict[str, tuple[Callable[[], object], int]]:
    """``{case: (function, jets it runs)}`` for ONNX Runtime batched and one jet per call
    (on the first ``per_jet_jets`` jets)."""
    model = built.tagger.shipped.model
    per_jet = _model_copy(built.tagger, batch_size=1)
    n = min(per_jet_jets, built.jets)
    few = built.rows(n)
    return {
        ORT_BATCHED: (lambda: model.run(built.inputs), built.jets),
        ORT_PER_JET: (lambda: per_jet.run(few), n),
    }


def optimisation_cases(built: TaggerInputs) -> dict[str, tuple[Callable[[], object], int]]:
    """``{level: (function, jets)}``: the batched run at each graph optimisation level."""
    cases = {}
    for level in OPTIMISATION_LEVELS:
        model = _model_copy(
            built.tagger, batch_size=built.tagger.shipped.model.batch_size, optimization_level=level
        )
        cases[level] = (lambda m=model: m.run(built.inputs), built.jets)
    return cases


def measure(
    built: TaggerInputs,
    cases: Mapping[str, tuple[Callable[[], object], int]],
    repeats: int,
) -> Timing:
    """ms/jet of every case (best and median of interleaved rounds, one thread), for one
    tagger."""
    if repeats < 1:
        raise ConfigError(f"repeats must be >= 1 (got {repeats})")
    names = list(cases)
    with single_thread():
        seconds = round_times([cases[name][0] for name in names], repeats)
    timing = Timing(built.tagger.name, built.jets, built.jets_per_event)
    for i, name in enumerate(names):
        jets = cases[name][1]
        timing.ms_per_jet[name] = 1e3 * float(seconds[:, i].min()) / jets
        timing.median_ms_per_jet[name] = 1e3 * float(np.median(seconds[:, i])) / jets
        timing.jets_timed[name] = jets
    return timing


def markdown_table(timings: Sequence[Timing], cases: Sequence[str], *, per_event: bool) -> str:
    """One row per tagger: ms/jet (and ms/event with ``per_event``) of each case."""
    header = ["tagger", "jets", "jets/event"]
    for case in cases:
        header.append(f"{case} ms/jet")
        if per_event:
            header.append(f"{case} ms/event")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for t in timings:
        cells = [t.tagger, str(t.jets), f"{t.jets_per_event:.2f}"]
        for case in cases:
            cells.append(f"{t.ms_per_jet[case]:.3f}")
            if per_event:
                cells.append(f"{t.ms_per_event(case):.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chunk_split_markdown(rows: Sequence[Mapping[str, object]]) -> str:
    """The read/build/ORT/fill split of a processor run (rows of
    :func:`jetml.processor.report.timing_rows`), in ms per event and as shares of the tagger's
    time."""
    lines = [
        "| tagger | events | jets | ms/event | read | build | ORT | fill |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        seconds = float(row["seconds"]) or 1.0
        shares = " | ".join(
            f"{100 * float(row[key]) / seconds:.0f}%"
            for key in ("read_s", "build_s", "ort_s", "fill_s")
        )
        lines.append(
            f"| {row['tagger']} | {row['events']} | {row['jets']} | "
            f"{float(row['ms_per_event']):.3f} | {shares} |"
        )
    return "\n".join(lines)

"""The notebook API: open events, attach tagger scores, get samples, run the processor.

Each function is a thin layer over the deployment code that ``jetml run`` uses, so a notebook
sees exactly what the command-line job computes::

    import jetml
    path = jetml.sample("ttbar_had", 500, seed=101)          # cached PFNano file
    events = jetml.open_events(path, taggers="deepak8")      # NanoEvents, only needed branches
    events = jetml.tag(events, "deepak8")                    # FatJet.jetml_deepak8_TvsQCD, ...
    result = jetml.run({"ttbar": [str(path)]}, "all")        # coffea processor, futures executor
    print(jetml.timing_markdown(result))

Torch-free: deployment only (a test checks that importing it never imports torch or jetml.nn).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import awkward as ak
import hist
import numpy as np

from jetml.errors import ConfigError
from jetml.nanoaod import events_from_tree, open_events_tree
from jetml.processor.processor import TaggerProcessor
from jetml.processor.report import sum_datasets, timing_markdown, timing_rows
from jetml.processor.runner import RunOptions, RunResult, run_processor
from jetml.samples.cache import cached_path
from jetml.samples.production import GenerationRequest, produce
from jetml.taggers.base import Tagger
from jetml.taggers.particlenet import particlenet_taggers
from jetml.taggers.registry import REGISTERED, resolve_taggers

TaggerSpec = str | Tagger | Sequence[str | Tagger]
"""``"all"``, a registered name (``"deepak8"``), ``"a,b"``, a Tagger, or a list of these."""

__all__ = [
    "TaggerSpec",
    "cms_taggers",
    "describe",
    "describe_selection",
    "histograms",
    "load_taggers",
    "open_events",
    "reference_scores",
    "run",
    "sample",
    "scores_by_truth",
    "tag",
    "timing_markdown",
    "timing_rows",
]


@cache
def _registered(name: str) -> tuple[Tagger, ...]:
    """The shipped tagger(s) of a registered name or import path, built once per process."""
    return tuple(resolve_taggers(name))


def load_taggers(spec: TaggerSpec = "all") -> list[Tagger]:
    """Tagger objects for ``spec`` (names are resolved as ``jetml run --taggers`` does)."""
    if isinstance(spec, Tagger):
        return [spec]
    items: Sequence[str | Tagger] = spec.split(",") if isinstance(spec, str) else spec
    resolved: list[Tagger] = []
    for item in items:
        if isinstance(item, Tagger):
            resolved.append(item)
        elif item.strip() == "all":
            resolved += [t for name in REGISTERED for t in _registered(name)]
        elif item.strip():
            resolved += _registered(item.strip())
    if not resolved:
        raise ConfigError(f"no tagger named in {spec!r}")
    return resolved


def cms_taggers(models_dir: str | os.PathLike[str]) -> list[Tagger]:
    """The official CMS ParticleNet-AK8 V01 and MD V01 taggers from a CMS models folder
    (``particlenet_ak8_v01/`` and ``particlenet_ak8_md_v01/``, sha256-checked)."""
    return list(particlenet_taggers(models_dir))


def open_events(
    path: str | os.PathLike[str],
    *,
    taggers: TaggerSpec | None = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
) -> ak.Array:
    """NanoEvents of a NanoAOD/PFNano file (PFNanoAODSchema when it has PF candidates).

    With ``taggers``, only the branches those taggers and their histograms read are exposed
    (what ``jetml run`` does per chunk): much faster on files with thousands of branches.
    Bad input raises :class:`jetml.InputFileError` naming the file and the cause.
    """
    tree = open_events_tree(path)
    branches = None if taggers is None else TaggerProcessor(load_taggers(taggers)).branches
    return events_from_tree(
        tree,
        entry_start=entry_start,
        entry_stop=entry_stop,
        metadata={"dataset": Path(path).stem, "filename": str(path)},
        branches=branches,
    )


def tag(events: ak.Array, taggers: TaggerSpec = "all") -> ak.Array:
    """``events`` with each tagger's scores attached as ``<collection>.jetml_<tagger>_<score>``
    (NaN for jets outside the tagger's selection), evaluated as the processor does, in this
    process's shared ONNX Runtime sessions. The fields are added to ``events`` itself (as
    coffea's field assignment does) and the same array is returned. A tagger whose inputs the
    events lack is skipped with a warning naming the missing branches."""
    tagged, report = TaggerProcessor(load_taggers(taggers)).apply_taggers(events)
    for name, entry in report.items():
        if "missing" in entry:
            warnings.warn(
                f"{name}: skipped, events lack {', '.join(entry['missing'])}",
                stacklevel=2,
            )
    return tagged


def sample(
    preset: str,
    events: int,
    seed: int,
    *,
    pileup: float | None = None,
    pthat_min: float | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> Path:
    """Path of the cached PFNano sample (``preset``, ``events``, ``seed``; ``pileup``: mean
    pileup interactions, None for the preset's default; ``pthat_min``: the hard process's
    PhaseSpace:pTHatMin in GeV, None for the preset's), generated into the sample cache
    (``$JETML_CACHE``) with a progress bar on first use: the file ``jetml.samples.get`` and
    ``jetml run PRESET`` use for the same arguments."""
    request = GenerationRequest(preset, events, seed, pthat_min=pthat_min, pileup=pileup)
    request.validate()
    path = cached_path(request)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if not progress:
        return produce(request, path, jobs=jobs, overwrite=True)
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task(f"generating {preset} ({events} events, seed {seed})", total=events)
        return produce(
            request, path, jobs=jobs, overwrite=True, on_progress=lambda n: bar.advance(task, n)
        )


def run(
    fileset: Mapping[str, Sequence[str | os.PathLike[str]]],
    taggers: TaggerSpec = "all",
    *,
    executor: str = "futures",
    workers: int | None = None,
    chunksize: int = 250,
    progress: bool = False,
) -> RunResult:
    """Run the taggers' coffea processor over ``{dataset: [files]}`` as ``jetml run`` does;
    the result holds the histograms, cutflow and the read/build/ORT/fill timings."""
    options = RunOptions(executor=executor, workers=workers, chunksize=chunksize, progress=progress)
    files = {name: [str(path) for path in paths] for name, paths in fileset.items()}
    return run_processor(files, load_taggers(taggers), options)


def histograms(result: RunResult) -> dict[str, hist.Hist]:
    """The processor's histograms of a run, summed over datasets (keys as in hists.coffea)."""
    return sum_datasets(result.output["hists"])


def _as_event_sets(events: ak.Array | Mapping[str, ak.Array]) -> list[ak.Array]:
    return list(events.values()) if isinstance(events, Mapping) else [events]


def scores_by_truth(
    events: ak.Array | Mapping[str, ak.Array], tagger: Tagger | str, score: str
) -> dict[str, np.ndarray]:
    """``{truth label: scores}`` of the jets a tagger evaluated, in tagged events (one array or
    ``{dataset: events}``), with the labels the processor histograms use (top, W, QCD... for
    AK8 taggers; b, c, light for AK4; ``unlabelled`` without truth)."""
    found = load_taggers(tagger)[0]
    parts: dict[str, list[np.ndarray]] = {}
    for tagged in _as_event_sets(events):
        jets = tagged[found.collection]
        values = ak.to_numpy(ak.flatten(jets[found.field_name(score)]))
        evaluated = ~np.isnan(values)
        labels = found.truth_labels(jets)
        flat = (
            np.full(len(values), "unlabelled")
            if labels is None
            else ak.to_numpy(ak.flatten(labels)).astype(str)
        )
        for label in np.unique(flat[evaluated]):
            parts.setdefault(str(label), []).append(values[evaluated & (flat == label)])
    return {label: np.concatenate(arrays) for label, arrays in parts.items()}


def reference_scores(
    events: ak.Array | Mapping[str, ak.Array], tagger: Tagger
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each score the file also stores a CMS value of (``tagger.reference_scores``):
    ``(jetml scores, CMS stored scores)`` of the jets the tagger evaluated."""
    pairs: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for tagged in _as_event_sets(events):
        jets = tagged[tagger.collection]
        for score, branch in tagger.reference_scores.items():
            if branch not in jets.fields:
                continue
            ours = ak.to_numpy(ak.flatten(jets[tagger.field_name(score)])).astype(np.float64)
            theirs = ak.to_numpy(ak.flatten(jets[branch])).astype(np.float64)
            keep = ~np.isnan(ours)
            entry = pairs.setdefault(score, ([], []))
            entry[0].append(ours[keep])
            entry[1].append(theirs[keep])
    return {s: (np.concatenate(a), np.concatenate(b)) for s, (a, b) in pairs.items()}


def describe_selection(tagger: Tagger) -> str:
    """The jets a tagger evaluates, for figure legends: ``"FatJet pT ≥ 300 GeV, |η| < 2.4"``
    (shipped taggers: their training selection; CMS ParticleNet: its pT threshold)."""
    selection = getattr(getattr(tagger, "shipped", None), "selection", None)
    if selection is not None:
        return f"{tagger.collection} pT ≥ {selection.pt_min:g} GeV, |η| < {selection.abs_eta_max:g}"
    min_pt = getattr(tagger, "min_pt", None)
    return f"{tagger.collection} pT > {min_pt:g} GeV" if min_pt is not None else tagger.collection


def describe(events: ak.Array) -> dict[str, Any]:
    """Events and jets per collection of ``events`` (for a notebook's data section)."""
    counts = {"events": len(events)}
    for collection in ("FatJet", "Jet", "Tau"):
        if collection in events.fields:
            counts[collection] = int(ak.sum(ak.num(events[collection].pt, axis=1)))
    return counts

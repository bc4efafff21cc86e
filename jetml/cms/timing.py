"""The timing table on the real CMS networks: CMSSW-style evaluation vs jetml, one run.

CMSSW-style means what the CMSSW producers do, in one ONNX Runtime session per model with one
intra-op and one inter-op thread and the model file as shipped:

* DeepAK8 / DeepAK8-MD (``BoostedJetONNXJetTagsProducer``, V02): one jet per call, inputs at the
  fixed 100 candidates x 7 SVs;
* ParticleNet-AK8 (same producer): one jet per call, each group padded to
  ``clamp(n, min_length, max_length)``;
* DeepJet (``DeepFlavourONNXJetTagsProducer``) and DeepDoubleX
  (``DeepDoubleXONNXJetTagsProducer``): one call per event with all its jets.

jetml: the same session options, the repaired model (weights removed from the graph inputs, see
:mod:`jetml.inference.repair`), batches across events (length buckets for ParticleNet) through
:class:`jetml.inference.OnnxModel`; for ParticleNet the time includes building the padded
inputs from jagged per-jet variables (CMSSW-style timing excludes its input building).

Inputs: ParticleNet gets its real inputs from the PFNano file's jets
(:mod:`jetml.features.cms_pfnano`).
DeepAK8, DeepJet and DeepDoubleX input definitions are not implemented in jetml; they get
realistic-shaped inputs instead: per jet the PFNano file's candidate and SV multiplicities
(resampled with a fixed seed), normal(0, 1) values in the occupied slots and zero padding.
Per-event figures use the file's jet multiplicities (AK8 jets for the AK8 taggers, AK4 jets for
DeepJet). All numbers come from the same run; each time is the best of ``repeats`` passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import onnxruntime as ort

from jetml.cms.checksums import OFFICIAL_SHA256, verify_official
from jetml.features import build_group, load_data_config
from jetml.features.cms_pfnano import cms_jet_variables, required_branches
from jetml.inference import OnnxModel
from jetml.inference.bucketing import jet_lengths, length_buckets, run_bucketed
from jetml.inference.repair import load_repaired, repair_model
from jetml.nanoaod import load_events, read_branches
from jetml.taggers.particlenet import PARTICLENET_BATCH_SIZE
from jetml.timing import round_times

SEED = 20240611
"""Seed of every random input."""


@dataclass(frozen=True)
class TimingRow:
    """One tagger's line of the table (milliseconds)."""

    tagger: str
    model: str
    inputs: str
    cmssw_style: str
    jets_per_event: float
    cmssw_ms_per_jet: float
    jetml_ms_per_jet: float

    @property
    def speedup(self) -> float:
        return self.cmssw_ms_per_jet / self.jetml_ms_per_jet

    @property
    def cmssw_ms_per_event(self) -> float:
        return self.cmssw_ms_per_jet * self.jets_per_event

    @property
    def jetml_ms_per_event(self) -> float:
        return self.jetml_ms_per_jet * self.jets_per_event


def cmssw_session(path: Path) -> ort.InferenceSession:
    """A session as CMSSW's ``cms::Ort::ONNXRuntime`` makes it: 1 + 1 threads, file as shipped."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # the shipped DeepAK8 warns about its weight inputs
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def best_times(functions: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time (seconds) of each function over ``repeats`` interleaved rounds
    (:func:`jetml.timing.round_times`: one warm-up call each, then every round calls all of them
    in turn, so a change of machine load affects all alike and the ratios stay fair)."""
    return [float(best) for best in round_times(functions, repeats).min(axis=0)]


@dataclass(frozen=True)
class PFNanoSample:
    """What the table takes from the real PFNano file: multiplicities and ParticleNet inputs."""

    ak8_per_event: float
    ak4_per_event: float
    n_pf: np.ndarray
    n_sv: np.ndarray
    particlenet_variables: dict[str, ak.Array]


def read_sample(nano_file: Path, models_dir: Path) -> PFNanoSample:
    """Jet multiplicities and the ParticleNet inputs of every AK8 jet of ``nano_file``."""
    events = load_events(nano_file)
    config = load_data_config(models_dir / "particlenet_ak8_v01" / "preprocess.json")
    # read now: a damaged basket is one line naming file, entries and branch
    read_branches(events, ["FatJet_pt", "Jet_pt", *required_branches(config.var_names)])
    variables = cms_jet_variables(events, config.var_names, events.FatJet.pt > 0)
    return PFNanoSample(
        ak8_per_event=float(np.mean(ak.num(events.FatJet.pt))),
        ak4_per_event=float(np.mean(ak.num(events.Jet.pt))),
        n_pf=ak.to_numpy(ak.num(variables["pfcand_mask"])),
        n_sv=ak.to_numpy(ak.num(variables["sv_mask"])),
        particlenet_variables=variables,
    )


def _occupied(rng: np.random.Generator, shape: tuple[int, ...], counts: np.ndarray, axis: int):
    """Normal values in the first ``counts[j]`` slots along ``axis`` of row j, zeros after."""
    values = rng.normal(0.0, 1.0, shape).astype(np.float32)
    slots = np.arange(shape[axis]).reshape([-1 if a == axis else 1 for a in range(1, len(shape))])
    keep = slots[np.newaxis] < counts.reshape((-1,) + (1,) * (len(shape) - 1))
    return np.where(keep, values, np.float32(0))


def _per_jet_rows(inputs: dict[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
    n = len(next(iter(inputs.values())))
    return [{k: v[j : j + 1] for k, v in inputs.items()} for j in range(n)]


def _per_event_rows(inputs: dict[str, np.ndarray], jets_per_event: float) -> list[dict]:
    """Split rows into events of ``round(jets_per_event)`` jets (CMSSW's per-event batches)."""
    n = len(next(iter(inputs.values())))
    size = max(1, round(jets_per_event))
    return [{k: v[s : s + size] for k, v in inputs.items()} for s in range(0, n, size)]


def _time_fixed_model(
    path: Path,
    inputs: dict[str, np.ndarray],
    cmssw_rows: list[dict[str, np.ndarray]],
    repeats: int,
    cache_dir: Path | None,
) -> tuple[float, float]:
    """(CMSSW-style, jetml) seconds per jet for a fixed-shape model."""
    n_jets = len(next(iter(inputs.values())))
    session = cmssw_session(path)
    key = f"{path.parent.name}/{path.name}"
    model = load_repaired(path, sha256=OFFICIAL_SHA256.get(key), cache_dir=cache_dir, name=key)
    cmssw, jetml = best_times(
        [lambda: [session.run(None, row) for row in cmssw_rows], lambda: model.run(inputs)],
        repeats,
    )
    return cmssw / n_jets, jetml / n_jets


def measure_table(
    models_dir: str | Path,
    sample: PFNanoSample,
    *,
    n_jets: int = 480,
    repeats: int = 3,
    cache_dir: Path | None = None,
) -> list[TimingRow]:
    """Measure every row of the timing table (see the module docstring for the protocol)."""
    models_dir = Path(models_dir)
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(sample.n_pf), n_jets)
    n_pf, n_sv = sample.n_pf[pick], sample.n_sv[pick]
    shaped = "realistic-shaped (PFNano multiplicities; CMS inputs not implemented)"
    rows: list[TimingRow] = []

    for tagger, file, n_features in (
        ("DeepAK8", "deepak8_v02/full.onnx", 42),
        ("DeepAK8-MD", "deepak8_v02/decorrelated.onnx", 36),
    ):
        inputs = {
            "pfcand": _occupied(rng, (n_jets, n_features, 100, 1), np.minimum(n_pf, 100), 2),
            "sv": _occupied(rng, (n_jets, 15, 7, 1), np.minimum(n_sv, 7), 2),
        }
        cmssw, jetml = _time_fixed_model(
            models_dir / file, inputs, _per_jet_rows(inputs), repeats, cache_dir
        )
        rows.append(
            TimingRow(
                tagger,
                file,
                shaped,
                "1 jet/call, fixed 100x7, as shipped",
                sample.ak8_per_event,
                cmssw * 1e3,
                jetml * 1e3,
            )
        )

    deepjet_inputs = {
        "input_1": rng.normal(0, 1, (n_jets, 15)).astype(np.float32),
        "input_2": _occupied(rng, (n_jets, 25, 16), np.minimum(n_pf // 2, 25), 1),
        "input_3": _occupied(rng, (n_jets, 25, 6), np.minimum(n_pf // 2, 25), 1),
        "input_4": _occupied(rng, (n_jets, 4, 12), np.minimum(n_sv, 4), 1),
        "input_5": rng.uniform(0, 50, (n_jets, 1)).astype(np.float32),
    }
    file = "deepjet_v03/model.onnx"
    cmssw, jetml = _time_fixed_model(
        models_dir / file,
        deepjet_inputs,
        _per_event_rows(deepjet_inputs, sample.ak4_per_event),
        repeats,
        cache_dir,
    )
    rows.append(
        TimingRow(
            "DeepJet",
            file,
            shaped,
            "1 event/call, fixed 25/25/4",
            sample.ak4_per_event,
            cmssw * 1e3,
            jetml * 1e3,
        )
    )

    ddx_inputs = {
        "input_1": rng.normal(0, 1, (n_jets, 1, 5)).astype(np.float32),
        "input_2": _occupied(rng, (n_jets, 60, 8), np.minimum(n_pf // 2, 60), 1),
        "input_3": _occupied(rng, (n_jets, 40, 21), np.minimum(n_pf // 2, 40), 1),
        "input_4": _occupied(rng, (n_jets, 5, 7), np.minimum(n_sv, 5), 1),
    }
    for flavour in ("BvL", "CvB", "CvL"):
        file = f"deepdoublex_v02/{flavour}.onnx"
        cmssw, jetml = _time_fixed_model(
            models_dir / file,
            ddx_inputs,
            _per_event_rows(ddx_inputs, sample.ak8_per_event),
            repeats,
            cache_dir,
        )
        rows.append(
            TimingRow(
                f"DeepDouble{flavour}",
                file,
                shaped,
                "1 event/call, fixed 60/40/5",
                sample.ak8_per_event,
                cmssw * 1e3,
                jetml * 1e3,
            )
        )

    rows.append(_time_particlenet(models_dir, sample, pick, repeats))
    return rows


def _time_particlenet(
    models_dir: Path, sample: PFNanoSample, pick: np.ndarray, repeats: int
) -> TimingRow:
    """ParticleNet-AK8 V01 on the file's real jets (resampled): per-jet vs bucketed."""
    folder = models_dir / "particlenet_ak8_v01"
    config = load_data_config(folder / "preprocess.json")
    variables = {name: sample.particlenet_variables[name][pick] for name in config.var_names}
    file = "particlenet_ak8_v01/model.onnx"
    model = OnnxModel(
        folder / "model.onnx",
        sha256=OFFICIAL_SHA256[file],
        name=file,
        batch_size=PARTICLENET_BATCH_SIZE,
    )
    # CMSSW-style: inputs built per jet beforehand (not timed), one call per jet at its length
    lengths = jet_lengths(config, variables)
    built = {
        name: build_group(variables, config.inputs[name], int(lengths[name].max()))[0]
        for name in config.input_names
    }
    per_jet = [
        {name: built[name][j : j + 1, :, : lengths[name][j]] for name in config.input_names}
        for j in range(len(pick))
    ]
    session = cmssw_session(folder / "model.onnx")
    cmssw, jetml = best_times(
        [
            lambda: [session.run(None, row) for row in per_jet],
            lambda: run_bucketed(model, config, variables),
        ],
        repeats,
    )
    mean_pf = float(np.mean(sample.n_pf[pick]))
    return TimingRow(
        "ParticleNet-AK8",
        file,
        f"real PFNano jets (mean {mean_pf:.0f} candidates)",
        "1 jet/call, padded to clamp(n,16,100)",
        sample.ak8_per_event,
        cmssw / len(pick) * 1e3,
        jetml / len(pick) * 1e3,
    )


def markdown_table(rows: list[TimingRow]) -> str:
    """The table as markdown, like the seed talk's."""
    lines = [
        "| tagger | CMSSW-style ms/jet | jetml ms/jet | speed-up | CMSSW-style ms/event "
        "| jetml ms/event | jets/event | CMSSW-style evaluation | inputs |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.tagger} | {r.cmssw_ms_per_jet:.3f} | {r.jetml_ms_per_jet:.3f} "
            f"| {r.speedup:.1f}x | {r.cmssw_ms_per_event:.2f} | {r.jetml_ms_per_event:.2f} "
            f"| {r.jets_per_event:.1f} | {r.cmssw_style} | {r.inputs} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class OptimisationRow:
    """DeepAK8 V02 batched throughput and session start-up for one model variant and level."""

    variant: str
    level: str
    ms_per_jet: float
    session_ms: float


_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def measure_optimisation(
    models_dir: str | Path,
    *,
    n_jets: int = 256,
    repeats: int = 3,
    cache_dir: Path,
) -> list[OptimisationRow]:
    """ORT graph optimisation levels, shipped vs repaired DeepAK8, and optimised-model caching.

    The last row loads a model that ONNX Runtime saved after optimising it
    (``optimized_model_filepath``), with optimisation then disabled: it shows what caching the
    optimised graph saves at session start-up.
    """
    path = Path(models_dir) / "deepak8_v02" / "full.onnx"
    repaired = repair_model(
        path, sha256=OFFICIAL_SHA256["deepak8_v02/full.onnx"], cache_dir=cache_dir
    )
    rng = np.random.default_rng(SEED)
    inputs = {
        "pfcand": _occupied(rng, (n_jets, 42, 100, 1), rng.integers(10, 100, n_jets), 2),
        "sv": _occupied(rng, (n_jets, 15, 7, 1), rng.integers(0, 7, n_jets), 2),
    }

    def session(model: Path, level: str, save_to: Path | None = None) -> tuple[object, float]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.graph_optimization_level = _LEVELS[level]
        if save_to is not None:
            options.optimized_model_filepath = str(save_to)
        start = time.perf_counter()
        sess = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        return sess, (time.perf_counter() - start) * 1e3

    variants = [
        (variant, level, *session(model, level))
        for variant, model in (("as shipped", path), ("repaired", repaired.path))
        for level in _LEVELS
    ]
    optimised = cache_dir / "deepak8_full.optimised.onnx"
    session(repaired.path, "all", save_to=optimised)
    variants.append(("repaired, saved optimised graph", "disable", *session(optimised, "disable")))
    times = best_times(
        [lambda sess=sess: sess.run(None, inputs) for _, _, sess, _ in variants], repeats
    )
    return [
        OptimisationRow(variant, level, seconds / n_jets * 1e3, start_ms)
        for (variant, level, _, start_ms), seconds in zip(variants, times, strict=True)
    ]


def optimisation_markdown(rows: list[OptimisationRow]) -> str:
    """The optimisation-level table as markdown."""
    lines = [
        "| DeepAK8 V02 model | ORT graph optimisation | ms/jet (batch) | session start ms |",
        "|---|---|---:|---:|",
    ]
    lines += [
        f"| {r.variant} | {r.level} | {r.ms_per_jet:.3f} | {r.session_ms:.0f} |" for r in rows
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class PaddingRow:
    """ParticleNet-AK8 V01 on the file's real jets with one padding/batching strategy."""

    strategy: str
    ms_per_jet: float
    padded_slots_per_jet: float


def measure_particlenet_padding(
    models_dir: str | Path, sample: PFNanoSample, *, n_jets: int = 240, repeats: int = 3
) -> list[PaddingRow]:
    """Per-jet at own length (CMSSW), per-jet and batched at 100, and length buckets."""
    models_dir = Path(models_dir)
    pick = np.random.default_rng(SEED).integers(0, len(sample.n_pf), n_jets)
    folder = models_dir / "particlenet_ak8_v01"
    config = load_data_config(folder / "preprocess.json")
    variables = {name: sample.particlenet_variables[name][pick] for name in config.var_names}
    lengths = jet_lengths(config, variables)
    full = {
        name: build_group(variables, config.inputs[name], config.inputs[name].max_length)[0]
        for name in config.input_names
    }
    session = cmssw_session(folder / "model.onnx")
    model = OnnxModel(
        folder / "model.onnx",
        sha256=OFFICIAL_SHA256["particlenet_ak8_v01/model.onnx"],
        batch_size=PARTICLENET_BATCH_SIZE,
    )
    own = [
        {name: full[name][j : j + 1, :, : lengths[name][j]] for name in config.input_names}
        for j in range(n_jets)
    ]
    padded = [{name: full[name][j : j + 1] for name in config.input_names} for j in range(n_jets)]
    pf = config.input_names[0]
    buckets = length_buckets(lengths, PARTICLENET_BATCH_SIZE)
    strategies = (
        (
            "1 jet/call at own length (CMSSW)",
            lambda: [session.run(None, r) for r in own],
            float(lengths[pf].mean()),
        ),
        ("1 jet/call padded to 100", lambda: [session.run(None, r) for r in padded], 100.0),
        ("batches padded to 100 (jetml OnnxModel)", lambda: model.run(full), 100.0),
        (
            "length buckets (jetml)",
            lambda: run_bucketed(model, config, variables),
            sum(len(b.jets) * b.lengths[pf] for b in buckets) / n_jets,
        ),
    )
    times = best_times([run for _, run, _ in strategies], repeats)
    return [
        PaddingRow(name, seconds / n_jets * 1e3, slots)
        for (name, _, slots), seconds in zip(strategies, times, strict=True)
    ]


def padding_markdown(rows: list[PaddingRow]) -> str:
    """The ParticleNet padding table as markdown (speed relative to CMSSW's per-jet way)."""
    base = rows[0].ms_per_jet
    lines = [
        "| ParticleNet-AK8 V01 evaluation | ms/jet | vs CMSSW per-jet | padded slots/jet |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.strategy} | {r.ms_per_jet:.2f} | {base / r.ms_per_jet:.2f}x "
        f"| {r.padded_slots_per_jet:.0f} |"
        for r in rows
    ]
    return "\n".join(lines)


def timing_report(
    models_dir: str | Path, nano_file: str | Path, *, n_jets: int = 480, repeats: int = 5
) -> str:
    """All three tables, measured in one run, as a markdown section."""
    import platform
    import tempfile

    verify_official(Path(models_dir))  # a swapped or damaged model: one line, before timing
    sample = read_sample(Path(nano_file), Path(models_dir))
    with tempfile.TemporaryDirectory(prefix="jetml-bench-") as tmp:
        cache = Path(tmp)
        table = measure_table(models_dir, sample, n_jets=n_jets, repeats=repeats, cache_dir=cache)
        padding = measure_particlenet_padding(
            models_dir, sample, n_jets=min(n_jets, 240), repeats=repeats
        )
        optimisation = measure_optimisation(
            models_dir, n_jets=min(n_jets, 256), repeats=repeats, cache_dir=cache
        )
    header = (
        f"Measured with onnxruntime {ort.__version__}, 1 intra-op + 1 inter-op thread, on "
        f"{platform.machine()} ({platform.processor() or 'cpu'}); {n_jets} jets, best of "
        f"{repeats} interleaved rounds."
    )
    return "\n\n".join(
        [
            header,
            markdown_table(table),
            padding_markdown(padding),
            optimisation_markdown(optimisation),
        ]
    )

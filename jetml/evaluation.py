"""The DeepAK8 studies' samples, models and measurements (notebooks 01 and 02, issue 16).

* :data:`TRAINING_SAMPLES` / :data:`EVALUATION_SAMPLES`: presets, events and seeds of the
  at-scale training set and of the independent evaluation set (own seeds, never used for
  training or standardisation); ``QUICK_*`` the small versions the notebooks' QUICK mode uses.
  ``make study-samples`` writes the at-scale files with exactly these settings (a test checks).
* :data:`STUDY_MODELS`: each study model as the ``jetml train`` arguments that make it (the
  same for ``make study-models`` and the notebooks' QUICK trainings, which only add
  ``--epochs``/``--max-jets``).
* :func:`jet_table`: flat per-jet arrays of the evaluation selection (400-1200 GeV, |η| < 2.4):
  truth category, pT, m_SD, the traditional taggers (:mod:`jetml.substructure`) and the
  discriminants of any DeepAK8-family model folders.
* :func:`performance_by_pt`: AUC and 1/εB with uncertainties per pT bin (:mod:`jetml.metrics`).

Torch-free (part of the notebook API).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
from numpy.typing import ArrayLike

from jetml.decorrelation import Sculpting, mass_sculpting
from jetml.labels import DEEPAK8_CLASSES
from jetml.metrics import Estimate, Rejection, performance, rejection_at, roc_curve
from jetml.substructure import subjet_pair_significance, traditional_scores


@dataclass(frozen=True)
class SampleSpec:
    """One generated sample: ``jetml generate PRESET --events N --seed S [--pthat-min P]``."""

    preset: str
    events: int
    seed: int
    pthat_min: float | None = None
    """PhaseSpace:pTHatMin in GeV (None: the preset's)."""


TRAINING_SAMPLES: dict[str, SampleSpec] = {
    "qcd": SampleSpec("qcd", 40000, 201),
    "ttbar_had": SampleSpec("ttbar_had", 15000, 202),
    "ww": SampleSpec("ww", 12000, 203),
    "zz": SampleSpec("zz", 12000, 204),
    "zh_bb": SampleSpec("zh_bb", 20000, 205),
    "zh_cc": SampleSpec("zh_cc", 20000, 206),
}
"""At-scale training samples (≥ 150 k labelled AK8 jets with pT ≥ 300 GeV, see docs/studies.md)."""
EVALUATION_PTHAT_MIN = 350.0
"""pTHatMin of the evaluation samples (GeV; the presets' 300, ttbar_had's 400 kept): twice the
jets per event in 400-1200 GeV of the presets' threshold (docs/studies.md)."""
EVALUATION_SAMPLES: dict[str, SampleSpec] = {
    "qcd": SampleSpec("qcd", 60000, 901, EVALUATION_PTHAT_MIN),
    "ttbar_had": SampleSpec("ttbar_had", 32000, 902),
    "ww": SampleSpec("ww", 24000, 903, EVALUATION_PTHAT_MIN),
    "zz": SampleSpec("zz", 24000, 904, EVALUATION_PTHAT_MIN),
    "zh_bb": SampleSpec("zh_bb", 58000, 905, EVALUATION_PTHAT_MIN),
    "zh_cc": SampleSpec("zh_cc", 54000, 906, EVALUATION_PTHAT_MIN),
}
"""At-scale evaluation samples: ≥ 50 k QCD and ≥ 20 k jets of each signal class in the
evaluation selection (sizes from the measured jets per event, docs/studies.md)."""
QUICK_TRAINING_SAMPLES: dict[str, SampleSpec] = {
    name: SampleSpec(spec.preset, 300 if name == "qcd" else 100, spec.seed)
    for name, spec in TRAINING_SAMPLES.items()
}
QUICK_EVALUATION_SAMPLES: dict[str, SampleSpec] = {
    name: SampleSpec(spec.preset, 300 if name == "qcd" else 100, spec.seed, spec.pthat_min)
    for name, spec in EVALUATION_SAMPLES.items()
}

STUDY_MODELS: dict[str, tuple[str, ...]] = {
    "ablation_kin": ("deepak8", "--inputs", "kin"),
    "ablation_kinpid": ("deepak8", "--inputs", "kinpid"),
    "ablation_full": ("deepak8", "--inputs", "full"),
    "md_lam0": ("deepak8_md", "--lam", "0"),
    "md_lam0p3": ("deepak8_md", "--lam", "0.3"),
    "md_lam1": ("deepak8_md", "--lam", "1"),
    "md_lam3": ("deepak8_md", "--lam", "3"),
    "disco_lam1": ("deepak8_disco", "--lam", "1"),
    "disco_lam3": ("deepak8_disco", "--lam", "3"),
    "disco_lam10": ("deepak8_disco", "--lam", "10"),
}
"""Study model name -> ``jetml train`` tagger and options (besides data, output and the
common settings :data:`STUDY_TRAIN_FLAGS`). The ablation trio differs only in ``--inputs``;
``ablation_full`` is the nominal of the decorrelation study (same network and data)."""
STUDY_TRAIN_FLAGS: tuple[str, ...] = (
    "--width", "0.25", "--seed", "1", "--split-seed", "1", "--epochs", "10", "--no-progress",
)  # fmt: skip
"""Settings shared by every study training (``--epochs`` is lowered in QUICK mode)."""
ABLATION_MODELS = ("ablation_kin", "ablation_kinpid", "ablation_full")
NOMINAL_MODEL = "ablation_full"
MD_MODELS = ("md_lam0", "md_lam0p3", "md_lam1", "md_lam3")
DISCO_MODELS = ("disco_lam1", "disco_lam3", "disco_lam10")
DECORRELATION_MODELS = (NOMINAL_MODEL, *MD_MODELS, *DISCO_MODELS)


def generate_command(name: str, spec: SampleSpec, folder: str) -> list[str]:
    """``jetml generate`` arguments writing ``spec`` to ``folder/<name>.root``."""
    threshold = [] if spec.pthat_min is None else ["--pthat-min", f"{spec.pthat_min:g}"]
    return [
        "generate", spec.preset, "--events", str(spec.events), "--seed", str(spec.seed),
        *threshold, "--out", f"{folder}/{name}.root", "--overwrite",
    ]  # fmt: skip


def study_train_command(
    name: str,
    data: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    epochs: int | None = None,
    max_jets: int | None = None,
) -> list[str]:
    """``jetml train`` arguments making study model ``name`` in ``out`` from ``data``
    (:data:`STUDY_MODELS`, :data:`STUDY_TRAIN_FLAGS`; ``epochs``/``max_jets`` override for
    QUICK runs)."""
    tagger, *options = STUDY_MODELS[name]
    flags = list(STUDY_TRAIN_FLAGS)
    if epochs is not None:
        flags[flags.index("--epochs") + 1] = str(epochs)
    if max_jets is not None:
        flags += ["--max-jets", str(max_jets)]
    words = ["train", tagger, *options, "--data", *map(str, data), "--out", str(out)]
    return [*words, "--name", name, *flags]


SIGNALS: dict[str, tuple[str, ...]] = {
    "top": ("Top_bcq", "Top_bqq"),
    "W": ("W_cq", "W_qq"),
    "Z": ("Z_bb", "Z_cc", "Z_qq"),
    "Hbb": ("H_bb",),
    "Hcc": ("H_cc",),
}
"""Evaluation truth categories (fully merged tops only); the rest of the DeepAK8 classes but
QCD (partially merged tops, H→4q) are category ``other`` and left out of every curve."""
BACKGROUND = "QCD"
DISCRIMINANT = {"top": "TvsQCD", "W": "WvsQCD", "Z": "ZvsQCD", "Hbb": "HbbvsQCD", "Hcc": "HccvsQCD"}
"""The DeepAK8 discriminant of each signal category."""


@dataclass(frozen=True)
class EvaluationSelection:
    """The AK8 jets the studies are measured on."""

    pt_min: float = 400.0
    pt_max: float = 1200.0
    abs_eta_max: float = 2.4

    def describe(self) -> str:
        """For figure legends."""
        return f"AK8 jets {self.pt_min:g} ≤ pT < {self.pt_max:g} GeV, |η| < {self.abs_eta_max:g}"


PT_BINS: tuple[float, ...] = (400.0, 600.0, 800.0, 1200.0)


def category_of_labels(labels: ArrayLike) -> np.ndarray:
    """Truth category (``top``, ``W``, ``Z``, ``Hbb``, ``Hcc``, ``QCD``, ``other``; ``none`` for
    label -1) of each ``FatJet_label`` value."""
    names = np.array(["other"] * len(DEEPAK8_CLASSES) + ["none"], dtype=object)
    for category, classes in SIGNALS.items():
        for name in classes:
            names[DEEPAK8_CLASSES.index(name)] = category
    for index, name in enumerate(DEEPAK8_CLASSES):
        if name.startswith("QCD_"):
            names[index] = BACKGROUND
    labels = np.asarray(labels, dtype=np.int64)
    return names[np.where(labels >= 0, labels, len(DEEPAK8_CLASSES))].astype(str)


def study_taggers(models: Mapping[str, str | os.PathLike[str]]) -> list:
    """DeepAK8-family taggers of model folders ``{name: folder}`` (``folder/<name>.onnx`` and
    its card, as ``jetml train --name NAME`` writes them)."""
    from jetml.taggers.deepak8 import DeepAK8Tagger

    return [DeepAK8Tagger(name, Path(folder)) for name, folder in models.items()]


CHUNK_EVENTS = 10_000
"""Events read and tagged at once by :func:`jet_table`."""


def _selected_jets(
    events: ak.Array, taggers: Sequence, selection: EvaluationSelection
) -> dict[str, np.ndarray]:
    """The per-jet arrays of :func:`jet_table` for one chunk of events."""
    from jetml.api import tag

    if taggers:
        events = tag(events, list(taggers))
    jets = events.FatJet
    mask = (
        (jets.pt >= selection.pt_min)
        & (jets.pt < selection.pt_max)
        & (abs(jets.eta) < selection.abs_eta_max)
        & (jets.label >= 0)
    )

    def flat(values: ak.Array) -> np.ndarray:
        return ak.to_numpy(ak.flatten(values[mask])).astype(np.float64)

    part = {
        "pt": flat(jets.pt),
        "eta": flat(jets.eta),
        "msd": flat(jets.msoftdrop),
        # by key: coffea's vector behaviour shadows the attribute ``tau2`` (proper time²)
        "tau1": flat(jets["tau1"]),
        "tau2": flat(jets["tau2"]),
        "tau3": flat(jets["tau3"]),
        "category": category_of_labels(flat(jets.label)),
    }
    part["b_weaker"], part["b_stronger"] = map(flat, subjet_pair_significance(events))
    part["sample"] = np.full(len(part["pt"]), events.metadata["dataset"])
    for tagger in taggers:
        for score in tagger.score_names:
            part[f"{tagger.name}_{score}"] = flat(jets[tagger.field_name(score)])
    return part


def jet_table(
    paths: Sequence[str | os.PathLike[str]],
    taggers: Sequence = (),
    selection: EvaluationSelection = EvaluationSelection(),
    *,
    chunk_events: int = CHUNK_EVENTS,
) -> dict[str, np.ndarray]:
    """Flat arrays over the selected, labelled AK8 jets of ``paths``: ``sample`` (file stem),
    ``category``, ``pt``, ``eta``, ``msd``, ``tau1..3``, ``b_weaker``/``b_stronger`` (subjet SV
    significances), ``trad_<signal>`` (traditional taggers) and ``<tagger>_<discriminant>`` for
    each tagger. Files are read and tagged ``chunk_events`` events at a time, so memory stays that
    of one chunk (a whole at-scale pileup file would hold its PF candidates in memory at once)."""
    from jetml.nanoaod import event_chunks

    parts = [
        _selected_jets(events, taggers, selection)
        for path in paths
        for events in event_chunks(path, chunk_events)
    ]
    table = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    trad = traditional_scores(
        table["msd"],
        table["tau1"],
        table["tau2"],
        table["tau3"],
        table["b_weaker"],
        table["b_stronger"],
    )
    table.update({f"trad_{name}": values for name, values in trad.items()})
    return table


def performance_by_pt(
    table: Mapping[str, np.ndarray],
    signal: str,
    score: str,
    *,
    pt_edges: Sequence[float] = PT_BINS,
    efficiencies: Sequence[float] = (0.5, 0.3),
    method: str = "bootstrap",
    seed: int = 0,
) -> dict[str, dict[str, Estimate]]:
    """AUC and 1/εB at ``efficiencies`` of ``table[score]`` for ``signal`` vs QCD in each pT bin
    (``"400-600"``...) and over all of them (``"400-1200"``); a bin without signal or QCD jets
    is left out."""
    category, pt, values = table["category"], table["pt"], table[score]
    bins = [(pt_edges[0], pt_edges[-1]), *itertools.pairwise(pt_edges)]
    found: dict[str, dict[str, Estimate]] = {}
    for low, high in bins:
        inside = (pt >= low) & (pt < high)
        sig = values[inside & (category == signal)]
        bkg = values[inside & (category == BACKGROUND)]
        if len(sig) and len(bkg):
            curve = roc_curve(sig, bkg)
            found[f"{low:g}-{high:g}"] = performance(curve, efficiencies, method=method, seed=seed)
    return found


def sample_files(
    specs: Mapping[str, SampleSpec], folder: str | os.PathLike[str] | None = None
) -> dict[str, Path]:
    """``{name: file}`` of the samples ``specs``: ``folder/<name>.root`` as ``make
    study-samples`` writes them (FileNotFoundError naming the first missing file), or with no
    ``folder`` the cached samples of :func:`jetml.sample` (generated on first use)."""
    if folder is None:
        from jetml.api import sample

        return {
            n: sample(s.preset, s.events, s.seed, pthat_min=s.pthat_min, progress=False)
            for n, s in specs.items()
        }
    files = {name: Path(folder) / f"{name}.root" for name in specs}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(f"{path}: study sample missing (run `make study-samples`)")
    return files


def model_folders(names: Sequence[str], folder: str | os.PathLike[str]) -> dict[str, Path]:
    """``{name: folder/name}`` of trained study models (FileNotFoundError naming the first
    one without a model card: run ``make study-models``)."""
    found = {name: Path(folder) / name for name in names}
    for name, path in found.items():
        if not (path / f"{name}.card.json").is_file():
            raise FileNotFoundError(f"{path}: study model missing (run `make study-models`)")
    return found


def model_summary(folders: Mapping[str, str | os.PathLike[str]]) -> dict[str, dict[str, object]]:
    """Per model, from its card: the ``jetml train`` options that define it, training /
    validation / test jets, epochs run, best epoch, fit wall time and the training seeds."""
    from jetml.inference.card import load_card

    summary: dict[str, dict[str, object]] = {}
    for name, folder in folders.items():
        card = load_card(Path(folder) / f"{name}.card.json")
        training = card.training or {}
        summary[name] = {
            "options": " ".join(STUDY_MODELS.get(name, ())),
            **{f"{k}_jets": v for k, v in training.get("jets", {}).items()},
            "epochs_run": len(training.get("history", [])),
            "best_epoch": training.get("best_epoch"),
            "fit_seconds": training.get("wall_seconds"),
            "sample_seeds": ",".join(str(s["seed"]) for s in card.samples or []),
        }
    return summary


def compare(
    table: Mapping[str, np.ndarray],
    signal: str,
    columns: Mapping[str, str],
    *,
    efficiencies: Sequence[float] = (0.5, 0.3),
    seed: int = 0,
) -> dict[str, dict[str, dict[str, Estimate]]]:
    """:func:`performance_by_pt` of several taggers (``{label: table column}``) for one
    signal: ``{label: {pT bin: {"auc"|"rejection_eff50"|...: Estimate}}}``."""
    return {
        label: performance_by_pt(table, signal, column, efficiencies=efficiencies, seed=seed)
        for label, column in columns.items()
    }


def comparison_rows(results: Mapping[str, Mapping[str, dict]]) -> list[dict[str, object]]:
    """Flat rows (signal, tagger, pT bin, jets, AUC and rejections as ``value +up -down``)
    of ``{signal: compare(...)}``, for a table."""
    rows = []
    for signal, taggers in results.items():
        for tagger, bins in taggers.items():
            for pt_bin, found in bins.items():
                first = next(iter(found.values()))
                rows.append(
                    {
                        "signal": signal,
                        "tagger": tagger,
                        "pT [GeV]": pt_bin,
                        "N_S": first.n_signal,
                        "N_QCD": first.n_background,
                        **{key: str(value) for key, value in found.items()},
                    }
                )
    return rows


def to_records(results: Mapping[str, object]) -> object:
    """Nested results with every :class:`Estimate` as its ``to_dict`` (for a results file)."""
    if isinstance(results, Estimate):
        return results.to_dict()
    if hasattr(results, "to_dict"):
        return results.to_dict()
    if isinstance(results, Mapping):
        return {str(k): to_records(v) for k, v in results.items()}
    return results


@dataclass(frozen=True)
class Target:
    """A target of the issue, what was measured, and whether it is met (None: the sample
    cannot tell, e.g. no QCD jet passes so only a lower limit is known)."""

    name: str
    goal: str
    measured: str
    met: bool | None

    @property
    def status(self) -> str:
        """``met``, ``missed`` or ``not measurable``."""
        return {True: "met", False: "missed", None: "not measurable"}[self.met]

    def to_dict(self) -> dict[str, str]:
        """For a results file."""
        return {"goal": self.goal, "measured": self.measured, "status": self.status}


def _measured(estimate: Estimate) -> bool:
    return np.isfinite(estimate.value) and getattr(estimate, "measured", True)


def above_beyond_errors(higher: Estimate, lower: Estimate) -> bool | None:
    """True when ``higher``'s 68 % interval lies entirely above ``lower``'s, False when it
    does not; None when either value is only a limit."""
    if not (_measured(higher) and _measured(lower)):
        return None
    return bool(higher.low > lower.high)


def ratio_at_least(numerator: Estimate, denominator: Estimate, factor: float) -> bool | None:
    """``numerator.value >= factor · denominator.value`` (None when either is only a limit)."""
    if not (_measured(numerator) and _measured(denominator)):
        return None
    return bool(numerator.value >= factor * denominator.value)


INCLUSIVE = f"{PT_BINS[0]:g}-{PT_BINS[-1]:g}"
"""Key of the inclusive pT range in :func:`performance_by_pt` results."""
VARIANTS = ("kin", "kinpid", "full")


def _all(values: Sequence[bool | None]) -> bool | None:
    """False if any is False, else None if any is None, else True."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _at_least(estimate: Estimate, goal: float) -> bool | None:
    """value >= goal; for a lower limit, met when the limit itself reaches the goal."""
    if _measured(estimate):
        return bool(estimate.value >= goal)
    return True if estimate.low >= goal else None


def ablation_targets(
    performance: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Estimate]]]],
) -> list[Target]:
    """The issue's ablation targets from ``{signal: compare(...)}`` with taggers ``kin``,
    ``kinpid``, ``full`` and ``traditional`` (inclusive pT, εS = 50 %)."""

    def rej(signal: str, tagger: str, key: str = "rejection_eff50") -> Estimate:
        return performance[signal][tagger][INCLUSIVE][key]

    targets = []
    for signal in ("top", "Hbb"):
        kin, kinpid, full = (rej(signal, v) for v in VARIANTS)
        targets.append(
            Target(
                f"ordering_{signal}",
                "1/εB(50%): kin < kinpid < full beyond the 68% intervals",
                f"kin {kin}, kinpid {kinpid}, full {full}",
                _all([above_beyond_errors(kinpid, kin), above_beyond_errors(full, kinpid)]),
            )
        )
    kin, full = rej("Hbb", "kin"), rej("Hbb", "full")
    ratio = f"{full.value / kin.value:.3g}" if _measured(full) and _measured(kin) else "n/a"
    targets.append(
        Target("hbb_full_over_kin", "H→bb: 1/εB(50%) full / kin ≥ 3",
               f"{ratio} (full {full}, kin {kin})", ratio_at_least(full, kin, 3.0))
    )  # fmt: skip
    auc = rej("top", "full", "auc")
    targets.append(
        Target("top_full_auc", "top vs QCD, full: AUC ≥ 0.995", str(auc), auc.value >= 0.995)
    )
    top = rej("top", "full")
    targets.append(
        Target("top_full_rejection", "top vs QCD, full: 1/εB(50%) ≥ 500", str(top),
               _at_least(top, 500.0))
    )  # fmt: skip
    for signal in ("top", "W", "Z", "Hbb"):
        trad = rej(signal, "traditional")
        variants = {v: rej(signal, v) for v in VARIANTS}
        targets.append(
            Target(
                f"beats_traditional_{signal}",
                f"{signal}: every variant's 1/εB(50%) ≥ 3 times the traditional tagger's",
                ", ".join(f"{v} {e}" for v, e in variants.items()) + f"; traditional {trad}",
                _all([ratio_at_least(e, trad, 3.0) for e in variants.values()]),
            )
        )
    return targets


def rejection_ratio(numerator: Estimate, denominator: Estimate) -> float | str:
    """``numerator.value / denominator.value``, or ``"limit"`` when either is only a limit."""
    if _measured(numerator) and _measured(denominator):
        return float(numerator.value / denominator.value)
    return "limit"


def ablation_gains(
    performance: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Estimate]]]],
) -> dict[str, dict[str, float | str]]:
    """Per signal, 1/εB(50 %, inclusive pT) ratios: what PID/track quality add (kinpid/kin),
    what displacement and SVs add (full/kinpid), and full over the traditional tagger."""
    pairs = {"kinpid/kin": ("kinpid", "kin"), "full/kinpid": ("full", "kinpid"),
             "full/kin": ("full", "kin"), "full/traditional": ("full", "traditional")}  # fmt: skip
    return {
        signal: {
            name: rejection_ratio(
                taggers[a][INCLUSIVE]["rejection_eff50"], taggers[b][INCLUSIVE]["rejection_eff50"]
            )
            for name, (a, b) in pairs.items()
        }
        for signal, taggers in performance.items()
    }


def jet_counts(table: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Selected jets per truth category."""
    names, counts = np.unique(table["category"], return_counts=True)
    return {str(name): int(count) for name, count in zip(names, counts, strict=True)}


def answer_text(
    *,
    quick: bool,
    jets: Mapping[str, int],
    training_jets: int,
    epochs: int | None,
    findings: Sequence[str],
    targets: Sequence[Target],
) -> str:
    """The notebook's answer paragraph: what kind of run this is (a QUICK run is said to be one,
    with its sizes, and the at-scale run to be pending), the findings, and the targets' status."""
    counted = ", ".join(f"{n} {c}" for c, n in sorted(jets.items()) if c not in ("other",))
    status = {s: [t.name for t in targets if t.status == s] for s in ("met", "missed")}
    unknown = [t.name for t in targets if t.met is None]
    lines = ["**Answer.**"]
    if quick:
        lines.append(
            f"**This is a QUICK-mode run** (models trained here for {epochs} epoch(s) on "
            f"{training_jets} training jets; evaluated on {counted} jets): it tests the "
            "machinery, its numbers are not the study's result. **The at-scale run is pending** "
            "(`make study-samples study-models`, then `make notebooks`)."
        )
    else:
        lines.append(f"At-scale run: evaluated on {counted} jets, models trained on "
                     f"{training_jets} jets.")  # fmt: skip
    lines += [f"- {finding}" for finding in findings]
    lines.append(
        f"- Targets met: {', '.join(status['met']) or 'none'}; missed: "
        f"{', '.join(status['missed']) or 'none'}; not measurable on this sample: "
        f"{', '.join(unknown) or 'none'}."
    )
    return "\n".join(lines)


def ablation_findings(
    performance: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Estimate]]]],
) -> list[str]:
    """One line per signal: 1/εB(50 %, inclusive) of the variants and the traditional tagger, and
    the gains of the input groups (:func:`ablation_gains`): which inputs matter where."""
    gains = ablation_gains(performance)

    def times(ratio: float | str) -> str:
        return f"gain {ratio:.2g}" if isinstance(ratio, float) else "gain not measured (a limit)"

    return [
        f"{signal} vs QCD, 1/εB at εS = 50 % ({INCLUSIVE} GeV): "
        + ", ".join(
            f"{tagger} {bins[INCLUSIVE]['rejection_eff50']}" for tagger, bins in taggers.items()
        )
        + f"; charge, particle ID and track quality {times(gains[signal]['kinpid/kin'])}, "
        f"displacement and SVs {times(gains[signal]['full/kinpid'])}"
        for signal, taggers in performance.items()
    ]


@dataclass(frozen=True)
class DecorrelationPoint:
    """One tagger on the rejection-vs-decorrelation plane (inclusive pT, εS = 50 %)."""

    rejection: Rejection
    sculpting: Sculpting | None
    """None when no QCD jet passes (or all do): the JSD cannot be formed."""

    @property
    def on_plane(self) -> bool:
        """Both coordinates measured (finite)."""
        return self.rejection.measured and self.sculpting is not None

    def to_dict(self) -> dict[str, object]:
        """For a results file."""
        found: dict[str, object] = {"rejection_eff50": self.rejection.to_dict()}
        if self.sculpting is not None:
            found["sculpting"] = self.sculpting.to_dict()
        return found


def decorrelation_points(
    table: Mapping[str, np.ndarray],
    signal: str,
    columns: Mapping[str, str],
    *,
    seed: int = 0,
) -> dict[str, DecorrelationPoint]:
    """1/εB at εS = 50 % (bootstrap) and the QCD mass sculpting of the cut keeping 50 % of the
    signal (:func:`jetml.decorrelation.mass_sculpting`) for each ``{label: column}``."""
    is_signal = table["category"] == signal
    is_qcd = table["category"] == BACKGROUND
    points = {}
    for label, column in columns.items():
        values = table[column]
        curve = roc_curve(values[is_signal], values[is_qcd])
        rejection = rejection_at(curve, 0.5, method="bootstrap", seed=seed)
        try:
            sculpting = mass_sculpting(values[is_signal], values[is_qcd], table["msd"][is_qcd],
                                       seed=seed)  # fmt: skip
        except ValueError:
            sculpting = None
        points[label] = DecorrelationPoint(rejection, sculpting)
    return points


def decorrelation_rows(points: Mapping[str, DecorrelationPoint]) -> list[dict[str, object]]:
    """Flat rows (tagger, 1/εB, 1/JSD, JSD, its floor, QCD pass/fail counts), for a table."""
    rows = []
    for name, point in points.items():
        sculpting = point.sculpting
        rows.append(
            {
                "tagger": name,
                "N_S": point.rejection.n_signal,
                "N_QCD": point.rejection.n_background,
                "1/εB (εS=50%)": str(point.rejection),
                "1/JSD": str(sculpting.inverse) if sculpting else "n/a",
                "JSD": f"{sculpting.jsd:.3g}" if sculpting else "n/a",
                "JSD floor": f"{sculpting.floor:.3g}" if sculpting else "n/a",
                "QCD pass / fail": f"{sculpting.n_pass} / {sculpting.n_fail}" if sculpting else "",
            }
        )
    return rows


def _overlap(a: Estimate, b: Estimate) -> bool:
    return bool(a.low <= b.high and b.low <= a.high)


SCAN_GOAL = "a λ with 1/JSD ≥ 10 times the nominal's and 1/εB(50%) lost ≤ 3 times"


def _scan_target(
    name: str,
    points: Mapping[str, DecorrelationPoint],
    base: DecorrelationPoint,
    scan: Sequence[str],
) -> Target:
    """Some λ of ``scan`` has 1/JSD ≥ 10 times ``base``'s while keeping 1/εB(50 %) ≥ base's / 3."""
    if not base.on_plane:
        return Target(name, SCAN_GOAL, f"nominal not on the plane (1/εB {base.rejection})", None)
    found = []
    for model in scan:
        point = points[model]
        if point.on_plane:
            jsd_gain = point.sculpting.inverse.value / base.sculpting.inverse.value
            loss = base.rejection.value / point.rejection.value
            found.append((model, jsd_gain, loss))
    gain = any(j >= 10 and loss <= 3 for _, j, loss in found) if found else None
    measured = "; ".join(f"{n}: 1/JSD x{j:.3g}, 1/εB lost x{loss:.3g}" for n, j, loss in found)
    return Target(name, SCAN_GOAL, measured or "no λ point on the plane", gain)


def decorrelation_targets(
    points: Mapping[str, DecorrelationPoint],
    *,
    nominal: str = NOMINAL_MODEL,
    scan: Sequence[str] = MD_MODELS,
    lam0: str = "md_lam0",
    other: Sequence[str] = DISCO_MODELS,
) -> list[Target]:
    """The issue's decorrelation targets: some λ of ``scan`` (DeepAK8-MD) has 1/JSD ≥ 10 times the
    nominal's while its 1/εB(50 %) is at least the nominal's / 3; the λ = 0 point lands on the
    nominal (1/εB and 1/JSD intervals overlap); and the first criterion for the ``other``
    method's scan (DisCo, beyond the seed; skipped when empty)."""
    base = points[nominal]
    targets = [_scan_target("md_decorrelation", points, base, scan)]
    zero = points[lam0]
    if base.on_plane and zero.on_plane:
        same = _overlap(zero.rejection, base.rejection) and _overlap(
            zero.sculpting.inverse, base.sculpting.inverse
        )
        measured = (
            f"λ=0: 1/εB {zero.rejection}, 1/JSD {zero.sculpting.inverse}; nominal: 1/εB "
            f"{base.rejection}, 1/JSD {base.sculpting.inverse}"
        )
    else:
        same, measured = None, "λ = 0 or nominal not on the plane"
    targets.append(
        Target("lam0_on_nominal", "the λ = 0 point lands on the nominal (68% intervals overlap)",
               measured, same)
    )  # fmt: skip
    if other:
        targets.append(_scan_target("disco_decorrelation", points, base, other))
    return targets


def decorrelation_findings(points: Mapping[str, DecorrelationPoint], signal: str) -> list[str]:
    """One line per tagger: 1/εB(50 %) and 1/JSD."""
    return [
        f"{signal} vs QCD, {name}: 1/εB(50%) {p.rejection}, 1/JSD "
        f"{p.sculpting.inverse if p.sculpting else 'n/a'}"
        for name, p in points.items()
    ]

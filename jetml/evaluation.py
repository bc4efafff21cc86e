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

from jetml.labels import DEEPAK8_CLASSES
from jetml.metrics import Estimate, performance, roc_curve
from jetml.substructure import double_b_proxy, traditional_scores


@dataclass(frozen=True)
class SampleSpec:
    """One generated sample: ``jetml generate PRESET --events N --seed S``."""

    preset: str
    events: int
    seed: int


TRAINING_SAMPLES: dict[str, SampleSpec] = {
    "qcd": SampleSpec("qcd", 40000, 201),
    "ttbar_had": SampleSpec("ttbar_had", 15000, 202),
    "ww": SampleSpec("ww", 12000, 203),
    "zz": SampleSpec("zz", 12000, 204),
    "zh_bb": SampleSpec("zh_bb", 20000, 205),
    "zh_cc": SampleSpec("zh_cc", 20000, 206),
}
"""At-scale training samples (≥ 150 k labelled AK8 jets with pT ≥ 300 GeV, see docs/studies.md)."""
EVALUATION_SAMPLES: dict[str, SampleSpec] = {
    "qcd": SampleSpec("qcd", 110000, 901),
    "ttbar_had": SampleSpec("ttbar_had", 32000, 902),
    "ww": SampleSpec("ww", 45000, 903),
    "zz": SampleSpec("zz", 45000, 904),
    "zh_bb": SampleSpec("zh_bb", 75000, 905),
    "zh_cc": SampleSpec("zh_cc", 90000, 906),
}
"""At-scale evaluation samples: ≥ 50 k QCD and ≥ 20 k jets of each signal class in the
evaluation selection (sizes from the measured jets per event, docs/studies.md)."""
QUICK_TRAINING_SAMPLES: dict[str, SampleSpec] = {
    name: SampleSpec(spec.preset, 300 if name == "qcd" else 100, spec.seed)
    for name, spec in TRAINING_SAMPLES.items()
}
QUICK_EVALUATION_SAMPLES: dict[str, SampleSpec] = {
    name: SampleSpec(spec.preset, 300 if name == "qcd" else 100, spec.seed)
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
    "disco_lam10": ("deepak8_disco", "--lam", "10"),
    "disco_lam100": ("deepak8_disco", "--lam", "100"),
}
"""Study model name -> ``jetml train`` tagger and options (besides data, output and the
common settings :data:`STUDY_TRAIN_FLAGS`). The ablation trio differs only in ``--inputs``;
``ablation_full`` is the nominal of the decorrelation study (same network and data)."""
STUDY_TRAIN_FLAGS: tuple[str, ...] = (
    "--width", "0.25", "--seed", "1", "--split-seed", "1", "--epochs", "15", "--no-progress",
)  # fmt: skip
"""Settings shared by every study training (``--epochs`` is lowered in QUICK mode)."""
ABLATION_MODELS = ("ablation_kin", "ablation_kinpid", "ablation_full")
NOMINAL_MODEL = "ablation_full"


def generate_command(name: str, spec: SampleSpec, folder: str) -> list[str]:
    """``jetml generate`` arguments writing ``spec`` to ``folder/<name>.root``."""
    return [
        "generate", spec.preset, "--events", str(spec.events), "--seed", str(spec.seed),
        "--out", f"{folder}/{name}.root", "--overwrite",
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


def jet_table(
    paths: Sequence[str | os.PathLike[str]],
    taggers: Sequence = (),
    selection: EvaluationSelection = EvaluationSelection(),
) -> dict[str, np.ndarray]:
    """Flat arrays over the selected, labelled AK8 jets of ``paths``: ``sample`` (file stem),
    ``category``, ``pt``, ``eta``, ``msd``, ``tau21``, ``tau32``, ``b_proxy``, ``trad_<signal>``
    (traditional taggers) and ``<tagger>_<discriminant>`` for each tagger."""
    from jetml.api import open_events, tag

    parts: list[dict[str, np.ndarray]] = []
    for path in paths:
        events = open_events(path)
        if taggers:
            events = tag(events, list(taggers))
        jets = events.FatJet
        mask = (
            (jets.pt >= selection.pt_min)
            & (jets.pt < selection.pt_max)
            & (abs(jets.eta) < selection.abs_eta_max)
            & (jets.label >= 0)
        )

        def flat(values: ak.Array, mask: ak.Array = mask) -> np.ndarray:
            return ak.to_numpy(ak.flatten(values[mask])).astype(np.float64)

        part = {
            "pt": flat(jets.pt),
            "eta": flat(jets.eta),
            "msd": flat(jets.msoftdrop),
            # by key: coffea's vector behaviour shadows the attribute ``tau2`` (proper time²)
            "tau1": flat(jets["tau1"]),
            "tau2": flat(jets["tau2"]),
            "tau3": flat(jets["tau3"]),
            "b_proxy": flat(double_b_proxy(events)),
            "category": category_of_labels(flat(jets.label)),
        }
        part["sample"] = np.full(len(part["pt"]), Path(path).stem)
        for tagger in taggers:
            for score in tagger.score_names:
                part[f"{tagger.name}_{score}"] = flat(jets[tagger.field_name(score)])
        parts.append(part)
    table = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    trad = traditional_scores(
        table["msd"], table["tau1"], table["tau2"], table["tau3"], table["b_proxy"]
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

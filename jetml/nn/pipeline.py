"""End-to-end training on PFNano files (DeepAK8, DeepAK8-MD, DeepJet, DeepDoubleX, b-regression;
DeepTau in :mod:`jetml.nn.tau_pipeline`): read, standardise, train, evaluate, export with parity,
write the model folder and a held-out set for ``jetml validate``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jetml.errors import JetmlError
from jetml.features.breg import BREG_FEATURES
from jetml.inference.card import ModelCard
from jetml.labels import (
    DEEPAK8_CLASSES,
    DEEPDOUBLEX_CLASSES,
    DEEPDOUBLEX_DISCRIMINANTS,
    DEEPJET_CLASSES,
)
from jetml.nn import breg_data, deepdoublex_data, deepjet_data, deeptau_data
from jetml.nn.breg import BRegression
from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.deepak8_data import (
    DeepAK8Selection,
    fit_config,
    group_specs,
    read_fatjets,
    to_dataset,
)
from jetml.nn.deepak8_md import AdversarialConfig, DeepAK8MD, fit_adversarial, mass_bins
from jetml.nn.deepdoublex import DeepDoubleX
from jetml.nn.deepjet import DeepJet
from jetml.nn.metrics import classification_metrics, pair_discriminant, regression_metrics
from jetml.nn.package import write_model
from jetml.nn.preprocessing import auto_var_info
from jetml.nn.training import TrainConfig, TrainResult, fit, predict, seed_everything

TOP = tuple(c for c in DEEPAK8_CLASSES if c.startswith("Top_"))
W = ("W_cq", "W_qq")
Z = ("Z_bb", "Z_cc", "Z_qq")
QCD = tuple(c for c in DEEPAK8_CLASSES if c.startswith("QCD_"))
PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "top_vs_qcd": (TOP, QCD),
    "w_vs_qcd": (W, QCD),
    "z_vs_qcd": (Z, QCD),
    "hbb_vs_qcd": (("H_bb",), QCD),
}
"""Signal-vs-background pairs reported in the card (summed class probabilities)."""
TOP_PT_WINDOW = (500.0, 650.0)
"""pT window of the published top-tagging benchmark (the P-CNN figure)."""
HELDOUT_FILE = "heldout.npz"
PHYSICS_GOALS: dict[str, tuple[tuple[str, ...], float]] = {
    "top_vs_qcd_pt500_650_auc": (("top_vs_qcd_pt500_650", "auc"), 0.98),
    "top_vs_qcd_pt500_650_rejection_at_eff30": (
        ("top_vs_qcd_pt500_650", "rejection_at_eff30"),
        759.0,
    ),
    "hbb_vs_qcd_rejection_at_eff50": (("pairs", "hbb_vs_qcd", "rejection_at_eff50"), 50.0),
    "breg_resolution_improvement": (("resolution_improvement",), 0.13),
}
"""Goals from the issue (P-CNN top tagging on Pythia+Delphes: AUC 0.98, 1/εB 759 at εS = 30%;
H->bb 1/εB 50 at εS = 50%; b regression 13% better resolution): metric path -> minimum."""
MAX_HELDOUT_SAVED = 2000


class TrainingDataError(JetmlError):
    """The input files do not give a usable training set."""


@dataclass(frozen=True)
class DeepAK8Job:
    """Everything a DeepAK8 training run needs besides the files."""

    variant: str = "full"
    width: float = 0.25
    selection: DeepAK8Selection = field(default_factory=DeepAK8Selection)
    train: TrainConfig = field(default_factory=TrainConfig)
    split_seed: int = 1
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    mass_decorrelated: bool = False
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    max_jets: int | None = None


def goal_report(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each goal whose metric exists: the goal, the measured value and whether it is met.

    A rejection of None means no background jet passed (beyond what the sample can measure); it
    is reported as not measurable, never as met."""
    report: dict[str, dict[str, Any]] = {}
    for name, (path, minimum) in PHYSICS_GOALS.items():
        node: Any = metrics
        for key in path:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            report[name] = {
                "goal_min": minimum,
                "value": node,
                "met": None if node is None else bool(node >= minimum),
            }
    return report


def split_indices(
    n_rows: int, fractions: tuple[float, float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded shuffle of ``range(n_rows)`` cut into train / validation / test indices."""
    order = np.random.default_rng(seed).permutation(n_rows)
    edges = np.round(np.cumsum(fractions) * n_rows).astype(int)
    train, val, test = np.split(order, edges[:-1])
    return train, val, test


def heldout_metrics(
    probabilities: np.ndarray, test: ArrayDataset, mass_edges: Sequence[float]
) -> dict[str, Any]:
    """Card metrics on the held-out jets: per-pair AUC and rejections, the top-vs-QCD figures in
    the 500-650 GeV window, and how much the top score follows the soft-drop mass of QCD jets."""
    metrics: dict[str, Any] = {
        "heldout_jets": len(test),
        "pairs": classification_metrics(probabilities, test.target, DEEPAK8_CLASSES, PAIRS),
    }
    pt = test.extras["pt"]
    window = (pt >= TOP_PT_WINDOW[0]) & (pt < TOP_PT_WINDOW[1])
    top_window = classification_metrics(
        probabilities[window], test.target[window], DEEPAK8_CLASSES, {"top": PAIRS["top_vs_qcd"]}
    )
    if top_window:
        metrics["top_vs_qcd_pt500_650"] = top_window["top"]
    index = {name: i for i, name in enumerate(DEEPAK8_CLASSES)}
    qcd = np.isin(test.target, [index[c] for c in QCD])
    if qcd.sum() > 2:
        score = pair_discriminant(
            probabilities[qcd], [index[c] for c in TOP], [index[c] for c in QCD]
        )
        mass = test.extras["mass"][qcd]
        metrics["qcd_top_score_mass_correlation"] = float(np.corrcoef(score, mass)[0, 1])
        bins = mass_bins(mass, tuple(mass_edges))
        metrics["qcd_mean_top_score_per_mass_bin"] = [
            float(score[bins == b].mean()) if np.any(bins == b) else None
            for b in range(len(mass_edges) - 1)
        ]
    return metrics


def subsample(table: Any, limit: int | None, seed: int) -> Any:
    """At most ``limit`` rows of ``table``, drawn reproducibly from ``seed`` (order kept)."""
    if limit is None or len(table) <= limit:
        return table
    return table.take(np.sort(np.random.default_rng(seed).permutation(len(table))[:limit]))


def write_trained_model(
    out: str | Path,
    model: Any,
    config: Any,
    test: ArrayDataset,
    result: TrainResult,
    table: Any,
    job: Any,
    metrics: dict[str, Any],
    training: dict[str, Any],
    *,
    name: str,
    version: str,
    command: str,
    **extra: Any,
) -> Path:
    """Write the model folder (ONNX, preprocess.json, card) and the held-out rows for
    ``jetml validate``; the card's training record gains the fit history from ``result``."""
    out = Path(out)
    parity_rows = test.take(np.arange(min(len(test), MAX_HELDOUT_SAVED)))
    card = write_model(
        out,
        name,
        version,
        model,
        config,
        parity_rows.inputs,
        trained=job.train.epochs > 0,
        samples=table.samples,
        command=command,
        seeds={"split": job.split_seed, "torch_and_batches": job.train.seed},
        metrics=metrics,
        training={
            **training,
            "history": result.history,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "wall_seconds": round(result.seconds, 1),
        },
        **extra,
    )
    parity_rows.save(out / HELDOUT_FILE)
    return card


def train_deepak8(
    paths: Sequence[str | Path],
    out: str | Path,
    job: DeepAK8Job,
    *,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Train DeepAK8 (or DeepAK8-MD) on ``paths``; write the model folder ``out``.

    Returns (card path, metrics). The split into train / validation / held-out test jets is
    seeded; standardisation is fitted on the training jets only. With ``epochs == 0`` the network
    is exported untrained (card ``trained: false``, no metrics), e.g. the full-size configuration
    for timing.
    """
    table = read_fatjets(paths, job.variant, job.selection)
    table = subsample(table, job.max_jets, job.split_seed)
    classes_present = np.unique(table.label)
    if len(table) < 50 or len(classes_present) < 2:
        raise TrainingDataError(
            f"{len(table)} selected AK8 jets in {len(classes_present)} class(es) from "
            f"{len(paths)} file(s): need >= 50 jets of >= 2 classes"
        )
    train_index, val_index, test_index = split_indices(len(table), job.fractions, job.split_seed)
    train_table = table.take(train_index)
    config = fit_config(train_table, job.variant)
    train = to_dataset(train_table, config)
    val = to_dataset(table.take(val_index), config)
    test = to_dataset(table.take(test_index), config)

    specs = group_specs(job.variant)
    seed_everything(job.train.seed)  # initial weights (classifier and adversary) from the seed
    model = DeepAK8(
        n_pf_features=len(specs[0].var_names),
        n_sv_features=len(specs[1].var_names) if len(specs) > 1 else 0,
        width=job.width,
    )
    result: TrainResult
    if job.mass_decorrelated:
        md = DeepAK8MD(model, n_bins=len(job.adversarial.mass_edges) - 1)
        result = fit_adversarial(md, train, val, job.train, job.adversarial)
    else:
        result = fit(model, train, val, job.train)
    trained = job.train.epochs > 0
    metrics = (
        heldout_metrics(predict(model, test), test, job.adversarial.mass_edges) if trained else {}
    )
    if metrics:
        metrics["goals"] = goal_report(metrics)

    training = {
        "jets": {"train": len(train), "validation": len(val), "test": len(test)},
        "class_counts": {
            DEEPAK8_CLASSES[c]: int((table.label == c).sum()) for c in classes_present
        },
        "input_variant": job.variant,
        "selection": asdict(job.selection),
        "train_config": asdict(job.train),
        "adversarial": asdict(job.adversarial) if job.mass_decorrelated else None,
    }
    card = write_trained_model(
        out, model, config, test, result, table, job, metrics, training,
        name=name, version=version, command=command,
    )  # fmt: skip
    return card, metrics


@dataclass(frozen=True)
class BregJob:
    """Everything a b-jet regression training run needs besides the files."""

    width: float = 0.25
    selection: breg_data.BregSelection = field(default_factory=breg_data.BregSelection)
    train: TrainConfig = field(default_factory=TrainConfig)
    split_seed: int = 1
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    max_jets: int | None = None


def train_breg(
    paths: Sequence[str | Path],
    out: str | Path,
    job: BregJob,
    *,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Train the b-jet regression on ``paths``; write the model folder ``out``.

    Returns (card path, held-out metrics: resolutions before/after, improvement, coverage).
    """
    table = breg_data.read_breg_jets(paths, job.selection)
    table = subsample(table, job.max_jets, job.split_seed)
    if len(table) < 50:
        raise TrainingDataError(
            f"{len(table)} selected b jets with a matched generator jet in {len(paths)} file(s): "
            "need >= 50"
        )
    train_index, val_index, test_index = split_indices(len(table), job.fractions, job.split_seed)
    train_table = table.take(train_index)
    config = breg_data.fit_config(train_table)
    train = breg_data.to_dataset(train_table, config)
    val = breg_data.to_dataset(table.take(val_index), config)
    test = breg_data.to_dataset(table.take(test_index), config)
    target_info = auto_var_info(train.target.astype(np.float64))
    seed_everything(job.train.seed)  # initial weights from the seed
    model = BRegression(
        n_features=len(BREG_FEATURES),
        width=job.width,
        target_center=target_info.center,
        target_scale=1.0 / target_info.scale,
    )
    result = fit(model, train, val, job.train)
    trained = job.train.epochs > 0
    metrics: dict[str, Any] = (
        {"heldout_jets": len(test), **regression_metrics(predict(model, test), test.target)}
        if trained
        else {}
    )
    if metrics:
        metrics["goals"] = goal_report(metrics)
    training = {
        "jets": {"train": len(train), "validation": len(val), "test": len(test)},
        "selection": asdict(job.selection),
        "train_config": asdict(job.train),
    }
    card = write_trained_model(
        out, model, config, test, result, table, job, metrics, training,
        name=name, version=version, command=command,
    )  # fmt: skip
    return card, metrics


def dataset_from_root(card: ModelCard, path: str | Path) -> ArrayDataset:
    """Inputs of a model trained by :func:`train_deepak8` / :func:`train_breg` (...) for the jets
    of a PFNano file (generated or real CMS), built with the model's own ``preprocess.json``:
    the deployment path, for ``jetml validate --data FILE.root``."""
    from jetml.errors import ConfigError
    from jetml.nn import deepak8_data

    training = card.training or {}
    selection = dict(training.get("selection") or {})
    if selection.get("pt_max", 0.0) is None:  # +inf is stored as null in JSON
        selection["pt_max"] = float("inf")
    config = card.load_data_config()
    if card.architecture == "deepak8" and "input_variant" in training:
        table = deepak8_data.read_fatjets(
            [path],
            training["input_variant"],
            deepak8_data.DeepAK8Selection(**selection),
            require_labels=False,
        )
        return deepak8_data.to_dataset(table, config)
    if card.architecture == "deepjet" and "selection" in training:
        ak4 = deepjet_data.read_deepjet_jets(
            [path], deepjet_data.DeepJetSelection(**selection), require_labels=False
        )
        return deepjet_data.to_dataset(ak4, config)
    if card.architecture == "deepdoublex" and "selection" in training:
        ddx = deepdoublex_data.read_deepdoublex_jets(
            [path], deepdoublex_data.DeepDoubleXSelection(**selection), require_labels=False
        )
        return deepdoublex_data.to_dataset(ddx, config)
    if card.architecture == "breg" and "selection" in training:
        bjets = breg_data.read_breg_jets(
            [path], breg_data.BregSelection(**selection), with_target=False
        )
        return breg_data.to_dataset(bjets, config)
    if card.architecture == "deeptau" and "selection" in training and card.grid_config:
        from jetml.features.deeptau import GridConfig

        taus = deeptau_data.read_taus(
            [path], deeptau_data.TauSelection(**selection), require_labels=False
        )
        grids = GridConfig.load(card.file("grid_config"))
        return deeptau_data.to_dataset(taus, config, grids)
    raise ConfigError(
        f"{card.name}: ROOT input needs a model made by 'jetml train' (deepak8, deepak8_md, "
        "deepjet, deepdoublex, breg, deeptau); give an .npz of model inputs instead"
    )


DEEPJET_PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "b_vs_udsg": (("b", "bb", "lepb"), ("uds", "g")),
    "c_vs_udsg": (("c",), ("uds", "g")),
    "b_vs_c": (("b", "bb", "lepb"), ("c",)),
}
DEEPDOUBLEX_PAIRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    name: (d.numerator, tuple(c for c in d.denominator if c not in d.numerator))
    for name, d in DEEPDOUBLEX_DISCRIMINANTS.items()
}
"""BvL, CvL, CvB: the pairwise ratios of :data:`jetml.labels.DEEPDOUBLEX_DISCRIMINANTS`."""


@dataclass(frozen=True)
class ClassifierJob:
    """A DeepJet or DeepDoubleX training run besides the files (selection of the tagger's type)."""

    selection: deepjet_data.DeepJetSelection | deepdoublex_data.DeepDoubleXSelection
    width: float = 0.25
    train: TrainConfig = field(default_factory=TrainConfig)
    split_seed: int = 1
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    max_jets: int | None = None


def train_deepjet(
    paths: Sequence[str | Path], out: str | Path, job: ClassifierJob, **card: str
) -> tuple[Path, dict[str, Any]]:
    """Train DeepJet on the AK4 jets of ``paths`` (card: ``name``, ``version``, ``command``)."""
    assert isinstance(job.selection, deepjet_data.DeepJetSelection)
    table = deepjet_data.read_deepjet_jets(paths, job.selection)
    return _train_table_classifier(
        table, deepjet_data, lambda: DeepJet(width=job.width), DEEPJET_CLASSES, DEEPJET_PAIRS,
        job, paths, out, **card,
    )  # fmt: skip


def train_deepdoublex(
    paths: Sequence[str | Path], out: str | Path, job: ClassifierJob, **card: str
) -> tuple[Path, dict[str, Any]]:
    """Train DeepDoubleX on the QCD / H->bb / H->cc AK8 jets of ``paths``."""
    assert isinstance(job.selection, deepdoublex_data.DeepDoubleXSelection)
    table = deepdoublex_data.read_deepdoublex_jets(paths, job.selection)
    return _train_table_classifier(
        table, deepdoublex_data, lambda: DeepDoubleX(width=job.width), DEEPDOUBLEX_CLASSES,
        DEEPDOUBLEX_PAIRS, job, paths, out, **card,
    )  # fmt: skip


def _train_table_classifier(
    table: Any,
    data_module: Any,
    build_model: Any,
    classes: tuple[str, ...],
    pairs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
    job: ClassifierJob,
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Split, standardise, train, evaluate and write a model folder for a labelled jet table
    (``data_module`` provides ``fit_config`` and ``to_dataset``)."""
    table = subsample(table, job.max_jets, job.split_seed)
    classes_present = np.unique(table.label)
    if len(table) < 50 or len(classes_present) < 2:
        raise TrainingDataError(
            f"{len(table)} labelled jets in {len(classes_present)} class(es) from "
            f"{len(paths)} file(s): need >= 50 jets of >= 2 classes"
        )
    train_index, val_index, test_index = split_indices(len(table), job.fractions, job.split_seed)
    train_table = table.take(train_index)
    config = data_module.fit_config(train_table)
    train = data_module.to_dataset(train_table, config)
    val = data_module.to_dataset(table.take(val_index), config)
    test = data_module.to_dataset(table.take(test_index), config)
    seed_everything(job.train.seed)  # initial weights from the seed
    model = build_model()
    result = fit(model, train, val, job.train)
    trained = job.train.epochs > 0
    metrics: dict[str, Any] = (
        {
            "heldout_jets": len(test),
            "pairs": classification_metrics(predict(model, test), test.target, classes, pairs),
        }
        if trained
        else {}
    )
    training = {
        "jets": {"train": len(train), "validation": len(val), "test": len(test)},
        "class_counts": {classes[c]: int((table.label == c).sum()) for c in classes_present},
        "selection": asdict(job.selection),
        "train_config": asdict(job.train),
    }
    card = write_trained_model(
        out, model, config, test, result, table, job, metrics, training,
        name=name, version=version, command=command,
    )  # fmt: skip
    return card, metrics

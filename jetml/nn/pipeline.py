"""One training skeleton for every tagger: read, standardise, train, evaluate, export with parity,
write the model folder and a held-out set for ``jetml validate``.

:func:`train` runs any :class:`TrainingRecipe`; the recipes themselves (one small declaration per
tagger) are registered in :mod:`jetml.nn.recipes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jetml.errors import JetmlError
from jetml.features import DataConfig
from jetml.features.deeptau import GridConfig
from jetml.labels import DEEPAK8_CLASSES
from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8_md import AdversarialConfig, mass_bins
from jetml.nn.disco import DiscoConfig
from jetml.nn.metrics import classification_metrics, pair_discriminant
from jetml.nn.package import write_model
from jetml.nn.training import TrainConfig, TrainResult, fit, seed_everything

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


@dataclass(frozen=True)
class TrainingJob:
    """Everything a training run needs besides the files and the recipe."""

    selection: Any
    """The recipe's selection dataclass (which jets / taus are used)."""
    width: float = 0.25
    train: TrainConfig = field(default_factory=TrainConfig)
    split_seed: int = 1
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    max_rows: int | None = None
    """Use at most this many jets (taus), drawn with ``split_seed``."""
    variant: str = "full"
    """DeepAK8 input ablation (``kin``, ``kinpid``, ``full``)."""
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    """DeepAK8-MD adversary settings (its mass bins also bin DeepAK8's card metrics)."""
    disco: DiscoConfig = field(default_factory=DiscoConfig)
    """DeepAK8-DisCo distance-correlation settings."""


@dataclass(frozen=True)
class Fitted:
    """What is fitted on the training rows and deployed with the model."""

    config: DataConfig
    grid_config: GridConfig | None = None
    """DeepTau's grid standardisation (``grids.json``)."""


@dataclass(frozen=True)
class TrainingRecipe:
    """How one tagger is trained: each step :func:`train` delegates, in the order it runs them.

    ``read(paths, job, require_labels)`` gives a table (``len``, ``take``, ``label`` or
    ``target``, ``samples``); ``check(table, n_files)`` raises :class:`TrainingDataError` when it
    cannot train; ``fit_config(train_table, job)`` fits the standardisation;
    ``to_dataset(table, fitted)`` builds model inputs with the deployment's builder;
    ``build(train, job)`` makes the network (after the weight seed is set); ``fit`` trains it;
    ``evaluate(model, val, test, job, trained)`` returns the card metrics and extra training
    record fields; ``describe(job, table)`` the training record fields of the run.
    """

    name: str
    architecture: str
    selection: type
    """Selection dataclass; its defaults are the tagger's (``--pt-min`` overrides ``pt_min``)."""
    objects: str
    """What a row is (``jets``, ``taus``): the card's count key."""
    read: Callable[[Sequence[str | Path], TrainingJob, bool], Any]
    check: Callable[[Any, int], None]
    fit_config: Callable[[Any, TrainingJob], Fitted]
    to_dataset: Callable[[Any, Fitted], ArrayDataset]
    build: Callable[[ArrayDataset, TrainingJob], Any]
    evaluate: Callable[[Any, ArrayDataset, ArrayDataset, TrainingJob, bool], tuple[dict, dict]]
    describe: Callable[[TrainingJob, Any], dict[str, Any]]
    report: Callable[[dict[str, Any]], list[str]]
    """Headline lines ``jetml train`` prints from the metrics."""
    fit: Callable[[Any, ArrayDataset, ArrayDataset, TrainingJob], TrainResult] = (
        lambda model, train, val, job: fit(model, train, val, job.train)
    )
    options: tuple[str, ...] = ()
    """``jetml train`` options that matter for this tagger besides the common ones."""


def train(
    recipe: TrainingRecipe,
    paths: Sequence[str | Path],
    out: str | Path,
    job: TrainingJob,
    *,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Train ``recipe`` on ``paths`` and write the model folder ``out``; (card path, metrics).

    The split into train / validation / held-out test rows is seeded; standardisation is fitted
    on the training rows only; the weight seed is set right before the network is built. With
    ``epochs == 0`` the network is exported untrained (card ``trained: false``, no metrics).
    """
    table = subsample(recipe.read(paths, job, True), job.max_rows, job.split_seed)
    recipe.check(table, len(paths))
    train_index, val_index, test_index = split_indices(len(table), job.fractions, job.split_seed)
    train_table = table.take(train_index)
    fitted = recipe.fit_config(train_table, job)
    train_set = recipe.to_dataset(train_table, fitted)
    val = recipe.to_dataset(table.take(val_index), fitted)
    test = recipe.to_dataset(table.take(test_index), fitted)
    seed_everything(job.train.seed)  # initial weights (and any adversary) from the seed
    model = recipe.build(train_set, job)
    result = recipe.fit(model, train_set, val, job)
    metrics, evaluation = recipe.evaluate(model, val, test, job, job.train.epochs > 0)
    training = {
        recipe.objects: {"train": len(train_set), "validation": len(val), "test": len(test)},
        **recipe.describe(job, table),
        **evaluation,
    }
    extra = {"grid_config": fitted.grid_config} if fitted.grid_config is not None else {}
    card = write_trained_model(
        out, model, fitted.config, test, result, table, job, metrics, training,
        name=name, version=version, command=command, **extra,
    )  # fmt: skip
    return card, metrics

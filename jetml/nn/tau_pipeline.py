"""DeepTau end to end on PFNano files: read taus, standardise, train, evaluate, export.

Held-out figures in the card: ROC AUC of D_e, D_μ, D_jet (genuine τh against each background);
working points (:data:`jetml.nn.deeptau.WORKING_POINT_EFFICIENCIES`) fixed on the *validation*
taus, and at each the held-out genuine-τh efficiency and background fake rate; the cut-based
isolation (``Tau_idIsoCut`` Loose/Medium/Tight) against D_jet at equal genuine-τh efficiency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from jetml.labels import DEEPTAU_CLASSES, DEEPTAU_DISCRIMINANTS, discriminant_scores
from jetml.nn import deeptau_data
from jetml.nn.deeptau import WORKING_POINT_EFFICIENCIES, DeepTau
from jetml.nn.deeptau import working_points as wp_thresholds
from jetml.nn.metrics import roc_auc
from jetml.nn.pipeline import (
    TrainingDataError,
    split_indices,
    subsample,
    write_trained_model,
)
from jetml.nn.training import TrainConfig, fit, predict, seed_everything

TAU = DEEPTAU_CLASSES.index("tau")
CUT_BASED_WPS = {"Loose": 1, "Medium": 2, "Tight": 4}
"""``Tau_idIsoCut`` bits of the cut-based isolation working points."""


@dataclass(frozen=True)
class DeepTauJob:
    """A DeepTau training run besides the files."""

    selection: deeptau_data.TauSelection = field(default_factory=deeptau_data.TauSelection)
    width: float = 0.25
    train: TrainConfig = field(default_factory=TrainConfig)
    split_seed: int = 1
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    max_taus: int | None = None


def discriminants(probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """D_alpha for alpha in e, mu, jet (:data:`jetml.labels.DEEPTAU_DISCRIMINANTS`), in float64."""
    scores = discriminant_scores(
        DEEPTAU_DISCRIMINANTS, DEEPTAU_CLASSES, np.asarray(probabilities, dtype=np.float64)
    )
    return {name.removeprefix("VS"): values for name, values in scores.items()}


def discriminant_metrics(
    probabilities: np.ndarray,
    target: np.ndarray,
    thresholds: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """AUC of each D_alpha (τh vs alpha) and, per working point, τh efficiency and alpha fake
    rate; None where the held-out set lacks τh or alpha."""
    scores = discriminants(probabilities)
    genuine = target == TAU
    result: dict[str, Any] = {}
    for background, values in scores.items():
        fake = target == DEEPTAU_CLASSES.index(background)
        entry: dict[str, Any] = {"n_tau": int(genuine.sum()), "n_background": int(fake.sum())}
        entry["auc"] = (
            roc_auc(values[genuine | fake], genuine[genuine | fake])
            if genuine.any() and fake.any()
            else None
        )
        entry["working_points"] = {
            wp: {
                "threshold": cut,
                "tau_efficiency": float(np.mean(values[genuine] >= cut)) if genuine.any() else None,
                "fake_rate": float(np.mean(values[fake] >= cut)) if fake.any() else None,
            }
            for wp, cut in thresholds.get(background, {}).items()
        }
        result[background] = entry
    return result


def cut_based_comparison(
    d_jet: np.ndarray, target: np.ndarray, id_iso_cut: np.ndarray
) -> dict[str, dict[str, float | None]]:
    """For each cut-based isolation WP: its τh efficiency and jet-fake rate, and the jet-fake rate
    of D_jet at the threshold giving the same τh efficiency (None without τh or jets)."""
    genuine = target == TAU
    jet = target == DEEPTAU_CLASSES.index("jet")
    result: dict[str, dict[str, float | None]] = {}
    if not genuine.any() or not jet.any():
        return result
    for wp, bit in CUT_BASED_WPS.items():
        passes = (id_iso_cut & bit) != 0
        efficiency = float(passes[genuine].mean())
        passing = round(efficiency * int(genuine.sum()))  # genuine τh the cut-based WP keeps
        threshold = (
            float(np.sort(d_jet[genuine])[::-1][passing - 1]) if passing > 0 else float("inf")
        )
        result[wp] = {
            "tau_efficiency": efficiency,
            "jet_fake_rate": float(passes[jet].mean()),
            "deeptau_threshold": threshold,
            "deeptau_tau_efficiency": float(np.mean(d_jet[genuine] >= threshold)),
            "deeptau_jet_fake_rate": float(np.mean(d_jet[jet] >= threshold)),
        }
    return result


def train_deeptau(
    paths: Sequence[str | Path],
    out: str | Path,
    job: DeepTauJob,
    *,
    name: str,
    version: str,
    command: str,
) -> tuple[Path, dict[str, Any]]:
    """Train DeepTau on the taus of ``paths``; write the model folder ``out`` (with
    ``grids.json``). Returns (card path, held-out metrics)."""
    table = deeptau_data.read_taus(paths, job.selection)
    table = subsample(table, job.max_taus, job.split_seed)
    classes_present = np.unique(table.label)
    if len(table) < 50 or TAU not in classes_present or len(classes_present) < 2:
        raise TrainingDataError(
            f"{len(table)} selected taus in {len(classes_present)} class(es) from {len(paths)} "
            "file(s): need >= 50 taus, genuine τh and at least one background"
        )
    train_index, val_index, test_index = split_indices(len(table), job.fractions, job.split_seed)
    train_table = table.take(train_index)
    config, grid_config = deeptau_data.fit_configs(train_table)
    train = deeptau_data.to_dataset(train_table, config, grid_config)
    val = deeptau_data.to_dataset(table.take(val_index), config, grid_config)
    test = deeptau_data.to_dataset(table.take(test_index), config, grid_config)
    seed_everything(job.train.seed)
    shapes = {name: array.shape[1] for name, array in train.inputs.items()}
    model = DeepTau(
        n_tau_features=shapes["tau"],
        n_egamma_features=shapes["inner_egamma"],
        n_muon_features=shapes["inner_muon"],
        n_hadron_features=shapes["inner_hadrons"],
        width=job.width,
    )
    result = fit(model, train, val, job.train)
    trained = job.train.epochs > 0
    metrics: dict[str, Any] = {}
    thresholds: dict[str, dict[str, float]] = {}
    if trained:
        val_d = discriminants(predict(model, val))
        val_genuine = val.target == TAU
        if val_genuine.any():
            thresholds = {
                background: wp_thresholds(val_d[background][val_genuine], targets)
                for background, targets in WORKING_POINT_EFFICIENCIES.items()
            }
        probabilities = predict(model, test)
        metrics = {
            "heldout_taus": len(test),
            "discriminants": discriminant_metrics(probabilities, test.target, thresholds),
            "cut_based_vs_deeptau": cut_based_comparison(
                discriminants(probabilities)["jet"], test.target, test.extras["id_iso_cut"]
            ),
        }
    training = {
        "taus": {"train": len(train), "validation": len(val), "test": len(test)},
        "class_counts": {
            DEEPTAU_CLASSES[c]: int((table.label == c).sum()) for c in classes_present
        },
        "selection": asdict(job.selection),
        "train_config": asdict(job.train),
        "working_point_thresholds": thresholds,
        "working_point_efficiencies": WORKING_POINT_EFFICIENCIES,
    }
    card = write_trained_model(
        out, model, config, test, result, table, job, metrics, training,
        name=name, version=version, command=command, grid_config=grid_config,
    )  # fmt: skip
    return card, metrics

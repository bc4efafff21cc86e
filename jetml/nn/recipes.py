"""The training recipes: one small declaration per trainable tagger, run by
:func:`jetml.nn.pipeline.train`.

``jetml train TAGGER`` and ``jetml validate MODEL --data FILE.root`` look the tagger up in
:data:`RECIPES`; ``make models`` runs ``jetml train`` once per shipped model. Adding a tagger means
one feature recipe (``jetml/features/<tagger>.py``), one training recipe here (with its
``jetml/nn/<tagger>_data.py`` reader and network), one tagger file (``jetml/taggers/<tagger>.py``)
and one model folder (``jetml/models/<tagger>/``); see docs/taggers.md.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from jetml.errors import ConfigError
from jetml.features import DataConfig
from jetml.features.breg import BREG_FEATURES
from jetml.features.deeptau import GridConfig
from jetml.inference.card import ModelCard
from jetml.labels import (
    DEEPAK8_CLASSES,
    DEEPDOUBLEX_CLASSES,
    DEEPDOUBLEX_DISCRIMINANTS,
    DEEPJET_CLASSES,
    DEEPTAU_CLASSES,
)
from jetml.nn import breg_data, deepak8_data, deepdoublex_data, deepjet_data, deeptau_data
from jetml.nn.breg import BRegression
from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.deepak8_md import DeepAK8MD, fit_adversarial
from jetml.nn.deepdoublex import DeepDoubleX
from jetml.nn.deepjet import DeepJet
from jetml.nn.deeptau import WORKING_POINT_EFFICIENCIES, DeepTau
from jetml.nn.deeptau import working_points as wp_thresholds
from jetml.nn.deeptau_metrics import TAU, cut_based_comparison, discriminant_metrics, discriminants
from jetml.nn.disco import fit_disco
from jetml.nn.metrics import classification_metrics, regression_metrics
from jetml.nn.pipeline import (
    Fitted,
    TrainingDataError,
    TrainingJob,
    TrainingRecipe,
    goal_report,
    heldout_metrics,
)
from jetml.nn.preprocessing import auto_var_info
from jetml.nn.training import TrainResult, predict

Pairs = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]

DEEPJET_PAIRS: Pairs = {
    "b_vs_udsg": (("b", "bb", "lepb"), ("uds", "g")),
    "c_vs_udsg": (("c",), ("uds", "g")),
    "b_vs_c": (("b", "bb", "lepb"), ("c",)),
}
DEEPDOUBLEX_PAIRS: Pairs = {
    name: (d.numerator, tuple(c for c in d.denominator if c not in d.numerator))
    for name, d in DEEPDOUBLEX_DISCRIMINANTS.items()
}
"""BvL, CvL, CvB: the pairwise ratios of :data:`jetml.labels.DEEPDOUBLEX_DISCRIMINANTS`."""


# -- shared pieces --------------------------------------------------------------------------


def class_counts(classes: tuple[str, ...], table: Any) -> dict[str, int]:
    """Rows per class present in ``table``."""
    return {classes[c]: int((table.label == c).sum()) for c in np.unique(table.label)}


def check_classes(what: str) -> Any:
    """A ``check`` needing >= 50 rows of >= 2 classes (``what``: e.g. ``selected AK8 jets``)."""

    def check(table: Any, n_files: int) -> None:
        n_classes = len(np.unique(table.label))
        if len(table) < 50 or n_classes < 2:
            raise TrainingDataError(
                f"{len(table)} {what} in {n_classes} class(es) from {n_files} file(s): "
                "need >= 50 jets of >= 2 classes"
            )

    return check


def classifier_metrics(classes: tuple[str, ...], pairs: Pairs) -> Any:
    """An ``evaluate`` reporting per-pair AUC and rejections on the held-out rows."""

    def evaluate(model: Any, val: Any, test: ArrayDataset, job: TrainingJob, trained: bool):
        if not trained:
            return {}, {}
        scores = classification_metrics(predict(model, test), test.target, classes, pairs)
        return {"heldout_jets": len(test), "pairs": scores}, {}

    return evaluate


def pair_lines(metrics: dict[str, Any]) -> list[str]:
    """Headline classifier figures of a finished training."""
    return [
        f"{pair}: AUC {v['auc']:.4f}  1/εB@50% {v['rejection_at_eff50']}  "
        f"1/εB@30% {v['rejection_at_eff30']}  ({v['n_signal']} vs {v['n_background']} jets)"
        for pair, v in metrics.get("pairs", {}).items()
    ]


def describe_classifier(classes: tuple[str, ...]) -> Any:
    """A ``describe`` recording class counts, selection and fit configuration."""

    def describe(job: TrainingJob, table: Any) -> dict[str, Any]:
        return {
            "class_counts": class_counts(classes, table),
            "selection": asdict(job.selection),
            "train_config": asdict(job.train),
        }

    return describe


# -- DeepAK8 and DeepAK8-MD -----------------------------------------------------------------


def _deepak8_build(train: ArrayDataset, job: TrainingJob) -> DeepAK8:
    specs = deepak8_data.group_specs(job.variant)
    return DeepAK8(
        n_pf_features=len(specs[0].var_names),
        n_sv_features=len(specs[1].var_names) if len(specs) > 1 else 0,
        width=job.width,
    )


def _deepak8_evaluate(model, val, test, job: TrainingJob, trained: bool):
    if not trained:
        return {}, {}
    metrics = heldout_metrics(predict(model, test), test, job.adversarial.mass_edges)
    metrics["goals"] = goal_report(metrics)
    return metrics, {}


def _deepak8_recipe(name: str, decorrelation: str | None = None) -> TrainingRecipe:
    """DeepAK8 trained plainly, or decorrelated from the mass by ``"adversary"`` (DeepAK8-MD)
    or ``"disco"`` (distance-correlation penalty, :mod:`jetml.nn.disco`)."""

    def describe(job: TrainingJob, table: Any) -> dict[str, Any]:
        return {
            "class_counts": class_counts(DEEPAK8_CLASSES, table),
            "input_variant": job.variant,
            "selection": asdict(job.selection),
            "train_config": asdict(job.train),
            "adversarial": asdict(job.adversarial) if decorrelation == "adversary" else None,
            **({"disco": asdict(job.disco)} if decorrelation == "disco" else {}),
        }

    def fit_md(model: DeepAK8, train, val, job: TrainingJob) -> TrainResult:
        md = DeepAK8MD(model, n_bins=len(job.adversarial.mass_edges) - 1)
        return fit_adversarial(md, train, val, job.train, job.adversarial)

    def fit_dc(model: DeepAK8, train, val, job: TrainingJob) -> TrainResult:
        return fit_disco(model, train, val, job.train, job.disco)

    fits = {"adversary": {"fit": fit_md}, "disco": {"fit": fit_dc}, None: {}}
    return TrainingRecipe(
        name=name,
        architecture="deepak8",
        selection=deepak8_data.DeepAK8Selection,
        objects="jets",
        read=lambda paths, job, labels: deepak8_data.read_fatjets(
            paths, job.variant, job.selection, require_labels=labels
        ),
        check=check_classes("selected AK8 jets"),
        fit_config=lambda table, job: Fitted(deepak8_data.fit_config(table, job.variant)),
        to_dataset=lambda table, fitted: deepak8_data.to_dataset(table, fitted.config),
        build=_deepak8_build,
        evaluate=_deepak8_evaluate,
        describe=describe,
        report=pair_lines,
        options=("inputs", "pt_max", "lam") if decorrelation else ("inputs", "pt_max"),
        **fits[decorrelation],
    )


# -- DeepJet and DeepDoubleX ----------------------------------------------------------------


def _classifier_recipe(
    name: str,
    selection: type,
    data: Any,
    read: Any,
    network: Any,
    classes: tuple[str, ...],
    pairs: Pairs,
) -> TrainingRecipe:
    """A labelled-jet classifier whose ``data`` module has ``fit_config`` and ``to_dataset``."""
    return TrainingRecipe(
        name=name,
        architecture=name,
        selection=selection,
        objects="jets",
        read=lambda paths, job, labels: read(paths, job.selection, require_labels=labels),
        check=check_classes("labelled jets"),
        fit_config=lambda table, job: Fitted(data.fit_config(table)),
        to_dataset=lambda table, fitted: data.to_dataset(table, fitted.config),
        build=lambda train, job: network(width=job.width),
        evaluate=classifier_metrics(classes, pairs),
        describe=describe_classifier(classes),
        report=pair_lines,
    )


DEEPJET = _classifier_recipe(
    "deepjet",
    deepjet_data.DeepJetSelection,
    deepjet_data,
    deepjet_data.read_deepjet_jets,
    DeepJet,
    DEEPJET_CLASSES,
    DEEPJET_PAIRS,
)
DEEPDOUBLEX = _classifier_recipe(
    "deepdoublex",
    deepdoublex_data.DeepDoubleXSelection,
    deepdoublex_data,
    deepdoublex_data.read_deepdoublex_jets,
    DeepDoubleX,
    DEEPDOUBLEX_CLASSES,
    DEEPDOUBLEX_PAIRS,
)


# -- b-regression ---------------------------------------------------------------------------


def _breg_check(table: Any, n_files: int) -> None:
    if len(table) < 50:
        raise TrainingDataError(
            f"{len(table)} selected b jets with a matched generator jet in {n_files} file(s): "
            "need >= 50"
        )


def _breg_build(train: ArrayDataset, job: TrainingJob) -> BRegression:
    target_info = auto_var_info(train.target.astype(np.float64))
    return BRegression(
        n_features=len(BREG_FEATURES),
        width=job.width,
        target_center=target_info.center,
        target_scale=1.0 / target_info.scale,
    )


def _breg_evaluate(model, val, test, job: TrainingJob, trained: bool):
    if not trained:
        return {}, {}
    metrics = {"heldout_jets": len(test), **regression_metrics(predict(model, test), test.target)}
    metrics["goals"] = goal_report(metrics)
    return metrics, {}


def _breg_lines(metrics: dict[str, Any]) -> list[str]:
    if not metrics:
        return []
    return [
        "relative resolution {resolution_before:.4f} -> {resolution_after:.4f} "
        "(improvement {resolution_improvement:.1%}), quantile coverage "
        "{quantile_coverage:.1%}".format(**metrics)
    ]


BREG = TrainingRecipe(
    name="breg",
    architecture="breg",
    selection=breg_data.BregSelection,
    objects="jets",
    read=lambda paths, job, labels: breg_data.read_breg_jets(
        paths, job.selection, with_target=labels
    ),
    check=_breg_check,
    fit_config=lambda table, job: Fitted(breg_data.fit_config(table)),
    to_dataset=lambda table, fitted: breg_data.to_dataset(table, fitted.config),
    build=_breg_build,
    evaluate=_breg_evaluate,
    describe=lambda job, table: {
        "selection": asdict(job.selection),
        "train_config": asdict(job.train),
    },
    report=_breg_lines,
)


# -- DeepTau --------------------------------------------------------------------------------


def _deeptau_check(table: Any, n_files: int) -> None:
    classes_present = np.unique(table.label)
    if len(table) < 50 or TAU not in classes_present or len(classes_present) < 2:
        raise TrainingDataError(
            f"{len(table)} selected taus in {len(classes_present)} class(es) from {n_files} "
            "file(s): need >= 50 taus, genuine τh and at least one background"
        )


def _deeptau_fit_config(table: Any, job: TrainingJob) -> Fitted:
    config, grid_config = deeptau_data.fit_configs(table)
    return Fitted(config, grid_config)


def _deeptau_build(train: ArrayDataset, job: TrainingJob) -> DeepTau:
    shapes = {name: array.shape[1] for name, array in train.inputs.items()}
    return DeepTau(
        n_tau_features=shapes["tau"],
        n_egamma_features=shapes["inner_egamma"],
        n_muon_features=shapes["inner_muon"],
        n_hadron_features=shapes["inner_hadrons"],
        width=job.width,
    )


def _deeptau_evaluate(model, val, test, job: TrainingJob, trained: bool):
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
    return metrics, {
        "working_point_thresholds": thresholds,
        "working_point_efficiencies": WORKING_POINT_EFFICIENCIES,
    }


def _deeptau_lines(metrics: dict[str, Any]) -> list[str]:
    lines = []
    for background, values in metrics.get("discriminants", {}).items():
        auc = "n/a" if values["auc"] is None else f"{values['auc']:.4f}"
        lines.append(
            f"D_{background}: AUC {auc} ({values['n_tau']} τh vs {values['n_background']})"
        )
    return lines


DEEPTAU = TrainingRecipe(
    name="deeptau",
    architecture="deeptau",
    selection=deeptau_data.TauSelection,
    objects="taus",
    read=lambda paths, job, labels: deeptau_data.read_taus(
        paths, job.selection, require_labels=labels
    ),
    check=_deeptau_check,
    fit_config=_deeptau_fit_config,
    to_dataset=lambda table, fitted: deeptau_data.to_dataset(
        table, fitted.config, fitted.grid_config
    ),
    build=_deeptau_build,
    evaluate=_deeptau_evaluate,
    describe=describe_classifier(DEEPTAU_CLASSES),
    report=_deeptau_lines,
)


RECIPES: dict[str, TrainingRecipe] = {
    recipe.name: recipe
    for recipe in (
        _deepak8_recipe("deepak8"),
        _deepak8_recipe("deepak8_md", "adversary"),
        _deepak8_recipe("deepak8_disco", "disco"),
        DEEPJET,
        DEEPDOUBLEX,
        BREG,
        DEEPTAU,
    )
}
"""Every trainable tagger by name (``jetml train NAME``)."""


def dataset_from_root(card: ModelCard, path: str | Path) -> ArrayDataset:
    """Inputs of a model made by ``jetml train`` for the jets (taus) of a PFNano file (generated
    or real CMS), built with the model's own ``preprocess.json`` (and ``grids.json``): the
    deployment path, for ``jetml validate --data FILE.root``."""
    training = card.training or {}
    recipe = next((r for r in RECIPES.values() if r.architecture == card.architecture), None)
    if recipe is None or "selection" not in training:
        raise ConfigError(
            f"{card.name}: ROOT input needs a model made by 'jetml train' "
            f"({', '.join(RECIPES)}); give an .npz of model inputs instead"
        )
    selection = dict(training["selection"])
    if selection.get("pt_max", 0.0) is None:  # +inf is stored as null in JSON
        selection["pt_max"] = float("inf")
    job = TrainingJob(
        selection=recipe.selection(**selection), variant=training.get("input_variant", "full")
    )
    config: DataConfig = card.load_data_config()
    grids = GridConfig.load(card.file("grid_config")) if card.grid_config else None
    table = recipe.read([path], job, False)
    return recipe.to_dataset(table, Fitted(config, grids))

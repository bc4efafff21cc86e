"""DeepAK8-DisCo: DeepAK8 decorrelated from the jet mass by a distance-correlation penalty
(Kasieczka & Shih, "DisCo Fever", arXiv:2001.05310).

The classifier minimises ``L = L_class + λ · Σ_d dCor²(d, m_SD)`` where ``d`` runs over its
signal-vs-QCD discriminants (``p(X) / (p(X) + p(QCD))``) and dCor² is the squared distance
correlation of that discriminant with the soft-drop mass over the background (QCD) jets of the
batch. dCor² is 0 exactly when the two are independent, so unlike a Pearson penalty it removes
non-linear dependence too; unlike an adversary it needs no second network and no alternating
updates. Same network, inputs and epoch loop as DeepAK8 (:func:`jetml.nn.training.run_epochs`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from jetml.labels import DEEPAK8_CLASSES, DEEPAK8_DISCRIMINANTS, QCD_CLASSES
from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.training import (
    EarlyStopping,
    TrainConfig,
    TrainResult,
    evaluate_loss,
    progress_bar,
    run_epochs,
    seed_everything,
    to_tensors,
    torch_threads,
)


def distance_correlation(
    x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Squared distance correlation dCor²(x, y) of two 1D samples (Székely's V-statistic),
    with optional per-row weights (normalised to mean 1, as in arXiv:2001.05310): in [0, 1],
    0 for independent samples, 1 for ``y = a·x + b``. Differentiable; O(n²) memory."""
    x = x.reshape(-1).to(torch.float64)
    y = y.reshape(-1).to(torch.float64)
    if x.shape != y.shape:
        raise ValueError(f"distance_correlation: {x.numel()} vs {y.numel()} values")
    w = torch.ones_like(x) if weights is None else weights.reshape(-1).to(torch.float64)
    w = w / w.mean()

    def centred(values: torch.Tensor) -> torch.Tensor:
        distance = (values[:, None] - values[None, :]).abs()
        row = (distance * w[None, :]).mean(dim=1)
        return distance - row[:, None] - row[None, :] + (row * w).mean()

    a, b = centred(x), centred(y)

    def moment(m: torch.Tensor) -> torch.Tensor:
        return ((m * w[None, :]).mean(dim=1) * w).mean()

    denominator = torch.sqrt(moment(a * a) * moment(b * b))
    if float(denominator.detach()) <= 0.0:
        return (x.sum() + y.sum()) * 0.0  # a constant sample: no correlation to penalise
    return moment(a * b) / denominator


DEFAULT_DISCRIMINANTS = ("TvsQCD", "WvsQCD", "ZvsQCD", "HbbvsQCD")


@dataclass(frozen=True)
class DiscoConfig:
    """Settings of the distance-correlation decorrelation."""

    lam: float = 1.0
    """λ in ``L_class + λ · Σ dCor²``."""
    discriminants: tuple[str, ...] = DEFAULT_DISCRIMINANTS
    """Names of :data:`jetml.labels.DEEPAK8_DISCRIMINANTS` decorrelated from the mass."""
    background_classes: tuple[str, ...] = QCD_CLASSES
    """Classes whose jets enter the dCor² (the background the mass must not be sculpted in)."""


def _columns(names: tuple[str, ...], classes: tuple[str, ...]) -> list[int]:
    """Indices of ``names`` among the network's ``classes`` (classes it lacks contribute 0)."""
    return [classes.index(name) for name in names if name in classes]


class DiscoLoss:
    """``λ · Σ_d dCor²(d, mass)`` over the background rows of a batch of class probabilities."""

    def __init__(self, config: DiscoConfig, classes: tuple[str, ...] = DEEPAK8_CLASSES) -> None:
        unknown = [d for d in config.discriminants if d not in DEEPAK8_DISCRIMINANTS]
        if unknown:
            raise KeyError(f"unknown DeepAK8 discriminant(s) {unknown}")
        self.lam = config.lam
        self.pairs = [
            (
                _columns(DEEPAK8_DISCRIMINANTS[d].numerator, classes),
                _columns(DEEPAK8_DISCRIMINANTS[d].denominator, classes),
            )
            for d in config.discriminants
        ]
        self.pairs = [(num, den) for num, den in self.pairs if num]
        self.background = _columns(config.background_classes, classes)
        if not self.pairs or not self.background:
            raise KeyError(
                f"network classes {classes} give no discriminant of {config.discriminants} "
                f"or no background class of {config.background_classes}"
            )

    def penalty(
        self, probabilities: torch.Tensor, target: torch.Tensor, mass: torch.Tensor
    ) -> torch.Tensor:
        """Σ_d dCor²(d, mass) over the background rows (0 for fewer than 2 such rows)."""
        is_background = torch.isin(target, torch.as_tensor(self.background))
        if int(is_background.sum()) < 2:
            return probabilities.sum() * 0.0
        p, m = probabilities[is_background], mass[is_background]
        total = p.sum() * 0.0
        for numerator, denominator in self.pairs:
            score = p[:, numerator].sum(dim=1) / p[:, denominator].sum(dim=1).clamp_min(1e-12)
            total = total + distance_correlation(score, m).to(p.dtype)
        return total


def fit_disco(
    model: DeepAK8,
    train: ArrayDataset,
    val: ArrayDataset,
    config: TrainConfig,
    disco: DiscoConfig,
    mass_key: str = "mass",
) -> TrainResult:
    """Train ``model`` on ``L_class + λ · Σ dCor²`` (module docstring); early stopping on the
    validation value of the same loss (batch by batch, as in training). The history records
    the classification loss and the penalty separately; the best weights are restored."""
    for part in (train, val):
        if mass_key not in part.extras:
            raise KeyError(f"dataset lacks the per-jet '{mass_key}' DisCo needs")
    if len(train) < 2 or len(val) < 1:
        raise ValueError(f"need >= 2 training and >= 1 validation rows ({len(train)}, {len(val)})")
    loss_fn = DiscoLoss(disco, tuple(model.output_labels))
    result = TrainResult()
    start = time.perf_counter()
    with torch_threads(config.threads):
        seed_everything(config.seed)
        rng = np.random.default_rng(config.seed)
        names = model.input_names
        train_x, val_x = to_tensors(train, names), to_tensors(val, names)
        train_y, val_y = torch.as_tensor(train.target).long(), torch.as_tensor(val.target).long()
        train_m = torch.as_tensor(np.asarray(train.extras[mass_key], dtype=np.float32))
        val_m = torch.as_tensor(np.asarray(val.extras[mass_key], dtype=np.float32))
        optimizer = torch.optim.Adam(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        stopper = EarlyStopping([model], config.patience, config.min_delta)

        def losses(inputs, target, mass) -> tuple[torch.Tensor, torch.Tensor]:
            logits = model.logits(*inputs)
            class_loss = torch.nn.functional.cross_entropy(logits, target)
            return class_loss, loss_fn.penalty(torch.softmax(logits, dim=1), target, mass)

        def train_step(idx: torch.Tensor) -> float:
            class_loss, penalty = losses(tuple(x[idx] for x in train_x), train_y[idx], train_m[idx])
            loss = class_loss + loss_fn.lam * penalty
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return float(loss.detach())

        def val_part(which: int):
            def part(inputs: tuple[torch.Tensor, ...], index: torch.Tensor) -> torch.Tensor:
                return losses(inputs, val_y[index], val_m[index])[which]

            return part

        def validate() -> dict[str, float]:
            rows = torch.arange(len(val))
            class_loss = evaluate_loss(val_part(0), val_x, rows, config.batch_size)
            penalty = evaluate_loss(val_part(1), val_x, rows, config.batch_size)
            return {
                "val_loss": class_loss + loss_fn.lam * penalty,
                "val_class_loss": class_loss,
                "val_disco_penalty": penalty,
            }

        with progress_bar(config.progress) as progress:
            run_epochs(
                model, config, len(train), rng, train_step, validate, stopper, progress, result
            )
    result.seconds = time.perf_counter() - start
    return result

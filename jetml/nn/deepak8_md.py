"""DeepAK8-MD: DeepAK8 decorrelated from the jet mass by an adversary (CMS-JME-18-002, 5.2.2).

An adversary network reads the classifier's hidden features (the 512-unit FC layer,
:meth:`DeepAK8.embed`) of background (QCD) jets and predicts their soft-drop mass bin. The
classifier minimises ``L = L_class - λ·L_adv``: it keeps classifying while making the mass bin
unpredictable from what it computes, so its scores stop sculpting the QCD mass distribution.
Updates alternate batch by batch: one classifier step on ``L`` (adversary frozen), then
``adversary_steps`` adversary steps on ``L_adv`` (classifier frozen). Only the classifier is
exported; the adversary exists during training only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from jetml.nn.data import ArrayDataset
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.training import (
    EarlyStopping,
    TrainConfig,
    TrainResult,
    batches,
    evaluate_loss,
    progress_bar,
    run_epochs,
    seed_everything,
    to_tensors,
    torch_threads,
)

DEFAULT_MASS_EDGES: tuple[float, ...] = (30.0, 50.0, 70.0, 90.0, 110.0, 130.0, 150.0, 180.0, 250.0)
"""Soft-drop mass bin edges in GeV for the adversary; masses outside go to the first/last bin."""


class MassAdversary(nn.Module):
    """MLP from the classifier's hidden features to logits over mass bins."""

    def __init__(self, n_inputs: int, n_bins: int, hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = n_inputs
        for units in hidden:
            layers += [nn.Linear(previous, units), nn.ReLU()]
            previous = units
        layers.append(nn.Linear(previous, n_bins))
        self.net = nn.Sequential(*layers)
        self.n_bins = n_bins

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.net(hidden)


def mass_bins(mass: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Bin index of each mass for ``len(edges) - 1`` bins; under/overflow join the end bins."""
    if len(edges) < 3 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"mass bin edges must be increasing, at least 3: {edges}")
    index = np.digitize(np.asarray(mass, dtype=np.float64), edges[1:-1])
    return index.astype(np.int64)


@dataclass(frozen=True)
class AdversarialConfig:
    """Settings of the mass decorrelation."""

    lam: float = 1.0
    """λ in ``L_class - λ·L_adv``."""
    mass_edges: tuple[float, ...] = DEFAULT_MASS_EDGES
    background_classes: tuple[int, ...] = (12, 13, 14, 15, 16)
    """Class indices whose jets the adversary sees (DeepAK8's QCD classes by default)."""
    adversary_steps: int = 5
    """Adversary updates per classifier update: the adversary must stay near its optimum, else
    maximising its loss rewards making it confidently wrong (anti-correlation) instead of blind."""
    pretrain_epochs: int = 2
    """Epochs training the adversary alone on the frozen initial classifier before alternating."""
    adversary_learning_rate: float = 1e-3


class DeepAK8MD(nn.Module):
    """The classifier and its adversary, trained together by :func:`fit_adversarial`."""

    def __init__(self, classifier: DeepAK8, n_bins: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        self.classifier = classifier
        self.adversary = MassAdversary(classifier.embedding_size, n_bins, hidden)

    def adversary_loss(
        self, hidden: torch.Tensor, bins: torch.Tensor, is_background: torch.Tensor
    ) -> torch.Tensor:
        """Cross entropy of the adversary's mass-bin prediction on the background jets."""
        if not bool(is_background.any()):
            return hidden.sum() * 0.0
        return nn.functional.cross_entropy(
            self.adversary(hidden[is_background]), bins[is_background]
        )

    def losses(
        self,
        inputs: tuple[torch.Tensor, ...],
        target: torch.Tensor,
        bins: torch.Tensor,
        is_background: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(classification loss on all jets, adversary loss on background jets, hidden features)."""
        hidden = self.classifier.embed(*inputs)
        class_loss = nn.functional.cross_entropy(self.classifier.head(hidden), target)
        return class_loss, self.adversary_loss(hidden, bins, is_background), hidden


def _background_mask(target: np.ndarray, classes: tuple[int, ...]) -> torch.Tensor:
    return torch.as_tensor(np.isin(target, classes))


def fit_adversarial(
    model: DeepAK8MD,
    train: ArrayDataset,
    val: ArrayDataset,
    config: TrainConfig,
    adversarial: AdversarialConfig,
    mass_key: str = "mass",
) -> TrainResult:
    """Alternating training of classifier and adversary (see the module docstring).

    ``train.extras[mass_key]`` holds each jet's soft-drop mass. Early stopping watches the
    validation ``L_class - λ·min(L_adv, H)``, where ``H`` is the entropy of the background
    mass-bin frequencies: the loss of an adversary that learnt nothing. A classifier cannot earn
    more than blinding the adversary, so a momentarily confused adversary (``L_adv > H``) cannot
    make an epoch look better than it is, while the classification loss alone would favour the
    early, still mass-correlated epochs. The history records both validation losses; the best
    classifier and adversary weights are restored.
    """
    for part in (train, val):
        if mass_key not in part.extras:
            raise KeyError(f"dataset lacks the per-jet '{mass_key}' the adversary needs")
    result = TrainResult()
    start = time.perf_counter()
    lam = adversarial.lam
    with torch_threads(config.threads):
        seed_everything(config.seed)
        rng = np.random.default_rng(config.seed)
        classifier, adversary = model.classifier, model.adversary
        names = classifier.input_names
        prepared = []
        for part in (train, val):
            prepared.append(
                (
                    to_tensors(part, names),
                    torch.as_tensor(part.target).long(),
                    torch.as_tensor(mass_bins(part.extras[mass_key], adversarial.mass_edges)),
                    _background_mask(part.target, adversarial.background_classes),
                )
            )
        (train_x, train_y, train_bins, train_bkg), (val_x, val_y, val_bins, val_bkg) = prepared
        classifier_opt = torch.optim.Adam(
            classifier.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        adversary_opt = torch.optim.Adam(
            adversary.parameters(), lr=adversarial.adversary_learning_rate
        )
        stopper = EarlyStopping([classifier, adversary], config.patience, config.min_delta)

        def adversary_step(hidden: torch.Tensor, idx: torch.Tensor) -> float:
            adv_loss = model.adversary_loss(hidden.detach(), train_bins[idx], train_bkg[idx])
            adversary_opt.zero_grad()
            adv_loss.backward()
            adversary_opt.step()
            return float(adv_loss.detach())

        background_bins = train_bins[train_bkg].numpy()
        frequencies = np.bincount(background_bins, minlength=model.adversary.n_bins)
        frequencies = frequencies[frequencies > 0] / max(len(background_bins), 1)
        blind_loss = float(-(frequencies * np.log(frequencies)).sum())

        def val_class_loss(inputs: tuple[torch.Tensor, ...], index: torch.Tensor) -> torch.Tensor:
            return model.losses(inputs, val_y[index], val_bins[index], val_bkg[index])[0]

        def val_adv_loss(inputs: tuple[torch.Tensor, ...], index: torch.Tensor) -> torch.Tensor:
            return model.losses(inputs, val_y[index], val_bins[index], val_bkg[index])[1]

        def train_step(idx: torch.Tensor) -> float:
            class_loss, adv_loss, hidden = model.losses(
                tuple(x[idx] for x in train_x), train_y[idx], train_bins[idx], train_bkg[idx]
            )
            loss = class_loss - lam * adv_loss
            classifier_opt.zero_grad()
            loss.backward()
            classifier_opt.step()
            for _ in range(adversarial.adversary_steps):
                adversary_step(hidden, idx)
            return float(loss.detach())

        def validate() -> dict[str, float]:
            rows_index = torch.arange(len(val))
            val_loss = evaluate_loss(val_class_loss, val_x, rows_index, config.batch_size)
            adv = evaluate_loss(val_adv_loss, val_x, rows_index, config.batch_size)
            return {
                "val_loss": val_loss - lam * min(adv, blind_loss),
                "val_class_loss": val_loss,
                "val_adversary_loss": adv,
                "adversary_blind_loss": blind_loss,
            }

        with progress_bar(config.progress) as progress:
            for epoch in range(adversarial.pretrain_epochs):
                model.train()
                parts = batches(len(train), config.batch_size, rng)
                task = progress.add_task(
                    f"adversary pre-training {epoch + 1}", total=len(parts), loss=0.0
                )
                for index in parts:
                    idx = torch.as_tensor(index)
                    with torch.no_grad():
                        hidden = classifier.embed(*(x[idx] for x in train_x))
                    progress.update(task, advance=1, loss=adversary_step(hidden, idx))
            run_epochs(
                model, config, len(train), rng, train_step, validate, stopper, progress, result
            )
    result.seconds = time.perf_counter() - start
    return result

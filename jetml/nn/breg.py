"""b-jet energy regression: a DNN predicting the pT correction and its resolution.

After the CMS b-jet energy regression (CMS-HIG-18-027 / arXiv:1912.06046): a feed-forward network
on jet-level inputs (``features``: ``(n_features, 1)``, jet kinematics, energy fractions, leading
track and SV properties, soft-lepton information -- whatever regression inputs the samples
provide) with hidden layers of 1024, 1024, 1024, 512, 256 and 128 units (batch norm, dropout,
LeakyReLU; ``width`` scales them) and three outputs:

* ``correction``: the estimate of the target ``y = pT(gen jet including neutrinos) / pT(reco)``;
* ``q25`` and ``q75``: the 25% and 75% quantiles of ``y`` given the inputs, non-crossing by
  construction (``q75 = q25 + softplus(·)``): a free third output let q25 exceed q75 on jets
  unlike the training ones (seen on real CMS jets with a model trained on pileup samples).

The network works on the standardised target ``(y - target_center) / target_scale`` (center and
scale fitted on the training targets like the inputs: median and 68% half-width) and its exported
output is converted back, so the ONNX model returns the physical correction and quantiles.

Loss (:func:`regression_loss`, in standardised units): Huber loss on the correction plus the
pinball (quantile) loss at τ = 0.25 and 0.75 on the quantile outputs. The per-jet resolution
estimate is ``(q75 - q25) / 2`` (:func:`resolution`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from jetml.labels import BREG_OUTPUTS
from jetml.nn.base import TaggerNet, scaled

QUANTILES: tuple[float, float] = (0.25, 0.75)


def pinball_loss(prediction: torch.Tensor, target: torch.Tensor, tau: float) -> torch.Tensor:
    """Mean quantile loss: ``max(τ·r, (τ-1)·r)`` with residual ``r = target - prediction``."""
    residual = target - prediction
    return torch.maximum(tau * residual, (tau - 1.0) * residual).mean()


def regression_loss(
    outputs: torch.Tensor, target: torch.Tensor, huber_delta: float = 1.0
) -> torch.Tensor:
    """Huber loss on the correction plus pinball at τ = 0.25 and 0.75 on the two quantiles."""
    target = target.reshape(-1).to(outputs.dtype)
    loss = nn.functional.huber_loss(outputs[:, 0], target, delta=huber_delta)
    for column, tau in enumerate(QUANTILES, start=1):
        loss = loss + pinball_loss(outputs[:, column], target, tau)
    return loss


def resolution(outputs: np.ndarray) -> np.ndarray:
    """Per-jet resolution estimate ``(q75 - q25) / 2`` from ``(n, 3)`` regression outputs."""
    outputs = np.asarray(outputs)
    return (outputs[:, 2] - outputs[:, 1]) / 2.0


class BRegression(TaggerNet):
    """b-jet energy regression DNN; see the module docstring."""

    architecture = "breg"
    output_name = "regression"

    def __init__(
        self,
        n_features: int = 43,
        hidden: tuple[int, ...] = (1024, 1024, 1024, 512, 256, 128),
        width: float = 1.0,
        dropout: float = 0.1,
        huber_delta: float = 1.0,
        target_center: float = 1.0,
        target_scale: float = 0.1,
    ) -> None:
        super().__init__(
            n_features=n_features,
            hidden=tuple(hidden),
            width=width,
            dropout=dropout,
            huber_delta=huber_delta,
            target_center=target_center,
            target_scale=target_scale,
        )
        if target_scale <= 0:
            raise ValueError(f"target_scale must be positive, got {target_scale}")
        self.n_features = n_features
        self.huber_delta = huber_delta
        self.target_center, self.target_scale = float(target_center), float(target_scale)
        layers: list[nn.Module] = [nn.BatchNorm1d(n_features)]
        previous = n_features
        for units in (scaled(h, width) for h in hidden):
            layers += [
                nn.Linear(previous, units),
                nn.BatchNorm1d(units),
                nn.LeakyReLU(0.2),
                nn.Dropout(dropout),
            ]
            previous = units
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(previous, len(BREG_OUTPUTS))

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"features": (self.n_features, 1)}

    @property
    def output_labels(self) -> tuple[str, ...]:
        return BREG_OUTPUTS

    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Standardised outputs (what the loss sees): correction, q25 and q25 + softplus(·)."""
        raw = self.head(self.body(inputs[0].flatten(1)))
        spread = nn.functional.softplus(raw[:, 2:3])
        return torch.cat([raw[:, :2], raw[:, 1:2] + spread], dim=1)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, 3)``: correction, q25, q75 in units of the target (ratios near 1)."""
        return self.logits(*inputs) * self.target_scale + self.target_center

    def training_loss(self, inputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> torch.Tensor:
        standardised = (target - self.target_center) / self.target_scale
        return regression_loss(self.logits(*inputs), standardised, self.huber_delta)

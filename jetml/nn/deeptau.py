"""DeepTau-like hadronic-tau identification: η-φ grids of candidates plus high-level features.

Architecture after DeepTau v2 (CMS-TAU-20-001, arXiv:2201.08458), at configurable size:

* inputs: high-level tau features ``tau`` ``(n_tau, 1)``; an inner grid of 11 x 11 cells of
  0.02 x 0.02 in η-φ and an outer grid of 21 x 21 cells of 0.05 x 0.05, each carrying three blocks
  of per-cell features -- e/gamma (electrons and photons), muons, hadrons -- as
  ``(n_features, n_eta, n_phi)`` tensors (inputs ``inner_egamma``, ``inner_muon``,
  ``inner_hadrons``, ``outer_egamma``, ``outer_muon``, ``outer_hadrons``); DeepTau v2 uses 47 tau,
  86 e/gamma, 64 muon and 38 hadron features, the defaults here;
* per grid, each block goes through 1x1 convolutions (64, 32 filters: a dense layer per cell),
  the three blocks are concatenated and mixed by 1x1 convolutions (64, 64), then unpadded 3x3
  convolutions of 64 filters shrink the grid to one cell (5 layers for 11 x 11, 10 for 21 x 21);
* the high-level features pass three dense layers of 128 units;
* the three summaries are concatenated and pass dense layers of 200, 200, 100 units to the
  softmax over :data:`DEEPTAU_CLASSES` (e, μ, jet, τ).

Each convolution and dense layer is followed by batch normalisation and PReLU, as in DeepTau;
``width`` multiplies every size. Discriminants against each background alpha (e, mu, jet) are
``D_alpha = y_τ / (y_τ + y_alpha)`` (:func:`discriminants`); working points are thresholds on
D_alpha that keep a target fraction of genuine τh (:func:`working_points`, targets
:data:`WORKING_POINT_EFFICIENCIES`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from jetml.labels import DEEPTAU_CLASSES
from jetml.nn.base import TaggerNet, scaled

BLOCKS: tuple[str, ...] = ("egamma", "muon", "hadrons")
GRIDS: dict[str, tuple[int, float]] = {"inner": (11, 0.02), "outer": (21, 0.05)}
"""Grid name -> (cells per side, cell size in η and φ)."""

WORKING_POINT_EFFICIENCIES: dict[str, dict[str, float]] = {
    "jet": {
        "VVVLoose": 0.98,
        "VVLoose": 0.95,
        "VLoose": 0.90,
        "Loose": 0.80,
        "Medium": 0.70,
        "Tight": 0.60,
        "VTight": 0.50,
        "VVTight": 0.40,
    },
    "e": {
        "VVVLoose": 0.995,
        "VVLoose": 0.99,
        "VLoose": 0.98,
        "Loose": 0.95,
        "Medium": 0.90,
        "Tight": 0.80,
        "VTight": 0.70,
        "VVTight": 0.60,
    },
    "mu": {"VLoose": 0.995, "Loose": 0.99, "Medium": 0.98, "Tight": 0.97},
}
"""Target genuine-τh efficiencies of the working points of each D_alpha: jetml's documented
choice, using DeepTau's WP names and counts (eight against jets and electrons, four against muons;
CMS-TAU-20-001). CMS publishes its WPs as score thresholds; these efficiency targets are not taken
from a CMS table."""


def _conv_block(in_channels: int, out_channels: int, kernel_size: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size),
        nn.BatchNorm2d(out_channels),
        nn.PReLU(out_channels),
    ]


def _dense_block(in_features: int, out_features: int, dropout: float) -> list[nn.Module]:
    return [
        nn.Linear(in_features, out_features),
        nn.BatchNorm1d(out_features),
        nn.PReLU(out_features),
        nn.Dropout(dropout),
    ]


class GridBranch(nn.Module):
    """Three per-block 1x1 stacks, merged by 1x1 convs, then 3x3 convs down to one cell."""

    def __init__(self, block_features: tuple[int, ...], cells: int, width: float) -> None:
        super().__init__()
        if cells % 2 != 1:
            raise ValueError(f"grid side must be odd to shrink to one cell, got {cells}")
        first, second = scaled(64, width), scaled(32, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(*_conv_block(n, first, 1), *_conv_block(first, second, 1))
            for n in block_features
        )
        merged = scaled(64, width)
        layers = [
            *_conv_block(second * len(block_features), merged, 1),
            *_conv_block(merged, merged, 1),
        ]
        for _ in range((cells - 1) // 2):
            layers += _conv_block(merged, merged, 3)
        self.merge = nn.Sequential(*layers)
        self.out_features = merged

    def forward(self, *blocks: torch.Tensor) -> torch.Tensor:
        features = torch.cat([stack(x) for stack, x in zip(self.blocks, blocks, strict=True)], 1)
        return self.merge(features).flatten(1)


class DeepTau(TaggerNet):
    """DeepTau-like classifier; see the module docstring."""

    architecture = "deeptau"

    def __init__(
        self,
        n_tau_features: int = 47,
        n_egamma_features: int = 86,
        n_muon_features: int = 64,
        n_hadron_features: int = 38,
        width: float = 1.0,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(
            n_tau_features=n_tau_features,
            n_egamma_features=n_egamma_features,
            n_muon_features=n_muon_features,
            n_hadron_features=n_hadron_features,
            width=width,
            dropout=dropout,
        )
        block_features = (n_egamma_features, n_muon_features, n_hadron_features)
        self._shapes: dict[str, tuple[int, ...]] = {"tau": (n_tau_features, 1)}
        for grid, (cells, _) in GRIDS.items():
            for block, n in zip(BLOCKS, block_features, strict=True):
                self._shapes[f"{grid}_{block}"] = (n, cells, cells)
        self.inner = GridBranch(block_features, GRIDS["inner"][0], width)
        self.outer = GridBranch(block_features, GRIDS["outer"][0], width)
        high_level = scaled(128, width)
        self.high_level = nn.Sequential(
            *_dense_block(n_tau_features, high_level, dropout),
            *_dense_block(high_level, high_level, dropout),
            *_dense_block(high_level, high_level, dropout),
        )
        sizes = (scaled(200, width), scaled(200, width), scaled(100, width))
        previous = high_level + self.inner.out_features + self.outer.out_features
        dense: list[nn.Module] = []
        for units in sizes:
            dense += _dense_block(previous, units, dropout)
            previous = units
        self.dense = nn.Sequential(*dense)
        self.head = nn.Linear(previous, len(DEEPTAU_CLASSES))

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self._shapes)

    @property
    def output_labels(self) -> tuple[str, ...]:
        return DEEPTAU_CLASSES

    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        tau, inner_egamma, inner_muon, inner_hadrons, outer_egamma, outer_muon, outer_hadrons = (
            inputs
        )
        summary = torch.cat(
            [
                self.high_level(tau.flatten(1)),
                self.inner(inner_egamma, inner_muon, inner_hadrons),
                self.outer(outer_egamma, outer_muon, outer_hadrons),
            ],
            dim=1,
        )
        return self.head(self.dense(summary))


def working_points(
    genuine_tau_discriminant: np.ndarray, efficiencies: dict[str, float]
) -> dict[str, float]:
    """Threshold t of each working point: ``D >= t`` keeps at least the target fraction of τh.

    ``genuine_tau_discriminant`` holds D_alpha for genuine hadronic taus (e.g. a held-out sample);
    ``efficiencies`` maps WP names to targets, e.g. ``WORKING_POINT_EFFICIENCIES["jet"]``.
    """
    values = np.asarray(genuine_tau_discriminant, dtype=np.float64)
    if values.size == 0:
        raise ValueError("working points need at least one genuine tau")
    for name, efficiency in efficiencies.items():
        if not 0.0 < efficiency < 1.0:
            raise ValueError(f"working point {name}: efficiency {efficiency} not in (0, 1)")
    return {
        name: float(np.quantile(values, 1.0 - efficiency, method="lower"))
        for name, efficiency in efficiencies.items()
    }

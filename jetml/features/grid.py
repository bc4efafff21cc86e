"""2D eta-phi grid inputs for DeepTau-like models.

Candidates around an axis (a tau or jet direction) are binned into a square grid of
``n_cells x n_cells`` cells of size ``cell_size`` in (delta-eta, delta-phi); each cell holds
the sum of chosen candidate features and the number of candidates in it. With an odd
``n_cells`` the axis lies at the centre of the middle cell, as in DeepTau's inner (11 x 11,
0.02) and outer (21 x 21, 0.05) grids. One ``np.bincount`` per channel, no Python loops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import ConfigError, ModelInputError


@dataclass(frozen=True)
class GridSpec:
    """Grid geometry: ``n_cells`` per side, ``cell_size`` in eta and phi."""

    n_cells: int
    cell_size: float

    def __post_init__(self) -> None:
        if self.n_cells < 1 or not self.cell_size > 0:
            raise ConfigError(f"grid needs n_cells >= 1 and cell_size > 0, got {self}")


def relative_coordinates(
    eta: ak.Array, phi: ak.Array, axis_eta: Any, axis_phi: Any
) -> tuple[ak.Array, ak.Array]:
    """(delta-eta, delta-phi) of jagged candidates to a per-jet axis; delta-phi in [-pi, pi)."""
    deta = eta - axis_eta
    dphi = (phi - axis_phi + np.pi) % (2 * np.pi) - np.pi
    return deta, dphi


def cell_indices(deta: np.ndarray, dphi: np.ndarray, spec: GridSpec) -> tuple[np.ndarray, ...]:
    """Integer (eta, phi) cell of each position and whether it lies inside the grid."""
    half = spec.n_cells / 2.0
    with np.errstate(invalid="ignore"):
        ieta = np.floor(deta / spec.cell_size + half)
        iphi = np.floor(dphi / spec.cell_size + half)
        inside = (ieta >= 0) & (ieta < spec.n_cells) & (iphi >= 0) & (iphi < spec.n_cells)
    inside &= np.isfinite(deta) & np.isfinite(dphi)
    return (
        np.where(inside, ieta, 0).astype(np.int64),
        np.where(inside, iphi, 0).astype(np.int64),
        inside,
    )


def build_grid(
    deta: ak.Array,
    dphi: ak.Array,
    values: Mapping[str, ak.Array],
    spec: GridSpec,
    *,
    with_counts: bool = True,
) -> np.ndarray:
    """Per-cell sums of ``values`` (and counts) as float32 ``(n_jets, channels, n, n)``.

    Channels are the ``values`` in their order, then the candidate count if ``with_counts``;
    the third axis is eta, the fourth phi. Candidates outside the grid or with non-finite
    position are left out; non-finite feature values count as 0.
    """
    counts = ak.to_numpy(ak.num(deta, axis=1)).astype(np.int64)
    n_jets = len(counts)
    flat_deta = ak.to_numpy(ak.flatten(deta, axis=1)).astype(np.float64)
    flat_dphi = ak.to_numpy(ak.flatten(dphi, axis=1)).astype(np.float64)
    if len(flat_dphi) != len(flat_deta) or not np.array_equal(
        ak.to_numpy(ak.num(dphi, axis=1)), counts
    ):
        raise ModelInputError("grid: deta and dphi have different candidates per jet")
    ieta, iphi, inside = cell_indices(flat_deta, flat_dphi, spec)
    jet = np.repeat(np.arange(n_jets, dtype=np.int64), counts)
    n = spec.n_cells
    cell = ((jet * n + ieta) * n + iphi)[inside]
    size = n_jets * n * n
    channels: list[np.ndarray] = []
    for name, array in values.items():
        if not np.array_equal(ak.to_numpy(ak.num(array, axis=1)), counts):
            raise ModelInputError(f"grid: value '{name}' has different candidates per jet")
        flat = ak.to_numpy(ak.flatten(array, axis=1)).astype(np.float64)
        flat = np.where(np.isfinite(flat), flat, 0.0)[inside]
        channels.append(np.bincount(cell, weights=flat, minlength=size))
    if with_counts:
        channels.append(np.bincount(cell, minlength=size).astype(np.float64))
    if not channels:
        raise ConfigError("grid: no channels requested (no values and with_counts=False)")
    stacked = np.stack(channels, axis=0).reshape(len(channels), n_jets, n, n)
    return np.ascontiguousarray(stacked.transpose(1, 0, 2, 3), dtype=np.float32)

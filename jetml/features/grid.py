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
    flat_deta = ak.to_numpy(ak.flatten(deta, axis=1))
    flat_dphi = ak.to_numpy(ak.flatten(dphi, axis=1))
    if len(flat_dphi) != len(flat_deta) or not np.array_equal(
        ak.to_numpy(ak.num(dphi, axis=1)), counts
    ):
        raise ModelInputError("grid: deta and dphi have different candidates per jet")
    flat_values: dict[str, np.ndarray] = {}
    for name, array in values.items():
        if not np.array_equal(ak.to_numpy(ak.num(array, axis=1)), counts):
            raise ModelInputError(f"grid: value '{name}' has different candidates per jet")
        flat_values[name] = ak.to_numpy(ak.flatten(array, axis=1))
    jet = np.repeat(np.arange(n_jets, dtype=np.int64), counts)
    cells = GridCells(flat_deta, flat_dphi, spec)
    return cells.sums(jet, n_jets, list(flat_values.values()), with_counts=with_counts)


class GridCells:
    """The cell of each of a flat list of positions in one grid (computed once, reused for
    several selections of the positions and several channels)."""

    def __init__(self, deta: np.ndarray, dphi: np.ndarray, spec: GridSpec) -> None:
        self.spec = spec
        ieta, iphi, self.inside = cell_indices(
            np.asarray(deta, dtype=np.float64), np.asarray(dphi, dtype=np.float64), spec
        )
        self.cell = ieta * spec.n_cells + iphi

    def sums(
        self,
        jet: np.ndarray,
        n_jets: int,
        values: list[np.ndarray],
        *,
        select: np.ndarray | None = None,
        with_counts: bool = True,
    ) -> np.ndarray:
        """Float32 ``(n_jets, channels, n, n)`` cell sums of ``values`` (flat, aligned with
        the positions, or with ``positions[select]``), then the count channel; ``jet`` gives
        each (selected) position's jet. Sums run in float64 in position order."""
        n = self.spec.n_cells
        inside = self.inside if select is None else self.inside[select]
        local = self.cell if select is None else self.cell[select]
        cell = (jet * (n * n) + local)[inside]
        size = n_jets * n * n
        channels: list[np.ndarray] = []
        for array in values:
            flat = np.asarray(array, dtype=np.float64)
            flat = np.where(np.isfinite(flat), flat, 0.0)[inside]
            channels.append(np.bincount(cell, weights=flat, minlength=size))
        if with_counts:
            channels.append(np.bincount(cell, minlength=size).astype(np.float64))
        if not channels:
            raise ConfigError("grid: no channels requested (no values and with_counts=False)")
        stacked = np.stack(channels, axis=0).reshape(len(channels), n_jets, n, n)
        return np.ascontiguousarray(stacked.transpose(1, 0, 2, 3), dtype=np.float32)

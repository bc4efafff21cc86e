"""Event energy density rho: FastJet's grid-median estimator, vectorised over a batch.

``Rho_fixedGridRhoFastjetAll`` in CMS (``FixedGridRhoProducerFastjet``, all PF candidates,
|y| < 5, grid spacing 0.55) is FastJet's ``GridMedianBackgroundEstimator``: the rapidity range
and 2 pi are cut into n_y = int(2 y_max / 0.55 + 0.5) x n_phi = int(2 pi / 0.55 + 0.5) equal tiles,
each tile's scalar pT sum is divided by its area, and rho is the median over all tiles (empty ones
included). The fastjet package exposes that estimator only
particle by particle (``PseudoJet`` lists, one event at a time), so it is written here with numpy
for whole batches and checked against ``fastjet.GridMedianBackgroundEstimator`` in the tests.
"""

from __future__ import annotations

import numpy as np

RHO_MAX_RAPIDITY = 5.0
RHO_GRID_SPACING = 0.55


def grid_median_rho(
    offsets: np.ndarray,
    pt: np.ndarray,
    rapidity: np.ndarray,
    phi: np.ndarray,
    *,
    max_rapidity: float = RHO_MAX_RAPIDITY,
    spacing: float = RHO_GRID_SPACING,
) -> np.ndarray:
    """rho (GeV per unit area) of every event of the batch."""
    n_events = len(offsets) - 1
    n_y = int(2 * max_rapidity / spacing + 0.5)
    n_phi = int(2 * np.pi / spacing + 0.5)
    d_y, d_phi = 2 * max_rapidity / n_y, 2 * np.pi / n_phi
    event = np.repeat(np.arange(n_events), np.diff(offsets))
    inside = np.abs(rapidity) < max_rapidity
    iy = np.minimum(((rapidity[inside] + max_rapidity) / d_y).astype(np.int64), n_y - 1)
    iphi = np.minimum((np.mod(phi[inside], 2 * np.pi) / d_phi).astype(np.int64), n_phi - 1)
    n_tiles = n_y * n_phi
    tile = event[inside] * n_tiles + iy * n_phi + iphi
    sums = np.bincount(tile, pt[inside], minlength=n_events * n_tiles).reshape(n_events, n_tiles)
    # FastJet's median of the tiles: the mean of the two middle values for an even tile count.
    return np.median(sums / (d_y * d_phi), axis=1)

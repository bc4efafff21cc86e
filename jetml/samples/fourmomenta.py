"""Cylindrical coordinates of flat Cartesian four-momentum columns (px, py, pz, E)."""

from __future__ import annotations

import numpy as np


class CartesianKinematics:
    """Mixin for dataclasses with ``px``, ``py``, ``pz``, ``energy`` arrays: pt, eta, phi, mass."""

    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.px, self.py)

    @property
    def eta(self) -> np.ndarray:
        return np.arcsinh(self.pz / np.maximum(self.pt, 1e-12))

    @property
    def phi(self) -> np.ndarray:
        return np.arctan2(self.py, self.px)

    @property
    def mass(self) -> np.ndarray:
        m2 = self.energy**2 - self.px**2 - self.py**2 - self.pz**2
        return np.sqrt(np.maximum(m2, 0.0))

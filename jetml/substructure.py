"""Traditional (cut-based) AK8 taggers from the same jets the networks see: a soft-drop mass
window plus one substructure variable, as scores a ROC curve can scan.

* top: m_SD in [105, 210] GeV and N-subjettiness ratio τ3/τ2;
* W (Z): m_SD in [65, 105] ([70, 110]) GeV and τ2/τ1;
* H→bb: m_SD in [90, 140] GeV and a double-b proxy: for each of the two soft-drop subjets the
  largest 3D flight-distance significance (``SV_dlenSig``) of the secondary vertices within
  ΔR < 0.4 of its axis; jets rank by the weaker subjet's value (both subjets must look like b),
  then, among jets with at most one such subjet, by the stronger one's.

A traditional tagger's score is ``1[m_SD in window] + s`` with ``s`` in [0, 1) growing with the
signal-likeness of the substructure variable (``1 - τ_ratio``, :func:`double_b_variable`): a
cut on it is the mass window plus a cut on the variable, and scanning it over the full range
gives one continuous ROC curve (jets outside the window come last). Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping

import awkward as ak
import numpy as np
from numpy.typing import ArrayLike

MASS_WINDOWS: dict[str, tuple[float, float]] = {
    "top": (105.0, 210.0),
    "W": (65.0, 105.0),
    "Z": (70.0, 110.0),
    "Hbb": (90.0, 140.0),
}
"""Soft-drop mass windows (GeV) of the traditional taggers, by signal class."""
SUBJET_SV_RADIUS = 0.4
"""ΔR between an SV and a subjet axis for the SV to count for that subjet."""


def tau_ratio(numerator: ArrayLike, denominator: ArrayLike) -> np.ndarray:
    """``τ_N / τ_{N-1}`` per jet; 1 (the background-like end) where the denominator is not > 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
    return np.clip(np.nan_to_num(ratio, nan=1.0), 0.0, 1.0)


def window_score(mass: ArrayLike, window: tuple[float, float], variable: ArrayLike) -> np.ndarray:
    """``1[mass in window] + variable``, where ``variable`` in [0, 1) grows with signal-likeness."""
    mass = np.asarray(mass, dtype=np.float64)
    value = np.clip(np.nan_to_num(np.asarray(variable, dtype=np.float64), nan=0.0), 0.0, 1.0)
    inside = (mass >= window[0]) & (mass <= window[1])
    return inside.astype(np.float64) + np.minimum(value, np.nextafter(1.0, 0.0))


def _delta_r(eta1: ak.Array, phi1: ak.Array, eta2: ak.Array, phi2: ak.Array) -> ak.Array:
    dphi = (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi
    return np.sqrt((eta1 - eta2) ** 2 + dphi**2)


def subjet_sv_significance(events: ak.Array, radius: float = SUBJET_SV_RADIUS) -> ak.Array:
    """Per event and subjet (``SubJet``): the largest ``SV_dlenSig`` of the SVs within ΔR <
    ``radius`` of the subjet axis, 0 when there is none."""
    subjets, vertices = events.SubJet, events.SV
    pairs = ak.cartesian({"sub": subjets, "sv": vertices}, nested=True)
    dr = _delta_r(pairs.sub.eta, pairs.sub.phi, pairs.sv.eta, pairs.sv.phi)
    significance = ak.where(dr < radius, pairs.sv.dlenSig, 0.0)
    return ak.fill_none(ak.max(significance, axis=-1), 0.0)


def subjet_pair_significance(
    events: ak.Array, radius: float = SUBJET_SV_RADIUS
) -> tuple[ak.Array, ak.Array]:
    """Per event and AK8 jet (``FatJet``): the weaker and the stronger of its two subjets'
    :func:`subjet_sv_significance` (0 for a missing subjet or one without SV)."""
    per_subjet = ak.fill_none(ak.pad_none(subjet_sv_significance(events, radius), 1, axis=1), 0.0)
    jets = events.FatJet
    values = []
    for field in ("subJetIdx1", "subJetIdx2"):
        index = jets[field]
        valid = (index >= 0) & (index < ak.num(per_subjet, axis=1))
        picked = per_subjet[ak.where(valid, index, 0)]
        values.append(ak.where(valid, picked, 0.0))
    return np.minimum(values[0], values[1]), np.maximum(values[0], values[1])


def double_b_variable(weaker: ArrayLike, stronger: ArrayLike) -> np.ndarray:
    """The H→bb substructure variable in [0, 1): jets with an SV in both subjets rank above
    all others, by the weaker subjet's significance (``0.5 + 0.5 w/(1+w)``); the rest by the
    stronger subjet's (``0.5 s/(1+s)``), so single-b jets are not all tied at zero."""
    weaker = np.maximum(np.asarray(weaker, dtype=np.float64), 0.0)
    stronger = np.maximum(np.asarray(stronger, dtype=np.float64), 0.0)
    return np.where(weaker > 0, 0.5 + 0.5 * weaker / (1 + weaker), 0.5 * stronger / (1 + stronger))


def traditional_scores(
    mass: ArrayLike,
    tau1: ArrayLike,
    tau2: ArrayLike,
    tau3: ArrayLike,
    b_weaker: ArrayLike,
    b_stronger: ArrayLike,
    windows: Mapping[str, tuple[float, float]] = MASS_WINDOWS,
) -> dict[str, np.ndarray]:
    """The traditional taggers' scores of flat per-jet arrays, by signal class (top, W, Z, Hbb);
    ``b_weaker``/``b_stronger``: :func:`subjet_pair_significance`."""
    tau32, tau21 = tau_ratio(tau3, tau2), tau_ratio(tau2, tau1)
    variables = {
        "top": 1.0 - tau32,
        "W": 1.0 - tau21,
        "Z": 1.0 - tau21,
        "Hbb": double_b_variable(b_weaker, b_stronger),
    }
    return {name: window_score(mass, windows[name], variables[name]) for name in windows}

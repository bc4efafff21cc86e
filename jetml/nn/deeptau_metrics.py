"""DeepTau's card metrics (numpy), used by its training recipe (:mod:`jetml.nn.recipes`).

Held-out figures in the card: ROC AUC of D_e, D_μ, D_jet (genuine τh against each background);
working points (:data:`jetml.nn.deeptau.WORKING_POINT_EFFICIENCIES`) fixed on the *validation*
taus, and at each the held-out genuine-τh efficiency and background fake rate; the cut-based
isolation (``Tau_idIsoCut`` Loose/Medium/Tight) against D_jet at equal genuine-τh efficiency.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jetml.labels import DEEPTAU_CLASSES, DEEPTAU_DISCRIMINANTS, discriminant_scores
from jetml.nn.metrics import roc_auc

TAU = DEEPTAU_CLASSES.index("tau")
CUT_BASED_WPS = {"Loose": 1, "Medium": 2, "Tight": 4}
"""``Tau_idIsoCut`` bits of the cut-based isolation working points."""


def discriminants(probabilities: np.ndarray) -> dict[str, np.ndarray]:
    """D_alpha for alpha in e, mu, jet (:data:`jetml.labels.DEEPTAU_DISCRIMINANTS`), in float64."""
    scores = discriminant_scores(
        DEEPTAU_DISCRIMINANTS, DEEPTAU_CLASSES, np.asarray(probabilities, dtype=np.float64)
    )
    return {name.removeprefix("VS"): values for name, values in scores.items()}


def discriminant_metrics(
    probabilities: np.ndarray,
    target: np.ndarray,
    thresholds: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """AUC of each D_alpha (τh vs alpha) and, per working point, τh efficiency and alpha fake
    rate; None where the held-out set lacks τh or alpha."""
    scores = discriminants(probabilities)
    genuine = target == TAU
    result: dict[str, Any] = {}
    for background, values in scores.items():
        fake = target == DEEPTAU_CLASSES.index(background)
        entry: dict[str, Any] = {"n_tau": int(genuine.sum()), "n_background": int(fake.sum())}
        entry["auc"] = (
            roc_auc(values[genuine | fake], genuine[genuine | fake])
            if genuine.any() and fake.any()
            else None
        )
        entry["working_points"] = {
            wp: {
                "threshold": cut,
                "tau_efficiency": float(np.mean(values[genuine] >= cut)) if genuine.any() else None,
                "fake_rate": float(np.mean(values[fake] >= cut)) if fake.any() else None,
            }
            for wp, cut in thresholds.get(background, {}).items()
        }
        result[background] = entry
    return result


def cut_based_comparison(
    d_jet: np.ndarray, target: np.ndarray, id_iso_cut: np.ndarray
) -> dict[str, dict[str, float | None]]:
    """For each cut-based isolation WP: its τh efficiency and jet-fake rate, and the jet-fake rate
    of D_jet at the threshold giving the same τh efficiency (None without τh or jets)."""
    genuine = target == TAU
    jet = target == DEEPTAU_CLASSES.index("jet")
    result: dict[str, dict[str, float | None]] = {}
    if not genuine.any() or not jet.any():
        return result
    for wp, bit in CUT_BASED_WPS.items():
        passes = (id_iso_cut & bit) != 0
        efficiency = float(passes[genuine].mean())
        passing = round(efficiency * int(genuine.sum()))  # genuine τh the cut-based WP keeps
        threshold = (
            float(np.sort(d_jet[genuine])[::-1][passing - 1]) if passing > 0 else float("inf")
        )
        result[wp] = {
            "tau_efficiency": efficiency,
            "jet_fake_rate": float(passes[jet].mean()),
            "deeptau_threshold": threshold,
            "deeptau_tau_efficiency": float(np.mean(d_jet[genuine] >= threshold)),
            "deeptau_jet_fake_rate": float(np.mean(d_jet[jet] >= threshold)),
        }
    return result

"""Held-out performance figures for the model cards: ROC AUC, background rejection, resolution.

Plain numpy (no torch), so cards can be recomputed anywhere. Classifier figures are computed per
signal-vs-background pair on the discriminant ``sum(p_signal) / (sum(p_signal) + sum(p_bkg))``,
using only jets truly of the signal or the background classes, as the CMS papers quote them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def roc_auc(scores: np.ndarray, is_signal: np.ndarray) -> float:
    """Area under the ROC curve: probability that a signal jet outscores a background jet (ties
    count one half), from the Mann-Whitney rank statistic."""
    scores = np.asarray(scores, dtype=np.float64)
    is_signal = np.asarray(is_signal, dtype=bool)
    n_signal, n_background = int(is_signal.sum()), int((~is_signal).sum())
    if n_signal == 0 or n_background == 0:
        raise ValueError("AUC needs both signal and background jets")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    rank_sum = ranks[is_signal].sum()
    return float((rank_sum - n_signal * (n_signal + 1) / 2.0) / (n_signal * n_background))


def background_rejection(
    scores: np.ndarray, is_signal: np.ndarray, signal_efficiency: float
) -> float | None:
    """``1/εB`` at the threshold that keeps ``signal_efficiency`` of the signal.

    None when no background jet passes (rejection beyond what the sample can measure).
    """
    scores = np.asarray(scores, dtype=np.float64)
    is_signal = np.asarray(is_signal, dtype=bool)
    if not 0.0 < signal_efficiency <= 1.0:
        raise ValueError(f"signal efficiency {signal_efficiency} not in (0, 1]")
    threshold = np.quantile(scores[is_signal], 1.0 - signal_efficiency, method="higher")
    passed = np.count_nonzero(scores[~is_signal] >= threshold)
    if passed == 0:
        return None
    return float(np.count_nonzero(~is_signal) / passed)


def pair_discriminant(
    probabilities: np.ndarray, signal: Sequence[int], background: Sequence[int]
) -> np.ndarray:
    """``p_S / (p_S + p_B)`` with p summed over the signal and background class columns."""
    p_signal = probabilities[:, list(signal)].sum(axis=1).astype(np.float64)
    p_background = probabilities[:, list(background)].sum(axis=1).astype(np.float64)
    total = p_signal + p_background
    return np.divide(p_signal, total, out=np.zeros_like(total), where=total > 0)


def classification_metrics(
    probabilities: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    pairs: Mapping[str, tuple[Sequence[str], Sequence[str]]],
    efficiencies: Sequence[float] = (0.5, 0.3),
) -> dict[str, dict[str, float | int | None]]:
    """For each named pair (signal class names, background class names): AUC, ``1/εB`` at each
    signal efficiency, and the numbers of signal and background jets used. Pairs lacking jets of
    either kind are skipped."""
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.asarray(labels)
    result: dict[str, dict[str, float | int | None]] = {}
    for pair, (signal_names, background_names) in pairs.items():
        signal = [index[n] for n in signal_names]
        background = [index[n] for n in background_names]
        selected = np.isin(labels, signal + background)
        is_signal = np.isin(labels[selected], signal)
        if is_signal.all() or not is_signal.any():
            continue
        scores = pair_discriminant(probabilities[selected], signal, background)
        entry: dict[str, float | int | None] = {
            "auc": roc_auc(scores, is_signal),
            "n_signal": int(is_signal.sum()),
            "n_background": int((~is_signal).sum()),
        }
        for efficiency in efficiencies:
            key = f"rejection_at_eff{round(efficiency * 100)}"
            entry[key] = background_rejection(scores, is_signal, efficiency)
        result[pair] = entry
    return result


def effective_resolution(response: np.ndarray) -> float:
    """Relative resolution of a response distribution: half the 16-84% interval over the median."""
    p16, p50, p84 = np.percentile(np.asarray(response, dtype=np.float64), [16, 50, 84])
    return float((p84 - p16) / 2.0 / p50)


def regression_metrics(outputs: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """b-regression figures from ``(n, 3)`` outputs (correction, q25, q75) and targets
    ``y = pT_gen / pT_reco``:

    * ``resolution_before``: effective relative resolution of the uncorrected response
      ``pT_reco / pT_gen = 1/y``; ``resolution_after``: of the corrected response
      ``correction / y``; ``resolution_improvement``: ``1 - after/before``;
    * ``mean_predicted_resolution``: mean of ``(q75 - q25) / 2``;
    * ``quantile_coverage``: fraction of targets inside ``[q25, q75]`` (50% when calibrated).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64).reshape(-1)
    before = effective_resolution(1.0 / target)
    after = effective_resolution(outputs[:, 0] / target)
    inside = (target >= outputs[:, 1]) & (target <= outputs[:, 2])
    return {
        "resolution_before": before,
        "resolution_after": after,
        "resolution_improvement": 1.0 - after / before,
        "mean_predicted_resolution": float(np.mean((outputs[:, 2] - outputs[:, 1]) / 2.0)),
        "quantile_coverage": float(inside.mean()),
    }

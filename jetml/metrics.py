"""Tagger performance with statistical uncertainties: ROC curves, 1/εB at a signal efficiency, AUC.

Everything starts from a :class:`RocCurve`: per score bin (or per distinct score, for arrays) the
signal and background counts, highest scores first; a jet passes a threshold when its score is
``>=`` it. Curves come from score arrays or from 1D ``hist.Hist`` of the score (e.g. the
processor's ``<tagger>_<score>`` histograms projected on the truth labels with
:func:`select_labels`). Counts are unweighted jets.

Uncertainties (68 %), two methods, named in every result:

* ``"binomial"``: Clopper-Pearson interval of the background efficiency at the fixed threshold
  that keeps the requested signal efficiency (the threshold's own fluctuation is neglected);
* ``"bootstrap"``: Poisson bootstrap of both signal and background counts (each jet's weight
  drawn from Poisson(1), seeded), the threshold recomputed in each replica; the 16th and 84th
  percentiles of the replicas.

Torch-free (part of the notebook API).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import hist
import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

CONFIDENCE = 0.6827
"""Coverage of every interval here (one standard deviation)."""
METHODS = ("binomial", "bootstrap")
BOOTSTRAP_REPLICAS = 300
BOOTSTRAP_BLOCK_CELLS = 4_000_000
"""Replicas are drawn in blocks of about this many counts, to bound memory."""


@dataclass(frozen=True)
class RocCurve:
    """Signal and background counts per threshold, highest threshold first.

    ``signal_counts[i]`` / ``background_counts[i]`` are the jets whose score lies in
    ``[thresholds[i], thresholds[i-1])``; a cut ``score >= thresholds[i]`` keeps the cumulative
    sums up to ``i``.
    """

    thresholds: np.ndarray
    signal_counts: np.ndarray
    background_counts: np.ndarray

    @property
    def n_signal(self) -> int:
        """Signal jets in the curve."""
        return int(self.signal_counts.sum())

    @property
    def n_background(self) -> int:
        """Background jets in the curve."""
        return int(self.background_counts.sum())

    @property
    def signal_efficiency(self) -> np.ndarray:
        """εS of each threshold."""
        return np.cumsum(self.signal_counts) / self.n_signal

    @property
    def background_efficiency(self) -> np.ndarray:
        """εB of each threshold."""
        return np.cumsum(self.background_counts) / self.n_background

    @property
    def rejection(self) -> np.ndarray:
        """1/εB of each threshold (inf where no background jet passes)."""
        passed = np.cumsum(self.background_counts).astype(np.float64)
        with np.errstate(divide="ignore"):
            return np.where(passed > 0, self.n_background / np.maximum(passed, 1), np.inf)

    def rejection_band(self) -> tuple[np.ndarray, np.ndarray]:
        """Clopper-Pearson 68 % band of 1/εB along the curve: (low, high)."""
        passed = np.cumsum(self.background_counts)
        eff_low, eff_high = clopper_pearson(passed, self.n_background)
        with np.errstate(divide="ignore"):
            return 1.0 / eff_high, np.where(eff_low > 0, 1.0 / np.maximum(eff_low, 1e-300), np.inf)


@dataclass(frozen=True)
class Estimate:
    """A number with its 68 % interval, the method that gave it and the jets behind it."""

    value: float
    low: float
    high: float
    method: str
    n_signal: int
    n_background: int

    @property
    def error_low(self) -> float:
        """value - low."""
        return self.value - self.low

    @property
    def error_high(self) -> float:
        """high - value."""
        return self.high - self.value

    def __str__(self) -> str:
        return f"{self.value:.4g} +{self.error_high:.2g} -{self.error_low:.2g}"

    def to_dict(self) -> dict[str, float | int | str]:
        """value, 68 % interval, method and jet counts, for a results file (an interval edge
        that is infinite, e.g. a bootstrap upper edge where too many replicas have no
        background jet passing, is written as ``"unbounded"``)."""
        return {
            "value": self.value,
            "low": self.low if np.isfinite(self.low) else "unbounded",
            "high": self.high if np.isfinite(self.high) else "unbounded",
            "method": self.method,
            "n_signal": self.n_signal,
            "n_background": self.n_background,
        }


@dataclass(frozen=True)
class Rejection(Estimate):
    """1/εB at a signal efficiency. When no background jet passes, ``value`` and ``high`` are
    inf and ``low`` is the 68 % CL lower limit."""

    signal_efficiency: float
    """The requested εS."""
    achieved_signal_efficiency: float
    """εS of the chosen threshold (the tightest cut keeping at least the requested εS)."""
    threshold: float
    background_passed: int

    @property
    def measured(self) -> bool:
        """False when no background jet passed (only a lower limit is known)."""
        return self.background_passed > 0

    def to_dict(self) -> dict[str, float | int | str]:
        """As :meth:`Estimate.to_dict`, plus εS and threshold; when no background jet passed,
        only the 68 % CL lower limit (``lower_limit``) instead of value and interval."""
        record = {
            **super().to_dict(),
            "signal_efficiency": self.achieved_signal_efficiency,
            "threshold": self.threshold,
            "background_passed": self.background_passed,
        }
        if not self.measured:
            for key in ("value", "low", "high"):
                del record[key]
            record["lower_limit"] = self.low
        return record

    def __str__(self) -> str:
        if not self.measured:
            return f"> {self.low:.3g} (no background jet of {self.n_background} passes)"
        return super().__str__()


def clopper_pearson(
    passed: ArrayLike, total: int, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of the efficiency ``passed / total``: (low, high)."""
    passed = np.asarray(passed, dtype=np.float64)
    tail = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore"):
        low = np.where(passed > 0, beta.ppf(tail, passed, total - passed + 1), 0.0)
        high = np.where(passed < total, beta.ppf(1.0 - tail, passed + 1, total - passed), 1.0)
    return low, high


def select_labels(histogram: hist.Hist, labels: Sequence[str], axis: str = "label") -> hist.Hist:
    """The sum of the slices ``labels`` of the category ``axis``: a histogram without it."""
    present = list(histogram.axes[axis])
    if missing := [label for label in labels if label not in present]:
        raise ValueError(f"labels {missing} not on axis {axis!r} (has {present})")
    if not labels:
        raise ValueError("select_labels: no label given")
    return sum(
        (histogram[{axis: hist.loc(label)}] for label in labels[1:]),
        start=histogram[{axis: hist.loc(labels[0])}],
    )


def roc_curve(signal: ArrayLike | hist.Hist, background: ArrayLike | hist.Hist) -> RocCurve:
    """The ROC curve of signal and background scores: two arrays, or two 1D histograms with
    the same binning (then the thresholds are the bin lower edges). NaN scores are dropped."""
    if isinstance(signal, hist.Hist) or isinstance(background, hist.Hist):
        return _curve_from_hists(signal, background)
    sig = _finite(signal)
    bkg = _finite(background)
    _check_sizes(len(sig), len(bkg))
    values, inverse = np.unique(np.concatenate([sig, bkg]), return_inverse=True)
    is_sig = np.arange(len(inverse)) < len(sig)
    sig_counts = np.bincount(inverse[is_sig], minlength=len(values))
    bkg_counts = np.bincount(inverse[~is_sig], minlength=len(values))
    return RocCurve(values[::-1], sig_counts[::-1], bkg_counts[::-1])


def _finite(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    return array[~np.isnan(array)]


def _check_sizes(n_signal: float, n_background: float) -> None:
    if n_signal <= 0 or n_background <= 0:
        raise ValueError(
            f"a ROC curve needs signal and background jets (got {n_signal:g} signal, "
            f"{n_background:g} background)"
        )


def _counts(histogram: hist.Hist) -> np.ndarray:
    """Counts of a 1D histogram as (underflow, bins..., overflow), zero for absent flow bins."""
    if histogram.ndim != 1:
        raise ValueError(f"expected a 1D score histogram, got axes {histogram.axes.name}")
    values = histogram.values(flow=True)
    variances = histogram.variances(flow=True)
    if variances is not None and not np.allclose(variances, values):
        raise ValueError("weighted histograms are not supported (counts must be jets)")
    traits = histogram.axes[0].traits
    under = [] if traits.underflow else [0.0]
    over = [] if traits.overflow else [0.0]
    return np.concatenate([under, values, over])


def _curve_from_hists(signal: hist.Hist, background: hist.Hist) -> RocCurve:
    if not (isinstance(signal, hist.Hist) and isinstance(background, hist.Hist)):
        raise TypeError("roc_curve: give two arrays or two hist.Hist, not a mix")
    edges = signal.axes[0].edges
    if not np.array_equal(edges, background.axes[0].edges):
        raise ValueError("roc_curve: signal and background histograms have different binning")
    sig, bkg = _counts(signal), _counts(background)
    _check_sizes(sig.sum(), bkg.sum())
    # from the top: overflow (cut at the upper edge), the bins (cut at their lower edges),
    # underflow (no cut)
    thresholds = np.concatenate([edges[::-1], [-np.inf]])
    return RocCurve(thresholds, _as_counts(sig[::-1]), _as_counts(bkg[::-1]))


def _as_counts(values: np.ndarray) -> np.ndarray:
    rounded = np.rint(values)
    if not np.allclose(values, rounded):
        raise ValueError("histogram counts must be whole numbers of jets")
    return rounded.astype(np.int64)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _threshold_index(cumulative_signal: np.ndarray, n_signal: np.ndarray, efficiency: float):
    """Index of the tightest threshold keeping at least ``efficiency`` of the signal (last axis)."""
    target = np.asarray(efficiency * n_signal)[..., np.newaxis]
    return np.argmax(cumulative_signal >= target - 1e-9 * np.maximum(target, 1), axis=-1)


def rejection_at(
    curve: RocCurve,
    signal_efficiency: float,
    *,
    method: str = "binomial",
    replicas: int = BOOTSTRAP_REPLICAS,
    seed: int = 0,
) -> Rejection:
    """1/εB at the tightest threshold keeping at least ``signal_efficiency`` of the signal, with
    its 68 % interval from ``method`` (see the module docstring; ``seed`` and ``replicas`` are
    used by the bootstrap)."""
    _check_method(method)
    if not 0.0 < signal_efficiency <= 1.0:
        raise ValueError(f"signal efficiency {signal_efficiency} not in (0, 1]")
    cum_sig = np.cumsum(curve.signal_counts)
    cum_bkg = np.cumsum(curve.background_counts)
    n_sig, n_bkg = curve.n_signal, curve.n_background
    index = int(_threshold_index(cum_sig, np.asarray(n_sig), signal_efficiency))
    passed = int(cum_bkg[index])
    value = n_bkg / passed if passed else np.inf
    eff_low, eff_high = (float(x) for x in clopper_pearson(passed, n_bkg))
    if method == "binomial" or passed == 0:
        low, high = 1.0 / eff_high, (1.0 / eff_low if eff_low > 0 else np.inf)
        label = "binomial (Clopper-Pearson 68%)"
    else:
        replica_values = _bootstrap_rejections(curve, signal_efficiency, replicas, seed)
        low, high = np.quantile(replica_values, [0.1587, 0.8413], method="nearest")
        label = f"bootstrap ({replicas} Poisson replicas, seed {seed})"
    return Rejection(
        value=float(value),
        low=float(low),
        high=float(high),
        method=label,
        n_signal=n_sig,
        n_background=n_bkg,
        signal_efficiency=signal_efficiency,
        achieved_signal_efficiency=float(cum_sig[index] / n_sig),
        threshold=float(curve.thresholds[index]),
        background_passed=passed,
    )


def _replica_blocks(curve: RocCurve, replicas: int, seed: int):
    """Yield (signal, background) Poisson-resampled count arrays, a block of replicas at a time."""
    rng = np.random.default_rng(seed)
    bins = len(curve.thresholds)
    block = max(1, BOOTSTRAP_BLOCK_CELLS // max(bins, 1))
    for start in range(0, replicas, block):
        size = min(block, replicas - start)
        yield (
            rng.poisson(curve.signal_counts, (size, bins)),
            rng.poisson(curve.background_counts, (size, bins)),
        )


def _bootstrap_rejections(
    curve: RocCurve, efficiency: float, replicas: int, seed: int
) -> np.ndarray:
    parts = []
    for sig, bkg in _replica_blocks(curve, replicas, seed):
        cum_sig, cum_bkg = np.cumsum(sig, axis=1), np.cumsum(bkg, axis=1)
        index = _threshold_index(cum_sig, cum_sig[:, -1], efficiency)
        passed = np.take_along_axis(cum_bkg, index[:, np.newaxis], axis=1)[:, 0]
        with np.errstate(divide="ignore"):
            parts.append(np.where(passed > 0, cum_bkg[:, -1] / np.maximum(passed, 1), np.inf))
    return np.concatenate(parts)


def _auc_of_counts(sig: np.ndarray, bkg: np.ndarray) -> np.ndarray:
    """AUC of count arrays (last axis, highest threshold first): P(s > b) + P(s = b)/2."""
    below = bkg.sum(axis=-1, keepdims=True) - np.cumsum(bkg, axis=-1)  # background strictly lower
    wins = (sig * (below + 0.5 * bkg)).sum(axis=-1)
    return wins / (sig.sum(axis=-1) * bkg.sum(axis=-1))


def auc(curve: RocCurve, *, replicas: int = BOOTSTRAP_REPLICAS, seed: int = 0) -> Estimate:
    """Area under the ROC curve (ties count one half; exact for arrays, binned for histograms),
    with its bootstrap 68 % interval."""
    value = float(_auc_of_counts(curve.signal_counts, curve.background_counts))
    replica_values = np.concatenate(
        [_auc_of_counts(s, b) for s, b in _replica_blocks(curve, replicas, seed)]
    )
    low, high = np.quantile(replica_values, [0.1587, 0.8413])
    return Estimate(
        value,
        float(low),
        float(high),
        f"bootstrap ({replicas} Poisson replicas, seed {seed})",
        curve.n_signal,
        curve.n_background,
    )


def performance(
    curve: RocCurve,
    efficiencies: Sequence[float] = (0.3, 0.5),
    *,
    method: str = "bootstrap",
    seed: int = 0,
) -> dict[str, Estimate]:
    """AUC and 1/εB at each signal efficiency of one curve: ``{"auc": ..., "rejection_eff30":
    ..., ...}`` (``str`` of each gives value and interval; ``to_dict`` the results record)."""
    found: dict[str, Estimate] = {"auc": auc(curve, seed=seed)}
    for efficiency in efficiencies:
        key = f"rejection_eff{round(100 * efficiency)}"
        found[key] = rejection_at(curve, efficiency, method=method, seed=seed)
    return found

"""How much a tagger sculpts the QCD soft-drop mass: Jensen-Shannon divergence between the QCD
mass distributions passing and failing a cut, QCD mass after cuts at fixed QCD efficiencies,
and the mean score in bins of mass.

The JSD is the one of the mass-decorrelation literature (e.g. arXiv:2001.05310): base-2
logarithms (0: identical shapes, 1: disjoint), computed on unweighted jet counts in
:data:`JSD_EDGES` (30 bins of 10 GeV over 0-300 GeV; masses outside go to the end bins). The
cut keeps a stated fraction of the *signal* (50 % by default); 1/JSD grows with decorrelation.
A finite QCD sample has a JSD floor even for a perfectly decorrelated tagger (about
``(bins - 1) / (8 ln 2) · (1/N_pass + 1/N_fail)``), so 1/JSD saturates near
:func:`jsd_floor`'s inverse. Torch-free (part of the notebook API).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import hist
import numpy as np
from numpy.typing import ArrayLike

from jetml.metrics import BOOTSTRAP_REPLICAS, Estimate

JSD_EDGES: np.ndarray = np.arange(0.0, 310.0, 10.0)
"""Soft-drop mass binning of the JSD (GeV): 30 bins of 10 GeV on 0-300 GeV, end bins catch
what lies outside."""
QCD_EFFICIENCIES = (0.10, 0.02, 0.005)
"""QCD efficiencies of the sculpting plots."""


def threshold_at_efficiency(scores: ArrayLike, efficiency: float) -> float:
    """The tightest threshold ``t`` with ``mean(scores >= t) >= efficiency`` (NaN scores count
    as failing), as :func:`jetml.metrics.rejection_at` chooses it."""
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency {efficiency} not in (0, 1]")
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(values) == 0:
        raise ValueError("threshold_at_efficiency: no scores")
    ordered = np.sort(values[~np.isnan(values)])[::-1]
    needed = int(np.ceil(efficiency * len(values) - 1e-9 * len(values)))
    if needed > len(ordered):
        raise ValueError(f"only {len(ordered)} of {len(values)} scores are numbers")
    return float(ordered[max(needed, 1) - 1])


def _mass_counts(mass: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None):
    clipped = np.clip(mass, edges[0], np.nextafter(edges[-1], edges[0]))
    return np.histogram(clipped, bins=edges, weights=weights)[0].astype(np.float64)


def jensen_shannon(p: ArrayLike, q: ArrayLike) -> float | np.ndarray:
    """JSD (base 2) of two histograms of counts (last axis; normalised here; NaN when one
    of them is empty)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty histogram gives NaN
        p = p / p.sum(axis=-1, keepdims=True)
        q = q / q.sum(axis=-1, keepdims=True)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray) -> np.ndarray:
        ratio = np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)
        return np.where(a > 0, a * np.log2(ratio), 0.0)

    result = 0.5 * kl(p).sum(axis=-1) + 0.5 * kl(q).sum(axis=-1)
    return float(result) if result.ndim == 0 else result


def jsd_floor(n_pass: int, n_fail: int, bins: int = len(JSD_EDGES) - 1) -> float:
    """Expected JSD of two samples of ``n_pass`` and ``n_fail`` jets drawn from the same
    distribution (leading order, all bins populated): the statistical floor of the JSD."""
    return (bins - 1) / (8.0 * np.log(2.0)) * (1.0 / n_pass + 1.0 / n_fail)


@dataclass(frozen=True)
class Sculpting:
    """JSD between the QCD mass passing and failing the cut at a signal efficiency."""

    jsd: float
    inverse: Estimate
    """1/JSD with a 68 % interval from the spread of Poisson-bootstrap replicas (QCD jets
    resampled, the cut held fixed), their 16/84 % quantiles relative to their median applied
    around the measured value (resampling itself raises a JSD near its floor)."""
    threshold: float
    signal_efficiency: float
    background_efficiency: float
    n_pass: int
    n_fail: int
    floor: float
    """:func:`jsd_floor` of these counts."""

    def to_dict(self) -> dict[str, float | int | str | dict]:
        """For a results file."""
        return {
            "jsd": self.jsd,
            "inverse_jsd": self.inverse.to_dict(),
            "threshold": self.threshold,
            "signal_efficiency": self.signal_efficiency,
            "background_efficiency": self.background_efficiency,
            "n_pass": self.n_pass,
            "n_fail": self.n_fail,
            "jsd_statistical_floor": self.floor,
        }


def mass_sculpting(
    signal_scores: ArrayLike,
    background_scores: ArrayLike,
    background_mass: ArrayLike,
    *,
    signal_efficiency: float = 0.5,
    edges: ArrayLike = JSD_EDGES,
    replicas: int = BOOTSTRAP_REPLICAS,
    seed: int = 0,
) -> Sculpting:
    """JSD of the background mass passing vs failing the cut that keeps ``signal_efficiency``
    of the signal, and 1/JSD with a Poisson-bootstrap 68 % interval over the background jets
    (:attr:`Sculpting.inverse`)."""
    edges = np.asarray(edges, dtype=np.float64)
    signal = np.asarray(signal_scores, dtype=np.float64)
    scores = np.asarray(background_scores, dtype=np.float64)
    mass = np.asarray(background_mass, dtype=np.float64)
    if scores.shape != mass.shape:
        raise ValueError(f"{len(scores)} background scores for {len(mass)} masses")
    threshold = threshold_at_efficiency(signal, signal_efficiency)
    passed = scores >= threshold
    n_pass, n_fail = int(passed.sum()), int((~passed).sum())
    if n_pass == 0 or n_fail == 0:
        raise ValueError(
            f"JSD needs background jets passing and failing the cut ({n_pass} pass, {n_fail} fail)"
        )
    pass_counts, fail_counts = _mass_counts(mass[passed], edges), _mass_counts(mass[~passed], edges)
    value = float(jensen_shannon(pass_counts, fail_counts))
    rng = np.random.default_rng(seed)
    # Poisson bootstrap per jet = Poisson bootstrap per (pass/fail, mass bin) cell
    replica_jsd = jensen_shannon(
        rng.poisson(pass_counts, (replicas, len(pass_counts))),
        rng.poisson(fail_counts, (replicas, len(fail_counts))),
    )
    # Resampling adds noise, which raises a JSD near its floor: the replicas' 16/84 % quantiles
    # relative to their median give the spread, applied around the measured value.
    # (a replica with no passing or no failing jet has no JSD and is left out)
    q16, q50, q84 = np.nanquantile(np.asarray(replica_jsd), [0.1587, 0.5, 0.8413])
    inverse = 1.0 / value if value > 0 else np.inf
    estimate = Estimate(
        inverse,
        float(inverse * q50 / q84),
        float(inverse * q50 / q16) if q16 > 0 else np.inf,
        f"bootstrap spread ({replicas} Poisson replicas of the QCD jets, seed {seed}; "
        "quantiles relative to the replicas' median)",
        int((signal >= threshold).sum()),
        len(scores),
    )
    return Sculpting(
        jsd=value,
        inverse=estimate,
        threshold=threshold,
        signal_efficiency=float(np.mean(signal >= threshold)),
        background_efficiency=n_pass / len(scores),
        n_pass=n_pass,
        n_fail=n_fail,
        floor=jsd_floor(n_pass, n_fail, len(edges) - 1),
    )


def mass_after_cuts(
    background_scores: ArrayLike,
    mass: ArrayLike,
    efficiencies: Sequence[float] = QCD_EFFICIENCIES,
    *,
    edges: ArrayLike = JSD_EDGES,
    scores: ArrayLike | None = None,
) -> dict[str, hist.Hist]:
    """Mass histograms of the jets passing the cuts that keep ``efficiencies`` of the
    background (thresholds from ``background_scores``); ``scores``/``mass`` are the jets to
    histogram (default: the background itself, e.g. pass the signal's to see its mass after the
    same cuts). Keys ``"inclusive"`` and ``"eff10%"``-style labels; masses outside ``edges``
    are counted in the end bins, as for the JSD."""
    background = np.asarray(background_scores, dtype=np.float64)
    values = background if scores is None else np.asarray(scores, dtype=np.float64)
    mass = np.asarray(mass, dtype=np.float64)
    if values.shape != mass.shape:
        raise ValueError(f"{len(values)} scores for {len(mass)} masses")
    edges = np.asarray(edges, dtype=np.float64)
    axis = hist.axis.Variable(edges, name="msd", label="m_SD [GeV]")
    mass = np.clip(mass, edges[0], np.nextafter(edges[-1], edges[0]))  # end bins take the rest
    found = {"inclusive": hist.Hist(axis).fill(mass)}
    for efficiency in efficiencies:
        cut = threshold_at_efficiency(background, efficiency)
        found[f"eff{100 * efficiency:g}%"] = hist.Hist(axis).fill(mass[values >= cut])
    return found


@dataclass(frozen=True)
class Profile:
    """Mean score per mass bin with its standard error and the jets in each bin."""

    edges: np.ndarray
    mean: np.ndarray
    error: np.ndarray
    counts: np.ndarray

    @property
    def centers(self) -> np.ndarray:
        """Bin centres."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def mean_score_vs_mass(scores: ArrayLike, mass: ArrayLike, edges: ArrayLike = JSD_EDGES) -> Profile:
    """Mean score of the jets in each mass bin (NaN where empty) with its standard error
    (std / sqrt(n); NaN for fewer than 2 jets)."""
    edges = np.asarray(edges, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    mass = np.asarray(mass, dtype=np.float64)
    index = np.digitize(mass, edges) - 1
    inside = (index >= 0) & (index < len(edges) - 1)
    index, scores = index[inside], scores[inside]
    counts = np.bincount(index, minlength=len(edges) - 1).astype(np.float64)
    sums = np.bincount(index, scores, minlength=len(edges) - 1)
    squares = np.bincount(index, scores**2, minlength=len(edges) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sums / counts
        variance = (squares - counts * mean**2) / (counts - 1)
        error = np.where(counts > 1, np.sqrt(np.maximum(variance, 0.0) / counts), np.nan)
    return Profile(edges, mean, error, counts.astype(np.int64))

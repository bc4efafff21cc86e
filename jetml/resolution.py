"""b-jet energy regression study: response resolution, per-jet resolution coverage, m_bb.

Definitions (stated in every result):

* response ``r = pT / pT(gen jet with neutrinos)`` of b jets (``GenJet_ptWithNu``, the
  regression target); relative resolution = half the 16-84 % width of ``r`` over its median
  (:func:`quantile_resolution`), and sigma/μ of a Gaussian fitted to the core (:func:`core_fit`:
  the bins within ±1.5 x the quantile width around the median);
* per-jet estimate ``(q75 - q25) / 2`` of the regression; its coverage is the fraction of jets
  whose true ratio ``pT(gen, nu) / pT`` lies in [q25, q75] (50 % expected);
* m_bb of the two leading b jets, before and after the correction, fitted with a Bukin function
  (:func:`bukin`: a Gaussian core with asymmetric tails, ROOT's RooBukinPdf); resolution
  = sigma_p / X_p of the fit.

Uncertainties: Poisson bootstrap of jets/events (seeded) or the fit's covariance, as named.
Torch-free (part of the notebook API).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np
from coffea.nanoevents.methods import vector
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit

from jetml.metrics import Estimate, clopper_pearson

QUANTILES = (0.1587, 0.8413)
REPLICAS = 200


def quantile_resolution(response: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Half the 16-84 % width of the response over its median."""
    r = np.asarray(response, dtype=np.float64)
    if weights is None:
        q16, q50, q84 = np.quantile(r, [QUANTILES[0], 0.5, QUANTILES[1]])
    else:
        q16, q50, q84 = _weighted_quantiles(r, np.asarray(weights, dtype=np.float64))
    return float(0.5 * (q84 - q16) / q50)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    targets = np.array([QUANTILES[0], 0.5, QUANTILES[1]]) * cumulative[-1]
    return values[order][np.minimum(np.searchsorted(cumulative, targets), len(values) - 1)]


def _gauss(x: np.ndarray, norm: float, mean: float, sigma: float) -> np.ndarray:
    return norm * np.exp(-0.5 * ((x - mean) / sigma) ** 2)


def core_fit(response: ArrayLike, bins: int = 40) -> Estimate:
    """sigma/μ of a Gaussian fitted (least squares, Poisson errors) to the histogram of the
    response within ±1.5 x the 16-84 % half width around the median; the 68 % interval from
    the fit covariance."""
    r = np.asarray(response, dtype=np.float64)
    median = float(np.median(r))
    half = 0.5 * float(np.diff(np.quantile(r, QUANTILES))[0])
    counts, edges = np.histogram(r, bins, (median - 1.5 * half, median + 1.5 * half))
    centers = 0.5 * (edges[1:] + edges[:-1])
    params, cov = curve_fit(
        _gauss,
        centers,
        counts,
        p0=(counts.max(), median, half),
        sigma=np.sqrt(np.maximum(counts, 1.0)),
        absolute_sigma=True,
        bounds=((0.0, median - half, 1e-3 * half), (np.inf, median + half, 10 * half)),
    )
    _, mean, sigma = params
    ratio = sigma / mean
    error = ratio * np.sqrt(
        cov[2, 2] / sigma**2 + cov[1, 1] / mean**2 - 2 * cov[1, 2] / (sigma * mean)
    )
    return Estimate(
        float(ratio),
        float(ratio - error),
        float(ratio + error),
        "Gaussian core fit (±1.5 half-widths), fit covariance",
        len(r),
        0,
    )


def bootstrap(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    replicas: int = REPLICAS,
    seed: int = 0,
) -> tuple[float, float]:
    """68 % interval (16th, 84th percentile) of ``statistic(weights)`` over Poisson(1) weights
    of ``n`` items (seeded)."""
    rng = np.random.default_rng(seed)
    values = [statistic(rng.poisson(1.0, n).astype(np.float64)) for _ in range(replicas)]
    low, high = np.quantile(values, QUANTILES)
    return float(low), float(high)


def resolution(response: ArrayLike, *, replicas: int = REPLICAS, seed: int = 0) -> Estimate:
    """:func:`quantile_resolution` with its Poisson-bootstrap 68 % interval."""
    r = np.asarray(response, dtype=np.float64)
    low, high = bootstrap(lambda w: quantile_resolution(r, w), len(r), replicas=replicas, seed=seed)
    return Estimate(
        quantile_resolution(r),
        low,
        high,
        f"half 16-84% width / median, bootstrap ({replicas} replicas, seed {seed})",
        len(r),
        0,
    )


def improvement(
    before: ArrayLike, after: ArrayLike, *, replicas: int = REPLICAS, seed: int = 0
) -> Estimate:
    """1 - resolution(after)/resolution(before) of the same jets, with a bootstrap interval
    (one weight per jet for both, so the correlation is kept)."""
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)

    def stat(w: np.ndarray | None) -> float:
        return 1.0 - quantile_resolution(a, w) / quantile_resolution(b, w)

    low, high = bootstrap(stat, len(b), replicas=replicas, seed=seed)
    method = f"1 - after/before of half 16-84% width/median, bootstrap ({replicas}, seed {seed})"
    return Estimate(stat(None), low, high, method, len(b), 0)


@dataclass(frozen=True)
class BinnedResolution:
    """Resolution before and after per bin of a jet variable."""

    edges: np.ndarray
    before: list[Estimate]
    after: list[Estimate]


def resolution_in_bins(
    variable: ArrayLike,
    before: ArrayLike,
    after: ArrayLike,
    edges: Sequence[float],
    *,
    min_jets: int = 10,
    replicas: int = REPLICAS,
    seed: int = 0,
) -> BinnedResolution:
    """Before/after resolution in bins of ``variable`` (e.g. pT, |η|); bins with fewer than
    ``min_jets`` jets are dropped from ``edges`` (merged into none)."""
    x = np.asarray(variable, dtype=np.float64)
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    kept_edges, res_b, res_a = [], [], []
    for low, high in itertools.pairwise(edges):
        inside = (x >= low) & (x < high)
        if inside.sum() < min_jets:
            continue
        kept_edges.append((low, high))
        res_b.append(resolution(b[inside], replicas=replicas, seed=seed))
        res_a.append(resolution(a[inside], replicas=replicas, seed=seed))
    return BinnedResolution(np.array(kept_edges, dtype=np.float64), res_b, res_a)


@dataclass(frozen=True)
class Coverage:
    """Fraction of jets whose true ratio lies in [q25, q75], per bin of the estimate."""

    edges: np.ndarray
    inside: np.ndarray
    total: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


def quantile_coverage(
    truth: ArrayLike, q25: ArrayLike, q75: ArrayLike, *, bins: int = 4
) -> Coverage:
    """Coverage of [q25, q75] in ``bins`` equally populated bins of the per-jet relative
    estimate (q75 - q25) / 2 (Clopper-Pearson 68 % intervals)."""
    y = np.asarray(truth, dtype=np.float64)
    lo = np.asarray(q25, dtype=np.float64)
    hi = np.asarray(q75, dtype=np.float64)
    estimate = 0.5 * (hi - lo)
    edges = np.quantile(estimate, np.linspace(0.0, 1.0, bins + 1))
    index = np.clip(np.searchsorted(edges, estimate, side="right") - 1, 0, bins - 1)
    covered = (y >= lo) & (y <= hi)
    total = np.bincount(index, minlength=bins)
    inside = np.bincount(index[covered], minlength=bins)
    value = inside / np.maximum(total, 1)
    low, high = clopper_pearson(inside, total)
    return Coverage(edges, inside, total, value, np.asarray(low), np.asarray(high))


def bukin(x: ArrayLike, xp: float, sigp: float, xi: float, rho1: float, rho2: float) -> np.ndarray:
    """The Bukin function (peak ``xp``, width ``sigp``, asymmetry ``xi``, tails ``rho1`` /
    ``rho2``), unnormalised, as ROOT's RooBukinPdf: for ``xi = rho1 = rho2 = 0`` a Gaussian
    within the full width at half maximum around the peak, exponential tails outside."""
    x = np.asarray(x, dtype=np.float64)
    consts = 2.0 * np.sqrt(2.0 * np.log(2.0))
    hp = sigp * consts
    r3 = np.log(2.0)
    r4 = np.sqrt(xi**2 + 1.0)
    r1 = xi / r4
    small = abs(xi) <= np.exp(-6.0)
    r5 = 1.0 if small else xi / np.log(r4 + xi)
    x1 = xp + hp / 2 * (r1 - 1)
    x2 = xp + hp / 2 * (r1 + 1)
    left = (
        rho1 * ((x - x1) / (xp - x1)) ** 2 - r3 + 4 * r3 * (x - x1) / hp * r5 * r4 / (r4 - xi) ** 2
    )
    right = (
        rho2 * ((x - x2) / (xp - x2)) ** 2 - r3 - 4 * r3 * (x - x2) / hp * r5 * r4 / (r4 + xi) ** 2
    )
    if small:
        center = -4 * r3 * ((x - xp) / hp) ** 2
    else:
        with np.errstate(invalid="ignore"):
            arg = np.log(np.maximum(1 + 4 * xi * r4 * (x - xp) / hp, 1e-300))
            center = -r3 * (arg / np.log(1 + 2 * xi * (xi - r4))) ** 2
    exponent = np.where(x < x1, left, np.where(x < x2, center, right))
    return np.where(np.abs(exponent) > 100, 0.0, np.exp(np.clip(exponent, -100, 100)))


@dataclass(frozen=True)
class BukinFit:
    """A Bukin fit of a mass distribution: peak, width and sigma/μ with fit-covariance errors."""

    peak: float
    peak_error: float
    width: float
    width_error: float
    params: np.ndarray
    n: int

    @property
    def relative(self) -> Estimate:
        """sigma_p / X_p with its propagated fit error."""
        ratio = self.width / self.peak
        error = ratio * np.hypot(self.width_error / self.width, self.peak_error / self.peak)
        return Estimate(
            ratio, ratio - error, ratio + error, "Bukin fit sigmap/Xp, fit covariance", self.n, 0
        )


def fit_bukin(
    masses: ArrayLike,
    value_range: tuple[float, float],
    bins: int = 30,
    weights: ArrayLike | None = None,
) -> BukinFit:
    """Least-squares Bukin fit (Poisson errors, empty bins error 1) of the histogram of
    ``masses`` in ``value_range``; starts from the median and the 16-84 % half width."""
    m = np.asarray(masses, dtype=np.float64)
    counts, edges = np.histogram(m, bins, value_range, weights=weights)
    centers = 0.5 * (edges[1:] + edges[:-1])
    inside = m[(m >= value_range[0]) & (m < value_range[1])]
    median = float(np.median(inside))
    half = 0.5 * float(np.diff(np.quantile(inside, QUANTILES))[0])

    def model(x, norm, xp, sigp, xi, rho1, rho2):
        return norm * bukin(x, xp, sigp, xi, rho1, rho2)

    params, cov = curve_fit(
        model,
        centers,
        counts,
        p0=(counts.max(), median, half, 0.0, 0.0, 0.0),
        sigma=np.sqrt(np.maximum(counts, 1.0)),
        absolute_sigma=True,
        bounds=(
            (0.0, value_range[0], 0.05 * half, -1.0, -1.0, -1.0),
            (np.inf, value_range[1], 5 * half, 1.0, 1.0, 1.0),
        ),
        maxfev=20000,
    )
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return BukinFit(params[1], errors[1], params[2], errors[2], params, len(inside))


def leading_b_jet_pair(jets: ak.Array, correction: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    """m_bb of the two leading (by raw pT) b jets of each event that has two, before and after
    scaling each jet's four-momentum by its ``correction`` (same jagged shape as ``jets``)."""
    corrected = ak.zip(
        {
            "pt": jets.pt * correction,
            "eta": jets.eta,
            "phi": jets.phi,
            "mass": jets.mass * correction,
        },
        with_name="PtEtaPhiMLorentzVector",
        behavior=vector.behavior,
    )
    raw = ak.zip(
        {"pt": jets.pt, "eta": jets.eta, "phi": jets.phi, "mass": jets.mass},
        with_name="PtEtaPhiMLorentzVector",
        behavior=vector.behavior,
    )
    order = ak.argsort(jets.pt, ascending=False)
    two = ak.num(jets.pt) >= 2

    def mass(vectors: ak.Array) -> np.ndarray:
        chosen = vectors[order][two]
        return ak.to_numpy((chosen[:, 0] + chosen[:, 1]).mass).astype(np.float64)

    return mass(raw), mass(corrected)


def regressed_b_jets(events: ak.Array, tagger: str = "breg") -> dict[str, np.ndarray]:
    """Flat arrays of the b jets (``hadronFlavour`` 5) the regression evaluated in tagged
    ``events`` that have a matched generator jet: ``pt``, ``eta``, ``gen_pt_nu``
    (``GenJet_ptWithNu``), ``correction``, ``q25``, ``q75``, and the responses ``raw`` and
    ``corrected`` (pT / pT(gen, nu), before and after the correction)."""
    jets = events.Jet
    correction = jets[f"jetml_{tagger}_correction"]
    gen = _gen_pt_with_nu(events)
    keep = _regressed_b(jets, correction) & ~ak.is_none(gen, axis=1)
    flat = {
        "pt": jets.pt,
        "eta": jets.eta,
        "gen_pt_nu": gen,
        "correction": correction,
        "q25": jets[f"jetml_{tagger}_q25"],
        "q75": jets[f"jetml_{tagger}_q75"],
    }
    out = {
        k: ak.to_numpy(ak.flatten(ak.fill_none(v[keep], np.nan))).astype(np.float64)
        for k, v in flat.items()
    }
    out["raw"] = out["pt"] / out["gen_pt_nu"]
    out["corrected"] = out["raw"] * out["correction"]
    return out


def event_b_jets(events: ak.Array, tagger: str = "breg") -> tuple[ak.Array, ak.Array]:
    """Per event, the b jets (``hadronFlavour`` 5) the regression evaluated, and their
    corrections: the input of :func:`leading_b_jet_pair`."""
    jets = events.Jet
    correction = jets[f"jetml_{tagger}_correction"]
    keep = _regressed_b(jets, correction)
    return jets[keep], correction[keep]


def generator_corrections(events: ak.Array, tagger: str = "breg") -> ak.Array:
    """For the jets of :func:`event_b_jets`, pT(gen jet with neutrinos) / pT where a generator
    jet is matched, 1 elsewhere: what a perfect per-jet energy correction would apply. m_bb with
    it (:func:`leading_b_jet_pair`) is the floor an energy regression alone can reach; the
    angles, the choice of the two jets and unmatched jets still smear it."""
    jets = events.Jet
    keep = _regressed_b(jets, jets[f"jetml_{tagger}_correction"])
    return ak.fill_none(_gen_pt_with_nu(events) / jets.pt, 1.0)[keep]


def _regressed_b(jets: ak.Array, correction: ak.Array) -> ak.Array:
    """b jets (``hadronFlavour`` 5) the regression evaluated (a finite correction)."""
    return (jets.hadronFlavour == 5) & ~np.isnan(correction)


def _gen_pt_with_nu(events: ak.Array) -> ak.Array:
    """Per ``Jet``, its matched generator jet's pT with neutrinos; None where unmatched."""
    index = events.Jet.genJetIdx
    valid = (index >= 0) & (index < ak.num(events.GenJet.pt, axis=1))
    return events.GenJet.ptWithNu[ak.mask(index, valid)]


def mass_resolution_improvement(
    raw: ArrayLike,
    corrected: ArrayLike,
    value_range: tuple[float, float],
    *,
    bins: int = 30,
    replicas: int = 100,
    seed: int = 0,
) -> Estimate:
    """1 - (sigma_p/X_p after) / (sigma_p/X_p before) of Bukin fits of the same events' m_bb,
    with a Poisson bootstrap of events (both fits refitted in every replica)."""
    before = np.asarray(raw, dtype=np.float64)
    after = np.asarray(corrected, dtype=np.float64)

    def stat(w: np.ndarray | None) -> float:
        fits = (fit_bukin(m, value_range, bins, weights=w) for m in (before, after))
        b, a = (f.width / f.peak for f in fits)
        return 1.0 - a / b

    low, high = bootstrap(stat, len(before), replicas=replicas, seed=seed)
    method = f"1 - after/before of Bukin sigma_p/X_p, bootstrap refits ({replicas}, seed {seed})"
    return Estimate(stat(None), low, high, method, len(before), 0)

"""The μτh selection of CMS's DeepTau validation, columnar on jetml (NanoAOD) events.

Selection (CMS 2018 μτh, as on the DeepTau validation slide):

* muon: pT > 25 GeV, |η| < 2.4, |dz| < 0.2 cm, ``Muon_mediumId``; isolated when
  ``pfRelIso04_all`` < 0.15, anti-isolated (the QCD control region) when in [0.25, 0.50);
* τh: pT > 20 GeV, |η| < 2.3, |dz| < 0.2 cm, decay mode 0, 1 or 10, passing the τ ID under
  study (:class:`TauId`);
* the pair: ΔR(μ, τh) > 0.5, the highest-pT muon with the highest-pT τh; opposite (OS) or same
  (SS) charge recorded; the visible mass m(μ, τh). No extra-lepton vetoes.

Truth source of the selected τh from ``Tau_genPartFlav`` (:func:`tau_source`): genuine τh (5),
jet → τh (0), μ → τh (2, 4), e → τh (1, 3).

QCD multijet comes from the same-sign region (:func:`qcd_from_same_sign`): SS data minus the
other simulated processes, times the OS/SS factor measured with anti-isolated muons. Yields
and their changes between two τ IDs carry statistical uncertainties (sum of squared weights;
Poisson bootstrap of events for correlated ratios). Torch-free (part of the notebook API).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import awkward as ak
import hist
import numpy as np
from numpy.typing import ArrayLike

from jetml.metrics import Estimate, clopper_pearson
from jetml.normalisation import Normalisation, normalisation, poisson_pseudo_data

SOURCES = ("genuine τh", "jet → τh", "μ → τh", "e → τh")
"""Truth sources of a selected τh, in stacking order."""
_SOURCE_OF_FLAV = np.array([1, 3, 2, 3, 2, 0])  # Tau_genPartFlav 0..5 -> index in SOURCES
DECAY_MODES = (0, 1, 10)
ISOLATED_MAX = 0.15
ANTI_ISOLATED = (0.25, 0.50)
DELTA_BETA_FIELD = "idDeltaBetaIsoCut"
BIT_FIELDS = ("idIsoCut", DELTA_BETA_FIELD)
"""``Tau`` fields that are working-point bit masks."""
CUT_BASED_MEDIUM = 2
"""``Tau_idIsoCut`` bit of the HPS Medium combined isolation."""
DELTA_BETA = 0.2
"""Δβ factor of CMS's Run-2 HPS combined isolation (byCombinedIsolationDeltaBetaCorr3Hits)."""
CMS_PILEUP_CONE = 0.8
"""ΔR of CMS's charged pileup sum of the Δβ correction."""
STORED_CONE = 0.5
"""ΔR around each τ inside which jetml's PFNano samples store every PF candidate (outside it only
jet constituents, and CHS AK4 jets hold no pileup charged candidates): the pileup sum is taken
there and scaled by the cone areas (0.8 / 0.5)², pileup being uniform on that scale."""
ISOLATION_WPS = {1: 2.5, 2: 1.5, 4: 0.8}
"""Cut-based isolation bit -> maximum isolation (GeV): Loose, Medium, Tight."""
CHUNK_EVENTS = 10_000
"""Events tagged at a time by :func:`process_file`."""


@dataclass(frozen=True)
class TauId:
    """A τh identification: a name and the minimum of each ``Tau`` field it cuts on
    (the fields of :data:`BIT_FIELDS` are bit masks: the bit must be set)."""

    name: str
    minimum: Mapping[str, float]

    def passes(self, taus: ak.Array | Mapping[str, np.ndarray]) -> ak.Array | np.ndarray:
        """Which ``taus`` pass: a ``Tau`` collection (jagged) or the flat arrays of
        :func:`tau_candidates`."""
        passed = taus["pt"] > -np.inf
        for field, value in self.minimum.items():
            if field in BIT_FIELDS:
                passed = passed & ((taus[field] & int(value)) > 0)
            else:
                passed = passed & (taus[field] >= value)
        return passed


def cut_based_id(bit: int = CUT_BASED_MEDIUM, *, delta_beta: bool = False) -> TauId:
    """HPS combined isolation (bit 1 Loose, 2 Medium, 4 Tight) with the samples' own anti-lepton
    decision (jetml's HPS-like taus are never built from PF-identified muons or electrons):
    ``Tau_idIsoCut`` (charged + neutral, no pileup correction), or with ``delta_beta`` the
    Δβ-corrected isolation CMS cuts on (:func:`delta_beta_isolation`; needs
    :func:`attach_delta_beta_id`)."""
    names = {1: "Loose", 2: "Medium", 4: "Tight"}
    field = DELTA_BETA_FIELD if delta_beta else "idIsoCut"
    label = "Δβ-corrected isolation" if delta_beta else "idIsoCut"
    return TauId(f"cut-based {label} {names.get(bit, bit)}", {field: bit})


def delta_beta_isolation(events: ak.Array) -> ak.Array:
    """Per ``Tau``: chargedIso + max(0, neutralIso - Δβ · Σ pT of charged PF candidates with
    pT > 0.5 GeV, |dz - dz(τ)| > 0.2 cm and ΔR < 0.8) in GeV — CMS's Run-2 HPS
    byCombinedIsolationDeltaBetaCorr, with the ΔR < 0.8 sum estimated from the ΔR < 0.5 one the
    samples store (:data:`STORED_CONE`). The samples' ``rawIso`` has no pileup correction, so
    its working points lose most genuine τh at μ = 30. Flat numpy over (τ, candidate) pairs of
    the same event."""
    taus, cands = events.Tau, events.PFCands

    def flat(array: ak.Array) -> np.ndarray:
        return ak.to_numpy(ak.flatten(array)).astype(np.float64)

    keep = (flat(cands.charge) != 0) & (flat(cands.pt) > 0.5)  # flat columns: no collection copy
    n_taus = ak.to_numpy(ak.num(taus.pt, axis=1))
    n_cands = ak.to_numpy(ak.num(cands.pt, axis=1))
    cand_event = np.repeat(np.arange(len(n_cands)), n_cands)
    n_charged = np.bincount(cand_event[keep], minlength=len(n_cands))

    tau_event = np.repeat(np.arange(len(n_taus)), n_taus)
    per_tau = n_charged[tau_event]
    pair_tau = np.repeat(np.arange(len(tau_event)), per_tau)
    first = np.cumsum(per_tau) - per_tau
    within = np.arange(int(per_tau.sum())) - np.repeat(first, per_tau)
    pair_cand = np.repeat((np.cumsum(n_charged) - n_charged)[tau_event], per_tau) + within
    t_eta, t_phi, t_dz = flat(taus.eta), flat(taus.phi), flat(taus.dz)
    c_eta, c_phi, c_dz, c_pt = (flat(cands[f])[keep] for f in ("eta", "phi", "dz", "pt"))
    dphi = np.mod(t_phi[pair_tau] - c_phi[pair_cand] + np.pi, 2 * np.pi) - np.pi
    dr2 = (t_eta[pair_tau] - c_eta[pair_cand]) ** 2 + dphi**2
    pileup = (np.abs(c_dz[pair_cand] - t_dz[pair_tau]) > 0.2) & (dr2 < STORED_CONE**2)
    stored_sum = np.bincount(
        pair_tau[pileup], weights=c_pt[pair_cand[pileup]], minlength=len(tau_event)
    )
    pileup_sum = stored_sum * (CMS_PILEUP_CONE / STORED_CONE) ** 2
    iso = flat(taus.chargedIso) + np.maximum(0.0, flat(taus.neutralIso) - DELTA_BETA * pileup_sum)
    return ak.unflatten(iso, n_taus)


def attach_delta_beta_id(events: ak.Array) -> ak.Array:
    """``events`` with ``Tau.idDeltaBetaIsoCut``: the :data:`ISOLATION_WPS` bits of
    :func:`delta_beta_isolation` (the field :func:`cut_based_id` with ``delta_beta`` cuts on)."""
    iso = delta_beta_isolation(events)
    bits = sum(
        ak.values_astype(iso < limit, np.uint8) * bit for bit, limit in ISOLATION_WPS.items()
    )
    events["Tau", DELTA_BETA_FIELD] = bits
    return events


def deeptau_id(
    thresholds: Mapping[str, Mapping[str, float]],
    vsjet: str = "Medium",
    vse: str = "VVLoose",
    vsmu: str = "Tight",
    tagger: str = "deeptau",
) -> TauId:
    """DeepTau working points (``thresholds[discriminant][WP]`` as in the shipped card's
    ``working_point_thresholds``, keys ``jet``, ``e``, ``mu``) on the scores ``jetml.tag``
    attached (``Tau.jetml_deeptau_VSjet`` ...)."""
    return TauId(
        f"DeepTau VSjet {vsjet}, VSe {vse}, VSμ {vsmu}",
        {
            f"jetml_{tagger}_VSjet": thresholds["jet"][vsjet],
            f"jetml_{tagger}_VSe": thresholds["e"][vse],
            f"jetml_{tagger}_VSmu": thresholds["mu"][vsmu],
        },
    )


def selected_muons(events: ak.Array) -> ak.Array:
    """Muons passing pT, |η|, |dz| and the medium ID (isolation is a region, not a cut here)."""
    mu = events.Muon
    keep = (mu.pt > 25.0) & (np.abs(mu.eta) < 2.4) & (np.abs(mu.dz) < 0.2) & mu.mediumId
    return mu[keep]


def preselected_taus(events: ak.Array) -> ak.Array:
    """τh candidates passing pT, |η|, |dz| and the decay-mode requirement (no ID)."""
    tau = events.Tau
    good_dm = (tau.decayMode == 0) | (tau.decayMode == 1) | (tau.decayMode == 10)
    keep = (tau.pt > 20.0) & (np.abs(tau.eta) < 2.3) & (np.abs(tau.dz) < 0.2) & good_dm
    return tau[keep]


@dataclass(frozen=True)
class MuTauPairs:
    """One μτh pair per event that has one (flat numpy arrays, one entry per selected event)."""

    event_index: np.ndarray
    visible_mass: np.ndarray
    opposite_sign: np.ndarray
    muon_isolation: np.ndarray
    tau_pt: np.ndarray
    tau_decay_mode: np.ndarray
    source: np.ndarray
    """Index into :data:`SOURCES`; files without ``Tau_genPartFlav`` (collision data) have no
    truth, and every pair counts as genuine τh there: use only their totals."""

    @classmethod
    def concatenate(cls, parts: Sequence[MuTauPairs], first_events: Sequence[int]) -> MuTauPairs:
        """The pairs of consecutive event ranges as one, ``event_index`` shifted by each range's
        first event (so indices stay unique over the file)."""
        shifted = [p.event_index + start for p, start in zip(parts, first_events, strict=True)]
        fields = [f for f in cls.__dataclass_fields__ if f != "event_index"]
        return cls(
            event_index=np.concatenate(shifted),
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in fields},
        )

    @property
    def isolated(self) -> np.ndarray:
        """Signal-region muon isolation."""
        return self.muon_isolation < ISOLATED_MAX

    @property
    def anti_isolated(self) -> np.ndarray:
        """The QCD control region's muon isolation."""
        low, high = ANTI_ISOLATED
        return (self.muon_isolation >= low) & (self.muon_isolation < high)


def tau_source(gen_part_flav: ArrayLike) -> np.ndarray:
    """Index into :data:`SOURCES` of each ``Tau_genPartFlav`` (5 genuine, 0 jet, 2/4 μ, 1/3 e)."""
    flav = np.clip(np.asarray(gen_part_flav, dtype=np.int64), 0, 5)
    return _SOURCE_OF_FLAV[flav]


def select_pairs(events: ak.Array, tau_id: TauId) -> MuTauPairs:
    """The μτh pair of each event under ``tau_id``: the highest-pT selected muon with the
    highest-pT τh passing the ID at ΔR > 0.5 (muons and taus are pT-ordered in NanoAOD)."""
    muons = selected_muons(events)
    taus = preselected_taus(events)
    taus = taus[tau_id.passes(taus)]
    pairs = ak.cartesian({"mu": muons, "tau": taus}, axis=1, nested=False)
    pairs = pairs[pairs.mu.delta_r(pairs.tau) > 0.5]
    first = ak.firsts(pairs)
    has = ~ak.is_none(first)
    chosen = first[has]
    mu, tau = chosen.mu, chosen.tau
    flav = tau.genPartFlav if "genPartFlav" in tau.fields else ak.full_like(tau.pt, 5)
    return MuTauPairs(
        event_index=np.flatnonzero(ak.to_numpy(has)),
        visible_mass=ak.to_numpy((mu + tau).mass).astype(np.float64),
        opposite_sign=ak.to_numpy(mu.charge * tau.charge < 0),
        muon_isolation=ak.to_numpy(mu.pfRelIso04_all).astype(np.float64),
        tau_pt=ak.to_numpy(tau.pt).astype(np.float64),
        tau_decay_mode=ak.to_numpy(tau.decayMode).astype(np.int64),
        source=tau_source(ak.to_numpy(flav)),
    )


@dataclass(frozen=True)
class WeightedPairs:
    """Selected pairs of one sample with their per-event weight (sigma L / Σw)."""

    sample: str
    pairs: MuTauPairs
    weight: float


def mass_histogram(bins: int = 15, low: float = 0.0, high: float = 150.0) -> hist.Hist:
    """An empty weighted visible-mass histogram (the binning of every stack here)."""
    return hist.Hist(
        hist.axis.Regular(bins, low, high, name="mvis", label="m_vis(μ, τh) [GeV]"),
        storage=hist.storage.Weight(),
    )


def fill_mass(template: hist.Hist, pairs: MuTauPairs, weight: float, mask: ArrayLike) -> hist.Hist:
    """A copy of ``template`` filled with the visible masses of ``pairs[mask]``."""
    filled = template.copy()
    keep = np.asarray(mask, dtype=bool)
    filled.fill(mvis=pairs.visible_mass[keep], weight=np.full(int(keep.sum()), weight))
    return filled


def stack_by_source(
    samples: Sequence[WeightedPairs], template: hist.Hist, *, opposite_sign: bool = True
) -> dict[str, hist.Hist]:
    """``{source: m_vis histogram}`` of the isolated OS (or SS) pairs of the simulated samples."""
    stack = {name: template.copy() for name in SOURCES}
    for entry in samples:
        p = entry.pairs
        region = p.isolated & (p.opposite_sign == opposite_sign)
        for index, name in enumerate(SOURCES):
            stack[name] += fill_mass(template, p, entry.weight, region & (p.source == index))
    return stack


def region_histogram(
    samples: Sequence[WeightedPairs], template: hist.Hist, *, opposite_sign: bool, isolated: bool
) -> hist.Hist:
    """The m_vis histogram of all sources in one region (OS/SS x isolated/anti-isolated)."""
    total = template.copy()
    for entry in samples:
        p = entry.pairs
        iso = p.isolated if isolated else p.anti_isolated
        total += fill_mass(template, p, entry.weight, iso & (p.opposite_sign == opposite_sign))
    return total


@dataclass(frozen=True)
class QcdEstimate:
    """QCD multijet from the SS region: shape and yield, and the OS/SS factor used."""

    histogram: hist.Hist
    os_ss_factor: Estimate
    same_sign_excess: float
    """SS (isolated) data minus the other simulated processes, before the factor."""


def _excess(data: hist.Hist, simulation: hist.Hist) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: data - simulation, and its variance (Poisson data + simulation stat)."""
    value = data.values() - simulation.values()
    variance = data.values() + simulation.variances()
    return value, variance


def os_ss_factor(
    data_os: hist.Hist, data_ss: hist.Hist, sim_os: hist.Hist, sim_ss: hist.Hist
) -> Estimate:
    """OS/SS ratio of (data - other simulation) in a control region, with its Gaussian 68 %
    interval; 1 ± 1 (stated in ``method``) when the SS excess is not positive."""
    os_value, os_var = (float(x.sum()) for x in _excess(data_os, sim_os))
    ss_value, ss_var = (float(x.sum()) for x in _excess(data_ss, sim_ss))
    n = int(data_os.values().sum() + data_ss.values().sum())
    if ss_value <= 0 or os_value <= 0:
        return Estimate(1.0, 0.0, 2.0, "no positive control-region excess: 1 ± 1 assumed", n, 0)
    ratio = os_value / ss_value
    error = ratio * np.sqrt(os_var / os_value**2 + ss_var / ss_value**2)
    return Estimate(ratio, max(ratio - error, 0.0), ratio + error, "Gaussian propagation", n, 0)


def qcd_from_same_sign(
    data_ss: hist.Hist, sim_ss: hist.Hist, factor: Estimate, template: hist.Hist
) -> QcdEstimate:
    """QCD in the OS signal region: (SS data - SS simulation) per bin, negative bins set to
    zero, times the OS/SS factor; variances from data, simulation and the factor."""
    value, variance = _excess(data_ss, sim_ss)
    value = np.clip(value, 0.0, None)
    f = factor.value
    f_error = 0.5 * (factor.high - factor.low)
    out = template.copy()
    out.view().value = value * f
    out.view().variance = variance * f**2 + (value * f_error) ** 2
    return QcdEstimate(out, factor, float(value.sum()))


@dataclass(frozen=True)
class Yield:
    """A yield (sum of weights) with its statistical uncertainty (√Σw²)."""

    value: float
    error: float

    def __str__(self) -> str:
        return f"{self.value:.4g} ± {self.error:.2g}"


def yield_of(histogram: hist.Hist) -> Yield:
    """Total yield of a weighted histogram (in-range bins) with √Σw²."""
    return Yield(float(histogram.values().sum()), float(np.sqrt(histogram.variances().sum())))


def relative_change(
    weights: ArrayLike,
    passes_reference: ArrayLike,
    passes_new: ArrayLike,
    *,
    replicas: int = 300,
    seed: int = 0,
) -> Estimate:
    """Y_new / Y_reference - 1 for the events (weights) passing each selection, with a 68 %
    interval from a Poisson bootstrap of the events (the two selections share events, so
    they are correlated). ``n_signal`` counts events in the reference, ``n_background`` in new."""
    w = np.asarray(weights, dtype=np.float64)
    ref = np.asarray(passes_reference, dtype=bool)
    new = np.asarray(passes_new, dtype=bool)
    if not (w * ref).sum() > 0:
        raise ValueError("relative_change: no event passes the reference selection")
    value = float((w * new).sum() / (w * ref).sum() - 1.0)
    rng = np.random.default_rng(seed)
    draws = rng.poisson(1.0, (replicas, len(w))) * w
    with np.errstate(divide="ignore", invalid="ignore"):
        replica = (draws @ new) / (draws @ ref) - 1.0
    low, high = np.nanquantile(replica, [0.1587, 0.8413])
    method = f"bootstrap ({replicas} Poisson replicas of events, seed {seed})"
    return Estimate(value, float(low), float(high), method, int(ref.sum()), int(new.sum()))


def candidate_change(
    passes_reference: ArrayLike,
    passes_new: ArrayLike,
    *,
    replicas: int = 300,
    seed: int = 0,
) -> Estimate | None:
    """Relative change of the number of τ candidates passing the ``new`` ID instead of the
    ``reference`` one, on the same candidates (:func:`relative_change`, unit weights); None when
    no candidate passes the reference (a small sample can have no jet fake at all)."""
    reference = np.asarray(passes_reference, dtype=bool)
    if not reference.any():
        return None
    weights = np.ones(len(reference))
    return relative_change(weights, reference, passes_new, replicas=replicas, seed=seed)


@dataclass(frozen=True)
class BinnedEfficiency:
    """Pass fraction per bin with Clopper-Pearson 68 % intervals and the counts behind them."""

    labels: tuple[str, ...]
    passed: np.ndarray
    total: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


def binned_efficiency(
    values: ArrayLike, passed: ArrayLike, edges: Sequence[float] | None = None
) -> BinnedEfficiency:
    """Efficiency of ``passed`` in bins of ``values``: ``edges`` (e.g. τ pT) or, without
    edges, one bin per distinct value (e.g. decay modes)."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.asarray(passed, dtype=bool)
    if edges is None:
        keys = np.unique(x)
        index = np.searchsorted(keys, x)
        labels = tuple(f"{k:g}" for k in keys)
        n_bins = len(keys)
    else:
        edges = np.asarray(edges, dtype=np.float64)
        index = np.searchsorted(edges, x, side="right") - 1
        labels = tuple(f"{a:g}-{b:g}" for a, b in itertools.pairwise(edges))
        n_bins = len(edges) - 1
    inside = (index >= 0) & (index < n_bins)
    total = np.bincount(index[inside], minlength=n_bins)
    npass = np.bincount(index[inside & ok], minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(total > 0, npass / np.maximum(total, 1), np.nan)
    low, high = clopper_pearson(npass, total)
    return BinnedEfficiency(labels, npass, total, value, np.asarray(low), np.asarray(high))


def tau_candidates(events: ak.Array) -> dict[str, np.ndarray]:
    """Flat arrays of the preselected τh candidates of ``events`` (pT, decay mode, source and
    every ``Tau`` field the IDs may cut on), for efficiencies and fake rates per τ."""
    taus = preselected_taus(events)
    fields = [f for f in taus.fields if f.startswith("jetml_") or f in BIT_FIELDS]
    flat = {f: ak.to_numpy(ak.flatten(taus[f])) for f in ("pt", "decayMode", *fields)}
    flat["source"] = tau_source(ak.to_numpy(ak.flatten(taus.genPartFlav)))
    return flat


REGIONS = {
    "OS isolated": (True, True),
    "SS isolated": (False, True),
    "OS anti-isolated": (True, False),
    "SS anti-isolated": (False, False),
}
"""Region name: (opposite sign, isolated muon)."""


def region_counts(pairs: MuTauPairs) -> dict[str, int]:
    """Unweighted pairs in each of :data:`REGIONS`: how many simulated events carry a region's
    expectation (a region fed by a handful of heavy-weight events is a lottery)."""
    counts = {}
    for name, (opposite, isolated) in REGIONS.items():
        iso = pairs.isolated if isolated else pairs.anti_isolated
        counts[name] = int(np.count_nonzero(iso & (pairs.opposite_sign == opposite)))
    return counts


@dataclass(frozen=True)
class VisibleMassStack:
    """The OS isolated m_vis stack by source with QCD from SS, and the pseudo-data."""

    stack: dict[str, hist.Hist]
    data: hist.Hist
    qcd: QcdEstimate
    data_regions: dict[str, hist.Hist]

    def yields(self) -> dict[str, Yield]:
        """Yield of each stacked source, their sum (``total``) and the pseudo-data."""
        found = {name: yield_of(h) for name, h in self.stack.items()}
        parts = list(self.stack.values())
        total = sum(parts[1:], start=parts[0].copy())
        found["total"] = yield_of(total)
        n = float(self.data.values().sum())
        found["pseudo-data"] = Yield(n, float(np.sqrt(n)))
        return found


def visible_mass_stack(
    simulation: Sequence[WeightedPairs],
    data_mixture: Sequence[WeightedPairs],
    template: hist.Hist,
    seed: int,
) -> VisibleMassStack:
    """Stack the simulated (non-QCD) samples by source in the OS isolated region, draw Poisson
    pseudo-data in every region from the independent ``data_mixture`` (all processes,
    QCD included; region ``i`` of :data:`REGIONS` seeded ``seed + i``), and estimate QCD from
    SS pseudo-data with the OS/SS factor of the anti-isolated region."""
    data, sim = {}, {}
    for i, (name, (opposite, isolated)) in enumerate(REGIONS.items()):
        expected = region_histogram(
            data_mixture, template, opposite_sign=opposite, isolated=isolated
        )
        data[name] = poisson_pseudo_data(expected, seed + i)
        sim[name] = region_histogram(
            simulation, template, opposite_sign=opposite, isolated=isolated
        )
    factor = os_ss_factor(
        data["OS anti-isolated"],
        data["SS anti-isolated"],
        sim["OS anti-isolated"],
        sim["SS anti-isolated"],
    )
    qcd = qcd_from_same_sign(data["SS isolated"], sim["SS isolated"], factor, template)
    stack = {**stack_by_source(simulation, template), "QCD (SS data)": qcd.histogram}
    return VisibleMassStack(stack, data["OS isolated"], qcd, data)


def source_yield_change(
    reference: Sequence[WeightedPairs],
    new: Sequence[WeightedPairs],
    source: str,
    *,
    replicas: int = 300,
    seed: int = 0,
) -> Estimate | None:
    """Relative change of the OS isolated yield of one truth ``source`` from the ``reference``
    τ ID to the ``new`` one, on the same simulated events (samples in the same order), with a
    Poisson bootstrap of events (:func:`relative_change`); None when no event of that source
    passes the reference selection (nothing to compare with)."""
    index = SOURCES.index(source)
    weights, passes_ref, passes_new = [], [], []
    for ref, other in zip(reference, new, strict=True):
        chosen = []
        for entry in (ref, other):
            p = entry.pairs
            keep = p.isolated & p.opposite_sign & (p.source == index)
            chosen.append(p.event_index[keep])
        union = np.union1d(*chosen)
        weights.append(np.full(len(union), ref.weight))
        passes_ref.append(np.isin(union, chosen[0]))
        passes_new.append(np.isin(union, chosen[1]))
    if not np.concatenate(passes_ref).any():
        return None
    return relative_change(
        np.concatenate(weights),
        np.concatenate(passes_ref),
        np.concatenate(passes_new),
        replicas=replicas,
        seed=seed,
    )


@dataclass(frozen=True)
class ProcessedSample:
    """One generated sample through the μτh selection: its normalisation, the selected pairs
    under each τ ID and its preselected τ candidates (with the attached DeepTau scores)."""

    preset: str
    events: int
    seed: int
    normalisation: Normalisation
    pairs: dict[str, WeightedPairs]
    candidates: dict[str, np.ndarray]


def process_file(
    path: str | os.PathLike[str],
    preset: str,
    luminosity_pb: float,
    tau_ids: Mapping[str, TauId],
    *,
    tagger: str = "deeptau",
    chunk_events: int = CHUNK_EVENTS,
) -> tuple[Normalisation, dict[str, WeightedPairs], dict[str, np.ndarray]]:
    """Normalisation, μτh pairs under every τ ID and the preselected τ candidates of one file of
    ``preset``, tagged with ``tagger`` ``chunk_events`` events at a time (memory stays that of
    one chunk: an 80 k-event pileup sample read at once would hold ≈ 9 GB of PF candidates)."""
    from jetml.api import tag
    from jetml.nanoaod import event_chunks

    parts: dict[str, list[MuTauPairs]] = {key: [] for key in tau_ids}
    candidates: list[dict[str, np.ndarray]] = []
    starts: list[int] = []
    for events in event_chunks(path, chunk_events):
        starts.append(events.metadata["entrystart"])
        tagged = attach_delta_beta_id(tag(events, tagger))
        for key, tau_id in tau_ids.items():
            parts[key].append(select_pairs(tagged, tau_id))
        candidates.append(tau_candidates(tagged))
    norm = normalisation(path, luminosity_pb, preset=preset)
    pairs = {
        key: WeightedPairs(preset, MuTauPairs.concatenate(chunks, starts), norm.weight)
        for key, chunks in parts.items()
    }
    flat = {f: np.concatenate([c[f] for c in candidates]) for f in candidates[0]}
    return norm, pairs, flat


def process_sample(
    preset: str,
    events: int,
    seed: int,
    luminosity_pb: float,
    tau_ids: Mapping[str, TauId],
    *,
    tagger: str = "deeptau",
    jobs: int = 1,
    chunk_events: int = CHUNK_EVENTS,
) -> ProcessedSample:
    """Generate (or take from the cache; ``jobs`` worker processes) ``preset``, attach
    ``tagger``'s scores, normalise it to ``luminosity_pb`` and select the μτh pairs under every
    τ ID (:func:`process_file`)."""
    from jetml.api import sample

    path = sample(preset, events, seed, jobs=jobs, progress=False)
    norm, pairs, candidates = process_file(
        path, preset, luminosity_pb, tau_ids, tagger=tagger, chunk_events=chunk_events
    )
    return ProcessedSample(preset, events, seed, norm, pairs, candidates)

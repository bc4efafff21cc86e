"""Hadronic taus: an HPS-like reconstruction on AK4 jets, and the generator-level visible taus.

Reconstruction (after CMS JINST 13 (2018) P10005, simplified and documented in docs/samples.md):

* seeds: AK4 jets with pT > 14 GeV and |eta| < 2.5; the leading PF charged hadron
  (pT > 1 GeV) defines the direction;
* signal cone R_sig = 3 GeV / pT(jet), clamped to [0.05, 0.10]: PF charged hadrons with
  pT > 0.5 GeV inside it are the prongs. Identified PF muons and electrons are not prongs (as
  if a loose anti-lepton discriminator were applied): lepton -> tau_h fakes come from the
  leptons the PF identification misses (DetectorModel.pf_*_identification);
* one strip: photons with pT > 0.5 GeV inside the dynamic HPS window around the leading track,
  |Delta eta| < 0.20 pT^-0.66 in [0.05, 0.15] and |Delta phi| < 0.35 pT^-0.71 in [0.05, 0.30];
  it is a pi0 candidate when its pT exceeds 2.5 GeV;
* decay modes: 0 (1 prong, no strip), 1 (1 prong + strip, 0.3 < m < 1.3 GeV), 10 (3 prongs,
  |charge| = 1, 0.8 < m < 1.5 GeV); anything else is no tau; kept with pT > 18 GeV, |eta| < 2.3;
* isolation in Delta R < 0.5 around the tau, signal candidates excluded: ``chargedIso`` (charged,
  pT > 0.5 GeV, |dz - dz(lead)| < 0.2 cm), ``neutralIso`` (photons, pT > 0.5 GeV),
  ``rawIso`` = chargedIso + neutralIso, ``photonsOutsideSignalCone`` (strip photons beyond
  R_sig); cut-based ID ``idIsoCut``: bit 1 Loose (rawIso < 2.5 GeV), bit 2 Medium (< 1.5 GeV),
  bit 4 Tight (< 0.8 GeV), the HPS combined-isolation working points.

``genPartFlav`` (NanoAOD): 5 genuine tau_h (a GenVisTau with pT > 15 GeV within Delta R < 0.2),
else 1/2 prompt e/mu, 3/4 e/mu from a tau decay (pT > 8 GeV, Delta R < 0.2), else 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetml.samples.ancestry import is_decay_product, long_lived, nearest_ancestor
from jetml.samples.detector import (
    PF_CHARGED_HADRON,
    PF_PHOTON,
    PION_MASS,
    PFCandidates,
    charge_of,
)
from jetml.samples.generator import EventRecord
from jetml.samples.jets import Jets, delta_phi, pairwise_delta_r
from jetml.samples.leptons import lepton_origin
from jetml.samples.truth import kinematics, row_offsets

ISOLATION_CONE = 0.5
WP_THRESHOLDS = {1: 2.5, 2: 1.5, 4: 0.8}  # idIsoCut bit -> rawIso threshold (GeV)


@dataclass(frozen=True)
class Taus:
    """Reconstructed taus (flat, event offsets), their NanoAOD columns and PF candidate rows."""

    offsets: np.ndarray
    columns: dict[str, np.ndarray]
    eta: np.ndarray
    phi: np.ndarray


@dataclass(frozen=True)
class GenVisTaus:
    """Hadronically decaying generator taus: visible four-momentum and decay mode."""

    offsets: np.ndarray
    tau_rows: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    charge: np.ndarray
    status: np.ndarray


def _first_per_group(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Positions of the largest ``key`` in each group (rows with the same ``group``)."""
    order = np.lexsort((-key, group))
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return order[first]


def reconstruct_taus(jets: Jets, candidates: PFCandidates) -> Taus:
    """HPS-like taus seeded by the AK4 ``jets`` clustered from ``candidates``."""
    seed = (jets.pt > 14.0) & (np.abs(jets.eta) < 2.5)
    owner = jets.jet_of_constituent
    rows = jets.constituents
    in_seed = seed[owner]
    owner, rows = owner[in_seed], rows[in_seed]
    pt, eta, phi = candidates.pt[rows], candidates.eta[rows], candidates.phi[rows]
    charged = (np.abs(candidates.pdg_id[rows]) == PF_CHARGED_HADRON) & (pt > 0.5)
    photon = (candidates.pdg_id[rows] == PF_PHOTON) & (pt > 0.5)

    lead_pos = _first_per_group(owner[charged & (pt > 1.0)], pt[charged & (pt > 1.0)])
    lead_pos = np.flatnonzero(charged & (pt > 1.0))[lead_pos]
    n_jets = len(jets.px)
    lead = np.full(n_jets, -1, dtype=np.int64)
    lead[owner[lead_pos]] = lead_pos
    has_lead = lead[owner] >= 0
    lead_of = np.maximum(lead[owner], 0)
    d_eta = eta - eta[lead_of]
    d_phi = delta_phi(phi, phi[lead_of])
    r_signal = np.clip(3.0 / jets.pt, 0.05, 0.10)
    prong = has_lead & charged & (np.hypot(d_eta, d_phi) < r_signal[owner])
    safe_pt = np.maximum(pt, 1e-3)
    eta_window = np.clip(0.20 * safe_pt**-0.66, 0.05, 0.15)
    phi_window = np.clip(0.35 * safe_pt**-0.71, 0.05, 0.30)
    strip = has_lead & photon & (np.abs(d_eta) < eta_window) & (np.abs(d_phi) < phi_window)

    n_prongs = np.bincount(owner[prong], minlength=n_jets)
    charge_sum = np.bincount(owner[prong], candidates.charge[rows][prong], minlength=n_jets)
    strip_pt = np.bincount(owner[strip], pt[strip], minlength=n_jets)
    has_strip = strip_pt > 2.5
    use_strip = strip & ((n_prongs == 1) & has_strip)[owner]

    px = pt * np.cos(phi)
    py = pt * np.sin(phi)
    pz = pt * np.sinh(eta)
    energy = np.where(charged, np.sqrt(px**2 + py**2 + pz**2 + PION_MASS**2), pt * np.cosh(eta))
    member = prong | use_strip
    tau_px = np.bincount(owner[member], px[member], minlength=n_jets)
    tau_py = np.bincount(owner[member], py[member], minlength=n_jets)
    tau_pz = np.bincount(owner[member], pz[member], minlength=n_jets)
    tau_e = np.bincount(owner[member], energy[member], minlength=n_jets)
    tau_pt = np.hypot(tau_px, tau_py)
    tau_eta = np.arcsinh(tau_pz / np.maximum(tau_pt, 1e-9))
    tau_phi = np.arctan2(tau_py, tau_px)
    tau_mass = np.sqrt(np.maximum(tau_e**2 - tau_px**2 - tau_py**2 - tau_pz**2, 0.0))

    decay_mode = np.full(n_jets, -1)
    decay_mode[(n_prongs == 1) & ~has_strip] = 0
    decay_mode[(n_prongs == 1) & has_strip & (tau_mass > 0.3) & (tau_mass < 1.3)] = 1
    decay_mode[
        (n_prongs == 3) & (np.abs(charge_sum) == 1) & (tau_mass > 0.8) & (tau_mass < 1.5)
    ] = 10
    keep = seed & (lead >= 0) & (decay_mode >= 0) & (tau_pt > 18.0) & (np.abs(tau_eta) < 2.3)
    taus = np.flatnonzero(keep)
    event = jets.event_of_jet[taus]
    counts = np.bincount(event, minlength=len(jets.counts))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    # Isolation against all candidates of the event, signal members excluded.
    lead_rows = rows[lead[taus]]
    tau_index = np.full(n_jets, -1, dtype=np.int64)
    tau_index[taus] = np.arange(len(taus))
    signal_keys = tau_index[owner[member]] * len(candidates.pt) + rows[member]
    signal_keys = signal_keys[tau_index[owner[member]] >= 0]
    pair_tau, other, dr = pairwise_delta_r(
        offsets, tau_eta[taus], tau_phi[taus], candidates.offsets, candidates.eta, candidates.phi
    )
    near = dr < ISOLATION_CONE
    pair_tau, other, dr = pair_tau[near], other[near], dr[near]
    outside_signal = ~np.isin(pair_tau * len(candidates.pt) + other, signal_keys)
    other_pt = candidates.pt[other]
    charged_iso = (
        outside_signal
        & (candidates.charge[other] != 0)
        & (other_pt > 0.5)
        & (np.abs(candidates.dz[other] - candidates.dz[lead_rows][pair_tau]) < 0.2)
    )
    neutral_iso = outside_signal & (candidates.pdg_id[other] == PF_PHOTON) & (other_pt > 0.5)
    n_taus = len(taus)
    charged_sum = np.bincount(pair_tau[charged_iso], other_pt[charged_iso], minlength=n_taus)
    neutral_sum = np.bincount(pair_tau[neutral_iso], other_pt[neutral_iso], minlength=n_taus)
    raw_iso = charged_sum + neutral_sum
    strip_tau = tau_index[owner[use_strip]]
    strip_dr = np.hypot(
        eta[use_strip] - tau_eta[owner[use_strip]],
        delta_phi(phi[use_strip], tau_phi[owner[use_strip]]),
    )
    outside = (strip_dr > r_signal[owner[use_strip]]) & (strip_tau >= 0)
    photons_outside = np.bincount(strip_tau[outside], pt[use_strip][outside], minlength=n_taus)
    id_iso = np.zeros(n_taus, dtype=np.uint8)
    for bit, threshold in WP_THRESHOLDS.items():
        id_iso |= np.where(raw_iso < threshold, bit, 0).astype(np.uint8)
    columns = {
        "pt": tau_pt[taus].astype(np.float32),
        "eta": tau_eta[taus].astype(np.float32),
        "phi": tau_phi[taus].astype(np.float32),
        "mass": tau_mass[taus].astype(np.float32),
        "charge": charge_sum[taus].astype(np.int32),
        "decayMode": decay_mode[taus].astype(np.int32),
        "dxy": candidates.d0[lead_rows].astype(np.float32),
        "dz": candidates.dz[lead_rows].astype(np.float32),
        "leadTkPtOverTauPt": (candidates.pt[lead_rows] / tau_pt[taus]).astype(np.float32),
        "chargedIso": charged_sum.astype(np.float32),
        "neutralIso": neutral_sum.astype(np.float32),
        "photonsOutsideSignalCone": photons_outside.astype(np.float32),
        "rawIso": raw_iso.astype(np.float32),
        "idIsoCut": id_iso,
        "jetIdx": (taus - jets.offsets[event]).astype(np.int32),
    }
    return Taus(offsets, columns, tau_eta[taus], tau_phi[taus])


def generator_visible_taus(record: EventRecord) -> GenVisTaus:
    """Hadronic tau decays (last-copy taus without e/mu daughters) with visible pT > 10 GeV.

    Visible momentum: the tau's minus its neutrinos'. Prongs: stable charged particles whose
    nearest long-lived ancestor is the tau (K0S daughters do not count); pi0s likewise.
    """
    absolute = np.abs(record.pdg_id)
    n = len(absolute)
    is_tau = absolute == 15
    products = np.flatnonzero(is_decay_product(record.status) & (record.mother1 >= 0))
    direct = products[is_tau[record.mother1[products]]]
    mother = record.mother1[direct]
    leptonic = np.zeros(n, dtype=bool)
    leptonic[mother[np.isin(absolute[direct], (11, 13))]] = True
    neutrino = np.isin(absolute[direct], (12, 14, 16))
    visible = np.stack([record.px, record.py, record.pz, record.energy], axis=1)
    for column, values in enumerate((record.px, record.py, record.pz, record.energy)):
        visible[:, column] -= np.bincount(mother[neutrino], values[direct[neutrino]], minlength=n)

    candidates = np.flatnonzero(
        is_decay_product(record.status)
        & (((record.status > 0) & (charge_of(record.pdg_id) != 0)) | (absolute == 111))
    )
    owner = nearest_ancestor(
        record.mother1,
        candidates,
        long_lived(record),
        follow=is_decay_product(record.status),
    )
    from_tau = owner >= 0
    from_tau[from_tau] &= is_tau[owner[from_tau]]
    candidates, owner = candidates[from_tau], owner[from_tau]
    pi0 = absolute[candidates] == 111
    n_charged = np.bincount(owner[~pi0], minlength=n)
    n_pi0 = np.bincount(owner[pi0], minlength=n)

    taus = np.flatnonzero(is_tau & (record.daughter1 >= 0) & ~leptonic & (n_charged > 0))
    pt = np.hypot(visible[taus, 0], visible[taus, 1])
    taus, pt = taus[pt > 10.0], pt[pt > 10.0]
    eta = np.arcsinh(visible[taus, 2] / pt)
    phi = np.arctan2(visible[taus, 1], visible[taus, 0])
    mass = np.sqrt(np.maximum(visible[taus, 3] ** 2 - (visible[taus, :3] ** 2).sum(axis=1), 0.0))
    prongs, n_neutral = n_charged[taus], n_pi0[taus]
    status = np.full(len(taus), 15)
    status[prongs == 1] = np.minimum(n_neutral[prongs == 1], 2)
    status[prongs == 3] = 10 + np.minimum(n_neutral[prongs == 3], 1)
    return GenVisTaus(
        offsets=row_offsets(taus, record),
        tau_rows=taus,
        pt=pt,
        eta=eta,
        phi=phi,
        mass=mass,
        charge=-np.sign(record.pdg_id[taus]).astype(np.int32),
        status=status,
    )


def tau_origin(
    record: EventRecord, taus: Taus, visible: GenVisTaus, max_dr: float = 0.2
) -> np.ndarray:
    """NanoAOD Tau_genPartFlav: 5 genuine, 1/2 prompt e/mu, 3/4 e/mu from tau, 0 otherwise."""
    n_taus = len(taus.eta)
    flav = np.zeros(n_taus, dtype=np.uint8)
    absolute = np.abs(record.pdg_id)
    leptons = np.flatnonzero((record.status > 0) & np.isin(absolute, (11, 13)))
    lepton_pt, lepton_eta, lepton_phi = kinematics(record, leptons)
    keep = lepton_pt > 8.0
    leptons, lepton_eta, lepton_phi = leptons[keep], lepton_eta[keep], lepton_phi[keep]
    origin = lepton_origin(record, leptons)
    tau, lepton, dr = pairwise_delta_r(
        taus.offsets, taus.eta, taus.phi, row_offsets(leptons, record), lepton_eta, lepton_phi
    )
    close = dr < max_dr
    tau, lepton = tau[close], lepton[close]
    electron = absolute[leptons[lepton]] == 11
    code = np.select(
        [
            (origin[lepton] == 1) & electron,
            (origin[lepton] == 1) & ~electron,
            (origin[lepton] == 15) & electron,
            (origin[lepton] == 15) & ~electron,
        ],
        [1, 2, 3, 4],
        default=0,
    ).astype(np.uint8)
    matched = code > 0
    flav[tau[matched]] = code[matched]
    genuine = visible.pt > 15.0
    tau_g, _, dr_g = pairwise_delta_r(
        taus.offsets,
        taus.eta,
        taus.phi,
        _subset_offsets(visible.offsets, genuine),
        visible.eta[genuine],
        visible.phi[genuine],
    )
    flav[tau_g[dr_g < max_dr]] = 5
    return flav


def _subset_offsets(offsets: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Event offsets after keeping the flat rows where ``keep`` is True."""
    cumulative = np.concatenate([[0], np.cumsum(keep)])
    return cumulative[offsets].astype(np.int64)

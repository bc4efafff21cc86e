"""Fake and secondary tracks: the reconstructed tracks no generator particle made directly.

* Fake tracks (``DetectorModel.fake_track_rate`` per track): random hit combinations near a real
  track (within ~0.05 in eta and phi), soft (0.3 GeV + an exponential of mean 1 GeV), with broad
  impact parameters (Gaussian, 0.05 cm in d0 and 0.1 cm in dz around the seed track's), a poor fit
  (chi2/ndof three times the real tracks') and missing inner hits. They belong to no interaction.
* Secondary tracks (``DetectorModel.secondary_track_rate`` per charged hadron above 1 GeV):
  a nuclear interaction or conversion at a radius uniform in [secondary_radius_min, max] along the
  parent's direction, carrying 5-30% of the parent's pT (taken from the parent), within ~0.1 rad
  of it. Their impact parameters follow from that displaced production point.

Both get ``truth_row = -1``; a secondary keeps its parent's interaction (``vertex``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from jetml.samples.detector import PF_CHARGED_HADRON, PION_MASS, DetectorModel, PFCandidates


def add_fake_and_secondary_tracks(
    candidates: PFCandidates, model: DetectorModel, rng: np.random.Generator
) -> PFCandidates:
    """The candidates plus fake and secondary tracks, regrouped by event (new rows last)."""
    event = np.repeat(np.arange(len(candidates.counts)), candidates.counts)
    track = np.flatnonzero(candidates.charge != 0)
    fake_seed = track[rng.random(len(track)) < model.fake_track_rate]
    hadron = np.flatnonzero(
        (np.abs(candidates.pdg_id) == PF_CHARGED_HADRON) & (candidates.pt > 1.0)
    )
    parent = hadron[rng.random(len(hadron)) < model.secondary_track_rate]
    n_fake, n_sec = len(fake_seed), len(parent)

    # Fakes: direction near the seed track, soft, displaced, poorly fitted.
    fake_eta = candidates.eta[fake_seed] + 0.05 * rng.standard_normal(n_fake)
    fake_phi = candidates.phi[fake_seed] + 0.05 * rng.standard_normal(n_fake)
    fake_pt = 0.3 + rng.exponential(1.0, n_fake)
    fake_d0 = candidates.d0[fake_seed] + 0.05 * rng.standard_normal(n_fake)
    fake_dz = candidates.dz[fake_seed] + 0.1 * rng.standard_normal(n_fake)
    fake_chi2 = 3.0 * rng.chisquare(model.track_chi2_ndof, n_fake) / model.track_chi2_ndof

    # Secondaries: displaced production along the parent direction, momentum taken from it.
    share = rng.uniform(0.05, 0.30, n_sec)
    parent_pt = candidates.pt[parent]
    sec_pt = share * parent_pt
    new_parent_pt = candidates.pt.copy()
    new_parent_pt[parent] = parent_pt - sec_pt
    sec_eta = candidates.eta[parent] + 0.1 * rng.standard_normal(n_sec)
    sec_phi = candidates.phi[parent] + 0.1 * rng.standard_normal(n_sec)
    radius = rng.uniform(model.secondary_radius_min, model.secondary_radius_max, n_sec)
    turn = candidates.phi[parent] - sec_phi
    sec_d0_true = candidates.d0[parent] + radius * np.sin(turn)
    sec_dz_true = (
        candidates.dz[parent]
        + radius * np.sinh(candidates.eta[parent])
        - radius * np.cos(turn) * np.sinh(sec_eta)
    )
    sec_chi2 = rng.chisquare(model.track_chi2_ndof, n_sec) / model.track_chi2_ndof

    pt = np.concatenate([fake_pt, sec_pt])
    eta = np.concatenate([fake_eta, sec_eta])
    phi = (np.concatenate([fake_phi, sec_phi]) + np.pi) % (2 * np.pi) - np.pi
    d0_err = model.d0_resolution(pt)
    dz_err = model.dz_resolution(pt)
    d0 = np.concatenate([fake_d0, sec_d0_true + d0_err[n_fake:] * rng.standard_normal(n_sec)])
    dz = np.concatenate([fake_dz, sec_dz_true + dz_err[n_fake:] * rng.standard_normal(n_sec)])
    chi2 = np.concatenate([fake_chi2, sec_chi2])
    charge = np.where(rng.random(n_fake + n_sec) < 0.5, -1, 1).astype(np.int32)
    layers = np.searchsorted(np.asarray(model.pixel_layer_radii), radius, side="right")
    lost = np.concatenate(
        [rng.integers(1, 3, n_fake), np.minimum(np.maximum(layers, 1), 2)]
    ).astype(np.int32)
    extra_event = np.concatenate([event[fake_seed], event[parent]])
    n_extra = n_fake + n_sec
    extra = {
        "truth_row": np.full(n_extra, -1, dtype=np.int64),
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": np.full(n_extra, PION_MASS),
        "energy": np.sqrt((pt * np.cosh(eta)) ** 2 + PION_MASS**2),
        "pdg_id": (PF_CHARGED_HADRON * charge).astype(np.int32),
        "charge": charge,
        "d0": d0,
        "d0_err": d0_err,
        "dz": dz,
        "dz_err": dz_err,
        "trk_chi2": chi2,
        "lost_inner_hits": lost,
        "trk_quality": np.where(chi2 < 3.0, 5, 1).astype(np.int32),
        "pv_assoc_quality": np.full(n_extra, 7, dtype=np.int32),
        "vertex": np.concatenate([np.full(n_fake, -1), candidates.vertex[parent]]).astype(np.int64),
        "from_pv": np.full(n_extra, 3, dtype=np.int32),
        "puppi_weight": np.ones(n_extra),
    }
    energy = candidates.energy.copy()
    energy[parent] = np.sqrt(
        (new_parent_pt[parent] * np.cosh(candidates.eta[parent])) ** 2
        + candidates.mass[parent] ** 2
    )
    base = replace(candidates, pt=new_parent_pt, energy=energy)
    all_event = np.concatenate([event, extra_event])
    order = np.argsort(all_event, kind="stable")
    counts = np.bincount(all_event, minlength=len(candidates.counts))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    columns = {
        name: np.concatenate([getattr(base, name), extra[name].astype(getattr(base, name).dtype)])[
            order
        ]
        for name in PFCandidates.__dataclass_fields__
        if name != "offsets"
    }
    return PFCandidates(offsets=offsets, **columns)

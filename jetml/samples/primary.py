"""Primary vertices, the choice of the PV, and track-vertex association as CMS PF defines it.

Vertex model (documented choices; CMS JINST 9 (2014) P10009, Sec. 6, for resolution and the
deterministic-annealing vertex finder): the tracks of a true interaction that are compatible with
it (|d0| and |dz| residual within 3 sigma) are its fit tracks; the interaction is reconstructed
when it has at least two. Its measured position is the true one smeared by the fit resolution,
1/sqrt(sum 1/sigma_i^2) over the fit tracks (per coordinate). Reconstructed vertices closer than
``MERGE_DISTANCE`` in z merge (the one with the larger sum pT^2 keeps its position). The primary
vertex is the one with the largest sum of fit-track pT^2; ``PV_npvsGood`` counts vertices with
ndof = 2 n_fit - 3 > 4 and |z| < 24 cm (NanoAOD's good-vertex selection).

Association (CMSSW ``PrimaryVertexAssignment`` / ``pat::PackedCandidate``): ``pvAssocQuality``
7 UsedInFitTight (a fit track of its vertex), 5 CompatibilityDz (not used in any fit, closest
vertex in z within 3 sigma_dz), 1 OtherDeltaZ (closest in z, not compatible), 0 no vertex in the
event. ``fromPV`` (``PackedCandidate::fromPV``): 3 used in the PV's fit; 2 associated to the PV, or
an identified electron or muon; 1 associated to another vertex without being used in its fit, or
that vertex has ndof < 4; 0 used in the fit of another vertex. Neutral candidates: 3 and 7, as in
CMS files. Afterwards d0 and dz are measured from the chosen PV.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from jetml.samples.detector import PF_ELECTRON, PF_MUON, PFCandidates

MERGE_DISTANCE = 0.04  # cm: vertices closer in z are not resolved (jetml choice, ~ DA resolution)
MIN_FIT_TRACKS = 2
GOOD_MIN_NDOF = 4.0
GOOD_MAX_ABS_Z = 24.0  # cm


@dataclass(frozen=True)
class PrimaryVertexInfo:
    """Per event: the chosen PV (measured), vertex counts, whether the PV is the hard scatter."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    npvs: np.ndarray
    npvs_good: np.ndarray
    pv_is_hard_scatter: np.ndarray


def assign_vertices(
    candidates: PFCandidates,
    vertex_x: np.ndarray,
    vertex_y: np.ndarray,
    vertex_z: np.ndarray,
    vertex_offsets: np.ndarray,
    rng: np.random.Generator,
) -> tuple[PFCandidates, PrimaryVertexInfo]:
    """Reconstruct vertices, choose the PV, associate tracks; d0/dz become relative to the PV.

    ``vertex_*``: true interaction points, flat per event (hard scatter first) with
    ``vertex_offsets``; ``candidates.vertex`` is each candidate's true interaction within its
    event (-1 for fake tracks).
    """
    n_events = len(candidates.counts)
    n_true = len(vertex_z)
    event = np.repeat(np.arange(n_events), candidates.counts)
    track = np.flatnonzero(candidates.charge != 0)
    t_event = event[track]
    t_true = np.where(
        candidates.vertex[track] >= 0, vertex_offsets[t_event] + candidates.vertex[track], -1
    )
    sin_phi, cos_phi = np.sin(candidates.phi[track]), np.cos(candidates.phi[track])
    sinh_eta = np.sinh(candidates.eta[track])
    d0, dz = candidates.d0[track], candidates.dz[track]
    d0_err, dz_err = candidates.d0_err[track], candidates.dz_err[track]
    has_true = t_true >= 0
    at = np.maximum(t_true, 0)
    # Impact parameters a prompt track of its true vertex would have (straight line, beam line).
    d0_vertex = -vertex_x[at] * sin_phi + vertex_y[at] * cos_phi
    dz_vertex = vertex_z[at] - (vertex_x[at] * cos_phi + vertex_y[at] * sin_phi) * sinh_eta
    fit = has_true & (np.abs(d0 - d0_vertex) < 3 * d0_err) & (np.abs(dz - dz_vertex) < 3 * dz_err)
    pt = candidates.pt[track]
    n_fit = np.bincount(t_true[fit], minlength=n_true)
    sum_pt2 = np.bincount(t_true[fit], pt[fit] ** 2, minlength=n_true)
    inv_z = np.bincount(t_true[fit], dz_err[fit] ** -2.0, minlength=n_true)
    inv_xy = np.bincount(t_true[fit], d0_err[fit] ** -2.0, minlength=n_true)
    found = n_fit >= MIN_FIT_TRACKS
    sigma_z = 1.0 / np.sqrt(np.maximum(inv_z, 1e-30))
    sigma_xy = 1.0 / np.sqrt(np.maximum(inv_xy, 1e-30))
    measured_x = vertex_x + sigma_xy * rng.standard_normal(n_true)
    measured_y = vertex_y + sigma_xy * rng.standard_normal(n_true)
    measured_z = vertex_z + sigma_z * rng.standard_normal(n_true)

    # Merge found vertices that are too close in z; a group is represented by its largest sum pT^2.
    vertex_event = np.repeat(np.arange(n_events), np.diff(vertex_offsets))
    reco = np.flatnonzero(found)
    reco = reco[np.lexsort((measured_z[reco], vertex_event[reco]))]
    new_group = np.ones(len(reco), dtype=bool)
    new_group[1:] = (vertex_event[reco][1:] != vertex_event[reco][:-1]) | (
        np.diff(measured_z[reco]) >= MERGE_DISTANCE
    )
    group_of_reco = np.cumsum(new_group) - 1
    n_groups = int(new_group.sum())
    group = np.full(n_true, -1, dtype=np.int64)
    group[reco] = group_of_reco
    group_pt2 = np.bincount(group_of_reco, sum_pt2[reco], minlength=n_groups)
    group_fit = np.bincount(group_of_reco, n_fit[reco], minlength=n_groups)
    leader_order = np.lexsort((-sum_pt2[reco], group_of_reco))
    first = np.ones(len(leader_order), dtype=bool)
    first[1:] = group_of_reco[leader_order][1:] != group_of_reco[leader_order][:-1]
    leader = reco[leader_order[first]]
    group_x, group_y, group_z = measured_x[leader], measured_y[leader], measured_z[leader]
    group_event = vertex_event[leader]
    group_ndof = 2.0 * group_fit - 3.0
    group_hard = (
        np.bincount(
            group_of_reco,
            (reco == vertex_offsets[vertex_event[reco]]).astype(float),
            minlength=n_groups,
        )
        > 0
    )

    npvs = np.bincount(group_event, minlength=n_events)
    good = (group_ndof > GOOD_MIN_NDOF) & (np.abs(group_z) < GOOD_MAX_ABS_Z)
    npvs_good = np.bincount(group_event[good], minlength=n_events)
    pv_order = np.lexsort((-group_pt2, group_event))
    pv_first = np.ones(len(pv_order), dtype=bool)
    pv_first[1:] = group_event[pv_order][1:] != group_event[pv_order][:-1]
    pv = np.full(n_events, -1, dtype=np.int64)
    pv[group_event[pv_order[pv_first]]] = pv_order[pv_first]
    has_pv = pv >= 0
    pv_x = np.where(has_pv, group_x[np.maximum(pv, 0)] if n_groups else 0.0, 0.0)
    pv_y = np.where(has_pv, group_y[np.maximum(pv, 0)] if n_groups else 0.0, 0.0)
    pv_z = np.where(has_pv, group_z[np.maximum(pv, 0)] if n_groups else 0.0, 0.0)

    # Association of every track: its vertex's group when used in the fit, else the closest in z.
    fit_group = np.where(fit, group[at], -1)
    fit_group = np.where(has_true, fit_group, -1)
    closest = _closest_group(t_event, dz, group_event, group_z)
    assoc = np.where(fit_group >= 0, fit_group, closest)
    distance = np.abs(dz - (group_z[np.maximum(assoc, 0)] if n_groups else 0.0))
    quality = np.select(
        [fit_group >= 0, (assoc >= 0) & (distance < 3 * dz_err), assoc >= 0],
        [7, 5, 1],
        default=0,
    )
    to_pv = (assoc == pv[t_event]) | (assoc < 0)
    lepton = np.isin(np.abs(candidates.pdg_id[track]), (PF_ELECTRON, PF_MUON))
    other_ndof = group_ndof[np.maximum(assoc, 0)] if n_groups else np.zeros(len(track))
    from_pv = np.select(
        [(quality == 7) & to_pv, to_pv | lepton, (quality < 6) | (other_ndof < 4.0)],
        [3, 2, 1],
        default=0,
    )

    tev = t_event
    new_d0 = candidates.d0.copy()
    new_dz = candidates.dz.copy()
    new_d0[track] = d0 + pv_x[tev] * sin_phi - pv_y[tev] * cos_phi
    new_dz[track] = dz - pv_z[tev] + (pv_x[tev] * cos_phi + pv_y[tev] * sin_phi) * sinh_eta
    all_from_pv = np.full(len(candidates.pt), 3, dtype=np.int32)
    all_quality = np.full(len(candidates.pt), 7, dtype=np.int32)
    all_from_pv[track] = from_pv
    all_quality[track] = quality
    updated = replace(
        candidates, d0=new_d0, dz=new_dz, from_pv=all_from_pv, pv_assoc_quality=all_quality
    )
    info = PrimaryVertexInfo(
        x=pv_x,
        y=pv_y,
        z=pv_z,
        npvs=npvs,
        npvs_good=npvs_good,
        pv_is_hard_scatter=np.where(
            has_pv, group_hard[np.maximum(pv, 0)] if n_groups else False, False
        ),
    )
    return updated, info


def _closest_group(
    track_event: np.ndarray, dz: np.ndarray, group_event: np.ndarray, group_z: np.ndarray
) -> np.ndarray:
    """Index of the vertex group of the same event closest in z to each track (-1 if none)."""
    if len(group_z) == 0:
        return np.full(len(dz), -1, dtype=np.int64)
    span = 1000.0  # cm: wider than any z, so keys of different events never interleave
    group_key = group_event * span + np.clip(group_z, -400.0, 400.0)
    order = np.argsort(group_key, kind="stable")
    sorted_key = group_key[order]
    track_key = track_event * span + np.clip(dz, -400.0, 400.0)
    right = np.searchsorted(sorted_key, track_key)
    left = np.maximum(right - 1, 0)
    right = np.minimum(right, len(sorted_key) - 1)
    candidates = np.stack([order[left], order[right]])
    same = group_event[candidates] == track_event[None, :]
    distance = np.where(same, np.abs(group_z[candidates] - dz[None, :]), np.inf)
    best = np.argmin(distance, axis=0)
    chosen = candidates[best, np.arange(len(dz))]
    return np.where(np.isfinite(distance.min(axis=0)), chosen, -1)

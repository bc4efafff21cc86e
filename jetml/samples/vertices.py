"""Secondary vertices from displaced tracks, and their association to jets.

Reconstructed tracks are grouped by the true decay vertex that produced them. Only decays of b and
c hadrons form vertices: K0S, Lambda and other strange decays, and tau decays, are vetoed, as the
CMS inclusive vertex finder (IVF) vetoes V0 candidates. A vertex needs at least
``DetectorModel.sv_min_tracks`` tracks and is found with ``DetectorModel.sv_finding_efficiency``;
its position is the true decay point smeared with the SV resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetml.samples.ancestry import (
    is_decay_product,
    is_hadron_with,
    long_lived,
    nearest_ancestor,
)
from jetml.samples.detector import PION_MASS, DetectorModel, PFCandidates
from jetml.samples.fourmomenta import CartesianKinematics
from jetml.samples.generator import EventRecord


@dataclass(frozen=True)
class SecondaryVertices(CartesianKinematics):
    """Reconstructed SVs of a batch, flat with event offsets (NanoAOD ``SV`` columns)."""

    offsets: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    ntracks: np.ndarray
    chi2: np.ndarray  # normalised chi2 (chi2 / ndof), as NanoAOD SV_chi2
    ndof: np.ndarray
    dxy: np.ndarray
    dxy_sig: np.ndarray
    dlen: np.ndarray
    dlen_sig: np.ndarray
    p_angle: np.ndarray


def find_vertices(
    record: EventRecord,
    candidates: PFCandidates,
    model: DetectorModel,
    rng: np.random.Generator,
) -> SecondaryVertices:
    """Group displaced tracks of b/c-hadron decays into SVs (vectorised over the batch)."""
    # Generator-made tracks only (pileup, fake and secondary tracks have no truth row).
    track_rows = np.flatnonzero((candidates.charge != 0) & (candidates.truth_row >= 0))
    truth = candidates.truth_row[track_rows]
    decayer = nearest_ancestor(
        record.mother1, truth, long_lived(record), follow=is_decay_product(record.status)
    )
    # Tracks made directly at a decay point: the decayer itself may sit further up a chain of
    # zero-lifetime resonances (rho, K*, ...), which the walk above passes through.
    heavy = (decayer >= 0) & (
        is_hadron_with(record.pdg_id[np.maximum(decayer, 0)], 5)
        | is_hadron_with(record.pdg_id[np.maximum(decayer, 0)], 4)
    )
    tracks = track_rows[heavy]
    vertex_of_track = decayer[heavy]
    vertices, inverse, ntracks = np.unique(vertex_of_track, return_inverse=True, return_counts=True)
    found = (ntracks >= model.sv_min_tracks) & (
        rng.random(len(vertices)) < model.sv_finding_efficiency
    )
    n = len(vertices)
    # Track momentum sums per vertex with the pion mass hypothesis.
    tpx, tpy, tpz = candidates.px[tracks], candidates.py[tracks], candidates.pz[tracks]
    tenergy = np.sqrt(tpx**2 + tpy**2 + tpz**2 + PION_MASS**2)
    px = np.bincount(inverse, tpx, minlength=n)
    py = np.bincount(inverse, tpy, minlength=n)
    pz = np.bincount(inverse, tpz, minlength=n)
    energy = np.bincount(inverse, tenergy, minlength=n)
    # Decay point = production point of the tracks (take the first track's truth row).
    first_track = np.zeros(n, dtype=np.int64)
    first_track[inverse[::-1]] = np.arange(len(inverse))[::-1]
    point = candidates.truth_row[tracks[first_track]]
    sigma_xy, sigma_z = model.sv_position_resolution_xy, model.sv_position_resolution_z
    x = record.x[point] + sigma_xy * rng.standard_normal(n)
    y = record.y[point] + sigma_xy * rng.standard_normal(n)
    z = record.z[point] + sigma_z * rng.standard_normal(n)
    ndof = 2.0 * ntracks - 3.0
    chi2 = rng.chisquare(np.maximum(ndof, 1.0)) / np.maximum(ndof, 1.0)

    keep = np.flatnonzero(found)
    event = record.event_of_row[vertices[keep]]
    counts = np.bincount(event, minlength=record.n_events)
    offsets = np.zeros(record.n_events + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    x, y, z = x[keep], y[keep], z[keep]
    px, py, pz, energy = px[keep], py[keep], pz[keep], energy[keep]
    dxy = np.hypot(x, y)
    dlen = np.sqrt(x**2 + y**2 + z**2)
    sigma_dxy = np.hypot(sigma_xy, model.pv_resolution)
    sigma_3d_z = np.hypot(sigma_z, model.pv_resolution)
    sigma_dlen = np.sqrt((sigma_dxy * dxy) ** 2 + (sigma_3d_z * z) ** 2) / np.maximum(dlen, 1e-12)
    momentum = np.sqrt(px**2 + py**2 + pz**2)
    cos_angle = (x * px + y * py + z * pz) / np.maximum(dlen * momentum, 1e-12)
    return SecondaryVertices(
        offsets=offsets,
        x=x,
        y=y,
        z=z,
        px=px,
        py=py,
        pz=pz,
        energy=energy,
        ntracks=ntracks[keep],
        chi2=chi2[keep],
        ndof=ndof[keep],
        dxy=dxy,
        dxy_sig=dxy / sigma_dxy,
        dlen=dlen,
        dlen_sig=dlen / np.maximum(sigma_dlen, 1e-12),
        p_angle=np.arccos(np.clip(cos_angle, -1.0, 1.0)),
    )

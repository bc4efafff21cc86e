"""Premixed pileup: overlay Poisson(mu) min-bias interactions on each hard-scatter event.

Every interaction of a bunch crossing, the hard scatter included, happens at a point drawn from
the CMS luminous region (:class:`BeamSpot`). The overlaid interactions are min-bias library events
(:mod:`jetml.samples.minbias`) drawn at random with replacement, each rotated by a random azimuth
and mirrored in z with probability 1/2. The result is one
:class:`~jetml.samples.generator.EventRecord` per batch holding, event by event, the hard-scatter
particles followed by the pileup particles, plus the true interaction (``vertex``: 0 hard
scatter, 1.. pileup) of every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetml.samples.generator import EventRecord
from jetml.samples.minbias import MinBiasLibrary


@dataclass(frozen=True)
class BeamSpot:
    """Gaussian luminous region of CMS in Run 2 (cm).

    sigma_z = 3.5 cm and a transverse size of ~10 um are the values of CMS's Run-2 realistic
    vertex smearing (CMSSW ``VtxSmearedParameters_cfi``, ``Realistic25ns13TeVEarly2017Collision``
    / ``...2018Collision``: SigmaZ = 3.5 cm, beta* = 30 cm with a normalised emittance of
    ~2.5 um, i.e. sigma_x,y = sqrt(eps beta*) ~ 10 um), consistent with the luminous-region
    widths CMS measures from vertex distributions in 2016-2018 (3-4 cm in z).
    """

    sigma_z: float = 3.5
    sigma_xy: float = 0.0010


@dataclass(frozen=True)
class Overlay:
    """A batch after pileup mixing: the merged record and the bookkeeping of the mixing."""

    record: EventRecord  # hard-scatter rows first in every event, then pileup rows
    vertex: np.ndarray  # per row: 0 hard scatter, k = 1..n_pu the k-th pileup interaction
    hard_row: np.ndarray  # per row: its row in the hard-scatter record, -1 for pileup
    n_pu: np.ndarray  # pileup interactions per event
    vertex_x: np.ndarray  # true interaction points, flat per event (hard scatter first)
    vertex_y: np.ndarray
    vertex_z: np.ndarray
    vertex_offsets: np.ndarray  # event offsets into vertex_x/y/z (1 + n_pu per event)


def overlay(
    record: EventRecord,
    library: MinBiasLibrary | None,
    mu: float,
    beam: BeamSpot,
    rng: np.random.Generator,
) -> Overlay:
    """Place the hard scatter in the beam spot and add Poisson(``mu``) pileup interactions."""
    n = record.n_events
    n_pu = rng.poisson(mu, n) if mu > 0 else np.zeros(n, dtype=np.int64)
    if n_pu.sum() > 0 and (library is None or library.n_events == 0):
        raise ValueError("pileup requested without a min-bias library")
    n_vertices = 1 + n_pu
    vertex_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_vertices, out=vertex_offsets[1:])
    total_vertices = int(vertex_offsets[-1])
    vx = beam.sigma_xy * rng.standard_normal(total_vertices)
    vy = beam.sigma_xy * rng.standard_normal(total_vertices)
    vz = beam.sigma_z * rng.standard_normal(total_vertices)

    # Pileup interactions: (event, k) with their library pick, azimuthal rotation and z mirror.
    pu_event = np.repeat(np.arange(n), n_pu)
    is_pu_slot = np.ones(total_vertices, dtype=bool)
    is_pu_slot[vertex_offsets[:-1]] = False
    pu_slot = np.flatnonzero(is_pu_slot)
    n_interactions = len(pu_slot)
    if n_interactions:
        pick = rng.integers(0, library.n_events, n_interactions)
        angle = rng.uniform(0.0, 2 * np.pi, n_interactions)
        mirror = np.where(rng.random(n_interactions) < 0.5, -1.0, 1.0)
        pick_counts = library.counts[pick]
    else:
        pick = angle = mirror = np.zeros(0)
        pick_counts = np.zeros(0, dtype=np.int64)
    pu_rows_per_event = np.bincount(pu_event, pick_counts, minlength=n).astype(np.int64)

    hard_counts = record.counts
    counts = hard_counts + pu_rows_per_event
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])

    # Destination rows: hard-scatter rows keep their order at the start of their event.
    hard_event = record.event_of_row
    hard_dest = offsets[hard_event] + (np.arange(len(hard_event)) - record.offsets[hard_event])
    # Pileup rows follow, interaction after interaction.
    interaction_of_row = np.repeat(np.arange(n_interactions), pick_counts)
    first_row = np.zeros(n_interactions + 1, dtype=np.int64)
    np.cumsum(pick_counts, out=first_row[1:])
    local = np.arange(len(interaction_of_row)) - first_row[interaction_of_row]
    source = library.offsets[pick][interaction_of_row] + local if n_interactions else local
    event_of_pu_row = pu_event[interaction_of_row]
    # Position of each pileup row among its event's pileup rows.
    event_first_pu = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(pu_rows_per_event, out=event_first_pu[1:])
    pu_dest = (
        offsets[event_of_pu_row]
        + hard_counts[event_of_pu_row]
        + np.arange(len(interaction_of_row))
        - event_first_pu[event_of_pu_row]
    )

    def merged(hard_values: np.ndarray, pu_values: np.ndarray, dtype) -> np.ndarray:
        out = np.empty(total, dtype=dtype)
        out[hard_dest] = hard_values
        out[pu_dest] = pu_values
        return out

    def link(values: np.ndarray) -> np.ndarray:
        """Mother/daughter links re-indexed to the merged rows (pileup rows have none)."""
        return merged(np.where(values >= 0, hard_dest[np.maximum(values, 0)], -1), -1, np.int64)

    hard_vertex = vertex_offsets[hard_event]
    pu_vertex = pu_slot[interaction_of_row] if n_interactions else np.zeros(0, dtype=np.int64)
    cos_a = np.cos(angle)[interaction_of_row] if n_interactions else np.zeros(0)
    sin_a = np.sin(angle)[interaction_of_row] if n_interactions else np.zeros(0)
    flip = mirror[interaction_of_row] if n_interactions else np.zeros(0)

    def library_column(name: str) -> np.ndarray:
        if not n_interactions:
            return np.zeros(0)
        return getattr(library, name)[source].astype(np.float64)

    lpx, lpy, lx, ly = (library_column(c) for c in ("px", "py", "x", "y"))
    px = merged(record.px, cos_a * lpx - sin_a * lpy, np.float64)
    py = merged(record.py, sin_a * lpx + cos_a * lpy, np.float64)
    pz = merged(record.pz, flip * library_column("pz"), np.float64)
    x = merged(record.x + vx[hard_vertex], cos_a * lx - sin_a * ly + vx[pu_vertex], np.float64)
    y = merged(record.y + vy[hard_vertex], sin_a * lx + cos_a * ly + vy[pu_vertex], np.float64)
    z = merged(record.z + vz[hard_vertex], flip * library_column("z") + vz[pu_vertex], np.float64)
    pdg = library.pdg_id[source].astype(np.int64) if n_interactions else np.zeros(0, np.int64)
    merged_record = EventRecord(
        offsets=offsets,
        pdg_id=merged(record.pdg_id, pdg, np.int64),
        status=merged(record.status, 1, np.int64),
        mother1=link(record.mother1),
        mother2=link(record.mother2),
        daughter1=link(record.daughter1),
        daughter2=link(record.daughter2),
        px=px,
        py=py,
        pz=pz,
        energy=merged(record.energy, library_column("energy"), np.float64),
        mass=merged(record.mass, library_column("mass"), np.float64),
        x=x,
        y=y,
        z=z,
        tau=merged(record.tau, 0.0, np.float64),
        parton_id1=record.parton_id1,
        parton_id2=record.parton_id2,
        parton_x1=record.parton_x1,
        parton_x2=record.parton_x2,
        scale_pdf=record.scale_pdf,
    )
    vertex_local = merged(
        np.zeros(len(hard_event), np.int64), pu_vertex - vertex_offsets[event_of_pu_row], np.int64
    )
    hard_row = merged(np.arange(len(hard_event)), -1, np.int64)
    return Overlay(
        record=merged_record,
        vertex=vertex_local,
        hard_row=hard_row,
        n_pu=n_pu.astype(np.int64),
        vertex_x=vx,
        vertex_y=vy,
        vertex_z=vz,
        vertex_offsets=vertex_offsets,
    )

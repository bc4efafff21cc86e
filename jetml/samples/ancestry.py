"""Vectorised walks through Pythia's mother/daughter links (whole batches at once).

Each walk advances every active row by one generation per numpy step, so the number of Python
iterations is the depth of the decay tree, not the number of particles.
"""

from __future__ import annotations

import numpy as np

from jetml.samples.generator import EventRecord

_MAX_DEPTH = 500


def quark_content(pdg_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heaviest-quark digits of hadron codes: (digit of mesons, digit of baryons)."""
    absolute = np.abs(pdg_id)
    return (absolute // 100) % 10, (absolute // 1000) % 10


def is_hadron_with(pdg_id: np.ndarray, flavour: int) -> np.ndarray:
    """True for hadrons whose heaviest quark is ``flavour`` (5 = b, 4 = c)."""
    absolute = np.abs(pdg_id)
    meson_digit, baryon_digit = quark_content(pdg_id)
    baryon = absolute >= 1000
    heaviest = np.where(baryon, baryon_digit, meson_digit)
    # Diquarks (xx0x, xx0x with |id| < 10000 and the tens digit 0) are not hadrons.
    hadron = (absolute > 100) & (absolute < 10000) & ((absolute // 10) % 10 != 0)
    return hadron & (heaviest == flavour)


def is_decay_product(status: np.ndarray) -> np.ndarray:
    """Pythia status 91-99: produced in a particle decay."""
    return (np.abs(status) >= 91) & (np.abs(status) <= 99)


def weakly_decaying(record: EventRecord, flavour: int) -> np.ndarray:
    """Mask of hadrons of ``flavour`` with no daughter of the same flavour (the last in a chain)."""
    heavy = is_hadron_with(record.pdg_id, flavour)
    has_heavy_daughter = np.zeros(len(heavy), dtype=bool)
    mothers = record.mother1[heavy]
    has_heavy_daughter[mothers[mothers >= 0]] = True
    return heavy & ~has_heavy_daughter


def nearest_ancestor(
    mother: np.ndarray,
    rows: np.ndarray,
    target: np.ndarray,
    follow: np.ndarray | None = None,
) -> np.ndarray:
    """For each row, the nearest ancestor (via ``mother``) where ``target`` is True, else -1.

    With ``follow``, the walk only continues upwards from particles where ``follow`` is True
    (e.g. decay products), which bounds it to the relevant part of the record.
    """
    result = np.full(len(rows), -1, dtype=np.int64)
    current = np.asarray(rows, dtype=np.int64)
    active = np.ones(len(rows), dtype=bool)
    if follow is not None:
        active &= follow[current]
    current = np.where(active, mother[current], -1)
    active &= current >= 0
    for _ in range(_MAX_DEPTH):
        if not active.any():
            break
        hit = active & target[np.where(active, current, 0)]
        result[hit] = current[hit]
        active &= ~hit
        if follow is not None:
            active &= follow[np.where(active, current, 0)]
        step = np.where(active, mother[np.where(active, current, 0)], -1)
        current = step
        active &= current >= 0
    return result


def last_copy(record: EventRecord, rows: np.ndarray) -> np.ndarray:
    """Follow each row down its chain of same-id copies to the last copy."""
    current = np.asarray(rows, dtype=np.int64).copy()
    for _ in range(_MAX_DEPTH):
        pdg = record.pdg_id[current]
        d1, d2 = record.daughter1[current], record.daughter2[current]
        next_row = np.where(
            (d1 >= 0) & (record.pdg_id[np.maximum(d1, 0)] == pdg),
            d1,
            np.where((d2 >= 0) & (record.pdg_id[np.maximum(d2, 0)] == pdg), d2, -1),
        )
        moving = next_row >= 0
        if not moving.any():
            break
        current[moving] = next_row[moving]
    return current


def is_last_copy(record: EventRecord) -> np.ndarray:
    """True for particles none of whose two daughter links has the same pdgId."""
    pdg = record.pdg_id
    d1, d2 = record.daughter1, record.daughter2
    same1 = (d1 >= 0) & (pdg[np.maximum(d1, 0)] == pdg)
    same2 = (d2 >= 0) & (pdg[np.maximum(d2, 0)] == pdg)
    return ~(same1 | same2)


def is_first_copy(record: EventRecord) -> np.ndarray:
    """True for particles whose first mother has a different pdgId."""
    m1 = record.mother1
    return ~((m1 >= 0) & (record.pdg_id[np.maximum(m1, 0)] == record.pdg_id))

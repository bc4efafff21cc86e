"""Muons and electrons: identification, isolation from PF candidates, and generator origin.

Leptons are the PF muons and electrons of :mod:`jetml.samples.detector` (tracked true muons and
electrons). Identification is a documented efficiency model, not a detector simulation:

* ``Muon`` (pT > 3 GeV, |eta| < 2.4): ``looseId`` always, ``mediumId`` with 98% efficiency
  (CMS JINST 13 (2018) P06015), ``tightId`` = medium and |dxy| < 0.2 cm and |dz| < 0.5 cm.
* ``Electron`` (pT > 5 GeV, |eta| < 2.5): ``cutBased`` 0-4 (fail, veto, loose, medium, tight)
  drawn with cumulative efficiencies 95/90/80/70% (CMS JINST 16 (2021) P05014), where loose and
  better also need pfRelIso03_all < 0.2 (loose) or < 0.1 (medium, tight).

``pfRelIso03_all``/``pfRelIso04_all``: PF isolation with the Delta-beta pileup correction of CMS,
(sum pT of charged candidates not from pileup vertices (fromPV > 0) + max(0, sum pT of neutral
candidates - 0.5 sum pT of pileup charged candidates)) within Delta R < 0.3/0.4, other than the
lepton, over the lepton pT. ``genPartFlav`` follows NanoAOD: 1 prompt (from W/Z/H/gamma*), 15 from
a tau, 5 from a b hadron, 4 from a c hadron, 3 from a light hadron, 0 unmatched (pileup, fake
and secondary tracks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetml.samples.ancestry import is_hadron_with, nearest_ancestor
from jetml.samples.detector import PF_ELECTRON, PF_MUON, PFCandidates
from jetml.samples.generator import EventRecord
from jetml.samples.jets import pairwise_delta_r

RESONANCES = (6, 22, 23, 24, 25)  # a photon ancestor counts as gamma* (Drell-Yan)


@dataclass(frozen=True)
class Leptons:
    """Selected PF muons or electrons: candidate rows, event offsets, ID/isolation columns."""

    rows: np.ndarray
    offsets: np.ndarray
    columns: dict[str, np.ndarray]


def lepton_origin(record: EventRecord, truth_rows: np.ndarray) -> np.ndarray:
    """NanoAOD genPartFlav of leptons made by the particles at ``truth_rows``."""
    absolute = np.abs(record.pdg_id)
    hadron = (absolute > 100) & (absolute < 10000)
    target = hadron | (absolute == 15) | np.isin(absolute, RESONANCES)
    # Photons are only a resonance when they are the hard-process gamma* (status 22).
    target &= ~((absolute == 22) & (np.abs(record.status) != 22))
    generated = truth_rows >= 0
    ancestor = np.full(len(truth_rows), -1, dtype=np.int64)
    ancestor[generated] = nearest_ancestor(record.mother1, truth_rows[generated], target)
    found = np.maximum(ancestor, 0)
    origin = np.where(generated, 1, 0).astype(np.uint8)  # hard-process leptons: prompt
    origin[(ancestor >= 0) & (absolute[found] == 15)] = 15
    origin[(ancestor >= 0) & hadron[found]] = 3
    origin[(ancestor >= 0) & is_hadron_with(record.pdg_id[found], 4)] = 4
    origin[(ancestor >= 0) & is_hadron_with(record.pdg_id[found], 5)] = 5
    return origin


def relative_isolation(
    candidates: PFCandidates, rows: np.ndarray, offsets: np.ndarray, radius: float
) -> np.ndarray:
    """Delta-beta corrected PF isolation within ``radius`` of each lepton, over its pT."""
    lepton, other, dr = pairwise_delta_r(
        offsets,
        candidates.eta[rows],
        candidates.phi[rows],
        candidates.offsets,
        candidates.eta,
        candidates.phi,
    )
    inside = (dr < radius) & (other != rows[lepton])
    lepton, other = lepton[inside], other[inside]
    charged = candidates.charge[other] != 0
    pileup = charged & (candidates.from_pv[other] == 0)

    def summed(mask: np.ndarray) -> np.ndarray:
        return np.bincount(lepton[mask], candidates.pt[other[mask]], minlength=len(rows))

    neutral = np.maximum(summed(~charged) - 0.5 * summed(pileup), 0.0)
    return (summed(charged & ~pileup) + neutral) / candidates.pt[rows]


def select_leptons(
    record: EventRecord,
    candidates: PFCandidates,
    flavour: int,
    rng: np.random.Generator,
) -> Leptons:
    """Muons (flavour 13) or electrons (11) with ID, isolation and generator origin."""
    pf_type = PF_MUON if flavour == 13 else PF_ELECTRON
    min_pt, max_eta = (3.0, 2.4) if flavour == 13 else (5.0, 2.5)
    rows = np.flatnonzero(
        (np.abs(candidates.pdg_id) == pf_type)
        & (candidates.pt > min_pt)
        & (np.abs(candidates.eta) < max_eta)
    )
    event = np.repeat(np.arange(len(candidates.counts)), candidates.counts)[rows]
    counts = np.bincount(event, minlength=len(candidates.counts))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    iso03 = relative_isolation(candidates, rows, offsets, 0.3)
    dxy, dz = candidates.d0[rows], candidates.dz[rows]
    draw = rng.random(len(rows))
    columns = {
        "pt": candidates.pt[rows].astype(np.float32),
        "eta": candidates.eta[rows].astype(np.float32),
        "phi": candidates.phi[rows].astype(np.float32),
        "mass": candidates.mass[rows].astype(np.float32),
        "charge": candidates.charge[rows].astype(np.int32),
        "pdgId": candidates.pdg_id[rows].astype(np.int32),
        "dxy": dxy.astype(np.float32),
        "dxyErr": candidates.d0_err[rows].astype(np.float32),
        "dz": dz.astype(np.float32),
        "dzErr": candidates.dz_err[rows].astype(np.float32),
        "pfRelIso03_all": iso03.astype(np.float32),
        "genPartFlav": lepton_origin(record, candidates.truth_row[rows]),
    }
    if flavour == 13:
        medium = draw < 0.98
        columns["pfRelIso04_all"] = relative_isolation(candidates, rows, offsets, 0.4).astype(
            np.float32
        )
        columns["looseId"] = np.ones(len(rows), dtype=bool)
        columns["mediumId"] = medium
        columns["tightId"] = medium & (np.abs(dxy) < 0.2) & (np.abs(dz) < 0.5)
    else:
        level = np.select(
            [draw < 0.70, draw < 0.80, draw < 0.90, draw < 0.95], [4, 3, 2, 1], default=0
        )
        level = np.where((level >= 2) & (iso03 >= 0.2), 1, level)
        level = np.where((level >= 3) & (iso03 >= 0.1), 2, level)
        columns["cutBased"] = level.astype(np.int32)
    return Leptons(rows, offsets, columns)

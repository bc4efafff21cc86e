"""Generator-level event filters (applied to whole batches of Pythia records).

A filtered preset keeps only the events that pass; the file's ``Runs`` tree records the filter
efficiency, and the cross section of the kept sample is ``sigmaGen * filterEfficiency``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jetml.samples.generator import EventRecord

MUON_FILTER_MIN_PT = 5.0  # GeV
MUON_FILTER_MAX_ETA = 2.4


def has_muon(record: EventRecord) -> np.ndarray:
    """Events with a stable muon of pT > 5 GeV and |eta| < 2.4 (CMS "MuEnriched" style)."""
    pt = np.hypot(record.px, record.py)
    eta = np.arcsinh(record.pz / np.maximum(pt, 1e-9))
    muon = (
        (record.status > 0)
        & (np.abs(record.pdg_id) == 13)
        & (pt > MUON_FILTER_MIN_PT)
        & (np.abs(eta) < MUON_FILTER_MAX_ETA)
    )
    return np.bincount(record.event_of_row[muon], minlength=record.n_events) > 0


EVENT_FILTERS: dict[str, Callable[[EventRecord], np.ndarray]] = {"muon_pt5": has_muon}

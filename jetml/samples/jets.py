"""Jet reconstruction with the ``fastjet`` package on whole batches of events.

fastjet's awkward interface clusters every event of a jagged array in one C++ call. Jet
substructure (soft drop, subjets, N-subjettiness) reuses it by treating each jet's constituents
as one "event", so no Python loop runs over events or jets.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from jetml.samples.generator import _silenced_stdout

# Cambridge/Aachen with a radius far beyond any jet: reclusters a jet's constituents into one jet.
_RECLUSTER_RADIUS = 10.0


@dataclass(frozen=True)
class Jets:
    """Jets of a batch, flat (one row per jet, pT-ordered within each event) with event offsets.

    ``constituents`` are flat rows into the clustered inputs, grouped per jet by
    ``constituent_offsets`` and pT-ordered within each jet.
    """

    offsets: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    constituents: np.ndarray
    constituent_offsets: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        """Jets per event."""
        return np.diff(self.offsets)

    @property
    def n_constituents(self) -> np.ndarray:
        """Constituents per jet."""
        return np.diff(self.constituent_offsets)

    @property
    def pt(self) -> np.ndarray:
        return np.hypot(self.px, self.py)

    @property
    def eta(self) -> np.ndarray:
        return np.arcsinh(self.pz / np.maximum(self.pt, 1e-12))

    @property
    def phi(self) -> np.ndarray:
        return np.arctan2(self.py, self.px)

    @property
    def mass(self) -> np.ndarray:
        m2 = self.energy**2 - self.px**2 - self.py**2 - self.pz**2
        return np.sqrt(np.maximum(m2, 0.0))

    @property
    def event_of_jet(self) -> np.ndarray:
        """Batch event index of every jet."""
        return np.repeat(np.arange(len(self.counts)), self.counts)

    @property
    def jet_of_constituent(self) -> np.ndarray:
        """Flat jet index of every constituent row."""
        return np.repeat(np.arange(len(self.px)), self.n_constituents)


@dataclass(frozen=True)
class Substructure:
    """Groomed and N-subjettiness quantities of each jet, plus its soft-drop subjets (flat)."""

    msoftdrop: np.ndarray
    tau: np.ndarray  # (n_jets, 4): tau1..tau4
    subjets: Jets  # one "event" per jet: up to two subjets, pT-ordered


def cluster(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    offsets: np.ndarray,
    *,
    algorithm: int,
    radius: float,
    min_pt: float,
) -> Jets:
    """Cluster the inputs of every event; keep jets above ``min_pt`` (GeV)."""
    counts = np.diff(offsets)
    inputs = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": energy}), counts)
    definition = fastjet.JetDefinition(algorithm, radius)
    with _silenced_stdout(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sequence = fastjet.ClusterSequence(inputs, definition)
        jets = sequence.inclusive_jets(min_pt)
        local_index = sequence.constituent_index(min_pt)
    order = ak.argsort(np.hypot(jets.px, jets.py), axis=1, ascending=False)
    jets = jets[order]
    local_index = local_index[order]
    global_index = local_index + ak.Array(offsets[:-1].astype(np.int64))
    per_jet = ak.flatten(global_index, axis=1)
    # Constituents ordered by decreasing pT inside each jet.
    flat_rows = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64)
    n_per_jet = ak.to_numpy(ak.num(per_jet, axis=1)).astype(np.int64)
    constituent_offsets = np.zeros(len(n_per_jet) + 1, dtype=np.int64)
    np.cumsum(n_per_jet, out=constituent_offsets[1:])
    constituent_pt = np.hypot(px[flat_rows], py[flat_rows])
    jet_of_row = np.repeat(np.arange(len(n_per_jet)), n_per_jet)
    ordering = np.lexsort((-constituent_pt, jet_of_row))
    jet_counts = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    jet_offsets = np.zeros(len(jet_counts) + 1, dtype=np.int64)
    np.cumsum(jet_counts, out=jet_offsets[1:])
    return Jets(
        offsets=jet_offsets,
        px=ak.to_numpy(ak.flatten(jets.px)).astype(np.float64),
        py=ak.to_numpy(ak.flatten(jets.py)).astype(np.float64),
        pz=ak.to_numpy(ak.flatten(jets.pz)).astype(np.float64),
        energy=ak.to_numpy(ak.flatten(jets.E)).astype(np.float64),
        constituents=flat_rows[ordering],
        constituent_offsets=constituent_offsets,
    )


def substructure(
    jets: Jets,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    *,
    radius: float,
    beta: float = 0.0,
    z_cut: float = 0.1,
) -> Substructure:
    """Soft drop (beta, z_cut, R0 = radius), its two C/A subjets and tau1..tau4 of each jet.

    N-subjettiness uses CMS's settings: normalised measure, beta = 1, one-pass kT axes.
    """
    n_jets = len(jets.px)
    if n_jets == 0:
        empty_offsets = np.zeros(1, dtype=np.int64)
        empty = np.zeros(0)
        no_subjets = Jets(
            empty_offsets, empty, empty, empty, empty, empty.astype(np.int64), empty_offsets
        )
        return Substructure(msoftdrop=empty, tau=np.zeros((0, 4)), subjets=no_subjets)
    rows = jets.constituents
    per_jet = ak.unflatten(
        ak.zip({"px": px[rows], "py": py[rows], "pz": pz[rows], "E": energy[rows]}),
        jets.n_constituents,
    )
    recluster = fastjet.JetDefinition(fastjet.cambridge_algorithm, _RECLUSTER_RADIUS)
    with _silenced_stdout(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sequence = fastjet.ClusterSequence(per_jet, recluster)
        groomed = sequence.exclusive_jets_softdrop_grooming(
            njets=1, beta=beta, symmetry_cut=z_cut, R0=radius
        )
        taus = sequence.njettiness(
            measure_definition="NormalizedMeasure",
            axes_definition="OnePass_KT_Axes",
            njets=[1, 2, 3, 4],
            beta=1.0,
            R0=radius,
        )
        subjet_sequence = fastjet.ClusterSequence(groomed.constituents, recluster)
        subjets = subjet_sequence.exclusive_jets_up_to(2)
    order = ak.argsort(np.hypot(subjets.px, subjets.py), axis=1, ascending=False)
    subjets = subjets[order]
    sub_counts = ak.to_numpy(ak.num(subjets, axis=1)).astype(np.int64)
    sub_offsets = np.zeros(n_jets + 1, dtype=np.int64)
    np.cumsum(sub_counts, out=sub_offsets[1:])
    no_rows = np.zeros(0, dtype=np.int64)
    return Substructure(
        msoftdrop=ak.to_numpy(groomed.msoftdrop).astype(np.float64),
        tau=ak.to_numpy(taus).astype(np.float64).reshape(n_jets, 4),
        subjets=Jets(
            offsets=sub_offsets,
            px=ak.to_numpy(ak.flatten(subjets.px)).astype(np.float64),
            py=ak.to_numpy(ak.flatten(subjets.py)).astype(np.float64),
            pz=ak.to_numpy(ak.flatten(subjets.pz)).astype(np.float64),
            energy=ak.to_numpy(ak.flatten(subjets.E)).astype(np.float64),
            constituents=no_rows,
            constituent_offsets=np.zeros(len(sub_counts) + 1, dtype=np.int64),
        ),
    )


def delta_phi(phi1: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """phi1 - phi2 wrapped into [-pi, pi)."""
    return (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi


def pairwise_delta_r(
    offsets_a: np.ndarray,
    eta_a: np.ndarray,
    phi_a: np.ndarray,
    offsets_b: np.ndarray,
    eta_b: np.ndarray,
    phi_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All same-event pairs (a, b): flat row indices of a and b and their Delta R."""
    counts_a = np.diff(offsets_a)
    counts_b = np.diff(offsets_b)
    pairs_per_event = counts_a * counts_b
    n_pairs = int(pairs_per_event.sum())
    event = np.repeat(np.arange(len(counts_a)), pairs_per_event)
    pair_start = np.zeros(len(counts_a) + 1, dtype=np.int64)
    np.cumsum(pairs_per_event, out=pair_start[1:])
    local = np.arange(n_pairs) - pair_start[event]
    nb = counts_b[event]
    row_a = offsets_a[event] + local // np.maximum(nb, 1)
    row_b = offsets_b[event] + local % np.maximum(nb, 1)
    d_eta = eta_a[row_a] - eta_b[row_b]
    d_phi = delta_phi(phi_a[row_a], phi_b[row_b])
    return row_a, row_b, np.hypot(d_eta, d_phi)

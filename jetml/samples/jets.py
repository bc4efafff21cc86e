"""Jet reconstruction with the ``fastjet`` package on whole batches of events.

fastjet's awkward interface clusters every event of a jagged array in one C++ call;
N-subjettiness reuses it by treating each jet's constituents as one "event". Soft drop runs in
:mod:`jetml.samples.softdrop` (numba), because fastjet's awkward soft drop is slower than Pythia.
No Python loop runs over events or jets.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from jetml.samples.fourmomenta import CartesianKinematics
from jetml.samples.generator import silenced_stdout
from jetml.samples.softdrop import soft_drop_batch

# Cambridge/Aachen with a radius far beyond any jet: reclusters a jet's constituents into one jet.
_RECLUSTER_RADIUS = 10.0


@dataclass(frozen=True)
class Jets(CartesianKinematics):
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
    with silenced_stdout(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sequence = fastjet.ClusterSequence(inputs, definition)
        jets = sequence.inclusive_jets(min_pt)
        local_index = sequence.constituent_index(min_pt)
    # Everything below is plain numpy on the flattened output.
    jet_counts = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    jet_px = ak.to_numpy(ak.flatten(jets.px)).astype(np.float64)
    jet_py = ak.to_numpy(ak.flatten(jets.py)).astype(np.float64)
    jet_pz = ak.to_numpy(ak.flatten(jets.pz)).astype(np.float64)
    jet_e = ak.to_numpy(ak.flatten(jets.E)).astype(np.float64)
    per_jet_index = ak.flatten(local_index, axis=1)
    n_per_jet = ak.to_numpy(ak.num(per_jet_index, axis=1)).astype(np.int64)
    local_rows = ak.to_numpy(ak.flatten(per_jet_index)).astype(np.int64)
    event_of_jet = np.repeat(np.arange(len(jet_counts)), jet_counts)
    rows = local_rows + np.repeat(offsets[:-1][event_of_jet], n_per_jet)

    # Jets by decreasing pT inside each event; their constituent blocks follow.
    order = np.lexsort((-np.hypot(jet_px, jet_py), event_of_jet))
    block_start = np.zeros(len(n_per_jet) + 1, dtype=np.int64)
    np.cumsum(n_per_jet, out=block_start[1:])
    sorted_n = n_per_jet[order]
    constituent_offsets = np.zeros(len(sorted_n) + 1, dtype=np.int64)
    np.cumsum(sorted_n, out=constituent_offsets[1:])
    gather = np.arange(len(rows)) + np.repeat(
        block_start[order] - constituent_offsets[:-1], sorted_n
    )
    rows = rows[gather]
    # Constituents by decreasing pT inside each jet.
    owner = np.repeat(np.arange(len(sorted_n)), sorted_n)
    rows = rows[np.lexsort((-np.hypot(px[rows], py[rows]), owner))]
    jet_offsets = np.zeros(len(jet_counts) + 1, dtype=np.int64)
    np.cumsum(jet_counts, out=jet_offsets[1:])
    return Jets(
        offsets=jet_offsets,
        px=jet_px[order],
        py=jet_py[order],
        pz=jet_pz[order],
        energy=jet_e[order],
        constituents=rows,
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
    """Soft drop (beta, z_cut, R0 = radius), its two subjets and tau1..tau4 of each jet.

    N-subjettiness uses CMS's settings: normalised measure, beta = 1, one-pass kT axes.
    """
    rows = jets.constituents
    groomed, subjet_p4, n_subjets = soft_drop_batch(
        px[rows], py[rows], pz[rows], energy[rows], jets.constituent_offsets, z_cut, beta, radius
    )
    n_jets = len(jets.px)
    msoftdrop = np.sqrt(np.maximum(groomed[:, 3] ** 2 - (groomed[:, :3] ** 2).sum(axis=1), 0.0))
    tau = np.zeros((n_jets, 4))
    if n_jets:
        per_jet = ak.unflatten(
            ak.zip({"px": px[rows], "py": py[rows], "pz": pz[rows], "E": energy[rows]}),
            jets.n_constituents,
        )
        recluster = fastjet.JetDefinition(fastjet.cambridge_algorithm, _RECLUSTER_RADIUS)
        with silenced_stdout(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            taus = fastjet.ClusterSequence(per_jet, recluster).njettiness(
                measure_definition="NormalizedMeasure",
                axes_definition="OnePass_KT_Axes",
                njets=[1, 2, 3, 4],
                beta=1.0,
                R0=radius,
            )
        tau = ak.to_numpy(taus).astype(np.float64).reshape(n_jets, 4)
    present = np.arange(2)[None, :] < n_subjets[:, None]
    flat = subjet_p4[present]
    sub_offsets = np.zeros(n_jets + 1, dtype=np.int64)
    np.cumsum(n_subjets, out=sub_offsets[1:])
    return Substructure(
        msoftdrop=msoftdrop,
        tau=tau,
        subjets=Jets(
            offsets=sub_offsets,
            px=flat[:, 0],
            py=flat[:, 1],
            pz=flat[:, 2],
            energy=flat[:, 3],
            constituents=np.zeros(0, dtype=np.int64),
            constituent_offsets=np.zeros(n_jets + 1, dtype=np.int64),
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

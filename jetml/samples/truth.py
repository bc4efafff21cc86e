"""Truth information: hadron and parton flavour of jets, DeepAK8/DeepJet labels and ``GenPart``.

Definitions (documented in docs/samples.md):

* hadron flavour: weakly decaying b (c) hadrons within Delta R < R of the jet axis (CMS uses ghost
  association; for hadrons inside jets both agree except at the jet boundary);
* parton flavour: the hardest parton entering hadronisation within Delta R < R, preferring one of
  the hadron flavour when the jet has b or c hadrons;
* DeepAK8 labels: the resonance and all its decay quarks within Delta R < 0.8 of the AK8 axis
  (tops: b and both W quarks -> bcq/bqq, b and one W quark -> bc/bq); otherwise QCD by hadron
  content.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jetml.samples.ancestry import (
    is_decay_product,
    is_first_copy,
    is_last_copy,
    last_copy,
    nearest_ancestor,
    weakly_decaying,
)
from jetml.samples.generator import EventRecord
from jetml.samples.jets import pairwise_delta_r
from jetml.samples.labels import DeepJetLabel, FatJetLabel

TOP, W_BOSON, Z_BOSON, HIGGS = 6, 24, 23, 25
_NO_QUARK = 0


def row_offsets(rows: np.ndarray, record: EventRecord) -> np.ndarray:
    """Event offsets of a sorted subset of record rows."""
    return np.searchsorted(rows, record.offsets).astype(np.int64)


def kinematics(record: EventRecord, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pt, eta, phi) of record rows."""
    px, py, pz = record.px[rows], record.py[rows], record.pz[rows]
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / np.maximum(pt, 1e-9))
    return pt, eta, np.arctan2(py, px)


@dataclass(frozen=True)
class JetAxes:
    """The axes of a flat jet collection (for Delta R matching)."""

    offsets: np.ndarray
    eta: np.ndarray
    phi: np.ndarray


@dataclass(frozen=True)
class Flavour:
    """Per-jet flavour information."""

    n_b_hadrons: np.ndarray
    n_c_hadrons: np.ndarray
    hadron_flavour: np.ndarray
    parton_flavour: np.ndarray
    n_leptonic_b: np.ndarray


class TruthTables:
    """Pre-computed truth objects of a batch: weak b/c hadrons, partons, resonance decays."""

    def __init__(self, record: EventRecord) -> None:
        self.record = record
        self.b_hadrons = np.flatnonzero(weakly_decaying(record, 5))
        self.c_hadrons = np.flatnonzero(weakly_decaying(record, 4))
        absolute = np.abs(record.pdg_id)
        abs_status = np.abs(record.status)
        self.partons = np.flatnonzero(
            (abs_status >= 71)
            & (abs_status <= 79)
            & (((absolute >= 1) & (absolute <= 5)) | (absolute == 21))
        )
        # b hadrons with an electron or muon anywhere in their decay chain.
        leptons = np.flatnonzero((record.status > 0) & np.isin(absolute, (11, 13)))
        weak_b = np.zeros(len(record.pdg_id), dtype=bool)
        weak_b[self.b_hadrons] = True
        parent_b = nearest_ancestor(
            record.mother1, leptons, weak_b, follow=is_decay_product(record.status)
        )
        self.leptonic_b = np.zeros(len(record.pdg_id), dtype=bool)
        self.leptonic_b[parent_b[parent_b >= 0]] = True

    def flavour(self, axes: JetAxes, radius: float) -> Flavour:
        """Hadron/parton flavour and b/c hadron counts of jets with the given axes."""
        record = self.record
        n_jets = len(axes.eta)

        def matched(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            _, eta, phi = kinematics(record, rows)
            jet, other, dr = pairwise_delta_r(
                axes.offsets, axes.eta, axes.phi, row_offsets(rows, record), eta, phi
            )
            inside = dr < radius
            return jet[inside], rows[other[inside]]

        jet_b, b_rows = matched(self.b_hadrons)
        jet_c, _ = matched(self.c_hadrons)
        n_b = np.bincount(jet_b, minlength=n_jets)
        n_c = np.bincount(jet_c, minlength=n_jets)
        n_lep_b = np.bincount(jet_b[self.leptonic_b[b_rows]], minlength=n_jets)
        hadron_flavour = np.where(n_b > 0, 5, np.where(n_c > 0, 4, 0))

        jet_p, parton_rows = matched(self.partons)
        parton_pt, _, _ = kinematics(record, parton_rows)
        parton_id = record.pdg_id[parton_rows]
        preferred = np.abs(parton_id) == hadron_flavour[jet_p]
        # Rank: preferred flavour first, then pT; keep the best parton per jet.
        order = np.lexsort((-parton_pt, ~preferred, jet_p))
        first = np.ones(len(order), dtype=bool)
        first[1:] = jet_p[order][1:] != jet_p[order][:-1]
        parton_flavour = np.zeros(n_jets, dtype=np.int64)
        best = order[first]
        parton_flavour[jet_p[best]] = parton_id[best]
        return Flavour(n_b, n_c, hadron_flavour, parton_flavour, n_lep_b)

    def deepjet_labels(self, flavour: Flavour) -> np.ndarray:
        """DeepJet 6-class labels (b, bb, lepb, c, uds, g; -1 undefined)."""
        labels = np.full(len(flavour.hadron_flavour), int(DeepJetLabel.undefined), dtype=np.int32)
        parton = np.abs(flavour.parton_flavour)
        labels[(flavour.hadron_flavour == 0) & (parton >= 1) & (parton <= 3)] = DeepJetLabel.uds
        labels[(flavour.hadron_flavour == 0) & (parton == 21)] = DeepJetLabel.g
        labels[flavour.hadron_flavour == 4] = DeepJetLabel.c
        single_b = flavour.n_b_hadrons == 1
        labels[single_b & (flavour.n_leptonic_b == 0)] = DeepJetLabel.b
        labels[single_b & (flavour.n_leptonic_b > 0)] = DeepJetLabel.lepb
        labels[flavour.n_b_hadrons >= 2] = DeepJetLabel.bb
        return labels

    def fatjet_labels(self, axes: JetAxes, flavour: Flavour, radius: float = 0.8) -> np.ndarray:
        """DeepAK8 17-class labels of AK8 jets."""
        n_jets = len(axes.eta)
        labels = np.full(n_jets, int(FatJetLabel.QCD_others), dtype=np.int32)
        labels[flavour.n_c_hadrons == 1] = FatJetLabel.QCD_c
        labels[flavour.n_c_hadrons >= 2] = FatJetLabel.QCD_cc
        labels[flavour.n_b_hadrons == 1] = FatJetLabel.QCD_b
        labels[flavour.n_b_hadrons >= 2] = FatJetLabel.QCD_bb
        decays = resonance_decays(self.record)
        if len(decays.rows) == 0 or n_jets == 0:
            return labels
        record = self.record
        _, res_eta, res_phi = kinematics(record, decays.rows)
        jet, res, dr = pairwise_delta_r(
            axes.offsets, axes.eta, axes.phi, row_offsets(decays.rows, record), res_eta, res_phi
        )
        res_in = dr < radius

        def inside(quark_rows: np.ndarray) -> np.ndarray:
            present = quark_rows >= 0
            _, q_eta, q_phi = kinematics(record, np.maximum(quark_rows, 0))
            d_eta = q_eta - axes.eta[jet]
            d_phi = (q_phi - axes.phi[jet] + np.pi) % (2 * np.pi) - np.pi
            return present & (np.hypot(d_eta, d_phi) < radius)

        quarks = decays.quarks[res]  # (pairs, 4)
        quark_in = np.stack([inside(quarks[:, k]) for k in range(4)], axis=1)
        quark_abs = np.abs(record.pdg_id[np.maximum(quarks, 0)]) * (quarks >= 0)
        n_quarks = (quarks >= 0).sum(axis=1)
        all_in = quark_in.sum(axis=1) == n_quarks
        any_c_in = (quark_in & (quark_abs == 4)).any(axis=1)
        any_b = (quark_abs == 5).any(axis=1)
        any_c = (quark_abs == 4).any(axis=1)
        kind = decays.kind[res]
        b_in = inside(decays.top_b[res])
        pair_label = np.full(len(res), np.iinfo(np.int32).max, dtype=np.int64)

        top = kind == TOP
        w_quarks_in = quark_in[:, :2].sum(axis=1)
        pair_label[top & b_in & (w_quarks_in == 2) & res_in & any_c] = FatJetLabel.Top_bcq
        pair_label[top & b_in & (w_quarks_in == 2) & res_in & ~any_c] = FatJetLabel.Top_bqq
        pair_label[top & b_in & (w_quarks_in == 1) & any_c_in] = FatJetLabel.Top_bc
        pair_label[top & b_in & (w_quarks_in == 1) & ~any_c_in] = FatJetLabel.Top_bq
        # A top whose b falls outside but whose W is fully merged gives a W jet.
        w_from_top = top & ~b_in & (w_quarks_in == 2) & inside(decays.top_w[res])
        pair_label[w_from_top & any_c] = FatJetLabel.W_cq
        pair_label[w_from_top & ~any_c] = FatJetLabel.W_qq
        merged = res_in & all_in
        pair_label[(kind == W_BOSON) & merged & any_c] = FatJetLabel.W_cq
        pair_label[(kind == W_BOSON) & merged & ~any_c] = FatJetLabel.W_qq
        pair_label[(kind == Z_BOSON) & merged & any_b] = FatJetLabel.Z_bb
        pair_label[(kind == Z_BOSON) & merged & any_c & ~any_b] = FatJetLabel.Z_cc
        pair_label[(kind == Z_BOSON) & merged & ~any_c & ~any_b] = FatJetLabel.Z_qq
        higgs = (kind == HIGGS) & merged
        four = n_quarks == 4
        pair_label[higgs & ~four & any_b] = FatJetLabel.H_bb
        pair_label[higgs & ~four & any_c & ~any_b] = FatJetLabel.H_cc
        pair_label[higgs & four] = FatJetLabel.H_qqqq
        # Hadronic-only labels: decays into leptons never satisfy "all quarks inside".
        pair_label[decays.leptonic[res]] = np.iinfo(np.int32).max

        best = np.full(n_jets, np.iinfo(np.int32).max, dtype=np.int64)
        np.minimum.at(best, jet, pair_label)
        resonant = best < np.iinfo(np.int32).max
        labels[resonant] = best[resonant]
        return labels


@dataclass(frozen=True)
class ResonanceDecays:
    """Last copies of t, W, Z, H and their decay quarks (row indices, -1 where absent).

    ``quarks`` holds up to four quark rows: a top's W quarks in slots 0-1 (its b in ``top_b``),
    a W/Z/H->qq's two quarks in slots 0-1, H->WW->4q's four quarks. W bosons from top and Higgs
    decays are described through their parent, not listed on their own.
    """

    rows: np.ndarray
    kind: np.ndarray
    quarks: np.ndarray
    top_b: np.ndarray
    top_w: np.ndarray
    leptonic: np.ndarray


def resonance_decays(record: EventRecord) -> ResonanceDecays:
    """Collect the hadronically relevant resonance decays of a batch."""
    absolute = np.abs(record.pdg_id)
    resonant = np.isin(absolute, (TOP, W_BOSON, Z_BOSON, HIGGS)) & is_last_copy(record)
    resonant &= record.daughter1 >= 0
    rows = np.flatnonzero(resonant)
    first = _first_copy_rows(record, rows)
    parent = record.mother1[first]
    parent_id = np.where(parent >= 0, absolute[np.maximum(parent, 0)], 0)
    # W bosons from top or Higgs decays are handled by their parent.
    keep = ~((absolute[rows] == W_BOSON) & np.isin(parent_id, (TOP, HIGGS)))
    rows = rows[keep]
    kind = absolute[rows]
    d1, d2 = record.daughter1[rows], record.daughter2[rows]
    d2 = np.where(d2 >= 0, d2, d1)
    quarks = np.full((len(rows), 4), -1, dtype=np.int64)
    top_b = np.full(len(rows), -1, dtype=np.int64)
    top_w = np.full(len(rows), -1, dtype=np.int64)
    leptonic = np.zeros(len(rows), dtype=bool)

    def is_quark(r: np.ndarray) -> np.ndarray:
        return (absolute[r] >= 1) & (absolute[r] <= 5)

    def w_quarks(w_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w_last = last_copy(record, w_rows)
        q1 = record.daughter1[w_last]
        q2 = np.where(record.daughter2[w_last] >= 0, record.daughter2[w_last], q1)
        hadronic = is_quark(np.maximum(q1, 0)) & is_quark(np.maximum(q2, 0)) & (q1 >= 0)
        return np.where(hadronic, q1, -1), np.where(hadronic, q2, -1), ~hadronic

    top = kind == TOP
    b_first = np.where(absolute[d1] == 5, d1, d2)
    w_first = np.where(absolute[d1] == W_BOSON, d1, d2)
    q1, q2, lep = w_quarks(w_first[top])
    quarks[top, 0], quarks[top, 1], leptonic[top] = q1, q2, lep
    top_b[top] = b_first[top]
    top_w[top] = last_copy(record, w_first[top])

    boson = (kind == W_BOSON) | (kind == Z_BOSON) | (kind == HIGGS)
    two_quarks = boson & is_quark(d1) & is_quark(d2)
    quarks[two_quarks, 0] = d1[two_quarks]
    quarks[two_quarks, 1] = d2[two_quarks]
    higgs_ww = (kind == HIGGS) & (absolute[d1] == W_BOSON) & (absolute[d2] == W_BOSON)
    a1, a2, lep_a = w_quarks(d1[higgs_ww])
    b1, b2, lep_b = w_quarks(d2[higgs_ww])
    quarks[higgs_ww] = np.stack([a1, a2, b1, b2], axis=1)
    leptonic[higgs_ww] = lep_a | lep_b
    leptonic[boson & ~two_quarks & ~higgs_ww] = True
    return ResonanceDecays(rows, kind, quarks, top_b, top_w, leptonic)


def _first_copy_rows(record: EventRecord, rows: np.ndarray) -> np.ndarray:
    """Walk up same-id mothers to the first copy."""
    first_copy = is_first_copy(record)
    not_first = ~first_copy
    ancestor = nearest_ancestor(record.mother1, rows, first_copy, follow=None)
    # Rows that are first copies themselves stay; others take their nearest first-copy ancestor,
    # which for a copy chain is the first copy of the same particle.
    return np.where(not_first[rows] & (ancestor >= 0), ancestor, rows)


@dataclass(frozen=True)
class GenParticles:
    """The ``GenPart`` selection of a batch: record rows and the NanoAOD columns."""

    rows: np.ndarray
    offsets: np.ndarray
    mother_index: np.ndarray  # index within the event's GenPart list, -1 for none
    status: np.ndarray
    status_flags: np.ndarray


# NanoAOD GenPart_statusFlags bits set here.
FLAG_IS_PROMPT = 1 << 0
FLAG_IS_DECAYED_LEPTON_HADRON = 1 << 1
FLAG_IS_HARD_PROCESS = 1 << 7
FLAG_FROM_HARD_PROCESS = 1 << 8
FLAG_IS_FIRST_COPY = 1 << 12
FLAG_IS_LAST_COPY = 1 << 13


def gen_particles(record: EventRecord) -> GenParticles:
    """Select the hard process, resonances and their daughters, b/c hadrons and leptons."""
    absolute = np.abs(record.pdg_id)
    abs_status = np.abs(record.status)
    hard = (abs_status >= 21) & (abs_status <= 23)
    last = is_last_copy(record)
    first = is_first_copy(record)
    resonance = np.isin(absolute, (TOP, W_BOSON, Z_BOSON, HIGGS))
    resonance_copy = resonance & (first | last)
    daughters = np.zeros(len(absolute), dtype=bool)
    res_last = np.flatnonzero(resonance & last & (record.daughter1 >= 0))
    d1 = record.daughter1[res_last]
    d2 = np.where(record.daughter2[res_last] >= 0, record.daughter2[res_last], d1)
    daughters[d1] = True
    daughters[d2] = True
    heavy_hadrons = weakly_decaying(record, 5) | weakly_decaying(record, 4)
    charged_leptons = np.isin(absolute, (11, 13)) & (record.status > 0)
    lepton_pt = np.hypot(record.px, record.py)
    taus = (absolute == 15) & last
    neutrinos = np.isin(absolute, (12, 14, 16)) & (record.status > 0) & daughters
    selected = (
        hard
        | resonance_copy
        | daughters
        | heavy_hadrons
        | (charged_leptons & (lepton_pt > 3.0))
        | taus
        | neutrinos
    )
    rows = np.flatnonzero(selected)
    offsets = row_offsets(rows, record)
    ancestor = nearest_ancestor(record.mother1, rows, selected)
    # Index within the event: position in ``rows`` minus the event's first position.
    position = np.searchsorted(rows, ancestor)
    event = np.repeat(np.arange(record.n_events), np.diff(offsets))
    mother_index = np.where(ancestor >= 0, position - offsets[event], -1)

    status = record.status[rows]
    decayed = (status < 0) & (np.isin(absolute[rows], (11, 13, 15)) | (absolute[rows] > 100))
    nano_status = np.where(status > 0, 1, np.where(decayed, 2, np.abs(status)))
    from_hadron_decay = is_decay_product(record.status[rows]) & (
        absolute[np.maximum(record.mother1[rows], 0)] > 100
    )
    flags = np.zeros(len(rows), dtype=np.int64)
    flags |= np.where(~from_hadron_decay, FLAG_IS_PROMPT, 0)
    flags |= np.where(decayed, FLAG_IS_DECAYED_LEPTON_HADRON, 0)
    flags |= np.where(hard[rows], FLAG_IS_HARD_PROCESS, 0)
    flags |= np.where(
        hard[rows] | resonance_copy[rows] | daughters[rows], FLAG_FROM_HARD_PROCESS, 0
    )
    flags |= np.where(first[rows], FLAG_IS_FIRST_COPY, 0)
    flags |= np.where(last[rows], FLAG_IS_LAST_COPY, 0)
    return GenParticles(
        rows=rows,
        offsets=offsets,
        mother_index=mother_index.astype(np.int32),
        status=nano_status.astype(np.int32),
        status_flags=flags.astype(np.int32),
    )

"""Assemble the PFNano collections of one batch of generated events.

Input: the flattened Pythia record. Output: :class:`Table` objects (flat columns + per-event
counts) named and typed as in CMS PFNano, ready for :mod:`jetml.samples.writer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import fastjet
import numpy as np

from jetml.samples.detector import (
    NEUTRINO_IDS,
    PF_CHARGED_HADRON,
    PF_ELECTRON,
    PF_HF_EM,
    PF_HF_HADRON,
    PF_MUON,
    PF_NEUTRAL_HADRON,
    PF_PHOTON,
    DetectorModel,
    PFCandidates,
    reconstruct,
)
from jetml.samples.generator import EventRecord
from jetml.samples.jets import Jets, cluster, delta_phi, pairwise_delta_r, substructure
from jetml.samples.trackvars import track_variables
from jetml.samples.truth import JetAxes, TruthTables, gen_particles, kinematics
from jetml.samples.vertices import SecondaryVertices, find_vertices

AK4_RADIUS, AK4_MIN_PT = 0.4, 15.0
AK8_RADIUS, AK8_MIN_PT = 0.8, 170.0
GENJET_MIN_PT, GENJET_AK8_MIN_PT = 10.0, 100.0
GENJET_MATCH_AK4, GENJET_MATCH_AK8 = 0.2, 0.4

F4, I4, U1 = np.float32, np.int32, np.uint8


@dataclass(frozen=True)
class Table:
    """One NanoAOD collection: per-event ``counts`` and flat, typed columns."""

    counts: np.ndarray
    columns: dict[str, np.ndarray]


def build_batch(
    record: EventRecord, model: DetectorModel, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, Table]]:
    """Reconstruct and label one batch; return (event-level columns, collections)."""
    all_candidates = reconstruct(record, model, rng)
    truth = TruthTables(record)

    ak4 = _cluster_candidates(all_candidates, AK4_RADIUS, AK4_MIN_PT)
    ak8 = _cluster_candidates(all_candidates, AK8_RADIUS, AK8_MIN_PT)
    groomed = substructure(
        ak8,
        all_candidates.px,
        all_candidates.py,
        all_candidates.pz,
        all_candidates.energy,
        radius=AK8_RADIUS,
    )

    # Store the candidates clustered into any stored jet (PFNano's "interesting particles").
    in_jet = np.zeros(len(all_candidates.pt), dtype=bool)
    in_jet[ak4.constituents] = True
    in_jet[ak8.constituents] = True
    kept_rows = np.flatnonzero(in_jet)
    event_of_candidate = np.repeat(np.arange(record.n_events), all_candidates.counts)
    kept_counts = np.bincount(event_of_candidate[kept_rows], minlength=record.n_events)
    candidates = all_candidates.take(kept_rows, kept_counts)
    new_row = np.full(len(all_candidates.pt), -1, dtype=np.int64)
    new_row[kept_rows] = np.arange(len(kept_rows))

    vertices = find_vertices(record, all_candidates, model, rng)
    gen_ak4, gen_ak4_nu = _gen_jets(record, AK4_RADIUS, GENJET_MIN_PT)
    gen_ak8, _ = _gen_jets(record, AK8_RADIUS, GENJET_AK8_MIN_PT)

    ak4_axes = JetAxes(ak4.offsets, ak4.eta, ak4.phi)
    ak8_axes = JetAxes(ak8.offsets, ak8.eta, ak8.phi)
    ak4_flavour = truth.flavour(ak4_axes, AK4_RADIUS)
    ak8_flavour = truth.flavour(ak8_axes, AK8_RADIUS)
    subjets = groomed.subjets
    # Subjets of all fat jets of an event form the event's SubJet list.
    sub_event_offsets = subjets.offsets[ak8.offsets]
    sub_axes = JetAxes(sub_event_offsets, subjets.eta, subjets.phi)
    sub_flavour = truth.flavour(sub_axes, AK4_RADIUS)
    gen_ak4_flavour = truth.flavour(JetAxes(gen_ak4.offsets, gen_ak4.eta, gen_ak4.phi), AK4_RADIUS)
    gen_ak8_flavour = truth.flavour(JetAxes(gen_ak8.offsets, gen_ak8.eta, gen_ak8.phi), AK8_RADIUS)

    jet_local = np.arange(len(ak4.px)) - ak4.offsets[ak4.event_of_jet]
    fatjet_local = np.arange(len(ak8.px)) - ak8.offsets[ak8.event_of_jet]
    n_sub = np.diff(subjets.offsets)
    first_sub_local = subjets.offsets[:-1] - sub_event_offsets[ak8.event_of_jet]

    collections: dict[str, Table] = {}
    collections["PFCands"] = _pf_table(candidates)
    collections["Jet"] = Table(
        ak4.counts,
        {
            **_kinematics(ak4),
            **_energy_fractions(ak4, all_candidates),
            "rawFactor": np.zeros(len(ak4.px), F4),
            "nConstituents": ak4.n_constituents.astype(I4),
            "hadronFlavour": ak4_flavour.hadron_flavour.astype(I4),
            "partonFlavour": ak4_flavour.parton_flavour.astype(I4),
            "nBHadrons": ak4_flavour.n_b_hadrons.astype(I4),
            "nCHadrons": ak4_flavour.n_c_hadrons.astype(I4),
            "deepJetLabel": truth.deepjet_labels(ak4_flavour),
            "genJetIdx": _match(ak4, gen_ak4, GENJET_MATCH_AK4),
        },
    )
    collections["FatJet"] = Table(
        ak8.counts,
        {
            **_kinematics(ak8),
            **_energy_fractions(ak8, all_candidates),
            "msoftdrop": groomed.msoftdrop.astype(F4),
            "tau1": groomed.tau[:, 0].astype(F4),
            "tau2": groomed.tau[:, 1].astype(F4),
            "tau3": groomed.tau[:, 2].astype(F4),
            "tau4": groomed.tau[:, 3].astype(F4),
            "rawFactor": np.zeros(len(ak8.px), F4),
            "nConstituents": ak8.n_constituents.astype(I4),
            "subJetIdx1": np.where(n_sub >= 1, first_sub_local, -1).astype(I4),
            "subJetIdx2": np.where(n_sub >= 2, first_sub_local + 1, -1).astype(I4),
            "hadronFlavour": ak8_flavour.hadron_flavour.astype(I4),
            "nBHadrons": np.minimum(ak8_flavour.n_b_hadrons, 255).astype(U1),
            "nCHadrons": np.minimum(ak8_flavour.n_c_hadrons, 255).astype(U1),
            "label": truth.fatjet_labels(ak8_axes, ak8_flavour, AK8_RADIUS),
            "genJetAK8Idx": _match(ak8, gen_ak8, GENJET_MATCH_AK8),
        },
    )
    collections["SubJet"] = Table(
        np.diff(sub_event_offsets),
        {
            **_kinematics(subjets),
            "rawFactor": np.zeros(len(subjets.px), F4),
            "hadronFlavour": sub_flavour.hadron_flavour.astype(I4),
            "nBHadrons": np.minimum(sub_flavour.n_b_hadrons, 255).astype(U1),
            "nCHadrons": np.minimum(sub_flavour.n_c_hadrons, 255).astype(U1),
        },
    )
    collections["JetPFCands"] = _constituent_table(
        ak4, jet_local, all_candidates, new_row, candidates.offsets
    )
    collections["FatJetPFCands"] = _constituent_table(
        ak8, fatjet_local, all_candidates, new_row, candidates.offsets
    )
    collections["SV"] = _sv_table(vertices)
    collections["JetSVs"] = _jet_sv_table(ak4, vertices, AK4_RADIUS)
    collections["FatJetSVs"] = _jet_sv_table(ak8, vertices, AK8_RADIUS)
    collections["GenJet"] = Table(
        gen_ak4.counts,
        {
            **_kinematics(gen_ak4),
            "partonFlavour": gen_ak4_flavour.parton_flavour.astype(I4),
            "hadronFlavour": gen_ak4_flavour.hadron_flavour.astype(U1),
            "ptWithNu": gen_ak4_nu.astype(F4),
        },
    )
    collections["GenJetAK8"] = Table(
        gen_ak8.counts,
        {
            **_kinematics(gen_ak8),
            "partonFlavour": gen_ak8_flavour.parton_flavour.astype(I4),
            "hadronFlavour": gen_ak8_flavour.hadron_flavour.astype(U1),
        },
    )
    collections["GenPart"] = _gen_part_table(record)

    n = record.n_events
    scalars = {
        "genWeight": np.ones(n, F4),
        "Generator_weight": np.ones(n, F4),
        "Generator_id1": record.parton_id1.astype(I4),
        "Generator_id2": record.parton_id2.astype(I4),
        "Generator_x1": record.parton_x1.astype(F4),
        "Generator_x2": record.parton_x2.astype(F4),
        "Generator_scalePDF": record.scale_pdf.astype(F4),
        "PV_x": np.zeros(n, F4),
        "PV_y": np.zeros(n, F4),
        "PV_z": np.zeros(n, F4),
        "PV_npvs": np.ones(n, I4),
        "PV_npvsGood": np.ones(n, I4),
    }
    return scalars, collections


def _cluster_candidates(candidates: PFCandidates, radius: float, min_pt: float) -> Jets:
    return cluster(
        candidates.px,
        candidates.py,
        candidates.pz,
        candidates.energy,
        candidates.offsets,
        algorithm=fastjet.antikt_algorithm,
        radius=radius,
        min_pt=min_pt,
    )


def _kinematics(jets: Jets) -> dict[str, np.ndarray]:
    return {
        "pt": jets.pt.astype(F4),
        "eta": jets.eta.astype(F4),
        "phi": jets.phi.astype(F4),
        "mass": jets.mass.astype(F4),
    }


def _energy_fractions(jets: Jets, candidates: PFCandidates) -> dict[str, np.ndarray]:
    """chHEF, neHEF, chEmEF, neEmEF, muEF: constituent energy per PF type over jet energy."""
    rows = jets.constituents
    kind = np.abs(candidates.pdg_id[rows])
    energy = candidates.energy[rows]
    owner = jets.jet_of_constituent
    n_jets = len(jets.px)
    fractions = {}
    for name, types in (
        ("chHEF", (PF_CHARGED_HADRON,)),
        ("neHEF", (PF_NEUTRAL_HADRON, PF_HF_HADRON)),
        ("chEmEF", (PF_ELECTRON,)),
        ("neEmEF", (PF_PHOTON, PF_HF_EM)),
        ("muEF", (PF_MUON,)),
    ):
        selected = np.isin(kind, types)
        total = np.bincount(owner[selected], energy[selected], minlength=n_jets)
        fractions[name] = (total / np.maximum(jets.energy, 1e-12)).astype(F4)
    return fractions


def _pf_table(candidates: PFCandidates) -> Table:
    n = len(candidates.pt)
    return Table(
        candidates.counts,
        {
            "pt": candidates.pt.astype(F4),
            "eta": candidates.eta.astype(F4),
            "phi": candidates.phi.astype(F4),
            "mass": candidates.mass.astype(F4),
            "d0": candidates.d0.astype(F4),
            "d0Err": candidates.d0_err.astype(F4),
            "dz": candidates.dz.astype(F4),
            "dzErr": candidates.dz_err.astype(F4),
            "trkChi2": candidates.trk_chi2.astype(F4),
            "vtxChi2": np.where(candidates.charge != 0, 0.0, -1.0).astype(F4),
            "puppiWeight": np.ones(n, F4),
            "puppiWeightNoLep": np.ones(n, F4),
            "charge": candidates.charge.astype(I4),
            "lostInnerHits": candidates.lost_inner_hits.astype(I4),
            "pdgId": candidates.pdg_id.astype(I4),
            "pvAssocQuality": candidates.pv_assoc_quality.astype(I4),
            "trkQuality": candidates.trk_quality.astype(I4),
        },
    )


def _constituent_table(
    jets: Jets,
    jet_local: np.ndarray,
    candidates: PFCandidates,
    new_row: np.ndarray,
    stored_offsets: np.ndarray,
) -> Table:
    """``JetPFCands``/``FatJetPFCands``: one row per (jet, constituent), with btag variables."""
    rows = jets.constituents
    owner = jets.jet_of_constituent
    event = jets.event_of_jet[owner]
    counts = np.bincount(event, minlength=len(jets.counts))
    stored = new_row[rows]
    variables = track_variables(
        pt=candidates.pt[rows],
        eta=candidates.eta[rows],
        phi=candidates.phi[rows],
        d0=candidates.d0[rows],
        d0_err=candidates.d0_err[rows],
        dz=candidates.dz[rows],
        dz_err=candidates.dz_err[rows],
        charged=candidates.charge[rows] != 0,
        jet_px=jets.px[owner],
        jet_py=jets.py[owner],
        jet_pz=jets.pz[owner],
    )
    return Table(
        counts,
        {
            "pt": candidates.pt[rows].astype(F4),
            "btagEtaRel": variables.eta_rel.astype(F4),
            "btagPtRatio": variables.pt_ratio.astype(F4),
            "btagPParRatio": variables.ppar_ratio.astype(F4),
            "btagSip3dVal": variables.sip3d_val.astype(F4),
            "btagSip3dSig": variables.sip3d_sig.astype(F4),
            "btagJetDistVal": variables.jet_dist_val.astype(F4),
            "pFCandsIdx": (stored - stored_offsets[event]).astype(I4),
            "jetIdx": jet_local[owner].astype(I4),
        },
    )


def _sv_table(vertices: SecondaryVertices) -> Table:
    return Table(
        np.diff(vertices.offsets),
        {
            "pt": vertices.pt.astype(F4),
            "eta": vertices.eta.astype(F4),
            "phi": vertices.phi.astype(F4),
            "mass": vertices.mass.astype(F4),
            "x": vertices.x.astype(F4),
            "y": vertices.y.astype(F4),
            "z": vertices.z.astype(F4),
            "dlen": vertices.dlen.astype(F4),
            "dlenSig": vertices.dlen_sig.astype(F4),
            "dxy": vertices.dxy.astype(F4),
            "dxySig": vertices.dxy_sig.astype(F4),
            "pAngle": vertices.p_angle.astype(F4),
            "chi2": vertices.chi2.astype(F4),
            "ndof": vertices.ndof.astype(F4),
            "ntracks": np.minimum(vertices.ntracks, 255).astype(U1),
        },
    )


def _jet_sv_table(jets: Jets, vertices: SecondaryVertices, radius: float) -> Table:
    """``JetSVs``/``FatJetSVs``: SVs within Delta R < radius of a jet, by jet then by dxysig."""
    jet, sv, dr = pairwise_delta_r(
        jets.offsets, jets.eta, jets.phi, vertices.offsets, vertices.eta, vertices.phi
    )
    inside = dr < radius
    jet, sv, dr = jet[inside], sv[inside], dr[inside]
    order = np.lexsort((-vertices.dxy_sig[sv], jet))
    jet, sv, dr = jet[order], sv[order], dr[order]
    event = jets.event_of_jet[jet]
    jet_energy = jets.energy[jet]
    chi2_total = vertices.chi2[sv] * vertices.ndof[sv]
    return Table(
        np.bincount(event, minlength=len(jets.counts)),
        {
            "mass": vertices.mass[sv].astype(F4),
            "pt": vertices.pt[sv].astype(F4),
            "ntracks": vertices.ntracks[sv].astype(F4),
            "chi2": chi2_total.astype(F4),
            "normchi2": vertices.chi2[sv].astype(F4),
            "dxy": vertices.dxy[sv].astype(F4),
            "dxysig": vertices.dxy_sig[sv].astype(F4),
            "d3d": vertices.dlen[sv].astype(F4),
            "d3dsig": vertices.dlen_sig[sv].astype(F4),
            "costhetasvpv": np.cos(vertices.p_angle[sv]).astype(F4),
            "phirel": delta_phi(vertices.phi[sv], jets.phi[jet]).astype(F4),
            "ptrel": (vertices.pt[sv] / jets.pt[jet]).astype(F4),
            "deltaR": dr.astype(F4),
            "enration": (vertices.energy[sv] / jet_energy).astype(F4),
            "jetIdx": (jet - jets.offsets[event]).astype(I4),
            "sVIdx": (sv - vertices.offsets[event]).astype(I4),
        },
    )


def _match(jets: Jets, gen_jets: Jets, max_dr: float) -> np.ndarray:
    """Index (within the event) of the closest gen jet within ``max_dr``, else -1."""
    jet, gen, dr = pairwise_delta_r(
        jets.offsets, jets.eta, jets.phi, gen_jets.offsets, gen_jets.eta, gen_jets.phi
    )
    close = dr < max_dr
    jet, gen, dr = jet[close], gen[close], dr[close]
    order = np.lexsort((dr, jet))
    first = np.ones(len(order), dtype=bool)
    first[1:] = jet[order][1:] != jet[order][:-1]
    best = order[first]
    index = np.full(len(jets.px), -1, dtype=np.int64)
    index[jet[best]] = gen[best] - gen_jets.offsets[jets.event_of_jet[jet[best]]]
    return index.astype(I4)


def _gen_jets(record: EventRecord, radius: float, min_pt: float) -> tuple[Jets, np.ndarray]:
    """Anti-kt jets of stable particles without neutrinos, and their pT with neutrinos added.

    The neutrino-inclusive pT (the b-jet regression target) adds the four-momenta of stable
    neutrinos within Delta R < radius of the jet axis.
    """
    neutrino = np.isin(np.abs(record.pdg_id), NEUTRINO_IDS)
    visible = np.flatnonzero((record.status > 0) & ~neutrino)
    offsets = np.searchsorted(visible, record.offsets).astype(np.int64)
    jets = cluster(
        record.px[visible],
        record.py[visible],
        record.pz[visible],
        record.energy[visible],
        offsets,
        algorithm=fastjet.antikt_algorithm,
        radius=radius,
        min_pt=min_pt,
    )
    neutrinos = np.flatnonzero((record.status > 0) & neutrino)
    _, nu_eta, nu_phi = kinematics(record, neutrinos)
    jet, nu, dr = pairwise_delta_r(
        jets.offsets,
        jets.eta,
        jets.phi,
        np.searchsorted(neutrinos, record.offsets).astype(np.int64),
        nu_eta,
        nu_phi,
    )
    inside = dr < radius
    jet, nu_rows = jet[inside], neutrinos[nu[inside]]
    n_jets = len(jets.px)
    px = jets.px + np.bincount(jet, record.px[nu_rows], minlength=n_jets)
    py = jets.py + np.bincount(jet, record.py[nu_rows], minlength=n_jets)
    return jets, np.hypot(px, py)


def _gen_part_table(record: EventRecord) -> Table:
    gen = gen_particles(record)
    pt, eta, phi = kinematics(record, gen.rows)
    return Table(
        np.diff(gen.offsets),
        {
            "pt": pt.astype(F4),
            "eta": eta.astype(F4),
            "phi": phi.astype(F4),
            "mass": record.mass[gen.rows].astype(F4),
            "pdgId": record.pdg_id[gen.rows].astype(I4),
            "status": gen.status,
            "statusFlags": gen.status_flags,
            "genPartIdxMother": gen.mother_index,
        },
    )

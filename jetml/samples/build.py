"""Assemble the PFNano collections of one batch of generated events.

Input: the flattened Pythia record. Output: :class:`Table` objects (flat columns + per-event
counts) named and typed as in CMS PFNano, ready for :mod:`jetml.samples.writer`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
from jetml.samples.faketracks import add_fake_and_secondary_tracks
from jetml.samples.generator import EventRecord
from jetml.samples.jets import Jets, cluster, delta_phi, pairwise_delta_r, substructure
from jetml.samples.leptons import Leptons, select_leptons
from jetml.samples.minbias import MinBiasLibrary
from jetml.samples.pileup import BeamSpot, Overlay, overlay
from jetml.samples.primary import PrimaryVertexInfo, assign_vertices
from jetml.samples.puppi import puppi_weights
from jetml.samples.rho import grid_median_rho
from jetml.samples.taus import (
    ISOLATION_CONE,
    GenVisTaus,
    generator_visible_taus,
    reconstruct_taus,
    tau_origin,
)
from jetml.samples.trackvars import track_variables
from jetml.samples.truth import GenParticles, JetAxes, TruthTables, gen_particles, kinematics
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


@dataclass(frozen=True)
class PileupSource:
    """What premixing needs: mean interactions per crossing, the min-bias library, its RNG."""

    mu: float
    library: MinBiasLibrary | None
    rng: np.random.Generator


@dataclass(frozen=True)
class Reconstructed:
    """PF candidates of a batch after pileup mixing, vertexing, association and PUPPI."""

    candidates: PFCandidates
    primary: PrimaryVertexInfo
    mixed: Overlay


def reconstruct_with_pileup(
    record: EventRecord,
    model: DetectorModel,
    rng: np.random.Generator,
    pileup: PileupSource | None = None,
) -> Reconstructed:
    """Overlay pileup on the hard-scatter ``record``, reconstruct PF candidates (with fake and
    secondary tracks), choose the PV, associate tracks and compute PUPPI weights."""
    mu = pileup.mu if pileup is not None else 0.0
    mixed = overlay(
        record,
        pileup.library if pileup is not None else None,
        mu,
        BeamSpot(),
        pileup.rng if pileup is not None else rng,
    )
    measured = reconstruct(mixed.record, model, rng)
    measured = replace(
        measured,
        truth_row=mixed.hard_row[measured.truth_row],
        vertex=mixed.vertex[measured.truth_row],
    )
    measured = add_fake_and_secondary_tracks(measured, model, rng)
    all_candidates, primary = assign_vertices(
        measured, mixed.vertex_x, mixed.vertex_y, mixed.vertex_z, mixed.vertex_offsets, rng
    )
    weights = puppi_weights(
        all_candidates.offsets,
        all_candidates.pt,
        all_candidates.eta,
        all_candidates.phi,
        all_candidates.charge,
        all_candidates.from_pv,
        all_candidates.dz,
        primary.npvs,
    )
    return Reconstructed(replace(all_candidates, puppi_weight=weights), primary, mixed)


def build_batch(
    record: EventRecord,
    model: DetectorModel,
    rng: np.random.Generator,
    pileup: PileupSource | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Table]]:
    """Mix pileup, reconstruct and label one batch; return (event-level columns, collections).

    ``record`` is the hard scatter only (all generator truth comes from it); without ``pileup``
    the events have none (mu = 0), but the hard scatter still sits in the beam spot.
    """
    reconstructed = reconstruct_with_pileup(record, model, rng, pileup)
    all_candidates, primary, mixed = (
        reconstructed.candidates,
        reconstructed.primary,
        reconstructed.mixed,
    )
    weights = all_candidates.puppi_weight
    mu = pileup.mu if pileup is not None else 0.0
    truth = TruthTables(record)

    # AK4 CHS: charged candidates of pileup vertices (fromPV == 0) removed before clustering.
    ak4 = _cluster_candidates(all_candidates, AK4_RADIUS, AK4_MIN_PT, all_candidates.from_pv > 0)
    # AK8 PUPPI: candidates' four-momenta scaled by their PUPPI weight (weight 0 dropped).
    puppi = replace(
        all_candidates,
        pt=all_candidates.pt * weights,
        energy=all_candidates.energy * weights,
        mass=all_candidates.mass * weights,
    )
    ak8 = _cluster_candidates(puppi, AK8_RADIUS, AK8_MIN_PT, weights > 0)
    groomed = substructure(ak8, puppi.px, puppi.py, puppi.pz, puppi.energy, radius=AK8_RADIUS)

    muons = select_leptons(record, all_candidates, 13, rng)
    electrons = select_leptons(record, all_candidates, 11, rng)
    taus = reconstruct_taus(ak4, all_candidates)
    visible_taus = generator_visible_taus(record)

    # Store the candidates clustered into any stored jet (PFNano's "interesting particles") and
    # those within the tau isolation cone of every tau and lepton (DeepTau-like grids).
    stored = np.zeros(len(all_candidates.pt), dtype=bool)
    stored[ak4.constituents] = True
    stored[ak8.constituents] = True
    for offsets, eta, phi in (
        (taus.offsets, taus.eta, taus.phi),
        (muons.offsets, all_candidates.eta[muons.rows], all_candidates.phi[muons.rows]),
        (electrons.offsets, all_candidates.eta[electrons.rows], all_candidates.phi[electrons.rows]),
    ):
        _, near, dr = pairwise_delta_r(
            offsets, eta, phi, all_candidates.offsets, all_candidates.eta, all_candidates.phi
        )
        stored[near[dr < ISOLATION_CONE]] = True
    kept_rows = np.flatnonzero(stored)
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
            **_energy_fractions(ak8, puppi),
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
    gen = gen_particles(record)
    collections["GenPart"] = _gen_part_table(record, gen)
    candidate_jet = np.full(len(all_candidates.pt), -1, dtype=np.int64)
    candidate_jet[ak4.constituents] = ak4.jet_of_constituent
    collections["Muon"] = _lepton_table(muons, all_candidates, candidate_jet, ak4, gen)
    collections["Electron"] = _lepton_table(electrons, all_candidates, candidate_jet, ak4, gen)
    tau_columns = dict(taus.columns)
    tau_columns["genPartFlav"] = tau_origin(record, taus, visible_taus)
    collections["Tau"] = Table(np.diff(taus.offsets), tau_columns)
    collections["GenVisTau"] = _gen_vis_tau_table(visible_taus, gen)

    n = record.n_events
    scalars = {
        "Pileup_nPU": mixed.n_pu.astype(I4),
        "Pileup_nTrueInt": np.full(n, mu, F4),
        "Rho_fixedGridRhoFastjetAll": _rho(all_candidates).astype(F4),
        "genWeight": np.ones(n, F4),
        "Generator_weight": np.ones(n, F4),
        "Generator_id1": record.parton_id1.astype(I4),
        "Generator_id2": record.parton_id2.astype(I4),
        "Generator_x1": record.parton_x1.astype(F4),
        "Generator_x2": record.parton_x2.astype(F4),
        "Generator_scalePDF": record.scale_pdf.astype(F4),
        "PV_x": primary.x.astype(F4),
        "PV_y": primary.y.astype(F4),
        "PV_z": primary.z.astype(F4),
        "PV_npvs": primary.npvs.astype(I4),
        "PV_npvsGood": primary.npvs_good.astype(I4),
        **_missing_momentum(record, all_candidates),
    }
    return scalars, collections


def concatenate_batches(
    parts: list[tuple[dict[str, np.ndarray], dict[str, Table]]],
) -> tuple[dict[str, np.ndarray], dict[str, Table]]:
    """Join consecutive batches (event-level columns and collections) into one."""
    scalars = {name: np.concatenate([p[0][name] for p in parts]) for name in parts[0][0]}
    collections = {
        name: Table(
            np.concatenate([p[1][name].counts for p in parts]),
            {
                field: np.concatenate([p[1][name].columns[field] for p in parts])
                for field in parts[0][1][name].columns
            },
        )
        for name in parts[0][1]
    }
    return scalars, collections


def _cluster_candidates(
    candidates: PFCandidates, radius: float, min_pt: float, use: np.ndarray
) -> Jets:
    """Anti-kt jets of the candidates where ``use`` is True; constituents index all candidates."""
    rows = np.flatnonzero(use)
    jets = cluster(
        candidates.px[rows],
        candidates.py[rows],
        candidates.pz[rows],
        candidates.energy[rows],
        np.searchsorted(rows, candidates.offsets).astype(np.int64),
        algorithm=fastjet.antikt_algorithm,
        radius=radius,
        min_pt=min_pt,
    )
    return replace(jets, constituents=rows[jets.constituents])


def _rho(candidates: PFCandidates) -> np.ndarray:
    """Rho_fixedGridRhoFastjetAll: grid median of all PF candidates (CMS: |y| < 5, 0.55)."""
    pz, energy = candidates.pz, candidates.energy
    rapidity = 0.5 * np.log(np.maximum(energy + pz, 1e-300) / np.maximum(energy - pz, 1e-300))
    return grid_median_rho(candidates.offsets, candidates.pt, rapidity, candidates.phi)


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
            "puppiWeight": candidates.puppi_weight.astype(F4),
            "puppiWeightNoLep": candidates.puppi_weight.astype(F4),
            "fromPV": candidates.from_pv.astype(I4),
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


def _gen_part_table(record: EventRecord, gen: GenParticles) -> Table:
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


def _gen_index(gen: GenParticles, truth_rows: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Index within the event's GenPart list of record rows (-1 where not stored)."""
    if len(gen.rows) == 0:
        return np.full(len(truth_rows), -1, dtype=I4)
    position = np.minimum(np.searchsorted(gen.rows, truth_rows), len(gen.rows) - 1)
    found = gen.rows[position] == truth_rows
    return np.where(found, position - gen.offsets[event], -1).astype(I4)


def _lepton_table(
    leptons: Leptons,
    candidates: PFCandidates,
    candidate_jet: np.ndarray,
    ak4: Jets,
    gen: GenParticles,
) -> Table:
    """``Muon``/``Electron``: ID/isolation columns plus genPartIdx and jetIdx."""
    counts = np.diff(leptons.offsets)
    event = np.repeat(np.arange(len(counts)), counts)
    jet = candidate_jet[leptons.rows]
    return Table(
        counts,
        {
            **leptons.columns,
            "genPartIdx": _gen_index(gen, candidates.truth_row[leptons.rows], event),
            "jetIdx": np.where(jet >= 0, jet - ak4.offsets[event], -1).astype(I4),
        },
    )


def _gen_vis_tau_table(visible: GenVisTaus, gen: GenParticles) -> Table:
    counts = np.diff(visible.offsets)
    event = np.repeat(np.arange(len(counts)), counts)
    return Table(
        counts,
        {
            "pt": visible.pt.astype(F4),
            "eta": visible.eta.astype(F4),
            "phi": visible.phi.astype(F4),
            "mass": visible.mass.astype(F4),
            "charge": visible.charge.astype(I4),
            "status": visible.status.astype(I4),
            "genPartIdxMother": _gen_index(gen, visible.tau_rows, event),
        },
    )


def _missing_momentum(record: EventRecord, candidates: PFCandidates) -> dict[str, np.ndarray]:
    """MET (all PF candidates), PuppiMET (PUPPI-weighted); GenMET from the hard neutrinos."""
    n = record.n_events
    event = np.repeat(np.arange(n), candidates.counts)
    met_x = -np.bincount(event, candidates.px, minlength=n)
    met_y = -np.bincount(event, candidates.py, minlength=n)
    puppi_x = -np.bincount(event, candidates.px * candidates.puppi_weight, minlength=n)
    puppi_y = -np.bincount(event, candidates.py * candidates.puppi_weight, minlength=n)
    neutrino = np.flatnonzero((record.status > 0) & np.isin(np.abs(record.pdg_id), NEUTRINO_IDS))
    nu_event = record.event_of_row[neutrino]
    gen_x = np.bincount(nu_event, record.px[neutrino], minlength=n)
    gen_y = np.bincount(nu_event, record.py[neutrino], minlength=n)
    met_pt, met_phi = np.hypot(met_x, met_y).astype(F4), np.arctan2(met_y, met_x).astype(F4)
    return {
        "MET_pt": met_pt,
        "MET_phi": met_phi,
        "PuppiMET_pt": np.hypot(puppi_x, puppi_y).astype(F4),
        "PuppiMET_phi": np.arctan2(puppi_y, puppi_x).astype(F4),
        "GenMET_pt": np.hypot(gen_x, gen_y).astype(F4),
        "GenMET_phi": np.arctan2(gen_y, gen_x).astype(F4),
    }

"""b-jet energy regression (breg) inputs from PFNano: one row of jet-level features per AK4 jet.

Inputs (one value per AK4 jet, NanoAOD-style, after the CMS b-jet regression list of
arXiv:1912.06046 as far as PFNano allows): jet log pT, eta, mass, the five energy fractions, the
constituent count; the leading charged candidate's pT fraction; the leading soft lepton (muon or
electron candidate): pT fraction, ΔR to the jet axis, whether it is a muon, and the lepton count;
the leading secondary vertex (first in CMSSW's dxy-significance order): mass, pT fraction, track
count, dxy, dxy significance, 3D distance; and the number of SVs. Missing objects give 0.
:func:`breg_variables` computes them for the training (:mod:`jetml.nn.breg_data`) and the tagger
(:mod:`jetml.taggers.breg`) alike.

The training target (pT of the matched generator jet with neutrinos over the reco pT) is read by
:mod:`jetml.nn.breg_data`.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetml.features.cms_pfnano import cms_jet_columns
from jetml.features.cms_pfnano import required_branches as cms_branches
from jetml.features.jets import AK4_JET_FIELDS, SelectedJets
from jetml.features.kernels import segment_argmax, segment_max, segment_sums

BREG_FEATURES: tuple[str, ...] = (
    "jet_pt_log",
    *(f"jet_{field}" for field in AK4_JET_FIELDS),
    "lead_charged_ptfrac",
    "lepton_ptfrac",
    "lepton_deltaR",
    "lepton_is_muon",
    "n_leptons",
    "sv1_mass",
    "sv1_ptfrac",
    "sv1_ntracks",
    "sv1_dxy",
    "sv1_dxysig",
    "sv1_d3d",
    "n_svs",
)
FIXED = ("lepton_is_muon",)
CANDIDATE_VARIABLES: tuple[str, ...] = (
    "pfcand_pt_log_nopuppi",
    "pfcand_charge",
    "pfcand_isMu",
    "pfcand_isEl",
    "pfcand_etarel",
    "pfcand_phirel",
)
SV_VARIABLES: tuple[str, ...] = (
    "sv_mass",
    "sv_pt_log",
    "sv_ntracks",
    "sv_dxy",
    "sv_dxysig",
    "sv_d3d",
)
JET_FIELDS: tuple[str, ...] = (
    "pt", "eta", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents",
)  # fmt: skip
"""``Jet`` fields the recipe reads (besides the candidates and SVs)."""


def required_branches() -> tuple[str, ...]:
    """Flat NanoAOD branches :func:`breg_variables` reads."""
    return (
        *(f"Jet_{field}" for field in JET_FIELDS),
        *cms_branches((*CANDIDATE_VARIABLES, *SV_VARIABLES), "Jet"),
    )


def breg_variables(events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
    """:data:`BREG_FEATURES` of the jets ``events.Jet[mask]``, flat float32 in flatten order.

    numpy over the chunk's flat candidate and SV tables; per-jet maxima, first maxima and
    first entries are awkward's ``ak.max`` / ``ak.argmax`` / ``ak.firsts`` semantics."""
    jets = SelectedJets(events, "Jet", mask)
    pt = jets.field("pt", np.float64)
    features = {"jet_pt_log": np.log(pt).astype(np.float32), **jets.jet_features()}
    counts, cands = cms_jet_columns(jets.columns, CANDIDATE_VARIABLES, jets.selected, "Jet")
    per_jet = counts[CANDIDATE_VARIABLES[0]]
    cand_pt = np.exp(cands["pfcand_pt_log_nopuppi"])
    # float64 like ak.where(..., 0.0) (awkward makes the Python scalar a float64 array)
    charged_pt = np.where(cands["pfcand_charge"] != 0, cand_pt.astype(np.float64), 0.0)
    features["lead_charged_ptfrac"] = (segment_max(charged_pt, per_jet, 0.0) / pt).astype(
        np.float32
    )
    is_lepton = (cands["pfcand_isMu"] > 0) | (cands["pfcand_isEl"] > 0)
    lepton_pt = np.where(is_lepton, cand_pt.astype(np.float64), -1.0)
    lead = segment_argmax(lepton_pt, per_jet)
    n_leptons = segment_sums(is_lepton.astype(np.int64), per_jet)
    has_lepton = n_leptons > 0

    def lead_value(values: np.ndarray) -> np.ndarray:
        """The value at each jet's leading lepton candidate (0 for jets without candidates)."""
        picked = values[np.maximum(lead, 0)] if len(values) else np.zeros(len(lead))
        return np.where(lead >= 0, picked, 0.0).astype(np.float32)

    lead_pt = lead_value(lepton_pt)
    delta_r = np.hypot(lead_value(cands["pfcand_etarel"]), lead_value(cands["pfcand_phirel"]))
    features["lepton_ptfrac"] = np.where(has_lepton, lead_pt / pt, 0.0).astype(np.float32)
    features["lepton_deltaR"] = np.where(has_lepton, delta_r, 0.0).astype(np.float32)
    features["lepton_is_muon"] = np.where(has_lepton, lead_value(cands["pfcand_isMu"]), 0.0).astype(
        np.float32
    )
    features["n_leptons"] = n_leptons.astype(np.float32)
    sv_counts, svs = cms_jet_columns(jets.columns, SV_VARIABLES, jets.selected, "Jet")
    n_svs = sv_counts[SV_VARIABLES[0]]
    first_sv = np.cumsum(n_svs) - n_svs

    def sv1(values: np.ndarray) -> np.ndarray:
        """The first SV's value per jet (0 without SVs), like ``ak.firsts`` filled with 0."""
        picked = values[np.where(n_svs > 0, first_sv, 0)] if len(values) else np.zeros(len(n_svs))
        return np.where(n_svs > 0, picked, 0.0).astype(np.float32)

    features["sv1_mass"] = sv1(svs["sv_mass"])
    sv_pt = sv1(np.exp(svs["sv_pt_log"]))
    features["sv1_ptfrac"] = np.where(n_svs > 0, sv_pt / pt, 0.0).astype(np.float32)
    for name in ("ntracks", "dxy", "dxysig", "d3d"):
        features[f"sv1_{name}"] = sv1(svs[f"sv_{name}"])
    features["n_svs"] = n_svs.astype(np.float32)
    return {name: features[name] for name in BREG_FEATURES}

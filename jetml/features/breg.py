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

from jetml.features.cms_pfnano import cms_jet_variables
from jetml.features.cms_pfnano import required_branches as cms_branches

BREG_FEATURES: tuple[str, ...] = (
    "jet_pt_log",
    "jet_eta",
    "jet_mass",
    "jet_chHEF",
    "jet_neHEF",
    "jet_chEmEF",
    "jet_neEmEF",
    "jet_muEF",
    "jet_nConstituents",
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


def _first_or_zero(values: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.firsts(values), 0.0)).astype(np.float32)


def breg_variables(events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
    """:data:`BREG_FEATURES` of the jets ``events.Jet[mask]``, flat float32 in flatten order."""
    jets = events.Jet[mask]
    pt = ak.to_numpy(ak.flatten(jets.pt)).astype(np.float64)
    features: dict[str, np.ndarray] = {"jet_pt_log": np.log(pt).astype(np.float32)}
    for field in ("eta", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents"):
        features[f"jet_{field}"] = ak.to_numpy(ak.flatten(jets[field])).astype(np.float32)
    cands = cms_jet_variables(events, CANDIDATE_VARIABLES, mask, collection="Jet")
    cand_pt = np.exp(cands["pfcand_pt_log_nopuppi"])
    charged_pt = ak.where(cands["pfcand_charge"] != 0, cand_pt, 0.0)
    features["lead_charged_ptfrac"] = (
        ak.to_numpy(ak.fill_none(ak.max(charged_pt, axis=1), 0.0)) / pt
    ).astype(np.float32)
    is_lepton = (cands["pfcand_isMu"] > 0) | (cands["pfcand_isEl"] > 0)
    lepton_pt = ak.where(is_lepton, cand_pt, -1.0)
    lead = ak.argmax(lepton_pt, axis=1, keepdims=True)
    has_lepton = ak.to_numpy(ak.fill_none(ak.any(is_lepton, axis=1), False))
    lead_pt = _first_or_zero(lepton_pt[lead])
    delta_r = np.hypot(
        _first_or_zero(cands["pfcand_etarel"][lead]), _first_or_zero(cands["pfcand_phirel"][lead])
    )
    features["lepton_ptfrac"] = np.where(has_lepton, lead_pt / pt, 0.0).astype(np.float32)
    features["lepton_deltaR"] = np.where(has_lepton, delta_r, 0.0).astype(np.float32)
    features["lepton_is_muon"] = np.where(
        has_lepton, _first_or_zero(cands["pfcand_isMu"][lead]), 0.0
    ).astype(np.float32)
    features["n_leptons"] = ak.to_numpy(ak.sum(is_lepton, axis=1)).astype(np.float32)
    svs = cms_jet_variables(events, SV_VARIABLES, mask, collection="Jet")
    features["sv1_mass"] = _first_or_zero(svs["sv_mass"])
    n_svs = ak.to_numpy(ak.num(svs["sv_mass"], axis=1))
    sv_pt = _first_or_zero(np.exp(svs["sv_pt_log"]))
    features["sv1_ptfrac"] = np.where(n_svs > 0, sv_pt / pt, 0.0).astype(np.float32)
    for name in ("ntracks", "dxy", "dxysig", "d3d"):
        features[f"sv1_{name}"] = _first_or_zero(svs[f"sv_{name}"])
    features["n_svs"] = n_svs.astype(np.float32)
    return {name: features[name] for name in BREG_FEATURES}

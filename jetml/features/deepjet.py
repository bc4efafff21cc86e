"""DeepJet inputs from PFNano: AK4 jets, their charged / neutral candidates and SVs.

The DeepJet input shapes (15 global, 25 x 16 charged, 25 x 6 neutral, 4 x 12 SV features) are
filled with the features PFNano allows; CMS's own lists use variables PFNano does not store (2D
impact parameters, track covariance, HCAL fractions, vertex categories), so the lists differ.
:func:`deepjet_variables` is the recipe, for training and deployment alike:

* charged candidates (``charge != 0``), sorted by 3D impact-parameter significance, descending
  (DeepJet sorts by the 2D one, not in PFNano): :data:`CPF_FEATURES`;
* neutral candidates, pT-descending: :data:`NPF_FEATURES`;
* SVs in CMSSW's order (dxy significance, descending): :data:`SV_FEATURES`;
* jet-level: :data:`GLOBAL_FEATURES`.

Relative quantities: ``ptrel_log = log(pT / pT_jet)``, ``erel_log = log(E / E_jet)``,
``deltaR = hypot(etarel, phirel)``. The training (:mod:`jetml.nn.deepjet_data`) and the tagger
(:mod:`jetml.taggers.deepjet`) both build their inputs here; the candidate and SV part
(:func:`candidate_variables`) is shared with DeepDoubleX (:mod:`jetml.features.deepdoublex`).
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetml.features.cms_pfnano import cms_jet_columns
from jetml.features.cms_pfnano import required_branches as cms_branches
from jetml.features.jagged import Jagged
from jetml.features.jets import AK4_JET_FIELDS, SelectedJets
from jetml.features.kernels import descending_within, segment_max, segment_sums

GLOBAL_FEATURES: tuple[str, ...] = (
    "jet_pt_log",
    *(f"jet_{field}" for field in AK4_JET_FIELDS),
    "jet_n_charged",
    "jet_n_neutral",
    "jet_n_svs",
    "jet_n_leptons",
    "jet_max_sip3dsig",
    "jet_charged_ptfrac",
)
CPF_FEATURES: tuple[str, ...] = (
    "cpf_ptrel_log",
    "cpf_erel_log",
    "cpf_deltaR",
    "cpf_btagEtaRel",
    "cpf_btagPtRatio",
    "cpf_btagPParRatio",
    "cpf_btagSip3dVal",
    "cpf_btagSip3dSig",
    "cpf_btagJetDistVal",
    "cpf_dxy",
    "cpf_dxysig",
    "cpf_dz",
    "cpf_dzsig",
    "cpf_normchi2",
    "cpf_quality",
    "cpf_isLepton",
)
NPF_FEATURES: tuple[str, ...] = (
    "npf_ptrel_log",
    "npf_erel_log",
    "npf_deltaR",
    "npf_isGamma",
    "npf_isNeutralHad",
    "npf_abseta",
)
SV_FEATURES: tuple[str, ...] = (
    "sv_ptrel_log",
    "sv_mass",
    "sv_deltaR",
    "sv_etarel",
    "sv_phirel",
    "sv_ntracks",
    "sv_normchi2",
    "sv_dxy",
    "sv_dxysig",
    "sv_d3d",
    "sv_d3dsig",
    "sv_pt_log",
)
FIXED = ("cpf_isLepton", "npf_isGamma", "npf_isNeutralHad")
LENGTHS = {"global": 1, "cpf": 25, "npf": 25, "sv": 4}

CANDIDATE_VARIABLES: tuple[str, ...] = (
    "pfcand_pt_log_nopuppi", "pfcand_e_log_nopuppi", "pfcand_etarel", "pfcand_phirel",
    "pfcand_abseta", "pfcand_charge", "pfcand_isMu", "pfcand_isEl", "pfcand_isGamma",
    "pfcand_isNeutralHad", "pfcand_btagEtaRel", "pfcand_btagPtRatio", "pfcand_btagPParRatio",
    "pfcand_btagSip3dVal", "pfcand_btagSip3dSig", "pfcand_btagJetDistVal", "pfcand_dxy",
    "pfcand_dxysig", "pfcand_dz", "pfcand_dzsig", "pfcand_normchi2", "pfcand_quality",
    "pfcand_VTX_ass", "pfcand_lostInnerHits",
)  # fmt: skip
_TRACK_FIELDS = (
    "btagEtaRel", "btagPtRatio", "btagPParRatio", "btagSip3dVal", "btagSip3dSig",
    "btagJetDistVal", "dxy", "dxysig", "dz", "dzsig", "normchi2", "quality", "VTX_ass",
    "lostInnerHits",
)  # fmt: skip
SV_VARIABLES: tuple[str, ...] = (
    "sv_pt_log", "sv_mass", "sv_etarel", "sv_phirel", "sv_ntracks", "sv_normchi2", "sv_dxy",
    "sv_dxysig", "sv_d3d", "sv_d3dsig",
)  # fmt: skip


JET_FIELDS: tuple[str, ...] = (
    "pt", "eta", "phi", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents",
)  # fmt: skip
"""``Jet`` fields the recipe reads (besides the candidates and SVs)."""


def candidate_branches(collection: str) -> tuple[str, ...]:
    """Flat NanoAOD branches :func:`candidate_variables` reads for jets of ``collection``."""
    return cms_branches((*CANDIDATE_VARIABLES, *SV_VARIABLES), collection)


def required_branches() -> tuple[str, ...]:
    """Flat NanoAOD branches :func:`deepjet_variables` reads."""
    return (*(f"Jet_{field}" for field in JET_FIELDS), *candidate_branches("Jet"))


def candidate_variables(
    events: ak.Array, mask: ak.Array, collection: str
) -> dict[str, Jagged | np.ndarray]:
    """Charged (``cpf_*``, sorted by 3D IP significance) and neutral (``npf_*``, pT-sorted)
    candidate variables, SV variables (``sv_*``) and candidate counts of the jets
    ``events[collection][mask]``; relative quantities w.r.t. the jet (module docstring).

    Per-candidate variables come back as :class:`jetml.features.jagged.Jagged` (flat numpy
    per jet), per-jet ones as float32 arrays; everything is numpy over the chunk's flat
    candidate table (the CMS candidate order of :mod:`jetml.features.cms_pfnano`, charged
    candidates re-sorted within each jet)."""
    jets = SelectedJets(events, collection, mask)
    pt = jets.field("pt", np.float64)
    energy = jets.energy().astype(np.float64)
    pt_log, e_log = np.log(pt).astype(np.float32), np.log(energy).astype(np.float32)
    counts, cand = cms_jet_columns(jets.columns, CANDIDATE_VARIABLES, jets.selected, collection)
    per_jet = counts[CANDIDATE_VARIABLES[0]]
    jet_of_row = np.repeat(np.arange(len(per_jet)), per_jet)
    charged = cand["pfcand_charge"] != 0
    charged_rows = np.flatnonzero(charged)
    # awkward's stable descending argsort within each jet (NaN first)
    charged_rows = charged_rows[
        descending_within(
            jet_of_row[charged_rows], cand["pfcand_btagSip3dSig"][charged_rows], nan_first=True
        )
    ]
    out: dict[str, Jagged | np.ndarray] = {}
    for prefix, rows in (("cpf", charged_rows), ("npf", np.flatnonzero(~charged))):
        n = np.bincount(jet_of_row[rows], minlength=len(per_jet))

        def c(name: str, rows: np.ndarray = rows) -> np.ndarray:
            return cand[name][rows]

        def put(name: str, values: np.ndarray, n: np.ndarray = n) -> None:
            out[name] = Jagged(n, values)

        put(f"{prefix}_ptrel_log", c("pfcand_pt_log_nopuppi") - np.repeat(pt_log, n))
        put(f"{prefix}_erel_log", c("pfcand_e_log_nopuppi") - np.repeat(e_log, n))
        put(f"{prefix}_deltaR", np.hypot(c("pfcand_etarel"), c("pfcand_phirel")))
        for field in ("etarel", "phirel", "abseta", "charge", "isGamma", "isNeutralHad"):
            put(f"{prefix}_{field}", c(f"pfcand_{field}"))
        put(f"{prefix}_isLepton", c("pfcand_isMu") + c("pfcand_isEl"))
        if prefix == "cpf":
            for field in _TRACK_FIELDS:
                put(f"cpf_{field}", c(f"pfcand_{field}"))
    sv_counts, sv = cms_jet_columns(jets.columns, SV_VARIABLES, jets.selected, collection)
    n_sv = sv_counts[SV_VARIABLES[0]]
    out["sv_ptrel_log"] = Jagged(n_sv, sv["sv_pt_log"] - np.repeat(pt_log, n_sv))
    out["sv_deltaR"] = Jagged(n_sv, np.hypot(sv["sv_etarel"], sv["sv_phirel"]))
    for name in SV_VARIABLES:
        out[name] = Jagged(n_sv, sv[name])
    n_charged = np.bincount(jet_of_row[charged], minlength=len(per_jet))
    cand_pt = np.exp(cand["pfcand_pt_log_nopuppi"])
    flat = {
        "jet_pt_log": pt_log,
        "jet_n_charged": n_charged,
        "jet_n_neutral": per_jet - n_charged,
        "jet_n_svs": n_sv,
        "jet_n_leptons": segment_sums(cand["pfcand_isMu"] + cand["pfcand_isEl"], per_jet),
        "jet_max_sip3dsig": segment_max(cand["pfcand_btagSip3dSig"][charged], n_charged, 0.0),
        "jet_charged_ptfrac": segment_sums(cand_pt[charged], n_charged) / pt,
    }
    out |= {name: np.asarray(values, dtype=np.float32) for name, values in flat.items()}
    return out


def deepjet_variables(events: ak.Array, mask: ak.Array) -> dict[str, Jagged | np.ndarray]:
    """All DeepJet input variables of the jets ``events.Jet[mask]`` (see the module docstring):
    flat arrays for the jet-level ones, jagged per-candidate columns for the others."""
    out = candidate_variables(events, mask, "Jet")
    return out | SelectedJets(events, "Jet", mask).jet_features()


GROUPS: dict[str, tuple[tuple[str, ...], int]] = {
    "global": (GLOBAL_FEATURES, LENGTHS["global"]),
    "cpf": (CPF_FEATURES, LENGTHS["cpf"]),
    "npf": (NPF_FEATURES, LENGTHS["npf"]),
    "sv": (SV_FEATURES, LENGTHS["sv"]),
}
"""Input group -> (variables, length), in the network's order."""

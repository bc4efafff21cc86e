"""DeepDoubleX inputs from PFNano: AK8 jets, their charged / neutral candidates and SVs.

The DeepDoubleX V2 input shapes (5 global, 60 neutral x 8, 40 charged x 21, 5 SV x 7 features)
are filled from PFNano with DeepJet's candidate recipe
(:func:`jetml.features.deepjet.candidate_variables`: charged candidates sorted by 3D
impact-parameter significance, neutral ones by pT, SVs in CMSSW's order) on the ``FatJet``
collection, plus the jet's log pT, eta, soft-drop mass and the N-subjettiness ratios tau2/tau1
and tau3/tau2. CMS's V2 feature lists use variables PFNano does not store, so the lists differ.
:func:`deepdoublex_variables` is the recipe of the training (:mod:`jetml.nn.deepdoublex_data`)
and the tagger (:mod:`jetml.taggers.deepdoublex`) alike.
"""

from __future__ import annotations

import awkward as ak
import numpy as np

from jetml.features.deepjet import candidate_branches, candidate_variables

GLOBAL_FEATURES = ("jet_pt_log", "jet_eta", "jet_msoftdrop", "jet_tau21", "jet_tau32")
NPF_FEATURES = (
    "npf_ptrel_log", "npf_erel_log", "npf_deltaR", "npf_etarel", "npf_phirel", "npf_abseta",
    "npf_isGamma", "npf_isNeutralHad",
)  # fmt: skip
CPF_FEATURES = (
    "cpf_ptrel_log", "cpf_erel_log", "cpf_deltaR", "cpf_etarel", "cpf_phirel", "cpf_charge",
    "cpf_isLepton", "cpf_btagEtaRel", "cpf_btagPtRatio", "cpf_btagPParRatio", "cpf_btagSip3dVal",
    "cpf_btagSip3dSig", "cpf_btagJetDistVal", "cpf_dxy", "cpf_dxysig", "cpf_dz", "cpf_dzsig",
    "cpf_normchi2", "cpf_quality", "cpf_VTX_ass", "cpf_lostInnerHits",
)  # fmt: skip
SV_FEATURES = (
    "sv_ptrel_log", "sv_mass", "sv_deltaR", "sv_ntracks", "sv_normchi2", "sv_dxysig", "sv_d3dsig",
)  # fmt: skip
FIXED = ("npf_isGamma", "npf_isNeutralHad", "cpf_charge", "cpf_isLepton")
GROUPS = {
    "global": (GLOBAL_FEATURES, 1),
    "npf": (NPF_FEATURES, 60),
    "cpf": (CPF_FEATURES, 40),
    "sv": (SV_FEATURES, 5),
}
"""Input group -> (variables, length), in the network's order."""
JET_FIELDS: tuple[str, ...] = ("pt", "eta", "phi", "mass", "msoftdrop", "tau1", "tau2", "tau3")
"""``FatJet`` fields the recipe reads (besides the candidates and SVs)."""


def required_branches() -> tuple[str, ...]:
    """Flat NanoAOD branches :func:`deepdoublex_variables` reads."""
    return (*(f"FatJet_{field}" for field in JET_FIELDS), *candidate_branches("FatJet"))


def deepdoublex_variables(events: ak.Array, mask: ak.Array) -> dict[str, ak.Array | np.ndarray]:
    """All DeepDoubleX input variables of the jets ``events.FatJet[mask]``."""
    out = candidate_variables(events, mask, "FatJet")
    jets = events.FatJet[mask]

    def flat(field: str) -> np.ndarray:
        return ak.to_numpy(ak.flatten(jets[field])).astype(np.float64)

    tau1, tau2, tau3 = flat("tau1"), flat("tau2"), flat("tau3")
    out["jet_eta"] = flat("eta").astype(np.float32)
    out["jet_msoftdrop"] = flat("msoftdrop").astype(np.float32)
    out["jet_tau21"] = np.divide(tau2, tau1, out=np.zeros_like(tau2), where=tau1 > 0).astype(
        np.float32
    )
    out["jet_tau32"] = np.divide(tau3, tau2, out=np.zeros_like(tau3), where=tau2 > 0).astype(
        np.float32
    )
    return out

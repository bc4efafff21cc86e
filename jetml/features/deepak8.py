"""DeepAK8 inputs from PFNano (generated or real): CMS catalogue variables plus jet-relative ones.

The inputs are the part of the 42 + 15 DeepAK8 inputs that PFNano branches allow: the CMS
``pfcand_*``/``sv_*`` variables of :mod:`jetml.features.cms_pfnano` (CMSSW conventions:
PUPPI-weight cut, pT-descending candidates, dxy-significance-descending SVs) plus jet-relative
ones defined as ``new_variables`` expressions of the data config, so the deployment recomputes
them from the same recipe:

* ``pfcand_ptrel_log = pfcand_pt_log_nopuppi - jet_pt_log`` (log of pT / pT_jet),
  ``pfcand_erel_log = pfcand_e_log_nopuppi - jet_e_log``, ``pfcand_deltaR = hypot(etarel, phirel)``;
* ``sv_ptrel_log = sv_pt_log - jet_pt_log``, ``sv_deltaR = hypot(sv_etarel, sv_phirel)``;

where ``jet_pt_log`` and ``jet_e_log`` are per-jet logs of the AK8 jet's pT and energy
(:func:`deepak8_variables`). Not available from PFNano, hence not fed: PUPPI weight (1 in jetml's
samples), ΔR to the nearest SV and to the subjets, HCAL fraction, the track covariance, the 2D
impact-parameter b-tag variables, and the SV ``erel``/``cos θ`` variables.

Input ablation (``--inputs``): ``kin`` particle kinematics only; ``kinpid`` plus particle
identification and track quality; ``full`` plus impact parameters, b-tag track variables and SVs.
The training (:mod:`jetml.nn.deepak8_data`) and the taggers (:mod:`jetml.taggers.deepak8`, for
``deepak8``, ``deepak8_md`` and ``deepak8_full``) both build their inputs here.
"""

from __future__ import annotations

from collections.abc import Iterable

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features.cms_pfnano import CMS_VARIABLES, cms_jet_variables
from jetml.features.cms_pfnano import required_branches as cms_branches
from jetml.features.config import DataConfig
from jetml.features.expressions import check_expression

PF_LENGTH = 100
"""Particles per DeepAK8 jet (pT-descending)."""
SV_LENGTH = 7
"""Secondary vertices per DeepAK8 jet (dxy-significance-descending)."""

KINEMATICS = (
    "pfcand_pt_log_nopuppi",
    "pfcand_ptrel_log",
    "pfcand_e_log_nopuppi",
    "pfcand_erel_log",
    "pfcand_etarel",
    "pfcand_phirel",
    "pfcand_deltaR",
    "pfcand_abseta",
)
PARTICLE_ID = (
    "pfcand_charge",
    "pfcand_isEl",
    "pfcand_isMu",
    "pfcand_isGamma",
    "pfcand_isChargedHad",
    "pfcand_isNeutralHad",
)
TRACK_QUALITY = ("pfcand_VTX_ass", "pfcand_lostInnerHits", "pfcand_normchi2", "pfcand_quality")
FLAVOUR = (
    "pfcand_dz",
    "pfcand_dzsig",
    "pfcand_dxy",
    "pfcand_dxysig",
    "pfcand_btagEtaRel",
    "pfcand_btagPtRatio",
    "pfcand_btagPParRatio",
    "pfcand_btagSip3dVal",
    "pfcand_btagSip3dSig",
    "pfcand_btagJetDistVal",
)
SV_FEATURES = (
    "sv_pt_log",
    "sv_ptrel_log",
    "sv_mass",
    "sv_etarel",
    "sv_phirel",
    "sv_deltaR",
    "sv_abseta",
    "sv_ntracks",
    "sv_normchi2",
    "sv_dxy",
    "sv_dxysig",
    "sv_d3d",
    "sv_d3dsig",
)
FIXED = PARTICLE_ID
"""Flags and charge are fed unchanged; everything else is standardised (weaver auto)."""

INPUT_VARIANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "kin": (KINEMATICS, ()),
    "kinpid": ((*KINEMATICS, *PARTICLE_ID, *TRACK_QUALITY), ()),
    "full": ((*KINEMATICS, *PARTICLE_ID, *TRACK_QUALITY, *FLAVOUR), SV_FEATURES),
}
"""Variant name -> (particle features, SV features)."""

NEW_VARIABLES: dict[str, str] = {
    "pfcand_ptrel_log": "pfcand_pt_log_nopuppi - jet_pt_log",
    "pfcand_erel_log": "pfcand_e_log_nopuppi - jet_e_log",
    "pfcand_deltaR": "np.hypot(pfcand_etarel, pfcand_phirel)",
    "sv_ptrel_log": "sv_pt_log - jet_pt_log",
    "sv_deltaR": "np.hypot(sv_etarel, sv_phirel)",
}
CATALOGUE_SOURCES: dict[str, tuple[str, ...]] = {
    "pfcand_ptrel_log": ("pfcand_pt_log_nopuppi",),
    "pfcand_erel_log": ("pfcand_e_log_nopuppi",),
    "pfcand_deltaR": ("pfcand_etarel", "pfcand_phirel"),
    "sv_ptrel_log": ("sv_pt_log",),
    "sv_deltaR": ("sv_etarel", "sv_phirel"),
}
"""Catalogue variables each new variable reads (besides the per-jet ones)."""
JET_VARIABLES = ("jet_pt_log", "jet_e_log")
"""Per-jet variables the ``NEW_VARIABLES`` read; a deployment supplies them alongside."""


def catalogue_variables(variant: str) -> tuple[str, ...]:
    """CMS catalogue variables an input variant (``kin``, ``kinpid``, ``full``) reads."""
    if variant not in INPUT_VARIANTS:
        raise KeyError(f"unknown input variant '{variant}' (known: {', '.join(INPUT_VARIANTS)})")
    pf, sv = INPUT_VARIANTS[variant]
    return tuple(
        sorted({source for name in (*pf, *sv) for source in CATALOGUE_SOURCES.get(name, (name,))})
    )


def config_catalogue_variables(config: DataConfig, where: str) -> tuple[str, ...]:
    """CMS catalogue variables a shipped data config's inputs and ``new_variables`` read.

    ConfigError (naming ``where``) when the config reads anything else than catalogue variables,
    its own new variables and :data:`JET_VARIABLES`.
    """
    pending = list(config.var_names)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in config.new_variables:
            pending += check_expression(config.new_variables[name], where=name)
    unknown = sorted(seen - set(config.new_variables) - set(CMS_VARIABLES) - set(JET_VARIABLES))
    if unknown:
        raise ConfigError(
            f"{where}: preprocess.json reads {unknown}, neither CMS PFNano variables "
            f"nor {', '.join(JET_VARIABLES)}"
        )
    return tuple(sorted(seen & set(CMS_VARIABLES)))


def required_branches(
    variables: Iterable[str] | None = None, collection: str = "FatJet"
) -> tuple[str, ...]:
    """Flat NanoAOD branches :func:`deepak8_variables` reads for ``variables`` (catalogue
    names; default: those of the ``full`` variant) of jets of ``collection``."""
    names = catalogue_variables("full") if variables is None else tuple(variables)
    return (
        *(f"{collection}_{field}" for field in ("pt", "eta", "phi", "mass")),
        *cms_branches(names, collection),
    )


def deepak8_variables(
    events: ak.Array, variables: Iterable[str], mask: ak.Array, collection: str = "FatJet"
) -> dict[str, ak.Array]:
    """Catalogue ``variables`` of the jets ``events[collection][mask]`` (jagged per candidate /
    SV) and the per-jet :data:`JET_VARIABLES` ``jet_pt_log`` and ``jet_e_log``."""
    out = cms_jet_variables(events, variables, mask, collection)
    jets = events[collection][mask]
    pt = ak.to_numpy(ak.flatten(jets.pt)).astype(np.float64)
    energy = ak.to_numpy(ak.flatten(jets.energy)).astype(np.float64)
    out["jet_pt_log"] = ak.Array(np.log(pt).astype(np.float32))
    out["jet_e_log"] = ak.Array(np.log(energy).astype(np.float32))
    return out

"""b-jet energy regression data from PFNano files: jet-level inputs and the regression target.

Inputs (one value per AK4 jet, NanoAOD-style, after the CMS b-jet regression list of
arXiv:1912.06046 as far as PFNano allows; :func:`bjet_features` computes them, so a deployment
uses the same recipe): jet log pT, eta, mass, the five energy fractions, the constituent count;
the leading charged candidate's pT fraction; the leading soft lepton (muon or electron candidate):
pT fraction, ΔR to the jet axis, whether it is a muon, and the lepton count; the leading secondary
vertex (first in CMSSW's dxy-significance order): mass, pT fraction, track count, dxy, dxy
significance, 3D distance; and the number of SVs. Missing objects give 0.

Target: ``y = pT(gen jet with neutrinos) / pT(reco)`` from the matched ``GenJet_ptWithNu``.
Jets used: ``hadronFlavour == 5`` with a matched generator jet, pT > 20 GeV, |eta| < 2.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.features import DataConfig, build_inputs
from jetml.features.cms_pfnano import cms_jet_variables
from jetml.nanoaod import load_events
from jetml.nn.data import ArrayDataset, TrainingSample
from jetml.nn.fatjet_data import sample_of
from jetml.nn.outputs import REGRESSION_OUTPUTS
from jetml.nn.preprocessing import GroupSpec, fit_data_config

BJET_FEATURES: tuple[str, ...] = (
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
_CANDIDATE_VARIABLES = [
    "pfcand_pt_log_nopuppi",
    "pfcand_charge",
    "pfcand_isMu",
    "pfcand_isEl",
    "pfcand_etarel",
    "pfcand_phirel",
]
_SV_VARIABLES = ["sv_mass", "sv_pt_log", "sv_ntracks", "sv_dxy", "sv_dxysig", "sv_d3d"]


@dataclass(frozen=True)
class BJetSelection:
    """Which AK4 jets are used."""

    pt_min: float = 20.0
    abs_eta_max: float = 2.4


def _first_or_zero(values: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.fill_none(ak.firsts(values), 0.0)).astype(np.float32)


def bjet_features(events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
    """:data:`BJET_FEATURES` of the jets ``events.Jet[mask]``, flat float32 in flatten order."""
    jets = events.Jet[mask]
    pt = ak.to_numpy(ak.flatten(jets.pt)).astype(np.float64)
    features: dict[str, np.ndarray] = {"jet_pt_log": np.log(pt).astype(np.float32)}
    for field in ("eta", "mass", "chHEF", "neHEF", "chEmEF", "neEmEF", "muEF", "nConstituents"):
        features[f"jet_{field}"] = ak.to_numpy(ak.flatten(jets[field])).astype(np.float32)
    cands = cms_jet_variables(events, _CANDIDATE_VARIABLES, mask, collection="Jet")
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
    svs = cms_jet_variables(events, _SV_VARIABLES, mask, collection="Jet")
    features["sv1_mass"] = _first_or_zero(svs["sv_mass"])
    n_svs = ak.to_numpy(ak.num(svs["sv_mass"], axis=1))
    sv_pt = _first_or_zero(np.exp(svs["sv_pt_log"]))
    features["sv1_ptfrac"] = np.where(n_svs > 0, sv_pt / pt, 0.0).astype(np.float32)
    for name in ("ntracks", "dxy", "dxysig", "d3d"):
        features[f"sv1_{name}"] = _first_or_zero(svs[f"sv_{name}"])
    features["n_svs"] = n_svs.astype(np.float32)
    return {name: features[name] for name in BJET_FEATURES}


@dataclass
class BJetTable:
    """Selected b jets: input features, regression target, reco pT."""

    features: dict[str, np.ndarray]
    target: np.ndarray
    pt: np.ndarray
    samples: list[TrainingSample]

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> BJetTable:
        """The jets ``index`` as a new table."""
        return BJetTable(
            {k: v[index] for k, v in self.features.items()},
            self.target[index],
            self.pt[index],
            self.samples,
        )


def read_bjets(
    paths: Sequence[str | Path],
    selection: BJetSelection = BJetSelection(),
    with_target: bool = True,
) -> BJetTable:
    """Read the selected b jets of every file with features and target.

    ``with_target=False`` (validation on any NanoAOD with PF candidates, e.g. real PFNano): every
    jet in the pT / eta range is read, whatever its flavour, with target 0.
    """
    parts, targets, pts, samples = [], [], [], []
    for path in paths:
        events = load_events(path)
        if "Jet" not in events.fields:
            raise InputFileError(f"{path}: no Jet collection")
        jets = events.Jet
        mask = (jets.pt >= selection.pt_min) & (abs(jets.eta) < selection.abs_eta_max)
        if with_target:
            if "GenJet" not in events.fields or "ptWithNu" not in events.GenJet.fields:
                raise InputFileError(f"{path}: no GenJet_ptWithNu branch (the regression target)")
            mask = mask & (jets.hadronFlavour == 5) & (jets.genJetIdx >= 0)
        pt = ak.to_numpy(ak.flatten(jets[mask].pt)).astype(np.float64)
        if with_target:
            gen_pt = ak.to_numpy(ak.flatten(jets[mask].matched_gen.ptWithNu)).astype(np.float64)
            targets.append((gen_pt / pt).astype(np.float32))
        else:
            targets.append(np.zeros(len(pt), dtype=np.float32))
        parts.append(bjet_features(events, mask))
        pts.append(pt)
        samples.append(sample_of(path))
    features = {name: np.concatenate([p[name] for p in parts]) for name in BJET_FEATURES}
    return BJetTable(features, np.concatenate(targets), np.concatenate(pts), samples)


def fit_config(table: BJetTable) -> DataConfig:
    """Standardisation of the features fitted on ``table`` (the training jets)."""
    spec = GroupSpec("features", BJET_FEATURES, 1, fixed=FIXED)
    return fit_data_config([spec], table.features, REGRESSION_OUTPUTS)


def to_dataset(table: BJetTable, config: DataConfig) -> ArrayDataset:
    """Model input built by the deployment's builder, target and reco pT."""
    return ArrayDataset(build_inputs(config, table.features), table.target, {"pt": table.pt})

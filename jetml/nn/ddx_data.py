"""DeepDoubleX training data from PFNano files: AK8 jets labelled QCD, H->bb or H->cc.

The DeepDoubleX V2 input shapes (5 global, 60 neutral x 8, 40 charged x 21, 5 SV x 7 features) are
filled from PFNano with the candidate recipe of :func:`jetml.nn.ak4_data.candidate_variables`
(charged candidates sorted by 3D impact-parameter significance, neutral ones by pT, SVs in
CMSSW's order) on the ``FatJet`` collection, plus the jet's log pT, eta, soft-drop mass and the
N-subjettiness ratios tau2/tau1 and tau3/tau2. CMS's V2 feature lists use variables PFNano does
not store, so the lists differ. Labels from ``FatJet_label``: QCD_* -> QCD, H_bb -> Hbb,
H_cc -> Hcc; other jets are not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.features import DataConfig, build_inputs
from jetml.nanoaod import load_events
from jetml.nn.ak4_data import candidate_variables
from jetml.nn.data import ArrayDataset, LabelledJets
from jetml.nn.fatjet_data import sample_of
from jetml.nn.outputs import DEEPAK8_CLASSES, DEEPDOUBLEX_CLASSES
from jetml.nn.preprocessing import GroupSpec, fit_data_config

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
_CLASS_OF_LABEL = np.full(len(DEEPAK8_CLASSES), -1, dtype=np.int64)
for _label, _name in enumerate(DEEPAK8_CLASSES):
    if _name.startswith("QCD_"):
        _CLASS_OF_LABEL[_label] = DEEPDOUBLEX_CLASSES.index("QCD")
_CLASS_OF_LABEL[DEEPAK8_CLASSES.index("H_bb")] = DEEPDOUBLEX_CLASSES.index("Hbb")
_CLASS_OF_LABEL[DEEPAK8_CLASSES.index("H_cc")] = DEEPDOUBLEX_CLASSES.index("Hcc")


@dataclass(frozen=True)
class DDXSelection:
    """Which AK8 jets are used."""

    pt_min: float = 300.0
    abs_eta_max: float = 2.4


def ddx_variables(events: ak.Array, mask: ak.Array) -> dict[str, ak.Array | np.ndarray]:
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


def read_ddx_jets(
    paths: Sequence[str | Path],
    selection: DDXSelection = DDXSelection(),
    require_labels: bool = True,
) -> LabelledJets:
    """Read the selected QCD / H->bb / H->cc AK8 jets (``require_labels=False``: all jets in range,
    label -1, e.g. real PFNano for validation)."""
    parts, labels, samples = [], [], []
    for path in paths:
        events = load_events(path)
        if "FatJet" not in events.fields:
            raise InputFileError(f"{path}: no FatJet collection")
        jets = events.FatJet
        labelled = "label" in jets.fields
        if require_labels and not labelled:
            raise InputFileError(f"{path}: no FatJet_label branch (not a labelled jetml sample)")
        mask = (jets.pt >= selection.pt_min) & (abs(jets.eta) < selection.abs_eta_max)
        if labelled:
            fine = ak.to_numpy(ak.flatten(jets.label)).astype(np.int64)
            coarse = np.where(fine >= 0, _CLASS_OF_LABEL[np.clip(fine, 0, None)], -1)
            ddx_class = ak.unflatten(coarse, ak.num(jets.label))
            mask = mask & (ddx_class >= 0)
            labels.append(ak.to_numpy(ak.flatten(ddx_class[mask])).astype(np.int64))
        else:
            labels.append(np.full(int(ak.sum(mask)), -1, dtype=np.int64))
        parts.append(ddx_variables(events, mask))
        samples.append(sample_of(path))
    return LabelledJets.concatenate(parts, labels, samples)


def group_specs() -> list[GroupSpec]:
    """The four DeepDoubleX input groups, in the network's order."""
    return [
        GroupSpec(name, names, length, fixed=tuple(v for v in names if v in FIXED))
        for name, (names, length) in GROUPS.items()
    ]


def fit_config(table: LabelledJets) -> DataConfig:
    """Standardisation fitted on ``table`` (the training jets)."""
    return fit_data_config(group_specs(), table.variables, DEEPDOUBLEX_CLASSES)


def to_dataset(table: LabelledJets, config: DataConfig) -> ArrayDataset:
    """Model inputs built by the deployment's builder, and labels."""
    return ArrayDataset(build_inputs(config, table.variables), table.label)

"""DeepAK8 training data from PFNano files (generated or real): inputs, labels, soft-drop mass.

The inputs are the part of the 42 + 15 DeepAK8 inputs (:data:`jetml.nn.deepak8.DEEPAK8_PF_FEATURES`)
that PFNano branches allow: the CMS ``pfcand_*``/``sv_*`` variables of
:mod:`jetml.features.cms_pfnano` (CMSSW conventions: PUPPI-weight cut, pT-descending candidates,
dxy-significance-descending SVs) plus jet-relative ones defined as ``new_variables`` expressions
of the data config, so the deployment recomputes them from the same recipe:

* ``pfcand_ptrel_log = pfcand_pt_log_nopuppi - jet_pt_log`` (log of pT / pT_jet),
  ``pfcand_erel_log = pfcand_e_log_nopuppi - jet_e_log``, ``pfcand_deltaR = hypot(etarel, phirel)``;
* ``sv_ptrel_log = sv_pt_log - jet_pt_log``, ``sv_deltaR = hypot(sv_etarel, sv_phirel)``;

where ``jet_pt_log`` and ``jet_e_log`` are per-jet logs of the AK8 jet's pT and energy. Not
available from PFNano, hence not fed: PUPPI weight (1 in jetml's samples), ΔR to the nearest SV
and to the subjets, HCAL fraction, the track covariance, the 2D impact-parameter b-tag variables,
and the SV ``erel``/``cos θ`` variables.

Input ablation (``--inputs``): ``kin`` particle kinematics only; ``kinpid`` plus particle
identification and track quality; ``full`` plus impact parameters, b-tag track variables and SVs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from jetml.errors import InputFileError
from jetml.features import DataConfig, build_inputs, evaluate_new_variables
from jetml.features.cms_pfnano import cms_jet_variables
from jetml.nanoaod import load_events
from jetml.nn.data import ArrayDataset, TrainingSample
from jetml.nn.outputs import DEEPAK8_CLASSES, PF_LENGTH, SV_LENGTH
from jetml.nn.preprocessing import GroupSpec, fit_data_config

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
_CATALOGUE_SOURCES: dict[str, tuple[str, ...]] = {
    "pfcand_ptrel_log": ("pfcand_pt_log_nopuppi",),
    "pfcand_erel_log": ("pfcand_e_log_nopuppi",),
    "pfcand_deltaR": ("pfcand_etarel", "pfcand_phirel"),
    "sv_ptrel_log": ("sv_pt_log",),
    "sv_deltaR": ("sv_etarel", "sv_phirel"),
}
"""Catalogue variables each new variable reads (besides the per-jet ones)."""
JET_VARIABLES = ("jet_pt_log", "jet_e_log")
"""Per-jet variables the ``NEW_VARIABLES`` read; a deployment supplies them alongside."""


@dataclass(frozen=True)
class JetSelection:
    """Which AK8 jets are used: labelled, within pT and |eta| ranges."""

    pt_min: float = 300.0
    pt_max: float = float("inf")
    abs_eta_max: float = 2.4


def group_specs(variant: str) -> list[GroupSpec]:
    """Input groups of a DeepAK8 input variant (``kin``, ``kinpid`` or ``full``)."""
    if variant not in INPUT_VARIANTS:
        raise KeyError(f"unknown input variant '{variant}' (known: {', '.join(INPUT_VARIANTS)})")
    pf, sv = INPUT_VARIANTS[variant]
    specs = [GroupSpec("pf_features", pf, PF_LENGTH, fixed=tuple(v for v in pf if v in FIXED))]
    if sv:
        specs.append(GroupSpec("sv_features", sv, SV_LENGTH))
    return specs


def sample_of(path: str | Path) -> TrainingSample:
    """Preset, events and seed that ``jetml generate`` recorded in the file ("unknown" if none)."""
    path = Path(path)
    try:
        with uproot.open(path) as file:
            raw = str(file["jetml_generation"]) if "jetml_generation" in file else None
    except (OSError, ValueError) as error:
        raise InputFileError(f"{path}: not a readable ROOT file ({error})") from error
    if raw is None:
        return TrainingSample("unknown", 0, -1, path.name)
    request = json.loads(raw).get("request", {})
    return TrainingSample(
        str(request.get("preset", "unknown")),
        int(request.get("events", 0)),
        int(request.get("seed", -1)),
        path.name,
    )


@dataclass
class FatJetTable:
    """Selected AK8 jets of some files: jagged input variables, and per-jet truth and kinematics."""

    variables: dict[str, ak.Array]
    label: np.ndarray
    pt: np.ndarray
    msoftdrop: np.ndarray
    samples: list[TrainingSample]

    def __len__(self) -> int:
        return len(self.label)

    def take(self, index: np.ndarray) -> FatJetTable:
        """The jets ``index`` (integer array) as a new table."""
        return FatJetTable(
            {name: values[index] for name, values in self.variables.items()},
            self.label[index],
            self.pt[index],
            self.msoftdrop[index],
            self.samples,
        )


def read_fatjets(
    paths: Sequence[str | Path],
    variant: str,
    selection: JetSelection = JetSelection(),
    require_labels: bool = True,
) -> FatJetTable:
    """Read the selected jets of every file with the variables the variant needs.

    With ``require_labels=False`` files without ``FatJet_label`` (real PFNano) are accepted: all
    jets in the pT / eta ranges are read and labelled -1 (for validation, not training).
    """
    pf, sv = INPUT_VARIANTS[variant]
    names = sorted(
        {source for name in (*pf, *sv) for source in _CATALOGUE_SOURCES.get(name, (name,))}
    )
    parts: list[dict[str, ak.Array]] = []
    labels, pts, masses, samples = [], [], [], []
    for path in paths:
        events = load_events(path)
        if "FatJet" not in events.fields:
            raise InputFileError(f"{path}: no FatJet collection")
        jets = events.FatJet
        labelled = "label" in jets.fields
        if require_labels and not labelled:
            raise InputFileError(f"{path}: no FatJet_label branch (not a labelled jetml sample)")
        mask = (
            (jets.pt >= selection.pt_min)
            & (jets.pt < selection.pt_max)
            & (abs(jets.eta) < selection.abs_eta_max)
        )
        if labelled:
            mask = mask & (jets.label >= 0)
        variables = cms_jet_variables(events, names, mask)
        selected = jets[mask]
        pt = ak.to_numpy(ak.flatten(selected.pt)).astype(np.float64)
        energy = ak.to_numpy(ak.flatten(selected.energy)).astype(np.float64)
        variables["jet_pt_log"] = ak.Array(np.log(pt).astype(np.float32))
        variables["jet_e_log"] = ak.Array(np.log(energy).astype(np.float32))
        parts.append(variables)
        labels.append(
            ak.to_numpy(ak.flatten(selected.label)).astype(np.int64)
            if labelled
            else np.full(len(pt), -1, dtype=np.int64)
        )
        pts.append(pt)
        masses.append(ak.to_numpy(ak.flatten(selected.msoftdrop)).astype(np.float64))
        samples.append(sample_of(path))
    merged = {name: ak.concatenate([p[name] for p in parts]) for name in parts[0]}
    return FatJetTable(
        merged, np.concatenate(labels), np.concatenate(pts), np.concatenate(masses), samples
    )


def fit_config(table: FatJetTable, variant: str) -> DataConfig:
    """Standardisation fitted on ``table`` (the training jets) for the variant's groups."""
    specs = group_specs(variant)
    wanted = [v for s in specs for v in s.var_names if v in NEW_VARIABLES]
    derived = evaluate_new_variables(NEW_VARIABLES, table.variables, wanted)
    used = {n: e for n, e in NEW_VARIABLES.items() if n in wanted}
    return fit_data_config(specs, {**table.variables, **derived}, DEEPAK8_CLASSES, used)


def to_dataset(table: FatJetTable, config: DataConfig) -> ArrayDataset:
    """Model inputs built by the deployment's builder, labels, and pT / mass as extras."""
    inputs = build_inputs(config, table.variables)
    return ArrayDataset(inputs, table.label, {"pt": table.pt, "mass": table.msoftdrop})

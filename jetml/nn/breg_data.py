"""b-regression (breg) training data from PFNano files: the inputs of :mod:`jetml.features.breg`
and the regression target.

Target: ``y = pT(gen jet with neutrinos) / pT(reco)`` from the matched ``GenJet_ptWithNu``.
Jets used: ``hadronFlavour == 5`` with a matched generator jet, pT > 20 GeV, |eta| < 2.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.features import DataConfig, build_inputs
from jetml.features.breg import BREG_FEATURES, FIXED, breg_variables
from jetml.labels import BREG_OUTPUTS
from jetml.nn.data import ArrayDataset, TrainingSample, read_files
from jetml.nn.preprocessing import GroupSpec, fit_data_config


@dataclass(frozen=True)
class BregSelection:
    """Which AK4 jets are used."""

    pt_min: float = 20.0
    abs_eta_max: float = 2.4


@dataclass
class BregTable:
    """Selected b jets: input features, regression target, reco pT."""

    features: dict[str, np.ndarray]
    target: np.ndarray
    pt: np.ndarray
    samples: list[TrainingSample]

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> BregTable:
        """The jets ``index`` as a new table."""
        return BregTable(
            {k: v[index] for k, v in self.features.items()},
            self.target[index],
            self.pt[index],
            self.samples,
        )


def read_breg_jets(
    paths: Sequence[str | Path],
    selection: BregSelection = BregSelection(),
    with_target: bool = True,
) -> BregTable:
    """Read the selected b jets of every file with features and target.

    ``with_target=False`` (validation on any NanoAOD with PF candidates, e.g. real PFNano): every
    jet in the pT / eta range is read, whatever its flavour, with target 0.
    """

    def read_one(events: ak.Array, path: Path) -> dict[str, Any]:
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
            target = (gen_pt / pt).astype(np.float32)
        else:
            target = np.zeros(len(pt), dtype=np.float32)
        return {"features": breg_variables(events, mask), "target": target, "pt": pt}

    merged, samples = read_files(paths, read_one)
    return BregTable(merged["features"], merged["target"], merged["pt"], samples)


def fit_config(table: BregTable) -> DataConfig:
    """Standardisation of the features fitted on ``table`` (the training jets)."""
    spec = GroupSpec("features", BREG_FEATURES, 1, fixed=FIXED)
    return fit_data_config([spec], table.features, BREG_OUTPUTS)


def to_dataset(table: BregTable, config: DataConfig) -> ArrayDataset:
    """Model input built by the deployment's builder, target and reco pT."""
    return ArrayDataset(build_inputs(config, table.features), table.target, {"pt": table.pt})

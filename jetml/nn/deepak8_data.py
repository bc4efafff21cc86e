"""DeepAK8 training data from PFNano files (generated or real): inputs, labels, soft-drop mass.

The inputs are the recipe of :mod:`jetml.features.deepak8` (also what the taggers evaluate);
labels are ``FatJet_label`` (the 17 classes of :data:`jetml.labels.DEEPAK8_CLASSES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from jetml.features import DataConfig, build_inputs, evaluate_new_variables
from jetml.features.deepak8 import (
    FIXED,
    INPUT_VARIANTS,
    NEW_VARIABLES,
    PF_LENGTH,
    SV_LENGTH,
    catalogue_variables,
    deepak8_variables,
)
from jetml.labels import DEEPAK8_CLASSES
from jetml.nn.data import ArrayDataset, TrainingSample, labelled_collection, read_files
from jetml.nn.preprocessing import GroupSpec, fit_data_config


@dataclass(frozen=True)
class DeepAK8Selection:
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
    selection: DeepAK8Selection = DeepAK8Selection(),
    require_labels: bool = True,
) -> FatJetTable:
    """Read the selected jets of every file with the variables the variant needs.

    With ``require_labels=False`` files without ``FatJet_label`` (real PFNano) are accepted: all
    jets in the pT / eta ranges are read and labelled -1 (for validation, not training).
    """
    names = catalogue_variables(variant)

    def read_one(events: ak.Array, path: Path) -> dict[str, Any]:
        jets, labelled = labelled_collection(events, path, "FatJet", "label", require_labels)
        mask = (
            (jets.pt >= selection.pt_min)
            & (jets.pt < selection.pt_max)
            & (abs(jets.eta) < selection.abs_eta_max)
        )
        if labelled:
            mask = mask & (jets.label >= 0)
        variables = deepak8_variables(events, names, mask)
        selected = jets[mask]
        pt = ak.to_numpy(ak.flatten(selected.pt)).astype(np.float64)
        return {
            "variables": variables,
            "label": (
                ak.to_numpy(ak.flatten(selected.label)).astype(np.int64)
                if labelled
                else np.full(len(pt), -1, dtype=np.int64)
            ),
            "pt": pt,
            "msoftdrop": ak.to_numpy(ak.flatten(selected.msoftdrop)).astype(np.float64),
        }

    merged, samples = read_files(paths, read_one)
    return FatJetTable(
        merged["variables"], merged["label"], merged["pt"], merged["msoftdrop"], samples
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

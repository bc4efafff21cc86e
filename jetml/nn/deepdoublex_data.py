"""DeepDoubleX training data from PFNano files: the inputs of :mod:`jetml.features.deepdoublex`
and classes from ``FatJet_label`` (QCD_* -> QCD, H_bb -> Hbb, H_cc -> Hcc; other jets are not
used)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from jetml.features import DataConfig, build_inputs
from jetml.features.deepdoublex import FIXED, GROUPS, deepdoublex_variables
from jetml.labels import DEEPDOUBLEX_CLASS_OF_DEEPAK8, DEEPDOUBLEX_CLASSES
from jetml.nn.data import ArrayDataset, LabelledJets, labelled_collection, read_files
from jetml.nn.preprocessing import fit_data_config, group_specs_of


@dataclass(frozen=True)
class DeepDoubleXSelection:
    """Which AK8 jets are used."""

    pt_min: float = 300.0
    abs_eta_max: float = 2.4


def read_deepdoublex_jets(
    paths: Sequence[str | Path],
    selection: DeepDoubleXSelection = DeepDoubleXSelection(),
    require_labels: bool = True,
) -> LabelledJets:
    """Read the selected QCD / H->bb / H->cc AK8 jets (``require_labels=False``: all jets in range,
    label -1, e.g. real PFNano for validation)."""

    def read_one(events: ak.Array, path: Path) -> dict[str, Any]:
        jets, labelled = labelled_collection(events, path, "FatJet", "label", require_labels)
        mask = (jets.pt >= selection.pt_min) & (abs(jets.eta) < selection.abs_eta_max)
        if labelled:
            fine = ak.to_numpy(ak.flatten(jets.label)).astype(np.int64)
            coarse = np.where(fine >= 0, DEEPDOUBLEX_CLASS_OF_DEEPAK8[np.clip(fine, 0, None)], -1)
            ddx_class = ak.unflatten(coarse, ak.num(jets.label))
            mask = mask & (ddx_class >= 0)
            label = ak.to_numpy(ak.flatten(ddx_class[mask])).astype(np.int64)
        else:
            label = np.full(int(ak.sum(mask)), -1, dtype=np.int64)
        return {"variables": deepdoublex_variables(events, mask), "label": label}

    merged, samples = read_files(paths, read_one)
    return LabelledJets(merged["variables"], merged["label"], samples)


def fit_config(table: LabelledJets) -> DataConfig:
    """Standardisation fitted on ``table`` (the training jets)."""
    return fit_data_config(group_specs_of(GROUPS, FIXED), table.variables, DEEPDOUBLEX_CLASSES)


def to_dataset(table: LabelledJets, config: DataConfig) -> ArrayDataset:
    """Model inputs built by the deployment's builder, and labels."""
    return ArrayDataset(build_inputs(config, table.variables), table.label)

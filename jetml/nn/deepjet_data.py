"""DeepJet training data from PFNano files: the inputs of :mod:`jetml.features.deepjet` and the
``Jet_deepJetLabel`` classes (b, bb, lepb, c, uds, g); jets without a parton match (-1) are not
used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from jetml.features import DataConfig, build_inputs
from jetml.features.deepjet import FIXED, GROUPS, deepjet_variables
from jetml.labels import DEEPJET_CLASSES
from jetml.nn.data import ArrayDataset, LabelledJets, labelled_collection, read_files
from jetml.nn.preprocessing import fit_data_config, group_specs_of


@dataclass(frozen=True)
class DeepJetSelection:
    """Which AK4 jets are used."""

    pt_min: float = 20.0
    abs_eta_max: float = 2.4


def read_deepjet_jets(
    paths: Sequence[str | Path],
    selection: DeepJetSelection = DeepJetSelection(),
    require_labels: bool = True,
) -> LabelledJets:
    """Read the selected, labelled AK4 jets of every file (``require_labels=False``: all jets in
    range, label -1, e.g. real PFNano for validation)."""

    def read_one(events: ak.Array, path: Path) -> dict[str, Any]:
        jets, labelled = labelled_collection(events, path, "Jet", "deepJetLabel", require_labels)
        mask = (jets.pt >= selection.pt_min) & (abs(jets.eta) < selection.abs_eta_max)
        if labelled:
            mask = mask & (jets.deepJetLabel >= 0)
        variables = deepjet_variables(events, mask)
        return {
            "variables": variables,
            "label": (
                ak.to_numpy(ak.flatten(jets.deepJetLabel[mask])).astype(np.int64)
                if labelled
                else np.full(int(ak.sum(mask)), -1, dtype=np.int64)
            ),
        }

    merged, samples = read_files(paths, read_one)
    return LabelledJets(merged["variables"], merged["label"], samples)


def fit_config(table: LabelledJets) -> DataConfig:
    """Standardisation fitted on ``table`` (the training jets)."""
    return fit_data_config(group_specs_of(GROUPS, FIXED), table.variables, DEEPJET_CLASSES)


def to_dataset(table: LabelledJets, config: DataConfig) -> ArrayDataset:
    """Model inputs built by the deployment's builder, and labels."""
    return ArrayDataset(build_inputs(config, table.variables), table.label)

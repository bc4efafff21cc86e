"""DeepJet training data from PFNano files: the inputs of :mod:`jetml.features.deepjet` and the
``Jet_deepJetLabel`` classes (b, bb, lepb, c, uds, g); jets without a parton match (-1) are not
used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from jetml.errors import InputFileError
from jetml.features import DataConfig, build_inputs
from jetml.features.deepjet import FIXED, GROUPS, deepjet_variables
from jetml.labels import DEEPJET_CLASSES
from jetml.nanoaod import load_events
from jetml.nn.data import ArrayDataset, LabelledJets, sample_of
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
    parts, labels, samples = [], [], []
    for path in paths:
        events = load_events(path)
        if "Jet" not in events.fields:
            raise InputFileError(f"{path}: no Jet collection")
        jets = events.Jet
        labelled = "deepJetLabel" in jets.fields
        if require_labels and not labelled:
            raise InputFileError(
                f"{path}: no Jet_deepJetLabel branch (not a labelled jetml sample)"
            )
        mask = (jets.pt >= selection.pt_min) & (abs(jets.eta) < selection.abs_eta_max)
        if labelled:
            mask = mask & (jets.deepJetLabel >= 0)
        parts.append(deepjet_variables(events, mask))
        n_jets = int(ak.sum(mask))
        labels.append(
            ak.to_numpy(ak.flatten(jets.deepJetLabel[mask])).astype(np.int64)
            if labelled
            else np.full(n_jets, -1, dtype=np.int64)
        )
        samples.append(sample_of(path))
    return LabelledJets.concatenate(parts, labels, samples)


def fit_config(table: LabelledJets) -> DataConfig:
    """Standardisation fitted on ``table`` (the training jets)."""
    return fit_data_config(group_specs_of(GROUPS, FIXED), table.variables, DEEPJET_CLASSES)


def to_dataset(table: LabelledJets, config: DataConfig) -> ArrayDataset:
    """Model inputs built by the deployment's builder, and labels."""
    return ArrayDataset(build_inputs(config, table.variables), table.label)

"""DeepTau training data from PFNano files: taus, their candidate grids and ``genPartFlav`` labels.

Features come from :mod:`jetml.features.deeptau`, the recipe the tagger runs at deployment.
Labels: ``Tau_genPartFlav`` 1/3 -> e, 2/4 -> μ, 0 -> jet, 5 -> τh
(:data:`jetml.features.deeptau.LABEL_OF_GENPARTFLAV`).
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
from jetml.features import deeptau as recipe
from jetml.labels import DEEPTAU_CLASSES
from jetml.nn.data import ArrayDataset, TrainingSample, read_files
from jetml.nn.preprocessing import GroupSpec, fit_data_config


@dataclass(frozen=True)
class TauSelection:
    """Which taus are used: ``pt >= pt_min`` and ``|eta| < abs_eta_max``."""

    pt_min: float = 20.0
    abs_eta_max: float = 2.3

    def __call__(self, taus: ak.Array) -> ak.Array:
        """Jagged boolean mask of the taus inside the selection."""
        return (taus.pt >= self.pt_min) & (abs(taus.eta) < self.abs_eta_max)


@dataclass
class TauTable:
    """Selected taus: high-level variables, raw (unstandardised) grids, labels, per-tau extras
    (pt, decay mode, cut-based ``idIsoCut`` bits) kept for the card's comparisons."""

    variables: dict[str, np.ndarray]
    grids: dict[str, tuple[np.ndarray, np.ndarray]]
    label: np.ndarray
    extras: dict[str, np.ndarray]
    samples: list[TrainingSample]

    def __len__(self) -> int:
        return len(self.label)

    def take(self, index: np.ndarray) -> TauTable:
        """The taus ``index`` as a new table."""
        return TauTable(
            {k: v[index] for k, v in self.variables.items()},
            {k: (s[index], o[index]) for k, (s, o) in self.grids.items()},
            self.label[index],
            {k: v[index] for k, v in self.extras.items()},
            self.samples,
        )


def read_taus(
    paths: Sequence[str | Path],
    selection: TauSelection = TauSelection(),
    require_labels: bool = True,
) -> TauTable:
    """Selected taus of every file (``require_labels=False``: label -1 where the file has no
    ``Tau_genPartFlav``, e.g. real PFNano for validation)."""

    def read_one(events: ak.Array, path: Path) -> dict[str, Any]:
        recipe.check_branches(events, str(path))
        labelled = "genPartFlav" in events.Tau.fields
        if require_labels and not labelled:
            raise InputFileError(f"{path}: no Tau_genPartFlav branch (not a labelled jetml sample)")
        mask = selection(events.Tau)
        tau, cand = recipe.tau_candidates(events, mask)
        selected = events.Tau[mask]
        flav = ak.to_numpy(ak.flatten(selected.genPartFlav)) if labelled else None
        return {
            "variables": recipe.tau_variables(tau, cand),
            "grids": recipe.raw_grids(tau, cand),
            "label": (
                recipe.LABEL_OF_GENPARTFLAV[np.clip(flav, 0, 5)]
                if flav is not None
                else np.full(len(tau), -1, dtype=np.int64)
            ),
            "extras": {
                "pt": ak.to_numpy(tau.pt).astype(np.float32),
                "decay_mode": ak.to_numpy(tau.decayMode).astype(np.int64),
                "id_iso_cut": (
                    ak.to_numpy(ak.flatten(selected.idIsoCut)).astype(np.int64)
                    if "idIsoCut" in selected.fields
                    else np.zeros(len(tau), dtype=np.int64)
                ),
            },
        }

    merged, samples = read_files(paths, read_one)
    return TauTable(
        merged["variables"], merged["grids"], merged["label"], merged["extras"], samples
    )


def group_specs() -> list[GroupSpec]:
    """The ``tau`` input group (length 1) of ``preprocess.json``."""
    return [GroupSpec("tau", recipe.TAU_FEATURES, 1, fixed=recipe.TAU_FIXED)]


def fit_configs(table: TauTable) -> tuple[DataConfig, recipe.GridConfig]:
    """Standardisation of the high-level features and of the grids, fitted on ``table``."""
    return (
        fit_data_config(group_specs(), table.variables, DEEPTAU_CLASSES),
        recipe.GridConfig.fit(table.grids),
    )


def to_dataset(table: TauTable, config: DataConfig, grid_config: recipe.GridConfig) -> ArrayDataset:
    """Model inputs by the deployment's code (``build_inputs`` and ``GridConfig.apply``)."""
    inputs = {**build_inputs(config, table.variables), **grid_config.apply(table.grids)}
    return ArrayDataset(inputs, table.label, dict(table.extras))

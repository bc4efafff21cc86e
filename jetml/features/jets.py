"""Per-jet quantities of the selected jets of a chunk, from its flat columns.

Recipes need a few values per selected jet (pT, energy, soft-drop mass, ...). Reading them as
``events[collection][mask].field`` costs awkward's jagged slicing and NanoEvents' behaviours
per field; here they come from the chunk's :class:`jetml.features.columns.ChunkColumns`
(each branch read once per chunk) and one flat boolean selection.
"""

from __future__ import annotations

from typing import Any

import awkward as ak
import numpy as np
import vector

from jetml.features.cms_pfnano import flat_jet_mask
from jetml.features.columns import ChunkColumns, columns_of

AK4_JET_FIELDS: tuple[str, ...] = (
    "eta",
    "mass",
    "chHEF",
    "neHEF",
    "chEmEF",
    "neEmEF",
    "muEF",
    "nConstituents",
)
"""AK4 ``Jet`` fields that DeepJet and the b-regression take as they are, as ``jet_<field>``."""


class SelectedJets:
    """The jets ``events[collection][mask]`` as flat per-jet columns (in flatten order)."""

    def __init__(self, events: Any, collection: str, mask: ak.Array | np.ndarray | None) -> None:
        self.columns: ChunkColumns = columns_of(events)
        self.collection = collection
        n_jets = int(self.columns.counts(collection).sum())
        selected = flat_jet_mask(mask, n_jets, collection)
        self.selected = np.ones(n_jets, dtype=bool) if selected is None else selected

    def __len__(self) -> int:
        return int(np.count_nonzero(self.selected))

    def jet_features(self, fields: tuple[str, ...] = AK4_JET_FIELDS) -> dict[str, np.ndarray]:
        """``{"jet_<field>": float32 values}`` of the selected jets, for each of ``fields``."""
        return {f"jet_{field}": self.field(field, np.float32) for field in fields}

    def field(self, name: str, dtype: Any = None) -> np.ndarray:
        """``events[collection][mask][name]`` flattened (stored dtype unless ``dtype``)."""
        values = self.columns.flat(self.collection, name)[self.selected]
        return values if dtype is None else values.astype(dtype)

    def energy(self) -> np.ndarray:
        """The jets' energy from pt, eta, phi, mass, computed as ``vector`` computes NanoEvents'
        ``jets.energy`` (same formula, same float32 arithmetic: identical bits)."""
        kinematics = {f: self.field(f) for f in ("pt", "eta", "phi", "mass")}
        return np.asarray(vector.array(kinematics).energy)

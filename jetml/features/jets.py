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

    def field(self, name: str, dtype: Any = None) -> np.ndarray:
        """``events[collection][mask][name]`` flattened (stored dtype unless ``dtype``)."""
        values = self.columns.flat(self.collection, name)[self.selected]
        return values if dtype is None else values.astype(dtype)

    def energy(self) -> np.ndarray:
        """The jets' energy from pt, eta, phi, mass, computed as ``vector`` computes NanoEvents'
        ``jets.energy`` (same formula, same float32 arithmetic: identical bits)."""
        kinematics = {f: self.field(f) for f in ("pt", "eta", "phi", "mass")}
        return np.asarray(vector.array(kinematics).energy)

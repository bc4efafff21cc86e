"""``Jagged``: a jets x candidates column as plain numpy (counts per jet + flat values).

Feature recipes compute per-candidate columns on the flat candidate table of a chunk; wrapping
each in an ``ak.Array`` only for the builder to unwrap it again costs more than the arithmetic
at a few hundred jets per chunk. :func:`jetml.features.build_inputs` takes :class:`Jagged`
columns directly; :meth:`Jagged.to_awkward` gives the awkward view when a caller wants one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import awkward as ak
import numpy as np


class Jagged(NamedTuple):
    """``counts[j]`` values per jet ``j``, stored back to back in ``values`` (1D numpy)."""

    counts: np.ndarray
    values: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        """``len(counts) + 1`` start positions (int64), the last one ``len(values)``."""
        offsets = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=offsets[1:])
        return offsets

    def to_awkward(self) -> ak.Array:
        """``ak.unflatten(values, counts)``, built straight from the buffers."""
        layout = ak.contents.ListOffsetArray(
            ak.index.Index64(self.offsets), ak.contents.NumpyArray(self.values)
        )
        return ak.Array(layout)

    def __len__(self) -> int:  # the number of jets, like an awkward array
        return len(self.counts)


def _numpy_buffer(layout: Any) -> np.ndarray | None:
    """The in-memory 1D numpy buffer of a NumpyArray layout (None if nested)."""
    if isinstance(layout, ak.contents.NumpyArray) and layout.data.ndim == 1:
        data = layout.data
        return data if isinstance(data, np.ndarray) else np.asarray(data)
    return None


def as_jagged(array: Any) -> Jagged | None:
    """A :class:`Jagged` view of a plain or index-gathered (e.g. sorted) jagged awkward array
    of numbers, skipping awkward's per-call overhead; None for any other layout."""
    if isinstance(array, Jagged):
        return array
    if not isinstance(array, ak.Array):
        return None
    layout = array.layout
    if not isinstance(layout, ak.contents.ListOffsetArray):
        return None
    offsets = np.asarray(layout.offsets.data)
    start, stop = int(offsets[0]), int(offsets[-1])
    counts = np.diff(offsets).astype(np.int64)
    content = layout.content
    data = _numpy_buffer(content)
    if data is not None:
        return Jagged(counts, data[start:stop])
    if type(content) is ak.contents.IndexedArray:
        data = _numpy_buffer(content.content)
        if data is not None:
            return Jagged(counts, data[np.asarray(content.index.data)[start:stop]])
    return None

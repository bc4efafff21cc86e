"""Flat numpy columns of one chunk of events, each branch materialised once for every tagger.

Feature recipes work on the flat content of NanoAOD branches (``PFCands_pt`` as one numpy
array plus the per-event counts of ``PFCands``). Going through NanoEvents' high-level
``events.PFCands.pt`` costs ~0.3 ms per access and ``ak.flatten``/``ak.to_numpy`` as much
again, which at a few hundred jets per chunk is more than the arithmetic itself. A
:class:`ChunkColumns` walks the layout once per branch (a few µs), keeps the flat numpy
buffer, and also memoises derived per-chunk tables (link-table orderings, candidate columns)
under keys chosen by the recipes.

:func:`shared_columns` makes one :class:`ChunkColumns` the *active* one for an events object,
so every tagger evaluated on the same chunk inside the ``with`` block shares it (the processor
does this per chunk); :func:`columns_of` returns the active one for the same events object, or
a fresh private one (outside a processor every call still reads each branch once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import awkward as ak
import numpy as np

from jetml.errors import InputFileError

T = TypeVar("T")

_ACTIVE: ContextVar[ChunkColumns | None] = ContextVar("jetml_chunk_columns", default=None)


def _plain(data: Any) -> np.ndarray:
    """A layout buffer as a numpy array (materialises a virtual buffer, reading it once)."""
    return data if isinstance(data, np.ndarray) else np.asarray(data)


class ChunkColumns:
    """Flat branch buffers and memoised derived tables of one events chunk (see module doc)."""

    def __init__(self, events: Any) -> None:
        self.events = events
        self._counts: dict[str, np.ndarray] = {}
        self._flat: dict[tuple[str, str], np.ndarray] = {}
        self._memo: dict[Any, Any] = {}
        self._fields: dict[str, frozenset[str]] = {}
        self._latest: dict[str, tuple[Any, Any]] = {}
        self._layouts: dict[str, Any] = {}

    # ------------------------------------------------------------------ raw branches
    def has(self, collection: str, field: str) -> bool:
        """True when ``events[collection][field]`` exists."""
        if collection not in self._fields:
            layout = self._collection_layout(collection)
            if layout is not None and isinstance(layout.content, ak.contents.RecordArray):
                fields = layout.content.fields
            elif collection in self.events.fields:
                fields = self.events[collection].fields
            else:
                fields = []
            self._fields[collection] = frozenset(fields)
        return field in self._fields[collection]

    def _collection_layout(self, collection: str) -> Any:
        """The collection's ``ListOffsetArray`` of records when the layout is the plain one
        NanoEvents (and ``ak.zip`` of jagged collections) produce; None otherwise. Looked up
        once per collection (fields added to the events later do not change its buffers)."""
        if collection not in self._layouts:
            self._layouts[collection] = self._find_layout(collection)
        return self._layouts[collection]

    def _find_layout(self, collection: str) -> Any:
        layout = self.events.layout if isinstance(self.events, ak.Array) else None
        if not isinstance(layout, ak.contents.RecordArray) or collection not in layout.fields:
            return None
        content = layout.content(collection)
        if not isinstance(content, ak.contents.ListOffsetArray):
            return None
        if len(content) != len(layout):
            return None
        return content

    def counts(self, collection: str) -> np.ndarray:
        """Rows of ``collection`` per event (int64)."""
        if collection not in self._counts:
            if collection not in self.events.fields:
                raise InputFileError(f"events lack the collection {collection}")
            layout = self._collection_layout(collection)
            if layout is not None:
                counts = np.diff(_plain(layout.offsets.data)).astype(np.int64)
            else:
                counts = np.asarray(ak.num(self.events[collection], axis=1), dtype=np.int64)
            self._counts[collection] = counts
        return self._counts[collection]

    def flat(self, collection: str, field: str) -> np.ndarray:
        """Flat content of the branch ``<collection>_<field>`` in its stored dtype (read-only
        by convention: callers never write into it). InputFileError names a missing branch."""
        key = (collection, field)
        if key not in self._flat:
            if not self.has(collection, field):
                raise InputFileError(f"branch {collection}_{field} not in the events")
            self._flat[key] = self._read_flat(collection, field)
        return self._flat[key]

    def _read_flat(self, collection: str, field: str) -> np.ndarray:
        layout = self._collection_layout(collection)
        if layout is not None and isinstance(layout.content, ak.contents.RecordArray):
            values = layout.content.content(field)
            if isinstance(values, ak.contents.NumpyArray) and len(values.data.shape) == 1:
                offsets = _plain(layout.offsets.data)
                return _plain(values.data)[int(offsets[0]) : int(offsets[-1])]
        array = self.events[collection][field]
        return np.asarray(ak.to_numpy(ak.flatten(array, axis=1)))

    def field(
        self,
        collection: str,
        field: str,
        dtype: Any = np.float64,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """:meth:`flat` (its ``rows`` only, when given) as ``dtype``; converted on every call,
        after the selection, so no full-size converted copy stays in memory."""
        values = self.flat(collection, field)
        if rows is not None:
            values = values[rows]
        return values if values.dtype == dtype else values.astype(dtype)

    # ------------------------------------------------------------------ derived tables
    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per chunk under ``key`` (a tuple naming the recipe and inputs)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def latest(self, slot: str, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` unless the value last stored in ``slot`` was for ``key``; only that
        one value is kept per slot (for large per-chunk results such as model inputs)."""
        stored = self._latest.get(slot)
        if stored is None or stored[0] != key:
            self._latest.pop(slot, None)  # free the old value before computing the new one
            stored = (key, compute())
            self._latest[slot] = stored
        return stored[1]


def columns_of(events: Any) -> ChunkColumns:
    """The active :class:`ChunkColumns` of ``events`` (:func:`shared_columns`), else a new one."""
    if isinstance(events, ChunkColumns):
        return events
    active = _ACTIVE.get()
    if active is not None and active.events is events:
        return active
    return ChunkColumns(events)


@contextmanager
def shared_columns(events: Any) -> Iterator[ChunkColumns]:
    """Within the block, every recipe called on ``events`` shares one :class:`ChunkColumns`."""
    columns = ChunkColumns(events)
    token = _ACTIVE.set(columns)
    try:
        yield columns
    finally:
        _ACTIVE.reset(token)

"""Write PFNano-format ROOT files with uproot: ``Events`` and ``Runs`` as TTrees or RNTuples.

Collections become ``nX`` counters and ``X_field`` jagged branches (uproot's ``mktree``; its
counters are int32 where CMS writes uint32, which readers treat alike). With ``file_format=
"rntuple"`` the same names become RNTuple fields (uproot's ``mkrntuple``), which coffea's
NanoEvents reads as the same collections. The file is written under a
temporary name in the target folder and renamed only when complete, so an interrupted run never
leaves a partial file at the requested path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import awkward as ak
import numpy as np
import uproot

from jetml.errors import OutputFileError
from jetml.samples.build import Table, concatenate_batches

EVENTS_TREE = "Events"
# uproot rewrites the whole TTree header on every extend (cost grows with the branch count), so
# batches are buffered and written in large blocks.
FLUSH_EVENTS = 2000
RUNS_TREE = "Runs"
METADATA_KEY = "jetml_generation"
FILE_FORMATS = ("ttree", "rntuple")


@dataclass(frozen=True)
class RunSummary:
    """One ``Runs`` entry: event counts, weight sums, Pythia's sigma (pb), filter efficiency.

    The kept sample's cross section is ``sigma_pb * filter_efficiency``.
    """

    run: int
    gen_event_count: int
    gen_event_sumw: float
    gen_event_sumw2: float
    sigma_pb: float
    sigma_err_pb: float
    filter_efficiency: float = 1.0


def to_fields(scalars: dict[str, np.ndarray], collections: dict[str, Table]) -> dict:
    """uproot RNTuple ``extend`` input: scalars, ``nX`` counters and one jagged ``X_field`` each."""
    fields: dict[str, object] = dict(scalars)
    for name, table in collections.items():
        counts = table.counts.astype(np.int64)
        fields[f"n{name}"] = counts.astype(np.int32)
        for field, values in table.columns.items():
            fields[f"{name}_{field}"] = ak.unflatten(values, counts)
    return fields


def to_branches(scalars: dict[str, np.ndarray], collections: dict[str, Table]) -> dict:
    """uproot ``extend`` input: scalar arrays plus one zipped jagged record per collection."""
    branches: dict[str, object] = dict(scalars)
    for name, table in collections.items():
        counts = table.counts.astype(np.int64)
        fields = {field: ak.unflatten(values, counts) for field, values in table.columns.items()}
        branches[name] = ak.zip(fields, depth_limit=2)
    return branches


class PFNanoWriter:
    """Context manager writing batches of events to ``path`` atomically (temp file + rename).

    ``file_format``: ``ttree`` (NanoAOD as CMS writes it today) or ``rntuple``.
    """

    def __init__(
        self, path: Path, metadata: dict[str, object], *, file_format: str = "ttree"
    ) -> None:
        if file_format not in FILE_FORMATS:
            raise OutputFileError(
                f"{path}: unknown format {file_format!r}; choose {' or '.join(FILE_FORMATS)}"
            )
        self.file_format = file_format
        self.path = Path(path)
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self._metadata = metadata
        self._file: uproot.WritableDirectory | None = None
        self._tree = None
        self._buffer: list[tuple[dict[str, np.ndarray], dict[str, Table]]] = []
        self._buffered_events = 0

    def __enter__(self) -> PFNanoWriter:
        try:
            self._file = uproot.recreate(self._temporary, compression=uproot.ZSTD(5))
        except OSError as error:
            raise OutputFileError(f"{self.path}: cannot create ({error.strerror})") from error
        return self

    def extend(
        self,
        run: np.ndarray,
        luminosity_block: np.ndarray,
        event: np.ndarray,
        scalars: dict[str, np.ndarray],
        collections: dict[str, Table],
    ) -> None:
        """Append one batch of events (buffered; written in blocks of FLUSH_EVENTS)."""
        scalars = {
            "run": run.astype(np.uint32),
            "luminosityBlock": luminosity_block.astype(np.uint32),
            "event": event.astype(np.uint64),
            **scalars,
        }
        self._buffer.append((scalars, collections))
        self._buffered_events += len(event)
        if self._buffered_events >= FLUSH_EVENTS:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        convert = to_fields if self.file_format == "rntuple" else to_branches
        branches = convert(*concatenate_batches(self._buffer))
        self._buffer.clear()
        self._buffered_events = 0
        if self._tree is None:
            self._tree = self._make(EVENTS_TREE, branches)
        self._tree.extend(branches)

    def _make(self, name: str, data: dict[str, object]) -> object:
        """A new TTree or RNTuple with the types of ``data``."""
        types = {key: _branch_type(value) for key, value in data.items()}
        if self.file_format == "rntuple":
            return self._file.mkrntuple(name, types)
        return self._file.mktree(name, types)

    def finish(self, runs: list[RunSummary]) -> None:
        """Write the remaining events, the ``Runs`` tree and the generation metadata."""
        self._flush()
        self._make(RUNS_TREE, runs_branches(runs)).extend(runs_branches(runs))
        self._file[METADATA_KEY] = json.dumps(self._metadata, sort_keys=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
        if exc_type is None:
            os.replace(self._temporary, self.path)
        else:
            self._temporary.unlink(missing_ok=True)


def runs_branches(runs: list[RunSummary]) -> dict[str, np.ndarray]:
    """The ``Runs`` entries as NanoAOD branches (CMS names and dtypes)."""
    return {
        "run": np.array([r.run for r in runs], np.uint32),
        "genEventCount": np.array([r.gen_event_count for r in runs], np.int64),
        "genEventSumw": np.array([r.gen_event_sumw for r in runs], np.float64),
        "genEventSumw2": np.array([r.gen_event_sumw2 for r in runs], np.float64),
        "sigmaGen": np.array([r.sigma_pb for r in runs], np.float64),
        "sigmaGenErr": np.array([r.sigma_err_pb for r in runs], np.float64),
        "filterEfficiency": np.array([r.filter_efficiency for r in runs], np.float64),
    }


def _branch_type(value: object) -> object:
    """The mktree type of a branch value: numpy dtype or awkward record type."""
    if isinstance(value, ak.Array):
        return value.type.content
    return np.asarray(value).dtype

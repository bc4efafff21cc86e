"""Write PFNano-format ROOT files with uproot: ``Events`` and ``Runs`` TTrees.

Collections become ``nX`` counters and ``X_field`` jagged branches (uproot's ``mktree``; its
counters are int32 where CMS writes uint32, which readers treat alike). The file is written under a
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
from jetml.samples.build import Table

EVENTS_TREE = "Events"
RUNS_TREE = "Runs"
METADATA_KEY = "jetml_generation"


@dataclass(frozen=True)
class RunSummary:
    """One ``Runs`` entry: event counts, weight sums and Pythia's cross section (pb)."""

    run: int
    gen_event_count: int
    gen_event_sumw: float
    gen_event_sumw2: float
    sigma_pb: float
    sigma_err_pb: float


def check_output_path(path: Path, *, overwrite: bool) -> None:
    """Raise OutputFileError when ``path`` exists without ``overwrite`` or cannot be written."""
    if path.exists() and not overwrite:
        raise OutputFileError(f"{path}: output exists (use --overwrite to replace it)")
    if path.exists() and path.is_dir():
        raise OutputFileError(f"{path}: output path is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputFileError(f"{path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFileError(f"{path}: folder {parent} is not writable")


def to_branches(scalars: dict[str, np.ndarray], collections: dict[str, Table]) -> dict:
    """uproot ``extend`` input: scalar arrays plus one zipped jagged record per collection."""
    branches: dict[str, object] = dict(scalars)
    for name, table in collections.items():
        counts = table.counts.astype(np.int64)
        fields = {field: ak.unflatten(values, counts) for field, values in table.columns.items()}
        branches[name] = ak.zip(fields, depth_limit=2)
    return branches


class PFNanoWriter:
    """Context manager writing batches of events to ``path`` atomically (temp file + rename)."""

    def __init__(self, path: Path, metadata: dict[str, object]) -> None:
        self.path = Path(path)
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self._metadata = metadata
        self._file: uproot.WritableDirectory | None = None
        self._tree = None

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
        """Append one batch of events."""
        branches = {
            "run": run.astype(np.uint32),
            "luminosityBlock": luminosity_block.astype(np.uint32),
            "event": event.astype(np.uint64),
            **to_branches(scalars, collections),
        }
        if self._tree is None:
            types = {name: _branch_type(value) for name, value in branches.items()}
            self._tree = self._file.mktree(EVENTS_TREE, types)
        self._tree.extend(branches)

    def finish(self, runs: list[RunSummary]) -> None:
        """Write the ``Runs`` tree and the generation metadata."""
        self._file.mktree(
            RUNS_TREE,
            {
                "run": np.uint32,
                "genEventCount": np.int64,
                "genEventSumw": np.float64,
                "genEventSumw2": np.float64,
                "sigmaGen": np.float64,
                "sigmaGenErr": np.float64,
            },
        ).extend(
            {
                "run": np.array([r.run for r in runs], np.uint32),
                "genEventCount": np.array([r.gen_event_count for r in runs], np.int64),
                "genEventSumw": np.array([r.gen_event_sumw for r in runs], np.float64),
                "genEventSumw2": np.array([r.gen_event_sumw2 for r in runs], np.float64),
                "sigmaGen": np.array([r.sigma_pb for r in runs], np.float64),
                "sigmaGenErr": np.array([r.sigma_err_pb for r in runs], np.float64),
            }
        )
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


def _branch_type(value: object) -> object:
    """The mktree type of a branch value: numpy dtype or awkward record type."""
    if isinstance(value, ak.Array):
        return value.type.content
    return np.asarray(value).dtype

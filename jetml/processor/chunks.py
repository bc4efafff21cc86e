"""Inputs → datasets → chunks, and the per-chunk task every executor runs.

Inputs are ROOT files (``Events`` as TTree or RNTuple), fsspec URLs (``root://``,
``http(s)://``: kept exactly as given), globs, coffea fileset JSON files (``{dataset: [files]}`` or
``{dataset: {"files": {file: "Events"}}}``), or names of jetml's sample presets (``qcd``,
``ttbar_had``, ...), whose files are generated into the sample cache on first use
(:func:`jetml.samples.get`, with the events and seed of :class:`PresetRequest`). Each file is
opened once in the driver to count its entries and cut it into chunks of at most
``chunksize`` entries. A chunk that cannot be read comes back as a failure record naming the
file and entry range instead of raising inside the executor, so every executor reports it the
same way and ``--skip-bad-files`` can account for it.
"""

from __future__ import annotations

import functools
import glob
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jetml.errors import InputFileError, JetmlError
from jetml.nanoaod import (
    EVENTS_TREE,
    EventsSource,
    events_from_tree,
    is_url,
    missing_event_ids,
    open_events_tree,
)
from jetml.processor.processor import TaggerProcessor

Fileset = dict[str, list[str]]
GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True, order=True)
class Chunk:
    """Entries ``[entry_start, entry_stop)`` of one file of one dataset."""

    dataset: str
    path: str
    entry_start: int
    entry_stop: int

    @property
    def events(self) -> int:
        """Number of entries in the chunk."""
        return self.entry_stop - self.entry_start

    @property
    def key(self) -> tuple[str, str, int, int]:
        """``(dataset, path, entry_start, entry_stop)``: how outputs record the chunk."""
        return (self.dataset, self.path, self.entry_start, self.entry_stop)

    def describe(self) -> str:
        """``file entries a-b``: how errors and skip lists name a chunk."""
        return f"{self.path} entries {self.entry_start}-{self.entry_stop}"


@dataclass(frozen=True)
class BadFile:
    """A file that could not even be opened to plan its chunks (all its entries are lost)."""

    dataset: str
    path: str
    reason: str


@dataclass(frozen=True)
class PresetRequest:
    """How preset-name inputs are generated: events and seed of the sample, generator jobs."""

    events: int = 1000
    seed: int = 1
    jobs: int = 1


def resolve_inputs(inputs: Sequence[str], presets: PresetRequest | None = None) -> Fileset:
    """Turn command-line inputs (files, globs, fileset JSON, preset names) into a fileset.

    Plain files and glob matches form one dataset per file, named after the file (``_2``, ...
    appended when names repeat). An input that is no existing path but a preset name of
    :data:`jetml.samples.PRESETS` becomes the dataset of that name, its file taken from the
    sample cache or generated there (``presets`` gives events, seed and jobs). Raises
    InputFileError for a glob matching nothing, a missing input, or a malformed fileset JSON.
    """
    presets = presets or PresetRequest()
    fileset: Fileset = {}

    def add(dataset: str, files: list[str]) -> None:
        name, suffix = dataset, 2
        while name in fileset:
            name, suffix = f"{dataset}_{suffix}", suffix + 1
        fileset[name] = files

    for item in inputs:
        if is_url(item):
            add(PurePosixPath(item.partition("://")[2]).stem or "remote", [item])
        elif item.endswith(".json"):
            for dataset, files in _read_fileset_json(Path(item)).items():
                add(dataset, files)
        elif Path(item).exists():  # before globbing: a file may be named run[1].root
            add(Path(item).stem, [item])
        elif GLOB_CHARACTERS & set(item):
            matches = sorted(glob.glob(item))
            if not matches:
                raise InputFileError(f"{item}: no file matches this pattern")
            for match in matches:
                add(Path(match).stem, [match])
        elif item in _preset_names():
            add(item, [str(_preset_file(item, presets))])
        else:
            raise InputFileError(
                f"{item}: no such file (nor a sample preset: {', '.join(_preset_names())})"
            )
    if not fileset:
        raise InputFileError("no input files given")
    return fileset


def _preset_names() -> tuple[str, ...]:
    from jetml.samples.presets import PRESETS

    return tuple(PRESETS)


def _preset_file(preset: str, request: PresetRequest) -> Path:
    """The cached sample of ``preset`` for ``request``, generated when missing."""
    import jetml.samples

    try:
        return jetml.samples.get(preset, request.events, request.seed, jobs=request.jobs)
    except JetmlError as error:
        raise type(error)(f"preset input {preset}: {error}") from error


def _read_fileset_json(path: Path) -> Fileset:
    """A coffea fileset JSON: values are a file list or ``{"files": list | {file: tree}}``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise InputFileError(f"{path}: no such fileset file") from error
    except IsADirectoryError as error:
        raise InputFileError(f"{path}: is a folder, not a fileset JSON file") from error
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: not a text file (fileset JSON must be UTF-8)") from error
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno})"
        ) from error
    except RecursionError as error:
        raise InputFileError(f"{path}: JSON nested too deeply for a fileset") from error
    if not isinstance(raw, dict) or not raw:
        raise InputFileError(f"{path}: a fileset must map dataset names to files")
    fileset: Fileset = {}
    for dataset, entry in raw.items():
        files: Any = entry.get("files") if isinstance(entry, dict) else entry
        if isinstance(files, dict):
            trees = {tree for tree in files.values() if tree is not None}
            if trees - {EVENTS_TREE}:
                raise InputFileError(
                    f"{path}: dataset {dataset!r} names trees {sorted(trees)}; "
                    f"jetml reads '{EVENTS_TREE}'"
                )
            files = list(files)
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise InputFileError(f"{path}: dataset {dataset!r} must list at least one file path")
        base = path.parent
        fileset[str(dataset)] = [
            f if "://" in f or os.path.isabs(f) else str(base / f) for f in files
        ]
    return fileset


@dataclass
class ChunkPlan:
    """The chunks of a fileset, the files that could not be opened, and warnings to print once."""

    chunks: list[Chunk] = field(default_factory=list)
    bad_files: list[BadFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan_chunks(
    fileset: Mapping[str, Iterable[str]], chunksize: int, *, skip_bad_files: bool
) -> ChunkPlan:
    """Cut every file into chunks of at most ``chunksize`` entries.

    A file that cannot be opened raises its InputFileError, or with ``skip_bad_files`` is
    listed in ``bad_files``. Files with zero entries give no chunk. Files without event-ID
    branches are read (tagging does not need them) and named in one warning.
    """
    check_chunksize(chunksize)
    plan = ChunkPlan()
    without_ids: dict[str, tuple[str, ...]] = {}
    for dataset, files in fileset.items():
        for path in files:
            try:
                tree = open_events_tree(path)
                entries = tree.num_entries
            except InputFileError as error:
                if not skip_bad_files:
                    raise
                plan.bad_files.append(BadFile(dataset, str(path), str(error)))
                continue
            if missing := missing_event_ids(tree):
                without_ids[str(path)] = missing
            plan.chunks += [
                Chunk(dataset, str(path), start, min(start + chunksize, entries))
                for start in range(0, entries, chunksize)
            ]
    if without_ids:
        names = sorted({name for missing in without_ids.values() for name in missing})
        files = ", ".join(sorted(without_ids))
        plan.warnings.append(
            f"{len(without_ids)} file(s) lack event-ID branches ({', '.join(names)}); read "
            f"anyway, tagging jets does not need them: {files}"
        )
    return plan


def check_chunksize(chunksize: int) -> None:
    """InputFileError unless ``chunksize`` is a positive number of events."""
    if chunksize < 1:
        raise InputFileError(f"--chunksize must be at least 1 event, got {chunksize}")


def run_chunk(chunk: Chunk, processor: TaggerProcessor) -> dict[str, Any]:
    """Process one chunk; unreadable input becomes a ``failed_chunks`` record, not an exception.

    This is the function the executors map over chunks (with ``functools.partial``): it opens
    the chunk as NanoEvents with the right schema for its file and calls ``processor.process``.
    Each process keeps its last few files open, so later chunks of a file skip re-parsing the
    branch list.
    """
    metadata = {
        "dataset": chunk.dataset,
        "filename": chunk.path,
        "entrystart": chunk.entry_start,
        "entrystop": chunk.entry_stop,
    }
    try:
        events = events_from_tree(
            _events_tree(chunk.path),
            entry_start=chunk.entry_start,
            entry_stop=chunk.entry_stop,
            metadata=metadata,
            branches=processor.branches,
        )
        output = processor.process(events)
    except InputFileError as error:
        output = processor.empty_output([chunk.dataset])
        output["processes"].add((socket.gethostname(), os.getpid()))
        message = str(error).removeprefix(f"{chunk.path}: ")
        if not message.startswith(chunk.describe()):
            message = f"{chunk.describe()}: {message}"
        output["failed_chunks"].add((*chunk.key, message))
        return output
    output["chunks"].add(chunk.key)
    return output


def _events_tree(path: str) -> EventsSource:
    """The validated ``Events`` of ``path``, kept open per process while it is unchanged
    (URLs: while the process lives)."""
    if is_url(path):
        return _open_tree_cached(path, 0, 0)
    try:
        stat = os.stat(path)
    except OSError:
        return open_events_tree(path)  # raises the one-line InputFileError
    return _open_tree_cached(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _open_tree_cached(path: str, mtime_ns: int, size: int) -> EventsSource:
    return open_events_tree(path)

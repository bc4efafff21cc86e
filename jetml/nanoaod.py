"""Open NanoAOD/PFNano ROOT files safely and as coffea NanoEvents.

``Events`` may be a TTree or an RNTuple (the format CMS is moving NanoAOD to), in a local file
or behind an fsspec URL (``root://``, ``http(s)://``). Every check here turns a low-level uproot
failure into one :class:`InputFileError` line that names the file and the cause, before coffea
sees the file. Files without the event-ID branches (``run``, ``luminosityBlock``, ``event``) are
read too: tagging jets needs no event IDs, so callers only warn (see :func:`missing_event_ids`).
"""

from __future__ import annotations

import importlib.util
import os
import struct
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias

import awkward as ak
import uproot
from coffea.nanoevents import NanoAODSchema, NanoEventsFactory, PFNanoAODSchema

from jetml.errors import InputFileError

EVENTS_TREE = "Events"
# uproot class names of an ``Events`` object jetml reads.
EVENTS_CLASSES = ("TTree", "ROOT::RNTuple")
EventsSource: TypeAlias = Any  # an uproot TTree or RNTuple: keys(), num_entries, ``in``, .file
# Seconds uproot waits for a remote server before the file is reported unreachable.
URL_TIMEOUT_S = 30
ROOT_HEADER_BYTES = 20
# PFNano stores the full PF candidate collection (with track variables) as ``PFCands``;
# plain NanoAOD v15 has a thin ``PFCand`` without tracks, which NanoAODSchema handles.
PFNANO_COUNTER = "nPFCands"
# NanoAODSchema needs these in every file.
EVENT_ID_BRANCHES = ("run", "luminosityBlock", "event")
# coffea's four-vector and candidate behaviours refuse a collection without these fields.
BEHAVIOUR_FIELDS = ("pt", "eta", "phi", "mass", "charge")


def is_url(path: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` inputs (``root://``, ``http(s)://``, any fsspec URL).

    URLs are passed to uproot exactly as given: a ``Path`` would fold ``root://host//path``
    into ``root:/host/path``.
    """
    return "://" in os.fspath(path)


def open_events_tree(path: str | os.PathLike[str]) -> EventsSource:
    """Return the ``Events`` TTree or RNTuple of ``path`` after checking that the file is whole.

    ``path`` is a local file or an fsspec URL (``root://``, ``http(s)://``, ...). Raises
    InputFileError for a missing file, a non-ROOT file, a truncated file (shorter than the length
    its header records), an unreachable URL and a file without an ``Events`` TTree or RNTuple.
    """
    if is_url(path):
        root_file = _open_url(os.fspath(path))
        where = os.fspath(path)
    else:
        local = Path(path)
        _check_local_file(local)
        where = str(local)
        try:
            root_file = uproot.open(local)
        except Exception as error:
            raise InputFileError(f"{where}: corrupt ROOT file ({_one_line(error)})") from error
    try:
        classes = root_file.classnames()
    except Exception as error:
        raise InputFileError(f"{where}: corrupt ROOT directory ({_one_line(error)})") from error
    contents = {key.split(";")[0]: kind for key, kind in classes.items()}
    if contents.get(EVENTS_TREE) not in EVENTS_CLASSES:
        listing = ", ".join(f"{name} [{kind}]" for name, kind in sorted(contents.items()))
        raise InputFileError(
            f"{where}: no '{EVENTS_TREE}' TTree or RNTuple (contents: {listing or 'none'})"
        )
    try:
        return root_file[EVENTS_TREE]
    except Exception as error:
        raise InputFileError(
            f"{where}: cannot read '{EVENTS_TREE}' ({_one_line(error)})"
        ) from error


def _check_local_file(path: Path) -> None:
    """InputFileError unless ``path`` is a readable, complete ROOT file."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if not path.is_file():
        raise InputFileError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            header = handle.read(ROOT_HEADER_BYTES)
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror})") from error
    if header[:4] != b"root":
        raise InputFileError(
            f"{path}: not a ROOT file (first bytes {header[:4]!r}, expected b'root')"
        )
    size = path.stat().st_size
    recorded_end = _recorded_end(header)
    if recorded_end is None or size < recorded_end:
        raise InputFileError(
            f"{path}: truncated ROOT file ({size} bytes on disk, header records "
            f"{recorded_end if recorded_end is not None else 'an incomplete header'})"
        )


def _open_url(url: str) -> uproot.ReadOnlyDirectory:
    """Open a remote file with uproot's fsspec source; every failure is one line naming ``url``."""
    scheme = url.partition("://")[0]
    if scheme == "root" and importlib.util.find_spec("fsspec_xrootd") is None:
        raise InputFileError(
            f"{url}: reading root:// URLs needs the XRootD client (pip install fsspec-xrootd)"
        )
    try:
        return uproot.open(url, timeout=URL_TIMEOUT_S)
    except ImportError as error:
        raise InputFileError(f"{url}: no reader for {scheme}:// ({_one_line(error)})") from error
    except Exception as error:
        raise InputFileError(f"{url}: cannot open ({_one_line(error)})") from error


def _recorded_end(header: bytes) -> int | None:
    """The file length (``fEND``) a ROOT file header records, or None if the header is cut.

    Header layout: b"root", fVersion (int32), fBEGIN (int32), then fEND as int32, or int64 when
    fVersion >= 1000000 (files larger than 2 GB). Checked before uproot so that a file cut
    anywhere is reported as truncated rather than as a failed read deep inside uproot.
    """
    if len(header) < 16:
        return None
    version = struct.unpack(">i", header[4:8])[0]
    if version >= 1_000_000:
        return struct.unpack(">q", header[12:20])[0] if len(header) >= 20 else None
    return struct.unpack(">i", header[12:16])[0]


def is_pfnano(tree: EventsSource) -> bool:
    """True when the tree carries the PFNano ``PFCands`` collection with track variables."""
    return PFNANO_COUNTER in tree


def events_format(tree: EventsSource) -> str:
    """``TTree`` or ``RNTuple``: how the file stores ``Events``."""
    return "RNTuple" if "RNTuple" in type(tree).__name__ else "TTree"


def missing_event_ids(tree: EventsSource) -> tuple[str, ...]:
    """The event-ID branches (``run``, ``luminosityBlock``, ``event``) the tree lacks."""
    return tuple(name for name in EVENT_ID_BRANCHES if name not in tree)


class _NanoAODWithoutIDs(NanoAODSchema):
    """NanoAODSchema for files that lack event-ID branches (jet tagging does not need them)."""

    error_missing_event_ids = False


class _PFNanoAODWithoutIDs(PFNanoAODSchema):
    """PFNanoAODSchema for files that lack event-ID branches."""

    error_missing_event_ids = False


def schema_for(tree: EventsSource) -> type[NanoAODSchema]:
    """PFNanoAODSchema for PFNano files, NanoAODSchema for plain NanoAOD."""
    return PFNanoAODSchema if is_pfnano(tree) else NanoAODSchema


def _reading_schema(tree: EventsSource) -> type[NanoAODSchema]:
    """:func:`schema_for`, relaxed to accept files without event IDs."""
    if not missing_event_ids(tree):
        return schema_for(tree)
    return _PFNanoAODWithoutIDs if is_pfnano(tree) else _NanoAODWithoutIDs


def load_events(
    path: str | os.PathLike[str],
    *,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ak.Array:
    """Open ``path`` as coffea NanoEvents (virtual arrays: branches are read on first use).

    ``metadata`` becomes ``events.metadata`` (coffea processors read ``dataset`` from it), after
    ``filename``, ``entrystart`` and ``entrystop`` (which error messages name).
    """
    return events_from_tree(
        open_events_tree(path), entry_start=entry_start, entry_stop=entry_stop, metadata=metadata
    )


def events_from_tree(
    tree: EventsSource,
    *,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    branches: Collection[str] | None = None,
) -> ak.Array:
    """NanoEvents of an ``Events`` TTree or RNTuple already opened by :func:`open_events_tree`.

    Reuses the open file, so a caller that keeps the tree avoids parsing the branch list (over
    a second for a NanoAOD v15 file) again for every entry range. With ``branches``, the events
    expose only those branches, plus their collections' counters and the fields coffea's
    behaviours validate (pt, eta, phi, mass, charge) and the event id branches:
    building NanoEvents over a few dozen branches instead of thousands takes a fraction of
    the time, which matters once per chunk.
    """
    path = tree.file.file_path
    iteritems_options: dict[str, Any] = {}
    if branches is not None:
        collections = {name.partition("_")[0] for name in branches if "_" in name}
        keep = set(branches) | set(EVENT_ID_BRANCHES) | {f"n{c}" for c in collections}
        keep |= {f"{c}_{field}" for c in collections for field in BEHAVIOUR_FIELDS}
        iteritems_options["filter_name"] = frozenset(keep).__contains__
    with warnings.catch_warnings():
        # coffea warns about cross-references it cannot resolve in older NanoAOD versions.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return NanoEventsFactory.from_root(
                tree.file.root_directory,
                treepath=EVENTS_TREE,
                schemaclass=_reading_schema(tree),
                mode="virtual",
                entry_start=entry_start,
                entry_stop=entry_stop,
                metadata={
                    "filename": str(path),
                    "entrystart": entry_start or 0,
                    "entrystop": tree.num_entries if entry_stop is None else entry_stop,
                    **(metadata or {}),
                },
                iteritems_options=iteritems_options,
            ).events()
        except Exception as error:
            raise InputFileError(f"{path}: cannot build NanoEvents ({_one_line(error)})") from error


def event_chunks(path: str | os.PathLike[str], chunk_events: int) -> Iterator[ak.Array]:
    """NanoEvents of ``path`` in consecutive entry ranges of ``chunk_events`` events (metadata
    ``dataset`` = the file stem), so a large file is read and processed one chunk at a time on
    one open tree. A file without events is an InputFileError naming it."""
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be positive, got {chunk_events}")
    tree = open_events_tree(path)
    if tree.num_entries == 0:
        raise InputFileError(f"{path}: no events")
    metadata = {"dataset": Path(path).stem, "filename": os.fspath(path)}
    for start in range(0, tree.num_entries, chunk_events):
        stop = min(start + chunk_events, tree.num_entries)
        yield events_from_tree(tree, entry_start=start, entry_stop=stop, metadata=metadata)


def read_branches(events: ak.Array, branches: Iterable[str]) -> None:
    """Load ``branches`` of NanoEvents from disk now (they are lazy), so a damaged basket fails
    here as one InputFileError naming the file, entry range and branch instead of deep inside
    the first computation that touches it; also lets callers time reading on its own."""
    metadata = getattr(events, "metadata", None) or {}
    for branch in dict.fromkeys(branches):
        collection, _, field = branch.partition("_")
        array = events[branch] if branch in events.fields else events[collection][field]
        try:
            ak.materialize(array)
        except Exception as error:
            where = (
                f"{metadata.get('filename', '?')} entries "
                f"{metadata.get('entrystart', '?')}-{metadata.get('entrystop', '?')}"
            )
            raise InputFileError(
                f"{where}: cannot read branch {branch} ({_one_line(error)})"
            ) from error


def _one_line(error: BaseException) -> str:
    """The first line of an exception message, prefixed by its type."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")

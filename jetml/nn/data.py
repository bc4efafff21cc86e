"""In-memory training data: named input arrays, a target and per-jet extras, split reproducibly."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import uproot

from jetml.errors import InputFileError
from jetml.nanoaod import load_events

_TARGET = "__target__"
_EXTRA = "__extra__"


@dataclass
class ArrayDataset:
    """Jets as rows: ``inputs`` (model input name -> float32 array), ``target`` (class index or
    regression target) and ``extras`` (per-jet quantities not fed to the net, e.g. soft-drop mass
    for the mass-decorrelation adversary)."""

    inputs: dict[str, np.ndarray]
    target: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lengths = {name: len(a) for name, a in {**self.inputs, **self.extras}.items()}
        lengths["target"] = len(self.target)
        if len(set(lengths.values())) > 1:
            raise ValueError(f"arrays of a dataset differ in length: {lengths}")

    def __len__(self) -> int:
        return len(self.target)

    def take(self, index: np.ndarray) -> ArrayDataset:
        """Rows ``index`` (integer or boolean array) as a new dataset."""
        return ArrayDataset(
            {name: a[index] for name, a in self.inputs.items()},
            self.target[index],
            {name: a[index] for name, a in self.extras.items()},
        )

    def split(self, fractions: tuple[float, ...], seed: int) -> tuple[ArrayDataset, ...]:
        """Shuffle with ``seed`` and cut into parts of the given fractions (they must sum to 1).

        Used for train / validation / held-out test splits; identical seeds give identical splits.
        """
        if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
            raise ValueError(f"split fractions must be positive and sum to 1: {fractions}")
        order = np.random.default_rng(seed).permutation(len(self))
        edges = np.round(np.cumsum(fractions) * len(self)).astype(int)
        starts = np.concatenate([[0], edges[:-1]])
        return tuple(self.take(order[a:b]) for a, b in zip(starts, edges, strict=True))

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` that :meth:`load` (and ``jetml validate --data``) reads back."""
        arrays = {**self.inputs, _TARGET: self.target}
        arrays |= {f"{_EXTRA}{name}": a for name, a in self.extras.items()}
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | Path, input_names: tuple[str, ...] | None = None) -> ArrayDataset:
        """Read an ``.npz`` written by :meth:`save`; ``input_names`` must all be present."""
        path = Path(path)
        try:
            with np.load(path) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError) as error:
            raise InputFileError(f"{path}: not a readable .npz dataset ({error})") from error
        names = input_names or tuple(n for n in arrays if n != _TARGET and not n.startswith(_EXTRA))
        missing = [n for n in names if n not in arrays]
        if missing:
            raise InputFileError(f"{path}: lacks model input(s) {', '.join(missing)}")
        n_rows = len(arrays[names[0]]) if names else 0
        target = arrays.get(_TARGET, np.zeros(n_rows, dtype=np.int64))
        extras = {n[len(_EXTRA) :]: a for n, a in arrays.items() if n.startswith(_EXTRA)}
        return cls({n: arrays[n] for n in names}, target, extras)


@dataclass(frozen=True)
class TrainingSample:
    """One input sample of a training: generator preset, number of events, seed, file name."""

    preset: str
    events: int
    seed: int
    file: str = ""

    def describe(self) -> str:
        """One-line description for the card's ``training_samples`` list."""
        where = f" ({self.file})" if self.file else ""
        return f"{self.preset}: {self.events} events, seed {self.seed}{where}"


@dataclass
class LabelledJets:
    """Selected jets of some files: input variables (flat or jagged per jet) and class labels."""

    variables: dict[str, Any]
    label: np.ndarray
    samples: list[TrainingSample]

    def __len__(self) -> int:
        return len(self.label)

    def take(self, index: np.ndarray) -> LabelledJets:
        """The jets ``index`` (integer array) as a new table."""
        return LabelledJets(
            {k: v[index] for k, v in self.variables.items()}, self.label[index], self.samples
        )


def sample_of(path: str | Path) -> TrainingSample:
    """Preset, events and seed that ``jetml generate`` recorded in the file ("unknown" if none)."""
    path = Path(path)
    try:
        with uproot.open(path) as file:
            raw = str(file["jetml_generation"]) if "jetml_generation" in file else None
    except (OSError, ValueError) as error:
        raise InputFileError(f"{path}: not a readable ROOT file ({error})") from error
    if raw is None:
        return TrainingSample("unknown", 0, -1, path.name)
    request = json.loads(raw).get("request", {})
    return TrainingSample(
        str(request.get("preset", "unknown")),
        int(request.get("events", 0)),
        int(request.get("seed", -1)),
        path.name,
    )


def merge(parts: list[Any]) -> Any:
    """Per-file pieces as one: dicts and tuples key by key, numpy arrays by ``np.concatenate``,
    awkward arrays by ``ak.concatenate``."""
    first = parts[0]
    if isinstance(first, dict):
        return {key: merge([part[key] for part in parts]) for key in first}
    if isinstance(first, tuple):
        return tuple(merge([part[i] for part in parts]) for i in range(len(first)))
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    return ak.concatenate(parts)


def read_files(
    paths: Sequence[str | Path], read_one: Callable[[Any, Path], dict[str, Any]]
) -> tuple[dict[str, Any], list[TrainingSample]]:
    """The one read loop of every training: ``read_one(events, path)`` on each file's NanoEvents
    (its selected objects as named arrays), merged, and each file's generation record."""
    parts, samples = [], []
    for path in paths:
        parts.append(read_one(load_events(path), Path(path)))
        samples.append(sample_of(path))
    return merge(parts), samples


def labelled_collection(
    events: Any, path: Path, collection: str, label: str, require_labels: bool
) -> tuple[Any, bool]:
    """``events[collection]`` and whether it has the truth field ``label``; InputFileError naming
    the file when the collection is missing, or the label is while ``require_labels``."""
    if collection not in events.fields:
        raise InputFileError(f"{path}: no {collection} collection")
    objects = events[collection]
    labelled = label in objects.fields
    if require_labels and not labelled:
        raise InputFileError(
            f"{path}: no {collection}_{label} branch (not a labelled jetml sample)"
        )
    return objects, labelled

"""Model cards: a JSON file next to each ``.onnx`` recording what the model is and how it was made.

``<stem>.card.json`` beside ``<stem>.onnx``. :class:`ModelCard` is the one type for every card:
what the deployment needs (name, version, sha256 of the ONNX file, the data config relative to
the card, output labels, ONNX output name, the training selection) and everything ``jetml train``
records besides (architecture and its configuration, torch weights and their sha256, samples,
command, seeds, training history, parity, metrics, versions). Training writes it
(:func:`jetml.nn.package.write_model`), taggers, ``jetml validate`` and the engine read it with
:func:`load_card`. :class:`~jetml.inference.OnnxModel` verifies the sha256 whenever a card is
present, so a tampered or swapped model file never runs. The card pins every other file the
model reads too (``file_sha256``: the data config and the grid config): :meth:`ModelCard.file`
refuses one that is unpinned or differs, since an edited ``preprocess.json`` changes every score
as surely as an edited ONNX file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from jetml.errors import ConfigError, ModelIntegrityError
from jetml.features.config import DataConfig, load_data_config
from jetml.inference.integrity import file_sha256

CARD_SUFFIX = ".card.json"
#: Card fields naming files the deployed model reads; each is pinned in ``file_sha256``.
PINNED_FILES = ("data_config", "grid_config")


@dataclass
class ModelCard:
    """What a model file is and how it was made (fields in the order they are written).

    The first fields are what any card holds; the optional ones (None: absent from the file)
    are written by ``jetml train``.
    """

    name: str
    version: str
    sha256: str
    data_config: str | None = None
    grid_config: str | None = None
    """Grid standardisation file (``grids.json``, DeepTau), relative to the card."""
    file_sha256: dict[str, str] | None = None
    """sha256 of each file of :data:`PINNED_FILES` the card names, by that name."""
    output_labels: list[str] = field(default_factory=list)
    training_samples: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    architecture: str | None = None
    architecture_config: dict[str, Any] | None = None
    onnx_output: str | None = None
    """Name of the ONNX output holding the scores (``softmax``, ``regression``)."""
    trained: bool | None = None
    torch_weights: str | None = None
    torch_weights_sha256: str | None = None
    samples: list[dict[str, Any]] | None = None
    """Generated samples trained on: preset, events, seed, file."""
    command: str | None = None
    seeds: dict[str, int] | None = None
    training: dict[str, Any] | None = None
    """Jet counts, selection, fit configuration, history, ..."""
    parity: dict[str, Any] | None = None
    jetml_version: str | None = None
    torch_version: str | None = None
    notes: str | None = None
    path: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of the card (absent optional fields left out, JSON-safe values)."""
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "path" and getattr(self, f.name) is not None
        }
        return _json_safe(out)

    def save(self, path: str | Path) -> Path:
        """Write the card to ``path`` (and remember it as :attr:`path`)."""
        self.path = Path(path)
        self.path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return self.path

    def require(self, key: str) -> Any:
        """The value of field ``key``; ConfigError naming the card when it is absent."""
        value = getattr(self, key, None)
        if value is None:
            raise ConfigError(f"{self.path}: card lacks '{key}' (not written by jetml training)")
        return value

    def file(self, key: str) -> Path:
        """The file a field names (``data_config``, ``grid_config``, ``torch_weights``), resolved
        against the card's folder; for :data:`PINNED_FILES`, checked against its pinned sha256
        (ModelIntegrityError when unpinned or different)."""
        if self.path is None:
            raise ConfigError(f"model card {self.name!r} has no location to resolve {key} from")
        name = str(self.require(key))
        path = self.path.parent / name
        if key in PINNED_FILES:
            expected = (self.file_sha256 or {}).get(name)
            if expected is None:
                raise ModelIntegrityError(
                    f"{self.path}: card pins no sha256 for its {key} {name}; refusing a file the "
                    "card does not fix (re-write the card with jetml train)"
                )
            actual = _sha256_of(path)
            if actual != expected.lower():
                raise ModelIntegrityError(
                    f"{path}: sha256 mismatch (card {self.path.name} pins {expected}, file has "
                    f"{actual}); refusing a {key} that differs from the recorded one"
                )
        return path

    def pin_files(self) -> None:
        """Record the sha256 of every :data:`PINNED_FILES` file the card names (at save time)."""
        if self.path is None:
            raise ConfigError(f"model card {self.name!r} has no location to pin files from")
        names = [getattr(self, key) for key in PINNED_FILES if getattr(self, key) is not None]
        pins = {name: _sha256_of(self.path.parent / name) for name in names}
        self.file_sha256 = pins or None

    def load_data_config(self) -> DataConfig:
        """Load the data config the card names (relative to the card's folder), once its sha256
        matches the card's."""
        if self.data_config is None or self.path is None:
            raise ConfigError(f"{self.path}: model card names no data config")
        return load_data_config(self.file("data_config"))


def _sha256_of(path: Path) -> str:
    """sha256 of a file the card names; a missing or unreadable file is a ModelIntegrityError."""
    try:
        return file_sha256(path)
    except OSError as error:
        raise ModelIntegrityError(f"{path}: cannot be read ({error.strerror})") from error


def _json_safe(value: Any) -> Any:
    """Tuples to lists, numpy scalars to Python, non-finite floats to None (JSON has no inf)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def card_path_for(model_path: str | Path) -> Path:
    """Where the card of ``model_path`` lives: ``<stem>.card.json`` in the same folder."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + CARD_SUFFIX)


def load_card(path: str | Path) -> ModelCard:
    """Read a model card JSON file; every field must have its type (ConfigError otherwise)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: model card not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: model card is a folder") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: model card is not a text file (cards are UTF-8 JSON)") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: model card is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise ConfigError(f"{path}: model card JSON nested too deeply") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: model card cannot be read ({exc.strerror})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: model card must be a JSON object")
    missing = [k for k in ("name", "version", "sha256") if not isinstance(raw.get(k), str)]
    if missing:
        raise ConfigError(f"{path}: model card lacks string field(s) {missing}")
    known = {f.name: raw[f.name] for f in fields(ModelCard) if f.name in raw and f.name != "path"}
    for f in fields(ModelCard):
        if f.name in known and known[f.name] is not None and not _has_type(known[f.name], f.type):
            shown = repr(known[f.name])
            shown = shown if len(shown) <= 40 else f"{shown[:40]}..."
            raise ConfigError(f"{path}: card field '{f.name}' must be {f.type}, got {shown}")
    return ModelCard(**known, path=path)


def _has_type(value: Any, annotation: str) -> bool:
    """Whether a JSON value fits a ModelCard field annotation (``str | None``, ``list[str]``,
    ``dict[str, Any] | None``, ``list[dict[str, Any]] | None``, ``bool | None``, ...)."""
    kind = str(annotation).split(" | ")[0]
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind.startswith("list[dict"):
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if kind == "dict[str, str]":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind.startswith("dict"):
        return isinstance(value, dict)
    return True


def write_card(
    model_path: str | Path,
    *,
    name: str,
    version: str,
    data_config: str | None = None,
    output_labels: list[str] | None = None,
    training_samples: list[str] | None = None,
    metrics: dict[str, float] | None = None,
) -> ModelCard:
    """Write ``<stem>.card.json`` for ``model_path`` with the file's current sha256."""
    model_path = Path(model_path)
    card = ModelCard(
        name=name,
        version=version,
        sha256=file_sha256(model_path),
        data_config=data_config,
        output_labels=list(output_labels or []),
        training_samples=list(training_samples or []),
        metrics=dict(metrics or {}),
        path=card_path_for(model_path),
    )
    if data_config is not None:
        card.pin_files()
    card.save(card_path_for(model_path))
    return card

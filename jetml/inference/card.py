"""Model cards: a JSON file next to each ``.onnx`` recording what the model is.

``<stem>.card.json`` beside ``<stem>.onnx`` holds name, version, sha256 of the ONNX file,
the data config (path relative to the card), output labels, training samples and metrics.
:class:`~jetml.inference.OnnxModel` verifies the sha256 whenever a card is present, so a
tampered or swapped model file never runs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jetml.errors import ConfigError
from jetml.features.config import DataConfig, load_data_config
from jetml.inference.integrity import file_sha256

CARD_SUFFIX = ".card.json"


@dataclass
class ModelCard:
    """What a model file is and how it was made."""

    name: str
    version: str
    sha256: str
    data_config: str | None = None
    output_labels: list[str] = field(default_factory=list)
    training_samples: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON content of the card."""
        out = asdict(self)
        out.pop("path")
        return out

    def load_data_config(self) -> DataConfig:
        """Load the data config the card names (relative to the card's folder)."""
        if self.data_config is None or self.path is None:
            raise ConfigError(f"{self.path}: model card names no data config")
        return load_data_config(self.path.parent / self.data_config)


def card_path_for(model_path: str | Path) -> Path:
    """Where the card of ``model_path`` lives: ``<stem>.card.json`` in the same folder."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + CARD_SUFFIX)


def load_card(path: str | Path) -> ModelCard:
    """Read a model card JSON file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: model card not found") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: model card is not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: model card must be a JSON object")
    missing = [k for k in ("name", "version", "sha256") if not isinstance(raw.get(k), str)]
    if missing:
        raise ConfigError(f"{path}: model card lacks string field(s) {missing}")
    known = {k: raw[k] for k in ModelCard.__dataclass_fields__ if k in raw and k != "path"}
    return ModelCard(**known, path=path)


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
    assert card.path is not None
    card.path.write_text(json.dumps(card.to_dict(), indent=2) + "\n")
    return card

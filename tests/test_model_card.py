"""One ModelCard type for every card: the shipped cards load into it and write back byte for byte
(so the sha256 pins they hold are untouched), and a missing training field is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jetml.errors import ConfigError
from jetml.inference.card import CARD_SUFFIX, ModelCard, load_card
from jetml.taggers.shipped import MODELS_DIR, shipped_model_names


@pytest.mark.parametrize("name", shipped_model_names())
def test_shipped_card_round_trips_byte_identically(name: str, tmp_path: Path) -> None:
    source = MODELS_DIR / name / f"{name}{CARD_SUFFIX}"
    card = load_card(source)
    assert card.architecture and card.onnx_output and card.torch_weights_sha256
    assert card.training is not None and "selection" in card.training
    assert card.file("data_config") == source.parent / "preprocess.json"
    assert card.save(tmp_path / source.name).read_bytes() == source.read_bytes()


def test_minimal_card_writes_only_what_it_has(tmp_path: Path) -> None:
    card = ModelCard(name="toy", version="1", sha256="0" * 64, metrics={"x": float("inf")})
    written = json.loads(card.save(tmp_path / f"toy{CARD_SUFFIX}").read_text())
    assert written == {
        "name": "toy",
        "version": "1",
        "sha256": "0" * 64,
        "output_labels": [],
        "training_samples": [],
        "metrics": {"x": None},
    }
    loaded = load_card(tmp_path / f"toy{CARD_SUFFIX}")
    assert loaded == ModelCard(name="toy", version="1", sha256="0" * 64, metrics={"x": None})
    with pytest.raises(ConfigError, match=r"toy\.card\.json: card lacks 'architecture'"):
        loaded.require("architecture")

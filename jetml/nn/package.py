"""A trained model as a folder: ONNX file, preprocess.json, torch weights and the model card.

Layout (``<name>`` is the model name)::

    <name>.onnx          the exported network (what the deployment runs)
    <name>.card.json     model card (jetml.inference.card.ModelCard)
    preprocess.json      data config: input groups, variables, standardisation
    <name>.pt            torch state dict, so ``jetml validate`` can rebuild the torch network
    grids.json           only for grid inputs (DeepTau): grid geometry and cell standardisation
                         (:class:`jetml.features.deeptau.GridConfig`), named by the card's
                         ``grid_config``

The card (:class:`jetml.inference.card.ModelCard`) records name, version, sha256 of the ONNX file,
of the weights and of preprocess.json / grids.json, the data config, output labels, training
samples (preset, events, seed), the command, the seeds, the architecture and its configuration,
whether the weights are trained, the parity result and the metrics.
Writing refuses a model whose ONNX export fails the parity check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from jetml import __version__
from jetml.errors import ConfigError, ModelIntegrityError
from jetml.features import DataConfig
from jetml.features.deeptau import GRID_CONFIG_FILE, GridConfig
from jetml.inference.card import CARD_SUFFIX, ModelCard, load_card
from jetml.inference.integrity import file_sha256
from jetml.nn.base import TaggerNet
from jetml.nn.data import TrainingSample
from jetml.nn.export import PARITY_TOLERANCE, ParityReport, check_parity, export_onnx
from jetml.nn.registry import build

PREPROCESS_JSON = "preprocess.json"


class ParityError(ModelIntegrityError):
    """The exported ONNX model disagrees with the torch network beyond the tolerance."""


def write_model(
    folder: str | Path,
    name: str,
    version: str,
    model: TaggerNet,
    data_config: DataConfig,
    parity_inputs: Mapping[str, np.ndarray],
    *,
    trained: bool,
    samples: Sequence[TrainingSample] = (),
    command: str = "",
    seeds: Mapping[str, int] | None = None,
    metrics: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
    notes: str = "",
    grid_config: GridConfig | None = None,
) -> Path:
    """Export ``model`` into ``folder`` with its data config, weights and card; return the card.

    ``parity_inputs`` (input name -> array, e.g. held-out jets) are run through torch and
    onnxruntime; a difference above :data:`PARITY_TOLERANCE` raises :class:`ParityError` and no
    card is written. ``grid_config`` describes the grid inputs that follow the data config's
    inputs (DeepTau); it is saved as ``grids.json``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    grid_inputs = list(grid_config.stats) if grid_config is not None else []
    if list(data_config.input_names) + grid_inputs != list(model.input_names):
        raise ConfigError(
            f"{name}: data config inputs {data_config.input_names + grid_inputs} differ from the "
            f"network's {list(model.input_names)}"
        )
    onnx_path = export_onnx(model, folder / f"{name}.onnx")
    report = check_parity(model, onnx_path, parity_inputs)
    if not report.passed:
        raise ParityError(
            f"{onnx_path}: torch vs onnxruntime max |diff| {report.max_abs_diff:.3g} exceeds "
            f"{PARITY_TOLERANCE:g}"
        )
    data_config.save_preprocess_json(folder / PREPROCESS_JSON)
    if grid_config is not None:
        grid_config.save(folder / GRID_CONFIG_FILE)
    weights_path = folder / f"{name}.pt"
    torch.save(model.state_dict(), weights_path)
    card = ModelCard(
        name=name,
        version=version,
        sha256=file_sha256(onnx_path),
        data_config=PREPROCESS_JSON,
        grid_config=GRID_CONFIG_FILE if grid_config is not None else None,
        output_labels=list(model.output_labels),
        training_samples=[s.describe() for s in samples],
        metrics=dict(metrics or {}),
        architecture=model.architecture,
        architecture_config=model.config(),
        onnx_output=model.output_name,
        trained=trained,
        torch_weights=weights_path.name,
        torch_weights_sha256=file_sha256(weights_path),
        samples=[vars(s) for s in samples],
        command=command,
        seeds=dict(seeds or {}),
        training=dict(training or {}),
        parity={
            "rows": len(report.torch_outputs),
            "max_abs_diff": report.max_abs_diff,
            "tolerance": PARITY_TOLERANCE,
        },
        jetml_version=__version__,
        torch_version=torch.__version__,
        notes=notes,
        path=folder / f"{name}{CARD_SUFFIX}",
    )
    card.pin_files()  # preprocess.json (and grids.json) are as much the model as the ONNX file
    card_path = card.save(folder / f"{name}{CARD_SUFFIX}")
    return card_path


@dataclass
class LoadedModel:
    """A model folder read back: the card, the torch network, the ONNX path."""

    card: ModelCard
    network: TaggerNet
    onnx_path: Path
    card_path: Path


def find_card(path: str | Path) -> Path:
    """The card of a model given as its folder, its ``.onnx`` or its card file."""
    path = Path(path)
    if path.is_dir():
        cards = sorted(path.glob(f"*{CARD_SUFFIX}"))
        if len(cards) != 1:
            raise ConfigError(
                f"{path}: expected exactly one *{CARD_SUFFIX} file, found {len(cards)}"
            )
        return cards[0]
    if path.name.endswith(CARD_SUFFIX):
        return path
    if path.suffix == ".onnx":
        return path.with_name(path.stem + CARD_SUFFIX)
    raise ConfigError(f"{path}: not a model folder, .onnx file or {CARD_SUFFIX} file")


def load_model(path: str | Path) -> LoadedModel:
    """Read a folder written by :func:`write_model`, verifying both sha256 sums."""
    card_path = find_card(path)
    card = load_card(card_path)
    architecture, config = card.require("architecture"), card.require("architecture_config")
    onnx_path = card_path.parent / f"{card.name}.onnx"
    weights_path = card.file("torch_weights")
    for file, expected, key in (
        (onnx_path, card.sha256, "sha256"),
        (weights_path, card.torch_weights_sha256, "torch_weights_sha256"),
    ):
        if not file.is_file():
            raise ModelIntegrityError(f"{file}: file named by {card_path.name} not found")
        if file_sha256(file) != expected:
            raise ModelIntegrityError(f"{file}: sha256 differs from {card_path.name} ({key})")
    network = build(architecture, config)
    network.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    network.eval()
    return LoadedModel(card, network, onnx_path, card_path)


def parity_of(loaded: LoadedModel, inputs: Mapping[str, np.ndarray]) -> ParityReport:
    """Torch vs onnxruntime on ``inputs`` for a loaded model folder."""
    return check_parity(loaded.network, loaded.onnx_path, inputs)

"""The model folders jetml ships in ``jetml/models/<name>/``, as the taggers deploy them.

Each folder holds ``<name>.onnx``, its card ``<name>.card.json`` (sha256, output labels, the
ONNX output name, the jet selection used in training) and ``preprocess.json`` (the data config
the training arrays were built with). :func:`load_shipped` reads all three and returns an
:class:`jetml.inference.OnnxModel` checked against the card's sha256, so a tagger runs exactly
the file the card describes.
"""

from __future__ import annotations

import abc
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import awkward as ak
import numpy as np

from jetml.errors import ConfigError
from jetml.features import DataConfig
from jetml.features.columns import columns_of
from jetml.inference import OnnxModel
from jetml.inference.card import CARD_SUFFIX, ModelCard, load_card
from jetml.labels import Discriminant
from jetml.taggers.base import Tagger

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where the shipped model folders live (package data)."""


@dataclass(frozen=True)
class TrainingSelection:
    """The jets a model was trained on: ``pt >= pt_min`` and ``|eta| < abs_eta_max``."""

    pt_min: float
    abs_eta_max: float

    def __call__(self, jets: ak.Array) -> ak.Array:
        """Jagged boolean mask of the jets inside the selection."""
        return (jets.pt >= self.pt_min) & (abs(jets.eta) < self.abs_eta_max)


@dataclass(frozen=True)
class ShippedModel:
    """One shipped model: the ONNX model, its data config, output and training selection."""

    name: str
    model: OnnxModel
    config: DataConfig
    output: str
    """Name of the ONNX output holding the scores (``softmax``, ``regression``)."""
    output_labels: tuple[str, ...]
    selection: TrainingSelection
    card: ModelCard


def config_digest(config: DataConfig) -> str:
    """sha256 of a data config's canonical preprocess.json content."""
    text = json.dumps(config.to_preprocess_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def shipped_model_names() -> list[str]:
    """Names of the model folders present in :data:`MODELS_DIR`."""
    if not MODELS_DIR.is_dir():
        return []
    return sorted(p.name for p in MODELS_DIR.iterdir() if (p / f"{p.name}.onnx").is_file())


def load_shipped(name: str, folder: str | Path | None = None) -> ShippedModel:
    """Read the shipped model ``name`` (from ``folder``, default ``MODELS_DIR/name``).

    Raises ConfigError when the folder, card or one of its fields is missing or disagrees with
    the ONNX file (an output it lacks, fewer labels than output columns), and
    ModelIntegrityError when the ONNX file or a file the card pins differs from its sha256.
    """
    folder = Path(folder) if folder is not None else MODELS_DIR / name
    card_file = folder / f"{name}{CARD_SUFFIX}"
    if not card_file.is_file():
        raise ConfigError(f"{card_file}: shipped model {name!r} has no model card")
    card = load_card(card_file)
    try:
        output = str(card.require("onnx_output"))
        selection = card.require("training")["selection"]
        jets = TrainingSelection(float(selection["pt_min"]), float(selection["abs_eta_max"]))
    except (ConfigError, KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"{card_file}: card lacks onnx_output or training.selection ({error!r})"
        ) from error
    model = OnnxModel(folder / f"{name}.onnx", sha256=card.sha256, name=name)
    if output not in model.declared_outputs:
        raise ConfigError(
            f"{card_file}: onnx_output {output!r} is not an output of {name}.onnx "
            f"({', '.join(model.declared_outputs)})"
        )
    width = model.declared_outputs[output]
    if width is not None and len(card.output_labels) != width:
        raise ConfigError(
            f"{card_file}: {len(card.output_labels)} output_labels for the {width} columns of "
            f"output {output!r}"
        )
    return ShippedModel(
        name=name,
        model=model,
        config=card.load_data_config(),
        output=output,
        output_labels=tuple(card.output_labels),
        selection=jets,
        card=card,
    )


class ShippedTagger(Tagger):
    """Base of the taggers running a shipped model on the jets of its training selection.

    Subclasses set :attr:`collection` and implement :meth:`model_inputs` (the variables the
    training code built, from the training code's own recipe). Classifiers set
    :attr:`discriminants` (scores formed from the class probabilities); otherwise the scores are
    the output columns named in :attr:`score_names` (regression).
    """

    discriminants: ClassVar[dict[str, Discriminant]] = {}

    def __init__(self, name: str, folder: str | Path | None = None) -> None:
        self.shipped = load_shipped(name, folder)
        self.name = name
        self.inputs_key: tuple[str, ...] = (
            type(self).__module__,
            type(self).__qualname__,
            config_digest(self.shipped.config),
        )
        """Taggers with equal keys build equal inputs for equal jets (same recipe and data
        config); within a chunk they share one build (:meth:`shared_model_inputs`)."""

    def select(self, jets: ak.Array) -> ak.Array:
        """The jets inside the training selection recorded in the model card."""
        return self.shipped.selection(jets)

    @abc.abstractmethod
    def model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        """Model inputs ``{input name: float32 array}`` of the jets ``events[collection][mask]``."""

    def scores(self, output: np.ndarray) -> dict[str, np.ndarray]:
        """Scores per :attr:`score_names` from the model output (one row per jet)."""
        columns = {label: output[:, i] for i, label in enumerate(self.shipped.output_labels)}
        if self.discriminants:
            return {name: score(columns) for name, score in self.discriminants.items()}
        return {name: columns[name] for name in self.score_names}

    def shared_model_inputs(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        """:meth:`model_inputs`, built once for consecutive taggers with the same
        :attr:`inputs_key` and jets (e.g. the three DeepAK8 models) inside
        :func:`jetml.features.columns.shared_columns`; built afresh otherwise. Only the latest
        build is kept, so a chunk never holds more than one set of inputs besides the one
        being built."""
        selected = np.ascontiguousarray(ak.to_numpy(ak.flatten(mask)), dtype=bool)
        key = (*self.inputs_key, selected.tobytes())
        built = columns_of(events).latest(
            "model_inputs", key, lambda: self.model_inputs(events, mask)
        )
        return dict(built)

    def model_output(self, events: ak.Array, mask: ak.Array) -> np.ndarray:
        """The model's output array for the selected jets, shape ``(n_jets, n_outputs)``."""
        inputs = self.shared_model_inputs(events, mask)
        return self.shipped.model.run(inputs)[self.shipped.output]

    def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
        output = self.model_output(events, mask)
        return {name: values.astype(np.float32) for name, values in self.scores(output).items()}

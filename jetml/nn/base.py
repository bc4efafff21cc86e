"""Common interface of the jetml networks: named inputs, named outputs, rebuildable config.

Every network takes weaver-style input groups, one float32 tensor per group shaped
``(batch, n_vars, length)`` (jet-level groups have ``length == 1``; the DeepTau-like grids are
``(batch, n_vars, n_eta, n_phi)``), so the arrays the deployment builds from a ``preprocess.json``
feed the exported ONNX model unchanged. Classifiers return softmax probabilities from
:meth:`forward` (what is exported) and logits from :meth:`TaggerNet.logits` (what is trained).
"""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import nn


def scaled(channels: int, width: float) -> int:
    """Channel count ``channels`` times the width multiplier, at least 1."""
    return max(1, round(channels * width))


class TaggerNet(nn.Module, metaclass=abc.ABCMeta):
    """Base class: subclasses fill the class attributes and implement :meth:`logits`."""

    architecture: str = ""
    """Registry key (``jetml.nn.registry``) that rebuilds the network from :meth:`config`."""
    output_name: str = "softmax"
    """Name of the exported ONNX output tensor."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self._config = dict(config)

    def config(self) -> dict[str, Any]:
        """Constructor arguments; ``registry.build(architecture, **config)`` rebuilds the net."""
        return dict(self._config)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the input groups, in the order :meth:`forward` takes them."""
        return tuple(self.input_shapes())

    @abc.abstractmethod
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of one jet's tensor for each input group, in forward order."""

    @property
    @abc.abstractmethod
    def output_labels(self) -> tuple[str, ...]:
        """Meaning of each output column (class labels, or regression quantities)."""

    def example_inputs(self, batch: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """Random float32 inputs of the right shapes (for export and tests)."""
        generator = torch.Generator().manual_seed(seed)
        return tuple(
            torch.randn((batch, *shape), generator=generator)
            for shape in self.input_shapes().values()
        )

    @abc.abstractmethod
    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Pre-softmax outputs (classifiers) or raw outputs (regression)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities (softmax of :meth:`logits`); regression nets override."""
        return torch.softmax(self.logits(*inputs), dim=1)

    def training_loss(self, inputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> torch.Tensor:
        """Per-batch loss: cross entropy on integer class labels (regression nets override)."""
        return nn.functional.cross_entropy(self.logits(*inputs), target.long())


class EmbeddingClassifier(TaggerNet):
    """A classifier split into :meth:`embed` (hidden features) and ``head`` (last layer).

    The mass-decorrelation adversary (:mod:`jetml.nn.adversarial`) reads :meth:`embed`.
    """

    head: nn.Module

    @abc.abstractmethod
    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Hidden features feeding the final classification layer, ``(batch, n_hidden)``."""

    @property
    @abc.abstractmethod
    def embedding_size(self) -> int:
        """Number of hidden features returned by :meth:`embed`."""

    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(*inputs))

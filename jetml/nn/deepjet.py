"""DeepJet (DeepFlavour): the CMS AK4 flavour tagger with 1x1 convolutions and LSTMs.

Architecture (arXiv:2008.10519; CMS-DP-2017-013; the Keras "model_deepFlavourReference"):

* inputs: 15 global jet features, 25 charged candidates x 16 features, 25 neutral candidates x 6
  features, 4 secondary vertices x 12 features (the shapes of CMSSW's DeepFlavour V03 model);
* every candidate list is batch-normalised, then 1x1 convolutions (a dense layer applied to each
  candidate) with 64, 32, 32, 8 filters (charged and SV) or 32, 16, 4 (neutral), ReLU, dropout;
* each list is summarised by an LSTM read from the last candidate to the first (Keras
  ``go_backwards=True``, so the most displaced candidate is read last): 150 units for charged, 50
  for neutral and SV candidates; the final hidden state is kept;
* concatenated with the batch-normalised global features, a dense layer of 200 units then seven of
  100 (ReLU, dropout), and 6 softmax outputs :data:`DEEPJET_CLASSES`. The dense layers start from
  He initialisation: with torch's default the signal fades through the eight-layer stack and
  training stalls for many epochs.

Inputs follow the weaver convention ``(batch, n_vars, length)``: ``global`` ``(15, 1)``, ``cpf``
``(16, 25)``, ``npf`` ``(6, 25)``, ``sv`` ``(12, 4)`` (CMSSW's ONNX model takes ``(25, 16)``, the
transpose). The LSTM exports as an ONNX ``LSTM`` node that onnxruntime runs natively. ``width``
multiplies every layer size. CMS's model has a second, regression output; jetml's does not.
"""

from __future__ import annotations

import torch
from torch import nn

from jetml.labels import DEEPJET_CLASSES
from jetml.nn.base import TaggerNet, scaled


def pointwise_stack(
    in_channels: int, channels: tuple[int, ...], dropout: float
) -> tuple[nn.Sequential, int]:
    """Batch norm then 1x1 convolutions with ReLU and dropout; returns (stack, out channels)."""
    layers: list[nn.Module] = [nn.BatchNorm1d(in_channels)]
    previous = in_channels
    for out in channels:
        layers += [nn.Conv1d(previous, out, 1), nn.ReLU(), nn.Dropout(dropout)]
        previous = out
    return nn.Sequential(*layers), previous


class BackwardLSTMSummary(nn.Module):
    """LSTM over a ``(batch, channels, length)`` sequence read backwards; final hidden state."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_channels, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence = torch.flip(x, dims=(2,)).transpose(1, 2)
        _, (hidden, _) = self.lstm(sequence)
        return hidden[-1]


class DeepJet(TaggerNet):
    """DeepJet classifier; see the module docstring for the architecture."""

    architecture = "deepjet"

    def __init__(
        self,
        n_global: int = 15,
        n_cpf_features: int = 16,
        n_npf_features: int = 6,
        n_sv_features: int = 12,
        cpf_length: int = 25,
        npf_length: int = 25,
        sv_length: int = 4,
        width: float = 1.0,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(
            n_global=n_global,
            n_cpf_features=n_cpf_features,
            n_npf_features=n_npf_features,
            n_sv_features=n_sv_features,
            cpf_length=cpf_length,
            npf_length=npf_length,
            sv_length=sv_length,
            width=width,
            dropout=dropout,
        )
        self._shapes = {
            "global": (n_global, 1),
            "cpf": (n_cpf_features, cpf_length),
            "npf": (n_npf_features, npf_length),
            "sv": (n_sv_features, sv_length),
        }

        def sizes(*channels: int) -> tuple[int, ...]:
            return tuple(scaled(c, width) for c in channels)

        self.global_norm = nn.BatchNorm1d(n_global)
        self.cpf_convs, cpf_out = pointwise_stack(n_cpf_features, sizes(64, 32, 32, 8), dropout)
        self.npf_convs, npf_out = pointwise_stack(n_npf_features, sizes(32, 16, 4), dropout)
        self.sv_convs, sv_out = pointwise_stack(n_sv_features, sizes(64, 32, 32, 8), dropout)
        self.cpf_lstm = BackwardLSTMSummary(cpf_out, scaled(150, width))
        self.npf_lstm = BackwardLSTMSummary(npf_out, scaled(50, width))
        self.sv_lstm = BackwardLSTMSummary(sv_out, scaled(50, width))
        dense: list[nn.Module] = []
        previous = n_global + scaled(150, width) + 2 * scaled(50, width)
        for units in sizes(200, *(100,) * 7):
            dense += [nn.Linear(previous, units), nn.ReLU(), nn.Dropout(dropout)]
            previous = units
        self.dense = nn.Sequential(*dense)
        self.head = nn.Linear(previous, len(DEEPJET_CLASSES))
        for layer in self.dense:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self._shapes)

    @property
    def output_labels(self) -> tuple[str, ...]:
        return DEEPJET_CLASSES

    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        global_features, cpf, npf, sv = inputs
        summary = torch.cat(
            [
                self.global_norm(global_features.flatten(1)),
                self.cpf_lstm(self.cpf_convs(cpf)),
                self.npf_lstm(self.npf_convs(npf)),
                self.sv_lstm(self.sv_convs(sv)),
            ],
            dim=1,
        )
        return self.head(self.dense(summary))

"""DeepDoubleX: the CMS double-b / double-c tagger for AK8 jets (BvL, CvB, CvL).

Architecture (CMS-DP-2018-046; the DeepDoubleX V2 network that CMSSW runs as
``DeepDoubleX/102X/V02``): four inputs with the V2 shapes -- 5 global jet features, 60 neutral
candidates x 8 features, 40 charged candidates x 21 features, 5 SVs x 7 features; each candidate
list is batch-normalised, passed through 1x1 convolutions (32, 32 filters, ReLU) and summarised by
a GRU of 50 units; the summaries and the batch-normalised global features feed a dense layer of
100 units and the softmax over :data:`DEEPDOUBLEX_CLASSES`.

How the discriminants are formed: CMS trains three separate binary networks, each with a
two-class softmax -- BvL = P(H->bb) against QCD, CvL = P(H->cc) against QCD, CvB = P(H->cc)
against H->bb. jetml trains one network with three classes (QCD, Hbb, Hcc) and forms each
discriminant as the ratio of the two class probabilities involved
(:data:`jetml.labels.DEEPDOUBLEX_DISCRIMINANTS`):

    BvL = p_Hbb / (p_Hbb + p_QCD),  CvL = p_Hcc / (p_Hcc + p_QCD),  CvB = p_Hcc / (p_Hcc + p_Hbb)

For a well-trained softmax each ratio is a monotonic function of the likelihood ratio of the two
hypotheses, which is what the corresponding binary network estimates; the two set-ups therefore
rank jets the same way in the ideal limit, and one network costs a third of the inference time.
Inputs follow the weaver convention ``(batch, n_vars, length)`` (global: length 1).
"""

from __future__ import annotations

import torch
from torch import nn

from jetml.labels import DEEPDOUBLEX_CLASSES
from jetml.nn.base import TaggerNet, scaled
from jetml.nn.deepjet import pointwise_stack


class GRUSummary(nn.Module):
    """GRU over a ``(batch, channels, length)`` sequence; final hidden state."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(in_channels, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, hidden = self.gru(x.transpose(1, 2))
        return hidden[-1]


class DeepDoubleX(TaggerNet):
    """DeepDoubleX three-class network; see the module docstring."""

    architecture = "deepdoublex"

    def __init__(
        self,
        n_global: int = 5,
        n_npf_features: int = 8,
        n_cpf_features: int = 21,
        n_sv_features: int = 7,
        npf_length: int = 60,
        cpf_length: int = 40,
        sv_length: int = 5,
        width: float = 1.0,
        dropout: float = 0.1,
    ) -> None:
        super().__init__(
            n_global=n_global,
            n_npf_features=n_npf_features,
            n_cpf_features=n_cpf_features,
            n_sv_features=n_sv_features,
            npf_length=npf_length,
            cpf_length=cpf_length,
            sv_length=sv_length,
            width=width,
            dropout=dropout,
        )
        self._shapes = {
            "global": (n_global, 1),
            "npf": (n_npf_features, npf_length),
            "cpf": (n_cpf_features, cpf_length),
            "sv": (n_sv_features, sv_length),
        }
        convs = (scaled(32, width), scaled(32, width))
        gru = scaled(50, width)
        self.global_norm = nn.BatchNorm1d(n_global)
        self.npf_convs, npf_out = pointwise_stack(n_npf_features, convs, dropout=0.0)
        self.cpf_convs, cpf_out = pointwise_stack(n_cpf_features, convs, dropout=0.0)
        self.sv_convs, sv_out = pointwise_stack(n_sv_features, convs, dropout=0.0)
        self.npf_gru = GRUSummary(npf_out, gru)
        self.cpf_gru = GRUSummary(cpf_out, gru)
        self.sv_gru = GRUSummary(sv_out, gru)
        self.dense = nn.Sequential(
            nn.Linear(n_global + 3 * gru, scaled(100, width)), nn.ReLU(), nn.Dropout(dropout)
        )
        self.head = nn.Linear(scaled(100, width), len(DEEPDOUBLEX_CLASSES))

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self._shapes)

    @property
    def output_labels(self) -> tuple[str, ...]:
        return DEEPDOUBLEX_CLASSES

    def logits(self, *inputs: torch.Tensor) -> torch.Tensor:
        global_features, npf, cpf, sv = inputs
        summary = torch.cat(
            [
                self.global_norm(global_features.flatten(1)),
                self.npf_gru(self.npf_convs(npf)),
                self.cpf_gru(self.cpf_convs(cpf)),
                self.sv_gru(self.sv_convs(sv)),
            ],
            dim=1,
        )
        return self.head(self.dense(summary))

"""DeepAK8: the CMS large-radius jet tagger as two 1D-CNN ResNets (CMS-JME-18-002).

Architecture (the CMS DeepBoostedJet V02 network, arXiv:2004.08262 section 5.2):

* particle branch: up to 100 particles (pT-descending), 42 features each, as ``(batch, 42, 100)``;
  a kernel-3 convolution to 32 channels, then 3 stages of 2 pre-activation residual units with
  64, 64 and 128 filters (kernel 3, stride 1);
* SV branch: up to 7 secondary vertices (dxy-significance-descending), 15 features, as
  ``(batch, 15, 7)``; a convolution to 32 channels, then 2 stages of 2 residual units with 32 and 64
  filters;
* global average pooling over each sequence, concatenation, a fully connected layer of 512 units
  (ReLU, dropout) and 17 softmax outputs (:data:`DEEPAK8_CLASSES`).

A residual unit is BN-ReLU-conv-BN-ReLU-conv with an identity shortcut, or a 1x1 convolution when
the channel count changes (the "v2" ResNet of He et al. that the MXNet original used).

``width`` multiplies every channel count and the FC size: ``width=1`` is the full-size network
(about 0.5 M parameters), ``width=0.25`` a lite one trainable on a CPU. ``n_pf_features`` and
``n_sv_features`` follow the inputs actually fed (the PFNano-computable subset and the input
ablation live in :mod:`jetml.features.deepak8`); ``n_sv_features=0`` drops the SV branch.
"""

from __future__ import annotations

import torch
from torch import nn

from jetml.features.deepak8 import PF_LENGTH, SV_LENGTH
from jetml.labels import DEEPAK8_CLASSES
from jetml.nn.base import EmbeddingClassifier, scaled

_KINEMATICS = (
    "pfcand_pt_log",
    "pfcand_ptrel_log",
    "pfcand_erel_log",
    "pfcand_phirel",
    "pfcand_etarel",
    "pfcand_deltaR",
    "pfcand_abseta",
    "pfcand_puppiw",
)
_SUBJET_DISTANCES = ("pfcand_drsubjet1", "pfcand_drsubjet2")
_PARTICLE_ID = (
    "pfcand_charge",
    "pfcand_isMu",
    "pfcand_isEl",
    "pfcand_isChargedHad",
    "pfcand_isGamma",
    "pfcand_isNeutralHad",
)
_TRACK_QUALITY = ("pfcand_VTX_ass", "pfcand_lostInnerHits", "pfcand_normchi2", "pfcand_quality")
_IMPACT_PARAMETERS = ("pfcand_dz", "pfcand_dzsig", "pfcand_dxy", "pfcand_dxysig")
_TRACK_COVARIANCE = (
    "pfcand_dptdpt",
    "pfcand_detadeta",
    "pfcand_dphidphi",
    "pfcand_dxydxy",
    "pfcand_dzdz",
    "pfcand_dxydz",
    "pfcand_dphidxy",
    "pfcand_dlambdadz",
)
_BTAG_3D = (
    "pfcand_btagEtaRel",
    "pfcand_btagPtRatio",
    "pfcand_btagPParRatio",
    "pfcand_btagSip3dVal",
    "pfcand_btagSip3dSig",
    "pfcand_btagJetDistVal",
)
_BTAG_2D = ("pfcand_btagSip2dVal", "pfcand_btagSip2dSig")

DEEPAK8_PF_FEATURES: tuple[str, ...] = (
    *_KINEMATICS,
    "pfcand_drminsv",
    *_SUBJET_DISTANCES,
    *_PARTICLE_ID,
    "pfcand_hcalFrac",
    *_TRACK_QUALITY,
    *_IMPACT_PARAMETERS,
    *_TRACK_COVARIANCE,
    *_BTAG_3D,
    *_BTAG_2D,
)
"""The 42 particle inputs of CMS DeepBoostedJet V02 (the 36 of the mass-decorrelated V02 list plus
the five particle-ID flags and the HCAL energy fraction), grouped by kind."""

DEEPAK8_SV_FEATURES: tuple[str, ...] = (
    "sv_pt_log",
    "sv_ptrel_log",
    "sv_erel_log",
    "sv_phirel",
    "sv_etarel",
    "sv_deltaR",
    "sv_abseta",
    "sv_mass",
    "sv_ntracks",
    "sv_normchi2",
    "sv_dxy",
    "sv_dxysig",
    "sv_d3d",
    "sv_d3dsig",
    "sv_costhetasvpv",
)
"""The 15 SV inputs of CMS DeepBoostedJet V02."""


class ResidualUnit1d(nn.Module):
    """Pre-activation residual unit: BN-ReLU-conv(k)-BN-ReLU-conv(k) plus shortcut."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.body = nn.Sequential(
            nn.BatchNorm1d(in_channels),
            nn.ReLU(),
            nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, bias=False),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Conv1d(out_channels, out_channels, kernel_size, padding=padding, bias=False),
        )
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv1d(in_channels, out_channels, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class ResNet1d(nn.Module):
    """Stem convolution then stages of residual units, ending in BN-ReLU and global averaging."""

    def __init__(
        self,
        in_channels: int,
        stem_channels: int,
        stage_channels: tuple[int, ...],
        units_per_stage: int = 2,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.BatchNorm1d(in_channels),
            nn.Conv1d(in_channels, stem_channels, kernel_size, padding=kernel_size // 2),
        ]
        channels = stem_channels
        for out_channels in stage_channels:
            for _ in range(units_per_stage):
                layers.append(ResidualUnit1d(channels, out_channels, kernel_size))
                channels = out_channels
        layers += [nn.BatchNorm1d(channels), nn.ReLU()]
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, features, length)`` -> ``(batch, out_channels)`` (mean over length)."""
        return self.layers(x).mean(dim=2)


class DeepAK8(EmbeddingClassifier):
    """DeepAK8 classifier; see the module docstring for the architecture."""

    architecture = "deepak8"

    def __init__(
        self,
        n_pf_features: int = len(DEEPAK8_PF_FEATURES),
        n_sv_features: int = len(DEEPAK8_SV_FEATURES),
        n_classes: int = len(DEEPAK8_CLASSES),
        width: float = 1.0,
        pf_length: int = PF_LENGTH,
        sv_length: int = SV_LENGTH,
        fc_size: int = 512,
        dropout: float = 0.1,
        class_names: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(
            n_pf_features=n_pf_features,
            n_sv_features=n_sv_features,
            n_classes=n_classes,
            width=width,
            pf_length=pf_length,
            sv_length=sv_length,
            fc_size=fc_size,
            dropout=dropout,
            class_names=class_names,
        )
        if n_pf_features < 1:
            raise ValueError("DeepAK8 needs at least one particle feature")
        names = tuple(class_names) if class_names else DEEPAK8_CLASSES[:n_classes]
        if len(names) != n_classes:
            raise ValueError(f"{len(names)} class names given for {n_classes} classes")
        self._class_names = names
        self.pf_length, self.sv_length = pf_length, sv_length
        self.n_pf_features, self.n_sv_features = n_pf_features, n_sv_features
        self.particles = ResNet1d(
            n_pf_features,
            scaled(32, width),
            tuple(scaled(c, width) for c in (64, 64, 128)),
        )
        pooled = self.particles.out_channels
        self.vertices: ResNet1d | None = None
        if n_sv_features > 0:
            self.vertices = ResNet1d(
                n_sv_features, scaled(32, width), tuple(scaled(c, width) for c in (32, 64))
            )
            pooled += self.vertices.out_channels
        self._embedding_size = scaled(fc_size, width)
        self.fc = nn.Sequential(
            nn.Linear(pooled, self._embedding_size), nn.ReLU(), nn.Dropout(dropout)
        )
        self.head = nn.Linear(self._embedding_size, n_classes)

    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"pf_features": (self.n_pf_features, self.pf_length)}
        if self.vertices is not None:
            shapes["sv_features"] = (self.n_sv_features, self.sv_length)
        return shapes

    @property
    def output_labels(self) -> tuple[str, ...]:
        return self._class_names

    @property
    def embedding_size(self) -> int:
        return self._embedding_size

    def embed(self, *inputs: torch.Tensor) -> torch.Tensor:
        pooled = [self.particles(inputs[0])]
        if self.vertices is not None:
            pooled.append(self.vertices(inputs[1]))
        return self.fc(torch.cat(pooled, dim=1))

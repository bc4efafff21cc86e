"""Reference networks with random weights, for timing and reproducibility studies.

* :class:`ReferenceDeepAK8`: the DeepAK8 (DeepBoostedJet) ResNet of :mod:`jetml.nn.deepak8` at full
  width (particle branch 42 x 100 -> conv 32 -> 3 stages x 2 residual units of 64, 64, 128
  filters; SV branch 15 x 7 -> conv 32 -> 2 stages of 32, 64; global average pooling; FC 512;
  17 softmax outputs). ``layout="cms"`` takes the inputs as the CMS (MXNet-exported) file does,
  ``(N, 42, 100, 1)`` and ``(N, 15, 7, 1)``; ``layout="conv1d"`` takes ``(N, 42, 100)``.
* :class:`DenseTagger`: a small DeepDoubleX-size dense network on the flattened DeepDoubleX
  inputs (1x5 + 60x8 + 40x21 + 5x7 = 1360 numbers) -> 128 -> 64 -> 2 softmax outputs.

Weights are random (seeded): the point is the arithmetic, not the physics. Export uses the
TorchScript exporter (``dynamo=False``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from jetml.features.deepak8 import PF_LENGTH, SV_LENGTH
from jetml.nn.deepak8 import DEEPAK8_PF_FEATURES, DEEPAK8_SV_FEATURES, DeepAK8

DEEPAK8_PF_SHAPE = (len(DEEPAK8_PF_FEATURES), PF_LENGTH)
DEEPAK8_SV_SHAPE = (len(DEEPAK8_SV_FEATURES), SV_LENGTH)
DDX_INPUT_SIZE = 1 * 5 + 60 * 8 + 40 * 21 + 5 * 7
LAYOUTS = ("cms", "conv1d")


class ReferenceDeepAK8(nn.Module):
    """Full-width :class:`~jetml.nn.deepak8.DeepAK8`: (pf, sv) -> softmax (N, 17), in a layout."""

    def __init__(self, layout: str = "cms") -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.layout = layout
        self.network = DeepAK8(width=1.0)

    def input_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Per-row shapes of (pf, sv) in this layout."""
        extra = (1,) if self.layout == "cms" else ()
        return (*DEEPAK8_PF_SHAPE, *extra), (*DEEPAK8_SV_SHAPE, *extra)

    def forward(self, pf: torch.Tensor, sv: torch.Tensor) -> torch.Tensor:
        if self.layout == "cms":  # drop the trailing unit axis of the MXNet-era input layout
            pf, sv = pf.squeeze(-1), sv.squeeze(-1)
        return self.network(pf, sv)


class DenseTagger(nn.Module):
    """Small dense network of DeepDoubleX input size: x (N,1360) -> softmax (N,2)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(DDX_INPUT_SIZE, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)


def randomise(module: nn.Module, seed: int) -> nn.Module:
    """Seeded random weights, including BatchNorm running statistics; eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
        for sub in module.modules():
            if isinstance(sub, (nn.BatchNorm1d, nn.BatchNorm2d)):
                sub.running_mean.copy_(torch.randn(sub.num_features, generator=generator) * 0.1)
                sub.running_var.copy_(torch.rand(sub.num_features, generator=generator) + 0.5)
                sub.weight.add_(1.0)
    return module.eval()


def count_flops(module: nn.Module, example: Sequence[torch.Tensor]) -> int:
    """Multiply-add FLOPs (2 per MAC) of the convolution and linear layers for one row."""
    total = 0

    def hook(layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
            positions = output[0, 0].numel()
            kernel = int(torch.tensor(layer.kernel_size).prod())
            macs = output.shape[1] * positions * layer.in_channels * kernel // layer.groups
        else:
            macs = layer.in_features * layer.out_features
        total += 2 * macs

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.no_grad():
            module(*(t[:1] for t in example))
    finally:
        for handle in handles:
            handle.remove()
    return total


def export_onnx(
    module: nn.Module,
    example: Sequence[torch.Tensor],
    path: str | Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    opset: int = 17,
) -> Path:
    """Export with a dynamic batch axis through the TorchScript exporter (``dynamo=False``)."""
    path = Path(path)
    axes = {name: {0: "N"} for name in (*input_names, *output_names)}
    with warnings.catch_warnings():
        # the TorchScript exporter is the one this project uses on purpose
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        torch.onnx.export(
            module,
            tuple(example),
            str(path),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return path


def deepak8_example(model: ReferenceDeepAK8, rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero inputs of the right shapes for ``model``'s layout."""
    pf_shape, sv_shape = model.input_shapes()
    return torch.zeros(rows, *pf_shape), torch.zeros(rows, *sv_shape)


def export_deepak8(path: str | Path, seed: int = 0, layout: str = "cms") -> Path:
    """Write the DeepAK8-like network (inputs ``pf``, ``sv``; output ``softmax``) to ``path``."""
    model = randomise(ReferenceDeepAK8(layout), seed)
    return export_onnx(model, deepak8_example(model), path, ["pf", "sv"], ["softmax"])


def export_dense(path: str | Path, seed: int = 0) -> Path:
    """Write the DeepDoubleX-size dense network (input ``x``; output ``softmax``) to ``path``."""
    model = randomise(DenseTagger(), seed)
    return export_onnx(model, (torch.zeros(2, DDX_INPUT_SIZE),), path, ["x"], ["softmax"])

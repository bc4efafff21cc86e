"""Architecture-faithful reference networks (random weights) for timing and reproducibility.

* :class:`DeepAK8Like`: the DeepAK8 (DeepBoostedJet) ResNet. Particle branch: 42 features x
  100 particles -> conv 32 -> 3 stages x 2 pre-activation residual units of 64, 64, 128
  filters (kernel 3, stride 1); SV branch: 15 x 7 -> conv 32 -> 2 stages x 2 units of 32, 64;
  global average pooling of both, concatenation, FC 512, 17 softmax outputs. ``layout="cms"``
  takes the inputs as the CMS (MXNet-exported) file does, ``(N, 42, 100, 1)`` with 2D convs of
  kernel (3, 1); ``layout="conv1d"`` takes ``(N, 42, 100)`` with 1D convs (same arithmetic).
* :class:`DenseTagger`: a small DeepDoubleX-size dense network on the flattened DeepDoubleX
  inputs (1x5 + 60x8 + 40x21 + 5x7 = 1360 numbers) -> 128 -> 64 -> 2 softmax outputs.

Weights are random (seeded): the point is the arithmetic, not the physics. Requires torch
(the ``train`` extra); export uses the TorchScript exporter (``dynamo=False``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

DEEPAK8_PF_SHAPE = (42, 100)
DEEPAK8_SV_SHAPE = (15, 7)
DEEPAK8_CLASSES = 17
DDX_INPUT_SIZE = 1 * 5 + 60 * 8 + 40 * 21 + 5 * 7


LAYOUTS = ("cms", "conv1d")


def _conv(c_in: int, c_out: int, kernel: int, layout: str) -> nn.Module:
    if layout == "cms":
        return nn.Conv2d(c_in, c_out, (kernel, 1), padding=(kernel // 2, 0), bias=False)
    return nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2, bias=False)


def _norm(channels: int, layout: str) -> nn.Module:
    return nn.BatchNorm2d(channels) if layout == "cms" else nn.BatchNorm1d(channels)


class ResidualUnit(nn.Module):
    """Pre-activation residual unit: BN-ReLU-Conv(k3)-BN-ReLU-Conv(k3) + shortcut."""

    def __init__(self, c_in: int, c_out: int, layout: str) -> None:
        super().__init__()
        self.bn1 = _norm(c_in, layout)
        self.conv1 = _conv(c_in, c_out, 3, layout)
        self.bn2 = _norm(c_out, layout)
        self.conv2 = _conv(c_out, c_out, 3, layout)
        self.shortcut = None if c_in == c_out else _conv(c_in, c_out, 1, layout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = torch.relu(self.bn1(x))
        out = self.conv2(torch.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


def _branch(c_in: int, stem: int, stages: Sequence[int], layout: str) -> nn.Sequential:
    layers: list[nn.Module] = [_conv(c_in, stem, 3, layout)]
    width = stem
    for filters in stages:
        for _ in range(2):
            layers.append(ResidualUnit(width, filters, layout))
            width = filters
    layers += [_norm(width, layout), nn.ReLU()]
    return nn.Sequential(*layers)


class DeepAK8Like(nn.Module):
    """DeepAK8 ResNet with random weights: (pf, sv) -> softmax (N, 17)."""

    def __init__(self, layout: str = "cms") -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        self.layout = layout
        self.pf = _branch(DEEPAK8_PF_SHAPE[0], 32, (64, 64, 128), layout)
        self.sv = _branch(DEEPAK8_SV_SHAPE[0], 32, (32, 64), layout)
        self.fc = nn.Sequential(nn.Linear(128 + 64, 512), nn.ReLU(), nn.Dropout(0.2))
        self.out = nn.Linear(512, DEEPAK8_CLASSES)

    def input_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Per-row shapes of (pf, sv) in this layout."""
        extra = (1,) if self.layout == "cms" else ()
        return (*DEEPAK8_PF_SHAPE, *extra), (*DEEPAK8_SV_SHAPE, *extra)

    def forward(self, pf: torch.Tensor, sv: torch.Tensor) -> torch.Tensor:
        pooled_pf = self.pf(pf).flatten(2).mean(dim=2)
        pooled_sv = self.sv(sv).flatten(2).mean(dim=2)
        hidden = self.fc(torch.cat([pooled_pf, pooled_sv], dim=1))
        return torch.softmax(self.out(hidden), dim=1)


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


def deepak8_example(model: DeepAK8Like, rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero inputs of the right shapes for ``model``'s layout."""
    pf_shape, sv_shape = model.input_shapes()
    return torch.zeros(rows, *pf_shape), torch.zeros(rows, *sv_shape)


def export_deepak8(path: str | Path, seed: int = 0, layout: str = "cms") -> Path:
    """Write the DeepAK8-like network (inputs ``pf``, ``sv``; output ``softmax``) to ``path``."""
    model = randomise(DeepAK8Like(layout), seed)
    return export_onnx(model, deepak8_example(model), path, ["pf", "sv"], ["softmax"])


def export_dense(path: str | Path, seed: int = 0) -> Path:
    """Write the DeepDoubleX-size dense network (input ``x``; output ``softmax``) to ``path``."""
    model = randomise(DenseTagger(), seed)
    return export_onnx(model, (torch.zeros(2, DDX_INPUT_SIZE),), path, ["x"], ["softmax"])

"""ONNX export of the jetml networks and the torch-vs-onnxruntime parity check.

Export uses the TorchScript-based exporter (``dynamo=False``: the dynamo exporter does not cover
every layer used here) with a dynamic batch axis ``N`` on every input and on the output, so one
file serves any batch size. Parity runs the same rows through the torch model (eval mode) and an
onnxruntime session and reports the largest absolute difference per output; the CMS integration of
DeepFlavour was validated the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from jetml.nn.base import TaggerNet

PARITY_TOLERANCE = 1e-5
"""Largest |torch - onnxruntime| accepted for any output of any jet."""
OPSET = 17


def export_onnx(model: TaggerNet, path: str | Path, opset: int = OPSET) -> Path:
    """Write ``model`` (eval mode) as ONNX with inputs ``model.input_names`` and one output
    ``model.output_name``, batch axis dynamic. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    names = list(model.input_names)
    axes = {name: {0: "N"} for name in [*names, model.output_name]}
    with torch.no_grad():
        torch.onnx.export(
            model,
            model.example_inputs(batch=2),
            str(path),
            input_names=names,
            output_names=[model.output_name],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return path


def onnx_session(path: str | Path) -> ort.InferenceSession:
    """A single-threaded CPU session (the deployment's default options)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class ParityReport:
    """Outputs of both back-ends on the same rows and their largest absolute difference."""

    torch_outputs: np.ndarray
    onnx_outputs: np.ndarray
    max_abs_diff: float
    per_output_max_abs_diff: tuple[float, ...]
    tolerance: float

    @property
    def passed(self) -> bool:
        """True when every difference is within the tolerance (and nothing is NaN)."""
        return bool(np.isfinite(self.max_abs_diff) and self.max_abs_diff <= self.tolerance)


def check_parity(
    model: TaggerNet,
    onnx_path: str | Path,
    inputs: Mapping[str, np.ndarray],
    tolerance: float = PARITY_TOLERANCE,
    batch_size: int = 512,
) -> ParityReport:
    """Run ``inputs`` (input name -> float32 array) through torch and onnxruntime and compare."""
    model.eval()
    names = model.input_names
    arrays = {n: np.ascontiguousarray(inputs[n], dtype=np.float32) for n in names}
    n_rows = len(arrays[names[0]])
    session = onnx_session(onnx_path)
    torch_parts, onnx_parts = [], []
    with torch.no_grad():
        for start in range(0, n_rows, batch_size):
            batch = {n: a[start : start + batch_size] for n, a in arrays.items()}
            torch_parts.append(model(*(torch.from_numpy(batch[n]) for n in names)).numpy())
            onnx_parts.append(session.run([model.output_name], batch)[0])
    n_outputs = len(model.output_labels)
    empty = np.zeros((0, n_outputs), dtype=np.float32)
    torch_out = np.concatenate(torch_parts) if torch_parts else empty
    onnx_out = np.concatenate(onnx_parts) if onnx_parts else empty
    diff = np.abs(torch_out.astype(np.float64) - onnx_out.astype(np.float64))
    per_output = tuple(float(d) for d in (diff.max(axis=0) if len(diff) else np.zeros(n_outputs)))
    worst = float(np.nan) if np.isnan(diff).any() else max(per_output, default=0.0)
    return ParityReport(torch_out, onnx_out, worst, per_output, tolerance)

"""The training framework's side of the inference-timing study: torch eager vs ONNX Runtime.

For a shipped tagger, :func:`framework_cases` loads the torch network the ONNX file was exported
from (``jetml/models/<name>/<name>.pt`` via :func:`jetml.nn.package.load_model`, sha256-checked)
and adds to the ONNX Runtime cases of :func:`jetml.timing.ort_cases` torch eager batched (same
batch size as the tagger's OnnxModel) and torch eager one jet per call, on the same inputs.
torch runs with one thread (``torch.set_num_threads(1)``), like the ONNX Runtime sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from jetml.nn.package import load_model
from jetml.taggers.shipped import MODELS_DIR
from jetml.timing import TaggerInputs, ort_cases

TORCH_BATCHED = "torch eager batched"
TORCH_PER_JET = "torch eager 1 jet/call"


@contextmanager
def torch_threads(threads: int = 1) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` inside the block, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def torch_runner(name: str, batch_size: int) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """A function running the shipped model ``name``'s torch network (eval mode, no autograd)
    on input arrays in batches of ``batch_size`` rows; returns the concatenated output."""
    network = load_model(MODELS_DIR / name).network
    names = network.input_names

    def run(inputs: dict[str, np.ndarray]) -> np.ndarray:
        rows = len(inputs[names[0]])
        tensors = [torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in names]
        with torch.inference_mode():
            parts = [
                network(*(t[start : start + batch_size] for t in tensors))
                for start in range(0, rows, batch_size)
            ]
        return torch.cat(parts).numpy()

    return run


def framework_cases(
    built: TaggerInputs, per_jet_jets: int
) -> dict[str, tuple[Callable[[], object], int]]:
    """torch eager and ONNX Runtime, each batched and one jet per call (first
    ``per_jet_jets`` jets), as ``{case: (function, jets)}`` for :func:`jetml.timing.measure`."""
    batch = built.tagger.shipped.model.batch_size
    batched = torch_runner(built.tagger.name, batch)
    single = torch_runner(built.tagger.name, 1)
    n = min(per_jet_jets, built.jets)
    few = built.rows(n)
    return {
        TORCH_BATCHED: (lambda: batched(built.inputs), built.jets),
        TORCH_PER_JET: (lambda: single(few), n),
        **ort_cases(built, per_jet_jets),
    }


def max_difference(built: TaggerInputs) -> float:
    """Largest |torch - ONNX Runtime| over all outputs of the selected jets."""
    model = built.tagger.shipped
    torch_out = torch_runner(built.tagger.name, model.model.batch_size)(built.inputs)
    ort_out = model.model.run(built.inputs)[model.output]
    return float(np.max(np.abs(torch_out.astype(np.float64) - ort_out.astype(np.float64))))

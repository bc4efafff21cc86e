"""``OnnxModel``: one ONNX Runtime session per process, shared by all threads and chunks.

CMSSW runs each tagger with a single ``Ort::Session`` per process, owned by the framework,
with ONNX Runtime's own thread pools disabled (1 intra-op and 1 inter-op thread) so the
framework's threads are the only parallelism. jetml does the same in Python:

* the session lives in a process-wide cache keyed by (sha256 of the file, providers, options)
  and is created lazily, under a lock, the first time any :class:`OnnxModel` needs it;
* an :class:`OnnxModel` pickles as path + sha256 + options only, so shipping it to a worker
  (dask, a process pool, a coffea processor unpickled per chunk) reuses that worker's session;
* rows are split into batches of ``batch_size`` and the outputs concatenated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from jetml.errors import ConfigError, ModelInputError, ModelIntegrityError
from jetml.inference import counters
from jetml.inference.card import card_path_for, load_card
from jetml.inference.integrity import external_data_files, parse_model, read_model_bytes

#: Rows per ``session.run`` call, chosen from ``benchmarks/bench_inference.py``: the small dense
#: model reaches its best throughput at 256 rows (15-18x batch 1; 1024+ rows spill out of cache),
#: while the convolution-bound DeepAK8 model is within noise of its best from 16 rows upward.
DEFAULT_BATCH_SIZE = 256

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

_EXECUTION_MODES = {
    "sequential": ort.ExecutionMode.ORT_SEQUENTIAL,
    "parallel": ort.ExecutionMode.ORT_PARALLEL,
}
_OPTIMIZATION_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
_ONNX_TO_NUMPY = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(double)": np.dtype(np.float64),
    "tensor(float16)": np.dtype(np.float16),
    "tensor(int64)": np.dtype(np.int64),
    "tensor(int32)": np.dtype(np.int32),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(uint8)": np.dtype(np.uint8),
    "tensor(bool)": np.dtype(np.bool_),
}

# What onnxruntime raises for a model it cannot load or inputs it cannot run.
_ORT_ERRORS: tuple[type[Exception], ...] = (
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.InvalidGraph,
    ort_state.InvalidProtobuf,
    ort_state.NoSuchFile,
    ort_state.NotImplemented,
    ort_state.RuntimeException,
    ort_state.EPFail,
)

_SESSION_LOCK = threading.Lock()
_SESSIONS: dict[tuple[Any, ...], ort.InferenceSession] = {}


def sessions_in_process() -> int:
    """How many ONNX Runtime sessions this process's cache holds."""
    with _SESSION_LOCK:
        return len(_SESSIONS)


def clear_session_cache() -> None:
    """Drop every cached session of this process (the next run creates them again)."""
    with _SESSION_LOCK:
        _SESSIONS.clear()


@dataclass(frozen=True)
class TensorSpec:
    """Name, numpy dtype and shape (ints for fixed dims, str/None for symbolic) of a tensor."""

    name: str
    dtype: np.dtype
    shape: tuple[int | str | None, ...]


def _spec(arg: Any) -> TensorSpec:
    dtype = _ONNX_TO_NUMPY.get(arg.type)
    if dtype is None:
        raise ModelInputError(f"tensor '{arg.name}' has unsupported type {arg.type}")
    return TensorSpec(arg.name, dtype, tuple(arg.shape))


def _resolve_providers(providers: Sequence[str] | None, label: str) -> tuple[str, ...]:
    """Check requested execution providers against this onnxruntime build."""
    if providers is None:
        return (CPU,)
    if isinstance(providers, str):
        providers = (providers,)
    resolved = tuple(providers)
    if not resolved:
        raise ConfigError(f"model {label}: empty providers list")
    available = ort.get_available_providers()
    for name in resolved:
        if name not in available:
            raise ConfigError(
                f"model {label}: execution provider {name} was requested but this onnxruntime "
                f"build offers only {', '.join(available)}"
                + (" (CUDA needs the onnxruntime-gpu package and a GPU)" if name == CUDA else "")
            )
    return resolved


def _declared_outputs(model: onnx.ModelProto) -> dict[str, int | None]:
    """Output name -> size of its last axis as the graph declares it (None: dynamic or scalar).

    Read from the file, so a card naming an output the model lacks, or fewer labels than the
    output has columns, is refused without building a session.
    """
    declared: dict[str, int | None] = {}
    for output in model.graph.output:
        dims = output.type.tensor_type.shape.dim
        last = dims[-1] if len(dims) else None
        declared[output.name] = (
            int(last.dim_value) if last is not None and last.HasField("dim_value") else None
        )
    return declared


class OnnxModel:
    """An ONNX model whose session is created lazily and shared process-wide."""

    def __init__(
        self,
        path: str | Path,
        *,
        sha256: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        providers: Sequence[str] | None = None,
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
        execution_mode: str = "sequential",
        optimization_level: str = "all",
        name: str | None = None,
    ) -> None:
        self.path = Path(path).absolute()
        self.label = name or f"{self.path.parent.name}/{self.path.name}"
        if batch_size < 1:
            raise ConfigError(f"model {self.label}: batch_size must be >= 1, got {batch_size}")
        if execution_mode not in _EXECUTION_MODES:
            raise ConfigError(
                f"model {self.label}: execution_mode must be one of {sorted(_EXECUTION_MODES)}"
            )
        if optimization_level not in _OPTIMIZATION_LEVELS:
            raise ConfigError(
                f"model {self.label}: optimization_level must be one of "
                f"{sorted(_OPTIMIZATION_LEVELS)}"
            )
        if intra_op_threads < 0 or inter_op_threads < 0:
            raise ConfigError(f"model {self.label}: thread counts must be >= 0 (0 = ORT default)")
        self.batch_size = int(batch_size)
        self.providers = _resolve_providers(providers, self.label)
        self.intra_op_threads = int(intra_op_threads)
        self.inter_op_threads = int(inter_op_threads)
        self.execution_mode = execution_mode
        self.optimization_level = optimization_level
        expected = sha256.lower() if sha256 is not None else None
        card_file = card_path_for(self.path)
        if card_file.is_file():
            card = load_card(card_file)
            if expected is not None and card.sha256.lower() != expected:
                raise ModelIntegrityError(
                    f"{self.path}: sha256 given ({expected}) differs from its model card "
                    f"{card_file.name} ({card.sha256})"
                )
            expected = card.sha256.lower()
        data, digest = read_model_bytes(self.path, expected)
        graph = parse_model(data, self.path)
        external_data_files(graph, self.path)
        self.sha256 = digest
        self.declared_outputs = _declared_outputs(graph)

    # -- pickling: path, sha256 and options only; the session stays in its process ------------
    def __getstate__(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "label": self.label,
            "sha256": self.sha256,
            "batch_size": self.batch_size,
            "providers": self.providers,
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": self.inter_op_threads,
            "execution_mode": self.execution_mode,
            "optimization_level": self.optimization_level,
            "declared_outputs": self.declared_outputs,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.path = Path(state["path"])

    def __repr__(self) -> str:
        return f"OnnxModel({self.label!r}, sha256={self.sha256[:12]}…, providers={self.providers})"

    # -- session --------------------------------------------------------------------------------
    @property
    def cache_key(self) -> tuple[Any, ...]:
        """Key of this model's session in the process-wide cache."""
        return (
            self.sha256,
            self.providers,
            self.intra_op_threads,
            self.inter_op_threads,
            self.execution_mode,
            self.optimization_level,
        )

    def session(self) -> ort.InferenceSession:
        """This process's shared session for the model (created on first use)."""
        key = self.cache_key
        session = _SESSIONS.get(key)
        if session is not None:
            return session
        with _SESSION_LOCK:
            session = _SESSIONS.get(key)
            if session is None:
                session = self._create_session()
                _SESSIONS[key] = session
                counters.record(self.label, sessions_created=1)
        return session

    def _create_session(self) -> ort.InferenceSession:
        """Verify the file's bytes against the recorded sha256, then build the session."""
        data, _ = read_model_bytes(self.path, self.sha256)
        has_external = bool(external_data_files(parse_model(data, self.path), self.path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = self.inter_op_threads
        options.execution_mode = _EXECUTION_MODES[self.execution_mode]
        options.graph_optimization_level = _OPTIMIZATION_LEVELS[self.optimization_level]
        source: str | bytes = str(self.path) if has_external else data
        try:
            session = ort.InferenceSession(source, options, providers=list(self.providers))
        except _ORT_ERRORS as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelIntegrityError(f"{self.path}: onnxruntime cannot load it ({first})") from exc
        missing = [p for p in self.providers if p not in session.get_providers()]
        if missing:
            raise ConfigError(
                f"model {self.label}: onnxruntime could not enable {', '.join(missing)} "
                f"(session runs on {', '.join(session.get_providers())})"
            )
        return session

    # -- signature ------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[TensorSpec]:
        """Input tensors of the model (initializers excluded)."""
        return [_spec(a) for a in self.session().get_inputs()]

    @property
    def outputs(self) -> list[TensorSpec]:
        """Output tensors of the model."""
        return [_spec(a) for a in self.session().get_outputs()]

    @property
    def input_names(self) -> list[str]:
        return [a.name for a in self.session().get_inputs()]

    @property
    def output_names(self) -> list[str]:
        return [a.name for a in self.session().get_outputs()]

    def _validated(self, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], int]:
        """Check names, dtypes and shapes against the signature; return arrays and row count."""
        specs = self.inputs
        names = [s.name for s in specs]
        missing = [n for n in names if n not in inputs]
        unknown = [n for n in inputs if n not in names]
        if missing or unknown:
            raise ModelInputError(
                f"model {self.label}: missing inputs {missing}, unknown inputs {unknown} "
                f"(model inputs: {names})"
            )
        arrays: dict[str, np.ndarray] = {}
        symbols: dict[str, tuple[int, str]] = {}
        rows: int | None = None
        for spec in specs:
            array = np.asarray(inputs[spec.name])
            expected = tuple("?" if not isinstance(d, int) else d for d in spec.shape)
            if array.dtype != spec.dtype:
                raise ModelInputError(
                    f"model {self.label}: input '{spec.name}' has dtype {array.dtype}, "
                    f"model expects {spec.dtype} with shape {expected}"
                )
            if array.ndim != len(spec.shape):
                raise ModelInputError(
                    f"model {self.label}: input '{spec.name}' has shape {array.shape}, "
                    f"model expects {expected}"
                )
            for axis, (dim, size) in enumerate(zip(spec.shape, array.shape, strict=True)):
                if isinstance(dim, int) and dim > 0 and axis > 0 and dim != size:
                    raise ModelInputError(
                        f"model {self.label}: input '{spec.name}' has shape {array.shape}, "
                        f"model expects {expected}"
                    )
                if isinstance(dim, str) and axis > 0:
                    seen = symbols.setdefault(dim, (size, spec.name))
                    if seen[0] != size:
                        raise ModelInputError(
                            f"model {self.label}: input '{spec.name}' has shape {array.shape} "
                            f"but dimension '{dim}' is {seen[0]} in input '{seen[1]}'"
                        )
            if rows is None:
                rows = array.shape[0]
            elif array.shape[0] != rows:
                raise ModelInputError(
                    f"model {self.label}: input '{spec.name}' has {array.shape[0]} rows, "
                    f"other inputs have {rows}"
                )
            arrays[spec.name] = np.ascontiguousarray(array)
        return arrays, rows or 0

    def _batch_rows(self) -> int:
        """Rows per call: the model's fixed batch dimension if it has one, else batch_size."""
        fixed = {s.shape[0] for s in self.inputs if isinstance(s.shape[0], int) and s.shape[0] > 0}
        return fixed.pop() if len(fixed) == 1 else self.batch_size

    def run(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Run the model on all rows (in batches) and return ``{output_name: array}``."""
        arrays, rows = self._validated(inputs)
        outputs = self.outputs
        if rows == 0:
            return {
                o.name: np.zeros(
                    (0, *(d if isinstance(d, int) else 0 for d in o.shape[1:])), dtype=o.dtype
                )
                for o in outputs
            }
        session = self.session()
        names = [o.name for o in outputs]
        step = self._batch_rows()
        if rows % step and step != self.batch_size:
            raise ModelInputError(
                f"model {self.label}: has a fixed batch of {step} rows, got {rows} rows"
            )
        pieces: list[list[np.ndarray]] = []
        start_time = time.perf_counter()
        for start in range(0, rows, step):
            feed = {k: v[start : start + step] for k, v in arrays.items()}
            try:
                pieces.append(session.run(names, feed))
            except _ORT_ERRORS as exc:
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                stop = min(start + step, rows)
                shapes = {k: v.shape[1:] for k, v in feed.items()}
                raise ModelInputError(
                    f"model {self.label}: onnxruntime rejected rows {start}-{stop} "
                    f"(per-row shapes {shapes}): {message}"
                ) from exc
        elapsed = time.perf_counter() - start_time
        counters.record(self.label, calls=1, rows=rows, batches=len(pieces), run_seconds=elapsed)
        if len(pieces) == 1:
            return dict(zip(names, pieces[0], strict=True))
        return {
            name: np.concatenate([p[i] for p in pieces], axis=0) for i, name in enumerate(names)
        }

"""Model integrity: sha256 of model files, ONNX parsing, and external-data path checks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from jetml.errors import ModelIntegrityError


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    return bytes_sha256(Path(path).read_bytes())


def bytes_sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_model_bytes(path: Path, expected_sha256: str | None = None) -> tuple[bytes, str]:
    """Read a model file and return (bytes, sha256), refusing a missing file or a mismatch."""
    if not path.is_file():
        raise ModelIntegrityError(f"{path}: model file not found")
    data = path.read_bytes()
    digest = bytes_sha256(data)
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ModelIntegrityError(
            f"{path}: sha256 mismatch (expected {expected_sha256}, file has {digest}); "
            "refusing to run a model that differs from the recorded one"
        )
    return data, digest


def parse_model(data: bytes, path: Path) -> onnx.ModelProto:
    """Parse ONNX bytes (without loading external data), refusing anything that is not ONNX."""
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise ModelIntegrityError(f"{path}: not an ONNX model ({exc})") from exc
    if not model.HasField("graph") or not model.graph.node:
        raise ModelIntegrityError(f"{path}: not an ONNX model (no graph nodes)")
    return model


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in a graph: initializers, constants, and those of subgraphs."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                yield from _tensors(attr.g)
            for sub in attr.graphs:
                yield from _tensors(sub)


def external_data_files(model: onnx.ModelProto, path: Path) -> list[Path]:
    """Files the model's external-data tensors point to; refuse any outside the model folder."""
    folder = path.parent.resolve()
    files: list[Path] = []
    for tensor in _tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), None)
        if not location:
            raise ModelIntegrityError(
                f"{path}: tensor '{tensor.name}' has external data without a location"
            )
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ModelIntegrityError(
                f"{path}: tensor '{tensor.name}' reads external data from '{location}', "
                "outside the model's folder; refused"
            )
        if target not in files:
            files.append(target)
    return files

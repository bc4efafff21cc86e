"""Model hygiene: repair ONNX files that list their weights as graph inputs, integrity intact.

Exporters such as MXNet's (CMS DeepAK8 V02) list every initializer (weight) also as a graph
input. ONNX Runtime must then treat the weights as overridable inputs: it warns, and it skips
constant folding and the fusions that need constant weights, which makes these models run
about 2x slower. Removing those names from ``graph.input`` changes no computation.

Integrity is kept end to end: the *original* file is hashed and compared with the expected
sha256 before anything is derived from it (:class:`ModelIntegrityError` otherwise). The
repaired bytes are written once into a cache folder, under a name made from the original's
sha256, and the sha256 of the freshly derived bytes is returned so the session loader checks the
cached copy against it: a tampered original and a tampered cache are both refused.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx

from jetml.inference.integrity import bytes_sha256, file_sha256, parse_model, read_model_bytes

CACHE_ENV = "JETML_CACHE_DIR"
"""Environment variable naming the folder for repaired model copies."""
_REPAIR_TAG = "noinitinputs"


def default_cache_dir() -> Path:
    """Folder for repaired copies: ``$JETML_CACHE_DIR`` or ``~/.cache/jetml/models``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "jetml" / "models"


def initializers_listed_as_inputs(model: onnx.ModelProto) -> list[str]:
    """Names that are both initializers and graph inputs (what the repair removes)."""
    weights = {init.name for init in model.graph.initializer}
    return [inp.name for inp in model.graph.input if inp.name in weights]


def remove_initializers_from_inputs(model: onnx.ModelProto) -> int:
    """Drop initializer names from ``model.graph.input`` in place; returns how many were removed."""
    weights = {init.name for init in model.graph.initializer}
    kept = [inp for inp in model.graph.input if inp.name not in weights]
    removed = len(model.graph.input) - len(kept)
    if removed:
        del model.graph.input[:]
        model.graph.input.extend(kept)
    return removed


@dataclass(frozen=True)
class RepairedModel:
    """Where a model's repaired copy lives and the checksums that vouch for it."""

    original: Path
    original_sha256: str
    path: Path
    """File to load: the cached repaired copy, or ``original`` when nothing needed repair."""
    sha256: str
    """sha256 of :attr:`path`'s expected content, derived from the verified original."""
    removed_inputs: int


def repair_model(
    path: str | Path, *, sha256: str | None = None, cache_dir: str | Path | None = None
) -> RepairedModel:
    """Verify ``path`` against ``sha256`` and return a loadable copy without weight inputs.

    Models that need no repair are returned as they are. Otherwise the repaired copy is written
    atomically to ``cache_dir`` (default :func:`default_cache_dir`) as
    ``<original sha256>.noinitinputs.onnx`` and reused by later calls and processes.
    """
    original = Path(path)
    data, original_sha = read_model_bytes(original, sha256)
    model = parse_model(data, original)
    removed = remove_initializers_from_inputs(model)
    if not removed:
        return RepairedModel(original, original_sha, original, original_sha, 0)
    repaired = model.SerializeToString()
    repaired_sha = bytes_sha256(repaired)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / f"{original_sha}.{_REPAIR_TAG}.onnx"
    if not (target.is_file() and file_sha256(target) == repaired_sha):
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
            tmp.write(repaired)
        os.replace(tmp.name, target)
    return RepairedModel(original, original_sha, target, repaired_sha, removed)

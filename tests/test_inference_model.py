"""OnnxModel: shared session cache, pickling, batching, validation, integrity."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx_factory import dense_model, masked_sum_model

from jetml.errors import ConfigError, ModelInputError, ModelIntegrityError
from jetml.inference import (
    OnnxModel,
    clear_session_cache,
    counters,
    sessions_in_process,
    write_card,
)


@pytest.fixture
def dense(tmp_path: Path) -> Path:
    return dense_model(tmp_path / "dense.onnx")


def _reference(x: np.ndarray, path: Path) -> np.ndarray:
    import onnx
    from onnx import numpy_helper

    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    logits = x.astype(np.float64) @ inits["W"] + inits["b"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_run_matches_numpy_and_batches(dense: Path) -> None:
    x = np.random.default_rng(3).normal(size=(1000, 4)).astype(np.float32)
    counters.reset()
    model = OnnxModel(dense, batch_size=64)
    out = model.run({"x": x})
    assert model.input_names == ["x"] and model.output_names == ["prob"]
    assert out["prob"].shape == (1000, 3) and out["prob"].dtype == np.float32
    np.testing.assert_allclose(out["prob"], _reference(x, dense), rtol=1e-5, atol=1e-6)
    snap = counters.snapshot()[model.label]
    assert snap["rows"] == 1000 and snap["calls"] == 1 and snap["batches"] == 16
    assert snap["run_seconds"] > 0


def test_empty_input_returns_shaped_empty_outputs(dense: Path) -> None:
    counters.reset()
    model = OnnxModel(dense)
    out = model.run({"x": np.zeros((0, 4), dtype=np.float32)})
    assert out["prob"].shape == (0, 3) and out["prob"].dtype == np.float32
    assert counters.snapshot().get(model.label, {}).get("calls", 0) == 0


def test_one_session_per_process_shared_and_pickled(dense: Path) -> None:
    clear_session_cache()
    counters.reset()
    first = OnnxModel(dense)
    second = OnnxModel(dense)
    clone = pickle.loads(pickle.dumps(first))
    assert b"InferenceSession" not in pickle.dumps(first)
    x = np.ones((5, 4), dtype=np.float32)
    for model in (first, second, clone):
        model.run({"x": x})
    assert first.session() is second.session() is clone.session()
    assert sessions_in_process() == 1
    assert counters.snapshot()[first.label]["sessions_created"] == 1
    # different options -> a different session
    OnnxModel(dense, intra_op_threads=2).run({"x": x})
    assert sessions_in_process() == 2


def test_signature_validation(tmp_path: Path) -> None:
    model = OnnxModel(masked_sum_model(tmp_path / "ms.onnx", n_vars=3, length=5))
    good = {
        "features": np.ones((2, 3, 5), dtype=np.float32),
        "mask": np.ones((2, 1, 5), dtype=np.float32),
    }
    np.testing.assert_array_equal(model.run(good)["total"], np.full((2, 3), 5.0))
    with pytest.raises(ModelInputError, match=r"'features' has shape \(2, 4, 5\).*\('\?', 3, 5\)"):
        model.run({**good, "features": np.ones((2, 4, 5), dtype=np.float32)})
    with pytest.raises(ModelInputError, match="'features' has dtype float64"):
        model.run({**good, "features": np.ones((2, 3, 5))})
    with pytest.raises(ModelInputError, match=r"missing inputs \['mask'\]"):
        model.run({"features": good["features"]})
    with pytest.raises(ModelInputError, match=r"unknown inputs \['extra'\]"):
        model.run({**good, "extra": good["mask"]})
    with pytest.raises(ModelInputError, match="3 rows, other inputs have 2"):
        model.run({**good, "mask": np.ones((3, 1, 5), dtype=np.float32)})


def test_missing_and_non_onnx_files(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="model file not found"):
        OnnxModel(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf \x00\xff" * 10)
    with pytest.raises(ModelIntegrityError, match="not an ONNX model"):
        OnnxModel(junk)


def test_sha256_mismatch_and_model_card(dense: Path) -> None:
    good = OnnxModel(dense).sha256
    with pytest.raises(ModelIntegrityError, match="sha256 mismatch"):
        OnnxModel(dense, sha256="0" * 64)
    card = write_card(dense, name="dense", version="1", output_labels=["a", "b", "c"])
    assert card.sha256 == good
    assert OnnxModel(dense).sha256 == good
    # tamper with the model: the card no longer matches and the model never runs
    dense.write_bytes(dense.read_bytes() + b"\x00")
    with pytest.raises(ModelIntegrityError, match="sha256 mismatch"):
        OnnxModel(dense)


def test_file_swapped_after_construction_never_runs(tmp_path: Path) -> None:
    clear_session_cache()
    path = dense_model(tmp_path / "m.onnx", seed=1)
    model = OnnxModel(path)
    dense_model(path, seed=2)  # same shape, different weights
    with pytest.raises(ModelIntegrityError, match="sha256 mismatch"):
        model.run({"x": np.ones((1, 4), dtype=np.float32)})


def test_providers(dense: Path) -> None:
    assert OnnxModel(dense).providers == ("CPUExecutionProvider",)
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the refusal path cannot be exercised")
    with pytest.raises(ConfigError, match="CUDAExecutionProvider was requested"):
        OnnxModel(dense, providers=["CUDAExecutionProvider"])

"""Sessions across worker processes and threads; counters merge; external-data refusal."""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx_factory import dense_model

from jetml.errors import ModelIntegrityError
from jetml.inference import OnnxModel, clear_session_cache, counters, sessions_in_process

_BARRIER: threading.Barrier | None = None


def _init_worker(barrier) -> None:
    global _BARRIER
    _BARRIER = barrier


def _task(model: OnnxModel, seed: int) -> tuple[int, int, dict, np.ndarray]:
    """Runs in a worker: unpickled model, one run; report pid, sessions and counters."""
    assert _BARRIER is not None
    _BARRIER.wait(timeout=60)  # pairs tasks up so both workers take part
    x = np.random.default_rng(seed).normal(size=(8, 4)).astype(np.float32)
    out = model.run({"x": x})["prob"]
    return os.getpid(), sessions_in_process(), counters.snapshot(), out


def test_process_pool_of_two_creates_exactly_two_sessions(tmp_path: Path) -> None:
    model = OnnxModel(dense_model(tmp_path / "pool.onnx"))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=_init_worker, initargs=(barrier,)
    ) as pool:
        results = list(pool.map(_task, [model] * 20, range(20)))
    pids = {pid for pid, *_ in results}
    assert len(pids) == 2
    assert all(n_sessions == 1 for _, n_sessions, _, _ in results)
    last_snapshot = {}
    for pid, _, snap, _ in results:
        last_snapshot[pid] = snap  # counters only grow within a worker
    merged = counters.merge(*last_snapshot.values())[model.label]
    assert merged["sessions_created"] == 2
    assert merged["calls"] == 20 and merged["rows"] == 160
    expected = model.run({"x": np.random.default_rng(5).normal(size=(8, 4)).astype(np.float32)})
    np.testing.assert_array_equal(results[5][3], expected["prob"])


def test_threads_share_one_session(tmp_path: Path) -> None:
    clear_session_cache()
    counters.reset()
    model = OnnxModel(dense_model(tmp_path / "threads.onnx"))
    x = np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32)
    with ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(lambda _: model.run({"x": x})["prob"], range(32)))
    assert sessions_in_process() == 1
    assert counters.snapshot()[model.label]["sessions_created"] == 1
    for out in outs:
        np.testing.assert_array_equal(out, outs[0])


def test_counters_merge_and_table() -> None:
    a = {"m": {"calls": 2, "rows": 10, "run_seconds": 0.5, "sessions_created": 1}}
    b = {"m": {"calls": 3, "rows": 5, "run_seconds": 0.25}, "n": {"rows": 1}}
    merged = counters.merge(a, b)
    assert merged["m"]["calls"] == 5 and merged["m"]["rows"] == 15
    assert merged["m"]["run_seconds"] == 0.75 and merged["n"]["rows"] == 1
    assert merged["m"]["feature_seconds"] == 0
    table = counters.format_table(merged)
    assert "m " in table and "50000.0" in table  # 0.75 s / 15 rows = 50000 us per jet
    counters.reset()
    with counters.timed("x"):
        pass
    assert counters.snapshot()["x"]["feature_seconds"] >= 0
    with pytest.raises(KeyError):
        counters.record("x", bogus=1)


def _external_model(folder: Path, location: str) -> Path:
    path = dense_model(folder / "ext.onnx")
    model = onnx.load(str(path))
    for tensor in model.graph.initializer:
        tensor.data_location = onnx.TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
        tensor.ClearField("raw_data")
        tensor.ClearField("float_data")
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_leaving_model_folder_is_refused(tmp_path: Path, location: str) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(ModelIntegrityError, match="outside the model's folder"):
        OnnxModel(_external_model(folder, location))


def test_external_data_inside_folder_runs(tmp_path: Path) -> None:
    path = dense_model(tmp_path / "inside.onnx")
    reference = OnnxModel(path).run({"x": np.ones((2, 4), dtype=np.float32)})["prob"]
    moved = onnx.load(str(path))
    target = tmp_path / "ext"
    target.mkdir()
    onnx.save(
        moved,
        str(target / "m.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    out = OnnxModel(target / "m.onnx").run({"x": np.ones((2, 4), dtype=np.float32)})["prob"]
    np.testing.assert_array_equal(out, reference)

"""What is bitwise stable with PyPI onnxruntime on CPU (see docs/inference.md).

Findings encoded here: a jet's output does not depend on its batch size, its batch
neighbours, the intra-op thread count or the executor (bitwise). It does depend, at the 1e-6
level, on the graph optimisation level (fused vs unfused Conv+BatchNorm) and, for
ParticleNet, on the padded length of a masked input (variable-length bucketing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jetml.inference import OnnxModel

pytest.importorskip("torch")

ROWS = 16


@pytest.fixture(scope="module")
def deepak8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from jetml.nn.reference import export_deepak8

    return export_deepak8(tmp_path_factory.mktemp("deepak8") / "deepak8.onnx", seed=3)


def _deepak8_inputs(rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "pf": rng.normal(size=(rows, 42, 100, 1)).astype(np.float32),
        "sv": rng.normal(size=(rows, 15, 7, 1)).astype(np.float32),
    }


def _particlenet_inputs(rows: int, seed: int, length: int = 100, n_pf: int = 40):
    rng = np.random.default_rng(seed)
    out = {}
    for group, n_vars, total, filled in (("pf", 25, length, n_pf), ("sv", 11, 10, 3)):
        mask = np.zeros((rows, 1, total), dtype=np.float32)
        mask[:, :, :filled] = 1
        points = np.zeros((rows, 2, total), dtype=np.float32)
        points[:, :, :filled] = rng.normal(0, 0.3, size=(rows, 2, filled))
        feats = np.zeros((rows, n_vars, total), dtype=np.float32)
        feats[:, :, :filled] = rng.normal(size=(rows, n_vars, filled))
        out |= {f"{group}_points": points, f"{group}_features": feats, f"{group}_mask": mask}
    return out


def _model_and_inputs(which: str, deepak8: Path, cms_models_dir: Path | None):
    if which == "deepak8":
        return deepak8, _deepak8_inputs(ROWS, seed=1)
    assert cms_models_dir is not None
    path = cms_models_dir / "particlenet_ak8_v01" / "model.onnx"
    return path, _particlenet_inputs(ROWS, seed=2, length=48, n_pf=30)


@pytest.fixture(params=["deepak8", "particlenet"])
def case(request, deepak8: Path):
    cms_dir = request.getfixturevalue("cms_models") if request.param == "particlenet" else None
    return _model_and_inputs(request.param, deepak8, cms_dir)


def _run(path: Path, inputs, **options) -> np.ndarray:
    return next(iter(OnnxModel(path, **options).run(inputs).values()))


def test_batch_size_and_neighbours_are_bitwise_stable(case) -> None:
    path, inputs = case
    reference = _run(path, inputs, batch_size=ROWS)
    for batch_size in (1, 5):
        np.testing.assert_array_equal(_run(path, inputs, batch_size=batch_size), reference)
    order = np.random.default_rng(9).permutation(ROWS)
    shuffled = _run(path, {k: v[order] for k, v in inputs.items()}, batch_size=ROWS)
    np.testing.assert_array_equal(shuffled[np.argsort(order)], reference)


def test_threads_and_executor_are_bitwise_stable(case) -> None:
    path, inputs = case
    reference = _run(path, inputs)
    np.testing.assert_array_equal(_run(path, inputs, intra_op_threads=3), reference)
    parallel = _run(path, inputs, execution_mode="parallel", inter_op_threads=2)
    np.testing.assert_array_equal(parallel, reference)


def test_optimisation_level_changes_outputs_slightly(deepak8: Path) -> None:
    inputs = _deepak8_inputs(ROWS, seed=4)
    fused = _run(deepak8, inputs, optimization_level="all")
    unfused = _run(deepak8, inputs, optimization_level="disable")
    assert np.abs(fused - unfused).max() < 1e-5


def test_padded_length_of_masked_input_changes_outputs_slightly(cms_models: Path) -> None:
    path = cms_models / "particlenet_ak8_v01" / "model.onnx"
    full = _run(path, _particlenet_inputs(8, seed=5, length=100))
    tight = _run(path, _particlenet_inputs(8, seed=5, length=40))
    assert np.abs(full - tight).max() < 1e-5

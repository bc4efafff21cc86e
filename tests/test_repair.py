"""Repairing MXNet-exported DeepAK8 V02: same outputs, integrity checks before and after."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from jetml.errors import ModelIntegrityError
from jetml.inference import OnnxModel
from jetml.inference.integrity import file_sha256
from jetml.inference.repair import initializers_listed_as_inputs, repair_model

DEEPAK8_SHA256 = {
    "full.onnx": "444e90237f2755e9c22e5011449cf6451f568d1efe49a03032cf8d3d0af18f8c",
    "decorrelated.onnx": "caf32fec651a8886c0ac7c7b52c74bf480cce31374b061a555fffe6ee6e05635",
}
N_PF_FEATURES = {"full.onnx": 42, "decorrelated.onnx": 36}


def _realistic_inputs(n_pf_features: int, seed: int) -> dict[str, np.ndarray]:
    """DeepAK8-shaped inputs: normalised features for 10-90 candidates and 0-7 SVs, zero padding."""
    rng = np.random.default_rng(seed)
    jets = 6
    pf = np.zeros((jets, n_pf_features, 100, 1), dtype=np.float32)
    sv = np.zeros((jets, 15, 7, 1), dtype=np.float32)
    counts = zip(rng.integers(10, 90, jets), rng.integers(0, 7, jets), strict=True)
    for j, (n_pf, n_sv) in enumerate(counts):
        pf[j, :, :n_pf, 0] = rng.normal(0, 1, (n_pf_features, n_pf))
        sv[j, :, :n_sv, 0] = rng.normal(0, 1, (15, n_sv))
    return {"pfcand": pf, "sv": sv}


@pytest.mark.parametrize("name", ["full.onnx", "decorrelated.onnx"])
def test_repaired_deepak8_gives_the_same_outputs(cms_models, tmp_path, name):
    original = cms_models / "deepak8_v02" / name
    assert len(initializers_listed_as_inputs(onnx.load(original))) > 100
    repaired = repair_model(original, sha256=DEEPAK8_SHA256[name], cache_dir=tmp_path)
    assert repaired.path.parent == tmp_path and repaired.removed_inputs > 100
    assert repaired.original_sha256 == DEEPAK8_SHA256[name]
    assert initializers_listed_as_inputs(onnx.load(repaired.path)) == []
    inputs = _realistic_inputs(N_PF_FEATURES[name], seed=11)
    as_shipped = OnnxModel(original, sha256=DEEPAK8_SHA256[name]).run(inputs)
    fixed = OnnxModel(repaired.path, sha256=repaired.sha256).run(inputs)
    (out,) = as_shipped
    assert fixed[out].shape == (6, 17)
    np.testing.assert_allclose(fixed[out].sum(axis=1), 1.0, atol=1e-5)
    assert np.max(np.abs(fixed[out] - as_shipped[out])) < 1e-5


def test_second_repair_reuses_the_cached_copy(cms_models, tmp_path):
    original = cms_models / "deepak8_v02" / "full.onnx"
    first = repair_model(original, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = repair_model(original, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=tmp_path)
    assert second == first and first.path.stat().st_mtime_ns == mtime
    assert file_sha256(first.path) == first.sha256


def test_tampered_original_is_refused_even_when_a_repaired_copy_exists(cms_models, tmp_path):
    source = cms_models / "deepak8_v02" / "full.onnx"
    cache = tmp_path / "cache"
    repair_model(source, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=cache)
    tampered = tmp_path / "full.onnx"
    data = bytearray(source.read_bytes())
    data[-100] ^= 0xFF  # flip bits inside a weight
    tampered.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        repair_model(tampered, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=cache)


def test_tampered_repaired_copy_is_refused_by_the_loader(cms_models, tmp_path):
    original = cms_models / "deepak8_v02" / "full.onnx"
    repaired = repair_model(original, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=tmp_path)
    data = bytearray(repaired.path.read_bytes())
    data[-100] ^= 0xFF
    repaired.path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        OnnxModel(repaired.path, sha256=repaired.sha256)
    # a new repair derives the copy again from the verified original
    again = repair_model(original, sha256=DEEPAK8_SHA256["full.onnx"], cache_dir=tmp_path)
    assert file_sha256(again.path) == again.sha256 == repaired.sha256


def test_model_without_weight_inputs_is_returned_unchanged(cms_models, tmp_path):
    original = cms_models / "particlenet_ak8_v01" / "model.onnx"
    repaired = repair_model(original, cache_dir=tmp_path)
    assert repaired.path == original and repaired.removed_inputs == 0
    assert list(tmp_path.iterdir()) == []

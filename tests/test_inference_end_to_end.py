"""Config -> features -> real CMS ParticleNet: NaN/inf, empty chunks, jets without candidates."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from jetml.features import build_inputs, group_lengths, load_data_config
from jetml.inference import OnnxModel


@pytest.fixture(scope="module")
def particlenet(cms_models: Path):
    folder = cms_models / "particlenet_ak8_v01"
    return load_data_config(folder / "preprocess.json"), OnnxModel(folder / "model.onnx")


def _variables(cfg, counts_pf, counts_sv, rng, poison: bool):
    out = {}
    for name in cfg.var_names:
        counts = counts_sv if name.startswith("sv_") else counts_pf
        values = rng.normal(size=int(counts.sum())).astype(np.float32)
        if poison:
            values[::3] = np.nan
            values[1::5] = np.inf
            values[2::7] = -np.inf
        if name.endswith("_mask"):
            values[:] = 1.0
        out[name] = ak.unflatten(values, counts)
    return out


def test_nan_inf_never_reach_outputs(particlenet) -> None:
    cfg, model = particlenet
    rng = np.random.default_rng(11)
    counts_pf = np.array([0, 1, 30, 150, 99, 100, 101])
    counts_sv = np.array([0, 0, 1, 12, 3, 10, 11])
    inputs = build_inputs(cfg, _variables(cfg, counts_pf, counts_sv, rng, poison=True))
    assert all(np.isfinite(a).all() for a in inputs.values())
    assert inputs["pf_features"].shape == (7, 25, 100)
    assert inputs["sv_features"].shape == (7, 11, 10)
    scores = model.run(inputs)["softmax"]
    assert scores.shape == (7, 20)
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)


def test_variable_length_and_empty_chunk(particlenet) -> None:
    cfg, model = particlenet
    rng = np.random.default_rng(12)
    variables = _variables(cfg, np.array([5, 20]), np.array([0, 2]), rng, poison=False)
    lengths = group_lengths(cfg, variables)
    assert lengths["pf_features"] == 20 and lengths["sv_features"] == 2
    short = model.run(build_inputs(cfg, variables, length=lengths))["softmax"]
    assert short.shape == (2, 20) and np.isfinite(short).all()
    empty = _variables(cfg, np.zeros(0, np.int64), np.zeros(0, np.int64), rng, poison=False)
    out = model.run(build_inputs(cfg, empty))
    assert out["softmax"].shape == (0, 20)

"""Length-bucketed batches: bucket rules, and outputs equal to CMSSW-style per-jet evaluation."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from jetml.errors import ConfigError
from jetml.features import load_data_config
from jetml.features.cms_pfnano import cms_jet_variables
from jetml.inference import OnnxModel
from jetml.inference.bucketing import jet_lengths, length_buckets, run_bucketed, run_per_jet
from jetml.nanoaod import load_events

# Largest |bucketed - per-jet| allowed on softmax outputs: padding changes only the summation
# order of masked reductions (measured ~1e-7 on the real ParticleNet; see docs/cms_models.md).
OUTPUT_TOLERANCE = 1e-5


def test_buckets_cover_every_jet_once_and_respect_limits():
    rng = np.random.default_rng(7)
    pf = np.clip(rng.integers(0, 140, 500), 16, 100)
    sv = np.clip(rng.integers(0, 12, 500), 1, 10)
    buckets = length_buckets({"pf_features": pf, "sv_features": sv}, batch_size=64, growth=1.25)
    seen = np.concatenate([b.jets for b in buckets])
    assert sorted(seen.tolist()) == list(range(500))
    for b in buckets:
        assert 1 <= len(b.jets) <= 64
        assert b.lengths["pf_features"] == pf[b.jets].max()
        assert b.lengths["sv_features"] == sv[b.jets].max()
        assert pf[b.jets].max() <= 1.25 * pf[b.jets].min()
    padded = sum(len(b.jets) * b.lengths["pf_features"] for b in buckets)
    assert padded < 1.15 * pf.sum()  # little padding compared with 500 x 100 slots
    assert padded < 0.7 * 500 * 100


def test_bucket_arguments_are_checked():
    with pytest.raises(ConfigError):
        length_buckets({"x": np.array([3])}, batch_size=0)
    with pytest.raises(ConfigError):
        length_buckets({"x": np.array([3])}, growth=0.5)
    assert length_buckets({}) == []


@pytest.fixture(scope="module")
def particlenet(cms_models):
    folder = cms_models / "particlenet_ak8_v01"
    return OnnxModel(folder / "model.onnx", batch_size=16), load_data_config(
        folder / "preprocess.json"
    )


def _random_jets(cfg, counts_pf, counts_sv, seed):
    """Jagged random inputs (normal values; masks 1) with the given multiplicities."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in cfg.var_names:
        counts = counts_sv if name.startswith("sv_") else counts_pf
        flat = rng.normal(0.0, 1.0, int(counts.sum())).astype(np.float32)
        if name.endswith("_mask"):
            flat = np.ones_like(flat)
        out[name] = ak.unflatten(flat, counts)
    return out


def test_bucketed_equals_per_jet_on_random_jets(particlenet):
    model, cfg = particlenet
    counts_pf = np.array([1, 5, 15, 16, 17, 30, 31, 47, 60, 99, 100, 101, 140, 23, 24, 70])
    counts_sv = np.array([0, 1, 2, 0, 3, 10, 12, 4, 0, 1, 7, 9, 11, 2, 0, 5])
    variables = _random_jets(cfg, counts_pf, counts_sv, seed=3)
    lengths = jet_lengths(cfg, variables)
    assert lengths["pf_features"].tolist() == np.clip(counts_pf, 16, 100).tolist()
    assert lengths["sv_mask"].tolist() == np.clip(counts_sv, 1, 10).tolist()
    bucketed = run_bucketed(model, cfg, variables, batch_size=5)
    per_jet = run_per_jet(model, cfg, variables)
    (name,) = bucketed
    assert bucketed[name].shape == (16, 20)
    np.testing.assert_allclose(bucketed[name].sum(axis=1), 1.0, atol=1e-5)
    assert np.max(np.abs(bucketed[name] - per_jet[name])) <= OUTPUT_TOLERANCE


def test_bucketed_equals_per_jet_on_real_pfnano_jets(particlenet, cms_nano):
    model, cfg = particlenet
    events = load_events(cms_nano / "pfnano.root")
    variables = cms_jet_variables(events, cfg.var_names, events.FatJet.pt > 200)
    bucketed = run_bucketed(model, cfg, variables)
    per_jet = run_per_jet(model, cfg, variables)
    (name,) = bucketed
    assert bucketed[name].shape == (24, 20)
    assert np.max(np.abs(bucketed[name] - per_jet[name])) <= OUTPUT_TOLERANCE


def test_no_jets_gives_empty_outputs(particlenet):
    model, cfg = particlenet
    variables = _random_jets(cfg, np.zeros(0, dtype=int), np.zeros(0, dtype=int), seed=1)
    for runner in (run_bucketed, run_per_jet):
        (out,) = runner(model, cfg, variables).values()
        assert out.shape == (0, 20)

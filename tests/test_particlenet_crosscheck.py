"""Official ParticleNet-AK8 taggers on real PFNano vs the scores CMSSW stored in the file."""

from __future__ import annotations

import pickle
import shutil

import awkward as ak
import numpy as np
import pytest
import uproot

from jetml.cli import main
from jetml.cms.crosscheck import MAX_DIFFERENCE, REQUIRED_FRACTION, TOLERANCE, crosscheck
from jetml.errors import ConfigError, ModelIntegrityError
from jetml.labels import Discriminant
from jetml.nanoaod import load_events
from jetml.taggers.particlenet import (
    MODELS_ENV,
    PARTICLENET_AK8_V01,
    ParticleNetTagger,
    from_environment,
    particlenet_taggers,
)

EXPECTED_BRANCHES = {
    f"FatJet_particleNet_{s}"
    for s in ("QCD", "TvsQCD", "WvsQCD", "ZvsQCD", "HbbvsQCD", "HccvsQCD", "H4qvsQCD")
} | {f"FatJet_particleNetMD_{s}" for s in ("Xbb", "Xcc", "Xqq", "QCD")}


@pytest.fixture(scope="module")
def result(cms_nano, cms_models):
    return crosscheck(cms_nano / "pfnano.root", cms_models)


@pytest.fixture(scope="module")
def pfnano_events(cms_nano):
    return load_events(cms_nano / "pfnano.root")


def test_every_stored_score_is_compared_on_all_jets_above_200_gev(result, pfnano_events):
    n_jets = int(ak.sum(pfnano_events.FatJet.pt > 200))
    assert n_jets == 24
    assert {c.branch for c in result.comparisons} == EXPECTED_BRANCHES
    assert all(c.n_jets == n_jets for c in result.comparisons)


def test_no_score_differs_beyond_the_limit(result):
    for c in result.comparisons:
        assert c.max_abs <= MAX_DIFFERENCE, c.branch


def test_target_met_on_jets_whose_inputs_pfnano_stores_completely(result):
    assert result.n_complete >= 5
    for c in result.comparisons:
        assert c.fraction_within_complete >= REQUIRED_FRACTION, c.branch
        assert np.max(np.abs(c.differences[c.complete])) <= TOLERANCE, c.branch


@pytest.mark.xfail(
    strict=True,
    reason="particleNetMD_QCD agrees within 0.01 on 79% of the 24 jets: PFNano lacks the packed "
    "dz/dxy of low-pT charged candidates without track details (see docs/cms_models.md)",
)
def test_full_target_on_all_jets(result):
    failing = [c.branch for c in result.comparisons if not c.passed]
    assert failing == []


def test_crosscheck_command_prints_the_table(cms_nano, cms_models, result, capsys, monkeypatch):
    # the comparison itself is the module fixture; this checks what the command makes of it
    monkeypatch.setattr("jetml.cms.crosscheck.crosscheck", lambda path, models: result)
    code = main(["crosscheck", str(cms_nano / "pfnano.root"), "--models", str(cms_models)])
    out = capsys.readouterr().out
    assert code == (0 if result.passed else 1)
    for branch in EXPECTED_BRANCHES:
        assert branch in out
    assert "24 AK8 jets" in out


def test_crosscheck_command_errors_are_one_line(cms_nano, cms_models, tmp_path, capsys):
    code = main(["crosscheck", str(cms_nano / "pfnano.root"), "--models", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "particlenet_ak8_v01" in err and len(err.strip().splitlines()) == 1
    code = main(["crosscheck", str(cms_nano / "nano_tt_v15.root"), "--models", str(cms_models)])
    err = capsys.readouterr().err
    assert code == 2 and "lacks FatJetPFCands_jetIdx" in err and len(err.strip().splitlines()) == 1


def test_tagger_interface(cms_nano, cms_models, pfnano_events):
    taggers = particlenet_taggers(cms_models)
    assert [t.name for t in taggers] == ["particlenet_ak8", "particlenet_ak8_md"]
    pfnano = pfnano_events
    fatjet_pt = uproot.open(cms_nano / "nano_tt_v15.root")["Events"]["FatJet_pt"].array()
    plain = ak.Array({"FatJet": ak.zip({"pt": fatjet_pt})})  # NanoAOD without PF candidates
    for tagger in taggers:
        assert tagger.missing_inputs(pfnano) == []
        assert "PFCands_pt" in tagger.missing_inputs(plain)
        mask = tagger.select(pfnano.FatJet)
        assert ak.all(pfnano.FatJet.pt[mask] > 150)
        none = tagger.evaluate(pfnano, pfnano.FatJet.pt > 1e9)
        assert set(none) == set(tagger.score_names)
        assert all(v.shape == (0,) for v in none.values())
        scores = tagger.evaluate(pfnano, mask)
        assert all(v.shape == (int(ak.sum(mask)),) for v in scores.values())
        assert all(np.all((v >= 0) & (v <= 1)) for v in scores.values())


def test_modified_preprocess_json_is_refused(cms_models, tmp_path):
    folder = tmp_path / "particlenet_ak8_v01"
    shutil.copytree(cms_models / "particlenet_ak8_v01", folder)
    config = folder / "preprocess.json"
    config.write_text(config.read_text().replace('"median": 4,', '"median": 3,'))
    with pytest.raises(ModelIntegrityError, match=r"preprocess\.json"):
        ParticleNetTagger(PARTICLENET_AK8_V01, folder)
    assert ParticleNetTagger(PARTICLENET_AK8_V01, folder, verify=False).config is not None


def test_discriminants_follow_cmssw():
    probs = {"a": np.array([0.2, 0.0]), "b": np.array([0.1, 0.0]), "q": np.array([0.3, 0.0])}
    ratio = Discriminant(("a", "b"), ("a", "b", "q"))(probs)
    np.testing.assert_allclose(ratio, [0.5, 0.0])  # 0/0 gives 0, as in CMSSW
    np.testing.assert_allclose(Discriminant(("a", "q"))(probs), [0.5, 0.0])


def test_taggers_from_environment(cms_models, monkeypatch):
    monkeypatch.delenv(MODELS_ENV, raising=False)
    with pytest.raises(ConfigError, match=MODELS_ENV):
        from_environment()
    monkeypatch.setenv(MODELS_ENV, str(cms_models))
    assert [t.name for t in from_environment()] == ["particlenet_ak8", "particlenet_ak8_md"]


def test_tagger_survives_pickling(cms_models, pfnano_events):
    tagger = particlenet_taggers(cms_models)[1]
    clone = pickle.loads(pickle.dumps(tagger))
    mask = pfnano_events.FatJet.pt > 200
    expected, got = tagger.evaluate(pfnano_events, mask), clone.evaluate(pfnano_events, mask)
    for name in tagger.score_names:
        np.testing.assert_array_equal(got[name], expected[name])

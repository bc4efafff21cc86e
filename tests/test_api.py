"""The notebook API (``jetml.sample``, ``open_events``, ``tag``, ``run``...): same scores as the
processor, branch-filtered events, cached samples, warnings for skipped taggers, no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

import jetml
from jetml.errors import ConfigError, InputFileError
from jetml.samples.cache import cached_path
from jetml.samples.production import GenerationRequest
from jetml.taggers.base import Tagger

PRESET, EVENTS, SEED = "ttbar_had", 40, 7
PILEUP = 0.0  # hard scatter only: fast, and no min-bias library to build in the private cache


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny ttbar_had sample generated through the API into a private cache."""
    cache = tmp_path_factory.mktemp("api_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(cache))
        path = jetml.sample(PRESET, EVENTS, SEED, pileup=PILEUP, progress=True)
        assert path.parent == cache and path.is_file()
        yield path


@pytest.fixture(scope="module")
def tagged(sample_path: Path) -> ak.Array:
    return jetml.tag(jetml.open_events(sample_path, taggers="all"), "all")


def test_sample_is_cached_and_not_regenerated(sample_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JETML_CACHE", str(sample_path.parent))
    before = sample_path.stat().st_mtime_ns
    again = jetml.sample(PRESET, EVENTS, SEED, pileup=PILEUP)
    assert again == sample_path
    assert again == cached_path(GenerationRequest(PRESET, EVENTS, SEED, pileup=PILEUP))
    assert sample_path.stat().st_mtime_ns == before
    assert len(jetml.open_events(again)) == EVENTS


def test_sample_pthat_min_sets_the_hard_scale_and_its_own_cache_entry(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("JETML_CACHE", str(tmp_path))
    path = jetml.sample(PRESET, 5, SEED, pileup=PILEUP, pthat_min=800.0, progress=False)
    assert "pthat800" in path.name
    request = GenerationRequest(PRESET, 5, SEED, pthat_min=800.0, pileup=PILEUP)
    assert path == cached_path(request)
    # Pythia's factorisation scale of a 2 -> 2 massive pair is sqrt(m^2 + pT^2) > pTHatMin
    assert np.all(jetml.open_events(path).Generator.scalePDF > 800.0)


def test_sample_bad_arguments_are_config_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JETML_CACHE", str(tmp_path))
    with pytest.raises(ConfigError, match="preset"):
        jetml.sample("no_such_preset", 10, 1)
    with pytest.raises(ConfigError, match="events"):
        jetml.sample(PRESET, 0, 1)
    with pytest.raises(ConfigError, match="pileup"):
        jetml.sample(PRESET, 10, 1, pileup=-1)
    assert list(tmp_path.iterdir()) == []


def test_open_events_with_taggers_exposes_only_their_branches(sample_path: Path) -> None:
    full = jetml.open_events(sample_path)
    slim = jetml.open_events(sample_path, taggers="deepjet")
    assert len(full) == len(slim) == EVENTS
    assert "PFCands" in full.fields  # PFNano schema for the generated PFNano file
    assert set(slim.fields) < set(full.fields)
    assert "Tau" not in slim.fields and "Jet" in slim.fields
    assert ak.all(slim.Jet.pt == full.Jet.pt)


def test_open_events_entry_range_and_bad_file(sample_path: Path, tmp_path: Path) -> None:
    assert len(jetml.open_events(sample_path, entry_start=5, entry_stop=15)) == 10
    missing = tmp_path / "missing.root"
    with pytest.raises(InputFileError, match=r"missing\.root: no such file"):
        jetml.open_events(missing)
    bad = tmp_path / "text.root"
    bad.write_text("not root")
    with pytest.raises(InputFileError, match="not a ROOT file"):
        jetml.open_events(bad, taggers="deepak8")


def test_load_taggers_names_objects_and_errors() -> None:
    pair = jetml.load_taggers("deepak8, deepjet")
    assert [t.name for t in pair] == ["deepak8", "deepjet"]
    assert jetml.load_taggers(pair) == pair
    assert jetml.load_taggers(pair[0]) == [pair[0]]
    assert len(jetml.load_taggers("all")) == len(jetml.api.REGISTERED)
    # built once per process: a second call returns the same objects (shared sessions)
    assert jetml.load_taggers("deepak8")[0] is pair[0]
    with pytest.raises(ConfigError, match="unknown tagger"):
        jetml.load_taggers("nope")
    with pytest.raises(ConfigError, match="no tagger"):
        jetml.load_taggers([])


def test_tag_scores_equal_the_processor_run(sample_path: Path, tagged: ak.Array) -> None:
    result = jetml.run({"ttbar": [sample_path]}, "deepak8,deepjet", executor="iterative")
    hists = jetml.histograms(result)
    for name, score in (("deepak8", "TvsQCD"), ("deepjet", "BvsAll")):
        tagger = jetml.load_taggers(name)[0]
        values = ak.flatten(tagged[tagger.collection][tagger.field_name(score)])
        values = ak.to_numpy(values)
        values = values[~np.isnan(values)]
        assert len(values) > 0
        by_run = hists[f"{name}_{score}"].project("score")
        ours = np.histogram(values, bins=by_run.axes[0].edges)[0]
        assert np.array_equal(ours[:-1], by_run.values()[:-1])  # last bin: upper edge inclusive
        assert ours.sum() == by_run.sum(flow=True)


def test_tag_attaches_every_tagger_and_nan_outside_selection(tagged: ak.Array) -> None:
    for tagger in jetml.load_taggers("all"):
        jets = tagged[tagger.collection]
        for score in tagger.score_names:
            assert tagger.field_name(score) in jets.fields
        values = ak.to_numpy(ak.flatten(jets[tagger.field_name(tagger.score_names[0])]))
        selected = ak.to_numpy(ak.flatten(tagger.select(jets)))
        assert np.array_equal(~np.isnan(values), selected)


def test_tag_warns_for_skipped_taggers(cms_nano: Path) -> None:
    events = jetml.open_events(cms_nano / "nano_tt_v15.root", taggers="deepak8,breg")
    with pytest.warns(UserWarning) as caught:
        tagged = jetml.tag(events, "deepak8,breg")
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert messages[0].startswith("breg: skipped, events lack JetPFCands_jetIdx")
    assert messages[1].startswith("deepak8: skipped, events lack ") and "PFCands" in messages[1]
    assert "jetml_breg_correction" not in tagged.Jet.fields
    assert "jetml_deepak8_TvsQCD" not in tagged.FatJet.fields
    assert len(tagged) == 200


def test_scores_by_truth_partitions_the_evaluated_jets(tagged: ak.Array) -> None:
    tagger = jetml.load_taggers("deepak8")[0]
    by_truth = jetml.scores_by_truth({"a": tagged, "b": tagged}, "deepak8", "TvsQCD")
    assert set(by_truth) <= set(tagger.labels)
    assert "top" in by_truth
    values = ak.to_numpy(ak.flatten(tagged.FatJet.jetml_deepak8_TvsQCD))
    assert sum(len(v) for v in by_truth.values()) == 2 * np.count_nonzero(~np.isnan(values))
    # top jets score higher than the rest on average in a ttbar sample
    rest = np.concatenate([v for k, v in by_truth.items() if k != "top"] or [np.array([0.0])])
    assert by_truth["top"].mean() > rest.mean()


def test_reference_scores_on_real_pfnano(cms_nano: Path) -> None:
    tagger = jetml.load_taggers("deepak8")[0]
    events = jetml.tag(jetml.open_events(cms_nano / "pfnano.root"), [tagger])
    pairs = jetml.reference_scores(events, tagger)
    assert set(pairs) == set(tagger.reference_scores)
    for ours, cms in pairs.values():
        assert len(ours) == len(cms) > 0
        assert np.all((ours >= 0) & (ours <= 1) & (cms >= 0) & (cms <= 1))


def test_cms_taggers_tag_real_pfnano(cms_nano: Path, cms_models: Path) -> None:
    found = jetml.cms_taggers(cms_models)
    assert all(isinstance(t, Tagger) for t in found)
    events = jetml.tag(jetml.open_events(cms_nano / "pfnano.root", taggers=found), found)
    ours, cms = jetml.reference_scores(events, found[0])["TvsQCD"]
    assert np.median(np.abs(ours - cms)) < 0.01  # the crosscheck's agreement


def test_describe_and_timing_table(sample_path: Path) -> None:
    events = jetml.open_events(sample_path)
    counts = jetml.describe(events)
    assert counts["events"] == EVENTS
    assert counts["FatJet"] == int(ak.sum(ak.num(events.FatJet)))
    result = jetml.run({"ttbar": [sample_path]}, "breg", executor="iterative")
    assert "| breg |" in jetml.timing_markdown(result)
    assert jetml.timing_rows(result)[0]["events"] == EVENTS


def test_notebook_api_never_imports_torch() -> None:
    code = (
        "import sys, jetml; jetml.sample; jetml.tag;"
        "import jetml.api, jetml.plotting, jetml.metrics, jetml.results, jetml.timing;"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('jetml.nn')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_describe_selection_names_the_training_selection(cms_models: Path) -> None:
    assert jetml.describe_selection(jetml.load_taggers("deepak8")[0]) == (
        "FatJet pT ≥ 300 GeV, |η| < 2.4"
    )
    assert jetml.describe_selection(jetml.cms_taggers(cms_models)[0]) == "FatJet pT > 150 GeV"

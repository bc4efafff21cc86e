"""TaggerProcessor on the real CMS files: scores, skipped taggers, empty files, histograms."""

from __future__ import annotations

import math
from pathlib import Path

import awkward as ak
import numpy as np
import onnx
import processor_taggers as toy
import pytest
import uproot
from onnx import numpy_helper

from jetml.errors import ConfigError
from jetml.nanoaod import load_events
from jetml.processor import RunOptions, TaggerProcessor, run_processor


@pytest.fixture(scope="module", autouse=True)
def toy_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("toy_models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(toy.MODELS_ENV, str(folder))
        toy.models_dir()
        yield folder


def _reference_pf_toy(path: Path, models: Path) -> list[list[float]]:
    """pf_toy's probA per FatJet, computed jet by jet with plain numpy from uproot arrays."""
    graph = onnx.load(str(models / "pf_toy.onnx")).graph
    weights = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    raw = uproot.open(path)["Events"].arrays(
        [
            "FatJet_eta",
            "FatJet_phi",
            "PFCands_pt",
            "PFCands_eta",
            "PFCands_phi",
            "FatJetPFCands_jetIdx",
            "FatJetPFCands_pFCandsIdx",
        ],
        library="np",
    )
    result = []
    for event in range(len(raw["FatJet_eta"])):
        per_event = []
        for jet in range(len(raw["FatJet_eta"][event])):
            links = raw["FatJetPFCands_jetIdx"][event] == jet
            index = raw["FatJetPFCands_pFCandsIdx"][event][links]
            pt = raw["PFCands_pt"][event][index]
            order = np.argsort(-pt, kind="stable")[: toy.PF_LENGTH]
            eta = raw["PFCands_eta"][event][index][order] - raw["FatJet_eta"][event][jet]
            dphi = raw["PFCands_phi"][event][index][order] - raw["FatJet_phi"][event][jet]
            dphi = (dphi + np.pi) % (2 * np.pi) - np.pi
            features = np.stack(
                [
                    np.clip((np.log(pt[order]) - 1.0) * 0.5, -5, 5),
                    np.clip(eta * 2.0, -5, 5),
                    np.clip(dphi * 2.0, -5, 5),
                ]
            )
            logits = features.sum(axis=1) @ weights["W"] + weights["b"]
            probabilities = np.exp(logits - logits.max())
            per_event.append(float(probabilities[0] / probabilities.sum()))
        result.append(per_event)
    return result


def test_scores_attached_in_jet_order(cms_nano: Path, toy_models: Path) -> None:
    path = cms_nano / "pfnano.root"
    taggers = toy.all_taggers()
    events, report = TaggerProcessor(taggers).apply_taggers(load_events(path))
    attached = events.FatJet.jetml_pf_toy_probA
    expected = _reference_pf_toy(path, toy_models)
    assert ak.num(attached).tolist() == [len(jets) for jets in expected]
    np.testing.assert_allclose(
        ak.flatten(attached).to_numpy(), np.concatenate(expected), rtol=2e-5, atol=1e-6
    )
    total = events.FatJet.jetml_pf_toy_probA + events.FatJet.jetml_pf_toy_probB
    np.testing.assert_allclose(ak.flatten(total).to_numpy(), 1.0, rtol=1e-6)
    # jet_toy evaluates only jets above 200 GeV: the others carry NaN, never a made-up score.
    jet_score = ak.flatten(events.FatJet.jetml_jet_toy_score).to_numpy()
    high = ak.flatten(events.FatJet.pt > 200).to_numpy()
    assert np.isnan(jet_score[~high]).all() and np.isfinite(jet_score[high]).all()
    assert (jet_score[high] > 0).all() and (jet_score[high] < 1).all()
    regression = ak.flatten(events.Jet.jetml_breg_toy_correction[events.Jet.pt > 20]).to_numpy()
    assert ((regression > 0.9) & (regression < 1.1)).all()
    for name in ("pf_toy", "jet_toy", "breg_toy"):
        assert report[name]["ort_s"] > 0
        assert report[name]["read_s"] > 0 and report[name]["build_s"] >= 0


def test_real_files_histograms_cutflow_and_skips(cms_nano: Path) -> None:
    fileset = {
        "pfnano": [str(cms_nano / "pfnano.root")],
        "tt": [str(cms_nano / "nano_tt_v15.root")],
        "empty": [str(cms_nano / "nano_dy_empty.root")],
    }
    result = run_processor(fileset, toy.all_taggers(), RunOptions(progress=False))
    output = result.output
    assert output["events"] == {"pfnano": 10, "tt": 200, "empty": 0}
    # The PF-based tagger is skipped on plain NanoAOD only, with the branches it lacks.
    assert output["skipped_taggers"]["pf_toy"] == {
        (
            str(cms_nano / "nano_tt_v15.root"),
            "PFCands_pt, PFCands_eta, PFCands_phi, FatJetPFCands_jetIdx, FatJetPFCands_pFCandsIdx",
        )
    }
    assert not output["skipped_taggers"]["jet_toy"] and not output["skipped_taggers"]["breg_toy"]
    for dataset, name in (("pfnano", "pfnano.root"), ("tt", "nano_tt_v15.root")):
        raw = uproot.open(cms_nano / name)["Events"].arrays(
            ["FatJet_pt", "Jet_pt", "Jet_genJetIdx", "FatJet_hadronFlavour", "nGenJet"]
        )
        cutflow = output["cutflow"][dataset]
        hists = output["hists"][dataset]
        assert cutflow["FatJet jets"] == ak.sum(ak.num(raw.FatJet_pt))
        assert cutflow["events with a FatJet"] == ak.sum(ak.num(raw.FatJet_pt) > 0)
        n_high = int(ak.sum(raw.FatJet_pt > 200))
        assert cutflow["jet_toy: jets evaluated"] == n_high
        assert hists["jet_toy_score"].sum(flow=True) == n_high
        assert hists["jet_toy_score_vs_mass"].sum(flow=True) == n_high
        # Score histograms are split by hadronFlavour truth.
        flavour = ak.flatten(raw.FatJet_hadronFlavour[raw.FatJet_pt > 200]).to_numpy()
        label_counts = hists["jet_toy_score"].project("label")
        for label, code in (("b", 5), ("c", 4), ("light", 0)):
            assert label_counts[label] == np.count_nonzero(flavour == code)
        n_ak4 = int(ak.sum(raw.Jet_pt > 20))
        assert cutflow["breg_toy: jets evaluated"] == n_ak4
        index = raw.Jet_genJetIdx[raw.Jet_pt > 20]
        matched = int(ak.sum((index >= 0) & (index < raw.nGenJet)))
        response = hists["breg_toy_response"]
        assert response[{"pt": "raw"}].sum(flow=True) == matched
        assert response[{"pt": "jetml"}].sum(flow=True) == matched
    pf_jets = output["cutflow"]["pfnano"]["FatJet jets"]
    assert output["hists"]["pfnano"]["pf_toy_probA"].sum(flow=True) == pf_jets
    assert output["hists"]["pfnano"]["pf_toy_probA_vs_cms"].sum(flow=True) == pf_jets
    assert output["hists"]["tt"]["pf_toy_probA"].sum(flow=True) == 0
    # The empty file gives every histogram, all empty, and a zero cutflow.
    assert set(output["hists"]["empty"]) == set(output["hists"]["pfnano"])
    assert all(h.sum(flow=True) == 0 for h in output["hists"]["empty"].values())
    assert all(value == 0 for value in output["cutflow"]["empty"].values())
    for name, timing in output["timing"].items():
        assert timing["jets"] > 0 and timing["ort_s"] > 0, name
        assert math.isfinite(timing["build_s"]) and timing["fill_s"] > 0


def test_only_empty_file_gives_valid_empty_output(cms_nano: Path) -> None:
    result = run_processor(
        {"empty": [str(cms_nano / "nano_dy_empty.root")]},
        toy.all_taggers(),
        RunOptions(progress=False),
    )
    assert result.chunks == [] and result.processed_events == 0
    hists = result.output["hists"]["empty"]
    assert "pf_toy_probA" in hists and "breg_toy_response" in hists
    assert all(h.sum(flow=True) == 0 for h in hists.values())


def test_bad_processor_configuration() -> None:
    with pytest.raises(ConfigError, match="repeated: jet_toy"):
        TaggerProcessor([toy.JetToyTagger(), toy.JetToyTagger()])

    class TauTagger(toy.JetToyTagger):
        collection = "Tau"

    with pytest.raises(ConfigError, match="collection 'Tau'"):
        TaggerProcessor([TauTagger()])


def test_tagger_returning_wrong_number_of_scores_is_refused(cms_nano: Path) -> None:
    class ShortTagger(toy.JetToyTagger):
        def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
            return {"score": super().evaluate(events, mask)["score"][:-1]}

    events = load_events(cms_nano / "pfnano.root")
    n_high = int(ak.sum(events.FatJet.pt > 200))
    with pytest.raises(ValueError, match=f"expected one per selected jet \\({n_high}\\)"):
        TaggerProcessor([ShortTagger()]).apply_taggers(events)

"""TaggerProcessor and ``jetml run`` on the real CMS files: scores, skipped taggers, empty
files, histograms, timing table and plots."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import awkward as ak
import numpy as np
import onnx
import processor_taggers as toy
import pytest
import uproot
from coffea.util import load
from onnx import numpy_helper

from jetml.cli import main
from jetml.errors import ConfigError
from jetml.nanoaod import load_events
from jetml.processor import RunOptions, TaggerProcessor, run_processor

REAL_FILES = ("pfnano.root", "nano_tt_v15.root", "nano_dy_empty.root")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("toy_models")


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


@pytest.fixture(scope="module")
def real_run(cms_nano: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """``jetml run`` once on the three real files: (output folder, stdout, stderr)."""
    files = [str(cms_nano / name) for name in REAL_FILES]
    out = tmp_path_factory.mktemp("real_run")
    argv = ["run", *files, "--taggers", "processor_taggers:all_taggers", "--out", str(out)]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert main([*argv, "--no-progress"]) == 0
    return out, stdout.getvalue(), stderr.getvalue()


def test_real_files_histograms_cutflow_and_skips(
    cms_nano: Path, real_run: tuple[Path, str, str]
) -> None:
    out = real_run[0]
    hists = load(out / "hists.coffea")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events"] == {"pfnano": 10, "nano_tt_v15": 200, "nano_dy_empty": 0}
    # The PF-based tagger is skipped on plain NanoAOD only, naming the branches it lacks.
    assert summary["skipped_taggers"] == {
        "pf_toy": [
            f"{cms_nano / 'nano_tt_v15.root'}: missing PFCands_pt, PFCands_eta, PFCands_phi, "
            "FatJetPFCands_jetIdx, FatJetPFCands_pFCandsIdx"
        ]
    }
    for dataset in ("pfnano", "nano_tt_v15"):
        raw = uproot.open(cms_nano / f"{dataset}.root")["Events"].arrays(
            [
                "FatJet_pt",
                "Jet_pt",
                "Jet_genJetIdx",
                "FatJet_hadronFlavour",
                "nGenJet",
                "Jet_hadronFlavour",
            ]
        )
        cutflow = summary["cutflow"][dataset]
        assert cutflow["FatJet jets"] == ak.sum(ak.num(raw.FatJet_pt))
        assert cutflow["events with a FatJet"] == ak.sum(ak.num(raw.FatJet_pt) > 0)
        n_high = int(ak.sum(raw.FatJet_pt > 200))
        assert cutflow["jet_toy: jets evaluated"] == n_high
        assert hists[dataset]["jet_toy_score"].sum(flow=True) == n_high
        assert hists[dataset]["jet_toy_score_vs_mass"].sum(flow=True) == n_high
        # Score histograms are split by hadronFlavour truth.
        flavour = ak.flatten(raw.FatJet_hadronFlavour[raw.FatJet_pt > 200]).to_numpy()
        label_counts = hists[dataset]["jet_toy_score"].project("label")
        for label, code in (("b", 5), ("c", 4), ("light", 0)):
            assert label_counts[label] == np.count_nonzero(flavour == code)
        assert cutflow["breg_toy: jets evaluated"] == int(ak.sum(raw.Jet_pt > 20))
        index = raw.Jet_genJetIdx[raw.Jet_pt > 20]
        b_jet = raw.Jet_hadronFlavour[raw.Jet_pt > 20] == 5  # the response holds b jets only
        matched = int(ak.sum((index >= 0) & (index < raw.nGenJet) & b_jet))
        assert matched > 0 or dataset == "pfnano"  # pfnano's 10 events have no matched b jet
        response = hists[dataset]["breg_toy_response"]
        assert response[{"pt": "raw"}].sum(flow=True) == matched
        assert response[{"pt": "jetml"}].sum(flow=True) == matched
    pf_jets = summary["cutflow"]["pfnano"]["FatJet jets"]
    assert hists["pfnano"]["pf_toy_probA"].sum(flow=True) == pf_jets
    assert hists["pfnano"]["pf_toy_probA_vs_cms"].sum(flow=True) == pf_jets
    assert hists["nano_tt_v15"]["pf_toy_probA"].sum(flow=True) == 0
    # The empty file gives every histogram, all empty, and a zero cutflow.
    assert set(hists["nano_dy_empty"]) == set(hists["pfnano"])
    assert all(h.sum(flow=True) == 0 for h in hists["nano_dy_empty"].values())
    assert all(value == 0 for value in summary["cutflow"]["nano_dy_empty"].values())


def test_run_writes_warnings_timing_and_plots(real_run: tuple[Path, str, str]) -> None:
    out, stdout, stderr = real_run
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: tagger pf_toy skipped on 1 file(s): needs PF cand")
    assert (
        "nano_tt_v15.root: missing PFCands_pt, PFCands_eta, PFCands_phi, FatJetPFCands_jetIdx "
        "and 1 more (full list in " in warnings[0]
    )
    timing = json.loads((out / "timing.json").read_text())
    assert timing["processed_events"] == 210 and timing["executor"] == "iterative"
    rows = {row["tagger"]: row for row in timing["taggers"]}
    assert set(rows) == {"pf_toy", "jet_toy", "breg_toy"}
    assert rows["pf_toy"]["events"] == 10 and rows["breg_toy"]["events"] == 210
    for row in rows.values():
        assert row["ms_per_event"] > 0 and row["jets_per_s"] > 0 and 0 < row["share"] < 1
        assert row["ort_s"] > 0 and row["read_s"] > 0 and row["fill_s"] > 0
        assert row["seconds"] == pytest.approx(
            row["read_s"] + row["build_s"] + row["ort_s"] + row["fill_s"]
        )
    assert sum(row["share"] for row in rows.values()) < 1
    markdown = (out / "timing.md").read_text()
    assert markdown in stdout
    for name in rows:
        assert f"| {name} |" in markdown
    for name in (
        "pf_toy_probA",
        "pf_toy_probA_vs_mass",
        "pf_toy_probA_vs_cms",
        "jet_toy_score",
        "breg_toy_correction",
        "breg_toy_response",
    ):
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC, name


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

    class PhotonTagger(toy.JetToyTagger):
        collection = "Photon"

    with pytest.raises(ConfigError, match="collection 'Photon'"):
        TaggerProcessor([PhotonTagger()])


def test_tagger_returning_wrong_number_of_scores_is_refused(cms_nano: Path) -> None:
    class ShortTagger(toy.JetToyTagger):
        def evaluate(self, events: ak.Array, mask: ak.Array) -> dict[str, np.ndarray]:
            return {"score": super().evaluate(events, mask)["score"][:-1]}

    events = load_events(cms_nano / "pfnano.root")
    n_high = int(ak.sum(events.FatJet.pt > 200))
    with pytest.raises(ValueError, match=f"expected one per selected jet \\({n_high}\\)"):
        TaggerProcessor([ShortTagger()]).apply_taggers(events)

"""DeepTau end to end on tiny generated tau samples: vectorised features against a slow per-tau
reference, grid standardisation, training lowers the loss, ``jetml train deeptau`` with ONNX
parity and card, and the tagger's scores equal the model run directly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import awkward as ak
import numpy as np
import onnxruntime as ort
import pytest

pytest.importorskip("torch")

import torch

from jetml.cli import main
from jetml.errors import ConfigError, InputFileError
from jetml.features import deeptau as recipe
from jetml.inference import OnnxModel
from jetml.nanoaod import load_events
from jetml.nn import deeptau_data
from jetml.nn.deeptau import DeepTau
from jetml.nn.deeptau_metrics import cut_based_comparison, discriminants
from jetml.nn.training import TrainConfig, evaluate_loss, fit, to_tensors


@pytest.fixture(scope="module")
def tau_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """150 μτh Z->ττ and 200 W+jets events (MPI off for speed): about 65 taus, half genuine."""
    from jetml.samples import get

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JETML_CACHE", str(tmp_path_factory.mktemp("cache")))
        return [
            get("dy_mutauh", 150, 21, mpi=False, pileup=0.0),
            get("w_jets", 200, 23, mpi=False, pileup=0.0),
        ]


@pytest.fixture(scope="module")
def table(tau_samples) -> deeptau_data.TauTable:
    return deeptau_data.read_taus(tau_samples)


@pytest.fixture(scope="module")
def trained(tau_samples, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deeptau") / "model"
    args = [
        "train", "deeptau", "--data", *map(str, tau_samples), "--out", str(out), "--epochs", "2",
        "--width", "0.125", "--batch-size", "16", "--seed", "4", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    return out


def _reference(events, selection: deeptau_data.TauSelection):
    """Per-tau Python loops over the candidates: raw grids and a few high-level features."""
    taus, cands = ak.to_list(events.Tau), ak.to_list(events.PFCands)
    grids = {name: [] for name in recipe.grid_input_names()}
    high_level = []
    for event_taus, event_cands in zip(taus, cands, strict=True):
        for tau in event_taus:
            if not (tau["pt"] >= selection.pt_min and abs(tau["eta"]) < selection.abs_eta_max):
                continue
            cells = {
                f"{g}_{b}": np.zeros((len(recipe.BLOCK_FEATURES[b]) + 1, s.n_cells, s.n_cells))
                for g, s in recipe.GRIDS.items()
                for b in recipe.BLOCKS
            }
            counts = dict.fromkeys(("e", "mu", "gamma", "charged"), 0)
            for c in event_cands:
                deta = c["eta"] - tau["eta"]
                dphi = (c["phi"] - tau["phi"] + math.pi) % (2 * math.pi) - math.pi
                if deta**2 + dphi**2 >= recipe.CONE**2:
                    continue
                pdg, charged = abs(c["pdgId"]), c["charge"] != 0
                frac = c["pt"] / tau["pt"]
                d0sig = abs(c["d0"]) / c["d0Err"] if charged and c["d0Err"] > 0 else 0.0
                dz = abs(c["dz"]) if charged else 0.0
                counts["e"] += pdg == 11
                counts["mu"] += pdg == 13
                counts["gamma"] += pdg == 22
                counts["charged"] += charged and pdg not in (11, 13)
                if pdg in (11, 22):
                    block = "egamma"
                    row = [frac, frac * (pdg == 11), pdg == 11, pdg == 22, c["charge"]]
                elif pdg == 13:
                    block, row = "muon", [frac, 1.0, c["charge"], d0sig, dz]
                else:
                    block = "hadrons"
                    row = [frac * charged, frac * (not charged), charged, not charged,
                           c["charge"], d0sig, dz]  # fmt: skip
                for g, spec in recipe.GRIDS.items():
                    ieta = math.floor(deta / spec.cell_size + spec.n_cells / 2)
                    iphi = math.floor(dphi / spec.cell_size + spec.n_cells / 2)
                    if 0 <= ieta < spec.n_cells and 0 <= iphi < spec.n_cells:
                        cells[f"{g}_{block}"][:, ieta, iphi] += [*row, 1.0]
            for name, grid in cells.items():
                grids[name].append(grid)
            high_level.append(
                [counts["e"], counts["mu"], counts["gamma"], counts["charged"], tau["decayMode"]]
            )
    return {k: np.array(v) for k, v in grids.items()}, np.array(high_level, dtype=float)


def test_vectorised_features_match_per_tau_reference(tau_samples) -> None:
    selection = deeptau_data.TauSelection()
    for path in tau_samples:
        events = load_events(path)
        tau, cand = recipe.tau_candidates(events, selection(events.Tau))
        grids, high_level = _reference(events, selection)
        assert len(tau) == len(high_level) > 0
        raw = recipe.raw_grids(tau, cand)
        assert list(raw) == list(recipe.grid_input_names())
        for name, (sums, occupied) in raw.items():
            expected = grids[name]
            np.testing.assert_allclose(sums, expected[:, :-1], rtol=1e-5, atol=1e-5, err_msg=name)
            np.testing.assert_array_equal(occupied[:, 0], expected[:, -1] > 0, err_msg=name)
        variables = recipe.tau_variables(tau, cand)
        assert list(variables) == list(recipe.TAU_FEATURES)
        np.testing.assert_array_equal(variables["tau_n_electrons"], high_level[:, 0])
        np.testing.assert_array_equal(variables["tau_n_muons"], high_level[:, 1])
        np.testing.assert_array_equal(variables["tau_n_photons"], high_level[:, 2])
        np.testing.assert_array_equal(variables["tau_n_charged"], high_level[:, 3])
        np.testing.assert_array_equal(variables["tau_dm1"], high_level[:, 4] == 1)
    # a genuine τh's own candidates fill the central inner cells
    assert raw["inner_hadrons"][1].sum() > 0


def test_labels_and_grid_standardisation(table, tmp_path) -> None:
    counts = np.bincount(table.label, minlength=4)
    assert counts[3] > 10 and counts[2] > 10  # τh from Z->ττ, jets from W+jets
    config = recipe.GridConfig.fit(table.grids)
    grids = config.apply(table.grids)
    for name, array in grids.items():
        sums, occupied = table.grids[name]
        assert array.shape == sums.shape and array.dtype == np.float32
        assert np.all(array[np.broadcast_to(occupied, array.shape) == 0] == 0)  # empty cells
        assert np.abs(array).max() <= 5.0
    config.save(tmp_path / "grids.json")
    assert recipe.GridConfig.load(tmp_path / "grids.json") == config
    stored = json.loads((tmp_path / "grids.json").read_text())
    assert stored["grids"]["outer"] == {"n_cells": 21, "cell_size": 0.05}
    stored["grids"]["inner"]["n_cells"] = 13
    (tmp_path / "bad.json").write_text(json.dumps(stored))
    with pytest.raises(ConfigError, match=r"bad.json: grid geometry"):
        recipe.GridConfig.load(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match=r"broken.json: not a readable"):
        recipe.GridConfig.load(tmp_path / "broken.json")


def test_training_a_few_steps_lowers_the_loss(table) -> None:
    config, grid_config = deeptau_data.fit_configs(table)
    data = deeptau_data.to_dataset(table, config, grid_config)
    torch.manual_seed(0)
    model = DeepTau(
        n_tau_features=len(recipe.TAU_FEATURES),
        n_egamma_features=len(recipe.BLOCK_FEATURES["egamma"]),
        n_muon_features=len(recipe.BLOCK_FEATURES["muon"]),
        n_hadron_features=len(recipe.BLOCK_FEATURES["hadrons"]),
        width=0.125,
    )
    x, y = to_tensors(data, model.input_names), torch.as_tensor(data.target)

    def loss() -> float:
        model.eval()
        return evaluate_loss(model.training_loss, x, y, batch_size=64)

    before = loss()
    train_config = TrainConfig(epochs=8, batch_size=16, learning_rate=3e-3, patience=10)
    fit(model, data, data, train_config)
    assert loss() < 0.8 * before


def test_train_command_writes_card_grids_and_parity(trained, tau_samples) -> None:
    card = json.loads((trained / "deeptau.card.json").read_text())
    assert card["architecture"] == "deeptau" and card["trained"] is True
    assert card["grid_config"] == "grids.json" and (trained / "grids.json").is_file()
    assert card["parity"]["max_abs_diff"] <= 1e-5 and card["parity"]["rows"] > 0
    assert [s["preset"] for s in card["samples"]] == ["dy_mutauh", "w_jets"]
    assert card["samples"][1]["events"] == 200 and card["seeds"]["torch_and_batches"] == 4
    assert "--seed 4" in card["command"] and card["output_labels"] == ["e", "mu", "jet", "tau"]
    jet = card["metrics"]["discriminants"]["jet"]
    assert 0.0 <= jet["auc"] <= 1.0 and jet["n_tau"] > 0 and jet["n_background"] > 0
    preprocess = json.loads((trained / "preprocess.json").read_text())
    assert preprocess["input_names"] == ["tau"]
    assert preprocess["tau"]["var_names"] == list(recipe.TAU_FEATURES)
    plots = str(trained.parent / "plots")
    for data in (trained / "heldout.npz", tau_samples[0]):  # stored inputs, then a ROOT file
        assert main(["validate", str(trained), "--data", str(data), "--plots", plots]) == 0


def test_tagger_scores_equal_the_model_run_directly(trained, tau_samples, table) -> None:
    from jetml.taggers.deeptau import DeepTauTagger

    tagger = DeepTauTagger(trained)
    events = load_events(tau_samples[0])
    assert tagger.collection == "Tau" and tagger.missing_inputs(events) == []
    mask = tagger.select(events.Tau)
    scores = tagger.evaluate(events, mask)
    n_taus = int(ak.sum(mask))
    reference = deeptau_data.to_dataset(
        deeptau_data.read_taus(tau_samples[:1]), tagger.shipped.config, tagger.grid_config
    )
    assert len(reference) == n_taus > 0
    model = OnnxModel(trained / "deeptau.onnx")
    expected = discriminants(model.run(reference.inputs)["softmax"])
    for background in ("e", "mu", "jet"):
        values = scores[f"VS{background}"]
        assert values.shape == (n_taus,) and np.all((values >= 0) & (values <= 1))
        np.testing.assert_allclose(values, expected[background], rtol=2e-6, atol=1e-7)
    labels = ak.flatten(tagger.truth_labels(events.Tau[mask])).tolist()
    assert set(labels) <= {"e", "mu", "jet", "tau"} and "tau" in labels


def test_bad_inputs_are_named(tau_samples, tmp_path, capsys) -> None:
    events = load_events(tau_samples[0])
    stripped = ak.with_field(events, events.PFCands[["pt", "eta", "phi"]], "PFCands")
    with pytest.raises(InputFileError, match=r"x.root: lacks branch PFCands_charge"):
        recipe.check_branches(stripped, "x.root")
    out = tmp_path / "out"
    args = ["train", "deeptau", "--data", str(tau_samples[1]), "--out", str(out), "--epochs", "1"]
    assert main(args) == 2  # W+jets alone has no genuine τh
    assert "need >= 50 taus, genuine τh" in capsys.readouterr().err


def test_cut_based_comparison_at_equal_efficiency() -> None:
    # τh have D_jet spread over [0.5, 1], jets over [0, 0.6]; isolation bits by construction
    d_jet = np.concatenate([np.linspace(0.5, 1.0, 100), np.linspace(0.0, 0.6, 100)])
    target = np.repeat([3, 2], 100)
    bits = np.concatenate(
        [np.where(np.arange(100) < 80, 7, 0), np.where(np.arange(100) < 30, 1, 0)]
    )
    result = cut_based_comparison(d_jet, target, bits)
    loose = result["Loose"]
    assert loose["tau_efficiency"] == pytest.approx(0.8) and loose["jet_fake_rate"] == 0.3
    assert loose["deeptau_tau_efficiency"] == pytest.approx(0.8)
    assert loose["deeptau_jet_fake_rate"] < loose["jet_fake_rate"]


def test_shipped_deeptau_tagger_matches_raw_onnx(tau_samples) -> None:
    from jetml.taggers.deeptau import DeepTauTagger
    from jetml.taggers.registry import resolve_taggers
    from jetml.taggers.shipped import MODELS_DIR

    (tagger,) = resolve_taggers("deeptau")
    assert isinstance(tagger, DeepTauTagger)
    events = load_events(tau_samples[0])
    mask = tagger.select(events.Tau)
    inputs = tagger.model_inputs(events, mask)
    reference = deeptau_data.to_dataset(
        deeptau_data.read_taus(tau_samples[:1]), tagger.shipped.config, tagger.grid_config
    )
    for name, array in reference.inputs.items():
        np.testing.assert_array_equal(inputs[name], array, err_msg=name)
    session = ort.InferenceSession(
        str(MODELS_DIR / "deeptau" / "deeptau.onnx"), providers=["CPUExecutionProvider"]
    )
    (raw,) = session.run(None, reference.inputs)
    expected = discriminants(raw)
    scores = tagger.evaluate(events, mask)
    for background in ("e", "mu", "jet"):
        np.testing.assert_allclose(scores[f"VS{background}"], expected[background], rtol=2e-6)

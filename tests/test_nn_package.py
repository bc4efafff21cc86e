"""Preprocessing fitted like weaver's auto mode, the model folder (card, weights, parity) and the
dataset container."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.errors import ConfigError, InputFileError, ModelIntegrityError
from jetml.features import build_inputs, load_data_config
from jetml.inference import OnnxModel
from jetml.nn.breg import BRegression
from jetml.nn.data import ArrayDataset, TrainingSample
from jetml.nn.deepak8 import DeepAK8
from jetml.nn.package import load_model, parity_of, write_model
from jetml.nn.preprocessing import GroupSpec, auto_var_info, fit_data_config

torch.set_num_threads(1)


def test_auto_var_info_is_median_and_inverse_half_width() -> None:
    values = np.random.default_rng(0).normal(3.0, 2.0, 200000)
    info = auto_var_info(values)
    assert info.center == pytest.approx(3.0, abs=0.02)
    assert info.scale == pytest.approx(0.5, rel=0.02)  # 1 / sigma for a Gaussian
    assert (info.lower_bound, info.upper_bound, info.pad_value) == (-5.0, 5.0, 0.0)
    # asymmetric: the wider side sets the scale
    skewed = np.concatenate([np.zeros(50), np.linspace(0, 10, 51)])
    p16, p50, p84 = np.percentile(skewed, [16, 50, 84])
    assert auto_var_info(skewed).scale == pytest.approx(1 / max(p84 - p50, p50 - p16))
    assert auto_var_info(np.full(10, 4.0)).scale == 1.0  # zero spread -> scale 1
    assert auto_var_info(np.array([])).center == 0.0


def jagged_training_data(n_jets: int = 300) -> dict[str, ak.Array]:
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 9, n_jets)
    pt = rng.exponential(20.0, counts.sum())
    pt[:3] = [np.nan, np.inf, -np.inf]  # never reach the statistics nor the outputs
    return {
        "pt": ak.unflatten(pt, counts),
        "charge": ak.unflatten(rng.integers(-1, 2, counts.sum()).astype(float), counts),
        "jet_mass": rng.normal(120.0, 30.0, n_jets),
    }


def test_fit_data_config_ignores_padding_and_non_finite_and_round_trips(tmp_path) -> None:
    variables = jagged_training_data()
    specs = [
        GroupSpec("pf", ("pt", "charge"), 6, fixed=("charge",)),
        GroupSpec("jet", ("jet_mass",), 1),
    ]
    cfg = fit_data_config(specs, variables, ["a", "b"])
    finite = ak.to_numpy(ak.flatten(variables["pt"]))
    finite = finite[np.isfinite(finite)]
    assert cfg.inputs["pf"].vars["pt"].center == pytest.approx(np.median(finite))
    assert cfg.inputs["pf"].vars["charge"].scale == 1.0
    path = cfg.save_preprocess_json(tmp_path / "preprocess.json")
    reloaded = load_data_config(path)
    assert reloaded.inputs["pf"].vars == cfg.inputs["pf"].vars
    arrays = build_inputs(reloaded, variables)
    assert arrays["pf"].shape == (300, 2, 6) and arrays["jet"].shape == (300, 1, 1)
    assert np.isfinite(arrays["pf"]).all()
    assert np.abs(arrays["pf"][:, 0]).max() <= 5.0
    # standardised jet mass: median ~0, 68% half-width ~1
    assert np.median(arrays["jet"]) == pytest.approx(0.0, abs=0.05)
    with pytest.raises(ConfigError, match="lack variable"):
        fit_data_config([GroupSpec("pf", ("pt", "eta"), 6)], variables, ["a"])


def small_regression_model(tmp_path):
    torch.manual_seed(0)
    model = BRegression(n_features=4, hidden=(8,), width=1.0)
    model.eval()
    variables = {f"x{i}": np.random.default_rng(i).normal(size=50) for i in range(4)}
    cfg = fit_data_config(
        [GroupSpec("features", tuple(variables), 1)], variables, ["c", "q25", "q75"]
    )
    inputs = build_inputs(cfg, variables)
    card = write_model(
        tmp_path / "breg",
        "breg",
        "0.1",
        model,
        cfg,
        inputs,
        trained=False,
        samples=[TrainingSample("ttbar_semilep", 1000, 7, "ttbar.root")],
        command="jetml train breg ...",
        seeds={"split": 1, "torch": 2},
        metrics={"resolution_improvement": float("inf")},
    )
    return card, inputs


def test_write_and_load_model_folder(tmp_path) -> None:
    card_path, inputs = small_regression_model(tmp_path)
    card = json.loads(card_path.read_text())
    assert card["architecture"] == "breg" and card["trained"] is False
    assert card["output_labels"] == ["correction", "q25", "q75"]
    assert card["training_samples"] == ["ttbar_semilep: 1000 events, seed 7 (ttbar.root)"]
    assert card["seeds"] == {"split": 1, "torch": 2}
    assert card["metrics"]["resolution_improvement"] is None  # inf is not JSON
    assert card["parity"]["max_abs_diff"] <= 1e-5
    # the deployment engine accepts the folder: sha256 verified, same outputs
    deployed = OnnxModel(tmp_path / "breg" / "breg.onnx", sha256=card["sha256"])
    loaded = load_model(tmp_path / "breg")
    report = parity_of(loaded, inputs)
    assert report.passed
    np.testing.assert_allclose(
        deployed.run(inputs)["regression"], report.torch_outputs, atol=1e-5, rtol=0
    )


def test_load_model_refuses_tampered_files(tmp_path) -> None:
    card_path, _ = small_regression_model(tmp_path)
    onnx_path = tmp_path / "breg" / "breg.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(card_path)
    with pytest.raises(ConfigError, match="not a model folder"):
        load_model(tmp_path / "breg" / "preprocess.json")


def test_write_model_refuses_config_network_mismatch(tmp_path) -> None:
    model = DeepAK8(n_pf_features=3, n_sv_features=0, width=0.125, pf_length=4)
    variables = {"a": ak.Array([[1.0, 2.0]])}
    cfg = fit_data_config([GroupSpec("wrong_name", ("a",), 4)], variables, ["x"])
    with pytest.raises(ConfigError, match="differ"):
        write_model(tmp_path, "m", "1", model, cfg, {}, trained=False)


def test_dataset_split_save_load(tmp_path) -> None:
    data = ArrayDataset(
        {"x": np.arange(20, dtype=np.float32).reshape(10, 2, 1)},
        np.arange(10),
        {"mass": np.linspace(0, 1, 10)},
    )
    a, b = data.split((0.7, 0.3), seed=3)
    a2, _ = data.split((0.7, 0.3), seed=3)
    assert (len(a), len(b)) == (7, 3)
    np.testing.assert_array_equal(a.target, a2.target)
    assert sorted([*a.target, *b.target]) == list(range(10))
    data.save(tmp_path / "d.npz")
    back = ArrayDataset.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.inputs["x"], data.inputs["x"])
    np.testing.assert_array_equal(back.extras["mass"], data.extras["mass"])
    with pytest.raises(InputFileError, match="lacks model input"):
        ArrayDataset.load(tmp_path / "d.npz", ("x", "y"))
    (tmp_path / "bad.npz").write_text("not numpy")
    with pytest.raises(InputFileError, match="not a readable"):
        ArrayDataset.load(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="differ in length"):
        ArrayDataset({"x": np.zeros((3, 1, 1))}, np.zeros(4))

"""The models shipped in ``jetml/models`` (taggers, and the study models in ``study/``): intact,
small, loadable by the deployment, parity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from jetml.inference import OnnxModel
from jetml.nn.package import load_model

torch.set_num_threads(1)
MODELS = Path(__file__).resolve().parent.parent / "jetml" / "models"
STUDY = MODELS / "study"  # the DeepAK8 study models of notebooks 01 and 02 (make study-models)
SHIPPED = sorted(p for p in MODELS.glob("*") if p.is_dir() and p != STUDY) + sorted(
    p for p in STUDY.glob("*") if p.is_dir()
)


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_model_is_intact_small_and_in_parity(folder: Path) -> None:
    files = {p.name for p in folder.iterdir()}
    name = folder.name
    card = json.loads((folder / f"{name}.card.json").read_text())
    grids = {card["grid_config"]} if "grid_config" in card else set()  # DeepTau's grids.json
    assert files == {f"{name}.onnx", f"{name}.card.json", f"{name}.pt", "preprocess.json", *grids}
    assert sum((folder / f).stat().st_size for f in files) <= 5 * 1024 * 1024
    assert card["samples"] and all(s["seed"] >= 0 and s["events"] > 0 for s in card["samples"])
    assert card["command"].startswith("jetml train")
    assert ("/tmp" not in card["command"]) and ("/work" not in card["command"])
    if card["trained"]:
        heldout = "heldout_taus" if card["architecture"] == "deeptau" else "heldout_jets"
        assert card["metrics"][heldout] > 100
    loaded = load_model(folder)  # both sha256 sums verified
    network = loaded.network
    inputs = {
        n: t.numpy()
        for n, t in zip(network.input_names, network.example_inputs(64, seed=1), strict=True)
    }
    deployed = OnnxModel(folder / f"{name}.onnx", sha256=card["sha256"])
    onnx_out = deployed.run(inputs)[card["onnx_output"]]
    with torch.no_grad():
        torch_out = network(*(torch.from_numpy(inputs[n]) for n in network.input_names)).numpy()
    assert np.abs(onnx_out - torch_out).max() <= 1e-5
